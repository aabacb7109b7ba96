/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every error and warning line memscope writes: "memscope: <message>" on stderr, the
 * one shape. Bad input exits 2, a runtime failure 1. The bottom of src/lib: it
 * depends on nothing else of memscope's.
 */
#ifndef MEMSCOPE_MSG_H
#define MEMSCOPE_MSG_H

#include <stdarg.h>

/* Exit statuses: 2 for bad input, 1 for a runtime failure. */
#define MS_EXIT_USAGE	2
#define MS_EXIT_RUNTIME 1

extern const char *ms_prog;

void ms_vmessage(const char *fmt, va_list ap);
void ms_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ms_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The message line, then whatever ms_on_fail registered (the JSON error record), exit. */
void ms_vfail(int status, const char *fmt, va_list ap) __attribute__((noreturn));
/* Bad input: one line, exit 2. */
void ms_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Runtime failure: one line with the fix, exit 1. */
void ms_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Called with each failure's message and status before exit (output's error record). */
void ms_on_fail(void (*fn)(const char *message, int exit_status));

#endif
