// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroups.h"
#include "counters.h"
#include "iter.h"
#include "kbtf.h"
#include "kills.h"
#include "loss.h"
#include "runtime.h"
#include "oom.skel.h"

/*
 * mark_victim(task, uid) since 2024 (and Debian's 6.1 by backport), mark_victim(pid)
 * before: the first line is one of these two, chosen from the kernel's BTF.
 */
#define VICTIM(shape)                                                                      \
	{ "oom:mark_victim", false,                                                        \
	  { { HK_TP_BTF, "oom_victim_" shape "_btf" }, { HK_RAW_TP, "oom_victim_" shape "_raw" }, \
	    { HK_TRACEPOINT, "oom_victim_tp" } } }
static const struct hook_spec victim_task = VICTIM("task"), victim_pid = VICTIM("pid");

const struct hook_spec kills_hooks[KILLS_NR_HOOKS] = {
	VICTIM("task"),
	HOOK_TP("oom:wake_reaper", "oom_wake_reaper", true),
	HOOK_TP("oom:start_task_reaping", "oom_start_task_reaping", true),
	HOOK_TP("oom:finish_task_reaping", "oom_finish_task_reaping", true),
	HOOK_TP("oom:skip_task_reaping", "oom_skip_task_reaping", true),
	HOOK_TP("oom:oom_score_adj_update", "oom_adj", true),
	HOOK_FN("oom_kill_process", "oom_control", true),
};

struct kills {
	struct oom_bpf *skel;
	const char *control_hook;
	struct ring_buffer *rb; /* kills_victims only */
	struct oom_victim v[32];
	int nv;
};

static void ignore_rec(const void *rec, void *ctx)
{
	(void)rec;
	(void)ctx;
}

static void set_rodata(struct oom_bpf *skel, const struct kills_want *w)
{
	int idx[4];

	if (kbtf_mm_counter_indices(&idx[0], &idx[1], &idx[2], &idx[3]))
		ms_fatal("cannot find MM_ANONPAGES and friends in the kernel's BTF");
	skel->rodata->mm_idx_file = idx[0];
	skel->rodata->mm_idx_anon = idx[1];
	skel->rodata->mm_idx_shmem = idx[2];
	skel->rodata->mm_idx_swap = idx[3];
	skel->rodata->nr_cpus = libbpf_num_possible_cpus();
	skel->rodata->want_stack = w->stack;
	skel->rodata->want_node = w->node;
	skel->rodata->want_adj = w->adj;
	skel->rodata->page_kb = ms_page_size() / 1024;
}

struct kills *kills_open(const struct kills_want *w)
{
	struct hook_spec hooks[KILLS_NR_HOOKS];
	struct kills *k = calloc(1, sizeof(*k));
	int chosen[KILLS_NR_HOOKS], err;
	char why[256];

	if (!k)
		ms_fatal("out of memory");
	ms_require_bpf();
	/* Before 2024 mark_victim gave only the pid: use the programs for that shape. */
	memcpy(hooks, kills_hooks, sizeof(hooks));
	hooks[hook_index(hooks, KILLS_NR_HOOKS, "oom:mark_victim")] =
		kbtf_tp_arg_is_ptr("mark_victim", 0) == 0 ? victim_pid : victim_task;
	k->skel = oom_bpf__open_opts(ms_bpf_open_opts());
	if (!k->skel)
		ms_bpf_fail("opening oom's BPF object", errno);
	ms_test_map_sizes(k->skel->obj);
	set_rodata(k->skel, w);
	/* The other shape's programs are not ours to load. */
	bpf_program__set_autoload(k->skel->progs.oom_victim_task_btf, false);
	bpf_program__set_autoload(k->skel->progs.oom_victim_task_raw, false);
	bpf_program__set_autoload(k->skel->progs.oom_victim_pid_btf, false);
	bpf_program__set_autoload(k->skel->progs.oom_victim_pid_raw, false);
	if (hooks_select(k->skel->obj, hooks, KILLS_NR_HOOKS, chosen, why, sizeof(why)))
		ms_fatal("%s", why);
	err = oom_bpf__load(k->skel);
	if (err)
		ms_bpf_fail("loading oom's BPF programs", err);
	k->control_hook = hook_chosen_kind(hooks, KILLS_NR_HOOKS, chosen, "oom_kill_process");
	if (w->node) { /* one pass remembers each node's pglist_data */
		struct bpf_link *iter = bpf_program__attach_iter(k->skel->progs.oom_nodes, NULL);

		if (!iter)
			ms_bpf_fail("attaching the node iterator", errno);
		ms_iter_read(iter, 1, ignore_rec, NULL);
		bpf_link__destroy(iter);
	}
	err = oom_bpf__attach(k->skel);
	if (err)
		ms_bpf_fail("attaching oom's BPF programs", err);
	return k;
}

int kills_events_fd(struct kills *k)
{
	return bpf_map__fd(k->skel->maps.events);
}

const char *kills_control_hook(const struct kills *k)
{
	return k->control_hook;
}

const volatile unsigned long long *kills_lost(struct kills *k)
{
	return &k->skel->bss->nr_lost;
}

static int add_victim(void *ctx, void *data, size_t len)
{
	struct kills *k = ctx;
	const struct oom_event *e = data;
	struct oom_victim *v;
	char path[256];

	if (len < sizeof(*e) || e->kind != OOM_EV_KILL || k->nv == 32)
		return 0;
	v = &k->v[k->nv++];
	memset(v, 0, sizeof(*v));
	v->pid = e->pid;
	snprintf(v->comm, sizeof(v->comm), "%.16s", e->has_task ? e->comm : "?");
	v->has_sizes = e->has_task; /* a pid-only mark_victim gives no sizes */
	v->rss_anon_bytes = e->has_task ? counter_nonneg(e->anon) * ms_page_size() : 0;
	if (e->has_memcg && memcg_path_by_id(e->memcg_id, path, sizeof(path)))
		snprintf(v->memcg, sizeof(v->memcg), "%s", path);
	return 0;
}

int kills_victims(struct kills *k, struct oom_victim *out, int max)
{
	if (!k->rb) {
		k->rb = ring_buffer__new(kills_events_fd(k), add_victim, k, NULL);
		if (!k->rb)
			ms_bpf_fail("creating the event ring buffer", errno);
	}
	ring_buffer__consume(k->rb);
	if (max > k->nv)
		max = k->nv;
	memcpy(out, k->v, max * sizeof(*out));
	return max;
}

void kills_close(struct kills *k)
{
	if (!k)
		return;
	ring_buffer__free(k->rb);
	oom_bpf__destroy(k->skel);
	free(k);
}
