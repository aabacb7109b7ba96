/* SPDX-License-Identifier: GPL-2.0 */
/*
 * leak --dwarf: user stacks unwound in user space, interned, and which allocation (by
 * the sequence number the kernel gave its stack's copy) has which.
 */
#ifndef MEMSCOPE_USTACKS_H
#define MEMSCOPE_USTACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ustacks;

struct ustacks *ustacks_new(void);
void ustacks_free(struct ustacks *u);
/* Allocation seq has the stack pcs[0..n): interned once. */
void ustacks_add(struct ustacks *u, uint64_t seq, const uint64_t *pcs, int n);
/* Its stack's number (1, 2, ...), 0 when unknown; marks seq as still outstanding. */
uint32_t ustacks_of(struct ustacks *u, uint64_t seq);
/* Forget the allocations not looked up since the last call (they were freed). */
void ustacks_sweep(struct ustacks *u);
/* The frames of stack number id; how many. */
int ustacks_get(const struct ustacks *u, uint32_t id, uint64_t *pcs, int max);

#endif
