/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every byte of MemTotal in one part: /proc/meminfo's categories that do not overlap,
 * the free pages per-CPU lists hold (/proc/zoneinfo), and "other kernel memory", the
 * remainder no counter names (drivers and other callers of the page allocator). The
 * parts sum to MemTotal exactly; the remainder is never negative (see memparts.c).
 */
#ifndef MEMSCOPE_COLLECT_MEMPARTS_H
#define MEMSCOPE_COLLECT_MEMPARTS_H

#include <stdbool.h>
#include <stdint.h>
#include "meminfo.h"
#include "record.h"

/* X(name, label, help): the parts, in the order they are shown. */
#define MEM_PARTS(X)                                                                       \
	X(free, "free", "MemFree: free pages in the buddy allocator")                      \
	X(free_pcp, "free, per-CPU lists",                                                  \
	  "free pages held in per-CPU lists (/proc/zoneinfo pagesets' count), outside "     \
	  "MemFree")                                                                       \
	X(anon, "anonymous", "AnonPages: anonymous pages mapped by processes")             \
	X(file, "page cache", "Cached - Shmem + Buffers: file pages, block devices' too")  \
	X(shmem, "shmem", "Shmem: tmpfs, shared anonymous and System V memory")            \
	X(swap_cached, "swap cache", "SwapCached: anonymous pages also in swap")           \
	X(slab_reclaimable, "slab, reclaimable", "SReclaimable")                          \
	X(slab_unreclaimable, "slab, unreclaimable",                                      \
	  "SUnreclaim: slab caches, and kmalloc's large allocations from the page allocator") \
	X(kernel_misc_reclaimable, "kernel, reclaimable other",                           \
	  "KReclaimable - SReclaimable: other kernel memory the kernel can reclaim")      \
	X(page_tables, "page tables", "PageTables + SecPageTables")                        \
	X(kernel_stack, "kernel stacks", "KernelStack")                                    \
	X(vmalloc, "vmalloc", "VmallocUsed, without the kernel stacks it holds when stacks "  \
	  "are virtually mapped (CONFIG_VMAP_STACK)")                                      \
	X(percpu, "per-CPU areas", "Percpu")                                               \
	X(hugetlb, "hugetlb", "Hugetlb (else HugePages_Total x Hugepagesize): huge page "    \
	  "pools, free or used, in no other counter")                                      \
	X(zswap, "zswap", "Zswap: the compressed pool")                                    \
	X(unaccepted, "unaccepted", "Unaccepted: memory a confidential guest has not yet "   \
	  "accepted")                                                                      \
	X(other_kernel, "other kernel",                                                    \
	  "the remainder: MemTotal minus every other part, memory no counter names (drivers, "\
	  "direct callers of the page allocator: pipe and network buffers, BPF, DMA)")

#define MP_ENUM(name, ...) MP_##name,
enum mem_part { MEM_PARTS(MP_ENUM) MP_NR };
#undef MP_ENUM

/* The "memory_part" record: MemTotal, each part, and what made the sum exact. */
struct mem_accounting {
	uint64_t null_mask;
	uint64_t total_bytes; /* MemTotal */
	uint64_t part[MP_NR]; /* bytes, by enum mem_part; null where the kernel has no line */
	uint64_t overlap_bytes; /* taken back from parts that overlap (see adjusted) */
	char adjusted[200];	/* which, and why; "" when nothing was */
};

extern const struct record_desc mem_accounting_desc;
extern const char *const mem_part_label[MP_NR];

/*
 * The accounting from one /proc/meminfo reading; pcp_bytes: free pages in per-CPU
 * lists (-1: unknown); vmap_stack: kernel stacks are inside VmallocUsed.
 */
void mem_accounting_of(const struct ms_meminfo *mi, int64_t pcp_bytes, bool vmap_stack,
		       struct mem_accounting *a);
/* Read /proc/meminfo and /proc/zoneinfo now; false (errno) when meminfo cannot be read. */
bool mem_accounting_read(struct mem_accounting *a);
/* Free pages in per-CPU lists, from a /proc/zoneinfo text; -1 when it has none. */
int64_t zoneinfo_pcp_pages(const char *text);
/* Are kernel stacks virtually mapped (task_struct.stack_vm_area in the kernel's BTF)? */
bool kernel_stacks_in_vmalloc(void);

#endif
