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
				    .nr_zones = 3, .page_size = 4096, .direct_reclaim = true };

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fragmentation),
		cmocka_unit_test(test_low_memory_with_retry_mayfail),
		cmocka_unit_test(test_cma_not_usable),
		cmocka_unit_test(test_gave_up_noretry_and_atomic),
		cmocka_unit_test(test_unknown_without_zones),
	};

	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
