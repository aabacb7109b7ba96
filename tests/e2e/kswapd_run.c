// SPDX-License-Identifier: GPL-2.0
/*
 * Runs reclaim's kswapd and shrink-inactive programs (raw_tp variants) with
 * BPF_PROG_TEST_RUN in the orders the kernel fires them, each call bracketed by the
 * boot clock, and prints what the maps then hold with the bounds each time must lie
 * in (LO HI, nanoseconds):
 *   period LO HI AWAKE WAKEUPS ROUNDS    node 0: a wake, two more rounds, a sleep
 *   current LO HI AWAKE WAKEUPS ROUNDS   node 0 woken again, read while awake
 *   resleep BEFORE AFTER                 node 0: a sleep, then one with no wake between
 *   start LO HI AWAKE WAKEUPS ROUNDS     node 1, awake at the start: a sleep first
 *   far NODE0 BEYOND LOST ROUNDS0        node 70: a shrink-inactive and a wake
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "reclaim.h"
#include "reclaim.skel.h"

static struct reclaim_bpf *s;

static unsigned long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* One run of p with these arguments; *lo and *hi bracket it on the boot clock. */
static int run(struct bpf_program *p, unsigned long long *lo, unsigned long long *hi,
	       int n, const unsigned long long *args)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = n * sizeof(*args));
	unsigned long long a = now();
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);

	if (lo)
		*lo = a;
	if (hi)
		*hi = now();
	return err;
}

static int wake(int nid, unsigned long long *lo, unsigned long long *hi)
{
	const unsigned long long args[3] = { nid, 2, 0 };

	return run(s->progs.rc_kswapd_wake_raw, lo, hi, 3, args);
}

static int sleep_ev(int nid, unsigned long long *lo, unsigned long long *hi)
{
	const unsigned long long args[1] = { nid };

	return run(s->progs.rc_kswapd_sleep_raw, lo, hi, 1, args);
}

/* kswapd's entry of nid, its awake time read now (as the collector reads it). */
static struct rc_kswapd entry(int nid, unsigned long long *awake)
{
	struct rc_kswapd k = { 0 };
	__u32 key = nid;

	bpf_map_lookup_elem(bpf_map__fd(s->maps.kswapd), &key, &k);
	*awake = rc_kswapd_awake_ns(k.awake_state, now());
	return k;
}

/* Pages scanned in a per-node slot, every reclaimer and CPU. */
static unsigned long long scanned(__u32 slot)
{
	int ncpus = libbpf_num_possible_cpus();
	struct rc_stats v[ncpus];
	unsigned long long sum = 0;

	for (__u32 k = 0; k < RC_NR_KIND; k++) {
		__u32 key = slot * RC_NR_KIND + k;

		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.stats), &key, v))
			continue;
		for (int c = 0; c < ncpus; c++)
			sum += v[c].scanned;
	}
	return sum;
}

int main(void)
{
	const char *keep[] = { "rc_kswapd_wake_raw", "rc_kswapd_sleep_raw",
			       "rc_shrink_inactive_raw" };
	unsigned long long w0, w1, x0, x1, aw, before, start;
	struct bpf_program *p;
	struct rc_kswapd k;
	int err = 0;

	s = reclaim_bpf__open();
	if (!s)
		return 2;
	bpf_object__for_each_program(p, s->obj) {
		bool on = false;

		for (size_t i = 0; i < 3; i++)
			on |= !strcmp(bpf_program__name(p), keep[i]);
		bpf_program__set_autoload(p, on);
	}
	if (reclaim_bpf__load(s))
		return 2;
	start = now();
	s->bss->start_ns = start;

	/* a storm: one wake-up, three rounds, one full sleep */
	err |= wake(0, &w0, &w1);
	usleep(10000);
	err |= wake(0, NULL, NULL);
	usleep(10000);
	err |= wake(0, NULL, NULL);
	usleep(10000);
	err |= sleep_ev(0, &x0, &x1);
	k = entry(0, &aw);
	printf("period %llu %llu %llu %llu %llu\n", x0 - w1, x1 - w0, aw,
	       (unsigned long long)k.wakeups, (unsigned long long)k.rounds);

	/* woken again: the time counts while it lasts */
	before = aw;
	err |= wake(0, &w0, &w1);
	usleep(20000);
	x0 = now();
	k = entry(0, &aw);
	x1 = now();
	printf("current %llu %llu %llu %llu %llu\n", before + x0 - w1, before + x1 - w0, aw,
	       (unsigned long long)k.wakeups, (unsigned long long)k.rounds);

	/* a sleep, then one more without a wake (after the freezer): nothing more awake */
	err |= sleep_ev(0, NULL, NULL);
	entry(0, &before);
	usleep(10000);
	err |= sleep_ev(0, NULL, NULL);
	entry(0, &aw);
	printf("resleep %llu %llu\n", before, aw);

	/* node 1's first event is a sleep: it was awake since the start */
	usleep(10000);
	err |= sleep_ev(1, &x0, &x1);
	k = entry(1, &aw);
	printf("start %llu %llu %llu %llu %llu\n", x0 - start, x1 - start, aw,
	       (unsigned long long)k.wakeups, (unsigned long long)k.rounds);

	/* node 70, past the tables: counted apart, node 0 untouched */
	{
		const unsigned long long shrink[6] = { 70, 100, 40, 0, 12, 1 };

		err |= run(s->progs.rc_shrink_inactive_raw, NULL, NULL, 6, shrink);
		err |= wake(70, NULL, NULL);
		k = entry(0, &aw);
		printf("far %llu %llu %llu %llu\n", scanned(0), scanned(RC_MAX_NODES),
		       (unsigned long long)s->bss->nr_node_beyond,
		       (unsigned long long)k.rounds);
	}
	reclaim_bpf__destroy(s);
	return err ? 2 : 0;
}
