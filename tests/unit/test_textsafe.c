// SPDX-License-Identifier: GPL-2.0
/* Kernel-supplied names shown safely: text like ps, JSON as valid UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
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

/* U+202E RIGHT-TO-LEFT OVERRIDE and its kin: invisible, they reorder or disguise a line */
static void test_invisible_format_characters(void **state)
{
	static const char *const invisible[] = {
		"\xd8\x9c",					/* U+061C arabic letter mark */
		"\xe2\x80\x8b", "\xe2\x80\x8c", "\xe2\x80\x8d", /* zero width space, (non-)joiner */
		"\xe2\x80\x8e", "\xe2\x80\x8f",		/* LRM, RLM */
		"\xe2\x80\xa8", "\xe2\x80\xa9",		/* line, paragraph separator */
		"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", /* LRE, RLE, PDF */
		"\xe2\x80\xad", "\xe2\x80\xae",		/* LRO, RLO */
		"\xe2\x81\xa0", "\xe2\x81\xa4",		/* word joiner .. invisible plus */
		"\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", /* LRI .. PDI */
		"\xef\xbb\xbf",					/* zero width no-break space */
	};
	char in[32], out[32], *fixed;
	(void)state;

	for (size_t i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++) {
		snprintf(in, sizeof(in), "a%sb", invisible[i]);
		assert_string_equal(text_safe(in, sizeof(in), true, out, sizeof(out)), "a?b");
		assert_string_equal(comm_text(in, out), "a?b");
	}
	/* a process that calls itself "\u202egnp.exe" shows as "exe.png" unless stopped */
	assert_string_equal(comm_text("\xe2\x80\xaegnp.exe", out), "?gnp.exe");
	/* neighbours that are visible stay: U+2010 hyphen, U+2065 (unassigned), U+2192, Δ */
	assert_string_equal(text_safe("\xe2\x80\x90\xe2\x81\xa5\xe2\x86\x92\xce\x94", 32, false,
				      out, sizeof(out)),
			    "\xe2\x80\x90\xe2\x81\xa5\xe2\x86\x92\xce\x94");
	/* JSON: the same string to a parser, escaped so the raw line cannot reorder */
	fixed = json_utf8_fix("{\"comm\":\"\xe2\x80\xaegnp.exe\xd8\x9c\xff\"}");
	assert_non_null(fixed);
	assert_string_equal(fixed, "{\"comm\":\"\\u202egnp.exe\\u061c\\ufffd\"}");
	free(fixed);
	assert_null(json_utf8_fix("{\"comm\":\"\xe2\x86\x92\"}"));
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
		cmocka_unit_test(test_invisible_format_characters),
		cmocka_unit_test(test_json_stays_utf8),
	};

	return cmocka_run_group_tests_name("textsafe", tests, NULL, NULL);
}
