// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
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
	[MI_SEC_PAGE_TABLES] = "SecPageTables",
	[MI_VMALLOC_USED] = "VmallocUsed",
	[MI_PERCPU] = "Percpu",
	[MI_HUGETLB] = "Hugetlb",
	[MI_HUGE_PAGES_TOTAL] = "HugePages_Total",
	[MI_HUGEPAGESIZE] = "Hugepagesize",
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
