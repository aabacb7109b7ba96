// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "recording.h"
#include "runtime.h"
#include "units.h"

/* ---- reading the recording ---- */

static sqlite3_stmt *query(struct flight *f, const char *sql, double from, double to)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK)
		ms_fatal("report: %s: %s", f->path, sqlite3_errmsg(f->db));
	sqlite3_bind_double(st, 1, from);
	sqlite3_bind_double(st, 2, to);
	return st;
}

static int by_id(const void *key, const void *elem)
{
	int64_t id = *(const int64_t *)key, o = ((const struct rsample *)elem)->id;

	return id < o ? -1 : id > o;
}

static struct rsample *find(struct recording *r, int64_t id)
{
	return bsearch(&id, r->s, r->n, sizeof(r->s[0]), by_id);
}

/* A zeroed new last element of *arr (n elements of size bytes), growing it by 256. */
static void *push(void *arr, int *n, size_t size)
{
	void **a = arr;

	if (*n % 256 == 0 && !(*a = realloc(*a, (*n + 256) * size)))
		ms_fatal("out of memory");
	memset((char *)*a + *n * size, 0, size);
	return (char *)*a + (*n)++ * size;
}

#define IN_WINDOW "sample_id IN (SELECT id FROM samples WHERE ts BETWEEN ?1 AND ?2)"

static void load_samples(struct flight *f, struct recording *r)
{
	sqlite3_stmt *st = query(f, "SELECT id, ts, kind, reason, interval_s, "
				    "psi_some_avg10_percent, psi_full_avg10_percent, failures, "
				    "oom_kills FROM samples WHERE ts BETWEEN ?1 AND ?2 ORDER BY id",
				 r->from, r->to);

	while (flight_step(f, st) == SQLITE_ROW) {
		struct rsample *s = push(&r->s, &r->n, sizeof(*r->s));

		s->id = sqlite3_column_int64(st, 0);
		s->ts = sqlite3_column_double(st, 1);
		s->snapshot = !strcmp((const char *)sqlite3_column_text(st, 2), "snapshot");
		snprintf(s->reason, sizeof(s->reason), "%s",
			 sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "");
		s->has_psi = sqlite3_column_type(st, 5) != SQLITE_NULL;
		s->psi_some = sqlite3_column_double(st, 5);
		s->psi_full = sqlite3_column_double(st, 6);
		s->failures = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 :
							 sqlite3_column_int64(st, 7);
		s->oom_kills = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 :
							  sqlite3_column_int64(st, 8);
	}
	sqlite3_finalize(st);
}

static void load_memory(struct flight *f, struct recording *r)
{
	sqlite3_stmt *st = query(f, "SELECT sample_id, used_bytes, available_bytes, free_bytes, "
				    "anon_pages_bytes, file_pages_bytes, slab_bytes, "
				    "kernel_stack_bytes + page_tables_bytes, total_bytes FROM node "
				    "WHERE scope = 'total' AND " IN_WINDOW, r->from, r->to);

	while (flight_step(f, st) == SQLITE_ROW) {
		struct rsample *s = find(r, sqlite3_column_int64(st, 0));

		if (!s)
			continue;
		s->has_mem = true;
		for (int i = 0; i < MEM_NR; i++)
			s->mem[i] = sqlite3_column_int64(st, i + 1);
	}
	sqlite3_finalize(st);
	st = query(f, "SELECT sample_id, SUM(min_bytes), SUM(low_bytes), SUM(high_bytes) FROM zone "
		      "WHERE " IN_WINDOW " GROUP BY sample_id", r->from, r->to);
	while (flight_step(f, st) == SQLITE_ROW) {
		struct rsample *s = find(r, sqlite3_column_int64(st, 0));

		for (int i = 0; s && i < 3; i++)
			s->wmark[i] = sqlite3_column_int64(st, i + 1);
	}
	sqlite3_finalize(st);
}

static void load_reclaim(struct flight *f, struct recording *r)
{
	sqlite3_stmt *st = query(f, "SELECT sample_id, scanned_pages, reclaimed_pages FROM reclaim "
				    "WHERE " IN_WINDOW, r->from, r->to);

	while (flight_step(f, st) == SQLITE_ROW) {
		struct rsample *s = find(r, sqlite3_column_int64(st, 0));

		if (!s)
			continue;
		s->has_reclaim = true;
		s->scanned = sqlite3_column_int64(st, 1);
		s->reclaimed = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	/* kswapd does not stall anyone: the stalls are direct, memcg and node reclaim */
	st = query(f, "SELECT sample_id, SUM(count), MAX(p50_at_most_ns), MAX(p99_at_most_ns) "
		      "FROM reclaim_stalls WHERE reclaimer != 'kswapd' AND " IN_WINDOW
		      " GROUP BY sample_id", r->from, r->to);
	while (flight_step(f, st) == SQLITE_ROW) {
		struct rsample *s = find(r, sqlite3_column_int64(st, 0));

		if (!s)
			continue;
		s->stalls = sqlite3_column_int64(st, 1);
		s->p50 = sqlite3_column_int64(st, 2);
		s->p99 = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
}

static void load_processes(struct flight *f, struct recording *r)
{
	sqlite3_stmt *st = query(f, "SELECT sample_id, pid, comm, rss_bytes FROM proc WHERE "
				    IN_WINDOW " ORDER BY sample_id, rss_bytes DESC", r->from, r->to);

	while (flight_step(f, st) == SQLITE_ROW) {
		struct rsample *s = find(r, sqlite3_column_int64(st, 0));
		struct rproc *p;

		if (!s || s->snapshot)
			continue;
		p = push(&r->proc, &r->nproc, sizeof(*r->proc));
		p->sample = (int)(s - r->s);
		p->pid = sqlite3_column_int(st, 1);
		snprintf(p->comm, sizeof(p->comm), "%s",
			 sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "?");
		p->rss = sqlite3_column_int64(st, 3);
		if (!s->has_top) { /* the first row of a sample is its largest */
			s->has_top = true;
			s->top = *p;
		}
	}
	sqlite3_finalize(st);
}

/* A failure its caller allowed (__GFP_NOWARN): the paf record's failure_allowed. */
static bool allowed(const char *record)
{
	json_object *o = json_tokener_parse(record), *v;
	bool yes = o && json_object_object_get_ex(o, "failure_allowed", &v) &&
		   json_object_get_boolean(v);

	json_object_put(o);
	return yes;
}

static void load_events(struct flight *f, struct recording *r)
{
	sqlite3_stmt *st = query(f, "SELECT ts, kind, summary, record, sample_id FROM events "
				    "WHERE ts BETWEEN ?1 AND ?2 ORDER BY ts", r->from, r->to);

	while (flight_step(f, st) == SQLITE_ROW) {
		struct revent *e = push(&r->ev, &r->nev, sizeof(*r->ev));

		e->ts = sqlite3_column_double(st, 0);
		snprintf(e->kind, sizeof(e->kind), "%s", sqlite3_column_text(st, 1));
		snprintf(e->summary, sizeof(e->summary), "%s",
			 sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
		e->record = strdup(sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3)
							      : "null");
		e->snapshot_id = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 :
							sqlite3_column_int64(st, 4);
		if (!strcmp(e->kind, "failure") && allowed(e->record))
			snprintf(e->kind, sizeof(e->kind), "failure_allowed");
	}
	sqlite3_finalize(st);
}

static void add_derived(struct recording *r, double ts, const char *kind, int64_t snap,
			const char *summary)
{
	struct revent *e = push(&r->ev, &r->nev, sizeof(*r->ev));

	e->ts = ts;
	e->derived = true;
	e->snapshot_id = snap;
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	snprintf(e->summary, sizeof(e->summary), "%s", summary);
}

/* Did the interval before sample i (snapshots skipped) have stalls? */
static bool prev_stalls(const struct recording *r, int i)
{
	while (--i >= 0)
		if (!r->s[i].snapshot)
			return r->s[i].stalls != 0;
	return false;
}

/* Runs of intervals with reclaim stalls, and of pressure at or above PEAK_PSI. */
static void derive_incidents(struct recording *r)
{
	char buf[320], a[32], b[32], d[32];

	for (int i = 0; i < r->n; i++) {
		const struct rsample *s = &r->s[i];
		int j, peak = i;
		uint64_t stalls = 0, p99 = 0;

		if (s->snapshot) {
			snprintf(buf, sizeof(buf), "snapshot (%s): every process, zone and memory "
				 "cgroup", s->reason);
			add_derived(r, s->ts, "snapshot", s->id, buf);
			continue;
		}
		if (s->stalls && !prev_stalls(r, i)) {
			for (j = i; j < r->n && (r->s[j].snapshot || r->s[j].stalls); j++) {
				stalls += r->s[j].stalls;
				p99 = r->s[j].p99 > p99 ? r->s[j].p99 : p99;
			}
			snprintf(buf, sizeof(buf), "%llu reclaim stalls from %s to %s, p99 at most %s",
				 (unsigned long long)stalls, fmt_clock(a, sizeof(a), s->ts, false),
				 fmt_clock(b, sizeof(b), r->s[j - 1].ts, false),
				 fmt_duration_ns(d, sizeof(d), p99));
			add_derived(r, s->ts, "stalls", 0, buf);
		}
		if (s->has_psi && s->psi_some >= PEAK_PSI && (!i || !r->s[i - 1].has_psi ||
							    r->s[i - 1].psi_some < PEAK_PSI)) {
			for (j = i; j < r->n && r->s[j].has_psi && r->s[j].psi_some >= PEAK_PSI; j++)
				if (r->s[j].psi_some > r->s[peak].psi_some)
					peak = j;
			snprintf(buf, sizeof(buf), "memory pressure peaked at %.1f%% some, %.1f%% "
				 "full (avg10), above %.0f%% for %d intervals", r->s[peak].psi_some,
				 r->s[peak].psi_full, PEAK_PSI, j - i);
			add_derived(r, r->s[peak].ts, "pressure", 0, buf);
		}
	}
}

static int by_ts(const void *a, const void *b)
{
	double x = ((const struct revent *)a)->ts, y = ((const struct revent *)b)->ts;

	return x < y ? -1 : x > y;
}

void recording_free(struct recording *r)
{
	for (int i = 0; i < r->nev; i++)
		free(r->ev[i].record);
	free(r->ev);
	free(r->s);
	free(r->proc);
}

void recording_load(struct flight *f, double from, double to, struct recording *r)
{
	memset(r, 0, sizeof(*r));
	r->from = from;
	r->to = to;
	load_samples(f, r);
	load_memory(f, r);
	load_reclaim(f, r);
	load_processes(f, r);
	load_events(f, r);
	derive_incidents(r);
	if (r->nev)
		qsort(r->ev, r->nev, sizeof(r->ev[0]), by_ts);
}
