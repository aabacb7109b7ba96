// SPDX-License-Identifier: GPL-2.0
/*
 * GFP decoding against what the kernel itself printed: the flag table is the one
 * in a 6.18 tracefs format file, and each (mask, string) pair was captured from
 * two tracefs instances recording the same mm_page_alloc events, one with the
 * "fields" option (raw mask) and one with the normal decoded output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gfp.h"

#define DATA "tests/unit/data/"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	assert_non_null(f);
	assert_true(getdelim(&buf, &cap, '\0', f) > 0);
	fclose(f);
	return buf;
}

static void test_parse_format_table(void **state)
{
	struct gfp_table t;
	char *text = slurp(DATA "mm_page_alloc-6.18.format");
	(void)state;

	assert_true(gfp_table_parse_format(&t, text, NULL) > 30);
	assert_int_equal(t.source, GFP_SRC_TRACEFS);
	/* The composite names come first, in the kernel's order. */
	assert_string_equal(t.flag[0].name, "GFP_TRANSHUGE");
	assert_string_equal(t.flag[t.n - 1].name, "__GFP_NO_OBJ_EXT");
	for (int i = 0; i < t.n; i++)
		if (!strcmp(t.flag[i].name, "GFP_KERNEL"))
			assert_int_equal(t.flag[i].mask, 0xcc0);
	free(text);
}

static void test_decode_matches_kernel(void **state)
{
	struct gfp_table t;
	char *text = slurp(DATA "mm_page_alloc-6.18.format");
	char line[512], out[512];
	FILE *f = fopen(DATA "gfp-6.18.pairs", "r");
	int n = 0;
	(void)state;

	assert_non_null(f);
	assert_true(gfp_table_parse_format(&t, text, NULL) > 0);
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');
		unsigned long mask;

		assert_non_null(tab);
		*tab = 0;
		tab[strcspn(tab + 1, "\n") + 1] = 0;
		mask = strtoul(line, NULL, 16);
		assert_string_equal(gfp_format(&t, mask, out, sizeof(out)), tab + 1);
		n++;
	}
	fclose(f);
	assert_true(n >= 20);
	free(text);
}

static void test_zero_and_unknown_bits(void **state)
{
	struct gfp_table t;
	char *text = slurp(DATA "mm_page_alloc-6.18.format");
	char out[256];
	(void)state;

	assert_true(gfp_table_parse_format(&t, text, NULL) > 0);
	/* The kernel prints "none" for 0 and left-over bits in hex. */
	assert_string_equal(gfp_format(&t, 0, out, sizeof(out)), "none");
	assert_string_equal(gfp_format(&t, (1UL << 40) | 0xcc0, out, sizeof(out)),
			    "GFP_KERNEL|0x10000000000");
	free(text);
}

static void test_eval_expr(void **state)
{
	unsigned long v;
	(void)state;

	assert_int_equal(gfp_eval_expr("( unsigned long)(( gfp_t)((((1UL))) << (21)))", &v,
				       NULL), 0);
	assert_int_equal(v, 1UL << 21);
	assert_int_equal(gfp_eval_expr("(( gfp_t)0x400u)|(( gfp_t)0x800u)", &v, NULL), 0);
	assert_int_equal(v, 0xc00);
	assert_int_equal(gfp_eval_expr("(0xff & ~(( gfp_t)0x0f))", &v, NULL), 0);
	assert_int_equal(v, 0xf0);
	assert_int_equal(gfp_eval_expr("1 + 2 * 3", &v, NULL), 0);
	assert_int_equal(v, 7);
	assert_int_not_equal(gfp_eval_expr("(1 << ", &v, NULL), 0);
	assert_int_not_equal(gfp_eval_expr("UNKNOWN_NAME", &v, NULL), 0);
	assert_int_not_equal(gfp_eval_expr("1 << 99", &v, NULL), 0);
}

static int ident(const char *name, unsigned long *v)
{
	if (strcmp(name, "___GFP_IO_BIT"))
		return -1;
	*v = 6;
	return 0;
}

static void test_eval_enum_identifier(void **state)
{
	unsigned long v;
	(void)state;

	/* Kernels without TRACE_DEFINE_ENUM leave enum names in the format. */
	assert_int_equal(gfp_eval_expr("((1UL) << (___GFP_IO_BIT))", &v, ident), 0);
	assert_int_equal(v, 0x40);
}

static void test_table_from_btf_bits(void **state)
{
	static const char *const names[] = { "___GFP_IO_BIT", "___GFP_DMA_BIT",
					      "___GFP_UNUSED_BIT", "___GFP_LAST_BIT",
					      "___GFP_NOWARN_BIT" };
	static const int bits[] = { 6, 0, 9, 25, 13 };
	struct gfp_table t;
	char out[128];
	(void)state;

	assert_int_equal(gfp_table_from_bits(&t, names, bits, 5), 3);
	assert_string_equal(t.flag[0].name, "__GFP_DMA");
	assert_string_equal(t.flag[1].name, "__GFP_IO");
	assert_string_equal(gfp_format(&t, 0x2041, out, sizeof(out)),
			    "__GFP_DMA|__GFP_IO|__GFP_NOWARN");
}

/* Names give their mask back: every captured pair round-trips, and parts may mix. */
static void test_parse_names_and_numbers(void **state)
{
	struct gfp_table t;
	char *text = slurp(DATA "mm_page_alloc-6.18.format");
	char line[512], names[GFP_MAX_NAMES][GFP_NAME_LEN];
	FILE *f = fopen(DATA "gfp-6.18.pairs", "r");
	unsigned long mask;
	(void)state;

	assert_non_null(f);
	assert_true(gfp_table_parse_format(&t, text, NULL) > 0);
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');

		*tab = 0;
		tab[strcspn(tab + 1, "\n") + 1] = 0;
		assert_int_equal(gfp_parse(&t, tab + 1, &mask), 0);
		assert_int_equal(mask, strtoul(line, NULL, 16));
	}
	fclose(f);
	assert_int_equal(gfp_parse(&t, "GFP_KERNEL", &mask), 0);
	assert_int_equal(mask, 0xcc0);
	assert_int_equal(gfp_parse(&t, "gfp_kernel | __GFP_NOWARN", &mask), 0);
	assert_int_equal(mask, 0x2cc0);
	assert_int_equal(gfp_parse(&t, "0x2800|GFP_KERNEL", &mask), 0);
	assert_int_equal(mask, 0x2cc0);
	assert_int_equal(gfp_parse(&t, "3264", &mask), 0);
	assert_int_equal(mask, 0xcc0);
	assert_int_equal(gfp_parse(&t, "0", &mask), 0);
	assert_int_equal(mask, 0);
	assert_int_not_equal(gfp_parse(&t, "GFP_NONSENSE", &mask), 0);
	assert_int_not_equal(gfp_parse(&t, "0xzz", &mask), 0);
	assert_int_not_equal(gfp_parse(&t, "GFP_KERNEL|", &mask), 0);
	assert_int_not_equal(gfp_parse(&t, "-1", &mask), 0);
	assert_int_not_equal(gfp_parse(&t, "", &mask), 0);
	/* the list is the string's parts; nothing for 0 */
	assert_int_equal(gfp_names(&t, 0x2cc0, names, GFP_MAX_NAMES), 2);
	assert_string_equal(names[0], "GFP_KERNEL");
	assert_string_equal(names[1], "__GFP_NOWARN");
	assert_int_equal(gfp_names(&t, (1UL << 40) | 0xcc0, names, GFP_MAX_NAMES), 2);
	assert_string_equal(names[1], "0x10000000000");
	assert_int_equal(gfp_names(&t, 0, names, GFP_MAX_NAMES), 0);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format_table),
		cmocka_unit_test(test_decode_matches_kernel),
		cmocka_unit_test(test_zero_and_unknown_bits),
		cmocka_unit_test(test_eval_expr),
		cmocka_unit_test(test_eval_enum_identifier),
		cmocka_unit_test(test_table_from_btf_bits),
		cmocka_unit_test(test_parse_names_and_numbers),
	};

	return cmocka_run_group_tests_name("gfp", tests, NULL, NULL);
}
