// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
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
#include "ksyms.h"
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
	    { HK_TRACEPOINT, "oom_victim_tp" } }, NULL }
static const struct hook_spec victim_task = VICTIM("task"), victim_pid = VICTIM("pid");

const struct hook_spec kills_hooks[KILLS_NR_HOOKS] = {
	VICTIM("task"),
	HOOK_TP("oom:wake_reaper", "oom_wake_reaper", true),
	HOOK_TP("oom:start_task_reaping", "oom_start_task_reaping", true),
	HOOK_TP("oom:finish_task_reaping", "oom_finish_task_reaping", true),
	HOOK_TP("oom:skip_task_reaping", "oom_skip_task_reaping", true),
	HOOK_TP("oom:oom_score_adj_update", "oom_adj", true),
	HOOK_FN_OPT("oom_kill_process", "oom_control",
		    "the constraint is derived from the memory cgroup's usage, not read from "
		    "the kernel's own struct oom_control"),
};

struct kills {
	struct oom_bpf *skel;
	const char *control_hook;
	bool victim_memcg; /* each kill names its victim's memory cgroup */
	struct ring_buffer *rb; /* kills_victims only */
	struct oom_victim v[32];
	int nv;
};

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

/*
 * The classic record has no task: where a classic program may look the victim up by
 * pid, the program that does (oom_victim_found_tp) stands in for the plain one. Asked
 * before hooks_select, which frees the kernel's BTF the probe needs.
 */
static bool classic_finds_victim(const struct hook_spec *mark_victim)
{
	int v = hook_spec_choice(mark_victim);

	return v != HOOK_NONE && mark_victim->v[v].kind == HK_TRACEPOINT &&
	       tracepoint_finds_tasks();
}

/* oom_constraint's names, copied at open: explaining a kill never parses the BTF. */
static struct kbtf_enum constraint_names;

struct kills *kills_open(const struct kills_want *w)
{
	struct hook_spec hooks[KILLS_NR_HOOKS];
	struct kills *k = calloc(1, sizeof(*k));
	int chosen[KILLS_NR_HOOKS], err, mv;
	bool task_shape, found;
	char why[256];

	if (!k)
		ms_fatal("out of memory");
	ms_require_bpf();
	/* Before 2024 mark_victim gave only the pid: use the programs for that shape. */
	memcpy(hooks, kills_hooks, sizeof(hooks));
	mv = hook_index(hooks, KILLS_NR_HOOKS, "oom:mark_victim");
	task_shape = kbtf_tp_arg_is_ptr("mark_victim", 0) != 0;
	hooks[mv] = task_shape ? victim_task : victim_pid;
	if (!constraint_names.n)
		kbtf_enum_copy("oom_constraint", "CONSTRAINT_", &constraint_names);
	k->skel = oom_bpf__open_opts(ms_bpf_open_opts());
	if (!k->skel)
		ms_bpf_fail("opening oom's BPF object", errno);
	ms_test_map_sizes(k->skel->obj);
	if (w->ring_bytes)
		bpf_map__set_max_entries(k->skel->maps.events, w->ring_bytes);
	set_rodata(k->skel, w);
	/* The other shape's programs are not ours to load. */
	bpf_program__set_autoload(k->skel->progs.oom_victim_task_btf, false);
	bpf_program__set_autoload(k->skel->progs.oom_victim_task_raw, false);
	bpf_program__set_autoload(k->skel->progs.oom_victim_pid_btf, false);
	bpf_program__set_autoload(k->skel->progs.oom_victim_pid_raw, false);
	found = classic_finds_victim(&hooks[mv]);
	if (hooks_select(k->skel->obj, hooks, KILLS_NR_HOOKS, chosen, why, sizeof(why)))
		ms_fatal("%s", why);
	bpf_program__set_autoload(k->skel->progs.oom_victim_found_tp, found);
	if (found)
		bpf_program__set_autoload(k->skel->progs.oom_victim_tp, false);
	/* the victim's memory cgroup: tp_btf's and raw_tp's task shape, or that lookup;
	 * the pid shape and the plain record give the trigger's only */
	k->victim_memcg = found || (task_shape && hooks[mv].v[chosen[mv]].kind != HK_TRACEPOINT);
	err = oom_bpf__load(k->skel);
	if (err)
		ms_bpf_fail("loading oom's BPF programs", err);
	k->control_hook = hook_chosen_kind(hooks, KILLS_NR_HOOKS, chosen, "oom_kill_process");
	if (w->node) /* one pass remembers each node's pglist_data */
		ms_iter_run_once(k->skel->progs.oom_nodes);
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

bool kills_victim_memcg(const struct kills *k)
{
	return k->victim_memcg;
}

bool kill_victim_memcg_id(const struct oom_event *e, uint64_t *id)
{
	*id = e->memcg_id;
	return e->kind == OOM_EV_KILL && e->has_memcg && !e->memcg_of_trigger;
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

/*
 * "At its limit" without struct oom_control: the charge that failed was at most a
 * charge batch (MEMCG_CHARGE_BATCH, 64 pages) plus the allocation itself, so usage
 * within this many pages of the limit means the limit was hit.
 */
#define AT_LIMIT_MARGIN_PAGES 256

void kill_explain(const struct oom_event *e, const struct oom_event *control, const char *hook,
		  struct kill_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (e->has_memcg && memcg_path_by_id(e->memcg_id, v->path_buf, sizeof(v->path_buf)))
		v->path = v->path_buf;
	/* page_counter.max of a cgroup without a limit is PAGE_COUNTER_MAX, LONG_MAX / PAGE_SIZE */
	v->limited = e->has_memcg && e->memcg_max < (unsigned long long)LONG_MAX / ms_page_size();
	v->at_limit = v->limited && e->memcg_usage + AT_LIMIT_MARGIN_PAGES >= e->memcg_max;
	v->constraint = v->at_limit ? "memcg" : NULL;
	/* struct oom_control (the kernel's own constraint) needs a hook on oom_kill_process. */
	if (control) {
		kbtf_enum_text(&constraint_names, control->constraint, v->cname, sizeof(v->cname));
		v->constraint = !strcmp(v->cname, "none") ? "global" : v->cname;
		snprintf(v->why, sizeof(v->why), "oom_control (%s on oom_kill_process)",
			 hook);
	} else if (v->at_limit) {
		snprintf(v->why, sizeof(v->why), "derived: the %s memory cgroup was at its limit",
			 e->memcg_of_trigger ? "invoking task's" : "victim's");
	} else {
		snprintf(v->why, sizeof(v->why), "unavailable on this kernel (no function hook on "
			 "oom_kill_process)%s", e->has_memcg ? "; the memory cgroup was not at a "
			 "limit, so global, cpuset or mempolicy" : "");
	}
}

/*
 * Keep a control event. The ones already taken make room first; when the buffer is
 * still full the oldest goes (its kill, if it ever comes, has no oom_control), never
 * every pending one.
 */
static void keep_control(struct kill_controls *c, const struct oom_event *e)
{
	const int max = (int)(sizeof(c->ev) / sizeof(c->ev[0]));
	int n = 0;

	for (int i = 0; i < c->n; i++)
		if (c->ev[i].pid && n++ != i)
			c->ev[n - 1] = c->ev[i];
	c->n = n;
	if (c->n == max) {
		memmove(&c->ev[0], &c->ev[1], (max - 1) * sizeof(c->ev[0]));
		c->n--;
	}
	c->ev[c->n++] = *e;
}

bool kill_controls_take(struct kill_controls *c, const struct oom_event *e,
			const struct oom_event **control)
{
	*control = NULL;
	if (e->kind == OOM_EV_CONTROL) {
		keep_control(c, e);
		return false;
	}
	if (e->kind != OOM_EV_KILL)
		return false;
	for (int i = c->n - 1; i >= 0 && !*control; i--)
		if (c->ev[i].pid == e->pid) {
			c->taken = c->ev[i];
			c->ev[i].pid = 0;
			*control = &c->taken;
		}
	return true;
}

/* ---- the "oom" record ---- */

void oom_victim_row_of(const struct oom_event *e, struct oom_victim_row *v)
{
	static const char *const sizes[] = { "comm", "uid", "oom_score_adj", "vsz_bytes",
					     "rss_anon_bytes", "rss_file_bytes", "rss_shmem_bytes",
					     "swap_bytes", "page_tables_bytes" };
	uint64_t page = ms_page_size();

	memset(v, 0, sizeof(*v));
	v->pid = e->pid;
	if (!e->has_task) { /* a pid-only mark_victim */
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			record_null(&oom_victim_desc, v, sizes[i]);
		return;
	}
	memcpy(v->comm, e->comm, sizeof(v->comm));
	v->uid = e->uid;
	v->oom_score_adj = e->oom_score_adj;
	v->vsz_bytes = e->total_vm * page;
	v->rss_anon_bytes = counter_nonneg(e->anon) * page;
	v->rss_file_bytes = counter_nonneg(e->file) * page;
	v->rss_shmem_bytes = counter_nonneg(e->shmem) * page;
	v->swap_bytes = counter_nonneg(e->swap) * page;
	if (e->from_record) /* the classic record has no swap figure */
		record_null(&oom_victim_desc, v, "swap_bytes");
	v->page_tables_bytes = e->pgtables_bytes;
	v->exact = e->exact;
}

/* The memory cgroup's path as the kernel prints it ("/a/b"), or NULL. */
static const char *memcg_path(uint64_t id)
{
	static char path[256];

	return memcg_path_by_id(id, path, sizeof(path)) ? path : NULL;
}

static void trigger_row_of(const struct oom_event *e, struct ksyms *ks, struct oom_trigger_row *t)
{
	int n = e->stack_bytes > 0 ? e->stack_bytes / 8 : 0;

	memset(t, 0, sizeof(*t));
	t->pid = e->trigger_pid;
	t->tid = e->trigger_tid;
	memcpy(t->comm, e->trigger_comm, sizeof(t->comm));
	if (!ks) {
		record_null(&oom_trigger_desc, t, "stack");
		return;
	}
	if (n > OOM_MAX_STACK)
		n = OOM_MAX_STACK;
	for (int i = ksyms_stack_start(ks, (const uint64_t *)e->stack, n); i < n; i++)
		ksyms_format(ks, e->stack[i], t->stack[t->nr_stack++], sizeof(t->stack[0]));
}

static void memcg_row_of(const struct oom_event *e, const struct kill_verdict *v,
			 struct oom_memcg_row *m)
{
	memset(m, 0, sizeof(*m));
	if (v->path)
		snprintf(m->path, sizeof(m->path), "%s", v->path);
	else
		record_null(&oom_memcg_desc, m, "path");
	/* whose cgroup: the victim's, or (without the victim's task) the trigger's */
	snprintf(m->of, sizeof(m->of), "%s", e->memcg_of_trigger ? "trigger" : "victim");
	m->id = e->memcg_id;
	m->usage_bytes = e->memcg_usage * ms_page_size();
	m->limit_bytes = e->memcg_max * ms_page_size();
	if (!v->limited)
		record_null(&oom_memcg_desc, m, "limit_bytes");
	m->at_limit = v->at_limit;
}

static void control_row_of(const struct oom_event *c, struct oom_control_row *oc)
{
	const char *op = c->has_memcg ? memcg_path(c->memcg_id) : NULL;

	memset(oc, 0, sizeof(*oc));
	/* the memory cgroup whose limit was hit: the victim's or an ancestor */
	if (op)
		snprintf(oc->memcg, sizeof(oc->memcg), "%s", op);
	else
		record_null(&oom_control_desc, oc, "memcg");
	oc->order = c->oc_order;
	oc->gfp = c->oc_gfp;
	oc->total_pages = c->totalpages;
	oc->chosen_points = c->chosen_points;
}

void kill_row_of_events(const struct oom_event *e, const struct oom_event *control,
			const struct kill_verdict *v, struct ksyms *ks, struct oom_row *r)
{
	memset(r, 0, sizeof(*r));
	oom_victim_row_of(e, &r->victim);
	trigger_row_of(e, ks, &r->trigger);
	if (v->constraint)
		snprintf(r->constraint, sizeof(r->constraint), "%s", v->constraint);
	else
		record_null(&oom_desc, r, "constraint");
	snprintf(r->constraint_source, sizeof(r->constraint_source), "%s", v->why);
	if (e->has_memcg)
		memcg_row_of(e, v, &r->memcg);
	else
		record_null(&oom_desc, r, "memcg");
	if (control)
		control_row_of(control, &r->oom_control);
	else
		record_null(&oom_desc, r, "oom_control");
}

#define V(m, key, ft, unit, flags, help) FLD(struct oom_victim_row, m, key, NULL, ft, unit, \
					      FK_GAUGE, flags, help)
static const struct field victim_fields[] = {
	V(pid, "pid", FT_U32, FU_NONE, 0, "the victim's process id"),
	V(comm, "comm", FT_STR, FU_NONE, FF_NULL, "its command name; null: only the pid is known"),
	V(uid, "uid", FT_U32, FU_NONE, FF_NULL, "its user id"),
	V(oom_score_adj, "oom_score_adj", FT_S32, FU_NONE, FF_NULL, "its oom_score_adj"),
	V(vsz_bytes, "vsz_bytes", FT_U64, FU_BYTES, FF_NULL, "virtual size at the kill"),
	V(rss_anon_bytes, "rss_anon_bytes", FT_U64, FU_BYTES, FF_NULL, "resident anonymous memory"),
	V(rss_file_bytes, "rss_file_bytes", FT_U64, FU_BYTES, FF_NULL, "resident file memory"),
	V(rss_shmem_bytes, "rss_shmem_bytes", FT_U64, FU_BYTES, FF_NULL, "resident shared memory"),
	V(swap_bytes, "swap_bytes", FT_U64, FU_BYTES, FF_NULL,
	  "swapped out; null also where the kernel's record has no such figure"),
	V(page_tables_bytes, "page_tables_bytes", FT_U64, FU_BYTES, FF_NULL, "page tables"),
	V(exact, "exact", FT_BOOL, FU_NONE, 0, "RSS read with its per-CPU parts"),
};
#undef V
const struct record_desc oom_victim_desc =
	RECORD_DESC("oom.victim", "the killed process, read from its mm at the kill", victim_fields,
		    struct oom_victim_row);

static const struct field trigger_fields[] = {
	FLD(struct oom_trigger_row, pid, "pid", NULL, FT_U32, FU_NONE, FK_LABEL, 0,
	    "the process that invoked the OOM killer"),
	FLD(struct oom_trigger_row, tid, "tid", NULL, FT_U32, FU_NONE, FK_LABEL, 0, "its thread"),
	FLD(struct oom_trigger_row, comm, "comm", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "its command name"),
	FLD_STRS(struct oom_trigger_row, stack, nr_stack, "stack", FF_NULL,
		 "its kernel stack (oom --stack); null without --stack"),
};
const struct record_desc oom_trigger_desc =
	RECORD_DESC("oom.trigger", "the task that ran the OOM killer", trigger_fields,
		    struct oom_trigger_row);

static const struct field memcg_fields[] = {
	FLD(struct oom_memcg_row, path, "path", NULL, FT_STR, FU_NONE, FK_LABEL, FF_NULL,
	    "the memory cgroup as the kernel names it (/a/b); null when not found"),
	FLD(struct oom_memcg_row, of, "of", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "whose: \"victim\", or \"trigger\" where the victim's task was not at hand"),
	FLD(struct oom_memcg_row, id, "id", NULL, FT_U64, FU_NONE, FK_LABEL, 0,
	    "its kernfs id (the directory's inode number)"),
	FLD(struct oom_memcg_row, usage_bytes, "usage_bytes", NULL, FT_U64, FU_BYTES, FK_GAUGE, 0,
	    "its usage at the kill"),
	FLD(struct oom_memcg_row, limit_bytes, "limit_bytes", NULL, FT_U64, FU_BYTES, FK_GAUGE,
	    FF_NULL, "its limit; null when unlimited"),
	FLD(struct oom_memcg_row, at_limit, "at_limit", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "usage within a charge batch of the limit"),
};
const struct record_desc oom_memcg_desc =
	RECORD_DESC("oom.memcg", "the memory cgroup of the kill", memcg_fields,
		    struct oom_memcg_row);

static const struct field control_fields[] = {
	FLD(struct oom_control_row, memcg, "memcg", NULL, FT_STR, FU_NONE, FK_LABEL, FF_NULL,
	    "the memory cgroup whose limit was hit (the victim's or an ancestor); null: none"),
	FLD(struct oom_control_row, order, "order", NULL, FT_S32, FU_NONE, FK_LABEL, 0,
	    "the allocation's order"),
	FLD(struct oom_control_row, gfp, "gfp", NULL, FT_U64, FU_NONE, FK_LABEL, 0,
	    "its GFP mask"),
	FLD(struct oom_control_row, total_pages, "total_pages", NULL, FT_U64, FU_PAGES, FK_GAUGE, 0,
	    "the memory the killer weighed the victims against (the memcg's limit, or RAM)"),
	FLD(struct oom_control_row, chosen_points, "chosen_points", NULL, FT_S64, FU_NONE, FK_GAUGE,
	    0, "the victim's badness points"),
};
const struct record_desc oom_control_desc =
	RECORD_DESC("oom.oom_control", "struct oom_control, from a function hook on "
		    "oom_kill_process", control_fields, struct oom_control_row);

static const struct field reaper_fields[] = {
	FLD(struct oom_reaper_row, woken_after_ns, "woken_after_ns", NULL, FT_U64, FU_NS, FK_GAUGE,
	    FF_NULL, "from the kill to the reaper's wake-up; null: not woken"),
	FLD(struct oom_reaper_row, reaping_ns, "reaping_ns", NULL, FT_U64, FU_NS, FK_GAUGE, FF_NULL,
	    "how long reaping took; null: did not reap"),
	FLD(struct oom_reaper_row, skipped, "skipped", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "the reaper skipped the victim"),
	FLD(struct oom_reaper_row, woken, "woken", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "the reaper was woken for it"),
};
const struct record_desc oom_reaper_desc =
	RECORD_DESC("oom.reaper", "the OOM reaper's part", reaper_fields, struct oom_reaper_row);

static const struct field detail_fields[] = {
	FLD_REC(struct oom_detail_row, node, "node", FF_NULL, &node_desc,
		"the node's state at the kill; null when the node was not found"),
	FLD_RECS(struct oom_detail_row, zones, nr_zones, "zones", &zone_desc, "its zones"),
	FLD(struct oom_detail_row, tasks_of, "tasks_of", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "whose tasks the killer chose among, as the kernel's own report lists them: "
	    "\"memcg\" (the memory cgroup whose limit was hit, and those below it) or "
	    "\"system\""),
	FLD(struct oom_detail_row, nr_tasks, "nr_tasks", NULL, FT_U32, FU_NONE, FK_GAUGE, 0,
	    "how many processes they were right after the kill"),
	FLD_RECS(struct oom_detail_row, top_processes_after, nr_top, "top_processes_after",
		 &proc_desc, "the largest of them right after the kill, largest first (up to 16 "
		 "of a memory cgroup, 5 of the system)"),
	FLD_REC(struct oom_detail_row, memcg, "memcg", FF_NULL, &memcg_desc,
		"a memcg OOM: that memory cgroup right after the kill (usage, limit, failcnt and "
		"its memory.stat, as memscope cgroup reads them); null otherwise"),
};
const struct record_desc oom_detail_desc =
	RECORD_DESC("oom.detail", "oom --detail: the state at the kill", detail_fields,
		    struct oom_detail_row);

static const struct field oom_fields[] = {
	FLD_REC(struct oom_row, victim, "victim", 0, &oom_victim_desc, "the killed process"),
	FLD_REC(struct oom_row, trigger, "trigger", 0, &oom_trigger_desc,
		"the task that invoked the killer"),
	FLD(struct oom_row, constraint, "constraint", NULL, FT_STR, FU_NONE, FK_LABEL, FF_NULL,
	    "memcg, global, cpuset or memory_policy; null when unknown"),
	FLD(struct oom_row, constraint_source, "constraint_source", NULL, FT_STR, FU_NONE, FK_LABEL,
	    0, "where the constraint comes from: oom_control, derived, or why unavailable"),
	FLD_REC(struct oom_row, memcg, "memcg", FF_NULL, &oom_memcg_desc,
		"the memory cgroup; null where the kernel has none"),
	FLD_REC(struct oom_row, oom_control, "oom_control", FF_NULL, &oom_control_desc,
		"the kernel's own view; null without a function hook"),
	FLD_REC(struct oom_row, reaper, "reaper", FF_NULL, &oom_reaper_desc,
		"the OOM reaper; null where it was not followed (memscope record)"),
	FLD_REC(struct oom_row, detail, "detail", FF_NULL, &oom_detail_desc,
		"the state at the kill; null without --detail"),
};
const struct record_desc oom_desc =
	RECORD_DESC("oom", "memscope oom: one OOM kill", oom_fields, struct oom_row);

static const struct field adj_fields[] = {
	FLD(struct oom_adj_row, pid, "pid", NULL, FT_U32, FU_NONE, FK_LABEL, 0,
	    "the process whose oom_score_adj changed"),
	FLD(struct oom_adj_row, comm, "comm", NULL, FT_STR, FU_NONE, FK_LABEL, 0, "its name"),
	FLD(struct oom_adj_row, oom_score_adj, "oom_score_adj", NULL, FT_S32, FU_NONE, FK_GAUGE, 0,
	    "the new value"),
	FLD(struct oom_adj_row, by_pid, "by_pid", NULL, FT_U32, FU_NONE, FK_LABEL, 0,
	    "the process that set it"),
	FLD(struct oom_adj_row, by_comm, "by_comm", NULL, FT_STR, FU_NONE, FK_LABEL, 0, "its name"),
};
const struct record_desc oom_adj_desc =
	RECORD_DESC("oom_score_adj", "oom --adj: an oom_score_adj change", adj_fields,
		    struct oom_adj_row);
