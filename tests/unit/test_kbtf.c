// SPDX-License-Identifier: GPL-2.0
/* An enum's names copied out of the BTF serve after the BTF is gone. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include "kbtf.h"

static void test_enum_copy_outlives_the_btf(void **state)
{
	struct btf *btf = btf__new_empty();
	struct kbtf_enum names, none;
	char buf[32];
	(void)state;

	assert_non_null(btf);
	assert_true(btf__add_enum(btf, "compact_result", 4) > 0);
	assert_int_equal(btf__add_enum_value(btf, "COMPACT_NOT_SUITABLE_ZONE", 0), 0);
	assert_int_equal(btf__add_enum_value(btf, "COMPACT_SKIPPED", 1), 0);
	assert_int_equal(btf__add_enum_value(btf, "COMPACT_COMPLETE", 5), 0);
	/* too long to keep whole: printed as its number, never cut */
	assert_int_equal(btf__add_enum_value(btf, "COMPACT_A_NAME_LONGER_THAN_ANY_IN_THE_KERNEL",
					     7), 0);
	kbtf_use(btf);
	assert_int_equal(kbtf_enum_copy("compact_result", "COMPACT_", &names), 0);
	assert_int_equal(kbtf_enum_copy("no_such_enum", "X_", &none), -ENOENT);
	assert_int_equal(none.n, 0);
	kbtf_release(); /* frees btf: the copy must not point into it */
	assert_string_equal(kbtf_enum_text(&names, 5, buf, sizeof(buf)), "complete");
	assert_string_equal(kbtf_enum_text(&names, 1, buf, sizeof(buf)), "skipped");
	assert_string_equal(kbtf_enum_text(&names, 0, buf, sizeof(buf)), "not_suitable_zone");
	assert_string_equal(kbtf_enum_text(&names, 7, buf, sizeof(buf)), "7");
	assert_string_equal(kbtf_enum_text(&names, -3, buf, sizeof(buf)), "-3");
	assert_string_equal(kbtf_enum_text(&none, 1, buf, sizeof(buf)), "1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enum_copy_outlives_the_btf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
