/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user stack unwound from a copy of its top and three registers, with the DWARF call
 * frame information of the process's files (libdwfl), as `perf --call-graph dwarf`
 * does: for code built without frame pointers.
 */
#ifndef MEMSCOPE_UUNWIND_H
#define MEMSCOPE_UUNWIND_H

#include <stddef.h>
#include <stdint.h>

struct uunwind;

/* The process's mappings as they are now; NULL when it is gone. */
struct uunwind *uunwind_open(int pid);
void uunwind_close(struct uunwind *u);
/*
 * Unwind from ip, sp and bp with len bytes of the stack copied from sp; the return
 * addresses go in pcs (ip first). Returns how many.
 */
int uunwind_stack(struct uunwind *u, uint64_t ip, uint64_t sp, uint64_t bp, const void *stack,
		  size_t len, uint64_t *pcs, int max);

#endif
