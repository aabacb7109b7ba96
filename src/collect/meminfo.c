// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "meminfo.h"
#include "procfs.h"

static const char *const names[MI_NR] = {
	[MI_MEM_TOTAL] = "MemTotal",
	[MI_MEM_FREE] = "MemFree",
	[MI_MEM_AVAILABLE] = "MemAvailable",
	[MI_BUFFERS] = "Buffers",
	[MI_CACHED] = "Cached",
	[MI_SWAP_CACHED] = "SwapCached",
	[MI_ACTIVE] = "Active",
	[MI_INACTIVE] = "Inactive",
	[MI_ACTIVE_ANON] = "Active(anon)",
	[MI_INACTIVE_ANON] = "Inactive(anon)",
	[MI_ACTIVE_FILE] = "Active(file)",
	[MI_INACTIVE_FILE] = "Inactive(file)",
	[MI_UNEVICTABLE] = "Unevictable",
	[MI_MLOCKED] = "Mlocked",
	[MI_SWAP_TOTAL] = "SwapTotal",
	[MI_SWAP_FREE] = "SwapFree",
	[MI_DIRTY] = "Dirty",
	[MI_WRITEBACK] = "Writeback",
	[MI_ANON_PAGES] = "AnonPages",
	[MI_MAPPED] = "Mapped",
	[MI_SHMEM] = "Shmem",
	[MI_KRECLAIMABLE] = "KReclaimable",
	[MI_SLAB] = "Slab",
	[MI_SRECLAIMABLE] = "SReclaimable",
	[MI_SUNRECLAIM] = "SUnreclaim",
	[MI_KERNEL_STACK] = "KernelStack",
	[MI_PAGE_TABLES] = "PageTables",
	[MI_NFS_UNSTABLE] = "NFS_Unstable",
	[MI_WRITEBACK_TMP] = "WritebackTmp",
	[MI_ANON_HUGE_PAGES] = "AnonHugePages",
	[MI_SHMEM_HUGE_PAGES] = "ShmemHugePages",
	[MI_COMMIT_LIMIT] = "CommitLimit",
	[MI_COMMITTED_AS] = "Committed_AS",
	[MI_VMALLOC_TOTAL] = "VmallocTotal",
	[MI_VMALLOC_USED] = "VmallocUsed",
	[MI_PERCPU] = "Percpu",
	[MI_HUGEPAGES_TOTAL] = "HugePages_Total",
	[MI_HUGEPAGES_FREE] = "HugePages_Free",
	[MI_HUGEPAGES_RSVD] = "HugePages_Rsvd",
	[MI_HUGEPAGES_SURP] = "HugePages_Surp",
	[MI_HUGEPAGESIZE] = "Hugepagesize",
	[MI_HUGETLB] = "Hugetlb",
	[MI_SEC_PAGE_TABLES] = "SecPageTables",
	[MI_ZSWAP] = "Zswap",
	[MI_UNACCEPTED] = "Unaccepted",
};

const char *meminfo_name(enum mi_item i)
{
	return i < MI_NR ? names[i] : "?";
}

int meminfo_parse(const char *text, struct ms_meminfo *mi)
{
	int found = 0;

	memset(mi, 0, sizeof(*mi));
	for (int i = 0; i < MI_NR; i++) {
		uint64_t v;

		if (!meminfo_value(text, names[i], &v))
			continue;
		mi->bytes[i] = v;
		mi->has |= 1ULL << i;
		found++;
	}
	return found;
}

bool meminfo_read(struct ms_meminfo *mi)
{
	char buf[8192];

	if (read_text_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return false;
	if (!meminfo_parse(buf, mi)) {
		errno = EINVAL;
		return false;
	}
	return true;
}

bool kernel_defers_memory_init(void)
{
	char buf[4096];

	/* Parameters after a lone "--" go to init, not to the kernel. */
	if (read_text_file("/proc/cmdline", buf, sizeof(buf)) <= 0)
		return false;
	for (char *save, *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		if (!strcmp(w, "--"))
			break;
		if (!strncmp(w, "deferred_init=", 14))
			return true;
	}
	return false;
}

/* The slack the tests allow between counters read apart: 1 %, at least 1 MiB. */
static bool beyond_slack(int64_t diff, uint64_t total)
{
	uint64_t d = diff < 0 ? -diff : diff, slack = total / 100;

	return d > (slack > (1 << 20) ? slack : (1 << 20));
}

void mem_coverage(uint64_t mem_total_bytes, uint64_t managed_pages, uint64_t present_pages,
		  unsigned long page_size, bool deferred, struct mem_coverage *c)
{
	uint64_t managed = managed_pages * page_size;

	memset(c, 0, sizeof(*c));
	c->unmanaged_bytes = (int64_t)(mem_total_bytes - managed);
	if (present_pages > managed_pages)
		c->present_unmanaged_bytes = (present_pages - managed_pages) * page_size;
	c->notable = beyond_slack(c->unmanaged_bytes, mem_total_bytes);
	if (!c->notable)
		return;
	/* Mostly pages the zones span and own but do not manage yet? */
	if (c->unmanaged_bytes > 0 &&
	    c->present_unmanaged_bytes >= (uint64_t)c->unmanaged_bytes / 10 * 9)
		snprintf(c->reason, sizeof(c->reason), "%s",
			 deferred ? "not yet initialized by the kernel (deferred_init on the "
				    "command line): zones grow as memory is used"
				  : "present in zones but not handed to the page allocator "
				    "(deferred initialization or late reservations)");
	else if (c->unmanaged_bytes > 0)
		snprintf(c->reason, sizeof(c->reason),
			 "counted in MemTotal but managed by no zone (e.g. memory hot-plug or a "
			 "balloon driver)");
	else
		snprintf(c->reason, sizeof(c->reason),
			 "zones manage more than MemTotal counts (e.g. a balloon driver took "
			 "memory back)");
}

/* ---- the "meminfo" record ---- */

#define MI_FIELDS(X)                                                                       \
	X(swap_total_bytes, MI_SWAP_TOTAL, FU_BYTES, "swap space (SwapTotal)")             \
	X(swap_free_bytes, MI_SWAP_FREE, FU_BYTES, "unused swap space (SwapFree)")         \
	X(commit_limit_bytes, MI_COMMIT_LIMIT, FU_BYTES,                                   \
	  "what may be committed under overcommit mode 2 (CommitLimit)")                   \
	X(committed_as_bytes, MI_COMMITTED_AS, FU_BYTES,                                   \
	  "memory the processes have allocated, touched or not (Committed_AS)")           \
	X(vmalloc_total_bytes, MI_VMALLOC_TOTAL, FU_BYTES,                                 \
	  "the vmalloc address space (VmallocTotal)")                                      \
	X(vmalloc_used_bytes, MI_VMALLOC_USED, FU_BYTES, "vmalloc'ed memory (VmallocUsed)") \
	X(percpu_bytes, MI_PERCPU, FU_BYTES, "per-CPU allocations (Percpu, 4.16+)")       \
	X(hugetlb_pages, MI_HUGEPAGES_TOTAL, FU_NONE,                                      \
	  "huge pages of the default size in the pool, surplus included (HugePages_Total)") \
	X(hugetlb_free_pages, MI_HUGEPAGES_FREE, FU_NONE,                                  \
	  "of those, not allocated (HugePages_Free)")                                     \
	X(hugetlb_reserved_pages, MI_HUGEPAGES_RSVD, FU_NONE,                              \
	  "of the free, promised to a mapping not yet faulted in (HugePages_Rsvd)")       \
	X(hugetlb_surplus_pages, MI_HUGEPAGES_SURP, FU_NONE,                               \
	  "of the pool, above nr_hugepages (overcommitted, HugePages_Surp)")              \
	X(hugetlb_page_size_bytes, MI_HUGEPAGESIZE, FU_BYTES,                              \
	  "the default huge page size (Hugepagesize)")                                     \
	X(hugetlb_bytes, MI_HUGETLB, FU_BYTES, "every huge page pool, all sizes (Hugetlb, 5.16+)")

#define MI_ROW(key, item, unit, help) { #key, item, offsetof(struct meminfo_row, key) },
static const struct {
	const char *key;
	enum mi_item item;
	size_t off;
} row_src[] = { MI_FIELDS(MI_ROW) };
#undef MI_ROW

void meminfo_row_of(const struct ms_meminfo *mi, struct meminfo_row *row)
{
	memset(row, 0, sizeof(*row));
	for (size_t i = 0; i < sizeof(row_src) / sizeof(row_src[0]); i++) {
		if (meminfo_has(mi, row_src[i].item))
			memcpy((char *)row + row_src[i].off, &mi->bytes[row_src[i].item],
			       sizeof(uint64_t));
		else
			record_null(&meminfo_desc, row, row_src[i].key);
	}
}

const char *meminfo_line_of(const char *key)
{
	for (size_t i = 0; i < sizeof(row_src) / sizeof(row_src[0]); i++)
		if (!strcmp(row_src[i].key, key))
			return names[row_src[i].item];
	return NULL;
}

#define MI_FLD(key, item, unit, help)                                                      \
	FLD(struct meminfo_row, key, #key, NULL, FT_U64, unit, FK_GAUGE, FF_NULL, help),
static const struct field meminfo_fields[] = { MI_FIELDS(MI_FLD) };
#undef MI_FLD

const struct record_desc meminfo_desc =
	RECORD_DESC("meminfo", "the system-wide /proc/meminfo lines no node counter has",
		    meminfo_fields, struct meminfo_row);
