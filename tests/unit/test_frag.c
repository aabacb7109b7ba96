// SPDX-License-Identifier: GPL-2.0
/* Fragmentation indices against values the kernel printed in debugfs extfrag/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "frag.h"

/* /proc/buddyinfo and extfrag/unusable_index of the same zones, read together on 6.18. */
static const uint64_t dma[11] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3 };
static const int dma_unusable[11] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 66, 200 };
static const uint64_t normal[11] = { 6125, 3453, 2155, 738, 564, 222, 85, 57, 33, 14, 4759 };
static const int normal_unusable[11] = { 0, 1, 2, 4, 5, 7, 8, 9, 11, 13, 14 };

static void test_unusable_index_matches_kernel(void **state)
{
	(void)state;
	for (int o = 0; o < 11; o++) {
		assert_int_equal(frag_unusable_index(dma, 11, o), dma_unusable[o]);
		assert_int_equal(frag_unusable_index(normal, 11, o), normal_unusable[o]);
	}
}

static void test_extfrag_index(void **state)
{
	static const uint64_t none[11] = { 0 };
	/* 64 free single pages, nothing larger: an order-2 request fails by fragmentation. */
	static const uint64_t frag[11] = { 64 };
	(void)state;

	assert_int_equal(frag_extfrag_index(normal, 11, 10), -1000); /* a block is free */
	assert_int_equal(frag_extfrag_index(none, 11, 3), 0);	     /* no free memory */
	assert_int_equal(frag_unusable_index(none, 11, 0), 1000);
	/* 1000 - (1000 + 64*1000/4) / 64 = 1000 - 265 */
	assert_int_equal(frag_extfrag_index(frag, 11, 2), 735);
	assert_int_equal(frag_unusable_index(frag, 11, 2), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unusable_index_matches_kernel),
		cmocka_unit_test(test_extfrag_index),
	};

	return cmocka_run_group_tests_name("frag", tests, NULL, NULL);
}
