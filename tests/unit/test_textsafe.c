// SPDX-License-Identifier: GPL-2.0
/* Kernel-supplied names shown safely: text like ps, JSON as valid UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "textsafe.h"

static void test_utf8_lengths(void **state)
{
	(void)state;
	assert_int_equal(utf8_seq_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xce\x94", 2), 2); /* Δ */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x86\x92", 3), 3); /* → */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xff", 1), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0); /* overlong */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0); /* surrogate */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x86", 2), 0); /* cut */
}

static void test_comm_for_terminal(void **state)
{
	char out[COMM_TEXT_LEN];
	/* a name set with prctl(PR_SET_NAME): colour escape, newline, tab, invalid bytes */
	const char comm[16] = "\x1b[31mred\n\tx\xff\xfe";
	(void)state;

	assert_string_equal(comm_text(comm, out), "?[31mred??x??");
	assert_string_equal(comm_text("bash", out), "bash");
	/* a full 16-byte comm without a NUL stops at 16 */
	assert_string_equal(comm_text("0123456789abcdefXYZ", out), "0123456789abcdef");
	/* text keeps newlines when asked, and valid multi-byte characters */
	char t[32];

	assert_string_equal(text_safe("a\xce\x94\nb\x1b", 32, true, t, sizeof(t)),
			    "a\xce\x94\nb?");
	/* C1 control U+009B (CSI) is an escape on some terminals */
	assert_string_equal(text_safe("x\xc2\x9b" "1m", 32, false, t, sizeof(t)), "x?1m");
}

static void test_json_stays_utf8(void **state)
{
	char *fixed;
	(void)state;

	assert_null(json_utf8_fix("{\"comm\":\"caf\xc3\xa9\"}"));
	fixed = json_utf8_fix("{\"comm\":\"x\xff\xfey\"}");
	assert_non_null(fixed);
	assert_string_equal(fixed, "{\"comm\":\"x\\ufffd\\ufffdy\"}");
	free(fixed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_lengths),
		cmocka_unit_test(test_comm_for_terminal),
		cmocka_unit_test(test_json_stays_utf8),
	};

	return cmocka_run_group_tests_name("textsafe", tests, NULL, NULL);
}
