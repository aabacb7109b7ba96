/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flight recorder's database (SQLite, WAL): samples (each interval, and each
 * snapshot taken at a trigger), the records of each sample in one table per record
 * type, and events whole as they happened. memscope record writes it; memscope report
 * reads it. The schema: docs/RECORDER.md (memscope help recorder).
 */
#ifndef MEMSCOPE_COLLECT_FLIGHT_H
#define MEMSCOPE_COLLECT_FLIGHT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>
#include <json-c/json.h>
#include "sqlrec.h"

/* PRAGMA user_version of the layout this memscope writes; see flight_migrate(). */
#define FLIGHT_SCHEMA_VERSION 1

/* The record tables of a sample. */
enum flight_table { FT_NODE, FT_ZONE, FT_RECLAIM, FT_STALLS, FT_KSWAPD, FT_PROC, FT_MEMCG,
		    FT_PARTS, FT_SLAB, FT_FILE, FT_NR_TABLES };

struct flight {
	sqlite3 *db;
	char path[4096];
	int lock_fd; /* writer: flock()ed for the recorder's life */
	struct sqlrec_table t[FT_NR_TABLES];
	char damage[512]; /* reader: what flight_check or a read found broken; "" if nothing */
	bool corrupt;	  /* and it is the file's content, not a lock or an I/O error */
};

/* A sample's own facts (the samples table); NaN / -1: unknown (NULL). */
struct flight_sample {
	double ts, interval_s;
	const char *kind;   /* "interval" or "snapshot" */
	const char *reason; /* a snapshot's trigger, NULL for an interval */
	bool has_psi;
	double psi_some_avg10, psi_full_avg10;
	uint64_t psi_some_total_ns, psi_full_total_ns;
	int64_t failures, oom_kills, events_lost, compact_stalls; /* the interval's; -1: none */
};

/*
 * Open the database. The writer creates it (and its directory), takes the recorder's
 * lock (a second recorder is refused) and brings the schema up to date; a reader opens
 * it read-only. false with a one-line reason in err.
 */
bool flight_open(struct flight *f, const char *path, bool writer, char *err, size_t len);
void flight_close(struct flight *f);
/* The pid of the recorder holding path's lock, 0 when none. */
int flight_lock_holder(const char *path);

/*
 * A reader's check of the whole file (PRAGMA quick_check: every page, not the indexes'
 * agreement with their tables). false when damaged, with what was found in f->damage.
 */
bool flight_check(struct flight *f);
/* sqlite3_step for a reader: the first error (a damaged page, ...) goes into f->damage. */
int flight_step(struct flight *f, sqlite3_stmt *st);

int flight_begin(struct flight *f);
/* Commit; on failure (a full disk) roll back and return the SQLite code. */
int flight_commit(struct flight *f);
/* Undo the transaction in progress (a write in it failed), if any. */
void flight_rollback(struct flight *f);
/* A new sample row; its id in *id. */
int flight_sample(struct flight *f, const struct flight_sample *s, int64_t *id);
/* A record of the sample into one of its tables. */
int flight_put(struct flight *f, enum flight_table t, const void *rec, int64_t sample_id);
/* An event, whole: its record (consumed) and a one-line summary; sample_id 0: none. */
int flight_event(struct flight *f, double ts, const char *kind, const char *summary,
		 json_object *rec, int64_t sample_id);
/*
 * Retention: samples and events older than before_ts go, then the oldest samples until
 * the file (with its WAL) is under max_bytes. Returns how many samples went.
 */
int64_t flight_prune(struct flight *f, double before_ts, uint64_t max_bytes);
/* The database's size with its WAL, in bytes. */
uint64_t flight_bytes(const struct flight *f);
/* The schema as Markdown. */
void flight_docs(FILE *out);

#endif
