// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cachefiles.h"
#include "flight.h"
#include "memcgs.h"
#include "memparts.h"
#include "nodes.h"
#include "procs.h"
#include "slabs.h"
#include "vmscan.h"

static const struct {
	const char *name;
	const struct record_desc *d;
	const char *what;
} tables[FT_NR_TABLES] = {
	[FT_NODE] = { "node", &node_desc, "the system (scope total) and each node, as memscope sys" },
	[FT_ZONE] = { "zone", &zone_desc, "each zone: free pages, watermarks, free blocks per order" },
	[FT_RECLAIM] = { "reclaim", &reclaim_interval_desc,
			 "pages scanned and reclaimed in the interval" },
	[FT_STALLS] = { "reclaim_stalls", &reclaim_stalls_desc,
			"each reclaimer's stalls in the interval, with their histogram" },
	[FT_KSWAPD] = { "kswapd", &reclaim_kswapd_desc,
			"each node's kswapd in the interval (where it woke or was awake)" },
	[FT_PROC] = { "proc", &proc_desc,
		      "the largest processes by RSS (every process in a snapshot)" },
	[FT_MEMCG] = { "memcg", &memcg_desc, "the largest memory cgroups by usage" },
	[FT_PARTS] = { "memory_parts", &mem_accounting_desc,
		       "every byte of MemTotal in one part, as memscope sys" },
	[FT_SLAB] = { "slab", &slab_desc, "the largest slab caches (--slabs)" },
	[FT_FILE] = { "cache_file", &cache_file_desc,
		      "the files processes hold with most page cache (--files)" },
};

/* The fixed tables; the record tables are made from their descriptions (sqlrec.h). */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY, ts REAL NOT NULL,"
	" kind TEXT NOT NULL, reason TEXT, interval_s REAL, psi_some_avg10_percent REAL,"
	" psi_full_avg10_percent REAL, psi_some_total_ns INTEGER, psi_full_total_ns INTEGER,"
	" failures INTEGER, oom_kills INTEGER, events_lost INTEGER, compact_stalls INTEGER);"
	"CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts);"
	"CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, ts REAL NOT NULL,"
	" kind TEXT NOT NULL, summary TEXT, record TEXT, sample_id INTEGER);"
	"CREATE INDEX IF NOT EXISTS events_ts ON events (ts);";

static const struct {
	const char *col, *type, *help;
} sample_cols[] = {
	{ "id", "INTEGER", "the sample; the record tables' sample_id" },
	{ "ts", "REAL", "wall-clock seconds since the epoch (UTC), read when it was written" },
	{ "kind", "TEXT", "`interval`, or `snapshot` (taken at a trigger)" },
	{ "reason", "TEXT", "a snapshot's trigger: `oom_kill`, `alloc_failure order N`, `psi`" },
	{ "interval_s", "REAL", "seconds the interval's counts cover" },
	{ "psi_some_avg10_percent", "REAL", "/proc/pressure/memory; NULL without PSI" },
	{ "psi_full_avg10_percent", "REAL", "the same, all tasks stalled" },
	{ "psi_some_total_ns", "INTEGER", "stalled time since boot" },
	{ "psi_full_total_ns", "INTEGER", "all tasks stalled, since boot" },
	{ "failures", "INTEGER", "page allocation failures in the interval" },
	{ "oom_kills", "INTEGER", "OOM kills in the interval" },
	{ "events_lost", "INTEGER", "events the kernel's rings or a full disk lost, in the interval" },
	{ "compact_stalls", "INTEGER", "direct compaction stalls in the interval" },
};

static bool fail(char *err, size_t len, const char *fmt, const char *a, const char *b)
{
	snprintf(err, len, fmt, a, b);
	return false;
}

int flight_lock_holder(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int pid = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'recorder_pid'", -1, &st,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			pid = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return pid;
}

/* mkdir -p of the database's directory */
static void make_dirs(const char *path)
{
	char dir[4096], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	if (!(p = strrchr(dir, '/')) || p == dir)
		return;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0755);
		*p = '/';
	}
	mkdir(dir, 0755);
}

/*
 * One recorder per database: an flock() on the file itself (SQLite's own locks are
 * fcntl() locks, which flock() does not touch on Linux). The kernel drops it when the
 * recorder dies, kill -9 included, so a stale lock cannot keep the next one out.
 */
static bool take_lock(struct flight *f, bool *gone, char *err, size_t len)
{
	char pid[24];
	int e;

	/* no O_CREAT: only a whole database may take the path (create_whole) */
	f->lock_fd = open(f->path, O_RDWR | O_CLOEXEC);
	*gone = f->lock_fd < 0 && errno == ENOENT;
	if (f->lock_fd < 0)
		return fail(err, len, "cannot open %s: %s", f->path, strerror(errno));
	if (flock(f->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return true;
	e = errno;
	close(f->lock_fd);
	f->lock_fd = -1;
	if (e != EWOULDBLOCK)
		return fail(err, len, "cannot lock %s: %s", f->path, strerror(e));
	snprintf(pid, sizeof(pid), "%d", flight_lock_holder(f->path));
	return fail(err, len, "%s is being written by another memscope record (pid %s); "
		    "stop it, or give this one another --db", f->path, pid);
}

/* PRAGMA user_version; -1 when it cannot be read, the SQLite code in *rc */
static int user_version(sqlite3 *db, int *rc)
{
	sqlite3_stmt *st;
	int v = -1;

	*rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (*rc == SQLITE_OK) {
		if ((*rc = sqlite3_step(st)) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

/* The tables, the record tables and the version, in one transaction on f->db. */
static bool make_schema(struct flight *f, char *err, size_t len)
{
	char sql[256];
	bool ok;

	snprintf(sql, sizeof(sql),
		 "PRAGMA user_version = %d; INSERT OR REPLACE INTO meta VALUES "
		 "('recorder_pid', '%d'), ('memscope_version', '" MEMSCOPE_VERSION "')",
		 FLIGHT_SCHEMA_VERSION, (int)getpid());
	ok = flight_begin(f) == SQLITE_OK &&
	     sqlite3_exec(f->db, schema, NULL, NULL, NULL) == SQLITE_OK;
	for (int i = 0; ok && i < FT_NR_TABLES; i++)
		ok = sqlrec_open(f->db, &f->t[i]) == SQLITE_OK;
	ok = ok && sqlite3_exec(f->db, sql, NULL, NULL, NULL) == SQLITE_OK;
	if (ok && flight_commit(f) == SQLITE_OK)
		return true;
	fail(err, len, "%s: %s", f->path, sqlite3_errmsg(f->db));
	flight_rollback(f);
	return false;
}

/*
 * Bring the layout up to FLIGHT_SCHEMA_VERSION. Version 1 is the first; a later one
 * adds its step here (ALTER TABLE ..., then user_version). Columns that a record's
 * description gains are added by sqlrec_open() without a version step.
 */
static bool migrate(struct flight *f, char *err, size_t len)
{
	char newer[64];
	int rc, v = user_version(f->db, &rc);

	if (v > FLIGHT_SCHEMA_VERSION) {
		snprintf(newer, sizeof(newer), "%d (this memscope writes %d)", v,
			 FLIGHT_SCHEMA_VERSION);
		return fail(err, len, "%s has schema version %s: use a newer memscope", f->path,
			    newer);
	}
	return make_schema(f, err, len);
}

/* Write the database image to fd, then link its file to path; -1 and errno if not. */
static int link_image(int fd, const char *tmp, const void *img, sqlite3_int64 size,
		      const char *path)
{
	char proc[64];
	ssize_t n = 1;

	for (sqlite3_int64 done = 0; done < size && n > 0; done += n)
		n = write(fd, (const char *)img + done, size - done);
	if (n <= 0 || fsync(fd))
		return -1;
	if (tmp) /* link(2) never replaces: a file made meanwhile stays */
		return link(tmp, path);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

/* The file made beside path: unnamed (O_TMPFILE), else under a random name in tmp. */
static int open_beside(const char *path, char *tmp, size_t len)
{
	char dir[4096], *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	if (!(slash = strrchr(dir, '/')))
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0'; /* "/m.db" lives in "/" */
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);
	tmp[0] = '\0';
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	snprintf(tmp, len, "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd >= 0 && fchmod(fd, 0640)) {
		close(fd);
		unlink(tmp);
		fd = -1;
	}
	return fd;
}

/*
 * A new database takes its path whole: its schema is made in memory, written to a
 * file beside (open_beside) and linked to the path. A reader never finds it empty or
 * half made ('no such table: samples'), and a kill -9 meanwhile leaves no empty file.
 */
static bool create_whole(struct flight *f, char *err, size_t len)
{
	char tmp[4096 + 8];
	sqlite3_int64 size = 0;
	unsigned char *img = NULL;
	int fd, rc = -1, e;

	if (sqlite3_open(":memory:", &f->db) != SQLITE_OK ||
	    sqlite3_exec(f->db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL) ||
	    !make_schema(f, err, len) || !(img = sqlite3_serialize(f->db, "main", &size, 0))) {
		if (!*err)
			fail(err, len, "%s: %s", f->path, sqlite3_errmsg(f->db));
		flight_close(f);
		return false;
	}
	flight_close(f);
	fd = open_beside(f->path, tmp, sizeof(tmp));
	if (fd >= 0)
		rc = link_image(fd, tmp[0] ? tmp : NULL, img, size, f->path);
	e = errno;
	if (fd >= 0 && tmp[0])
		unlink(tmp);
	if (fd >= 0)
		close(fd);
	sqlite3_free(img);
	if (rc && e != EEXIST) /* EEXIST: another recorder made it meanwhile: its lock decides */
		return fail(err, len, "cannot create %s: %s", f->path, strerror(e));
	return true;
}

static bool open_writer(struct flight *f, char *err, size_t len)
{
	bool gone = true;

	make_dirs(f->path);
	/* made whole where none is, then locked; again if it was removed in between */
	for (int tries = 0; gone; tries++) {
		*err = '\0';
		if (access(f->path, F_OK) && errno == ENOENT && !create_whole(f, err, len))
			return false;
		if (!take_lock(f, &gone, err, len) && (!gone || tries == 3))
			return false;
	}
	if (sqlite3_open_v2(f->path, &f->db, SQLITE_OPEN_READWRITE, NULL))
		return fail(err, len, "cannot open %s: %s", f->path, sqlite3_errmsg(f->db));
	sqlite3_busy_timeout(f->db, 5000);
	/*
	 * WAL: a kill -9 loses at most the transaction in progress, and readers (report)
	 * never block the recorder. synchronous=NORMAL survives a crash of memscope (not
	 * of the machine, where the last commits before power loss may go).
	 */
	/*
	 * Incremental auto-vacuum lets retention give pages back to the file system. It
	 * takes only on a database not yet written, so before WAL mode writes the header;
	 * on an existing one it changes nothing.
	 */
	if (sqlite3_exec(f->db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL) ||
	    sqlite3_exec(f->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			 "PRAGMA journal_size_limit = 4194304", NULL, NULL, NULL) != SQLITE_OK)
		return fail(err, len, "%s: %s", f->path, sqlite3_errmsg(f->db));
	return migrate(f, err, len);
}

static bool open_reader(struct flight *f, char *err, size_t len)
{
	int rc, v;

	if (access(f->path, F_OK))
		return fail(err, len, "%s: %s (record one with memscope record --db PATH)", f->path,
			    strerror(errno));
	if (sqlite3_open_v2(f->path, &f->db, SQLITE_OPEN_READONLY, NULL))
		return fail(err, len, "cannot open %s: %s", f->path, sqlite3_errmsg(f->db));
	sqlite3_busy_timeout(f->db, 5000);
	v = user_version(f->db, &rc);
	if (v < 0 && (rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY))
		return fail(err, len, "cannot read %s: %s (a database in WAL mode is read through "
			    "its -shm file, made in the same directory: read it as the recorder's "
			    "user or as root)", f->path, sqlite3_errstr(rc));
	if (v < 1)
		return fail(err, len, "%s is not a memscope recording%s", f->path,
			    v < 0 ? " (not an SQLite database)" : "");
	if (v > FLIGHT_SCHEMA_VERSION)
		return fail(err, len, "%s has a newer schema%s: use a newer memscope", f->path, "");
	return true;
}

bool flight_open(struct flight *f, const char *path, bool writer, char *err, size_t len)
{
	bool ok;

	memset(f, 0, sizeof(*f));
	f->lock_fd = -1;
	snprintf(f->path, sizeof(f->path), "%s", path);
	for (int i = 0; i < FT_NR_TABLES; i++) {
		f->t[i].name = tables[i].name;
		f->t[i].d = tables[i].d;
	}
	ok = writer ? open_writer(f, err, len) : open_reader(f, err, len);
	for (int i = 0; ok && i < FT_NR_TABLES; i++)
		sqlrec_columns(&f->t[i]);
	if (!ok)
		flight_close(f);
	return ok;
}

void flight_close(struct flight *f)
{
	for (int i = 0; i < FT_NR_TABLES; i++)
		sqlrec_close(&f->t[i]);
	if (f->db)
		sqlite3_close(f->db);
	f->db = NULL;
	if (f->lock_fd >= 0)
		close(f->lock_fd);
	f->lock_fd = -1;
}

static void damaged(struct flight *f, const char *what, bool corrupt)
{
	if (f->damage[0])
		return;
	snprintf(f->damage, sizeof(f->damage), "%s", what);
	f->corrupt = corrupt;
}

bool flight_check(struct flight *f)
{
	sqlite3_stmt *st;
	char first[440] = "";
	int rc, n = 0;

	if ((rc = sqlite3_prepare_v2(f->db, "PRAGMA quick_check", -1, &st, NULL)) != SQLITE_OK) {
		damaged(f, sqlite3_errmsg(f->db), true);
		return false;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);

		/* a row may hold several lines, headed by "*** in database main ***" */
		for (size_t l; p && *p && strcmp(p, "ok"); p += l + !!p[l]) {
			l = strcspn(p, "\n");
			if (!strncmp(p, "***", 3))
				continue;
			if (!n++)
				snprintf(first, sizeof(first), "quick_check: %.*s", (int)l, p);
		}
	}
	if (rc != SQLITE_DONE && !n++)
		snprintf(first, sizeof(first), "quick_check: %s", sqlite3_errmsg(f->db));
	sqlite3_finalize(st);
	if (n > 1) /* quick_check stops at 100 */
		snprintf(first + strlen(first), sizeof(first) - strlen(first),
			 "; %s%d problems in all", n >= 100 ? "at least " : "", n);
	if (n)
		damaged(f, first, true);
	return !n;
}

int flight_step(struct flight *f, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		damaged(f, sqlite3_errmsg(f->db),
			(rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB);
	return rc;
}

int flight_begin(struct flight *f)
{
	return sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
}

int flight_commit(struct flight *f)
{
	int rc = sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK && !sqlite3_get_autocommit(f->db))
		sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

void flight_rollback(struct flight *f)
{
	if (!sqlite3_get_autocommit(f->db))
		sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

int flight_sample(struct flight *f, const struct flight_sample *s, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO samples (ts, kind, reason, interval_s, psi_some_avg10_percent,"
		" psi_full_avg10_percent, psi_some_total_ns, psi_full_total_ns, failures,"
		" oom_kills, events_lost, compact_stalls) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(f->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_double(st, 1, s->ts);
	sqlite3_bind_text(st, 2, s->kind, -1, SQLITE_STATIC);
	if (s->reason)
		sqlite3_bind_text(st, 3, s->reason, -1, SQLITE_STATIC);
	if (s->interval_s > 0)
		sqlite3_bind_double(st, 4, s->interval_s);
	if (s->has_psi) {
		sqlite3_bind_double(st, 5, s->psi_some_avg10);
		sqlite3_bind_double(st, 6, s->psi_full_avg10);
		sqlite3_bind_int64(st, 7, s->psi_some_total_ns);
		sqlite3_bind_int64(st, 8, s->psi_full_total_ns);
	}
	bind_opt_int(st, 9, s->failures);
	bind_opt_int(st, 10, s->oom_kills);
	bind_opt_int(st, 11, s->events_lost);
	bind_opt_int(st, 12, s->compact_stalls);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	*id = sqlite3_last_insert_rowid(f->db);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int flight_put(struct flight *f, enum flight_table t, const void *rec, int64_t sample_id)
{
	return sqlrec_put(&f->t[t], rec, sample_id);
}

int flight_event(struct flight *f, double ts, const char *kind, const char *summary,
		 json_object *rec, int64_t sample_id)
{
	static const char sql[] =
		"INSERT INTO events (ts, kind, summary, record, sample_id) VALUES (?,?,?,?,?)";
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(f->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_double(st, 1, ts);
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, summary, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN),
				  -1, SQLITE_TRANSIENT);
		if (sample_id > 0)
			sqlite3_bind_int64(st, 5, sample_id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	json_object_put(rec);
	return rc;
}

uint64_t flight_bytes(const struct flight *f)
{
	char wal[4200];
	struct stat a, b;
	uint64_t n = 0;

	if (!stat(f->path, &a))
		n += a.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	if (!stat(wal, &b))
		n += b.st_size;
	return n;
}

/* Delete the samples (with their rows) of a WHERE clause on samples. */
static int64_t drop_samples(struct flight *f, const char *where, double arg)
{
	char sql[512];
	sqlite3_stmt *st;
	int64_t n = 0;

	for (int i = 0; i < FT_NR_TABLES; i++) {
		snprintf(sql, sizeof(sql),
			 "DELETE FROM %s WHERE sample_id IN (SELECT id FROM samples WHERE %s)",
			 tables[i].name, where);
		if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK)
			continue;
		sqlite3_bind_double(st, 1, arg);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	snprintf(sql, sizeof(sql), "DELETE FROM samples WHERE %s", where);
	if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_double(st, 1, arg);
		if (sqlite3_step(st) == SQLITE_DONE)
			n = sqlite3_changes(f->db);
		sqlite3_finalize(st);
	}
	return n;
}

static double oldest_after(struct flight *f, double fraction)
{
	sqlite3_stmt *st;
	double ts = 0;
	char sql[256];

	/* the sample at `fraction` of the recording: older ones go */
	snprintf(sql, sizeof(sql),
		 "SELECT ts FROM samples ORDER BY ts LIMIT 1 OFFSET "
		 "(SELECT CAST(COUNT(*) * %f AS INTEGER) FROM samples)", fraction);
	if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			ts = sqlite3_column_double(st, 0);
		sqlite3_finalize(st);
	}
	return ts;
}

static int64_t pragma(struct flight *f, const char *name)
{
	char sql[64];
	sqlite3_stmt *st;
	int64_t v = 0;

	snprintf(sql, sizeof(sql), "PRAGMA %s", name);
	if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

/* The pages that hold data (the free list left out), in bytes. */
static uint64_t live_bytes(struct flight *f)
{
	return (pragma(f, "page_count") - pragma(f, "freelist_count")) * pragma(f, "page_size");
}

static int64_t prune_size(struct flight *f, uint64_t max_bytes)
{
	int64_t n = 0;

	/* the WAL's pages first: a write-ahead log past its last checkpoint is no data lost */
	sqlite3_exec(f->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	/*
	 * then a tenth of the samples per round, oldest first, and give the pages back;
	 * the live pages decide, so a file that cannot shrink does not empty the database
	 */
	for (int round = 0; round < 20 && live_bytes(f) > max_bytes; round++) {
		double cut = oldest_after(f, 0.1);
		int64_t k;

		if (cut <= 0)
			break;
		flight_begin(f);
		k = drop_samples(f, "ts <= ?", cut);
		sqlite3_exec(f->db, "DELETE FROM events WHERE ts <= (SELECT MIN(ts) FROM samples)",
			     NULL, NULL, NULL);
		if (flight_commit(f) != SQLITE_OK || !k)
			break;
		n += k;
		sqlite3_exec(f->db, "PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE)",
			     NULL, NULL, NULL);
	}
	return n;
}

int64_t flight_prune(struct flight *f, double before_ts, uint64_t max_bytes)
{
	sqlite3_stmt *st;
	int64_t n;

	if (flight_begin(f) != SQLITE_OK)
		return 0;
	n = drop_samples(f, "ts < ?", before_ts);
	if (sqlite3_prepare_v2(f->db, "DELETE FROM events WHERE ts < ?", -1, &st, NULL) == 0) {
		sqlite3_bind_double(st, 1, before_ts);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (flight_commit(f) != SQLITE_OK)
		return 0;
	if (n)
		sqlite3_exec(f->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
	if (max_bytes && flight_bytes(f) > max_bytes)
		n += prune_size(f, max_bytes);
	return n;
}

void flight_docs(FILE *out)
{
	fprintf(out, "# memscope recorder database\n\nGenerated by `make docs` "
		"(`memscope help recorder`). SQLite, WAL; `PRAGMA user_version` = %d.\n"
		"Times are wall-clock seconds since the epoch (UTC); sizes in bytes; NULL: "
		"the kernel could not give the value.\nA newer memscope adds columns and "
		"migration steps; it never drops or renames one.\n"
		"Names the kernel hands over (`comm`, paths) are stored as it gave them: a "
		"process may name itself any bytes, so such TEXT may be control characters or "
		"invalid UTF-8 (read it as bytes); memscope report shows them safely.\n\n"
		"## samples\n\nOne row per interval, and per snapshot taken at a trigger.\n\n"
		"| column | type | meaning |\n|---|---|---|\n", FLIGHT_SCHEMA_VERSION);
	for (size_t i = 0; i < sizeof(sample_cols) / sizeof(sample_cols[0]); i++)
		fprintf(out, "| `%s` | %s | %s |\n", sample_cols[i].col, sample_cols[i].type,
			sample_cols[i].help);
	fprintf(out, "\n## events\n\nEach event whole, as it happened: `kind` is `failure` "
		"(a page allocation failure, with its verdict), `oom_kill`, `stall` (a reclaim "
		"stall of at least --stall-ms).\n`record` is the JSON record memscope "
		"paf / oom / reclaim --events print (docs/FIELDS.md).\n\n"
		"| column | type | meaning |\n|---|---|---|\n"
		"| `id` | INTEGER | |\n| `ts` | REAL | when it happened: the kernel's boot-clock "
		"stamp on the wall clock, with the two clocks' offset read as the event arrives "
		"from the kernel, so an NTP step moves events as it moves samples |\n"
		"| `kind` | TEXT | see above |\n| `summary` | TEXT | one line, for the report |\n"
		"| `record` | TEXT (JSON) | the whole record |\n"
		"| `sample_id` | INTEGER | the snapshot it triggered, or NULL |\n");
	for (int i = 0; i < FT_NR_TABLES; i++) {
		struct sqlrec_table t = { .name = tables[i].name, .d = tables[i].d };

		fprintf(out, "\n## %s\n\n%s; the fields of the `%s` record.\n\n"
			"| column | type | meaning |\n|---|---|---|\n"
			"| `sample_id` | INTEGER | samples.id |\n", tables[i].name, tables[i].what,
			tables[i].d->type);
		sqlrec_docs(out, &t);
	}
}
