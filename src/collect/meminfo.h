/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /proc/meminfo: the kernel's own system-wide totals (fs/proc/meminfo.c), and how
 * far the zones' managed pages are from its MemTotal, with the reason.
 */
#ifndef MEMSCOPE_COLLECT_MEMINFO_H
#define MEMSCOPE_COLLECT_MEMINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "record.h"

/* The /proc/meminfo lines memscope uses; names in meminfo.c's table. */
enum mi_item {
	MI_MEM_TOTAL,
	MI_MEM_FREE,
	MI_MEM_AVAILABLE,
	MI_BUFFERS,
	MI_CACHED,
	MI_SWAP_CACHED,
	MI_ACTIVE,
	MI_INACTIVE,
	MI_ACTIVE_ANON,
	MI_INACTIVE_ANON,
	MI_ACTIVE_FILE,
	MI_INACTIVE_FILE,
	MI_UNEVICTABLE,
	MI_MLOCKED,
	MI_SWAP_TOTAL,
	MI_SWAP_FREE,
	MI_DIRTY,
	MI_WRITEBACK,
	MI_ANON_PAGES,
	MI_MAPPED,
	MI_SHMEM,
	MI_KRECLAIMABLE,
	MI_SLAB,
	MI_SRECLAIMABLE,
	MI_SUNRECLAIM,
	MI_KERNEL_STACK,
	MI_PAGE_TABLES,
	MI_NFS_UNSTABLE,
	MI_WRITEBACK_TMP,
	MI_ANON_HUGE_PAGES,
	MI_SHMEM_HUGE_PAGES,
	MI_COMMIT_LIMIT,
	MI_COMMITTED_AS,
	MI_VMALLOC_TOTAL,
	MI_VMALLOC_USED,
	MI_PERCPU,
	MI_HUGEPAGES_TOTAL, /* the HugePages_ lines count huge pages of the default size */
	MI_HUGEPAGES_FREE,
	MI_HUGEPAGES_RSVD,
	MI_HUGEPAGES_SURP,
	MI_HUGEPAGESIZE,
	MI_HUGETLB,
	/* for the accounting of MemTotal (collect/memparts.h) */
	MI_SEC_PAGE_TABLES,
	MI_ZSWAP,
	MI_UNACCEPTED,
	MI_NR
};

struct ms_meminfo {
	uint64_t has;		/* bit per enum mi_item found */
	uint64_t bytes[MI_NR];	/* kB lines converted to bytes; a count (HugePages_) as is */
};

const char *meminfo_name(enum mi_item i);
/* Parse a /proc/meminfo text; returns the number of items found. */
int meminfo_parse(const char *text, struct ms_meminfo *mi);
/* Read /proc/meminfo; false (errno set) when it cannot be read. */
bool meminfo_read(struct ms_meminfo *mi);
static inline bool meminfo_has(const struct ms_meminfo *mi, enum mi_item i)
{
	return mi->has & (1ULL << i);
}

/*
 * The "meminfo" record: the system-wide lines no node counter has (swap, commit,
 * vmalloc, per-CPU, HugeTLB), for the exporter. Null where this kernel has no such line.
 */
struct meminfo_row {
	uint64_t null_mask;
	uint64_t swap_total_bytes, swap_free_bytes, commit_limit_bytes, committed_as_bytes;
	uint64_t vmalloc_total_bytes, vmalloc_used_bytes, percpu_bytes;
	uint64_t hugetlb_pages, hugetlb_free_pages, hugetlb_reserved_pages;
	uint64_t hugetlb_surplus_pages, hugetlb_page_size_bytes, hugetlb_bytes;
};
extern const struct record_desc meminfo_desc;
void meminfo_row_of(const struct ms_meminfo *mi, struct meminfo_row *row);
/* The /proc/meminfo line a field of the record is (its node_exporter family's name). */
const char *meminfo_line_of(const char *key);

/* Memory the zones do not manage (yet) though MemTotal counts it. */
struct mem_coverage {
	int64_t unmanaged_bytes;	/* MemTotal - sum of zones' managed pages */
	uint64_t present_unmanaged_bytes; /* sum of zones' present - managed pages */
	bool notable;			/* beyond the slack of counters read apart */
	char reason[160];		/* why, when notable; "" otherwise */
};

/*
 * Compare MemTotal with the zones' page counts (in pages of page_size).
 * deferred: the kernel command line asks for deferred memory init.
 */
void mem_coverage(uint64_t mem_total_bytes, uint64_t managed_pages, uint64_t present_pages,
		  unsigned long page_size, bool deferred, struct mem_coverage *c);
/* Does /proc/cmdline ask the kernel to initialize struct pages later (deferred_init=)? */
bool kernel_defers_memory_init(void);

#endif
