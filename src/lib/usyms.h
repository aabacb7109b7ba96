/* SPDX-License-Identifier: GPL-2.0 */
/* User-space addresses of a live process -> function+offset (file:line), with libdwfl. */
#ifndef MEMSCOPE_USYMS_H
#define MEMSCOPE_USYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct usyms;

struct Dwfl;
/* A libdwfl session with the process's current mappings reported; NULL when gone. */
struct Dwfl *usyms_dwfl_open(int pid);
/* The process's current mappings (build ids, separate debug files); NULL when gone. */
struct usyms *usyms_open(int pid);
void usyms_close(struct usyms *u);
/*
 * A return address (ret true: the call is the instruction before it) as
 * "func+0x1c (file.c:42)", "func+0x1c [libfoo.so]" or "0x7f... [libfoo.so]". Returns
 * the function's name in fn (NULL when unknown).
 */
const char *usyms_format(struct usyms *u, uint64_t addr, bool ret, char *buf, size_t len,
			 const char **fn);
/* The file the address is in, NULL when unknown. */
const char *usyms_module(struct usyms *u, uint64_t addr);

#endif
