// SPDX-License-Identifier: GPL-2.0
/* The reclaim collector's arithmetic: kswapd's state word, its records, the totals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "vmscan.h"

static void test_awake_state_word(void **state)
{
	(void)state;
	/* asleep: the time awake so far */
	assert_int_equal(rc_kswapd_awake_ns(RC_KSWAPD_SEEN | 5000, 99999), 5000);
	/* awake since 10000 with 3000 before: 3000 + (now - 10000) */
	assert_int_equal(rc_kswapd_awake_ns(RC_KSWAPD_SEEN | RC_KSWAPD_AWAKE | 7000, 12500), 5500);
	/* never seen */
	assert_int_equal(rc_kswapd_awake_ns(0, 12500), 0);
}

/*
 * A node id past the tables (the exporter's once read kswapd[n] before its bounds
 * check): no row, nothing read. The snapshot is allocated to its exact size, so a
 * sanitized build (make test-sanitize) reports any read past it.
 */
static void test_kswapd_row_past_the_tables(void **state)
{
	struct reclaim_snapshot *cur = calloc(1, sizeof(*cur));
	struct reclaim_kswapd_row row, untouched;
	const int ids[] = { -1, RC_MAX_NODES, 70, 1 << 20 };
	(void)state;

	assert_non_null(cur);
	memset(&row, 0x5a, sizeof(row));
	untouched = row;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_false(reclaim_kswapd_row_of(cur, NULL, ids[i], &row));
		assert_memory_equal(&row, &untouched, sizeof(row));
	}
	free(cur);
}

static void test_kswapd_row_between_snapshots(void **state)
{
	struct reclaim_snapshot *prev = calloc(1, sizeof(*prev)), *cur = calloc(1, sizeof(*cur));
	struct reclaim_kswapd_row row;
	(void)state;

	assert_non_null(prev);
	assert_non_null(cur);
	prev->kswapd[3] = (struct kswapd_counts){ .wakeups = 2, .rounds = 40, .awake_ns = 1000 };
	cur->kswapd[3] = (struct kswapd_counts){ .wakeups = 3, .rounds = 90, .awake_ns = 4000,
						 .max_order = 9, .zones = 12 };
	assert_true(reclaim_kswapd_row_of(cur, prev, 3, &row));
	assert_int_equal(row.node, 3);
	assert_int_equal(row.wakeups, 1);
	assert_int_equal(row.rounds, 50);
	assert_int_equal(row.awake_ns, 3000);
	assert_int_equal(row.max_order_since_start, 9);
	assert_int_equal(row.zone_mask_since_start, 12);
	assert_true(reclaim_kswapd_row_of(cur, NULL, 3, &row));
	assert_int_equal(row.rounds, 90);
	free(prev);
	free(cur);
}

/* Nodes past the tables share the last slot: in the totals, never in node 0's. */
static void test_totals_hold_the_nodes_past_the_tables(void **state)
{
	struct reclaim_snapshot *s = calloc(1, sizeof(*s));
	uint64_t scanned, reclaimed;
	(void)state;

	assert_non_null(s);
	s->stats[1 * RC_NR_KIND + RC_KSWAPD].scanned = 10;
	s->stats[RC_NODE_BEYOND * RC_NR_KIND + RC_DIRECT].scanned = 100;
	s->stats[RC_NODE_BEYOND * RC_NR_KIND + RC_DIRECT].reclaimed = 40;
	reclaim_sum(s, &scanned, &reclaimed);
	assert_int_equal(scanned, 110);
	assert_int_equal(reclaimed, 40);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_awake_state_word),
		cmocka_unit_test(test_kswapd_row_past_the_tables),
		cmocka_unit_test(test_kswapd_row_between_snapshots),
		cmocka_unit_test(test_totals_hold_the_nodes_past_the_tables),
	};

	return cmocka_run_group_tests_name("vmscan", tests, NULL, NULL);
}
