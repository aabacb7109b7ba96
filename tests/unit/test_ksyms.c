// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "ksyms.h"

static void test_lookup(void **state)
{
	struct ksyms *k = ksyms_load("tests/unit/data/kallsyms.sample");
	char b[128];
	(void)state;

	assert_non_null(k);
	assert_int_equal(k->n, 4); /* text symbols only */
	assert_string_equal(ksyms_format(k, 0xffffffff81200010ULL, b, sizeof(b)),
			    "__alloc_pages_slowpath.constprop.0+0x10");
	assert_string_equal(ksyms_format(k, 0xffffffff81200800ULL, b, sizeof(b)),
			    "__alloc_frozen_pages_noprof+0x0");
	assert_string_equal(ksyms_format(k, 0x1000, b, sizeof(b)), "0x1000");
	ksyms_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_lookup) };

	return cmocka_run_group_tests_name("ksyms", tests, NULL, NULL);
}
