// SPDX-License-Identifier: GPL-2.0
/* memscope paf: page allocation failures — what failed, why, and what the kernel tried. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "textsafe.h"
#include "strbuf.h"
#include "commands.h"
#include "filters.h"
#include "gfp.h"
#include "hooks.h"
#include "iter.h"
#include "kbtf.h"
#include "ksyms.h"
#include "loss.h"
#include "failures.h"
#include "nodes.h"
#include "counters.h"
#include "output.h"
#include "util.h"
#include "runtime.h"
#include "units.h"
#include "verdict.h"
#include "paf.h"
#include "paf.skel.h"

static struct {
	bool summary, stack;
	int order_eq, order_min;
	struct ms_cgroup_filter cgroup;
} cfg = { .order_eq = -1, .order_min = -1 };

enum { OPT_SUMMARY, OPT_STACK, OPT_ORDER, OPT_MIN_ORDER, OPT_CGROUP };

static const struct ms_cmd_opt paf_opts[] = {
	{ "summary", 0, no_argument, NULL,
	  "count failures per interval by order, flags and command instead of one block each",
	  OPT_SUMMARY },
	{ "stack", 0, no_argument, NULL, "the kernel stack of each failure, symbolized",
	  OPT_STACK },
	{ "order", 0, required_argument, "N", "only failures of this order", OPT_ORDER },
	{ "min-order", 0, required_argument, "N", "only failures of this order or larger",
	  OPT_MIN_ORDER },
	{ "cgroup", 0, required_argument, "PATH",
	  "only processes in this memory cgroup (v1 or v2) or below", OPT_CGROUP },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

static void paf_parse_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_SUMMARY:
		cfg.summary = true;
		break;
	case OPT_STACK:
		cfg.stack = true;
		break;
	case OPT_ORDER:
		cfg.order_eq = ms_parse_long("--order", arg, 0, SYS_MAX_ORDERS - 1);
		break;
	case OPT_MIN_ORDER:
		cfg.order_min = ms_parse_long("--min-order", arg, 0, SYS_MAX_ORDERS - 1);
		break;
	case OPT_CGROUP:
		ms_cgroup_filter_parse(arg, &cfg.cgroup);
		break;
	}
}

static void paf_check(const struct ms_opts *o)
{
	if (cfg.summary && cfg.stack)
		ms_usage_error("paf: --stack goes with the event view, not --summary");
	if (!cfg.summary && o->interval)
		ms_usage_error("paf: --interval goes with --summary (events print as they come)");
	if (cfg.order_eq >= 0 && cfg.order_min >= 0 && cfg.order_eq < cfg.order_min)
		ms_usage_error("paf: --order %d is below --min-order %d: nothing could match",
			       cfg.order_eq, cfg.order_min);
}

/* ---- decoding ---- */

static struct gfp_table gfp;
static struct ksyms *ksyms;
static long long migrate_movable = -1;

/* The highest zone the request may use: gfp_zone() from the kernel's own flag bits. */
static int highest_zone(const struct sys_node *n, unsigned long mask)
{
	const char *want = "Normal";
	unsigned long highmem = gfp_flag_mask(&gfp, "__GFP_HIGHMEM");

	if (mask & gfp_flag_mask(&gfp, "__GFP_DMA"))
		want = "DMA";
	else if (mask & gfp_flag_mask(&gfp, "__GFP_DMA32"))
		want = "DMA32";
	else if ((mask & highmem) && (mask & gfp_flag_mask(&gfp, "__GFP_MOVABLE")))
		want = "Movable";
	else if (mask & highmem)
		want = "HighMem";
	for (int pass = 0; pass < 2; pass++) {
		for (int z = 0; z < (int)n->nr_zones && z < SYS_MAX_ZONES; z++)
			if (!strcmp(n->zone[z].name, want))
				return z;
		want = "Normal"; /* no HighMem on 64-bit kernels */
	}
	return n->nr_zones - 1;
}

static bool has_flag(unsigned long mask, const char *name)
{
	unsigned long m = gfp_flag_mask(&gfp, name);

	return m && (mask & m) == m;
}

static void story_text(const struct paf_event *e, char *buf, size_t len)
{
	const struct paf_story *s = &e->story;
	char d[32], res[48];
	struct strbuf sb;

	sb_init(&sb, buf, len);
	if (!e->has_story) {
		snprintf(buf, len, "none seen (no direct reclaim, compaction or retry)");
		return;
	}
	if (s->reclaim_count)
		sb_add(&sb, "direct reclaim x%u (reclaimed %llu page%s, %s)", s->reclaim_count,
		       (unsigned long long)s->reclaimed, s->reclaimed == 1 ? "" : "s",
		       fmt_duration_ns(d, sizeof(d), s->reclaim_ns));
	if (s->compact_tries || s->compact_retries) {
		sb_sep(&sb, "; ");
		sb_add(&sb, "compaction x%u%s%s", s->compact_tries,
		       s->compact_retries ? ", last result " : "",
		       s->compact_retries ? kbtf_enum_short("compact_result", s->compact_result,
						       "COMPACT_", res, sizeof(res)) : "");
	}
	if (s->retry_zone_count) {
		sb_sep(&sb, "; ");
		sb_add(&sb, "%u reclaim retries, up to %u without progress", s->retry_zone_count,
		       s->max_no_progress_loops);
	}
	if (!sb.off)
		snprintf(buf, len, "slow path entered, nothing tried");
}

/*
 * The zones the allocation could use (up to hi), as sys records them, with what this
 * allocation had to leave in each (its lowmem reserve) and the free blocks it could use;
 * and the same for the verdict.
 */
static void zones_of(const struct paf_event *e, int hi, struct paf_row *r,
		     struct verdict_input *vin)
{
	const struct sys_node *n = &e->node;

	vin->nr_zones = 0;
	for (int z = 0; z <= hi && z < SYS_MAX_ZONES; z++) {
		const struct sys_zone *zn = &n->zone[z];
		struct verdict_zone *vz = &vin->zone[vin->nr_zones++];
		struct paf_zone_row *pz = &r->zones[r->nr_zones++];

		vz->name = zn->name;
		vz->populated = zn->present != 0;
		vz->free = zn->free;
		vz->free_cma = zn->free_cma;
		vz->min = zn->wmark[0] + zn->boost;
		vz->reserve = hi < (int)n->nr_protection ? zn->protection[hi] : 0;
		for (unsigned int i = 0; i < n->nr_orders && i < VERDICT_MAX_ORDERS; i++)
			vz->nr_free[i] = zn->nr_free[i];
		zone_row_of(n, z, &pz->zone);
		pz->reserve_bytes = counter_nonneg(vz->reserve) * ms_page_size();
		for (unsigned int i = e->order; i < n->nr_orders && i < SYS_MAX_ORDERS; i++)
			pz->free_blocks_from_order[pz->nr_blocks++] = zn->nr_free[i];
	}
}

/* The zones at the failure: a table (cut to the line), with the blocks it could use. */
static void print_zones(json_object *zones, const struct paf_event *e)
{
	static char blocks_head[16];
	struct ms_col cols[] = {
		{ "ZONE", "zone", COL_STR, true },
		{ "FREE", "free_bytes", COL_BYTES, false },
		{ "MIN", "min_bytes", COL_BYTES, false },
		{ "LOW", "low_bytes", COL_BYTES, false },
		{ "HIGH", "high_bytes", COL_BYTES, false },
		{ "RESERVE", "reserve_bytes", COL_BYTES, false },
		{ blocks_head, "blocks", COL_INT, false },
		{ "BOOST", "boost_bytes", COL_BYTES, false },
		{ "FREE_CMA", "free_cma_bytes", COL_BYTES, false },
	};
	struct ms_table *t;

	snprintf(blocks_head, sizeof(blocks_head), "BLOCKS>=O%u", e->order);
	t = table_new(cols, ARRAY_SIZE(cols));
	out_printf("  node %u:\n", e->cpu_node);
	for (size_t i = 0; i < json_object_array_length(zones); i++) {
		json_object *z = json_object_array_get_idx(zones, i), *v, *row;
		unsigned long long blocks = 0;

		json_object_object_get_ex(z, "free_blocks_from_order", &v);
		for (size_t o = 0; o < json_object_array_length(v); o++)
			blocks += json_object_get_uint64(json_object_array_get_idx(v, o));
		row = json_object_get(z);
		json_object_object_add(row, "blocks", json_u64(blocks));
		table_add(t, row);
	}
	table_flush(t);
	table_free(t);
}

static void print_event_text(json_object *r, const struct paf_event *e, double ts,
			     const char *flags, const char *story, const char *verdict)
{
	char when[24], size[32], mt[48], head[160], cbuf[COMM_TEXT_LEN];
	json_object *zones, *stack;

	snprintf(head, sizeof(head), "allocation failure: pid %u tid %u (%s), order %u (%s), %s",
		 e->pid, e->tid, comm_text(e->comm, cbuf), e->order,
		 fmt_bytes(size, sizeof(size), (uint64_t)ms_page_size() << e->order),
		 kbtf_enum_short("migratetype", e->migratetype, "MIGRATE_", mt, sizeof(mt)));
	fmt_clock(when, sizeof(when), ts, true);
	strcat(when, "  ");
	out_wrap(when, "  ", head);
	{
		/* the flags wrap between names, which stay joined by '|' */
		char names[32][48], first[48];
		const char *list[33];
		int n = 0;

		snprintf(first, sizeof(first), "  gfp      %#llx ", (unsigned long long)e->gfp);
		for (const char *p = flags; *p && n < 32; n++) {
			size_t l = strcspn(p, "|");

			snprintf(names[n], sizeof(names[n]), "%.*s", (int)l, p);
			list[n] = names[n];
			p += l + (p[l] == '|');
		}
		out_wrap_list(first, "           ", list, n, "|", false);
	}
	if (json_object_object_get_ex(r, "zones", &zones) && zones)
		print_zones(zones, e);
	else
		out_printf("  zones    unknown (node %u not found)\n", e->cpu_node);
	out_wrap("  slow path ", "            ", story);
	out_wrap("  verdict  ", "           ", verdict);
	if (json_object_object_get_ex(r, "stack", &stack) && stack) {
		out_printf("  stack\n");
		for (size_t i = 0; i < json_object_array_length(stack); i++)
			out_printf("    %s\n",
				   json_object_get_string(json_object_array_get_idx(stack, i)));
	}
	out_printf("\n");
	out_flush();
}

/* The kernel stack of the failure, symbolized, without memscope's own frames. */
static void stack_of(const struct paf_event *e, struct paf_row *r)
{
	int n = e->stack_bytes > 0 ? e->stack_bytes / 8 : 0;

	if (n > PAF_MAX_STACK)
		n = PAF_MAX_STACK;
	for (int i = ksyms_stack_start(ksyms, (const uint64_t *)e->stack, n); i < n; i++)
		ksyms_format(ksyms, e->stack[i], r->stack[r->nr_stack++], sizeof(r->stack[0]));
}

struct run_ctx {
	long seen, limit;
	struct failures *fl;
};

/* Every failure the kernel counted (and did not drop or filter) was delivered? */
static bool caught_up(void *ctx)
{
	struct run_ctx *rc = ctx;
	struct failures_totals t;

	failures_totals(rc->fl, &t);
	return (rc->limit && rc->seen >= rc->limit) ||
	       (unsigned long long)rc->seen >= t.failures - t.lost; /* filtered ones are not counted */
}

/* What the verdict needs of the failure: its flags, and the slow path's story. */
static void verdict_input_of(const struct paf_event *e, struct verdict_input *vin, char *res,
			     size_t res_len)
{
	memset(vin, 0, sizeof(*vin));
	vin->order = e->order;
	vin->page_size = ms_page_size();
	vin->nr_orders = e->node.nr_orders;
	vin->has_zones = e->has_node;
	vin->can_use_cma = migrate_movable >= 0 && e->migratetype == migrate_movable;
	vin->direct_reclaim = has_flag(e->gfp, "__GFP_DIRECT_RECLAIM");
	vin->noretry = has_flag(e->gfp, "__GFP_NORETRY");
	vin->retry_mayfail = has_flag(e->gfp, "__GFP_RETRY_MAYFAIL");
	vin->nofail = has_flag(e->gfp, "__GFP_NOFAIL");
	vin->thisnode = has_flag(e->gfp, "__GFP_THISNODE");
	vin->has_story = e->has_story;
	if (!e->has_story)
		return;
	vin->reclaim_count = e->story.reclaim_count;
	vin->reclaimed = e->story.reclaimed;
	vin->compact_tries = e->story.compact_tries;
	vin->compact_retries = e->story.compact_retries;
	vin->retry_zone_count = e->story.retry_zone_count;
	vin->max_no_progress_loops = e->story.max_no_progress_loops;
	if (e->story.compact_retries)
		vin->compact_result = kbtf_enum_short("compact_result", e->story.compact_result,
						      "COMPACT_", res, res_len);
}

static void slow_path_of(const struct paf_event *e, struct paf_row *r)
{
	const struct paf_story *s = &e->story;
	struct paf_slow_path_row *sp = &r->slow_path;

	if (!e->has_story) {
		record_null(&paf_desc, r, "slow_path");
		return;
	}
	sp->direct_reclaims = s->reclaim_count;
	sp->reclaimed_pages = s->reclaimed;
	sp->reclaim_ns = s->reclaim_ns;
	sp->compaction_tries = s->compact_tries;
	sp->compact_retries = s->compact_retries;
	if (s->compact_retries) {
		kbtf_enum_short("compact_result", s->compact_result, "COMPACT_",
				sp->last_compact_result, sizeof(sp->last_compact_result));
		kbtf_enum_short("compact_priority", s->compact_priority, "COMPACT_PRIO_",
				sp->last_compact_priority, sizeof(sp->last_compact_priority));
	} else {
		record_null(&paf_slow_path_desc, sp, "last_compact_result");
		record_null(&paf_slow_path_desc, sp, "last_compact_priority");
	}
	sp->reclaim_retries = s->retry_zone_count;
	sp->max_no_progress_loops = s->max_no_progress_loops;
	sp->duration_ns = s->last_ns - s->first_ns;
}

/* The failure as the "paf" record describes it. */
static void failure_row(const struct paf_event *e, struct paf_row *r)
{
	struct verdict_input vin;
	char res[48];

	memset(r, 0, sizeof(*r));
	r->pid = e->pid;
	r->tid = e->tid;
	memcpy(r->comm, e->comm, sizeof(r->comm));
	r->order = e->order;
	r->size_bytes = (uint64_t)ms_page_size() << e->order;
	r->gfp = e->gfp;
	gfp_format(&gfp, e->gfp, r->gfp_flags, sizeof(r->gfp_flags));
	kbtf_enum_short("migratetype", e->migratetype, "MIGRATE_", r->migratetype,
			sizeof(r->migratetype));
	r->cpu_node = e->cpu_node;
	verdict_input_of(e, &vin, res, sizeof(res));
	if (e->has_node) {
		int hi = highest_zone(&e->node, e->gfp);

		snprintf(r->highest_zone, sizeof(r->highest_zone), "%s", e->node.zone[hi].name);
		zones_of(e, hi, r, &vin);
	} else {
		record_null(&paf_desc, r, "highest_zone");
	}
	slow_path_of(e, r);
	story_text(e, r->slow_path_summary, sizeof(r->slow_path_summary));
	snprintf(r->verdict_kind, sizeof(r->verdict_kind), "%s",
		 verdict_kind_name(verdict_explain(&vin, r->verdict, sizeof(r->verdict))));
	if (cfg.stack)
		stack_of(e, r);
	else
		record_null(&paf_desc, r, "stack");
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct run_ctx *rc = ctx;
	const struct paf_event *e = data;
	double ts = ms_boot_ns_to_real(e->ts_ns);
	struct paf_row *row;
	json_object *r;

	if (len < sizeof(*e) || (rc->limit && rc->seen >= rc->limit))
		return 0;
	rc->seen++;
	row = calloc(1, sizeof(*row));
	if (!row)
		ms_fatal("out of memory");
	failure_row(e, row);
	r = record_json(&paf_desc, row, ts);
	if (out_json_mode()) {
		out_json(r);
	} else {
		print_event_text(r, e, ts, row->gfp_flags, row->slow_path_summary, row->verdict);
		json_object_put(r);
	}
	free(row);
	if (rc->limit && rc->seen >= rc->limit)
		ms_request_stop(MS_STOP_DONE);
	return 0;
}

/* --summary: drain the kernel's per-(order, flags, comm) counts. */
static void add_count(const struct paf_key *key, __u64 count, void *ctx)
{
	struct paf_count_row row = { .count = count, .order = key->order, .gfp = key->gfp };

	memcpy(row.comm, key->comm, sizeof(row.comm));
	gfp_format(&gfp, key->gfp, row.gfp_flags, sizeof(row.gfp_flags));
	table_add(ctx, record_json(&paf_count_desc, &row, ms_wall_now()));
}

static void print_summary(struct failures *fl, double ts)
{
	struct ms_col cols[8];
	struct ms_table *t = table_new(cols, record_cols(&paf_count_desc, cols, 8, 0));
	long rows;
	char when[16];

	failures_each_count(fl, true, add_count, t);
	rows = table_rows(t);
	if (!out_json_mode()) {
		out_printf("%s  %ld kind%s of failure\n", fmt_clock(when, sizeof(when), ts, false), rows,
			   rows == 1 ? "" : "s");
		table_flush(t);
	} else if (!rows) {
		/* an interval without failures says so */
		struct paf_count_row none = { 0 };

		record_null(&paf_count_desc, &none, "order");
		record_null(&paf_count_desc, &none, "comm");
		record_null(&paf_count_desc, &none, "gfp");
		record_null(&paf_count_desc, &none, "gfp_flags");
		out_json(record_json(&paf_count_desc, &none, ts));
	}
	table_free(t);
	out_flush();
}

/* What was seen and what was lost; in JSON as a final record. */
static void print_totals(struct failures *fl)
{
	struct failures_totals t;

	failures_totals(fl, &t);
	if (out_json_mode()) {
		struct paf_stats_row row = { .failures = t.failures, .lost = t.lost,
					     .filtered = t.filtered };

		out_json(record_json(&paf_stats_desc, &row, ms_wall_now()));
	} else if (ms_stop_reason() != MS_STOP_PIPE) {
		out_printf("%llu failure%s seen", t.failures, t.failures == 1 ? "" : "s");
		if (t.lost)
			out_printf(", %llu not shown: the ring buffer was full", t.lost);
		out_printf("\n");
		out_flush();
	}
}

static int paf_run(const struct ms_opts *o)
{
	struct run_ctx rc = { .limit = cfg.summary ? 0 : o->count };
	struct ms_filter f = ms_filter_of(o, &cfg.cgroup);
	struct failures_want w = { !cfg.summary, cfg.stack, cfg.order_eq, cfg.order_min };
	struct failures *fl;

	if (gfp_table_load(&gfp) < 0)
		ms_warn("cannot read the kernel's GFP flag names; flags print in hex");
	kbtf_enum_value("MIGRATE_MOVABLE", &migrate_movable);
	if (cfg.stack && !(ksyms = ksyms_load(NULL)))
		ms_fatal("--stack: cannot read /proc/kallsyms");
	fl = failures_open(&f, &w);
	if (!out_json_mode()) {
		out_printf(cfg.summary ? "counting page allocation failures; Ctrl-C to stop\n"
				       : "watching for page allocation failures; Ctrl-C to stop\n");
		out_flush();
	}
	if (cfg.summary) {
		struct ms_ticker tk;

		ticker_init(&tk, o->interval, o->count, o->duration);
		while (ticker_wait(&tk))
			print_summary(fl, ms_wall_now());
	} else {
		rc.fl = fl;
		ms_ringbuf_run(failures_events_fd(fl), on_event, &rc, o->duration);
		ms_ringbuf_drain(failures_events_fd(fl), on_event, &rc, caught_up, 2000);
	}
	print_totals(fl);
	failures_close(fl);
	ksyms_free(ksyms);
	return 0;
}

const struct ms_cmd cmd_paf = {
	.name = "paf",
	.summary = "page allocation failures: which allocation, which flags, the zone state, what "
		   "the slow path tried, and a verdict",
	.details =
		"Hooks kmem:mm_page_alloc, which ends every page allocation and carries no page\n"
		"when it failed; only failures leave the kernel. Each comes with the zone state\n"
		"of its node at that instant, the thread's slow-path story (direct reclaim,\n"
		"compaction, retries) and a verdict computed like the kernel's watermark check.\n"
		"-c N stops after N failures (with --summary: after N intervals).",
	.examples = "  memscope paf                       one block per failure\n"
		    "  memscope paf --stack --min-order 2 with kernel stacks, order >= 2\n"
		    "  memscope paf --summary -i 10       counts every 10 s\n"
		    "  memscope paf -j -d 60              a minute of failures as NDJSON\n",
	.shared = MS_OPT_LOOP | MS_OPT_FILTER,
	.opts = paf_opts,
	.parse_opt = paf_parse_opt,
	.check = paf_check,
	.run = paf_run,
	.hooks = failures_hooks,
	.nr_hooks = FAILURES_NR_HOOKS,
	.records = (const struct record_desc *const[]){ &paf_desc, &paf_zone_desc,
		&paf_slow_path_desc, &paf_count_desc, &paf_stats_desc, &zone_desc, NULL },
};
