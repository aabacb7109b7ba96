// SPDX-License-Identifier: GPL-2.0
/* /proc/pressure/memory as 6.18 prints it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "pressure.h"

static void test_parse(void **state)
{
	struct psi p;
	(void)state;

	assert_true(psi_parse("some avg10=1.25 avg60=0.50 avg300=0.10 total=2500\n"
			      "full avg10=0.75 avg60=0.25 avg300=0.05 total=1000\n", &p));
	assert_true(p.some_avg10 == 1.25 && p.some_avg60 == 0.50);
	assert_true(p.full_avg10 == 0.75 && p.full_avg60 == 0.25);
	assert_int_equal(p.some_total_ns, 2500000);
	assert_int_equal(p.full_total_ns, 1000000);
	/* a truncated file is no reading */
	assert_false(psi_parse("some avg10=1.25 avg60=0.50 avg300=0.10 total=2500\n", &p));
	assert_false(psi_parse("", &p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests_name("pressure", tests, NULL, NULL);
}
