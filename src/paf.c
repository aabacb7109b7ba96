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
 * allocation had to leave in each (its lowmem reserve) and the free blocks it could use.
 */
static json_object *zones_json(const struct paf_event *e, int hi, struct verdict_input *vin)
{
	json_object *arr = json_object_new_array();
	const struct sys_node *n = &e->node;

	vin->nr_zones = 0;
	for (int z = 0; z <= hi && z < SYS_MAX_ZONES; z++) {
		const struct sys_zone *zn = &n->zone[z];
		json_object *o = json_object_new_object(), *blocks = json_object_new_array();
		struct verdict_zone *vz = &vin->zone[vin->nr_zones++];
		struct zone_row row;

		vz->name = zn->name;
		vz->populated = zn->present != 0;
		vz->free = zn->free;
		vz->free_cma = zn->free_cma;
		vz->min = zn->wmark[0] + zn->boost;
		vz->reserve = hi < (int)n->nr_protection ? zn->protection[hi] : 0;
		for (unsigned int i = 0; i < n->nr_orders && i < VERDICT_MAX_ORDERS; i++)
			vz->nr_free[i] = zn->nr_free[i];
		zone_row_of(n, z, &row);
		record_json_fields(&zone_desc, &row, o);
		json_object_object_add(o, "reserve_bytes",
				       json_u64(counter_nonneg(vz->reserve) * ms_page_size()));
		for (unsigned int i = e->order; i < n->nr_orders && i < SYS_MAX_ORDERS; i++)
			json_object_array_add(blocks, json_u64(zn->nr_free[i]));
		/* free blocks of the requested order and above, from that order up */
		json_object_object_add(o, "free_blocks_from_order", blocks);
		json_object_array_add(arr, o);
	}
	return arr;
}

static void print_event_text(json_object *r, const struct paf_event *e, double ts,
			     const char *flags, const char *story, const char *verdict)
{
	char when[24], b[6][32], mt[48];
	json_object *zones;
	char cbuf[COMM_TEXT_LEN];

	out_printf("%s  allocation failure: pid %u tid %u (%s), order %u (%s), %s\n",
		   fmt_clock(when, sizeof(when), ts, true), e->pid, e->tid, comm_text(e->comm, cbuf),
		   e->order,
		   fmt_bytes(b[0], sizeof(b[0]), (uint64_t)ms_page_size() << e->order),
		   kbtf_enum_short("migratetype", e->migratetype, "MIGRATE_", mt, sizeof(mt)));
	out_printf("  gfp      %#llx %s\n", (unsigned long long)e->gfp, flags);
	if (json_object_object_get_ex(r, "zones", &zones) && zones) {
		out_printf("  node %u  %-8s %10s %10s %10s %10s %10s %10s %10s  blocks>=o%u\n",
			   e->cpu_node, "zone", "free", "free_cma", "min", "low", "high", "boost",
			   "reserve", e->order);
		for (size_t i = 0; i < json_object_array_length(zones); i++) {
			json_object *z = json_object_array_get_idx(zones, i), *v;
			static const char *const keys[] = { "free_bytes", "free_cma_bytes",
							     "min_bytes", "low_bytes", "high_bytes",
							     "boost_bytes" };
			char total[32];
			unsigned long long blocks = 0;

			json_object_object_get_ex(z, "zone", &v);
			out_printf("          %-8s", json_object_get_string(v));
			for (int k = 0; k < 6; k++) {
				json_object_object_get_ex(z, keys[k], &v);
				out_printf(" %10s", out_format_value(v, COL_BYTES, b[1], sizeof(b[1])));
			}
			json_object_object_get_ex(z, "reserve_bytes", &v);
			out_printf(" %10s", out_format_value(v, COL_BYTES, b[2], sizeof(b[2])));
			json_object_object_get_ex(z, "free_blocks_from_order", &v);
			for (size_t o = 0; o < json_object_array_length(v); o++)
				blocks += json_object_get_uint64(json_object_array_get_idx(v, o));
			snprintf(total, sizeof(total), "%llu", blocks);
			out_printf("  %s\n", total);
		}
	} else {
		out_printf("  zones    unknown (node %u not found)\n", e->cpu_node);
	}
	out_wrap("  slow path ", "            ", story);
	out_wrap("  verdict  ", "           ", verdict);
	if (json_object_object_get_ex(r, "stack", &zones)) {
		out_printf("  stack\n");
		for (size_t i = 0; i < json_object_array_length(zones); i++)
			out_printf("    %s\n",
				   json_object_get_string(json_object_array_get_idx(zones, i)));
	}
	out_printf("\n");
	out_flush();
}

/*
 * The kernel stack of the failure, symbolized. The first frames are memscope's
 * own program and the tracepoint glue that called it (bpf_trace_run*): skip them.
 */
static json_object *stack_json(const struct paf_event *e)
{
	int n = e->stack_bytes > 0 ? e->stack_bytes / 8 : 0;

	return ksyms_stack_json(ksyms, (const uint64_t *)e->stack, n < PAF_MAX_STACK ? n : PAF_MAX_STACK);
}

struct run_ctx {
	long seen, limit;
};

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

static json_object *slow_path_json(const struct paf_event *e)
{
	const struct paf_story *s = &e->story;
	json_object *so;
	char res[48], prio[48];

	if (!e->has_story)
		return NULL;
	so = json_object_new_object();
	json_object_object_add(so, "direct_reclaims", json_object_new_int(s->reclaim_count));
	json_object_object_add(so, "reclaimed_pages", json_u64(s->reclaimed));
	json_object_object_add(so, "reclaim_ns", json_u64(s->reclaim_ns));
	json_object_object_add(so, "compaction_tries", json_object_new_int(s->compact_tries));
	json_object_object_add(so, "compact_retries", json_object_new_int(s->compact_retries));
	json_object_object_add(so, "last_compact_result", s->compact_retries ?
		json_object_new_string(kbtf_enum_short("compact_result", s->compact_result,
						       "COMPACT_", res, sizeof(res))) : NULL);
	json_object_object_add(so, "last_compact_priority", s->compact_retries ?
		json_object_new_string(kbtf_enum_short("compact_priority", s->compact_priority,
						       "COMPACT_PRIO_", prio, sizeof(prio))) : NULL);
	json_object_object_add(so, "reclaim_retries", json_object_new_int(s->retry_zone_count));
	json_object_object_add(so, "max_no_progress_loops",
			       json_object_new_int(s->max_no_progress_loops));
	json_object_object_add(so, "duration_ns", json_u64(s->last_ns - s->first_ns));
	return so;
}

/* The failure's record; flags, story and verdict are also handed back for the text. */
static json_object *failure_json(const struct paf_event *e, char *flags, size_t flen,
				 char *story, size_t slen, char *verdict, size_t vlen)
{
	json_object *r = json_object_new_object();
	struct verdict_input vin;
	enum verdict_kind kind;
	char mt[48], res[48];

	gfp_format(&gfp, e->gfp, flags, flen);
	story_text(e, story, slen);
	verdict_input_of(e, &vin, res, sizeof(res));
	json_object_object_add(r, "type", json_object_new_string("paf"));
	json_object_object_add(r, "ts", json_ts(ms_boot_ns_to_real(e->ts_ns)));
	json_object_object_add(r, "pid", json_object_new_int(e->pid));
	json_object_object_add(r, "tid", json_object_new_int(e->tid));
	json_object_object_add(r, "comm",
			       json_object_new_string_len(e->comm, strnlen(e->comm, sizeof(e->comm))));
	json_object_object_add(r, "order", json_object_new_int(e->order));
	json_object_object_add(r, "size_bytes", json_u64((uint64_t)ms_page_size() << e->order));
	json_object_object_add(r, "gfp", json_u64(e->gfp));
	json_object_object_add(r, "gfp_flags", json_object_new_string(flags));
	json_object_object_add(r, "migratetype", json_object_new_string(
		kbtf_enum_short("migratetype", e->migratetype, "MIGRATE_", mt, sizeof(mt))));
	json_object_object_add(r, "cpu_node", json_object_new_int(e->cpu_node));
	if (e->has_node) {
		int hi = highest_zone(&e->node, e->gfp);

		json_object_object_add(r, "highest_zone", json_object_new_string(e->node.zone[hi].name));
		json_object_object_add(r, "zones", zones_json(e, hi, &vin));
	} else {
		json_object_object_add(r, "highest_zone", NULL);
		json_object_object_add(r, "zones", NULL);
	}
	json_object_object_add(r, "slow_path", slow_path_json(e));
	json_object_object_add(r, "slow_path_summary", json_object_new_string(story));
	kind = verdict_explain(&vin, verdict, vlen);
	json_object_object_add(r, "verdict", json_object_new_string(verdict));
	json_object_object_add(r, "verdict_kind", json_object_new_string(verdict_kind_name(kind)));
	if (cfg.stack)
		json_object_object_add(r, "stack", stack_json(e));
	return r;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct run_ctx *rc = ctx;
	const struct paf_event *e = data;
	char flags[1024], story[512], verdict[1024];
	json_object *r;

	if (len < sizeof(*e) || (rc->limit && rc->seen >= rc->limit))
		return 0;
	rc->seen++;
	r = failure_json(e, flags, sizeof(flags), story, sizeof(story), verdict, sizeof(verdict));
	if (out_json_mode()) {
		out_json(r);
	} else {
		print_event_text(r, e, ms_boot_ns_to_real(e->ts_ns), flags, story, verdict);
		json_object_put(r);
	}
	if (rc->limit && rc->seen >= rc->limit)
		ms_request_stop(MS_STOP_DONE);
	return 0;
}

/* --summary: drain the kernel's per-(order, flags, comm) counts. */
static const struct ms_col summary_cols[] = {
	{ "COUNT", "count", COL_INT, false },
	{ "ORDER", "order", COL_INT, false },
	{ "COMM", "comm", COL_STR, true },
	{ "GFP_FLAGS", "gfp_flags", COL_STR, true },
};

static void add_count(const struct paf_key *key, __u64 count, void *ctx)
{
	json_object *r = json_object_new_object();
	char flags[1024];

	json_object_object_add(r, "type", json_object_new_string("paf_summary"));
	json_object_object_add(r, "ts", json_ts(ms_wall_now()));
	json_object_object_add(r, "count", json_u64(count));
	json_object_object_add(r, "order", json_object_new_int(key->order));
	json_object_object_add(r, "comm",
			       json_object_new_string_len(key->comm, strnlen(key->comm, sizeof(key->comm))));
	json_object_object_add(r, "gfp", json_u64(key->gfp));
	json_object_object_add(r, "gfp_flags",
			       json_object_new_string(gfp_format(&gfp, key->gfp, flags, sizeof(flags))));
	table_add(ctx, r);
}

static void print_summary(struct failures *fl, double ts)
{
	struct ms_table *t = table_new(summary_cols, ARRAY_SIZE(summary_cols));
	long rows;
	char when[16];

	failures_each_count(fl, true, add_count, t);
	rows = table_rows(t);
	if (!out_json_mode()) {
		out_printf("%s  %ld kind%s of failure\n", fmt_clock(when, sizeof(when), ts, false), rows,
			   rows == 1 ? "" : "s");
		table_flush(t);
	} else if (!rows) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "type", json_object_new_string("paf_summary"));
		json_object_object_add(r, "ts", json_ts(ts));
		json_object_object_add(r, "count", json_object_new_int(0));
		out_json(r);
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
		json_object *r = json_object_new_object();

		json_object_object_add(r, "type", json_object_new_string("paf_stats"));
		json_object_object_add(r, "ts", json_ts(ms_wall_now()));
		json_object_object_add(r, "failures", json_u64(t.failures));
		json_object_object_add(r, "lost", json_u64(t.lost));
		json_object_object_add(r, "filtered", json_u64(t.filtered));
		out_json(r);
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
		ms_ringbuf_run(failures_events_fd(fl), on_event, &rc, o->duration);
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
};
