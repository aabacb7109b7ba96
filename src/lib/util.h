/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every part of memscope may use. */
#ifndef MEMSCOPE_UTIL_H
#define MEMSCOPE_UTIL_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* A macro's value as a string literal, for messages that name a bound. */
#define MS_STR_(x) #x
#define MS_STR(x) MS_STR_(x)

#endif
