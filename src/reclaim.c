// SPDX-License-Identifier: GPL-2.0
/* memscope reclaim: page reclaim activity (pr) and the stalls it causes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "commands.h"
#include "filters.h"
#include "gfp.h"
#include "ksyms.h"
#include "loss.h"
#include "output.h"
#include "record.h"
#include "runtime.h"
#include "textsafe.h"
#include "units.h"
#include "util.h"
#include "vmscan.h"

#define kind_names reclaim_kind_names

static struct {
	bool by_process, events, slab;
	struct ms_cgroup_filter cgroup;
} cfg;

enum { OPT_BY_PROCESS, OPT_EVENTS, OPT_SLAB, OPT_CGROUP };

static const struct ms_cmd_opt reclaim_opts[] = {
	{ "by-process", 0, no_argument, NULL, "stalls per process (since start)", OPT_BY_PROCESS },
	{ "events", 0, no_argument, NULL,
	  "one record per direct/memcg reclaim stall: pid, order, flags, pages, latency",
	  OPT_EVENTS },
	{ "slab", 0, no_argument, NULL, "top shrinkers by time and objects freed (since start)",
	  OPT_SLAB },
	{ "cgroup", 0, required_argument, "PATH",
	  "stalls only of processes in this memory cgroup (v1 or v2) or below", OPT_CGROUP },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

static void reclaim_parse_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_BY_PROCESS:
		cfg.by_process = true;
		break;
	case OPT_EVENTS:
		cfg.events = true;
		break;
	case OPT_SLAB:
		cfg.slab = true;
		break;
	case OPT_CGROUP:
		ms_cgroup_filter_parse(arg, &cfg.cgroup);
		break;
	}
}

/* ---- output ---- */

static struct gfp_table gfp;
static struct ksyms *ksyms;
static const char *target_hook; /* the hook that reads nr_to_reclaim, or NULL */
static bool said_target, said_isolate; /* a missing capability, a legend: said once */

static void print_hist(const __u64 *hist)
{
	int lo = -1, hi = -1;
	__u64 max = 0;

	for (int i = 0; i < RC_HIST_SLOTS; i++)
		if (hist[i]) {
			if (lo < 0)
				lo = i;
			hi = i;
			if (hist[i] > max)
				max = hist[i];
		}
	if (lo < 0)
		return;
	out_printf("    %20s : %-8s %s\n", "usecs", "count", "distribution");
	for (int i = lo; i <= hi; i++) {
		char range[48], bar[41];
		int w = max ? (int)(hist[i] * 40 / max) : 0;

		snprintf(range, sizeof(range), "%llu -> %llu", i ? 1ULL << i : 0ULL,
			 (1ULL << (i + 1)) - 1);
		memset(bar, '*', w);
		bar[w] = 0;
		out_printf("    %20s : %-8llu |%-40s|\n", range, (unsigned long long)hist[i], bar);
	}
}

/* Per node and reclaimer: the table; returns pages scanned and reclaimed in sum. */
static int report_nodes(struct ms_table *t, const struct reclaim_snapshot *cur,
			const struct reclaim_snapshot *prev, double ts, __u64 *scanned,
			__u64 *reclaimed)
{
	int rows = 0;

	*scanned = *reclaimed = 0;
	for (int n = 0; n < RC_MAX_NODES; n++)
		for (int k = 0; k < RC_NR_KIND; k++) {
			int i = n * RC_NR_KIND + k;
			struct reclaim_row row;
			struct rc_stats d;

			reclaim_delta(&cur->stats[i], &prev->stats[i], &d, RECLAIM_WORDS(d));
			if (!d.shrink_calls && !d.scanned && !d.active_taken)
				continue;
			*scanned += d.scanned;
			*reclaimed += d.reclaimed;
			rows++;
			reclaim_row_of(n, k, &d, &cur->target[i], &prev->target[i], target_hook, &row);
			table_add(t, out_json_mode() ? record_json(&reclaim_desc, &row, ts)
						     : record_row(&reclaim_desc, &row, ts));
		}
	if (out_json_mode()) {
		struct reclaim_interval_row iv = { .scanned_pages = *scanned,
						   .reclaimed_pages = *reclaimed };

		if (target_hook)
			snprintf(iv.to_reclaim_hook, sizeof(iv.to_reclaim_hook), "%s", target_hook);
		else
			record_null(&reclaim_interval_desc, &iv, "to_reclaim_hook");
		if (!target_hook)
			snprintf(iv.to_reclaim_unavailable, sizeof(iv.to_reclaim_unavailable),
				 "needs a function hook (fentry or kprobe) on shrink_folio_list; "
				 "this kernel has neither");
		else
			record_null(&reclaim_interval_desc, &iv, "to_reclaim_unavailable");
		out_json(record_json(&reclaim_interval_desc, &iv, ts));
	}
	return rows;
}

/* The interval's first line: its time, whatever it holds (stalls only, too). */
static void report_head(struct ms_table *t, double ts, __u64 scanned, __u64 reclaimed)
{
	char when[16], a[32], b[32];

	out_printf("%s  reclaim: scanned %s pages, reclaimed %s",
		   fmt_clock(when, sizeof(when), ts, false), fmt_count(a, sizeof(a), scanned),
		   fmt_count(b, sizeof(b), reclaimed));
	if (scanned)
		out_printf(" (%.1f%%)", 100.0 * reclaimed / scanned);
	out_printf("\n");
	table_flush(t);
	if (!target_hook && !said_target) {
		out_wrap("  ", "  ", "to reclaim (scan_control.nr_to_reclaim): unavailable on "
			 "this kernel (needs fentry or kprobe on shrink_folio_list)");
		said_target = true;
	}
}

/* Isolation per reclaimer; returns whether there was any. */
static bool report_isolate(const struct reclaim_snapshot *cur, const struct reclaim_snapshot *prev,
			   double ts)
{
	bool any = false;
	char a[32], b[32], c[32];

	for (int k = 0; k < RC_NR_KIND; k++) {
		struct rc_isolate d;

		reclaim_delta(&cur->isolate[k], &prev->isolate[k], &d, RECLAIM_WORDS(d));
		if (!d.calls)
			continue;
		any = true;
		if (out_json_mode()) {
			struct reclaim_isolate_row row = { .requested_pages = d.requested,
							   .scanned_pages = d.scanned,
							   .skipped_pages = d.skipped,
							   .taken_pages = d.taken };

			snprintf(row.reclaimer, sizeof(row.reclaimer), "%s", kind_names[k]);
			out_json(record_json(&reclaim_isolate_desc, &row, ts));
		} else {
			/* nr_taken counts a large folio's every page, nr_requested folios
			 * (mm/vmscan.c isolate_lru_folios): more can be taken than asked */
			if (!said_isolate)
				out_wrap("  ", "  ", "isolate: what reclaim took off the LRU lists "
					 "to scan, against what it asked for; a large folio brings "
					 "all its pages, so it can take more than it asked");
			said_isolate = true;
			out_printf("  isolate %-7s took %s pages for %s asked, skipped %s\n",
				   kind_names[k], fmt_count(b, sizeof(b), d.taken),
				   fmt_count(a, sizeof(a), d.requested),
				   fmt_count(c, sizeof(c), d.skipped));
		}
	}
	return any;
}

/* Stalls per reclaimer, with their latency histograms; returns whether any. */
static bool report_stalls(const struct reclaim_snapshot *cur, const struct reclaim_snapshot *prev,
			  double ts)
{
	bool any = false;

	for (int k = 0; k < RC_NR_KIND; k++) {
		struct rc_stall_stats d;
		char tot[32], p50[32], p99[32], a[32], line[256];

		reclaim_delta(&cur->stalls[k], &prev->stalls[k], &d, RECLAIM_WORDS(d));
		if (!d.count)
			continue;
		any = true;
		if (out_json_mode()) {
			struct reclaim_stalls_row row;

			reclaim_stalls_row_of(k, &d, cur->stalls[k].max_ns, &row);
			out_json(record_json(&reclaim_stalls_desc, &row, ts));
			continue;
		}
		snprintf(line, sizeof(line), "%s reclaim stalls: %llu, total %s, p50 <= %s, "
			 "p99 <= %s, reclaimed %s pages", kind_names[k],
			 (unsigned long long)d.count, fmt_duration_ns(tot, sizeof(tot), d.total_ns),
			 fmt_duration_ns(p50, sizeof(p50), reclaim_hist_quantile(d.hist, 0.5)),
			 fmt_duration_ns(p99, sizeof(p99), reclaim_hist_quantile(d.hist, 0.99)),
			 fmt_count(a, sizeof(a), d.reclaimed));
		out_wrap("  ", "    ", line);
		print_hist(d.hist);
	}
	return any;
}

/* kswapd per node; returns whether it was awake at all. */
static bool report_kswapd(const struct reclaim_snapshot *cur, const struct reclaim_snapshot *prev,
			  double ts)
{
	bool any = false;

	for (int n = 0; n < RC_MAX_NODES; n++) {
		struct reclaim_kswapd_row row;
		char a[32];

		reclaim_kswapd_row_of(cur, prev, n, &row);
		if (!row.wakeups && !row.rounds && !row.awake_ns)
			continue;
		any = true;
		if (out_json_mode()) {
			out_json(record_json(&reclaim_kswapd_desc, &row, ts));
			continue;
		}
		out_printf("  kswapd%d: %llu wake-up%s, %llu round%s, awake %s (max order %llu "
			   "since start)\n", n, (unsigned long long)row.wakeups,
			   row.wakeups == 1 ? "" : "s", (unsigned long long)row.rounds,
			   row.rounds == 1 ? "" : "s", fmt_duration_ns(a, sizeof(a), row.awake_ns),
			   (unsigned long long)row.max_order_since_start);
	}
	return any;
}

/* Anything this interval: reclaim, isolation, stalls, kswapd? */
static bool active(const struct reclaim_snapshot *cur, const struct reclaim_snapshot *prev)
{
	for (int i = 0; i < RC_MAX_NODES * RC_NR_KIND; i++)
		if (cur->stats[i].shrink_calls != prev->stats[i].shrink_calls ||
		    cur->stats[i].scanned != prev->stats[i].scanned ||
		    cur->stats[i].active_taken != prev->stats[i].active_taken)
			return true;
	for (int k = 0; k < RC_NR_KIND; k++)
		if (cur->isolate[k].calls != prev->isolate[k].calls ||
		    cur->stalls[k].count != prev->stalls[k].count)
			return true;
	for (int n = 0; n < RC_MAX_NODES; n++)
		if (cur->kswapd[n].wakeups != prev->kswapd[n].wakeups ||
		    cur->kswapd[n].awake_ns != prev->kswapd[n].awake_ns)
			return true;
	return false;
}

static void report(const struct reclaim_snapshot *cur, const struct reclaim_snapshot *prev,
		   double ts)
{
	/* one table for the whole run: its columns keep their widths between intervals */
	static struct ms_col cols[32];
	static struct ms_table *t;
	__u64 scanned, reclaimed;
	char when[16];

	if (!t) {
		t = table_new(cols, record_cols(&reclaim_desc, cols, ARRAY_SIZE(cols), 0));
		table_set_live(t);
	}
	if (!out_json_mode() && !active(cur, prev)) {
		out_printf("%s  no reclaim activity\n", fmt_clock(when, sizeof(when), ts, false));
		out_flush();
		return;
	}
	report_nodes(t, cur, prev, ts, &scanned, &reclaimed);
	if (!out_json_mode())
		report_head(t, ts, scanned, reclaimed);
	report_isolate(cur, prev, ts);
	report_stalls(cur, prev, ts);
	report_kswapd(cur, prev, ts);
	out_flush();
}

static void add_process(const struct rc_proc_key *key, const struct rc_proc *p, void *ctx)
{
	struct reclaim_process_row row = { .pid = key->pid, .count = p->count,
					   .total_ns = p->total_ns, .max_ns = p->max_ns,
					   .reclaimed_pages = p->reclaimed };

	memcpy(row.comm, p->comm, sizeof(row.comm));
	snprintf(row.reclaimer, sizeof(row.reclaimer), "%s", kind_names[key->kind % RC_NR_KIND]);
	table_add(ctx, record_json(&reclaim_process_desc, &row, ms_wall_now()));
}

/* A table of a record type's text columns. */
static struct ms_table *desc_table(const struct record_desc *d, struct ms_col *cols, int max)
{
	return table_new(cols, record_cols(d, cols, max, 0));
}

static void print_by_process(struct reclaim *r)
{
	struct ms_col cols[16];
	struct ms_table *t = desc_table(&reclaim_process_desc, cols, ARRAY_SIZE(cols));

	reclaim_each_process(r, add_process, t);
	if (!out_json_mode() && table_rows(t))
		out_printf("  stalls by process (since start):\n");
	table_flush(t);
	table_free(t);
}

static void add_shrinker(__u64 fn, const struct rc_slab *v, void *ctx)
{
	const struct ksym *k = ksyms_find(ksyms, fn);
	struct reclaim_shrinker_row row = { .calls = v->calls, .total_ns = v->total_ns,
					    .freed_objects = v->freed,
					    .scanned_objects = v->scanned };

	snprintf(row.shrinker, sizeof(row.shrinker), "%s", k ? k->name : "?");
	table_add(ctx, record_json(&reclaim_shrinker_desc, &row, ms_wall_now()));
}

static void print_slab(struct reclaim *r)
{
	struct ms_col cols[16];
	struct ms_table *t = desc_table(&reclaim_shrinker_desc, cols, ARRAY_SIZE(cols));

	reclaim_each_shrinker(r, add_shrinker, t);
	if (!out_json_mode() && table_rows(t))
		out_printf("  shrinkers (since start):\n");
	table_flush(t);
	table_free(t);
}

/* One stall in text: when (drsnoop's first column), who, where, how long, and its flags. */
static void stall_text(const struct rc_event *e, const struct reclaim_stall_row *row)
{
	static const char indent[] = "              ";
	char when[24], lat[32], cbuf[COMM_TEXT_LEN], line[512], first[32];
	const char *flags[GFP_MAX_NAMES];

	fmt_clock(when, sizeof(when), ms_boot_ns_to_real(e->ts_ns), true);
	snprintf(first, sizeof(first), "%s  ", when);
	snprintf(line, sizeof(line), "%s reclaim stall of %s: pid %u (%s)%s%s, order %u, "
		 "reclaimed %llu pages", kind_names[e->kind % RC_NR_KIND],
		 fmt_duration_ns(lat, sizeof(lat), e->latency_ns), e->pid,
		 comm_text(e->comm, cbuf),
		 record_is_null(&reclaim_stall_desc, row, "memcg") ? "" : " in cgroup ",
		 record_is_null(&reclaim_stall_desc, row, "memcg") ? "" : row->memcg, e->order,
		 (unsigned long long)e->reclaimed);
	out_wrap(first, indent, line);
	for (uint32_t i = 0; i < row->nr_gfp_flags; i++)
		flags[i] = row->gfp_flags[i];
	if (row->nr_gfp_flags)
		out_wrap_list(indent, indent, flags, row->nr_gfp_flags, "|", false);
}

static int on_stall_event(void *ctx, void *data, size_t len)
{
	const struct rc_event *e = data;
	struct reclaim_stall_row row;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	reclaim_stall_row_of(e, &gfp, &row);
	if (out_json_mode())
		out_json(record_json(&reclaim_stall_desc, &row, ms_boot_ns_to_real(e->ts_ns)));
	else
		stall_text(e, &row);
	return 0;
}

static void poll_events(int timeout_ms, void *ctx)
{
	int err = ring_buffer__poll(ctx, timeout_ms);

	if (err < 0 && err != -EINTR)
		ms_bpf_fail("reading events", err);
}

static int reclaim_run(const struct ms_opts *o)
{
	struct reclaim_snapshot *cur = calloc(1, sizeof(*cur)), *prev = calloc(1, sizeof(*prev));
	struct ms_filter f = ms_filter_of(o, &cfg.cgroup);
	struct reclaim_want w = { .events = cfg.events, .by_process = cfg.by_process,
				  .slab = cfg.slab };
	struct ring_buffer *rb = NULL;
	struct ms_loss *losses;
	struct reclaim *r;
	struct ms_ticker tk;
	int nloss;

	if (!cur || !prev)
		ms_fatal("out of memory");
	if (cfg.events && gfp_table_load(&gfp) < 0)
		ms_warn("cannot read the kernel's GFP flag names; flags print in hex");
	if (cfg.slab && !(ksyms = ksyms_load(NULL)))
		ms_fatal("--slab: cannot read /proc/kallsyms");
	r = reclaim_open(&f, &w);
	target_hook = reclaim_target_hook(r);
	losses = reclaim_losses(r, &nloss);
	if (cfg.events) {
		rb = ring_buffer__new(reclaim_events_fd(r), on_stall_event, NULL, NULL);
		if (!rb)
			ms_bpf_fail("creating the event ring buffer", errno);
		ms_boot_ns_to_real(0);
		ms_set_idle(poll_events, rb);
	}
	reclaim_read(r, prev);
	ticker_init(&tk, o->interval, o->count, o->duration);
	while (ticker_wait(&tk)) {
		struct reclaim_snapshot *tmp;

		if (rb)
			ring_buffer__consume(rb);
		reclaim_read(r, cur);
		report(cur, prev, ms_wall_now());
		if (cfg.by_process)
			print_by_process(r);
		if (cfg.slab)
			print_slab(r);
		ms_report_losses("reclaim", losses, nloss);
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	ms_set_idle(NULL, NULL);
	if (rb && ms_stop_reason() != MS_STOP_PIPE)
		ring_buffer__consume(rb);
	ms_report_losses("reclaim", losses, nloss);
	ring_buffer__free(rb);
	reclaim_close(r);
	ksyms_free(ksyms);
	free(cur);
	free(prev);
	return 0;
}

static const struct ms_opt_value reclaim_values[] = {
	{ "cgroup", MS_ARG_CGROUP, NULL },
	{ NULL, 0, NULL },
};

const struct ms_cmd cmd_reclaim = {
	.name = "reclaim",
	.summary = "page reclaim activity per node and reclaimer, and the stalls it causes",
	.details =
		"From the vmscan tracepoints, counted in the kernel: pages scanned and\n"
		"reclaimed per node and reclaimer (kswapd, direct, memcg, node), what\n"
		"shrink-inactive found (dirty, writeback, congested, immediate, activated,\n"
		"ref_keep, unmap_fail), anon vs file, priorities, isolation; direct and memcg\n"
		"reclaim stalls with a log2 latency histogram; kswapd: its wake-ups (from a\n"
		"full sleep), its reclaim rounds (one per mm_vmscan_kswapd_wake: a wake-up\n"
		"starts one, more follow while free memory stays low) and the time from each\n"
		"wake-up to its next full sleep (mm_vmscan_kswapd_sleep), counted while it\n"
		"lasts. If kswapd is awake when memscope starts, its time counts from there\n"
		"when a sleep comes first, from its next round otherwise.\n"
		"Each report covers the interval since the previous one (-i, default 1 s).",
	.examples = "  memscope reclaim                      one report per second\n"
		    "  memscope reclaim --events --by-process   every stall, and per process\n"
		    "  memscope reclaim --slab -i 5          top shrinkers\n"
		    "  memscope reclaim -j -d 60 -i 60       one minute, one NDJSON report\n",
	.shared = MS_OPT_LOOP | MS_OPT_FILTER,
	.opts = reclaim_opts,
	.parse_opt = reclaim_parse_opt,
	.run = reclaim_run,
	.hooks = reclaim_hooks,
	.nr_hooks = RECLAIM_NR_HOOKS,
	.records = (const struct record_desc *const[]){ &reclaim_desc, &reclaim_interval_desc,
		&reclaim_isolate_desc, &reclaim_stalls_desc, &hist_bucket_desc,
		&reclaim_kswapd_desc, &reclaim_process_desc, &reclaim_shrinker_desc,
		&reclaim_stall_desc, &lost_desc, NULL },
	.values = reclaim_values,
};
