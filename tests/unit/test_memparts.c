// SPDX-License-Identifier: GPL-2.0
/*
 * The accounting of MemTotal: on /proc/meminfo and /proc/zoneinfo captured on 6.18
 * (deferred_init=lazy, right after boot and later), the parts sum to MemTotal exactly
 * and the remainder is not negative; where parts overlap more than the remainder (a
 * large swap cache of mapped pages), they are taken back and said, never a negative
 * remainder. And /proc/slabinfo's parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include "memparts.h"
#include "procfs.h"
#include "slabs.h"

#define DATA "tests/unit/data/"

static char *slurp(const char *name)
{
	static char buf[2][1 << 18];
	static int next;
	char *b = buf[next++ % 2];

	assert_true(read_text_file(name, b, sizeof(buf[0])) > 0);
	return b;
}

static uint64_t sum_of(const struct mem_accounting *a)
{
	uint64_t s = 0;

	for (int p = 0; p < MP_NR; p++)
		s += a->part[p];
	return s;
}

static void check_fixture(const char *meminfo, const char *zoneinfo)
{
	struct ms_meminfo mi;
	struct mem_accounting a;
	int64_t pcp = zoneinfo_pcp_pages(slurp(zoneinfo));

	assert_true(meminfo_parse(slurp(meminfo), &mi) > 20);
	assert_true(pcp > 0);
	mem_accounting_of(&mi, pcp * 4096, true, &a);
	assert_int_equal(a.total_bytes, mi.bytes[MI_MEM_TOTAL]);
	assert_int_equal(sum_of(&a), a.total_bytes);
	assert_int_equal(a.overlap_bytes, 0);
	/* the remainder is what the named parts leave, not made up */
	assert_true(a.part[MP_other_kernel] < a.total_bytes / 10);
	assert_int_equal(a.part[MP_file], mi.bytes[MI_CACHED] + mi.bytes[MI_BUFFERS] -
					  mi.bytes[MI_SHMEM]);
	assert_int_equal(a.part[MP_free_pcp], pcp * 4096);
}

static void test_sums_lazy(void **state)
{
	(void)state;
	check_fixture(DATA "meminfo-6.18-lazy", DATA "zoneinfo-6.18-lazy");
}

static void test_sums_grown(void **state)
{
	(void)state;
	check_fixture(DATA "meminfo-6.18-grown", DATA "zoneinfo-6.18-grown");
}

/* Kernel stacks in VmallocUsed are counted once, as kernel stacks. */
static void test_vmap_stacks_once(void **state)
{
	struct ms_meminfo mi;
	struct mem_accounting with, without;

	(void)state;
	meminfo_parse(slurp(DATA "meminfo-6.18-grown"), &mi);
	mem_accounting_of(&mi, 0, true, &with);
	mem_accounting_of(&mi, 0, false, &without);
	assert_int_equal(without.part[MP_vmalloc] - with.part[MP_vmalloc],
			 mi.bytes[MI_KERNEL_STACK]);
	assert_int_equal(sum_of(&with), with.total_bytes);
	assert_int_equal(sum_of(&without), without.total_bytes);
}

/* Parts that overlap past the remainder: taken back, the remainder 0, never negative. */
static void test_overlap_taken_back(void **state)
{
	static const char text[] =
		"MemTotal:        1000000 kB\nMemFree:          400000 kB\n"
		"Buffers:              0 kB\nCached:           100000 kB\n"
		"SwapCached:       200000 kB\nAnonPages:        350000 kB\n"
		"Shmem:                0 kB\nKReclaimable:          0 kB\n"
		"SReclaimable:          0 kB\nSUnreclaim:             0 kB\n"
		"KernelStack:           0 kB\nPageTables:             0 kB\n"
		"Percpu:             1000 kB\n";
	struct ms_meminfo mi;
	struct mem_accounting a;

	(void)state;
	meminfo_parse(text, &mi);
	mem_accounting_of(&mi, -1, false, &a);
	assert_int_equal(sum_of(&a), a.total_bytes);
	assert_int_equal(a.part[MP_other_kernel], 0);
	assert_int_equal(a.overlap_bytes, 51000 * 1024);
	assert_int_equal(a.part[MP_swap_cached], 149000 * 1024);
	assert_non_null(strstr(a.adjusted, "SwapCached"));
	assert_true(record_is_null(&mem_accounting_desc, &a, "free_pcp_bytes"));
	assert_true(record_is_null(&mem_accounting_desc, &a, "zswap_bytes"));
}

static void test_slabinfo_parse(void **state)
{
	struct slab_snapshot s = { 0 };

	(void)state;
	assert_int_equal(slabinfo_parse(slurp(DATA "slabinfo-6.18"), &s), 5);
	for (size_t i = 0; i < s.n; i++) {
		assert_true(s.c[i].total_objs >= s.c[i].active_objs);
		assert_true(s.c[i].size > 0 && s.c[i].objs_per_slab > 0);
		assert_int_equal(s.c[i].reclaimable, -1); /* slabinfo does not say */
	}
	assert_int_equal(slabinfo_parse("garbage\n", &s), -EINVAL);
	slab_snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sums_lazy),
		cmocka_unit_test(test_sums_grown),
		cmocka_unit_test(test_vmap_stacks_once),
		cmocka_unit_test(test_overlap_taken_back),
		cmocka_unit_test(test_slabinfo_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
