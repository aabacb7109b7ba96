// SPDX-License-Identifier: GPL-2.0
/* What a cgroup path says it is, and memory.stat's "key value" lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "memcgs.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "6f5b7c2a-1d3e-4f50-9a8b-7c6d5e4f3a2b"
#define UID_ "6f5b7c2a_1d3e_4f50_9a8b_7c6d5e4f3a2b"

static void check(const char *path, const char *container, const char *pod, const char *qos)
{
	struct memcg_row r;

	memset(&r, 0x55, sizeof(r)); /* every field set: memcg_names must clear what it leaves */
	memcg_names(path, &r);
	assert_string_equal(r.container, container);
	assert_string_equal(r.pod_uid, pod);
	assert_string_equal(r.qos_class, qos);
}

static void test_names(void **state)
{
	(void)state;
	check("/", "", "", "");
	check("/memscope-test", "", "", "");
	check("/system.slice/nginx.service", "nginx.service", "", "");
	check("/user.slice/user-0.slice/session-3.scope", "session-3.scope", "", "");
	check("/docker/" ID64, "docker 0123456789ab", "", "");
	check("/system.slice/docker-" ID64 ".scope", "docker 0123456789ab", "", "");
	check("/kubepods/burstable/pod" UID "/" ID64,
	      "k8s pod " UID ", container 0123456789ab", UID, "burstable");
	check("/kubepods/pod" UID, "k8s pod " UID, UID, "guaranteed");
	check("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	      ".slice/cri-containerd-" ID64 ".scope",
	      "k8s pod " UID ", containerd 0123456789ab", UID, "besteffort");
	check("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID64 ".scope",
	      "k8s pod " UID ", cri-o 0123456789ab", UID, "guaranteed");
	/* 63 hex digits is no container id */
	check("/docker/" "123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "", "",
	      "");
}

static void test_kv(void **state)
{
	const char *stat = "cache 4096\nrss 8192\ntotal_rss 12288\nrss_huge 0\n";
	uint64_t v = 7;
	(void)state;

	assert_true(memcg_kv(stat, "rss", &v));
	assert_int_equal(v, 8192);
	assert_true(memcg_kv(stat, "total_rss", &v));
	assert_int_equal(v, 12288);
	assert_true(memcg_kv(stat, "cache", &v));
	assert_int_equal(v, 4096);
	assert_false(memcg_kv(stat, "rs", &v));
	assert_false(memcg_kv(stat, "swap", &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_kv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
