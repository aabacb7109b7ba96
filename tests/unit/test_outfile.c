// SPDX-License-Identifier: GPL-2.0
/* A page that does not fit: the reason given is the write's own, whatever its size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "outfile.h"

/*
 * /dev/full takes no byte (ENOSPC). Whether stdio's last call still holds that errno
 * depends on where the page's size leaves its buffer: each size must say ENOSPC.
 */
static void test_a_full_device_says_no_space(void **state)
{
	static const size_t sizes[] = { 1, 100, 4095, 4096, 4097, 5000, 8193, 70000 };
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct outfile o;

		assert_true(outfile_open(&o, "/dev/full", err, sizeof(err)));
		for (size_t n = 0; n < sizes[i]; n++)
			fputc('x', o.f);
		fprintf(o.f, "%s", "</html>\n");
		assert_false(outfile_close(&o, err, sizeof(err)));
		assert_string_equal(err, "cannot write /dev/full: No space left on device");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_full_device_says_no_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
