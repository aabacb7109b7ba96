// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "units.h"
#include "output.h"
#include "procfs.h"

static void test_bytes(void **state)
{
	char b[32];
	(void)state;

	assert_string_equal(fmt_bytes(b, sizeof(b), 0), "0 B");
	assert_string_equal(fmt_bytes(b, sizeof(b), 1023), "1023 B");
	assert_string_equal(fmt_bytes(b, sizeof(b), 1024), "1.0 KiB");
	assert_string_equal(fmt_bytes(b, sizeof(b), 1536 * 1024), "1.5 MiB");
	assert_string_equal(fmt_bytes(b, sizeof(b), 64ULL << 20), "64.0 MiB");
	/* 1023.99 MiB must not print as "1024.0 MiB" */
	assert_string_equal(fmt_bytes(b, sizeof(b), (1ULL << 30) - 1), "1.0 GiB");
	assert_string_equal(fmt_bytes(b, sizeof(b), 3ULL << 40), "3.0 TiB");
}

static void test_delta_count_duration(void **state)
{
	char b[32];
	(void)state;

	assert_string_equal(fmt_bytes_delta(b, sizeof(b), 8 << 20), "+8.0 MiB");
	assert_string_equal(fmt_bytes_delta(b, sizeof(b), -4096), "-4.0 KiB");
	/* the same zero as every size column */
	assert_string_equal(fmt_bytes_delta(b, sizeof(b), 0), "0 B");
	assert_string_equal(fmt_count(b, sizeof(b), 999), "999");
	assert_string_equal(fmt_count(b, sizeof(b), 1234), "1.2k");
	assert_string_equal(fmt_count(b, sizeof(b), 2.5e6), "2.5M");
	assert_string_equal(fmt_duration_ns(b, sizeof(b), 850), "850 ns");
	assert_string_equal(fmt_duration_ns(b, sizeof(b), 41000000), "41.0 ms");
	assert_string_equal(fmt_duration_ns(b, sizeof(b), 1200000000), "1.20 s");
}

static void test_format_value(void **state)
{
	char b[64];
	json_object *v = json_u64(3ULL << 20);
	(void)state;

	assert_string_equal(out_format_value(v, COL_BYTES, b, sizeof(b)), "3.0 MiB");
	assert_string_equal(out_format_value(v, COL_INT, b, sizeof(b)), "3145728");
	/* absent values (JSON null) print as '-' */
	assert_string_equal(out_format_value(NULL, COL_BYTES, b, sizeof(b)), "-");
	json_object_put(v);
}

static void test_meminfo_value(void **state)
{
	const char *text = "MemTotal:       24576000 kB\nMemFree:  100 kB\n"
			   "HugePages_Total:       3\nNode 0 Active(anon):  8 kB\n";
	const char *node = "Node 0 MemTotal:       1000 kB\nNode 0 Active(anon):  8 kB\n";
	uint64_t v;
	(void)state;

	assert_true(meminfo_value(text, "MemTotal", &v));
	assert_int_equal(v, 24576000ULL * 1024);
	assert_true(meminfo_value(text, "HugePages_Total", &v));
	assert_int_equal(v, 3);
	assert_true(meminfo_value(node, "Active(anon)", &v));
	assert_int_equal(v, 8192);
	assert_false(meminfo_value(text, "Mem", &v));
	assert_false(meminfo_value(text, "SwapTotal", &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_delta_count_duration),
		cmocka_unit_test(test_format_value),
		cmocka_unit_test(test_meminfo_value),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
