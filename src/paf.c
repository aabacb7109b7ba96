// SPDX-License-Identifier: GPL-2.0
/* memscope paf: page allocation failures — what failed, why, and what the kernel tried. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "textsafe.h"
#include "strbuf.h"
#include "commands.h"
#include "filters.h"
#include "gfp.h"
#include "kbtf.h"
#include "ksyms.h"
#include "failures.h"
#include "nodes.h"
#include "output.h"
#include "util.h"
#include "runtime.h"
#include "units.h"
#include "paf.h"

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

static struct paf_decoder dec;

/* The zones at the failure: a table (cut to the line), with the blocks it could use. */
static void print_zones(json_object *zones, const struct paf_event *e)
{
	static char blocks_head[16];
	struct ms_col cols[] = {
		/* a narrow screen: free against the minimum, and the blocks it needed */
		{ "ZONE", "zone", COL_STR, true, true },
		{ "FREE", "free_bytes", COL_BYTES, false, true },
		{ "MIN", "min_bytes", COL_BYTES, false, true },
		{ "LOW", "low_bytes", COL_BYTES, false, false },
		{ "HIGH", "high_bytes", COL_BYTES, false, false },
		{ "RESERVE", "reserve_bytes", COL_BYTES, false, false },
		{ blocks_head, "blocks", COL_INT, false, true },
		{ "BOOST", "boost_bytes", COL_BYTES, false, false },
		{ "FREE_CMA", "free_cma_bytes", COL_BYTES, false, false },
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
			     const struct paf_row *row)
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
		const char *list[GFP_MAX_NAMES] = { "none" };
		char first[48];

		snprintf(first, sizeof(first), "  gfp      %#llx ", (unsigned long long)e->gfp);
		for (uint32_t i = 0; i < row->nr_gfp_flags; i++)
			list[i] = row->gfp_flags[i];
		out_wrap_list(first, "           ", list, row->nr_gfp_flags ? row->nr_gfp_flags : 1,
			      "|", false);
	}
	if (json_object_object_get_ex(r, "zones", &zones) && zones)
		print_zones(zones, e);
	else
		out_printf("  zones    unknown (node %u not found)\n", e->cpu_node);
	out_wrap("  slow path ", "            ", row->slow_path_summary);
	out_wrap("  verdict  ", "           ", row->verdict);
	if (json_object_object_get_ex(r, "stack", &stack) && stack) {
		out_printf("  stack\n");
		for (size_t i = 0; i < json_object_array_length(stack); i++)
			out_printf("    %s\n",
				   json_object_get_string(json_object_array_get_idx(stack, i)));
	}
	out_printf("\n");
	out_flush();
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
	paf_row_of(&dec, e, row);
	r = record_json(&paf_desc, row, ts);
	if (out_json_mode()) {
		out_json(r);
	} else {
		print_event_text(r, e, ts, row);
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
	row.nr_gfp_flags = gfp_names(&dec.gfp, key->gfp, row.gfp_flags, GFP_MAX_NAMES);
	gfp_format(&dec.gfp, key->gfp, row.gfp_text, sizeof(row.gfp_text));
	table_add(ctx, record_row(&paf_count_desc, &row, ms_wall_now()));
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
	struct failures_want w = { .events = !cfg.summary, .stack = cfg.stack,
				   .order_eq = cfg.order_eq, .order_min = cfg.order_min };
	struct failures *fl;

	paf_decoder_init(&dec, cfg.stack);
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
	paf_decoder_free(&dec);
	return 0;
}

static const struct ms_opt_value paf_values[] = {
	{ "cgroup", MS_ARG_CGROUP, NULL },
	{ NULL, 0, NULL },
};

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
	.values = paf_values,
};
