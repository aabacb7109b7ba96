// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "verdict.h"

static struct verdict_input base(unsigned int order)
{
	struct verdict_input in = { .order = order, .nr_orders = 11, .has_zones = true,
				    .nr_zones = 3, .page_size = 4096, .direct_reclaim = true,
				    .available = -1 };

	in.zone[0] = (struct verdict_zone){ .name = "DMA", .populated = true, .free = 3840,
					    .min = 10, .reserve = 24000 };
	in.zone[1] = (struct verdict_zone){ .name = "DMA32", .populated = true, .free = 100,
					    .min = 2000, .reserve = 21000 };
	in.zone[2] = (struct verdict_zone){ .name = "Normal", .populated = true, .free = 500000,
					    .min = 14000 };
	return in;
}

static void test_fragmentation(void **state)
{
	struct verdict_input in = base(9);
	char buf[512];
	(void)state;

	/* lots free, but nothing above order 3 */
	for (int o = 0; o < 4; o++)
		in.zone[2].nr_free[o] = 1000;
	in.has_story = true;
	in.compact_result = "deferred";
	in.compact_tries = 3;
	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_FRAGMENTATION);
	assert_non_null(strstr(buf, "no free block of order >= 9"));
	assert_non_null(strstr(buf, "Normal"));
	assert_non_null(strstr(buf, "compaction x3 (last: deferred)"));
}

static void test_low_memory_with_retry_mayfail(void **state)
{
	struct verdict_input in = base(9);
	char buf[512];
	(void)state;

	in.zone[2].free = 14000; /* at min */
	in.retry_mayfail = in.thisnode = true;
	in.has_story = true;
	in.reclaim_count = 2;
	in.reclaimed = 3104;
	in.retry_zone_count = 16;
	in.max_no_progress_loops = 16;
	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_LOW_MEMORY);
	assert_non_null(strstr(buf, "out of memory in every zone"));
	assert_non_null(strstr(buf, "__GFP_RETRY_MAYFAIL"));
	assert_non_null(strstr(buf, "direct reclaim x2 freed 3104 pages"));
	assert_non_null(strstr(buf, "16 reclaim retries"));
}

static void test_cma_not_usable(void **state)
{
	struct verdict_input in = base(0);
	char buf[512];
	(void)state;

	in.nr_zones = 3;
	in.zone[2].free = 18000;
	in.zone[2].free_cma = 16000; /* 2000 usable < min 14000 */
	in.zone[0].populated = in.zone[1].populated = false;
	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_CMA);
	assert_non_null(strstr(buf, "CMA is not usable"));
	in.can_use_cma = true; /* a movable request may use it: then it would pass */
	in.zone[2].nr_free[0] = 5;
	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_GAVE_UP);
}

static void test_gave_up_noretry_and_atomic(void **state)
{
	struct verdict_input in = base(2);
	char buf[512];
	(void)state;

	in.zone[2].nr_free[5] = 1;
	in.noretry = true;
	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_GAVE_UP);
	assert_non_null(strstr(buf, "__GFP_NORETRY: gave up without retrying"));
	in.direct_reclaim = false;
	verdict_explain(&in, buf, sizeof(buf));
	assert_non_null(strstr(buf, "no __GFP_DIRECT_RECLAIM"));
}

static void test_unknown_without_zones(void **state)
{
	struct verdict_input in = base(0);
	char buf[256];
	(void)state;

	in.has_zones = false;
	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_UNKNOWN);
	assert_non_null(strstr(buf, "no verdict"));
}

/*
 * The zones of a real failure: echo 12000 > nr_hugepages on a 23.5 GiB machine, the
 * order-9 __GFP_RETRY_MAYFAIL|__GFP_NOWARN allocation of alloc_pool_huge_folio, with
 * 124 MiB available; Normal's free blocks as the failure saw them.
 */
static struct verdict_input pool_overshoot(void)
{
	static const uint64_t normal[] = { 2054, 718, 849, 633, 339, 172, 103, 42, 18, 0, 0 };
	struct verdict_input in = base(9);

	in.zone[0] = (struct verdict_zone){ .name = "DMA", .populated = true, .free = 3840,
					    .min = 10, .low = 13, .reserve = 24090,
					    .nr_free = { [8] = 1, [9] = 1, [10] = 3 } };
	in.zone[1] = (struct verdict_zone){ .name = "DMA32", .populated = true, .free = 23280,
					    .min = 2116, .low = 2888, .reserve = 21071,
					    .nr_free = { [10] = 21 } };
	in.zone[2] = (struct verdict_zone){ .name = "Normal", .populated = true, .free = 39469,
					    .min = 14769, .low = 20163 };
	memcpy(in.zone[2].nr_free, normal, sizeof(normal));
	in.retry_mayfail = in.nowarn = in.thisnode = true;
	in.available = 124 << 8;
	in.managed = 6160384;
	in.has_story = true;
	in.compact_tries = 2;
	in.compact_result = "deferred";
	return in;
}

static void test_exhausted_not_fragmentation(void **state)
{
	struct verdict_input in = pool_overshoot();
	char buf[1024];
	(void)state;

	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_LOW_MEMORY);
	assert_non_null(strstr(buf, "memory exhausted: 124.0 MiB available of 23.5 GiB"));
	/* the zone's free as its table shows it, not less the request */
	assert_non_null(strstr(buf, "Normal had 154.2 MiB free (min 57.7 MiB + reserve 0 B)"));
	assert_non_null(strstr(buf, "the largest free block order 8"));
	assert_null(strstr(buf, "fragmentation"));
	/* the caller asked for a failure it handles */
	assert_true(verdict_failure_allowed(&in));
	assert_non_null(strstr(buf, "__GFP_NOWARN: the caller is prepared for this failure"));
	in.nowarn = false;
	assert_false(verdict_failure_allowed(&in));
}

static void test_fragmentation_weighed_against_available(void **state)
{
	struct verdict_input in = pool_overshoot();
	char buf[1024];
	(void)state;

	/* the same zones with a fifth of the node available: memory is there, in pieces */
	in.available = in.managed / 5;
	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_FRAGMENTATION);
	assert_non_null(strstr(buf, "fragmentation: Normal had 154.2 MiB free"));
	/* unknown availability: free above what compaction needs still means pieces */
	in.available = -1;
	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_FRAGMENTATION);
	/* free above min but below low + twice the request: compaction cannot even run */
	in.available = in.managed / 5;
	in.zone[2].free = in.zone[2].low + 1000;
	assert_int_equal(verdict_explain(&in, buf, sizeof(buf)), VERDICT_LOW_MEMORY);
	assert_non_null(strstr(buf, "too little free for compaction to run"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fragmentation),
		cmocka_unit_test(test_low_memory_with_retry_mayfail),
		cmocka_unit_test(test_cma_not_usable),
		cmocka_unit_test(test_gave_up_noretry_and_atomic),
		cmocka_unit_test(test_unknown_without_zones),
		cmocka_unit_test(test_exhausted_not_fragmentation),
		cmocka_unit_test(test_fragmentation_weighed_against_available),
	};

	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
