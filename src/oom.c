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
	  "with each kill: node and zone state at that instant, top 5 processes by RSS",
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
	struct proc_row top[OOM_TOP_N]; /* detail: processes right after the kill */
	uint32_t nr_top;
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
	d->nr_top = k->nr_top;
	memcpy(d->top_processes_after, k->top, sizeof(k->top));
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
	char b[6][32], when[24], comm[COMM_TEXT_LEN];

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
	out_printf("  victim     total-vm %s, anon %s, file %s, shmem %s, swap %s, page tables %s\n",
		   fmt_bytes(b[0], 32, e->total_vm * ms_page_size()),
		   fmt_bytes(b[1], 32, counter_nonneg(e->anon) * ms_page_size()),
		   fmt_bytes(b[2], 32, counter_nonneg(e->file) * ms_page_size()),
		   fmt_bytes(b[3], 32, counter_nonneg(e->shmem) * ms_page_size()),
		   e->from_record ? "-" : fmt_bytes(b[4], 32, counter_nonneg(e->swap) * ms_page_size()),
		   fmt_bytes(b[5], 32, e->pgtables_bytes));
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
	for (uint32_t i = 0; cfg.stack && i < r->trigger.nr_stack; i++)
		out_printf("    %s\n", r->trigger.stack[i]);
	if (cfg.detail && k->nr_top) {
		static const char *const keys[] = { "pid", "comm", "rss_bytes", NULL };
		struct ms_col cols[3];
		struct ms_table *t = table_new(cols, record_cols_pick(&proc_desc, keys, cols, 3));

		out_printf("  largest processes right after the kill:\n");
		for (uint32_t i = 0; i < k->nr_top; i++)
			table_add(t, record_json(&proc_desc, &k->top[i], ms_wall_now()));
		table_flush(t);
		table_free(t);
	}
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

/* --detail: the largest processes right after the kill. */
static void top_processes(struct kill *k)
{
	struct proc_list l = { 0 };

	procs_snapshot(procs, &l);
	proc_list_sort_rss(&l);
	for (k->nr_top = 0; k->nr_top < l.n && k->nr_top < OOM_TOP_N; k->nr_top++)
		proc_row_of(&l.r[k->nr_top], NULL, &k->top[k->nr_top]);
	proc_list_free(&l);
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
			top_processes(k);
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
		&oom_detail_desc, &oom_adj_desc, &node_desc, &zone_desc, &proc_desc, &lost_desc,
		NULL },
};
