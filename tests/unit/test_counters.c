// SPDX-License-Identifier: GPL-2.0
/* Folding kernel counters as the kernel does: negatives clamped, maxima not summed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "counters.h"
#include "percpu.h"

static void test_negative_counters_clamp(void **state)
{
	/* a node's NR_ACTIVE_FILE read while a per-CPU delta is unfolded */
	const int64_t v[3] = { -3, 5, 0 };
	(void)state;

	assert_int_equal(counter_nonneg(-1), 0);
	assert_int_equal(counter_nonneg(7), 7);
	assert_int_equal(counters_sum_nonneg(v, 3), 5);
	assert_int_equal(counters_sum_nonneg(v, 1), 0);
}

struct stall { uint64_t count, total_ns, max_ns; };

static void test_percpu_max_is_not_summed(void **state)
{
	/* two CPUs: 3 stalls (max 40 us) and 2 stalls (max 90 us) */
	const struct stall cpus[2] = { { 3, 60000, 40000 }, { 2, 100000, 90000 } };
	struct stall out;
	(void)state;

	percpu_fold((const uint64_t *)cpus, 2, 3,
		    PERCPU_MAX_WORD(offsetof(struct stall, max_ns) / 8), (uint64_t *)&out);
	assert_int_equal(out.count, 5);
	assert_int_equal(out.total_ns, 160000);
	assert_int_equal(out.max_ns, 90000);
	percpu_fold((const uint64_t *)cpus, 2, 3, 0, (uint64_t *)&out);
	assert_int_equal(out.max_ns, 130000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negative_counters_clamp),
		cmocka_unit_test(test_percpu_max_is_not_summed),
	};

	return cmocka_run_group_tests_name("counters", tests, NULL, NULL);
}
