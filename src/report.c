// SPDX-License-Identifier: GPL-2.0
/*
 * memscope report: what the flight recorder saw. Incidents first (kills, failures,
 * long stalls, pressure peaks, snapshots), then the timeline; --at: the state at one
 * moment; --html: one self-contained page of plots with the events on them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "flight.h"
#include "outfile.h"
#include "output.h"
#include "record.h"
#include "recording.h"
#include "report_html.h"
#include "runtime.h"
#include "units.h"


static struct {
	const char *db, *since, *until, *at, *html;
} cfg = { .db = "/var/lib/memscope/memscope.db" };

enum { OPT_DB, OPT_SINCE, OPT_UNTIL, OPT_AT, OPT_HTML };

static const struct ms_cmd_opt report_opts[] = {
	{ "db", 0, required_argument, "PATH", "the recording (default "
	  "/var/lib/memscope/memscope.db)", OPT_DB },
	{ "since", 0, required_argument, "TIME", "from (2026-11-27T02:00:00Z, local "
	  "2026-11-27 03:00, or an age: 2h, 30m)", OPT_SINCE },
	{ "until", 0, required_argument, "TIME", "to (the same forms)", OPT_UNTIL },
	{ "at", 0, required_argument, "TIME", "the state at that moment, from the nearest "
	  "interval or snapshot", OPT_AT },
	{ "html", 0, required_argument, "FILE", "also write a self-contained HTML page with "
	  "plots (- : standard output)", OPT_HTML },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

static void report_parse_opt(int id, const char *arg)
{
	const char **slot[] = { &cfg.db, &cfg.since, &cfg.until, &cfg.at, &cfg.html };
	char opt[16];

	snprintf(opt, sizeof(opt), "--%s", report_opts[id].name);
	if (!*arg)
		ms_usage_error("%s needs a value", opt);
	if (id != OPT_DB && id != OPT_HTML) /* checked now: exit 2 before any work */
		ms_parse_time(opt, arg, ms_wall_now());
	*slot[id] = arg;
}

static void report_check(const struct ms_opts *o)
{
	double now = ms_wall_now();
	char why[4400];

	(void)o;
	if (cfg.at && (cfg.since || cfg.until || cfg.html))
		ms_usage_error("--at shows one moment: it does not go with --since, --until "
			       "or --html");
	/* one "now" for both: --since 1m --until 2h is a window that ends before it begins */
	if (cfg.since && cfg.until &&
	    ms_parse_time("--since", cfg.since, now) > ms_parse_time("--until", cfg.until, now))
		ms_usage_error("--since %s is after --until %s: nothing lies between", cfg.since,
			       cfg.until);
	if (cfg.html && strcmp(cfg.html, "-") && !outfile_check(cfg.html, why, sizeof(why)))
		ms_usage_error("--html: %s: give a file, or - for standard output", why);
}

/* ---- the records the report prints ---- */

struct incident_row {
	uint64_t null_mask;
	char time[32];
	char kind[16];
	char summary[320];
	int64_t snapshot_id;
	char record[16384]; /* JSON text */
};

#define IF(m, key, head, ft, unit, flags, help)                                            \
	FLD(struct incident_row, m, key, head, ft, unit, FK_LABEL, flags, help)
static const struct field incident_fields[] = {
	IF(time, "time", "TIME", FT_STR, FU_NONE, FF_TEXT | FF_LEFT,
	   "local time, ISO 8601 with the UTC offset (2026-11-27T03:14:00+01:00; text: the "
	   "clock); --at takes either"),
	IF(kind, "kind", "KIND", FT_STR, FU_NONE, FF_LEFT,
	   "failure, oom_kill, stall (one long reclaim stall), stalls (a run of intervals "
	   "with reclaim stalls), pressure (a PSI peak), snapshot; failure_allowed: a "
	   "failure its caller allowed (__GFP_NOWARN), no incident by itself"),
	IF(summary, "summary", "WHAT", FT_STR, FU_NONE, FF_LEFT, "in one line"),
	IF(snapshot_id, "snapshot_id", NULL, FT_S64, FU_NONE, FF_NULL,
	   "the snapshot it took (memscope report --at its time shows it); null: none"),
	IF(record, "record", NULL, FT_STR, FU_NONE, FF_NULL,
	   "the event's whole record (paf, oom or reclaim_stall), nested; null for what "
	   "the report derived"),
};
#undef IF
static const struct record_desc incident_desc =
	RECORD_DESC("report_incident", "memscope report: an incident of the recording",
		    incident_fields, struct incident_row);

struct interval_row {
	uint64_t null_mask;
	char time[32];
	uint64_t used_bytes, available_bytes, free_bytes;
	double psi_some_avg10_percent, psi_full_avg10_percent;
	uint64_t reclaim_scanned_pages, reclaim_reclaimed_pages, stalls;
	uint64_t stall_p50_at_most_ns, stall_p99_at_most_ns;
	int64_t failures, oom_kills;
	uint32_t largest_pid;
	char largest_comm[MS_COMM_LEN];
	uint64_t largest_rss_bytes;
};

#define VF(m, head, ft, unit, flags, help)                                                 \
	FLD(struct interval_row, m, #m, head, ft, unit, FK_GAUGE, flags, help)
static const struct field interval_fields[] = {
	VF(time, "TIME", FT_STR, FU_NONE, FF_TEXT | FF_LEFT,
	   "local time, ISO 8601 with the UTC offset (text: the clock)"),
	VF(used_bytes, "USED", FT_U64, FU_BYTES, FF_NULL, "MemTotal - MemAvailable"),
	VF(available_bytes, "AVAIL", FT_U64, FU_BYTES, FF_NULL, "MemAvailable"),
	VF(free_bytes, "FREE", FT_U64, FU_BYTES, FF_NULL, "MemFree"),
	VF(psi_some_avg10_percent, "PSI10", FT_F64, FU_PERCENT, FF_NULL,
	   "memory pressure, some, avg10; null without PSI"),
	VF(psi_full_avg10_percent, NULL, FT_F64, FU_PERCENT, FF_NULL, "full, avg10"),
	VF(reclaim_scanned_pages, "SCANNED", FT_U64, FU_PAGES, FF_COUNT,
	   "pages reclaim scanned in the interval"),
	VF(reclaim_reclaimed_pages, "RECLAIMED", FT_U64, FU_PAGES, FF_COUNT, "and reclaimed"),
	VF(stalls, "STALLS", FT_U64, FU_NONE, FF_COUNT,
	   "direct, memcg and node reclaim stalls in the interval"),
	VF(stall_p50_at_most_ns, NULL, FT_U64, FU_NS, FF_NULL,
	   "the largest reclaimer's median stall is at most this; null: no stall"),
	VF(stall_p99_at_most_ns, "P99", FT_U64, FU_NS, FF_NULL, "the same for the 99th percentile"),
	VF(failures, "FAIL", FT_S64, FU_NONE, 0, "page allocation failures"),
	VF(oom_kills, "OOM", FT_S64, FU_NONE, 0, "OOM kills"),
	VF(largest_pid, NULL, FT_U32, FU_NONE, FF_NULL, "the largest process by RSS"),
	VF(largest_comm, "LARGEST", FT_STR, FU_NONE, FF_NULL | FF_LEFT, "its name"),
	VF(largest_rss_bytes, "RSS", FT_U64, FU_BYTES, FF_NULL, "its RSS"),
};
#undef VF
static const struct record_desc interval_desc =
	RECORD_DESC("report_interval", "memscope report: one recorded interval", interval_fields,
		    struct interval_row);


/* ---- text and NDJSON ---- */

/* JSON: a date, a time and its zone, as --at takes it back; text: the clock. */
static void time_of(char *buf, size_t len, double ts)
{
	if (out_json_mode())
		fmt_iso(buf, len, ts);
	else
		fmt_clock(buf, len, ts, false);
}

static void incident_row_of(const struct revent *e, struct incident_row *row)
{
	memset(row, 0, sizeof(*row));
	time_of(row->time, sizeof(row->time), e->ts);
	snprintf(row->kind, sizeof(row->kind), "%s", e->kind);
	snprintf(row->summary, sizeof(row->summary), "%s", e->summary);
	row->snapshot_id = e->snapshot_id;
	if (!e->snapshot_id)
		record_null(&incident_desc, row, "snapshot_id");
	if (e->record)
		snprintf(row->record, sizeof(row->record), "%s", e->record);
	else
		record_null(&incident_desc, row, "record");
}

static void interval_row_of(const struct rsample *s, struct interval_row *row)
{
	static const char *const mem_keys[] = { "used_bytes", "available_bytes", "free_bytes" };
	static const char *const top_keys[] = { "largest_pid", "largest_comm",
						"largest_rss_bytes" };

	memset(row, 0, sizeof(*row));
	time_of(row->time, sizeof(row->time), s->ts);
	row->used_bytes = s->mem[MEM_USED];
	row->available_bytes = s->mem[MEM_AVAILABLE];
	row->free_bytes = s->mem[MEM_FREE];
	for (int i = 0; !s->has_mem && i < 3; i++)
		record_null(&interval_desc, row, mem_keys[i]);
	row->psi_some_avg10_percent = s->psi_some;
	row->psi_full_avg10_percent = s->psi_full;
	if (!s->has_psi) {
		record_null(&interval_desc, row, "psi_some_avg10_percent");
		record_null(&interval_desc, row, "psi_full_avg10_percent");
	}
	row->reclaim_scanned_pages = s->scanned;
	row->reclaim_reclaimed_pages = s->reclaimed;
	row->stalls = s->stalls;
	row->stall_p50_at_most_ns = s->p50;
	row->stall_p99_at_most_ns = s->p99;
	if (!s->stalls) {
		record_null(&interval_desc, row, "stall_p50_at_most_ns");
		record_null(&interval_desc, row, "stall_p99_at_most_ns");
	}
	row->failures = s->failures;
	row->oom_kills = s->oom_kills;
	row->largest_pid = s->top.pid;
	snprintf(row->largest_comm, sizeof(row->largest_comm), "%s", s->top.comm);
	row->largest_rss_bytes = s->top.rss;
	for (int i = 0; !s->has_top && i < 3; i++)
		record_null(&interval_desc, row, top_keys[i]);
}

static void print_head(const struct recording *r)
{
	char a[64], b[64], line[4400];
	int intervals = 0;

	for (int i = 0; i < r->n; i++)
		intervals += !r->s[i].snapshot;
	if (out_json_mode())
		return;
	if (!r->n) {
		out_printf("%s: nothing recorded in that window\n", cfg.db);
		return;
	}
	snprintf(line, sizeof(line), "%d intervals and %d snapshots, %s to %s", intervals,
		 r->n - intervals, fmt_clock(a, sizeof(a), r->s[0].ts, false),
		 fmt_clock(b, sizeof(b), r->s[r->n - 1].ts, false));
	out_printf("%s:\n", cfg.db);
	out_wrap("  ", "  ", line);
}

/* An incident in text: its time, its kind and its sentence, wrapped under itself. */
static void incident_text(const struct revent *e)
{
	char first[64], clock[16];

	snprintf(first, sizeof(first), "%s %-8s ", fmt_clock(clock, sizeof(clock), e->ts, false),
		 e->kind);
	out_wrap(first, "                  ", e->summary);
}

/* The failures their callers allowed: one line, not an incident each. */
static void allowed_text(const struct recording *r)
{
	char line[400], orders[64] = "", comm[32] = "";
	int n = 0;

	for (int i = 0; i < r->nev; i++) {
		json_object *o, *v;

		if (strcmp(r->ev[i].kind, "failure_allowed"))
			continue;
		if (!n++ && (o = json_tokener_parse(r->ev[i].record))) {
			if (json_object_object_get_ex(o, "order", &v))
				snprintf(orders, sizeof(orders), " of order %d",
					 json_object_get_int(v));
			if (json_object_object_get_ex(o, "comm", &v))
				snprintf(comm, sizeof(comm), "%s", json_object_get_string(v));
			json_object_put(o);
		}
	}
	if (!n)
		return;
	snprintf(line, sizeof(line), "%d allocation failure%s%s (the first by %s) that the "
		 "caller allowed (__GFP_NOWARN: it falls back or retries, as a huge page pool "
		 "grown until memory runs out does): no incident by itself; -j lists each", n,
		 n == 1 ? "" : "s", orders, *comm ? comm : "?");
	out_wrap("  also  ", "        ", line);
}

static void print_incidents(const struct recording *r, const char *title)
{
	static struct incident_row row;
	int shown = 0;

	for (int i = 0; i < r->nev; i++)
		shown += strcmp(r->ev[i].kind, "failure_allowed") != 0;
	if (!out_json_mode())
		out_printf("\n%s%s\n", title, shown ? "" : ": none");
	for (int i = 0; i < r->nev; i++) {
		json_object *o;

		if (!out_json_mode()) {
			if (strcmp(r->ev[i].kind, "failure_allowed"))
				incident_text(&r->ev[i]);
			continue;
		}
		incident_row_of(&r->ev[i], &row);
		o = record_row(&incident_desc, &row, r->ev[i].ts);
		/* the event's record as an object, not a string of JSON */
		if (r->ev[i].record)
			json_object_object_add(o, "record", json_tokener_parse(r->ev[i].record));
		out_json(o);
	}
	if (!out_json_mode())
		allowed_text(r);
}

static void print_timeline(const struct recording *r)
{
	struct ms_col cols[24];
	struct ms_table *t = table_new(cols, record_cols(&interval_desc, cols, 24, 0));

	if (!out_json_mode() && r->n)
		out_printf("\nTimeline\n");
	for (int i = 0; i < r->n; i++) {
		struct interval_row row;

		if (r->s[i].snapshot)
			continue;
		interval_row_of(&r->s[i], &row);
		table_add(t, record_row(&interval_desc, &row, r->s[i].ts));
	}
	table_flush(t);
	table_free(t);
}

/* ---- --at: the state at one moment ---- */

#define AROUND_S 60.0

static int64_t nearest_sample(struct flight *f, double at, double *ts, char *what, size_t len)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	if (sqlite3_prepare_v2(f->db, "SELECT id, ts, kind, reason FROM samples "
				      "ORDER BY ABS(ts - ?1), kind DESC LIMIT 1", -1, &st, NULL))
		ms_fatal("report: %s: %s", f->path, sqlite3_errmsg(f->db));
	sqlite3_bind_double(st, 1, at);
	if (flight_step(f, st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		*ts = sqlite3_column_double(st, 1);
		snprintf(what, len, "%s%s%s%s", sqlite3_column_text(st, 2),
			 sqlite3_column_text(st, 3) ? " (" : "",
			 sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "",
			 sqlite3_column_text(st, 3) ? ")" : "");
	}
	sqlite3_finalize(st);
	return id;
}

/* The rows of one table of the sample, as their records (JSON) and a text table. */
static void print_rows(struct flight *f, enum flight_table tab, int64_t id, double ts,
		       const char *order, int limit, const char *title,
		       const char *const *keys)
{
	const struct sqlrec_table *t = &f->t[tab];
	struct ms_col cols[16];
	struct ms_table *tb = table_new(cols, record_cols_pick(t->d, keys, cols, 16));
	char sql[512];
	sqlite3_stmt *st;
	int n = 0;

	snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE sample_id = ?1 %s LIMIT %d", t->name,
		 order, limit);
	if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK)
		ms_fatal("report: %s: %s", f->path, sqlite3_errmsg(f->db));
	sqlite3_bind_int64(st, 1, id);
	while (flight_step(f, st) == SQLITE_ROW) {
		json_object *o = sqlrec_row_json(t, st);

		json_object_object_del(o, "sample_id");
		json_object_object_add(o, "ts", json_object_new_double(ts));
		if (!n++ && !out_json_mode())
			out_printf("\n%s\n", title);
		table_add(tb, o);
	}
	sqlite3_finalize(st);
	table_flush(tb);
	table_free(tb);
}

static void print_at(struct flight *f, double at)
{
	static const char *const node_keys[] = { "scope", "node", "total_bytes", "used_bytes", "available_bytes",
						 "free_bytes", "anon_pages_bytes",
						 "file_pages_bytes", "shmem_bytes", "slab_bytes",
						 NULL };
	static const char *const zone_keys[] = { "node", "zone", "free_bytes", "min_bytes",
						 "low_bytes", "high_bytes", "managed_bytes", NULL };
	static const char *const proc_keys[] = { "pid", "comm", "rss_bytes", "rss_anon_bytes",
						 "rss_file_bytes", "swap_bytes", "cgroup", NULL };
	static const char *const memcg_keys[] = { "path", "usage_bytes", "limit_bytes",
						  "working_set_bytes", "events_oom_kill", NULL };
	static const char *const parts_keys[] = { "total_bytes", "free_bytes", "anon_bytes",
						  "file_bytes", "slab_reclaimable_bytes",
						  "slab_unreclaimable_bytes", "other_kernel_bytes",
						  NULL };
	static const char *const slab_keys[] = { "name", "cache_bytes", "objects_active",
						 "size_bytes", "reclaimable", NULL };
	static const char *const file_keys[] = { "cached_bytes", "dirty_bytes", "path", NULL };
	char what[128], when[32], off[32];
	struct recording r;
	double ts = 0;
	int64_t id = nearest_sample(f, at, &ts, what, sizeof(what));

	if (!id) {
		out_printf("%s: nothing recorded\n", cfg.db);
		return;
	}
	if (!out_json_mode()) {
		char line[512];

		snprintf(line, sizeof(line), "the %s at %s, %s from the time asked", what,
			 fmt_clock(when, sizeof(when), ts, false),
			 fmt_duration_ns(off, sizeof(off), (uint64_t)(fabs(ts - at) * 1e9)));
		out_printf("%s:\n", cfg.db);
		out_wrap("  ", "  ", line);
	}
	print_rows(f, FT_NODE, id, ts, "ORDER BY scope DESC, node", 64, "Memory", node_keys);
	print_rows(f, FT_ZONE, id, ts, "", 64, "Zones", zone_keys);
	print_rows(f, FT_PROC, id, ts, "ORDER BY rss_bytes DESC", 10, "Largest processes",
		   proc_keys);
	print_rows(f, FT_MEMCG, id, ts, "ORDER BY usage_bytes DESC", 5,
		   "Largest memory cgroups", memcg_keys);
	print_rows(f, FT_PARTS, id, ts, "", 1, "Every byte of MemTotal", parts_keys);
	print_rows(f, FT_SLAB, id, ts, "ORDER BY cache_bytes DESC", 10, "Largest slab caches",
		   slab_keys);
	print_rows(f, FT_FILE, id, ts, "ORDER BY cached_bytes DESC", 10,
		   "Files with most page cache", file_keys);
	/* what happened around it: kills, failures, stalls, pressure, as the report lists
	 * them; the moment, not the timeline around it */
	recording_load(f, ts - AROUND_S, ts + AROUND_S, &r);
	print_incidents(&r, "Incidents within a minute of it");
	recording_free(&r);
}

/* ---- the run ---- */

/*
 * A damaged file (a disk error, a copy taken mid-write) is read as far as it goes; the
 * report then ends with one line that says so, and exit 1.
 */
static void damage_said(const struct flight *f)
{
	if (f->damage[0] && f->corrupt)
		ms_fatal("report: %s is damaged (%s): what is above is what could be read; "
			 "'sqlite3 %s .recover' saves the rest into a new database", f->path,
			 f->damage, f->path);
	if (f->damage[0])
		ms_fatal("report: reading %s failed (%s): what is above is what could be read",
			 f->path, f->damage);
}

static int report_run(const struct ms_opts *o)
{
	double now = ms_wall_now();
	struct recording r;
	struct flight f;
	char err[4400];

	(void)o;
	if (!flight_open(&f, cfg.db, false, err, sizeof(err)))
		ms_fatal("report: %s", err);
	flight_check(&f);
	if (cfg.at) {
		print_at(&f, ms_parse_time("--at", cfg.at, now));
	} else {
		recording_load(&f, cfg.since ? ms_parse_time("--since", cfg.since, now) : 0,
			       cfg.until ? ms_parse_time("--until", cfg.until, now) : 1e12, &r);
		if (cfg.html && !report_html_write(cfg.html, cfg.db, &r, err, sizeof(err)))
			ms_fatal("report: %s", err);
		if (!cfg.html || strcmp(cfg.html, "-")) {
			print_head(&r);
			print_incidents(&r, "Incidents");
			print_timeline(&r);
		}
		recording_free(&r);
	}
	out_flush(); /* a failed write of the page to standard output, too */
	if (ms_stop_reason() != MS_STOP_PIPE)
		damage_said(&f);
	flight_close(&f);
	return 0;
}

static const struct ms_opt_value report_values[] = {
	{ "db", MS_ARG_FILE, NULL },
	{ "html", MS_ARG_FILE, NULL },
	{ NULL, 0, NULL },
};

const struct ms_cmd cmd_report = {
	.name = "report",
	.summary = "what the flight recorder saw: incidents, timeline, a moment, HTML plots",
	.details =
		"Reads a database memscope record wrote (it may still be recording).\n"
		"Incidents first: page allocation failures with their verdict, OOM kills,\n"
		"long reclaim stalls, runs of stalls, pressure peaks and the snapshots\n"
		"they took; then one line per interval. --at shows the memory, zones,\n"
		"largest processes and cgroups of the nearest interval or snapshot, and\n"
		"the incidents within a minute of it.\n"
		"--html writes one page (no network needed) with plots over time and the\n"
		"events on them: hover a marker for its summary, click for the record.",
	.examples = "  memscope report                                 all of it\n"
		    "  memscope report --since 2h                      the last two hours\n"
		    "  memscope report --since 2026-11-27T01:00:00Z --until 2026-11-27T03:00:00Z\n"
		    "  memscope report --at 2026-11-27T02:14:00Z       the state then\n"
		    "  memscope report --html /tmp/night.html          plots, for a browser\n"
		    "  memscope report -j | jq 'select(.type == \"report_incident\")'\n",
	.opts = report_opts,
	.parse_opt = report_parse_opt,
	.check = report_check,
	.run = report_run,
	.records = (const struct record_desc *const[]){ &incident_desc, &interval_desc, NULL },
	.values = report_values,
};
