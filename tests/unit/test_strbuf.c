// SPDX-License-Identifier: GPL-2.0
/* Appending past the end of a buffer: cut, terminated, never written beyond. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "strbuf.h"

static void test_append_and_truncate(void **state)
{
	char guard[32], buf[8], after[32];
	struct strbuf sb;
	(void)state;

	memset(guard, 'G', sizeof(guard));
	memset(after, 'A', sizeof(after));
	sb_init(&sb, buf, sizeof(buf));
	sb_add(&sb, "%s", "abc");
	sb_sep(&sb, "; ");
	assert_string_equal(buf, "abc; ");
	assert_false(sb.truncated);
	/* "off += snprintf(...)" went past the end here and wrapped len - off */
	sb_add(&sb, "%s", "defghij");
	assert_true(sb.truncated);
	assert_int_equal(sb.off, sizeof(buf) - 1);
	assert_string_equal(buf, "abc; de");
	sb_add(&sb, "%s", "more");
	sb_add(&sb, "%d", 12345);
	assert_string_equal(buf, "abc; de");
	for (size_t i = 0; i < sizeof(after); i++)
		assert_int_equal(after[i], 'A');
	for (size_t i = 0; i < sizeof(guard); i++)
		assert_int_equal(guard[i], 'G');
}

static void test_separator_only_between(void **state)
{
	char buf[64];
	struct strbuf sb;
	(void)state;

	sb_init(&sb, buf, sizeof(buf));
	sb_sep(&sb, ", ");
	sb_add(&sb, "one");
	sb_sep(&sb, ", ");
	sb_add(&sb, "two");
	assert_string_equal(buf, "one, two");
}

/* The recorder's snapshot reasons: each trigger named once, by its whole name. */
static void test_list_add_once(void **state)
{
	char buf[64] = "";
	(void)state;

	assert_true(list_add_once(buf, sizeof(buf), "; ", "oom_kill pid 123"));
	/* a substring of an item is another item (strstr dropped it) */
	assert_true(list_add_once(buf, sizeof(buf), "; ", "oom_kill pid 12"));
	assert_true(list_add_once(buf, sizeof(buf), "; ", "oom_kill pid 1"));
	assert_string_equal(buf, "oom_kill pid 123; oom_kill pid 12; oom_kill pid 1");
	assert_false(list_add_once(buf, sizeof(buf), "; ", "oom_kill pid 12"));
	assert_false(list_add_once(buf, sizeof(buf), "; ", "oom_kill pid 123"));
	assert_false(list_add_once(buf, sizeof(buf), "; ", "oom_kill pid 1"));
	assert_string_equal(buf, "oom_kill pid 123; oom_kill pid 12; oom_kill pid 1");
}

static void test_list_item_that_does_not_fit_is_left_out(void **state)
{
	char buf[24] = "";
	(void)state;

	assert_true(list_add_once(buf, sizeof(buf), "; ", "psi some"));
	assert_false(list_add_once(buf, sizeof(buf), "; ", "alloc_failure order 9"));
	assert_string_equal(buf, "psi some");
	assert_true(list_add_once(buf, sizeof(buf), "; ", "oom_kill 7"));
	assert_string_equal(buf, "psi some; oom_kill 7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_truncate),
		cmocka_unit_test(test_separator_only_between),
		cmocka_unit_test(test_list_add_once),
		cmocka_unit_test(test_list_item_that_does_not_fit_is_left_out),
	};

	return cmocka_run_group_tests_name("strbuf", tests, NULL, NULL);
}
