/* SPDX-License-Identifier: GPL-2.0 */
/*
 * leak --dwarf: user stacks unwound in user space, interned, and which allocation (by
 * the sequence number the kernel gave its stack's copy) has which. A stack no
 * outstanding allocation has any more is forgotten; at most USTACKS_MAX are held.
 */
#ifndef MEMSCOPE_USTACKS_H
#define MEMSCOPE_USTACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* distinct stacks held at most: 17 MiB of frames */
#define USTACKS_MAX 65536

struct ustacks;

struct ustacks *ustacks_new(void);
void ustacks_free(struct ustacks *u);
/* Allocation seq has the stack pcs[0..n): interned once; false when not kept (the bound). */
bool ustacks_add(struct ustacks *u, uint64_t seq, const uint64_t *pcs, int n);
/* Its stack's number (1, 2, ...), 0 when unknown; marks seq as still outstanding. */
uint32_t ustacks_of(struct ustacks *u, uint64_t seq);
/*
 * Forget the allocations not looked up since the last call (they were freed), and the
 * stacks only they had. The numbers of the stacks kept do not change.
 */
void ustacks_sweep(struct ustacks *u);
/* The frames of stack number id; how many. */
int ustacks_get(const struct ustacks *u, uint32_t id, uint64_t *pcs, int max);
/* How many distinct stacks are held. */
uint32_t ustacks_count(const struct ustacks *u);

#endif
