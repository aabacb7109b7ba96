// SPDX-License-Identifier: GPL-2.0
/*
 * memscope record: the flight recorder. Each interval, the system's memory state and
 * what the kernel counted (reclaim, stalls, failures, kills) goes into SQLite in one
 * transaction; events go in whole as they happen; an OOM kill, a large allocation
 * failure or a PSI trigger takes a full snapshot at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include "cachefiles.h"
#include "commands.h"
#include "failures.h"
#include "flight.h"
#include "kills.h"
#include "memcgs.h"
#include "meminfo.h"
#include "memparts.h"
#include "nodes.h"
#include "output.h"
#include "pressure.h"
#include "procs.h"
#include "runtime.h"
#include "slabs.h"
#include "strbuf.h"
#include "textsafe.h"
#include "units.h"
#include "vmscan.h"

#define DEFAULT_DB "/var/lib/memscope/memscope.db"
#define PENDING_MAX 256	  /* events held while the disk is full */
/*
 * 10 % of a 2 s window stalled. Without CAP_SYS_RESOURCE the kernel takes only windows
 * that are multiples of 2 s (commit d82caa273565, 6.5: unprivileged PSI triggers).
 */
#define DEFAULT_PSI "some 200000 2000000"
#define SNAPSHOT_GAP_S 1.0
#define PSI_GAP_S 10.0	   /* and pressure that lasts, one per 10 s */ /* a storm of triggers takes one snapshot per second */

static struct {
	const char *db;
	double retain_s, stall_ms;
	uint64_t max_bytes;
	long top, memcgs, snapshot_order;
	const char *psi;
	long slabs, files;
} cfg = { DEFAULT_DB, 7 * 86400, 100, 256ULL << 20, 20, 20, 4, DEFAULT_PSI, 10, 10 };

enum { OPT_DB, OPT_RETAIN, OPT_MAX_SIZE, OPT_TOP, OPT_MEMCGS, OPT_SNAP_ORDER, OPT_PSI,
       OPT_STALL, OPT_SLABS, OPT_FILES };

static const struct ms_cmd_opt record_opts[] = {
	{ "db", 0, required_argument, "PATH", "the database (default " DEFAULT_DB ")", OPT_DB },
	{ "retain", 0, required_argument, "DURATION",
	  "drop what is older (default 7d; 30m, 12h, 2w ...)", OPT_RETAIN },
	{ "max-size", 0, required_argument, "BYTES",
	  "keep the file under this, oldest samples first (default 256M)", OPT_MAX_SIZE },
	{ "top", 0, required_argument, "N", "processes per interval, largest RSS first "
	  "(default 20)", OPT_TOP },
	{ "memcgs", 0, required_argument, "N", "memory cgroups per interval, largest first "
	  "(default 20; 0: none)", OPT_MEMCGS },
	{ "snapshot-order", 0, required_argument, "N",
	  "a failed allocation of this order or more takes a snapshot (default 4)",
	  OPT_SNAP_ORDER },
	{ "psi", 0, required_argument, "TRIGGER",
	  "the kernel PSI trigger that takes a snapshot (default \"" DEFAULT_PSI "\": "
	  "200 ms stalled in 2 s; \"off\": none)", OPT_PSI },
	{ "stall-ms", 0, required_argument, "MS",
	  "reclaim stalls at least this long are recorded as events (default 100)", OPT_STALL },
	{ "slabs", 0, required_argument, "N", "slab caches per interval, largest first "
	  "(default 10; 0: none)", OPT_SLABS },
	{ "files", 0, required_argument, "N", "files per interval, most page cache first, of "
	  "those processes hold (default 10; 0: none)", OPT_FILES },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

static void record_parse_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_DB:
		if (!*arg)
			ms_usage_error("--db needs a path");
		cfg.db = arg;
		break;
	case OPT_RETAIN:
		cfg.retain_s = ms_parse_duration("--retain", arg);
		if (cfg.retain_s < 60)
			ms_usage_error("--retain: %s is less than a minute", arg);
		break;
	case OPT_MAX_SIZE:
		cfg.max_bytes = ms_parse_size("--max-size", arg);
		if (cfg.max_bytes < (1 << 20))
			ms_usage_error("--max-size: %s is less than 1 MiB", arg);
		break;
	case OPT_TOP:
		cfg.top = ms_parse_long("--top", arg, 0, 100000);
		break;
	case OPT_MEMCGS:
		cfg.memcgs = ms_parse_long("--memcgs", arg, 0, 100000);
		break;
	case OPT_SLABS:
		cfg.slabs = ms_parse_long("--slabs", arg, 0, 100000);
		break;
	case OPT_FILES:
		cfg.files = ms_parse_long("--files", arg, 0, 100000);
		break;
	case OPT_SNAP_ORDER:
		cfg.snapshot_order = ms_parse_long("--snapshot-order", arg, 0, 64);
		break;
	case OPT_PSI: {
		char kind[8];
		unsigned long stall, win;

		if (!strcmp(arg, "off")) {
			cfg.psi = NULL;
			break;
		}
		if (sscanf(arg, "%7s %lu %lu", kind, &stall, &win) != 3 ||
		    (strcmp(kind, "some") && strcmp(kind, "full")) || !stall || stall > win)
			ms_usage_error("--psi: '%s' is not \"some|full STALL_US WINDOW_US\"", arg);
		cfg.psi = arg;
		break;
	}
	default:
		cfg.stall_ms = ms_parse_double("--stall-ms", arg, 0, 3600000);
	}
}

/* ---- the run's state ---- */

struct pending {
	double ts;
	const char *kind;
	char summary[256];
	json_object *rec;
	bool snapshot; /* its snapshot's id goes with it */
};

static struct {
	struct flight f;
	struct nodes *nodes;
	struct reclaim *reclaim;
	struct failures *failures;
	struct kills *kills;
	struct procs *procs;
	struct slabs *slabs;	      /* NULL: --slabs 0, or it could not be had (said once) */
	struct cachefiles *files;     /* the same for --files */
	struct ring_buffer *rb;
	struct paf_decoder dec;
	struct paf_row *paf;
	struct kill_controls controls;
	int psi_fd, epfd;
	struct reclaim_snapshot prev, now;
	struct pending pending[PENDING_MAX];
	int npending;
	char snapshot_reason[256];
	double last_snapshot, last_psi; /* monotonic seconds: a wall-clock step moves neither */
	int64_t failures_n, kills_n, lost_n, samples, snapshots, disk_errors;
	uint64_t kernel_lost;
	bool disk_full;
} rs = { .psi_fd = -1, .epfd = -1, .last_snapshot = -INFINITY, .last_psi = -INFINITY };

/*
 * Gaps and interval lengths on the monotonic clock, times of day on the wall clock: an
 * NTP step must not make an interval an hour long, nor hold snapshots back for an hour.
 */
static double mono_now(void)
{
	return ms_now_ns() / 1e9;
}

static void queue_event(double ts, const char *kind, json_object *rec, bool snapshot,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void queue_event(double ts, const char *kind, json_object *rec, bool snapshot,
			const char *fmt, ...)
{
	struct pending *p;
	va_list ap;

	if (rs.npending == PENDING_MAX) {
		json_object_put(rec);
		rs.lost_n++;
		return;
	}
	p = &rs.pending[rs.npending++];
	p->ts = ts;
	p->kind = kind;
	p->rec = rec;
	p->snapshot = snapshot;
	va_start(ap, fmt);
	vsnprintf(p->summary, sizeof(p->summary), fmt, ap);
	va_end(ap);
}

static void want_snapshot(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void want_snapshot(const char *fmt, ...)
{
	char why[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* triggers that come before it is taken share it, each named once */
	list_add_once(rs.snapshot_reason, sizeof(rs.snapshot_reason), "; ", why);
}

static int on_failure(void *ctx, void *data, size_t len)
{
	const struct paf_event *e = data;
	char comm[COMM_TEXT_LEN];
	bool snap;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	paf_row_of(&rs.dec, e, rs.paf);
	rs.failures_n++;
	snap = (long)e->order >= cfg.snapshot_order;
	if (snap)
		want_snapshot("alloc_failure order %u", e->order);
	queue_event(ms_boot_ns_to_real(e->ts_ns), "failure",
		    record_json(&paf_desc, rs.paf, ms_boot_ns_to_real(e->ts_ns)), snap,
		    "order-%u allocation failed in %s (pid %u): %s", e->order,
		    comm_text(e->comm, comm), e->pid, rs.paf->verdict_kind);
	return 0;
}

static void on_kill(const struct oom_event *e, const struct oom_event *control)
{
	struct kill_verdict v;
	struct oom_row *r = calloc(1, sizeof(*r));
	char comm[COMM_TEXT_LEN];
	double ts = ms_boot_ns_to_real(e->ts_ns);

	if (!r)
		ms_fatal("out of memory");
	kill_explain(e, control, kills_control_hook(rs.kills), &v);
	kill_row_of_events(e, control, &v, NULL, r);
	/* the recorder does not wait for the reaper; the snapshot holds the state after */
	record_null(&oom_desc, r, "reaper");
	record_null(&oom_desc, r, "detail");
	rs.kills_n++;
	want_snapshot("oom_kill pid %u", e->pid);
	queue_event(ts, "oom_kill", record_json(&oom_desc, r, ts), true,
		    "OOM kill of pid %u (%s), constraint %s%s%s", e->pid,
		    e->has_task ? comm_text(e->comm, comm) : "?",
		    v.constraint ? v.constraint : "unknown", v.path ? ", memcg " : "",
		    v.path ? v.path : "");
	free(r);
}

static int on_oom(void *ctx, void *data, size_t len)
{
	const struct oom_event *e = data, *control;

	(void)ctx;
	if (len >= sizeof(*e) && kill_controls_take(&rs.controls, e, &control))
		on_kill(e, control);
	return 0;
}

static int on_stall(void *ctx, void *data, size_t len)
{
	const struct rc_event *e = data;
	struct reclaim_stall_row row;
	char lat[32], comm[COMM_TEXT_LEN];
	double ts;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	ts = ms_boot_ns_to_real(e->ts_ns);
	reclaim_stall_row_of(e, &rs.dec.gfp, &row);
	queue_event(ts, "stall", record_json(&reclaim_stall_desc, &row, ts), false,
		    "%s reclaim stalled %s (%s, pid %u%s%s), order %u", row.reclaimer,
		    fmt_duration_ns(lat, sizeof(lat), e->latency_ns), comm_text(e->comm, comm),
		    e->pid, record_is_null(&reclaim_stall_desc, &row, "memcg") ? "" : ", cgroup ",
		    record_is_null(&reclaim_stall_desc, &row, "memcg") ? "" : row.memcg, e->order);
	return 0;
}

/* ---- writing ---- */

/* A failed write: the first of a run of them says so; the next success says it is over. */
static void write_failed(int rc)
{
	rs.disk_errors++;
	if (rs.disk_full)
		return;
	rs.disk_full = true;
	ms_warn("record: cannot write %s: %s; samples are skipped and events held (up to %d) "
		"until it works again", cfg.db, sqlite3_errstr(rc), PENDING_MAX);
}

static void write_ok(void)
{
	if (!rs.disk_full)
		return;
	rs.disk_full = false;
	ms_warn("record: writing %s again (%lld writes had failed)", cfg.db,
		(long long)rs.disk_errors);
}

/* The held events, each with its snapshot's id where it took one. */
static int flush_events(int64_t snapshot_id)
{
	int rc = flight_begin(&rs.f), i;

	for (i = 0; rc == SQLITE_OK && i < rs.npending; i++) {
		struct pending *p = &rs.pending[i];

		rc = flight_event(&rs.f, p->ts, p->kind, p->summary, json_object_get(p->rec),
				  p->snapshot ? snapshot_id : 0);
	}
	if (rc == SQLITE_OK)
		rc = flight_commit(&rs.f);
	else
		flight_rollback(&rs.f); /* all held events or none */
	if (rc != SQLITE_OK) {
		write_failed(rc);
		return rc;
	}
	for (i = 0; i < rs.npending; i++)
		json_object_put(rs.pending[i].rec);
	rs.npending = 0;
	write_ok();
	return rc;
}

#define TRY(x)                                                                             \
	do {                                                                               \
		if ((rc = (x)) != SQLITE_OK)                                               \
			return rc;                                                         \
	} while (0)

static int put_nodes(int64_t id)
{
	static struct sys_node nodes[SYS_MAX_NODES];
	struct ms_meminfo mi;
	struct node_row row;
	int n = nodes_read(rs.nodes, nodes, SYS_MAX_NODES), rc;

	total_row_of(nodes, n, meminfo_read(&mi) ? &mi : NULL, &row);
	TRY(flight_put(&rs.f, FT_NODE, &row, id));
	for (int i = 0; i < n; i++) {
		node_row_of(&nodes[i], &row);
		TRY(flight_put(&rs.f, FT_NODE, &row, id));
		for (int z = 0; z < (int)nodes[i].nr_zones && z < SYS_MAX_ZONES; z++) {
			struct zone_row zr;

			zone_row_of(&nodes[i], z, &zr);
			TRY(flight_put(&rs.f, FT_ZONE, &zr, id));
		}
	}
	return SQLITE_OK;
}

/* How many of n to put: the first max (every one: max < 0). */
static size_t first(size_t n, long max)
{
	return max < 0 || (size_t)max > n ? n : (size_t)max;
}

/* The largest max processes. */
static int put_procs(int64_t id, long max)
{
	struct proc_list l = { 0 };
	int rc = SQLITE_OK;

	static bool said;

	procs_snapshot(rs.procs, &l);
	if (!said && procs_pid_namespace(rs.procs))
		ms_warn("record: processes recorded %s", PROCS_PIDNS_SCOPE);
	said = true;
	proc_list_sort_rss(&l);
	for (size_t i = 0; i < first(l.n, max) && rc == SQLITE_OK; i++) {
		struct proc_row row;

		proc_row_of(&l.r[i], NULL, &row);
		rc = flight_put(&rs.f, FT_PROC, &row, id);
	}
	proc_list_free(&l);
	return rc;
}

static int by_usage(const void *a, const void *b)
{
	const struct memcg_row *x = a, *y = b;

	return x->usage_bytes < y->usage_bytes ? 1 : x->usage_bytes > y->usage_bytes ? -1 : 0;
}

static int put_memcgs(int64_t id, long max)
{
	struct memcg_list l = { 0 };
	int rc = SQLITE_OK;

	if (!max || memcgs_read(NULL, &l) < 0)
		return SQLITE_OK; /* no memory hierarchy: nothing to record */
	if (l.n)
		qsort(l.r, l.n, sizeof(l.r[0]), by_usage);
	for (size_t i = 0; i < first(l.n, max) && rc == SQLITE_OK; i++)
		rc = flight_put(&rs.f, FT_MEMCG, &l.r[i], id);
	memcg_list_free(&l);
	return rc;
}

static int put_parts(int64_t id)
{
	struct mem_accounting a;

	return mem_accounting_read(&a) ? flight_put(&rs.f, FT_PARTS, &a, id) : SQLITE_OK;
}

/* The largest max slab caches; a read that fails leaves them out of this interval. */
static int put_slabs(int64_t id, long max)
{
	struct slab_snapshot s = { 0 };
	char err[256];
	int rc = SQLITE_OK;

	if (rs.slabs && !slabs_read(rs.slabs, &s, err, sizeof(err))) {
		slab_snapshot_sort(&s);
		for (size_t i = 0; i < first(s.n, max) && rc == SQLITE_OK; i++) {
			struct slab_row row;

			slab_row_of(&s.c[i], NULL, ms_page_size(), &row);
			rc = flight_put(&rs.f, FT_SLAB, &row, id);
		}
	}
	slab_snapshot_free(&s);
	return rc;
}

static int put_files(int64_t id, long max)
{
	struct cache_list l = { 0 };
	char err[256];
	int rc = SQLITE_OK;

	if (rs.files && !cachefiles_read(rs.files, &l, err, sizeof(err))) {
		cache_list_sort(&l);
		for (size_t i = 0; i < first(l.n, max) && rc == SQLITE_OK; i++) {
			struct cache_file_row row;

			cache_file_row_of(&l.f[i], ms_page_size(), &row);
			rc = flight_put(&rs.f, FT_FILE, &row, id);
		}
	}
	cache_list_free(&l);
	return rc;
}

/* The interval's reclaim, stalls and kswapd activity: d is now minus the last written. */
static int put_reclaim(int64_t id, const struct reclaim_snapshot *d)
{
	struct reclaim_interval_row iv = { 0 };
	int rc;

	reclaim_sum(d, &iv.scanned_pages, &iv.reclaimed_pages);
	record_null(&reclaim_interval_desc, &iv, "to_reclaim_hook");
	snprintf(iv.to_reclaim_unavailable, sizeof(iv.to_reclaim_unavailable),
		 "not recorded: memscope reclaim reads it");
	rc = flight_put(&rs.f, FT_RECLAIM, &iv, id);
	for (int k = 0; k < RC_NR_KIND && rc == SQLITE_OK; k++) {
		struct reclaim_stalls_row sr;

		if (!d->stalls[k].count)
			continue;
		reclaim_stalls_row_of(k, &d->stalls[k], rs.now.stalls[k].max_ns, &sr);
		rc = flight_put(&rs.f, FT_STALLS, &sr, id);
	}
	for (int n = 0; n < RC_MAX_NODES && rc == SQLITE_OK; n++) {
		struct reclaim_kswapd_row kr;

		reclaim_kswapd_row_of(&rs.now, &rs.prev, n, &kr);
		if (kr.wakeups || kr.rounds || kr.awake_ns)
			rc = flight_put(&rs.f, FT_KSWAPD, &kr, id);
	}
	return rc;
}

static uint64_t kernel_losses(void)
{
	struct failures_totals ft;
	int n;
	struct ms_loss *l = reclaim_losses(rs.reclaim, &n);
	uint64_t sum = *kills_lost(rs.kills);

	failures_totals(rs.failures, &ft);
	sum += ft.lost;
	for (int i = 0; i < n; i++)
		if (l[i].count)
			sum += *l[i].count;
	return sum;
}

static void fill_psi(struct flight_sample *s)
{
	struct psi p;

	s->has_psi = psi_read_memory(&p);
	s->psi_some_avg10 = p.some_avg10;
	s->psi_full_avg10 = p.full_avg10;
	s->psi_some_total_ns = p.some_total_ns;
	s->psi_full_total_ns = p.full_total_ns;
}

/* One interval: everything in one transaction, or (disk full) nothing. */
static int write_interval(double seconds)
{
	struct flight_sample s = { .ts = ms_wall_now(), .interval_s = seconds, .kind = "interval",
				   .failures = rs.failures_n, .oom_kills = rs.kills_n };
	uint64_t kl = kernel_losses();
	static struct reclaim_snapshot d;
	int64_t id;
	int rc;

	s.events_lost = rs.lost_n + (int64_t)(kl - rs.kernel_lost);
	fill_psi(&s);
	reclaim_read(rs.reclaim, &rs.now);
	reclaim_delta(&rs.now, &rs.prev, &d, RECLAIM_WORDS(d));
	s.compact_stalls = d.compact_stalls;
	TRY(flight_begin(&rs.f));
	if ((rc = flight_sample(&rs.f, &s, &id)) == SQLITE_OK &&
	    (rc = put_nodes(id)) == SQLITE_OK && (rc = put_reclaim(id, &d)) == SQLITE_OK &&
	    (rc = put_procs(id, cfg.top)) == SQLITE_OK && (rc = put_memcgs(id, cfg.memcgs)) == 0 &&
	    (rc = put_parts(id)) == SQLITE_OK && (rc = put_slabs(id, cfg.slabs)) == SQLITE_OK &&
	    (rc = put_files(id, cfg.files)) == SQLITE_OK)
		rc = flight_commit(&rs.f);
	else
		flight_rollback(&rs.f); /* the whole interval or nothing */
	if (rc != SQLITE_OK)
		return rc;
	/* counted from here on only once written */
	rs.prev = rs.now;
	rs.kernel_lost = kl;
	rs.failures_n = rs.kills_n = rs.lost_n = 0;
	rs.samples++;
	return SQLITE_OK;
}

/*
 * A trigger's snapshot: every process, node, zone and memory cgroup now, the parts of
 * MemTotal, and every slab cache and held file (within --slabs and --files: 0 is none).
 */
static void take_snapshot(void)
{
	struct flight_sample s = { .ts = ms_wall_now(), .kind = "snapshot",
				   .reason = rs.snapshot_reason, .failures = -1, .oom_kills = -1,
				   .events_lost = -1, .compact_stalls = -1 };
	int64_t id = 0;
	int rc;

	fill_psi(&s);
	rc = flight_begin(&rs.f);
	if (rc == SQLITE_OK && (rc = flight_sample(&rs.f, &s, &id)) == SQLITE_OK &&
	    (rc = put_nodes(id)) == SQLITE_OK && (rc = put_procs(id, -1)) == SQLITE_OK &&
	    (rc = put_memcgs(id, -1)) == SQLITE_OK && (rc = put_parts(id)) == SQLITE_OK &&
	    (rc = put_slabs(id, cfg.slabs ? -1 : 0)) == SQLITE_OK &&
	    (rc = put_files(id, cfg.files ? -1 : 0)) == SQLITE_OK)
		rc = flight_commit(&rs.f);
	else
		flight_rollback(&rs.f);
	rs.snapshot_reason[0] = '\0';
	rs.last_snapshot = mono_now();
	if (rc != SQLITE_OK) {
		write_failed(rc);
		id = 0;
	} else {
		rs.snapshots++;
	}
	flush_events(id);
}

/* ---- waiting: ring buffers and the PSI trigger, between intervals ---- */

static void open_psi_trigger(void)
{
	if (!cfg.psi)
		return;
	rs.psi_fd = open("/proc/pressure/memory", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	/* the kernel takes the trigger with its NUL (Documentation/accounting/psi.rst) */
	if (rs.psi_fd >= 0 && write(rs.psi_fd, cfg.psi, strlen(cfg.psi) + 1) < 0) {
		ms_warn("record: the PSI trigger \"%s\" was refused (%s%s); no PSI snapshots",
			cfg.psi, strerror(errno),
			ms_has_cap(CAP_SYS_RESOURCE) ? "" : "; without CAP_SYS_RESOURCE the "
			"window must be a multiple of 2 s");
		close(rs.psi_fd);
		rs.psi_fd = -1;
	} else if (rs.psi_fd < 0) {
		ms_warn("record: no /proc/pressure/memory (%s); no PSI snapshots", strerror(errno));
	}
}

static void idle(int timeout_ms, void *ctx)
{
	struct epoll_event ev[2];
	int n;

	(void)ctx;
	n = epoll_wait(rs.epfd, ev, 2, timeout_ms);
	for (int i = 0; i < n; i++) {
		/* pressure lasts: the trigger fires each window; one snapshot per 10 s */
		if (ev[i].data.fd == rs.psi_fd && mono_now() - rs.last_psi >= PSI_GAP_S) {
			want_snapshot("psi %s", cfg.psi);
			rs.last_psi = mono_now();
		}
	}
	ring_buffer__consume(rs.rb);
	if (rs.snapshot_reason[0] && mono_now() - rs.last_snapshot >= SNAPSHOT_GAP_S)
		take_snapshot();
	else if (rs.npending && !rs.snapshot_reason[0] && !rs.disk_full)
		flush_events(0); /* a full disk is tried again each interval, not each slice */
}

/* Slab caches and files are extras: without them the recorder records the rest. */
static void open_optional(void)
{
	struct slabs_opts so = { 0 };
	struct cachefiles_opts co = { 0 };
	char err[256];

	if (cfg.slabs && slabs_open(&so, &rs.slabs, err, sizeof(err)))
		ms_warn("record: slab caches not recorded: %s", err);
	if (cfg.files && cachefiles_open(&co, &rs.files, err, sizeof(err)))
		ms_warn("record: files not recorded: %s", err);
}

static void open_collectors(void)
{
	static const struct ms_filter all;
	struct reclaim_want rw = { .events = true,
				   .min_event_ns = (uint64_t)(cfg.stall_ms * 1e6) };
	static const struct failures_want fw = { .events = true, .order_eq = -1,
						 .order_min = -1, .ring_bytes = 512 << 10 };
	static const struct kills_want kw = { .ring_bytes = 256 << 10 };
	struct epoll_event ev = { .events = EPOLLIN };

	rs.nodes = nodes_open(0);
	rs.reclaim = reclaim_open(&all, &rw);
	rs.failures = failures_open(&all, &fw);
	rs.kills = kills_open(&kw);
	rs.procs = procs_open(&all);
	open_optional();
	/* its GFP names serve the stalls too; without them (no tracefs for a non-root user
	 * on a kernel whose names come from it) flags are recorded in hex, with a warning */
	paf_decoder_init(&rs.dec, false);
	if (!(rs.paf = calloc(1, sizeof(*rs.paf))))
		ms_fatal("out of memory");
	rs.rb = ring_buffer__new(failures_events_fd(rs.failures), on_failure, NULL, NULL);
	if (!rs.rb || ring_buffer__add(rs.rb, kills_events_fd(rs.kills), on_oom, NULL) ||
	    ring_buffer__add(rs.rb, reclaim_events_fd(rs.reclaim), on_stall, NULL))
		ms_bpf_fail("creating the event ring buffers", errno);
	if ((rs.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		ms_fatal("record: epoll: %s", strerror(errno));
	ev.data.fd = ring_buffer__epoll_fd(rs.rb);
	epoll_ctl(rs.epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	open_psi_trigger();
	if (rs.psi_fd >= 0) {
		ev.events = EPOLLPRI;
		ev.data.fd = rs.psi_fd;
		epoll_ctl(rs.epfd, EPOLL_CTL_ADD, rs.psi_fd, &ev);
	}
	reclaim_read(rs.reclaim, &rs.prev);
	rs.kernel_lost = kernel_losses();
}

static void close_collectors(void)
{
	ring_buffer__free(rs.rb);
	if (rs.psi_fd >= 0)
		close(rs.psi_fd);
	if (rs.epfd >= 0)
		close(rs.epfd);
	procs_close(rs.procs);
	slabs_close(rs.slabs);
	cachefiles_close(rs.files);
	kills_close(rs.kills);
	failures_close(rs.failures);
	reclaim_close(rs.reclaim);
	nodes_close(rs.nodes);
	paf_decoder_free(&rs.dec);
	free(rs.paf);
	for (int i = 0; i < rs.npending; i++)
		json_object_put(rs.pending[i].rec);
}

struct state_row {
	uint64_t null_mask;
	char state[16];
	char db[4096];
	int64_t intervals, snapshots, write_errors;
};

#define SF(m, ft, help) FLD(struct state_row, m, #m, NULL, ft, FU_NONE, FK_LABEL, 0, help)
static const struct field state_fields[] = {
	SF(state, FT_STR, "recording (at start) or stopped (at the end)"),
	SF(db, FT_STR, "the database"),
	SF(intervals, FT_S64, "intervals written"),
	SF(snapshots, FT_S64, "trigger snapshots written"),
	SF(write_errors, FT_S64, "writes that failed (a full disk): their samples are skipped"),
};
#undef SF
static const struct record_desc state_desc =
	RECORD_DESC("record", "memscope record: its start and its end", state_fields,
		    struct state_row);

static void say(const char *what)
{
	struct state_row row = { .intervals = rs.samples, .snapshots = rs.snapshots,
				 .write_errors = rs.disk_errors };

	snprintf(row.state, sizeof(row.state), "%s", what);
	snprintf(row.db, sizeof(row.db), "%s", cfg.db);
	if (out_json_mode())
		out_json(record_json(&state_desc, &row, ms_wall_now()));
	else if (!strcmp(what, "recording"))
		out_printf("recording to %s; Ctrl-C to stop\n", cfg.db);
	else
		out_printf("recorded %lld intervals and %lld snapshots to\n  %s\n",
			   (long long)rs.samples, (long long)rs.snapshots, cfg.db);
	out_flush();
}

static void one_interval(double seconds)
{
	int rc;

	ring_buffer__consume(rs.rb);
	if (rs.snapshot_reason[0])
		take_snapshot();
	if (rs.npending)
		flush_events(0);
	rc = write_interval(seconds);
	if (rc != SQLITE_OK)
		write_failed(rc);
	else if (!rs.npending)
		write_ok();
}

static int record_run(const struct ms_opts *o)
{
	double interval = o->interval ? o->interval : 10, last;
	struct ms_ticker tk;
	char err[512];

	if (!flight_open(&rs.f, cfg.db, true, err, sizeof(err)))
		ms_fatal("record: %s", err);
	open_collectors();
	say("recording");
	ms_set_idle(idle, NULL);
	ticker_init(&tk, interval, o->count, o->duration);
	last = mono_now();
	while (ticker_wait(&tk)) {
		one_interval(mono_now() - last);
		last = mono_now();
		flight_prune(&rs.f, ms_wall_now() - cfg.retain_s, cfg.max_bytes);
	}
	ms_set_idle(NULL, NULL);
	/* the interval in progress at a stop is written too: a clean stop loses nothing */
	if (ms_stopping() && mono_now() - last > 0.05)
		one_interval(mono_now() - last);
	close_collectors();
	flight_close(&rs.f);
	say("stopped");
	return 0;
}

static void recorder_docs(void)
{
	flight_docs(stdout);
}

static const struct ms_opt_value record_values[] = {
	{ "db", MS_ARG_FILE, NULL },
	{ NULL, 0, NULL },
};

const struct ms_cmd cmd_record = {
	.name = "record",
	.summary = "the flight recorder: memory state, events and snapshots into SQLite",
	.details =
		"Runs until SIGINT or SIGTERM. Each interval (default 10 s), in one\n"
		"transaction: the system, node and zone state, PSI, reclaim and stall\n"
		"histograms, failure and OOM counts, the largest processes and memory\n"
		"cgroups. Allocation failures (with their verdict), OOM kills and long reclaim\n"
		"stalls are written whole as they happen. An OOM kill, a failure of order\n"
		"--snapshot-order or more, or the PSI trigger takes a snapshot at once: every\n"
		"process, zone and memory cgroup. A kill -9 loses at most the interval in\n"
		"progress; a full disk skips samples and holds events until space returns.\n"
		"One recorder per database. Read it with memscope report; the schema is in\n"
		"docs/RECORDER.md (memscope help recorder).",
	.examples = "  memscope record                               10 s, 7 days, 256 MiB\n"
		    "  memscope record --db /tmp/m.db -i 1 -d 60     a minute, each second\n"
		    "  memscope record --retain 2d --max-size 1G\n"
		    "  memscope record --psi \"full 100000 1000000\"   snapshot at 10% full stall\n",
	.shared = MS_OPT_LOOP,
	.opts = record_opts,
	.parse_opt = record_parse_opt,
	.run = record_run,
	.records = (const struct record_desc *const[]){ &state_desc, NULL },
	.topic = "recorder",
	.topic_docs = recorder_docs,
	.values = record_values,
};
