// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "elfsym.h"

static const char *const self = "/proc/self/exe";

__attribute__((noinline)) int elfsym_target(int x)
{
	return x * 3 + 1;
}

/* The offset is right when the file holds, there, the code the process runs. */
static void test_offset_is_the_code(void **state)
{
	const char *names[] = { "elfsym_target", "no_such_function_here" };
	unsigned char file[16];
	uint64_t off[2];
	FILE *f;
	(void)state;

	assert_int_equal(elf_func_offsets(self, names, 2, off), 1);
	assert_true(off[0] > 0);
	assert_int_equal(off[1], 0);
	f = fopen(self, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)off[0], SEEK_SET), 0);
	assert_int_equal(fread(file, 1, sizeof(file), f), sizeof(file));
	fclose(f);
	assert_memory_equal(file, (const void *)elfsym_target, sizeof(file));
}

static void test_not_elf(void **state)
{
	const char *names[] = { "malloc" };
	uint64_t off[1];
	(void)state;

	assert_int_equal(elf_func_offsets("tests/unit/data/kallsyms.sample", names, 1, off), -1);
	assert_int_equal(elf_func_offsets("/nonexistent/file", names, 1, off), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offset_is_the_code),
		cmocka_unit_test(test_not_elf),
	};

	return cmocka_run_group_tests_name("elfsym", tests, NULL, NULL);
}
