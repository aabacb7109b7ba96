// SPDX-License-Identifier: GPL-2.0
/*
 * leak --dwarf's interned stacks: a stack is held while an outstanding allocation has
 * it, forgotten after, and never more than USTACKS_MAX are held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>
#include "leak.h"
#include "ustacks.h"

/* Stack number i: three frames no other i has. */
static void frames(uint64_t i, uint64_t pcs[3])
{
	pcs[0] = 0x400000 + i;
	pcs[1] = 0x500000 + 2 * i;
	pcs[2] = 0x600000;
}

static void add(struct ustacks *u, uint64_t seq, uint64_t stack)
{
	uint64_t pcs[3];

	frames(stack, pcs);
	assert_true(ustacks_add(u, seq, pcs, 3));
}

static void test_stacks_of_freed_allocations_are_forgotten(void **state)
{
	struct ustacks *u = ustacks_new();
	uint64_t pcs[LEAK_STACK_DEPTH], want[3];
	uint32_t ids[10];
	(void)state;

	for (uint64_t seq = 1; seq <= 20000; seq++)
		add(u, seq, seq);
	assert_int_equal(ustacks_count(u), 20000);
	/* the walk of outstanding allocations finds the first ten only */
	for (uint64_t seq = 1; seq <= 10; seq++)
		ids[seq - 1] = ustacks_of(u, seq);
	ustacks_sweep(u);
	assert_int_equal(ustacks_count(u), 10);
	/* the ten kept their numbers and frames, though numbers were freed around them */
	for (uint64_t seq = 1; seq <= 10; seq++) {
		assert_int_equal(ustacks_of(u, seq), ids[seq - 1]);
		frames(seq, want);
		assert_int_equal(ustacks_get(u, ids[seq - 1], pcs, LEAK_STACK_DEPTH), 3);
		assert_memory_equal(pcs, want, sizeof(want));
	}
	/* new stacks take the freed numbers; the ten are still found by their frames */
	for (uint64_t seq = 20001; seq <= 40000; seq++)
		add(u, seq, seq);
	assert_int_equal(ustacks_count(u), 20010);
	add(u, 40001, 5);
	assert_int_equal(ustacks_count(u), 20010);
	assert_int_equal(ustacks_of(u, 40001), ids[4]);
	ustacks_sweep(u); /* the ten were looked up once more; 40001 too */
	assert_int_equal(ustacks_count(u), 10);
	ustacks_sweep(u); /* then nothing */
	assert_int_equal(ustacks_count(u), 0);
	assert_int_equal(ustacks_get(u, ids[0], pcs, LEAK_STACK_DEPTH), 0);
	ustacks_free(u);
}

static void test_a_stack_stays_while_one_allocation_has_it(void **state)
{
	struct ustacks *u = ustacks_new();
	uint64_t pcs[LEAK_STACK_DEPTH];
	uint32_t id;
	(void)state;

	add(u, 1, 7);
	add(u, 2, 7);
	assert_int_equal(ustacks_count(u), 1);
	id = ustacks_of(u, 2);
	ustacks_sweep(u); /* 1 was freed, 2 is outstanding */
	assert_int_equal(ustacks_count(u), 1);
	assert_int_equal(ustacks_get(u, id, pcs, LEAK_STACK_DEPTH), 3);
	ustacks_sweep(u);
	assert_int_equal(ustacks_count(u), 0);
	ustacks_free(u);
}

static void test_no_more_than_the_bound_is_held(void **state)
{
	struct ustacks *u = ustacks_new();
	uint64_t pcs[3];
	(void)state;

	for (uint64_t i = 1; i <= USTACKS_MAX; i++)
		add(u, i, i);
	frames(USTACKS_MAX + 1, pcs);
	assert_false(ustacks_add(u, USTACKS_MAX + 1, pcs, 3)); /* a new stack: refused */
	assert_int_equal(ustacks_of(u, USTACKS_MAX + 1), 0);
	add(u, USTACKS_MAX + 2, 1); /* one held already: taken */
	assert_int_equal(ustacks_count(u), USTACKS_MAX);
	ustacks_sweep(u); /* all freed: room again */
	assert_int_equal(ustacks_count(u), 0);
	assert_true(ustacks_add(u, USTACKS_MAX + 3, pcs, 3));
	ustacks_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stacks_of_freed_allocations_are_forgotten),
		cmocka_unit_test(test_a_stack_stays_while_one_allocation_has_it),
		cmocka_unit_test(test_no_more_than_the_bound_is_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
