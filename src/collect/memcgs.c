// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroups.h"
#include "memcgs.h"
#include "msg.h"
#include "pressure.h"
#include "procfs.h"
#include "runtime.h"

/* v1's "no limit" is PAGE_COUNTER_MAX (LONG_MAX / PAGE_SIZE) pages, printed in bytes;
 * v2 writes "max" (mm/page_counter.c, mm/memcontrol-v1.c). */
static uint64_t v1_unlimited(void)
{
	return (uint64_t)LONG_MAX / ms_page_size() * ms_page_size();
}

bool memcg_kv(const char *text, const char *key, uint64_t *value)
{
	size_t k = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned long long v;

		if (!strncmp(p, key, k) && p[k] == ' ' && sscanf(p + k + 1, "%llu", &v) == 1) {
			*value = v;
			return true;
		}
	}
	return false;
}

/*
 * A cgroup file's text in one read where it fits (cgroupfs hands a seq_file's whole
 * text to one read): a thousand cgroups are thousands of files.
 */
static long read_cgroup_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0) {
		off += n;
		if (off < len / 2) /* a short read of a small file: it is all there */
			break;
	}
	close(fd);
	buf[off] = 0;
	return off;
}

struct reader {
	const char *dir;
	struct memcg_row *row;
	char stat[8192];
	bool has_stat;
};

/* Mark field key null unless ok. */
static void known(struct memcg_row *row, const char *key, bool ok)
{
	if (!ok)
		record_null(&memcg_desc, row, key);
}

/* One number of a file; false when the file is missing, "max" or v1's unlimited. */
static bool number(const struct reader *rd, const char *file, uint64_t *v)
{
	char path[600], buf[64];
	unsigned long long x;

	snprintf(path, sizeof(path), "%s/%s", rd->dir, file);
	if (read_cgroup_file(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%llu", &x) != 1 ||
	    x >= v1_unlimited())
		return false;
	*v = x;
	return true;
}

static void num_field(struct reader *rd, const char *file, uint64_t *v, const char *key)
{
	known(rd->row, key, number(rd, file, v));
}

/* A memory.stat line (v1: its hierarchical "total_" form) into a field. */
static void stat_field(struct reader *rd, const char *name, uint64_t *v, const char *key)
{
	char k[64];

	snprintf(k, sizeof(k), "%s%s", rd->row->version == 1 ? "total_" : "", name);
	known(rd->row, key, rd->has_stat && memcg_kv(rd->stat, k, v));
}

static bool read_text(const struct reader *rd, const char *file, char *buf, size_t len)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", rd->dir, file);
	return read_cgroup_file(path, buf, len) >= 0;
}

/* The memory.stat breakdown; names differ between v1 and v2 for anon and file. */
static void read_stat(struct reader *rd)
{
	struct memcg_row *r = rd->row;
	bool v1 = r->version == 1;

	rd->has_stat = read_text(rd, "memory.stat", rd->stat, sizeof(rd->stat));
	stat_field(rd, v1 ? "rss" : "anon", &r->anon_bytes, "anon_bytes");
	stat_field(rd, v1 ? "cache" : "file", &r->file_bytes, "file_bytes");
	stat_field(rd, "active_anon", &r->active_anon_bytes, "active_anon_bytes");
	stat_field(rd, "inactive_anon", &r->inactive_anon_bytes, "inactive_anon_bytes");
	stat_field(rd, "active_file", &r->active_file_bytes, "active_file_bytes");
	stat_field(rd, "inactive_file", &r->inactive_file_bytes, "inactive_file_bytes");
	stat_field(rd, "unevictable", &r->unevictable_bytes, "unevictable_bytes");
	stat_field(rd, "shmem", &r->shmem_bytes, "shmem_bytes");
	stat_field(rd, v1 ? "mapped_file" : "file_mapped", &r->file_mapped_bytes,
		   "file_mapped_bytes");
	stat_field(rd, v1 ? "dirty" : "file_dirty", &r->file_dirty_bytes, "file_dirty_bytes");
	stat_field(rd, v1 ? "writeback" : "file_writeback", &r->file_writeback_bytes,
		   "file_writeback_bytes");
	stat_field(rd, "slab", &r->slab_bytes, "slab_bytes");
	stat_field(rd, "sock", &r->sock_bytes, "sock_bytes");
	stat_field(rd, "pagetables", &r->page_tables_bytes, "page_tables_bytes");
	stat_field(rd, "workingset_refault_anon", &r->refault_anon_pages, "refault_anon_pages");
	stat_field(rd, "workingset_refault_file", &r->refault_file_pages, "refault_file_pages");
	stat_field(rd, "workingset_activate_anon", &r->activate_anon_pages,
		   "activate_anon_pages");
	stat_field(rd, "workingset_activate_file", &r->activate_file_pages,
		   "activate_file_pages");
	if (v1) /* v1 has no "kernel" line: its kmem counter */
		num_field(rd, "memory.kmem.usage_in_bytes", &r->kernel_bytes, "kernel_bytes");
	else
		stat_field(rd, "kernel", &r->kernel_bytes, "kernel_bytes");
	if (v1)
		stat_field(rd, "swap", &r->swap_bytes, "swap_bytes");
	else
		num_field(rd, "memory.swap.current", &r->swap_bytes, "swap_bytes");
}

static void read_limits(struct reader *rd)
{
	struct memcg_row *r = rd->row;
	bool v1 = r->version == 1;

	num_field(rd, v1 ? "memory.usage_in_bytes" : "memory.current", &r->usage_bytes,
		  "usage_bytes");
	num_field(rd, v1 ? "memory.limit_in_bytes" : "memory.max", &r->limit_bytes,
		  "limit_bytes");
	/* each version's own files only: a missing file is a lookup too */
	known(r, "high_bytes", !v1 && number(rd, "memory.high", &r->high_bytes));
	known(r, "low_bytes", !v1 && number(rd, "memory.low", &r->low_bytes));
	known(r, "min_bytes", !v1 && number(rd, "memory.min", &r->min_bytes));
	known(r, "soft_limit_bytes", v1 && number(rd, "memory.soft_limit_in_bytes",
						  &r->soft_limit_bytes));
	/* v1's memsw limit is memory + swap, not swap: no swap limit on v1 */
	known(r, "swap_limit_bytes", !v1 && number(rd, "memory.swap.max", &r->swap_limit_bytes));
	known(r, "limit_used_percent", !record_is_null(&memcg_desc, r, "usage_bytes") &&
	      !record_is_null(&memcg_desc, r, "limit_bytes") && r->limit_bytes);
	if (!record_is_null(&memcg_desc, r, "limit_used_percent"))
		r->limit_used_percent = 100.0 * r->usage_bytes / r->limit_bytes;
}

/* v2 memory.events; v1 failcnt and memory.oom_control's oom_kill. */
static void read_events(struct reader *rd)
{
	static const char *const v2[] = { "low", "high", "max", "oom", "oom_kill" };
	struct memcg_row *r = rd->row;
	uint64_t *dst[] = { &r->events_low, &r->events_high, &r->events_max, &r->events_oom,
			    &r->events_oom_kill };
	char text[1024], key[32];
	bool have;

	have = read_text(rd, r->version == 1 ? "memory.oom_control" : "memory.events", text,
			 sizeof(text));
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "events_%s", v2[i]);
		known(r, key, have && (r->version == 2 || i == 4) && memcg_kv(text, v2[i], dst[i]));
	}
	known(r, "failcnt", r->version == 1 && number(rd, "memory.failcnt", &r->failcnt));
}

static void read_pressure(struct reader *rd)
{
	struct memcg_row *r = rd->row;
	char text[512];
	struct psi p;
	bool ok = r->version == 2 && read_text(rd, "memory.pressure", text, sizeof(text)) &&
		  psi_parse(text, &p);

	known(r, "psi_some_avg10_percent", ok);
	known(r, "psi_full_avg10_percent", ok);
	known(r, "psi_some_total_ns", ok);
	known(r, "psi_full_total_ns", ok);
	if (!ok)
		return;
	r->psi_some_avg10_percent = p.some_avg10;
	r->psi_full_avg10_percent = p.full_avg10;
	r->psi_some_total_ns = p.some_total_ns;
	r->psi_full_total_ns = p.full_total_ns;
}

/* Fields only a live view fills (the interval's changes, what BPF attributed). */
static const char *const live_only[] = { "working_set_refault_bytes", "stalls",
					 "stall_total_ns", "stall_p99_at_most_ns",
					 "reclaim_scanned_pages", "reclaim_reclaimed_pages",
					 "oom_kills" };

static void read_one(const char *abs, const char *rel, uint64_t id, int depth,
		     struct memcg_row *r)
{
	struct reader *rd = calloc(1, sizeof(*rd));

	if (!rd)
		ms_fatal("out of memory");
	memset(r, 0, sizeof(*r));
	rd->dir = abs;
	rd->row = r;
	snprintf(r->path, sizeof(r->path), "%s", rel);
	r->id = id;
	r->depth = depth;
	r->version = memcg_hier_is_v2() ? 2 : 1;
	memcg_names(rel, r);
	known(r, "container", r->container[0]);
	known(r, "pod_uid", r->pod_uid[0]);
	known(r, "qos_class", r->qos_class[0]);
	read_limits(rd);
	read_stat(rd);
	read_events(rd);
	read_pressure(rd);
	/* cAdvisor's working set: usage minus inactive file pages, never below zero */
	known(r, "working_set_bytes", !record_is_null(&memcg_desc, r, "usage_bytes") &&
	      !record_is_null(&memcg_desc, r, "inactive_file_bytes"));
	r->working_set_bytes = r->usage_bytes > r->inactive_file_bytes ?
			       r->usage_bytes - r->inactive_file_bytes : 0;
	for (size_t i = 0; i < sizeof(live_only) / sizeof(live_only[0]); i++)
		record_null(&memcg_desc, r, live_only[i]);
	free(rd);
}

struct walk_ctx {
	const char *under;
	struct memcg_list *out;
	char (*dirs)[512]; /* each row's directory */
	size_t cap;
};

static bool is_under(const char *rel, const char *under)
{
	size_t n = strlen(under);

	if (!strcmp(under, "/"))
		return true;
	return !strncmp(rel, under, n) && (rel[n] == 0 || rel[n] == '/');
}

/* The walk notes each cgroup; the reading is done after, in parallel. */
static void note_one(const char *abs, const char *rel, uint64_t id, int depth, void *ctx)
{
	struct walk_ctx *w = ctx;
	struct memcg_list *l = w->out;
	struct memcg_row *r;

	if (w->under && !is_under(rel, w->under))
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->r = realloc(l->r, l->cap * sizeof(*l->r));
		if (!l->r)
			ms_fatal("out of memory");
	}
	if (l->n == w->cap) { /* the list may come with room from an earlier read */
		w->cap = w->cap ? w->cap * 2 : 64;
		w->dirs = realloc(w->dirs, w->cap * sizeof(*w->dirs));
		if (!w->dirs)
			ms_fatal("out of memory");
	}
	snprintf(w->dirs[l->n], sizeof(w->dirs[0]), "%s", abs);
	r = &l->r[l->n++];
	snprintf(r->path, sizeof(r->path), "%s", rel);
	r->id = id;
	r->depth = depth;
}

struct part {
	struct walk_ctx *w;
	size_t from, to;
};

static void *read_part(void *arg)
{
	struct part *p = arg;

	for (size_t i = p->from; i < p->to; i++) {
		struct memcg_row *r = &p->w->out->r[i];
		char rel[256];

		snprintf(rel, sizeof(rel), "%s", r->path);
		read_one(p->w->dirs[i], rel, r->id, r->depth, r);
	}
	return NULL;
}

/* Thousands of small files are system calls, not data: read them on every CPU. */
static void read_all(struct walk_ctx *w)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = w->out->n, threads = n < 64 ? 1 : cpus < 1 ? 1 : cpus > 8 ? 8 : cpus;
	struct part parts[8];
	pthread_t tid[8];
	bool made[8] = { false };

	for (size_t t = 0; t < threads; t++)
		parts[t] = (struct part){ w, n * t / threads, n * (t + 1) / threads };
	for (size_t t = 1; t < threads; t++)
		made[t] = !pthread_create(&tid[t], NULL, read_part, &parts[t]);
	read_part(&parts[0]);
	for (size_t t = 1; t < threads; t++)
		if (made[t])
			pthread_join(tid[t], NULL);
		else
			read_part(&parts[t]); /* no thread: read it here */
}

int memcgs_read(const char *rel, struct memcg_list *out)
{
	struct walk_ctx w = { rel, out, NULL, 0 };

	out->n = 0;
	if (!memcg_root()) {
		errno = ENOENT;
		return -1;
	}
	memcg_hier_is_v2(); /* its answer is cached before the threads ask */
	memcg_walk(note_one, &w);
	read_all(&w);
	free(w.dirs);
	return out->n;
}

void memcg_list_free(struct memcg_list *l)
{
	free(l->r);
	memset(l, 0, sizeof(*l));
}

/* ---- the "cgroup" record ---- */

#define M(m, head, ft, unit, kind, flags, help)                                            \
	FLD(struct memcg_row, m, #m, head, ft, unit, kind, FF_NULL | (flags), help)
#define B(m, head, help) M(m, head, FT_U64, FU_BYTES, FK_GAUGE, 0, help)
#define C(m, head, unit, help) M(m, head, FT_U64, unit, FK_COUNTER, FF_COUNT, help)
/* the columns a narrow screen must show: how full, and the trouble */
#define BK(m, head, help) M(m, head, FT_U64, FU_BYTES, FK_GAUGE, FF_KEY, help)
#define CK(m, head, unit, help) M(m, head, FT_U64, unit, FK_COUNTER, FF_COUNT | FF_KEY, help)

static const struct field memcg_fields[] = {
	FLD(struct memcg_row, path, "path", "CGROUP", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	    "the cgroup as /proc/PID/cgroup names it (\"/\" the root)"),
	M(container, "CONTAINER", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	  "what the path says it is: a systemd unit, a Docker/containerd/CRI-O container "
	  "(12-digit id), a Kubernetes pod; null: none of these"),
	M(pod_uid, NULL, FT_STR, FU_NONE, FK_LABEL, 0, "Kubernetes pod UID; null: not a pod"),
	M(qos_class, NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	  "Kubernetes QoS class: guaranteed, burstable or besteffort; null: not a pod"),
	FLD(struct memcg_row, id, "id", NULL, FT_U64, FU_NONE, FK_LABEL, 0,
	    "kernfs id: the directory's inode number"),
	FLD(struct memcg_row, version, "version", NULL, FT_U32, FU_NONE, FK_LABEL, 0,
	    "cgroup version of the hierarchy: 1 (memory controller) or 2"),
	FLD(struct memcg_row, depth, "depth", NULL, FT_U32, FU_NONE, FK_LABEL, 0,
	    "levels below the root (0: the root)"),
	BK(usage_bytes, "USAGE", "memory.current (v2), memory.usage_in_bytes (v1)"),
	BK(limit_bytes, "LIMIT", "memory.max (v2), memory.limit_in_bytes (v1); null: no limit"),
	M(limit_used_percent, "%LIM", FT_F64, FU_PERCENT, FK_GAUGE, FF_KEY,
	  "usage_bytes of limit_bytes; null without a limit"),
	B(high_bytes, NULL, "memory.high (v2); null: none, or v1"),
	B(low_bytes, NULL, "memory.low (v2); null on v1"),
	B(min_bytes, NULL, "memory.min (v2); null on v1"),
	B(soft_limit_bytes, NULL, "memory.soft_limit_in_bytes (v1); null: none, or v2"),
	B(anon_bytes, "ANON", "memory.stat anon (v2), total_rss (v1)"),
	B(file_bytes, "FILE", "memory.stat file (v2), total_cache (v1)"),
	B(active_anon_bytes, NULL, "memory.stat active_anon (v1: total_active_anon)"),
	B(inactive_anon_bytes, NULL, "memory.stat inactive_anon"),
	B(active_file_bytes, NULL, "memory.stat active_file"),
	B(inactive_file_bytes, NULL, "memory.stat inactive_file"),
	B(unevictable_bytes, NULL, "memory.stat unevictable"),
	B(shmem_bytes, "SHMEM", "memory.stat shmem"),
	B(file_mapped_bytes, NULL, "memory.stat file_mapped (v1: mapped_file)"),
	B(file_dirty_bytes, NULL, "memory.stat file_dirty (v1: dirty)"),
	B(file_writeback_bytes, NULL, "memory.stat file_writeback (v1: writeback)"),
	B(kernel_bytes, "KERNEL", "memory.stat kernel (v2, 5.18+), memory.kmem.usage_in_bytes (v1)"),
	B(slab_bytes, NULL, "memory.stat slab (v2); null on v1"),
	B(sock_bytes, NULL, "memory.stat sock (v2); null on v1"),
	B(page_tables_bytes, NULL, "memory.stat pagetables (v2); null on v1"),
	B(swap_bytes, "SWAP", "memory.swap.current (v2), memory.stat total_swap (v1)"),
	B(swap_limit_bytes, NULL, "memory.swap.max (v2); null: none, or v1 (memsw limits "
	  "memory + swap together)"),
	B(working_set_bytes, "WSET",
	  "cAdvisor's working set: usage_bytes - inactive_file_bytes (counts active file pages "
	  "that may be reclaimable)"),
	B(working_set_refault_bytes, "WSET_RF",
	  "live estimate from refaults: anon + active file + file pages refaulted in the "
	  "interval (at most inactive file); null in a snapshot"),
	C(refault_anon_pages, NULL, FU_PAGES, "memory.stat workingset_refault_anon"),
	C(refault_file_pages, NULL, FU_PAGES, "memory.stat workingset_refault_file"),
	C(activate_anon_pages, NULL, FU_PAGES, "memory.stat workingset_activate_anon"),
	C(activate_file_pages, NULL, FU_PAGES, "memory.stat workingset_activate_file"),
	C(events_low, NULL, FU_NONE, "memory.events low (v2)"),
	C(events_high, NULL, FU_NONE, "memory.events high (v2)"),
	C(events_max, NULL, FU_NONE, "memory.events max (v2)"),
	C(events_oom, NULL, FU_NONE, "memory.events oom (v2)"),
	CK(events_oom_kill, "OOMK", FU_NONE,
	  "OOM kills in it: memory.events oom_kill (v2), memory.oom_control oom_kill (v1)"),
	C(failcnt, NULL, FU_NONE, "memory.failcnt (v1): charges that hit the limit"),
	M(psi_some_avg10_percent, "PSI", FT_F64, FU_PERCENT, FK_GAUGE, 0,
	  "memory.pressure some avg10 (v2); null on v1"),
	M(psi_full_avg10_percent, NULL, FT_F64, FU_PERCENT, FK_GAUGE, 0,
	  "memory.pressure full avg10 (v2)"),
	C(psi_some_total_ns, NULL, FU_NS, "memory.pressure some total (v2)"),
	C(psi_full_total_ns, NULL, FU_NS, "memory.pressure full total (v2)"),
	CK(stalls, "STALLS", FU_NONE,
	  "live: reclaim stalls of its tasks in the interval (BPF); null in a snapshot"),
	C(stall_total_ns, NULL, FU_NS, "live: their total time"),
	M(stall_p99_at_most_ns, "P99", FT_U64, FU_NS, FK_GAUGE, FF_KEY,
	  "live: upper bound of the log2 bucket holding the stalls' 99th percentile"),
	C(reclaim_scanned_pages, NULL, FU_PAGES,
	  "live: pages its tasks' own (direct, memcg) reclaim scanned in the interval"),
	CK(reclaim_reclaimed_pages, "RECLAIMED", FU_PAGES, "live: ... and reclaimed"),
	CK(oom_kills, "KILLS", FU_NONE,
	  "live: OOM kills of its processes in the interval, seen by BPF"),
	FLD_RECS(struct memcg_row, stall_histogram, nr_buckets, "stall_histogram",
		 &hist_bucket_desc, "live: the interval's stalls in log2 buckets (non-empty "
		 "ones); empty in a snapshot"),
	FLD(struct memcg_row, nr_processes, "nr_processes", "PROCS", FT_U32, FU_NONE, FK_GAUGE,
	    0, "processes in it (not below), from the task iterator"),
	FLD_RECS(struct memcg_row, top_processes, nr_top, "top_processes", &proc_desc,
		 "its largest processes by RSS (not below), exact"),
};
#undef M
#undef B
#undef C
#undef BK
#undef CK

const struct record_desc memcg_desc =
	RECORD_DESC("cgroup", "one memory cgroup (memscope cgroup)", memcg_fields,
		    struct memcg_row);
