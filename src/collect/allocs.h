/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Outstanding user-space allocations of chosen processes, by call stack: uprobes on
 * the allocator each process really has mapped (leak.bpf.c), grouped when read.
 */
#ifndef MEMSCOPE_ALLOCS_H
#define MEMSCOPE_ALLOCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "leak.h"

struct allocs_opts {
	const int *pids;
	int nr_pids;
	const char *lib;    /* only this object (--lib), NULL: every mapped one */
	const char *prefix; /* symbol prefix (--symbol-prefix), "" for none */
	unsigned int sample; /* track one allocation in this many */
	bool kernel;	     /* the kernel's allocations instead (no pids) */
	bool dwarf;	     /* unwind copies of the user stack with DWARF (no frame pointers) */
};

/* What one (process, stack) holds. */
struct alloc_group {
	uint32_t pid;	  /* --kernel: LEAK_SPACE_* */
	int32_t stack_id; /* < 0: the stack was not kept */
	uint32_t fn;	  /* enum leak_fn; --kernel: enum leak_kind */
	uint32_t stack_gen; /* which stack map holds stack_id */
	uint64_t cache;	  /* --kernel: the kmem_cache, or the pages' order; --dwarf: the
			   * unwound stack's number, 0: the frame-pointer stack */
	uint64_t bytes, count;
	uint64_t oldest_ns; /* boot clock of the oldest allocation */
};

struct allocs;
struct ms_loss;

/* Attach to each process's allocator; exits 1 (or 2 for a bad --lib) on failure. */
struct allocs *allocs_open(const struct allocs_opts *o);
/* How many functions were attached in pid's mappings, and where (for -v). */
int allocs_attached(const struct allocs *a, int pid);
/* Groups of allocations made before boot-clock time `before` (free *out). */
size_t allocs_groups(struct allocs *a, uint64_t before, struct alloc_group **out);
/* The stack of a group: return addresses, innermost (the direct caller) first. */
int allocs_stack(struct allocs *a, const struct alloc_group *g, uint64_t *ips, int max);
/* --dwarf: take the stack copies the kernel sent, waiting up to timeout_ms. */
void allocs_poll(struct allocs *a, int timeout_ms);
/* The name of an allocator function (enum leak_fn). */
const char *allocs_fn_name(uint32_t fn);
/*
 * --kernel: the name of a group's source: its slab cache, "kmalloc-64", "pages-order-0",
 * "page-cache-order-0" (pages the page cache holds: file data, no leak) or "percpu".
 */
void allocs_source_name(struct allocs *a, const struct alloc_group *g, char *buf, size_t len);
/* Frees of pointers memscope never saw allocated (made before it attached). */
uint64_t allocs_unknown_frees(const struct allocs *a);
/* The counts of what could not be kept (full maps), for ms_report_losses(). */
struct ms_loss *allocs_losses(struct allocs *a, int *n);
void allocs_close(struct allocs *a);

#endif
