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
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "iter.h"
#include "memcg.h"
#include "memcg.skel.h"
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

/* Room for one more element at index n of an array of cap (doubled when full). */
static void *room_for(void *p, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return p;
	while (n >= *cap)
		*cap = *cap ? *cap * 2 : first;
	p = realloc(p, *cap * size);
	if (!p)
		ms_fatal("out of memory");
	return p;
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
	const struct memcg_rec *rec; /* the iterator's counters, or NULL: the files' */
	int stat_fd, pressure_fd;    /* held open between scrapes, or -1 */
	char stat[8192];
	bool has_stat;
	/* memory.stat's lines, split once: ~70 lines, ~25 of them looked up */
	struct stat_line {
		const char *key, *value;
		size_t len;
	} line[160];
	int nline;
};

/* Split memory.stat's "key value" lines. */
static void split_stat(struct reader *rd)
{
	rd->nline = 0;
	for (char *p = rd->stat; *p && rd->nline < (int)(sizeof(rd->line) / sizeof(rd->line[0]));) {
		char *sp = strchr(p, ' '), *nl = strchr(p, '\n');

		if (!sp || (nl && nl < sp))
			break;
		rd->line[rd->nline++] = (struct stat_line){ p, sp + 1, (size_t)(sp - p) };
		if (!nl)
			break;
		p = nl + 1;
	}
}

/* A held cgroup file read again from its start: kernfs prints it anew at offset 0. */
static long read_held(int fd, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len - 1 && (n = pread(fd, buf + off, len - 1 - off, off)) > 0)
		off += n;
	buf[off] = 0;
	return n < 0 ? -1 : (long)off;
}

/* Mark field key null unless ok. */
static void known(struct memcg_row *row, const char *key, bool ok)
{
	if (!ok)
		record_null(&memcg_desc, row, key);
}

/* One number of a file; false when the file is missing, "max" or v1's unlimited. */
static bool number(const struct reader *rd, const char *file, uint64_t *v)
{
	char path[PATH_MAX + 64], buf[64];
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
	const char *prefix = rd->row->version == 1 ? "total_" : "";
	size_t p = strlen(prefix), n = strlen(name);
	int i;

	for (i = 0; i < rd->nline; i++)
		if (rd->line[i].len == p + n && !memcmp(rd->line[i].key, prefix, p) &&
		    !memcmp(rd->line[i].key + p, name, n))
			break;
	if (i < rd->nline)
		*v = strtoull(rd->line[i].value, NULL, 10);
	known(rd->row, key, i < rd->nline);
}

static bool read_text(const struct reader *rd, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX + 64];
	int held = !strcmp(file, "memory.stat") ? rd->stat_fd :
		   !strcmp(file, "memory.pressure") ? rd->pressure_fd : -1;

	if (held >= 0)
		return read_held(held, buf, len) >= 0;
	snprintf(path, sizeof(path), "%s/%s", rd->dir, file);
	return read_cgroup_file(path, buf, len) >= 0;
}

/* The memory.stat breakdown; names differ between v1 and v2 for anon and file. */
static void read_stat(struct reader *rd)
{
	struct memcg_row *r = rd->row;
	bool v1 = r->version == 1;

	rd->has_stat = read_text(rd, "memory.stat", rd->stat, sizeof(rd->stat));
	rd->nline = 0;
	if (rd->has_stat)
		split_stat(rd);
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
	stat_field(rd, "pgfault", &r->faults, "faults");
	stat_field(rd, "pgmajfault", &r->major_faults, "major_faults");
	if (v1 && !rd->rec) /* v1 has no "kernel" line: its kmem counter */
		num_field(rd, "memory.kmem.usage_in_bytes", &r->kernel_bytes, "kernel_bytes");
	else if (!v1)
		stat_field(rd, "kernel", &r->kernel_bytes, "kernel_bytes");
	if (v1)
		stat_field(rd, "swap", &r->swap_bytes, "swap_bytes");
	else if (!rd->rec)
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
	num_field(rd, v1 ? "memory.max_usage_in_bytes" : "memory.peak", &r->peak_bytes,
		  "peak_bytes");
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

/* Does v2 have the swap files (not without swap accounting, cgroup.memory=noswap)? Asked
 * once: one hierarchy, one answer. */
static bool v2_swap_files(const char *dir)
{
	static int has = -1;
	char path[PATH_MAX + 64];

	if (has < 0) {
		snprintf(path, sizeof(path), "%s/memory.swap.current", dir);
		has = !access(path, F_OK);
	}
	return has;
}

/* What the files' read_limits reads, from the iterator's record (the same kernel fields
 * those files print; a limit of PAGE_COUNTER_MAX pages is none). */
static void rec_limits(struct reader *rd)
{
	const struct memcg_rec *c = rd->rec;
	struct memcg_row *r = rd->row;
	bool v1 = r->version == 1, v2 = !v1;
	uint64_t page = ms_page_size(), none = (uint64_t)LONG_MAX / page;

	r->usage_bytes = c->usage * page;
	r->peak_bytes = c->watermark * page;
	r->limit_bytes = c->max * page;
	known(r, "limit_bytes", c->max < none);
	r->high_bytes = c->high * page;
	known(r, "high_bytes", v2 && c->high < none);
	r->low_bytes = c->low * page;
	known(r, "low_bytes", v2 && c->low < none);
	r->min_bytes = c->min * page;
	known(r, "min_bytes", v2 && c->min < none);
	r->soft_limit_bytes = c->soft_limit * page;
	known(r, "soft_limit_bytes", v1 && (c->flags & MC_SOFT_LIMIT) && c->soft_limit < none);
	r->swap_limit_bytes = c->swap_max * page;
	known(r, "swap_limit_bytes", v2 && c->swap_max < none && v2_swap_files(rd->dir));
	r->swap_bytes = c->swap * page; /* v1's is memory.stat's swap line */
	known(r, "swap_bytes", v2 && v2_swap_files(rd->dir));
	r->kernel_bytes = c->kmem * page; /* v2's is memory.stat's kernel line */
	known(r, "kernel_bytes", v1 && (c->flags & MC_KMEM));
	known(r, "limit_used_percent", c->max < none && c->max);
	r->limit_used_percent = c->max ? 100.0 * c->usage / c->max : 0;
}

/* What the files' read_events reads, from the record. */
static void rec_events(struct reader *rd)
{
	static const char *const key[MC_NR_EVENTS] = { "events_low", "events_high",
							"events_max", "events_oom",
							"events_oom_kill" };
	const struct memcg_rec *c = rd->rec;
	struct memcg_row *r = rd->row;
	uint64_t *dst[MC_NR_EVENTS] = { &r->events_low, &r->events_high, &r->events_max,
					&r->events_oom, &r->events_oom_kill };
	bool v1 = r->version == 1;

	for (int i = 0; i < MC_NR_EVENTS; i++) {
		*dst[i] = c->events[i];
		known(r, key[i], (!v1 || i == MC_EV_OOM_KILL) && c->events[i] != ~0ULL);
	}
	r->failcnt = c->failcnt;
	known(r, "failcnt", v1);
}

/* One cgroup's row: the counters from rd->rec or the files, then memory.stat, PSI. */
static void read_row(struct reader *rd, const char *abs, const char *rel, uint64_t id,
		     int depth)
{
	struct memcg_row *r = rd->row;

	memset(r, 0, sizeof(*r));
	rd->dir = abs;
	snprintf(r->path, sizeof(r->path), "%s", rel);
	r->id = id;
	r->depth = depth;
	r->version = memcg_hier_is_v2() ? 2 : 1;
	memcg_names(rel, r);
	known(r, "container", r->container[0]);
	known(r, "pod_uid", r->pod_uid[0]);
	known(r, "qos_class", r->qos_class[0]);
	if (rd->rec) {
		rec_limits(rd);
		rec_events(rd);
	} else {
		read_limits(rd);
		read_events(rd);
	}
	read_stat(rd);
	read_pressure(rd);
	/* cAdvisor's working set: usage minus inactive file pages, never below zero */
	known(r, "working_set_bytes", !record_is_null(&memcg_desc, r, "usage_bytes") &&
	      !record_is_null(&memcg_desc, r, "inactive_file_bytes"));
	r->working_set_bytes = r->usage_bytes > r->inactive_file_bytes ?
			       r->usage_bytes - r->inactive_file_bytes : 0;
	for (size_t i = 0; i < sizeof(live_only) / sizeof(live_only[0]); i++)
		record_null(&memcg_desc, r, live_only[i]);
}

static void read_one(const char *abs, const char *rel, uint64_t id, int depth,
		     struct memcg_row *r)
{
	struct reader *rd = calloc(1, sizeof(*rd));

	if (!rd)
		ms_fatal("out of memory");
	*rd = (struct reader){ .row = r, .stat_fd = -1, .pressure_fd = -1 };
	read_row(rd, abs, rel, id, depth);
	free(rd);
}

struct walk_ctx {
	const char *under;
	struct memcg_list *out;
	char **dirs; /* each row's directory */
	size_t cap;
};

static bool is_under(const char *rel, const char *under)
{
	size_t n = strlen(under);

	if (!strcmp(under, "/"))
		return true;
	return !strncmp(rel, under, n) && (rel[n] == 0 || rel[n] == '/');
}

static char *dup_or_die(const char *s)
{
	char *d = strdup(s);

	if (!d)
		ms_fatal("out of memory");
	return d;
}

static void free_dirs(struct walk_ctx *w)
{
	for (size_t i = 0; i < w->out->n; i++)
		free(w->dirs[i]);
	free(w->dirs);
}

/* The walk notes each cgroup; the reading is done after, in parallel. */
static void note_one(const char *abs, const char *rel, uint64_t id, int depth, void *ctx)
{
	struct walk_ctx *w = ctx;
	struct memcg_list *l = w->out;
	struct memcg_row *r;

	if (w->under && !is_under(rel, w->under))
		return;
	l->r = room_for(l->r, l->n, &l->cap, sizeof(*l->r), 64);
	/* the list may come with room from an earlier read: the directories, not */
	w->dirs = room_for(w->dirs, l->n, &w->cap, sizeof(*w->dirs), 64);
	w->dirs[l->n] = dup_or_die(abs);
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
		char *rel = dup_or_die(r->path); /* read_one clears the row */

		read_one(p->w->dirs[i], rel, r->id, r->depth, r);
		free(rel);
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
	free_dirs(&w);
	return out->n;
}

void memcg_list_free(struct memcg_list *l)
{
	free(l->r);
	memset(l, 0, sizeof(*l));
}

struct memcg_row *memcg_list_find(struct memcg_list *l, uint64_t id)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->r[i].id == id)
			return &l->r[i];
	return NULL;
}

/* ---- sets of ids ---- */

static int by_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

bool memcg_ids_has(const struct memcg_ids *s, uint64_t id)
{
	return s && s->n && bsearch(&id, s->id, s->n, sizeof(*s->id), by_id);
}

void memcg_ids_add(struct memcg_ids *s, uint64_t id)
{
	s->id = room_for(s->id, s->n, &s->cap, sizeof(*s->id), 256);
	s->id[s->n++] = id;
}

void memcg_ids_sort(struct memcg_ids *s)
{
	if (s->n)
		qsort(s->id, s->n, sizeof(*s->id), by_id);
}

void memcg_ids_free(struct memcg_ids *s)
{
	free(s->id);
	memset(s, 0, sizeof(*s));
}

/* ---- the kernel's counters of every cgroup in one pass ---- */

/* A served cgroup's files held open between scrapes (memory.stat, v2's memory.pressure). */
struct held {
	uint64_t id;
	int stat, pressure;
	bool used;
};

struct memcg_counters {
	struct memcg_bpf *skel;
	struct bpf_link *link;
	struct held *h;
	size_t nh, caph;
};

struct memcg_counters *memcg_counters_open(void)
{
	union bpf_iter_link_info li = { .cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE };
	LIBBPF_OPTS(bpf_iter_attach_opts, io, .link_info = &li, .link_info_len = sizeof(li));
	struct memcg_counters *c;
	int fd;

	if (!memcg_root() || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->skel = memcg_bpf__open_opts(ms_bpf_open_opts());
	/* tests only: a pass past this many cgroups is the files' way */
	if (c->skel && getenv("MEMSCOPE_TEST_MEMCG_RECS"))
		c->skel->rodata->max_recs = atoi(getenv("MEMSCOPE_TEST_MEMCG_RECS"));
	fd = open(memcg_root(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	li.cgroup.cgroup_fd = fd;
	if (c->skel && fd >= 0 && !memcg_bpf__load(c->skel))
		c->link = bpf_program__attach_iter(c->skel->progs.memcg_walk, &io);
	if (fd >= 0)
		close(fd);
	if (!c->link) { /* iter/cgroup came in 6.1 */
		memcg_counters_close(c);
		return NULL;
	}
	return c;
}

static void close_held(struct held *h)
{
	if (h->stat >= 0)
		close(h->stat);
	if (h->pressure >= 0)
		close(h->pressure);
}

void memcg_counters_close(struct memcg_counters *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nh; i++)
		close_held(&c->h[i]);
	free(c->h);
	bpf_link__destroy(c->link);
	memcg_bpf__destroy(c->skel);
	free(c);
}

/* One pass over every cgroup; false when it failed or some did not fit. */
static bool counters_pass(struct memcg_counters *c)
{
	char err[256];

	c->skel->bss->nr = 0;
	c->skel->bss->nr_beyond = 0;
	return !ms_iter_drain(bpf_link__fd(c->link), err, sizeof(err)) &&
	       !c->skel->bss->nr_beyond;
}

/* The cgroup's held files, opened the first time it is served (-1: read by path). */
static struct held *held_of(struct memcg_counters *c, uint64_t id, const char *dir)
{
	char path[PATH_MAX + 64];
	struct held *h;

	for (size_t i = 0; i < c->nh; i++)
		if (c->h[i].id == id) {
			c->h[i].used = true;
			return &c->h[i];
		}
	c->h = room_for(c->h, c->nh, &c->caph, sizeof(*c->h), 64);
	h = &c->h[c->nh++];
	*h = (struct held){ .id = id, .stat = -1, .pressure = -1, .used = true };
	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	h->stat = open(path, O_RDONLY | O_CLOEXEC);
	if (memcg_hier_is_v2()) {
		snprintf(path, sizeof(path), "%s/memory.pressure", dir);
		h->pressure = open(path, O_RDONLY | O_CLOEXEC);
	}
	return h;
}

/* Close the files of cgroups this scrape did not serve. */
static void held_sweep(struct memcg_counters *c)
{
	size_t kept = 0;

	for (size_t i = 0; i < c->nh; i++) {
		if (c->h[i].used) {
			c->h[i].used = false;
			c->h[kept++] = c->h[i];
		} else {
			close_held(&c->h[i]);
		}
	}
	c->nh = kept;
}

/* ---- the largest few: ranked by usage, only those read whole ---- */

struct candidate {
	char *abs, *rel;
	uint64_t id, usage;
	int depth;
	bool first;
	const struct memcg_rec *rec; /* the pass's record, or NULL: files */
};

struct top_walk {
	const char *under;
	const struct memcg_ids *first;
	struct memcg_ids *all;
	struct candidate *c;
	size_t n, cap;
};

/* Usage for the ranking; false when the cgroup has no such file (v2 without the memory
 * controller) or is gone meanwhile. */
static bool usage_of(const char *abs, uint64_t *usage)
{
	char path[PATH_MAX + 64], buf[64];
	unsigned long long x;

	snprintf(path, sizeof(path), "%s/%s", abs,
		 memcg_hier_is_v2() ? "memory.current" : "memory.usage_in_bytes");
	if (read_cgroup_file(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%llu", &x) != 1)
		return false;
	*usage = x;
	return true;
}

static void add_candidate(struct top_walk *t, const char *abs, const char *rel, uint64_t id,
			  uint64_t usage, int depth, const struct memcg_rec *rec)
{
	char full[PATH_MAX + 256];

	if (!abs) {
		snprintf(full, sizeof(full), "%s%s", memcg_root(), rel);
		abs = full;
	}
	t->c = room_for(t->c, t->n, &t->cap, sizeof(*t->c), 64);
	t->c[t->n++] = (struct candidate){ dup_or_die(abs), dup_or_die(rel), id, usage, depth,
					   memcg_ids_has(t->first, id), rec };
}

static void note_candidate(const char *abs, const char *rel, uint64_t id, int depth, void *ctx)
{
	struct top_walk *t = ctx;
	uint64_t usage;

	if (t->all)
		memcg_ids_add(t->all, id);
	if (!depth || (t->under && !is_under(rel, t->under)) || !usage_of(abs, &usage))
		return;
	add_candidate(t, abs, rel, id, usage, depth, NULL);
}

/* The pass's cgroups as candidates, named from the path table: walked again only when
 * the pass saw a cgroup it does not have (made since; one gone since is not asked). */
static void note_counted(struct memcg_counters *c, struct top_walk *t)
{
	const struct memcg_rec *recs = c->skel->bss->recs;
	__u32 nr = c->skel->bss->nr < MC_MAX ? c->skel->bss->nr : MC_MAX;
	uint64_t page = ms_page_size();

	for (__u32 i = 0; i < nr; i++)
		if ((recs[i].flags & MC_MEMCG) && !memcg_path_known(recs[i].id)) {
			memcg_paths_walk();
			break;
		}
	for (__u32 i = 0; i < nr; i++) {
		const struct memcg_rec *r = &recs[i];
		const char *rel;

		if (t->all)
			memcg_ids_add(t->all, r->id);
		if (!r->level || !(r->flags & MC_MEMCG) || !(rel = memcg_path_known(r->id)) ||
		    (t->under && !is_under(rel, t->under)))
			continue;
		add_candidate(t, NULL, rel, r->id, r->usage * page, r->level, r);
	}
}

static int by_rank(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->first != y->first)
		return x->first ? -1 : 1;
	if (x->usage != y->usage)
		return x->usage > y->usage ? -1 : 1;
	return strcmp(x->rel, y->rel);
}

/* The chosen ones whole: the pass's counters and the held memory.stat (and PSI). */
static void read_counted(struct memcg_counters *c, struct candidate *cand, size_t n,
			 struct memcg_list *out)
{
	struct reader *rd = calloc(1, sizeof(*rd));

	if (!rd)
		ms_fatal("out of memory");
	out->r = room_for(out->r, n, &out->cap, sizeof(*out->r), 64); /* n + 1: none is fine */
	for (size_t i = 0; i < n; i++) {
		struct held *h = held_of(c, cand[i].id, cand[i].abs);

		*rd = (struct reader){ .row = &out->r[i], .rec = cand[i].rec, .stat_fd = h->stat,
				       .pressure_fd = h->pressure };
		read_row(rd, cand[i].abs, cand[i].rel, cand[i].id, cand[i].depth);
	}
	out->n = n;
	held_sweep(c);
	free(rd);
}

int memcgs_read_top(struct memcg_counters *c, const char *rel, size_t n,
		    const struct memcg_ids *first, struct memcg_ids *all, struct memcg_list *out)
{
	struct top_walk t = { .under = rel, .first = first, .all = all };
	struct walk_ctx w = { NULL, out, NULL, 0 };
	bool counted;

	out->n = 0;
	if (all)
		all->n = 0;
	if (!memcg_root()) {
		errno = ENOENT;
		return -1;
	}
	memcg_hier_is_v2(); /* cached before the threads ask */
	counted = c && counters_pass(c);
	if (counted)
		note_counted(c, &t);
	else
		memcg_walk(note_candidate, &t);
	if (all)
		memcg_ids_sort(all);
	qsort(t.c, t.n, sizeof(*t.c), by_rank);
	if (n > t.n)
		n = t.n;
	if (counted)
		read_counted(c, t.c, n, out);
	for (size_t i = 0; i < t.n; i++) {
		if (i < n && !counted)
			note_one(t.c[i].abs, t.c[i].rel, t.c[i].id, t.c[i].depth, &w);
		free(t.c[i].abs);
		free(t.c[i].rel);
	}
	free(t.c);
	if (!counted) {
		read_all(&w);
		free_dirs(&w);
	}
	return out->n;
}

/* ---- what BPF attributes to each cgroup ---- */

struct memcg_attributed *memcg_attributed_of(struct memcg_attribution *t, uint64_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->a[i].id == id)
			return &t->a[i];
	t->a = room_for(t->a, t->n, &t->cap, sizeof(*t->a), 64);
	memset(&t->a[t->n], 0, sizeof(t->a[0]));
	t->a[t->n].id = id;
	return &t->a[t->n++];
}

const struct memcg_attributed *memcg_attributed_find(const struct memcg_attribution *t,
						     uint64_t id)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->a[i].id == id)
			return &t->a[i];
	return NULL;
}

static void add_memcg(const struct rc_memcg_key *k, const struct rc_memcg *m, void *ctx)
{
	struct memcg_attributed *a = memcg_attributed_of(ctx, k->memcg_id);
	const __u64 *src = (const __u64 *)m;
	__u64 *dst = (__u64 *)&a->m;

	for (size_t w = 0; w < sizeof(*m) / sizeof(__u64); w++)
		dst[w] += src[w]; /* max_ns summed too: unused here */
}

void memcg_attribution_read(struct memcg_attribution *t, struct reclaim *r)
{
	t->n = 0;
	reclaim_each_memcg(r, add_memcg, t);
}

void memcg_attribution_free(struct memcg_attribution *t)
{
	free(t->a);
	memset(t, 0, sizeof(*t));
}

/* The field has a value after all (a live view fills what a snapshot leaves null). */
static void unnull(struct memcg_row *r, const char *key)
{
	for (int i = 0; i < memcg_desc.nr; i++)
		if (!strcmp(memcg_desc.fields[i].key, key))
			record_mark(&memcg_desc, r, i, false);
}

void memcg_fill_live(struct memcg_row *r, const struct memcg_attributed *now,
		     const struct memcg_attributed *before)
{
	static const struct memcg_attributed zero;
	static const char *const keys[] = { "stalls", "stall_total_ns", "stall_p99_at_most_ns",
					    "reclaim_scanned_pages", "reclaim_reclaimed_pages",
					    "oom_kills" };
	__u64 hist[RC_HIST_SLOTS];

	if (!now)
		now = &zero;
	if (!before)
		before = &zero;
	r->nr_buckets = 0;
	for (int i = 0; i < RC_HIST_SLOTS; i++) {
		struct hist_bucket *b;

		hist[i] = now->m.hist[i] - before->m.hist[i];
		if (!hist[i])
			continue;
		/* the in-kernel buckets are log2 of microseconds, as reclaim's */
		b = &r->stall_histogram[r->nr_buckets++];
		memset(b, 0, sizeof(*b));
		b->from_ns = i ? (1ULL << i) * 1000 : 0;
		b->to_ns = ((1ULL << (i + 1)) - 1) * 1000;
		b->count = hist[i];
	}
	r->stalls = now->m.count - before->m.count;
	r->stall_total_ns = now->m.total_ns - before->m.total_ns;
	r->stall_p99_at_most_ns = reclaim_hist_quantile(hist, 0.99);
	r->reclaim_scanned_pages = now->m.scanned_pages - before->m.scanned_pages;
	r->reclaim_reclaimed_pages = now->m.reclaimed_pages - before->m.reclaimed_pages;
	r->oom_kills = now->kills - before->kills;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i], "stall_p99_at_most_ns") || r->stalls)
			unnull(r, keys[i]);
}

void memcg_add_refaults(struct memcg_row *r, const struct memcg_row *prev)
{
	uint64_t refault;

	if (!prev || record_is_null(&memcg_desc, r, "refault_file_pages") ||
	    record_is_null(&memcg_desc, prev, "refault_file_pages") ||
	    record_is_null(&memcg_desc, r, "anon_bytes") ||
	    record_is_null(&memcg_desc, r, "active_file_bytes"))
		return;
	refault = r->refault_file_pages > prev->refault_file_pages ?
		  (r->refault_file_pages - prev->refault_file_pages) * ms_page_size() : 0;
	if (refault > r->inactive_file_bytes)
		refault = r->inactive_file_bytes;
	r->working_set_refault_bytes = r->anon_bytes + r->active_file_bytes + refault;
	unnull(r, "working_set_refault_bytes");
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
	B(peak_bytes, NULL, "the highest usage: memory.peak (v2, 5.19+), "
	  "memory.max_usage_in_bytes (v1)"),
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
	/* v2: 170b04b7ae49 split workingset_refault and _activate (5.9); v1 got the refaults
	 * from e09b0b61fbbf (6.1), never the activations */
	C(refault_anon_pages, NULL, FU_PAGES, "memory.stat workingset_refault_anon (v2: 5.9+, "
	  "v1: 6.1+; an older kernel's has no such line)"),
	C(refault_file_pages, NULL, FU_PAGES, "memory.stat workingset_refault_file (v2: 5.9+, "
	  "v1: 6.1+; an older kernel's has no such line)"),
	C(activate_anon_pages, NULL, FU_PAGES, "memory.stat workingset_activate_anon (v2: 5.9+; "
	  "not in v1's)"),
	C(activate_file_pages, NULL, FU_PAGES, "memory.stat workingset_activate_file (v2: 5.9+; "
	  "not in v1's)"),
	C(faults, NULL, FU_NONE, "page faults of its tasks: memory.stat pgfault"),
	C(major_faults, NULL, FU_NONE, "of those, major (from disk): memory.stat pgmajfault"),
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
	  "live: OOM kills of its processes in the interval, seen by BPF; null where the "
	  "kernel's events name no victim's memory cgroup"),
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
