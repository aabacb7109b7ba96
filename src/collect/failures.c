// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "failures.h"
#include "iter.h"
#include "loss.h"
#include "runtime.h"
#include "paf.skel.h"

const struct hook_spec failures_hooks[FAILURES_NR_HOOKS] = {
	HOOK_TP("kmem:mm_page_alloc", "paf_alloc", false),
	HOOK_TP("vmscan:mm_vmscan_direct_reclaim_begin", "paf_reclaim_begin", true),
	HOOK_TP("vmscan:mm_vmscan_direct_reclaim_end", "paf_reclaim_end", true),
	HOOK_TP("oom:reclaim_retry_zone", "paf_retry_zone", true),
	HOOK_TP("oom:compact_retry", "paf_compact_retry", true),
	HOOK_TP("compaction:mm_compaction_try_to_compact_pages", "paf_compact_try", true),
};

struct failures {
	struct paf_bpf *skel;
};

static void ignore_rec(const void *rec, void *ctx)
{
	(void)rec;
	(void)ctx;
}

/* One pass of the node iterator remembers each node's pglist_data for the events. */
static void find_nodes(struct paf_bpf *skel, bool events)
{
	struct bpf_link *iter = bpf_program__attach_iter(skel->progs.paf_nodes, NULL);

	if (!iter)
		ms_bpf_fail("attaching the node iterator", errno);
	ms_iter_read(iter, 1, ignore_rec, NULL);
	bpf_link__destroy(iter);
	if (events && !skel->bss->nodes_found)
		ms_warn("found no memory node: failures will have no zone state");
}

struct failures *failures_open(const struct ms_filter *f, const struct failures_want *w)
{
	struct failures *fl = calloc(1, sizeof(*fl));
	int chosen[FAILURES_NR_HOOKS], err;
	struct paf_bpf *skel;
	char why[256];

	if (!fl)
		ms_fatal("out of memory");
	ms_require_bpf();
	skel = paf_bpf__open_opts(ms_bpf_open_opts());
	if (!skel)
		ms_bpf_fail("opening paf's BPF object", errno);
	ms_test_map_sizes(skel->obj);
	skel->rodata->want_events = w->events;
	skel->rodata->want_stack = w->stack;
	skel->rodata->order_eq = w->order_eq;
	skel->rodata->order_min = w->order_min;
	MS_SET_FILTERS(skel, f);
	if (hooks_select(skel->obj, failures_hooks, FAILURES_NR_HOOKS, chosen, why, sizeof(why)))
		ms_fatal("%s", why);
	err = paf_bpf__load(skel);
	if (err)
		ms_bpf_fail("loading paf's BPF programs", err);
	ms_pid_filter_fill(bpf_map__fd(skel->maps.pid_filter), f);
	find_nodes(skel, w->events);
	err = paf_bpf__attach(skel);
	if (err)
		ms_bpf_fail("attaching paf's BPF programs", err);
	fl->skel = skel;
	return fl;
}

int failures_events_fd(struct failures *fl)
{
	return bpf_map__fd(fl->skel->maps.events);
}

void failures_each_count(struct failures *fl, bool take,
			 void (*cb)(const struct paf_key *k, __u64 n, void *ctx), void *ctx)
{
	int fd = bpf_map__fd(fl->skel->maps.fail_counts);
	struct paf_key key, next;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		__u64 n;

		first = false;
		key = next;
		if (take ? bpf_map_lookup_and_delete_elem(fd, &key, &n)
			 : bpf_map_lookup_elem(fd, &key, &n))
			continue;
		if (take)
			first = true; /* the key is gone: start over from the beginning */
		cb(&key, n, ctx);
	}
}

static void worst(const struct paf_key *k, __u64 n, void *ctx)
{
	struct failures_totals *t = ctx;

	if (n && (int)k->order > t->worst_order) {
		t->worst_order = k->order;
		snprintf(t->worst_comm, sizeof(t->worst_comm), "%.16s", k->comm);
	}
}

void failures_totals(struct failures *fl, struct failures_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->failures = fl->skel->bss->nr_failures;
	t->lost = fl->skel->bss->nr_lost;
	t->filtered = fl->skel->bss->nr_filtered;
	t->worst_order = -1;
	failures_each_count(fl, false, worst, t);
}

void failures_close(struct failures *fl)
{
	if (!fl)
		return;
	paf_bpf__destroy(fl->skel);
	free(fl);
}
