// SPDX-License-Identifier: GPL-2.0
/* Memory cgroup paths as the kernel prints them: relative to the hierarchy's root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "cgroups.h"

static void test_relative(void **state)
{
	char rel[64];
	(void)state;

	assert_true(memcg_relative("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/a/b", rel,
				   sizeof(rel)));
	assert_string_equal(rel, "/a/b");
	assert_true(memcg_relative("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory", rel,
				   sizeof(rel)));
	assert_string_equal(rel, "/");
	assert_true(memcg_relative("/sys/fs/cgroup/", "/sys/fs/cgroup/x/", rel, sizeof(rel)));
	assert_string_equal(rel, "/x");
	/* a sibling whose name starts like the root is not below it */
	assert_false(memcg_relative("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory2/a", rel,
				    sizeof(rel)));
	assert_false(memcg_relative("/sys/fs/cgroup/memory", "/tmp", rel, sizeof(rel)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative),
	};

	return cmocka_run_group_tests_name("cgroups", tests, NULL, NULL);
}
