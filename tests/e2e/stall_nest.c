// SPDX-License-Identifier: GPL-2.0
/*
 * Runs reclaim's own stall programs (raw_tp variants) with BPF_PROG_TEST_RUN in the
 * order the kernel nests them: memcg soft-limit reclaim inside direct reclaim. Both
 * stalls must be counted, each as its own kind. Prints "direct N R memcg N R".
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "reclaim.h"
#include "reclaim.skel.h"

static int run(struct bpf_program *p, unsigned long long a0, unsigned long long a1)
{
	unsigned long long args[2] = { a0, a1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args));

	return bpf_prog_test_run_opts(bpf_program__fd(p), &o);
}

static void stall(struct reclaim_bpf *s, __u32 kind, __u64 out[2])
{
	int n = libbpf_num_possible_cpus();
	struct rc_stall_stats v[n];

	out[0] = out[1] = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.stalls), &kind, v))
		return;
	for (int c = 0; c < n; c++) {
		out[0] += v[c].count;
		out[1] += v[c].reclaimed;
	}
}

int main(void)
{
	struct reclaim_bpf *s = reclaim_bpf__open();
	const char *keep[] = { "rc_direct_reclaim_begin_raw", "rc_direct_reclaim_end_raw",
			       "rc_memcg_softlimit_reclaim_begin_raw",
			       "rc_memcg_softlimit_reclaim_end_raw" };
	struct bpf_program *p;
	__u64 d[2], m[2];
	int err = 0;

	if (!s)
		return 2;
	bpf_object__for_each_program(p, s->obj) {
		bool k = false;

		for (size_t i = 0; i < 4; i++)
			k |= !strcmp(bpf_program__name(p), keep[i]);
		bpf_program__set_autoload(p, k);
	}
	if (reclaim_bpf__load(s))
		return 2;
	err |= run(s->progs.rc_direct_reclaim_begin_raw, 0, 0xcc0);
	err |= run(s->progs.rc_memcg_softlimit_reclaim_begin_raw, 0, 0xcc0);
	usleep(1000);
	err |= run(s->progs.rc_memcg_softlimit_reclaim_end_raw, 5, 0);
	err |= run(s->progs.rc_direct_reclaim_end_raw, 7, 0);
	if (err)
		return 2;
	stall(s, RC_DIRECT, d);
	stall(s, RC_MEMCG, m);
	printf("direct %llu %llu memcg %llu %llu\n", (unsigned long long)d[0],
	       (unsigned long long)d[1], (unsigned long long)m[0], (unsigned long long)m[1]);
	reclaim_bpf__destroy(s);
	return 0;
}
