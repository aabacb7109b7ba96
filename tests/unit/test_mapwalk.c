// SPDX-License-Identifier: GPL-2.0
/*
 * A walk of a BPF hash map while entries go (a traced process freeing): each entry is
 * read once, never again after the walk moved on. Needs a BPF map: skipped without
 * the privilege to make one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include "mapwalk.h"

#define ENTRIES 4096

struct walk {
	int fd;
	int seen[ENTRIES];
	int calls;
};

static int filled_map(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "mapwalk_test", sizeof(uint32_t),
				sizeof(uint64_t), ENTRIES, NULL);

	if (fd < 0)
		return fd;
	for (uint32_t k = 0; k < ENTRIES; k++) {
		uint64_t v = 1000 + k;

		assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST), 0);
	}
	return fd;
}

/* Each entry read is checked; every other one is then freed, as a process would. */
static void read_then_free_half(const void *key, const void *value, void *ctx)
{
	uint32_t k = *(const uint32_t *)key;
	struct walk *w = ctx;

	assert_true(k < ENTRIES);
	assert_int_equal(*(const uint64_t *)value, 1000 + k);
	w->seen[k]++;
	w->calls++;
	if (k % 2)
		bpf_map_delete_elem(w->fd, &k);
}

static void count(const void *key, const void *value, void *ctx)
{
	struct walk *w = ctx;

	(void)value;
	w->seen[*(const uint32_t *)key]++;
	w->calls++;
}

static void test_entries_freed_during_the_walk_do_not_restart_it(void **state)
{
	static struct walk w;
	(void)state;

	if ((w.fd = filled_map()) < 0)
		skip();
	ms_map_each(w.fd, sizeof(uint32_t), sizeof(uint64_t), false, read_then_free_half, &w);
	/* key by key, each free sent the walk back to the first bucket: the kept ones twice */
	for (uint32_t k = 0; k < ENTRIES; k++)
		assert_int_equal(w.seen[k], 1);
	assert_int_equal(w.calls, ENTRIES);
	close(w.fd);
}

static void test_take_reads_and_empties(void **state)
{
	static struct walk w;
	uint32_t k;
	(void)state;

	if ((w.fd = filled_map()) < 0)
		skip();
	ms_map_each(w.fd, sizeof(uint32_t), sizeof(uint64_t), true, count, &w);
	for (k = 0; k < ENTRIES; k++)
		assert_int_equal(w.seen[k], 1);
	assert_int_equal(bpf_map_get_next_key(w.fd, NULL, &k), -ENOENT);
	close(w.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_freed_during_the_walk_do_not_restart_it),
		cmocka_unit_test(test_take_reads_and_empties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
