// SPDX-License-Identifier: GPL-2.0
/*
 * What overlaps in /proc/meminfo (fs/proc/meminfo.c, 6.1 and 6.18 alike): Cached is
 * NR_FILE_PAGES - SwapCached - Buffers and holds Shmem; AnonPages are mapped anonymous
 * pages, and a swap-cached page still mapped is in both AnonPages and SwapCached;
 * KReclaimable is SReclaimable + NR_KERNEL_MISC_RECLAIMABLE; Active/Inactive,
 * Unevictable and Mlocked are LRU attributes of pages counted above; AnonHugePages,
 * ShmemHugePages and FileHugePages are inside AnonPages, Shmem and Cached; HugeTLB
 * pages are in no other counter; virtually mapped kernel stacks are in VmallocUsed too.
 * MemTotal is totalram_pages(): with deferred struct page init (deferred_init=) it
 * counts memory the zones do not manage yet, and MemFree counts the same, so the sum
 * holds. Pages on the per-CPU free lists are outside MemFree (NR_FREE_PAGES drops as
 * they move there) and named from /proc/zoneinfo.
 *
 * The remainder, MemTotal minus the parts, is what no counter names. It cannot be
 * negative but for counts that overlap in ways the lines do not show: swap-cached
 * pages mapped (AnonPages), per-CPU areas of the first chunk set up from boot memory
 * MemTotal does not count, or the per-CPU counter deltas not folded in yet. Then it is
 * 0 and the excess is taken from those parts, in that order, and said.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "memparts.h"
#include "procfs.h"
#include "runtime.h"
#include "util.h"

#define MP_LABEL(name, label, help) label,
const char *const mem_part_label[MP_NR] = { MEM_PARTS(MP_LABEL) };
#undef MP_LABEL

/* Field indices in mem_accounting_desc: total, then the parts. */
enum { FI_TOTAL, FI_PART0 };

static uint64_t line(const struct ms_meminfo *mi, enum mi_item i)
{
	return meminfo_has(mi, i) ? mi->bytes[i] : 0;
}

static void absent(struct mem_accounting *a, enum mem_part p)
{
	record_mark(&mem_accounting_desc, a, FI_PART0 + p, true);
	a->part[p] = 0;
}

/* Take up to *excess back from part p; returns what it took. */
static uint64_t take_back(struct mem_accounting *a, enum mem_part p, uint64_t *excess)
{
	uint64_t t = a->part[p] < *excess ? a->part[p] : *excess;

	a->part[p] -= t;
	*excess -= t;
	return t;
}

static void make_exact(struct mem_accounting *a, uint64_t sum)
{
	static const enum mem_part order[] = { MP_swap_cached, MP_percpu, MP_free_pcp, MP_free };
	static const char *const why[] = { "SwapCached (its mapped pages are in AnonPages too)",
		"Percpu (its first chunk is boot memory MemTotal does not count)",
		"per-CPU free lists (counters read apart)",
		"MemFree (per-CPU counter deltas not folded in yet)" };
	uint64_t excess = sum - a->total_bytes;
	size_t off = 0;

	a->overlap_bytes = excess;
	for (size_t i = 0; i < ARRAY_SIZE(order) && excess; i++) {
		uint64_t t = take_back(a, order[i], &excess);
		int n;

		if (!t)
			continue;
		n = snprintf(a->adjusted + off, sizeof(a->adjusted) - off, "%s%llu bytes from %s",
			     off ? "; " : "", (unsigned long long)t, why[i]);
		if (n > 0 && (size_t)n < sizeof(a->adjusted) - off)
			off += n;
	}
}

void mem_accounting_of(const struct ms_meminfo *mi, int64_t pcp_bytes, bool vmap_stack,
		       struct mem_accounting *a)
{
	uint64_t sum = 0, hugetlb;

	memset(a, 0, sizeof(*a));
	a->total_bytes = line(mi, MI_MEM_TOTAL);
	a->part[MP_free] = line(mi, MI_MEM_FREE);
	a->part[MP_free_pcp] = pcp_bytes > 0 ? pcp_bytes : 0;
	if (pcp_bytes < 0)
		absent(a, MP_free_pcp);
	a->part[MP_anon] = line(mi, MI_ANON_PAGES);
	a->part[MP_shmem] = line(mi, MI_SHMEM);
	a->part[MP_file] = line(mi, MI_CACHED) + line(mi, MI_BUFFERS);
	a->part[MP_file] -= a->part[MP_file] > a->part[MP_shmem] ? a->part[MP_shmem]
								  : a->part[MP_file];
	a->part[MP_swap_cached] = line(mi, MI_SWAP_CACHED);
	a->part[MP_slab_reclaimable] = line(mi, MI_SRECLAIMABLE);
	a->part[MP_slab_unreclaimable] = line(mi, MI_SUNRECLAIM);
	if (meminfo_has(mi, MI_KRECLAIMABLE) &&
	    line(mi, MI_KRECLAIMABLE) >= line(mi, MI_SRECLAIMABLE))
		a->part[MP_kernel_misc_reclaimable] = line(mi, MI_KRECLAIMABLE) -
						     line(mi, MI_SRECLAIMABLE);
	else
		absent(a, MP_kernel_misc_reclaimable);
	a->part[MP_page_tables] = line(mi, MI_PAGE_TABLES) + line(mi, MI_SEC_PAGE_TABLES);
	a->part[MP_kernel_stack] = line(mi, MI_KERNEL_STACK);
	a->part[MP_vmalloc] = line(mi, MI_VMALLOC_USED);
	if (vmap_stack)
		a->part[MP_vmalloc] -= a->part[MP_vmalloc] > a->part[MP_kernel_stack] ?
				       a->part[MP_kernel_stack] : a->part[MP_vmalloc];
	a->part[MP_percpu] = line(mi, MI_PERCPU);
	/* Hugetlb (5.16+) counts every size; before, the default size's pool only */
	hugetlb = meminfo_has(mi, MI_HUGETLB) ? line(mi, MI_HUGETLB)
		  : line(mi, MI_HUGEPAGES_TOTAL) * line(mi, MI_HUGEPAGESIZE);
	a->part[MP_hugetlb] = hugetlb;
	a->part[MP_zswap] = line(mi, MI_ZSWAP);
	a->part[MP_unaccepted] = line(mi, MI_UNACCEPTED);
	if (!meminfo_has(mi, MI_VMALLOC_USED))
		absent(a, MP_vmalloc);
	if (!meminfo_has(mi, MI_PERCPU))
		absent(a, MP_percpu);
	if (!meminfo_has(mi, MI_ZSWAP))
		absent(a, MP_zswap);
	if (!meminfo_has(mi, MI_UNACCEPTED))
		absent(a, MP_unaccepted);
	for (int p = 0; p < MP_other_kernel; p++)
		sum += a->part[p];
	if (sum > a->total_bytes)
		make_exact(a, sum);
	else
		a->part[MP_other_kernel] = a->total_bytes - sum;
}

int64_t zoneinfo_pcp_pages(const char *text)
{
	int64_t n = 0;
	bool any = false;

	/* the pagesets' "count:" lines, one per CPU and zone */
	for (const char *p = strstr(text, "count:"); p; p = strstr(p + 6, "count:")) {
		n += strtoll(p + 6, NULL, 10);
		any = true;
	}
	return any ? n : -1;
}

bool kernel_stacks_in_vmalloc(void)
{
	static int known = -1;
	static const char key[] = "stack_vm_area";
	char buf[65536 + sizeof(key)];
	size_t carry = 0;
	ssize_t n;
	int fd;

	if (known >= 0)
		return known;
	known = 0;
	/* the member's name in the BTF string section: no parse of the 5 MiB BTF */
	fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return known;
	while ((n = read(fd, buf + carry, sizeof(buf) - carry)) > 0) {
		size_t have = carry + n;

		if (memmem(buf, have, key, sizeof(key))) { /* NUL included: the whole name */
			known = 1;
			break;
		}
		carry = have < sizeof(key) ? have : sizeof(key) - 1;
		memmove(buf, buf + have - carry, carry);
	}
	close(fd);
	return known;
}

bool mem_accounting_read(struct mem_accounting *a)
{
	struct ms_meminfo mi;
	char *zi = malloc(1 << 18);
	int64_t pcp = -1;

	if (zi && read_text_file("/proc/zoneinfo", zi, 1 << 18) > 0 &&
	    (pcp = zoneinfo_pcp_pages(zi)) >= 0)
		pcp *= ms_page_size();
	free(zi);
	if (!meminfo_read(&mi))
		return false;
	mem_accounting_of(&mi, pcp, kernel_stacks_in_vmalloc(), a);
	return true;
}

#define MP_FIELD(name, label_, help_)                                                     \
	{ .key = #name "_bytes", .head = label_, .type = FT_U64, .unit = FU_BYTES,        \
	  .kind = FK_GAUGE, .off = offsetof(struct mem_accounting, part[MP_##name]),     \
	  .size = sizeof(uint64_t), .flags = FF_NULL, .help = help_ },
static const struct field mem_accounting_fields[] = {
	FLD(struct mem_accounting, total_bytes, "total_bytes", "total", FT_U64, FU_BYTES,
	    FK_GAUGE, 0, "MemTotal: the parts below sum to it exactly"),
	MEM_PARTS(MP_FIELD)
	FLD(struct mem_accounting, overlap_bytes, "overlap_bytes", NULL, FT_U64, FU_BYTES,
	    FK_GAUGE, 0, "what the parts counted twice and was taken back so they sum to "
	    "MemTotal with other_kernel at 0 (usually 0)"),
	FLD(struct mem_accounting, adjusted, "adjusted", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "from which parts overlap_bytes was taken, and why; \"\" when nothing was"),
};
#undef MP_FIELD
const struct record_desc mem_accounting_desc =
	RECORD_DESC("memory_parts", "MemTotal, every byte in one part: sys, the health report, "
		    "the exporter and the recorder", mem_accounting_fields,
		    struct mem_accounting);
