// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/meminfo against the zones, on fixtures captured on 6.18 booted with
 * deferred_init=lazy: right after boot (most memory in no zone yet) and after the
 * zones grew. That state cannot be recreated on demand, so it is tested here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "meminfo.h"
#include "procfs.h"

#define DATA "tests/unit/data/"
#define PAGE 4096

static char *slurp(const char *name)
{
	static char buf[3][65536];
	static int next;
	char *b = buf[next++ % 3];

	assert_true(read_text_file(name, b, sizeof(buf[0])) > 0);
	return b;
}

/* Sum of "present" and "managed" over every zone of a /proc/zoneinfo text. */
static void zone_sums(const char *text, uint64_t *present, uint64_t *managed)
{
	*present = *managed = 0;
	for (const char *p = text; (p = strstr(p, "\n        ")); p++) {
		unsigned long long v;

		if (sscanf(p, "\n        present %llu", &v) == 1)
			*present += v;
		else if (sscanf(p, "\n        managed %llu", &v) == 1)
			*managed += v;
	}
}

static void test_parse(void **state)
{
	struct ms_meminfo mi;
	(void)state;

	assert_true(meminfo_parse(slurp(DATA "meminfo-6.18-lazy"), &mi) >= MI_NR - 1);
	assert_int_equal(mi.bytes[MI_MEM_TOTAL], 24683652ULL * 1024);
	assert_true(meminfo_has(&mi, MI_ACTIVE_ANON));
	/* "Active" must not match "Active(anon)" */
	assert_true(mi.bytes[MI_ACTIVE] >= mi.bytes[MI_ACTIVE_ANON]);
	assert_int_equal(mi.bytes[MI_ACTIVE],
			 mi.bytes[MI_ACTIVE_ANON] + mi.bytes[MI_ACTIVE_FILE]);
	assert_int_equal(meminfo_parse("nothing here\n", &mi), 0);
	assert_false(meminfo_has(&mi, MI_MEM_TOTAL));
}

/* The lines no node counter has: HugePages_ ones are counts, the rest kB as bytes. */
static void test_row(void **state)
{
	static const char text[] = "MemTotal:       24683652 kB\nSwapTotal:       1048572 kB\n"
				   "SwapFree:         524288 kB\nCommitLimit:    12341824 kB\n"
				   "Committed_AS:      46160 kB\nVmallocTotal:   34359738367 kB\n"
				   "VmallocUsed:       14060 kB\nPercpu:              712 kB\n"
				   "HugePages_Total:       5\nHugePages_Free:        4\n"
				   "HugePages_Rsvd:        3\nHugePages_Surp:        1\n"
				   "Hugepagesize:       2048 kB\n";
	struct ms_meminfo mi;
	struct meminfo_row r;
	(void)state;

	meminfo_parse(text, &mi);
	meminfo_row_of(&mi, &r);
	assert_int_equal(r.swap_total_bytes, 1048572ULL * 1024);
	assert_int_equal(r.swap_free_bytes, 524288ULL * 1024);
	assert_int_equal(r.commit_limit_bytes, 12341824ULL * 1024);
	assert_int_equal(r.committed_as_bytes, 46160ULL * 1024);
	assert_int_equal(r.vmalloc_total_bytes, 34359738367ULL * 1024);
	assert_int_equal(r.vmalloc_used_bytes, 14060ULL * 1024);
	assert_int_equal(r.percpu_bytes, 712 * 1024);
	assert_int_equal(r.hugetlb_pages, 5);
	assert_int_equal(r.hugetlb_free_pages, 4);
	assert_int_equal(r.hugetlb_reserved_pages, 3);
	assert_int_equal(r.hugetlb_surplus_pages, 1);
	assert_int_equal(r.hugetlb_page_size_bytes, 2048 * 1024);
	/* no Hugetlb line (before 5.16): null, not 0 */
	assert_true(record_is_null(&meminfo_desc, &r, "hugetlb_bytes"));
	assert_false(record_is_null(&meminfo_desc, &r, "hugetlb_pages"));
	assert_string_equal(meminfo_line_of("committed_as_bytes"), "Committed_AS");
}

static void coverage_of(const char *meminfo, const char *zoneinfo, bool deferred,
			struct mem_coverage *c, uint64_t *total, uint64_t *managed)
{
	struct ms_meminfo mi;
	uint64_t present;

	meminfo_parse(slurp(meminfo), &mi);
	zone_sums(slurp(zoneinfo), &present, managed);
	*total = mi.bytes[MI_MEM_TOTAL];
	mem_coverage(*total, *managed, present, PAGE, deferred, c);
}

static void test_right_after_boot(void **state)
{
	struct mem_coverage c;
	uint64_t total, managed;
	(void)state;

	coverage_of(DATA "meminfo-6.18-lazy", DATA "zoneinfo-6.18-lazy", true, &c, &total,
		    &managed);
	/* MemTotal 23.5 GiB, the zones managed 3.6 GiB of it */
	assert_int_equal(c.unmanaged_bytes, (int64_t)(total - managed * PAGE));
	assert_true(c.unmanaged_bytes > (int64_t)(19ULL << 30));
	assert_true(c.notable);
	assert_non_null(strstr(c.reason, "not yet initialized"));
	assert_true(c.present_unmanaged_bytes >= (uint64_t)c.unmanaged_bytes);
	/* without deferred_init on the command line, the neutral wording */
	coverage_of(DATA "meminfo-6.18-lazy", DATA "zoneinfo-6.18-lazy", false, &c, &total,
		    &managed);
	assert_non_null(strstr(c.reason, "present in zones but not handed"));
}

static void test_after_growth(void **state)
{
	struct mem_coverage c;
	uint64_t total, managed;
	(void)state;

	coverage_of(DATA "meminfo-6.18-grown", DATA "zoneinfo-6.18-grown", true, &c, &total,
		    &managed);
	assert_int_equal(c.unmanaged_bytes, (int64_t)(total - managed * PAGE));
	/* after 20 GiB were touched: 335 MiB still ungrown, 1.4 % of MemTotal, still said */
	assert_true(c.unmanaged_bytes < (int64_t)(total / 50));
	assert_int_equal(c.notable, c.unmanaged_bytes > (int64_t)(total / 100));
	assert_non_null(strstr(c.reason, "not yet initialized"));
	/* a hundredth less and it is within the slack: nothing said */
	mem_coverage(total - c.unmanaged_bytes + total / 200, managed, managed, PAGE, true, &c);
	assert_false(c.notable);
	assert_string_equal(c.reason, "");
}

static void test_other_reasons(void **state)
{
	struct mem_coverage c;
	(void)state;

	/* 1 GiB in MemTotal that no zone holds: hot-plug or balloon */
	mem_coverage(9ULL << 30, 8ULL << 18, 8ULL << 18, PAGE, false, &c);
	assert_true(c.notable);
	assert_non_null(strstr(c.reason, "managed by no zone"));
	/* zones manage more than MemTotal */
	mem_coverage(7ULL << 30, 8ULL << 18, 8ULL << 18, PAGE, false, &c);
	assert_true(c.notable && c.unmanaged_bytes < 0);
	/* within the slack (1 %, at least 1 MiB): nothing to say */
	mem_coverage((8ULL << 30) + (512 << 10), 8ULL << 18, 8ULL << 18, PAGE, false, &c);
	assert_false(c.notable);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_row),
		cmocka_unit_test(test_right_after_boot),
		cmocka_unit_test(test_after_growth),
		cmocka_unit_test(test_other_reasons),
	};

	return cmocka_run_group_tests_name("meminfo", tests, NULL, NULL);
}
