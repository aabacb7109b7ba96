// SPDX-License-Identifier: GPL-2.0
/* memscope oom: OOM kills — victim, trigger, constraint, reaper, and the state at the kill. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "textsafe.h"
#include "commands.h"
#include "ksyms.h"
#include "loss.h"
#include "output.h"
#include "runtime.h"
#include "units.h"
#include "util.h"
#include "counters.h"
#include "oom.h"
#include "kills.h"
#include "memcgs.h"
#include "nodes.h"
#include "procs.h"
#include "record.h"

#define TOP_N 5
/*
 * A kill is reported when its reaping ends, or this long after it at the latest:
 * the kernel wakes the OOM reaper only after OOM_REAPER_DELAY (2 s), and not at
 * all (no wake_reaper event) when the victim released its memory by itself.
 */
#define REPORT_AFTER_NS (3000 * 1000000ULL)

static struct {
	bool detail, stack, adj;
} cfg;

enum { OPT_DETAIL, OPT_STACK, OPT_ADJ };

static const struct ms_cmd_opt oom_opts[] = {
	{ "detail", 0, no_argument, NULL,
	  "with each kill: node and zone state at that instant; the tasks it chose among (a "
	  "memcg OOM: the cgroup's own, and its memory.stat; else the 5 largest)",
	  OPT_DETAIL },
	{ "stack", 0, no_argument, NULL, "the kernel stack of the task that invoked the killer",
	  OPT_STACK },
	{ "adj", 0, no_argument, NULL, "also oom_score_adj changes (who protects itself)",
	  OPT_ADJ },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

static void oom_parse_opt(int id, const char *arg)
{
	(void)arg;
	if (id == OPT_DETAIL)
		cfg.detail = true;
	else if (id == OPT_STACK)
		cfg.stack = true;
	else
		cfg.adj = true;
}

static struct ksyms *ksyms;
static struct procs *procs; /* --detail: the processes at each kill */

/* ---- kills waiting for their reaper ---- */

/* struct oom_control seen at oom_kill_process, waiting for its mark_victim */
static struct kill_controls controls;
static const char *control_hook; /* "fentry" or "kprobe" when one is attached */

struct kill {
	struct oom_event ev;
	/* struct oom_control of this kill, held by value: kills[] is compacted by copy */
	struct oom_event control;
	bool has_control;
	__u64 wake_ns, start_ns, end_ns;
	bool skipped, done;
	/* detail: the tasks it chose among, right after the kill (largest first) */
	struct proc_row top[OOM_MEMCG_TASKS];
	uint32_t nr_top, nr_tasks;
	bool memcg_oom;		/* they are a memory cgroup's: memcg holds it */
	struct memcg_row memcg;
};

static struct kill kills[64];
static int nkills;
static struct run_ctx {
	long reported, limit;
} rc;

static void reaper_row_of(const struct kill *k, struct oom_reaper_row *r)
{
	memset(r, 0, sizeof(*r));
	r->woken_after_ns = k->wake_ns - k->ev.ts_ns;
	if (!k->wake_ns)
		record_null(&oom_reaper_desc, r, "woken_after_ns");
	r->reaping_ns = k->end_ns - k->start_ns;
	if (!(k->start_ns && k->end_ns && !k->skipped))
		record_null(&oom_reaper_desc, r, "reaping_ns");
	r->skipped = k->skipped;
	r->woken = k->wake_ns != 0;
}

static void detail_row_of(const struct kill *k, struct oom_detail_row *d)
{
	const struct oom_event *e = &k->ev;

	memset(d, 0, sizeof(*d));
	if (e->has_node)
		node_row_of(&e->node, &d->node);
	else
		record_null(&oom_detail_desc, d, "node");
	for (int z = 0; e->has_node && z < (int)e->node.nr_zones && z < SYS_MAX_ZONES; z++)
		zone_row_of(&e->node, z, &d->zones[d->nr_zones++]);
	snprintf(d->tasks_of, sizeof(d->tasks_of), "%s", k->memcg_oom ? "memcg" : "system");
	d->nr_tasks = k->nr_tasks;
	d->nr_top = k->nr_top;
	memcpy(d->top_processes_after, k->top, sizeof(k->top));
	if (k->memcg_oom)
		d->memcg = k->memcg;
	else
		record_null(&oom_detail_desc, d, "memcg");
}

/* The kill as the "oom" record describes it. */
static void kill_row_of(const struct kill *k, const struct kill_verdict *v, struct oom_row *r)
{
	kill_row_of_events(&k->ev, k->has_control ? &k->control : NULL, v,
			   cfg.stack ? ksyms : NULL, r);
	reaper_row_of(k, &r->reaper);
	if (cfg.detail)
		detail_row_of(k, &r->detail);
	else
		record_null(&oom_desc, r, "detail");
}

static void print_victim(const struct oom_event *e)
{
	char b[6][48], when[24], comm[COMM_TEXT_LEN], v[32];
	const char *list[6];
	uint64_t page = ms_page_size();

	out_printf("%s  OOM kill: pid %u (%s)",
		   fmt_clock(when, sizeof(when), ms_boot_ns_to_real(e->ts_ns), true), e->pid,
		   e->has_task ? comm_text(e->comm, comm) : "?");
	if (e->has_task)
		out_printf(", uid %u, oom_score_adj %d", e->uid, e->oom_score_adj);
	out_printf("\n");
	if (!e->has_task) {
		out_printf("  victim     sizes unavailable: this kernel's mark_victim gives only the "
			   "pid\n");
		return;
	}
	snprintf(b[0], 48, "total-vm %s", fmt_bytes(v, 32, e->total_vm * page));
	snprintf(b[1], 48, "anon %s", fmt_bytes(v, 32, counter_nonneg(e->anon) * page));
	snprintf(b[2], 48, "file %s", fmt_bytes(v, 32, counter_nonneg(e->file) * page));
	snprintf(b[3], 48, "shmem %s", fmt_bytes(v, 32, counter_nonneg(e->shmem) * page));
	snprintf(b[4], 48, "swap %s",
		 e->from_record ? "-" : fmt_bytes(v, 32, counter_nonneg(e->swap) * page));
	snprintf(b[5], 48, "page tables %s", fmt_bytes(v, 32, e->pgtables_bytes));
	for (int i = 0; i < 6; i++)
		list[i] = b[i];
	out_wrap_list("  victim     ", "             ", list, 6, ",", true);
}

static void print_reaper(const struct kill *k)
{
	char lat[32];

	if (k->skipped)
		out_printf("  reaper     skipped (the victim's memory was already going away)\n");
	else if (k->end_ns && k->start_ns)
		out_printf("  reaper     reaped in %s\n",
			   fmt_duration_ns(lat, sizeof(lat), k->end_ns - k->start_ns));
	else if (k->wake_ns)
		out_printf("  reaper     woken, still reaping after 3 s\n");
	else
		out_printf("  reaper     not needed: the victim released its memory by itself\n");
}

/* A memcg OOM: the cgroup's counters and memory.stat, as the kernel's report gives them. */
static void print_memcg_stat(const struct memcg_row *m)
{
	static const char *const keys[][2] = {
		{ "usage_bytes", "usage" }, { "limit_bytes", "limit" }, { "failcnt", "failcnt" },
		{ "anon_bytes", "anon" }, { "file_bytes", "file" }, { "kernel_bytes", "kernel" },
		{ "shmem_bytes", "shmem" }, { "file_mapped_bytes", "file_mapped" },
		{ "file_dirty_bytes", "file_dirty" }, { "file_writeback_bytes", "file_writeback" },
		{ "slab_bytes", "slab" }, { "sock_bytes", "sock" },
		{ "page_tables_bytes", "pagetables" }, { "swap_bytes", "swap" },
		{ "active_anon_bytes", "active_anon" }, { "inactive_anon_bytes", "inactive_anon" },
		{ "active_file_bytes", "active_file" }, { "inactive_file_bytes", "inactive_file" },
		{ "unevictable_bytes", "unevictable" },
	};
	char items[ARRAY_SIZE(keys)][64], v[32], first[300];
	const char *list[ARRAY_SIZE(keys)];
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (record_is_null(&memcg_desc, m, keys[i][0]))
			continue;
		snprintf(items[n], sizeof(items[n]), "%s %s", keys[i][1],
			 record_text(&memcg_desc, m, keys[i][0], v, sizeof(v)));
		list[n] = items[n];
		n++;
	}
	snprintf(first, sizeof(first), "  memcg %s right after the kill: ", m->path);
	out_wrap_list(first, "    ", list, n, ",", true);
}

/* --detail: the tasks the killer chose among, as the kernel's report lists them. */
static void print_tasks(const struct kill *k)
{
	static const char *const keys[] = { "pid", "comm", "rss_bytes", "rss_anon_bytes",
					    "swap_bytes", "page_tables_bytes", "cgroup", NULL };
	struct ms_col cols[7];
	struct ms_table *t;

	if (!k->nr_top)
		return;
	if (k->memcg_oom) {
		print_memcg_stat(&k->memcg);
		out_printf("  its tasks right after the kill (%u in all%s):\n", k->nr_tasks,
			   k->nr_tasks > k->nr_top ? ", the largest" : "");
	} else {
		out_printf("  the largest of the %u processes right after the kill:\n",
			   k->nr_tasks);
	}
	t = table_new(cols, record_cols_pick(&proc_desc, keys, cols, 7));
	for (uint32_t i = 0; i < k->nr_top; i++)
		table_add(t, record_json(&proc_desc, &k->top[i], ms_wall_now()));
	table_flush(t);
	table_free(t);
}

static void print_kill(const struct kill *k, const struct kill_verdict *v,
		       const struct oom_row *r)
{
	const struct oom_event *e = &k->ev;
	char a[32], b[32], comm[COMM_TEXT_LEN];

	print_victim(e);
	out_printf("  trigger    pid %u (%s)\n", e->trigger_pid, comm_text(e->trigger_comm, comm));
	out_printf("  constraint %s (%s)\n", v->constraint ? v->constraint : "-", v->why);
	if (e->has_memcg)
		out_printf("  memcg      %s: usage %s of %s\n", v->path ? v->path : "?",
			   fmt_bytes(a, 32, e->memcg_usage * ms_page_size()),
			   v->limited ? fmt_bytes(b, 32, e->memcg_max * ms_page_size()) : "no limit");
	print_reaper(k);
	if (cfg.stack && r->trigger.nr_stack) {
		out_printf("  stack      of the task that invoked the killer, pid %u:\n",
			   e->trigger_pid);
		for (uint32_t i = 0; i < r->trigger.nr_stack; i++)
			out_printf("    %s\n", r->trigger.stack[i]);
	}
	if (cfg.detail)
		print_tasks(k);
	out_printf("\n");
	out_flush();
}

static void report_kill(struct kill *k)
{
	struct oom_row *r = calloc(1, sizeof(*r));
	struct kill_verdict v;

	if (!r)
		ms_fatal("out of memory");
	kill_explain(&k->ev, k->has_control ? &k->control : NULL, control_hook, &v);
	kill_row_of(k, &v, r);
	if (out_json_mode())
		out_json(record_json(&oom_desc, r, ms_boot_ns_to_real(k->ev.ts_ns)));
	else
		print_kill(k, &v, r);
	free(r);
	k->done = true;
	if (rc.limit && ++rc.reported >= rc.limit)
		ms_request_stop(MS_STOP_DONE);
}

/* The memory cgroup of a memcg OOM: the kernel's own (oom_control), else derived. */
static bool oom_memcg(const struct kill *k, uint64_t *id)
{
	struct kill_verdict v;

	if (k->has_control) {
		*id = k->control.memcg_id;
		return k->control.has_memcg;
	}
	kill_explain(&k->ev, NULL, NULL, &v);
	*id = k->ev.memcg_id;
	return v.at_limit;
}

static bool in_cgroups(const struct memcg_list *l, uint64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].id == id)
			return true;
	return false;
}

/*
 * --detail: the tasks the killer chose among, right after the kill, as the kernel's
 * dump_tasks() lists them: a memcg OOM's from that cgroup and those below it (with the
 * cgroup's own figures), else every process.
 */
static void tasks_after(struct kill *k)
{
	struct memcg_list cgs = { 0 };
	struct proc_list l = { 0 };
	char path[256];
	uint64_t id;

	k->memcg_oom = oom_memcg(k, &id) && memcg_path_by_id(id, path, sizeof(path)) &&
		       memcgs_read(path, &cgs) > 0 && cgs.r[0].id == id;
	if (k->memcg_oom)
		k->memcg = cgs.r[0];
	procs_snapshot(procs, &l);
	proc_list_sort_rss(&l);
	for (size_t i = 0; i < l.n; i++) {
		if (k->memcg_oom && !in_cgroups(&cgs, l.r[i].memcg_id))
			continue;
		k->nr_tasks++;
		if (k->nr_top < (k->memcg_oom ? OOM_MEMCG_TASKS : OOM_TOP_N))
			proc_row_of(&l.r[i], NULL, &k->top[k->nr_top++]);
	}
	proc_list_free(&l);
	memcg_list_free(&cgs);
}

static struct kill *find_kill(__u32 pid)
{
	for (int i = nkills - 1; i >= 0; i--)
		if (kills[i].ev.pid == pid && !kills[i].done)
			return &kills[i];
	return NULL;
}

static void flush_kills(bool all)
{
	uint64_t now = ms_boot_ns();
	int k = 0;

	for (int i = 0; i < nkills; i++) {
		if (!kills[i].done && (all || kills[i].end_ns || kills[i].skipped ||
				       now - kills[i].ev.ts_ns > REPORT_AFTER_NS))
			report_kill(&kills[i]);
		if (!kills[i].done)
			kills[k++] = kills[i];
	}
	nkills = k;
}

static void print_adj(const struct oom_event *e)
{
	struct oom_adj_row row = { .pid = e->pid, .oom_score_adj = e->oom_score_adj,
				   .by_pid = e->trigger_pid };
	char cbuf[2][COMM_TEXT_LEN];

	memcpy(row.comm, e->comm, sizeof(row.comm));
	memcpy(row.by_comm, e->trigger_comm, sizeof(row.by_comm));
	if (out_json_mode()) {
		out_json(record_json(&oom_adj_desc, &row, ms_boot_ns_to_real(e->ts_ns)));
		return;
	}
	out_printf("oom_score_adj of pid %u (%s) set to %d by pid %u (%s)\n", e->pid,
		   comm_text(e->comm, cbuf[0]), e->oom_score_adj, e->trigger_pid,
		   comm_text(e->trigger_comm, cbuf[1]));
	out_flush();
}

static int on_event(void *ctx, void *data, size_t len)
{
	const struct oom_event *e = data, *control;
	struct kill *k;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	switch (e->kind) {
	case OOM_EV_CONTROL:
		kill_controls_take(&controls, e, &control);
		break;
	case OOM_EV_KILL:
		if (nkills == (int)ARRAY_SIZE(kills))
			flush_kills(true);
		k = &kills[nkills++];
		memset(k, 0, sizeof(*k));
		k->ev = *e;
		if (kill_controls_take(&controls, e, &control) && control) {
			k->control = *control;
			k->has_control = true;
		}
		if (procs)
			tasks_after(k);
		break;
	case OOM_EV_WAKE_REAPER:
		if ((k = find_kill(e->pid)))
			k->wake_ns = e->ts_ns;
		break;
	case OOM_EV_START_REAPING:
		if ((k = find_kill(e->pid)))
			k->start_ns = e->ts_ns;
		break;
	case OOM_EV_FINISH_REAPING:
		if ((k = find_kill(e->pid)))
			k->end_ns = e->ts_ns;
		break;
	case OOM_EV_SKIP_REAPING:
		if ((k = find_kill(e->pid)))
			k->skipped = true;
		break;
	case OOM_EV_ADJ:
		print_adj(e);
		break;
	}
	return 0;
}

static void poll_events(int timeout_ms, void *ctx)
{
	int err = ring_buffer__poll(ctx, timeout_ms < 100 ? timeout_ms : 100);

	if (err < 0 && err != -EINTR)
		ms_bpf_fail("reading events", err);
	flush_kills(false);
}

static int oom_run(const struct ms_opts *o)
{
	struct kills_want w = { .stack = cfg.stack, .node = cfg.detail, .adj = cfg.adj };
	struct ring_buffer *rb;
	struct kills *kills;

	rc.limit = o->count;
	if (cfg.stack && !(ksyms = ksyms_load(NULL)))
		ms_fatal("--stack: cannot read /proc/kallsyms");
	kills = kills_open(&w);
	control_hook = kills_control_hook(kills);
	if (cfg.detail) {
		struct ms_filter all = { 0 };

		procs = procs_open(&all);
	}
	rb = ring_buffer__new(kills_events_fd(kills), on_event, NULL, NULL);
	if (!rb)
		ms_bpf_fail("creating the event ring buffer", errno);
	ms_boot_ns_to_real(0);
	if (!out_json_mode()) {
		out_printf("watching for OOM kills; Ctrl-C to stop\n");
		out_flush();
	}
	ms_ready();
	{
		uint64_t deadline = o->duration > 0 ? ms_now_ns() + (uint64_t)(o->duration * 1e9) : 0;

		while (!ms_stopping() && (!deadline || ms_now_ns() < deadline))
			poll_events(100, rb);
	}
	ring_buffer__consume(rb);
	if (ms_stop_reason() != MS_STOP_PIPE)
		flush_kills(true);
	struct ms_loss lost = { "events", "OOM events lost: the ring buffer was full",
				kills_lost(kills), 0 };

	ms_report_losses("oom", &lost, 1);
	ring_buffer__free(rb);
	procs_close(procs);
	kills_close(kills);
	ksyms_free(ksyms);
	return 0;
}

const struct ms_cmd cmd_oom = {
	.name = "oom",
	.summary = "OOM kills: victim, trigger, constraint, memory cgroup, reaper",
	.details =
		"From the oom tracepoints: the victim's sizes read from its mm at the kill, the\n"
		"task that invoked the killer, the victim's memory cgroup with its usage and\n"
		"limit, and how long the OOM reaper took. The kernel's own constraint lives in\n"
		"struct oom_control, reachable only with a hook on oom_kill_process: where that\n"
		"is missing the constraint is derived (memcg at its limit) or marked unavailable.\n"
		"-c N stops after N kills.",
	.examples = "  memscope oom                      one block per kill\n"
		    "  memscope oom --detail --stack     with node state, top processes, stack\n"
		    "  memscope oom --adj -j             also oom_score_adj changes, NDJSON\n",
	.shared = MS_OPT_COUNT | MS_OPT_DURATION,
	.opts = oom_opts,
	.parse_opt = oom_parse_opt,
	.run = oom_run,
	.hooks = kills_hooks,
	.nr_hooks = KILLS_NR_HOOKS,
	.records = (const struct record_desc *const[]){ &oom_desc, &oom_victim_desc,
		&oom_trigger_desc, &oom_memcg_desc, &oom_control_desc, &oom_reaper_desc,
		&oom_detail_desc, &oom_adj_desc, &node_desc, &zone_desc, &proc_desc, &memcg_desc,
		&lost_desc, NULL },
};
