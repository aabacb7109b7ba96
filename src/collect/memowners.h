/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who holds each part of MemTotal (collect/memparts.h): processes and memory cgroups
 * for anonymous memory, files for the page cache, caches for slab, and for the
 * remainder no counter names, the command whose page tracking finds its stacks.
 */
#ifndef MEMSCOPE_COLLECT_MEMOWNERS_H
#define MEMSCOPE_COLLECT_MEMOWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "memparts.h"
#include "record.h"

#define MEM_OWNERS_PER_PART 3

/* The "memory_owner" record: one of a part's largest holders. */
struct mem_owner {
	uint64_t null_mask;
	char part[32];	/* the memory_parts key without _bytes: "anon", "file", ... */
	char kind[16];	/* process, cgroup, file, slab_cache, command */
	char name[256];	/* "1234 (comm)", a cgroup path, a file, a cache; the command */
	uint64_t bytes; /* null for a command */
};

extern const struct record_desc mem_owner_desc;

/*
 * The largest owners of the parts that have them, into out (at most max); how many.
 * What cannot be read (no BPF, no cgroup hierarchy) is left out and said in why.
 */
int mem_owners_read(struct mem_owner *out, int max, char *why, size_t len);

/*
 * Text: one line per part (bytes, share of MemTotal, its largest owners), wrapped;
 * brief: without the parts under 0.1 % or that this kernel does not have (but the
 * remainder), as the one-screen health report wants.
 */
void mem_accounting_print(const struct mem_accounting *a, const struct mem_owner *o, int n,
			  bool brief);

#endif
