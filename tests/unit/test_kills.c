// SPDX-License-Identifier: GPL-2.0
/* An OOM kill meets its struct oom_control event (kill_controls_take), a full buffer too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "kills.h"

#define MAX ((int)(sizeof(((struct kill_controls *)0)->ev) / sizeof(struct oom_event)))

static struct kill_controls c;

static void control(unsigned int pid)
{
	static struct oom_event e;
	const struct oom_event *got;

	memset(&e, 0, sizeof(e));
	e.kind = OOM_EV_CONTROL;
	e.pid = pid;
	e.totalpages = 1000 + pid; /* which control it was */
	assert_false(kill_controls_take(&c, &e, &got));
}

/* The control a kill of pid is given: its totalpages, or 0 for none. */
static unsigned long long kill(unsigned int pid)
{
	static struct oom_event e;
	const struct oom_event *got;

	memset(&e, 0, sizeof(e));
	e.kind = OOM_EV_KILL;
	e.pid = pid;
	assert_true(kill_controls_take(&c, &e, &got));
	return got ? got->totalpages : 0;
}

static void test_each_kill_takes_its_own_control_once(void **state)
{
	(void)state;
	memset(&c, 0, sizeof(c));
	control(10);
	control(11);
	assert_int_equal(kill(11), 1011);
	assert_int_equal(kill(11), 0); /* each goes with one kill */
	assert_int_equal(kill(12), 0);
	assert_int_equal(kill(10), 1010);
}

/* The buffer full: the oldest pending control goes, not every one. */
static void test_a_full_buffer_drops_only_the_oldest(void **state)
{
	(void)state;
	memset(&c, 0, sizeof(c));
	for (int i = 0; i <= MAX; i++) /* one more than it holds */
		control(100 + i);
	assert_int_equal(kill(100), 0);
	for (int i = 1; i <= MAX; i++)
		assert_int_equal(kill(100 + i), 1100 + i);
}

/* Controls already taken make room: a long run of kills never loses one. */
static void test_taken_controls_make_room(void **state)
{
	(void)state;
	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 10 * MAX; i++) {
		control(200 + i);
		if (i % 2)
			continue;
		assert_int_equal(kill(200 + i), 1200 + i);
	}
	/* the odd ones pending: the last MAX - 1 of them are still there */
	for (int i = 10 * MAX - 1; i > 10 * MAX - 2 * (MAX - 1); i -= 2)
		assert_int_equal(kill(200 + i), 1200 + i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_kill_takes_its_own_control_once),
		cmocka_unit_test(test_a_full_buffer_drops_only_the_oldest),
		cmocka_unit_test(test_taken_controls_make_room),
	};

	return cmocka_run_group_tests_name("kills", tests, NULL, NULL);
}
