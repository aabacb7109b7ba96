// SPDX-License-Identifier: GPL-2.0
/* memscope cgroup: memory per cgroup and container, with what BPF attributes to it. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "commands.h"
#include "cgroups.h"
#include "filters.h"
#include "kills.h"
#include "loss.h"
#include "memcgs.h"
#include "output.h"
#include "procs.h"
#include "record.h"
#include "runtime.h"
#include "units.h"
#include "util.h"
#include "vmscan.h"

static struct {
	bool tree;
	long top;
	const struct field *sort;
	struct ms_cgroup_filter cgroup;
} cfg;

enum { OPT_TREE, OPT_TOP, OPT_SORT, OPT_CGROUP };

static const struct ms_cmd_opt cgroup_opts[] = {
	{ "tree", 0, no_argument, NULL, "the hierarchy: children under their parent, indented",
	  OPT_TREE },
	{ "top", 0, required_argument, "N", "only the N first by --sort", OPT_TOP },
	{ "sort", 's', required_argument, "KEY",
	  "any number of the record: usage (default), limit_used, anon, file, working_set, "
	  "psi_some_avg10, stalls, reclaim_reclaimed, events_oom_kill, ... (help fields)",
	  OPT_SORT },
	{ "cgroup", 0, required_argument, "PATH", "this memory cgroup and those below it",
	  OPT_CGROUP },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

/* A numeric field by its key, or its key without the unit ("usage" for usage_bytes). */
static const struct field *sort_field(const char *key)
{
	static const char *const units[] = { "", "_bytes", "_percent", "_pages", "_ns" };
	char k[64];

	for (size_t u = 0; u < ARRAY_SIZE(units); u++) {
		snprintf(k, sizeof(k), "%s%s", key, units[u]);
		for (int i = 0; i < memcg_desc.nr; i++) {
			const struct field *f = &memcg_desc.fields[i];

			if (!strcmp(f->key, k) && f->kind != FK_LABEL &&
			    (f->type == FT_U64 || f->type == FT_U32 || f->type == FT_F64))
				return f;
		}
	}
	return NULL;
}

static void cgroup_parse_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_TREE:
		cfg.tree = true;
		break;
	case OPT_TOP:
		cfg.top = ms_parse_long("--top", arg, 1, 1000000);
		break;
	case OPT_SORT:
		if (!(cfg.sort = sort_field(arg)))
			ms_usage_error("--sort: '%s' is no number of the cgroup record (usage, "
				       "limit_used, anon, file, working_set, stalls, ...; see "
				       "'memscope help fields')", arg);
		break;
	case OPT_CGROUP:
		ms_cgroup_filter_parse(arg, &cfg.cgroup);
		break;
	}
}

static void cgroup_check(const struct ms_opts *o)
{
	char probe[600];

	(void)o;
	if (cfg.tree && cfg.sort)
		ms_usage_error("cgroup: --tree keeps the hierarchy's order; --sort goes without it");
	if (!cfg.sort)
		cfg.sort = sort_field("usage");
	if (!cfg.cgroup.id || !cfg.cgroup.v2 || !strcmp(cfg.cgroup.path, "/"))
		return;
	snprintf(probe, sizeof(probe), "%s%s/memory.current", memcg_root() ? memcg_root() : "",
		 cfg.cgroup.path);
	if (!memcg_root() || access(probe, F_OK))
		ms_usage_error("--cgroup: '%s' has no memory controller (add +memory to its "
			       "parent's cgroup.subtree_control)", cfg.cgroup.path);
}

/* ---- what BPF attributes to each cgroup ---- */

struct attributed {
	uint64_t id;
	struct rc_memcg m; /* summed over reclaimers, since start */
	uint64_t kills;	   /* since start */
};

struct attribution {
	struct attributed *a;
	size_t n, cap;
};

static struct {
	struct procs *procs;
	struct reclaim *reclaim; /* live only */
	struct kills *kills;	 /* live only */
	struct ring_buffer *rb;
	struct attribution kills_seen; /* OOM kills per victim memcg, from the events */
} st;

static struct attributed *attributed_of(struct attribution *t, uint64_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->a[i].id == id)
			return &t->a[i];
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->a = realloc(t->a, t->cap * sizeof(*t->a));
		if (!t->a)
			ms_fatal("out of memory");
	}
	memset(&t->a[t->n], 0, sizeof(t->a[0]));
	t->a[t->n].id = id;
	return &t->a[t->n++];
}

static void add_memcg(const struct rc_memcg_key *k, const struct rc_memcg *m, void *ctx)
{
	struct attributed *a = attributed_of(ctx, k->memcg_id);
	const __u64 *src = (const __u64 *)m;
	__u64 *dst = (__u64 *)&a->m;

	for (size_t w = 0; w < sizeof(*m) / sizeof(__u64); w++)
		dst[w] += src[w]; /* max_ns summed too: unused here */
}

static int on_kill(void *ctx, void *data, size_t len)
{
	const struct oom_event *e = data;

	(void)ctx;
	if (len >= sizeof(*e) && e->kind == OOM_EV_KILL && e->has_memcg)
		attributed_of(&st.kills_seen, e->memcg_id)->kills++;
	return 0;
}

/* Since start: reclaim per cgroup (summed over reclaimers) and kills per cgroup. */
static void read_attribution(struct attribution *t)
{
	t->n = 0;
	reclaim_each_memcg(st.reclaim, add_memcg, t);
	ring_buffer__consume(st.rb);
	for (size_t i = 0; i < st.kills_seen.n; i++)
		attributed_of(t, st.kills_seen.a[i].id)->kills = st.kills_seen.a[i].kills;
}

static const struct attributed *find_attributed(const struct attribution *t, uint64_t id)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->a[i].id == id)
			return &t->a[i];
	return NULL;
}

static const char *const live_keys[] = { "stalls", "stall_total_ns", "stall_p99_at_most_ns",
					 "reclaim_scanned_pages", "reclaim_reclaimed_pages",
					 "oom_kills" };

/* The field has a value after all (a live view fills what a snapshot leaves null). */
static void known(struct memcg_row *r, const char *key)
{
	for (int i = 0; i < memcg_desc.nr; i++)
		if (!strcmp(memcg_desc.fields[i].key, key))
			record_mark(&memcg_desc, r, i, false);
}

/* The interval's share: now minus before, into the row's live fields. */
static void fill_live(struct memcg_row *r, const struct attributed *now,
		      const struct attributed *before)
{
	static const struct attributed zero;
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
	for (size_t i = 0; i < ARRAY_SIZE(live_keys); i++)
		if (strcmp(live_keys[i], "stall_p99_at_most_ns") || r->stalls)
			known(r, live_keys[i]);
}

/* ---- processes: each cgroup's own, exact, from one task-iterator pass ---- */

static struct memcg_row *row_of_id(struct memcg_list *l, uint64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].id == id)
			return &l->r[i];
	return NULL;
}

/* Load the task iterator (the first time) and take every process. */
static void *snapshot_processes(void *arg)
{
	static const struct ms_filter all;

	if (!st.procs)
		st.procs = procs_open(&all);
	procs_snapshot(st.procs, arg);
	return NULL;
}

static void add_processes(struct memcg_list *l, struct proc_list *pl_)
{
	struct proc_list pl = *pl_;

	proc_list_sort_rss(&pl); /* largest first: the first few of each cgroup are its top */
	for (size_t i = 0; i < pl.n; i++) {
		struct memcg_row *r = row_of_id(l, pl.r[i].memcg_id);

		if (!r)
			continue;
		r->nr_processes++;
		if (r->nr_top < MEMCG_TOP_PROCS)
			proc_row_of(&pl.r[i], NULL, &r->top_processes[r->nr_top++]);
	}
	proc_list_free(&pl);
}

/* Live: the refault estimate of the working set, from the interval's file refaults. */
static void add_refaults(struct memcg_row *r, const struct memcg_row *prev)
{
	uint64_t refault;

	if (!prev || record_is_null(&memcg_desc, r, "refault_file_pages") ||
	    record_is_null(&memcg_desc, r, "anon_bytes") ||
	    record_is_null(&memcg_desc, r, "active_file_bytes"))
		return;
	refault = (r->refault_file_pages - prev->refault_file_pages) * ms_page_size();
	if (refault > r->inactive_file_bytes)
		refault = r->inactive_file_bytes;
	r->working_set_refault_bytes = r->anon_bytes + r->active_file_bytes + refault;
	known(r, "working_set_refault_bytes");
}

/* ---- output ---- */

static double number_of(const struct memcg_row *r, const struct field *f)
{
	const char *p = (const char *)r + f->off;
	uint64_t u = 0;
	uint32_t u32;
	double d;

	if (f->type == FT_F64) {
		memcpy(&d, p, sizeof(d));
		return d;
	}
	if (f->type == FT_U32) {
		memcpy(&u32, p, sizeof(u32));
		return u32;
	}
	memcpy(&u, p, sizeof(u));
	return (double)u;
}

static int by_sort(const void *a, const void *b)
{
	const struct memcg_row *x = a, *y = b;
	bool nx = (cfg.sort->flags & FF_NULL) && record_is_null(&memcg_desc, x, cfg.sort->key);
	bool ny = (cfg.sort->flags & FF_NULL) && record_is_null(&memcg_desc, y, cfg.sort->key);
	double vx = nx ? -1 : number_of(x, cfg.sort), vy = ny ? -1 : number_of(y, cfg.sort);

	if (vx != vy)
		return vx > vy ? -1 : 1; /* largest first, unknown last */
	return strcmp(x->path, y->path);
}

static const char *const snapshot_cols[] = {
	"path", "container", "usage_bytes", "limit_bytes", "limit_used_percent", "anon_bytes",
	"file_bytes", "shmem_bytes", "kernel_bytes", "swap_bytes", "working_set_bytes",
	"psi_some_avg10_percent", "events_oom_kill", "nr_processes", NULL };
static const char *const live_cols[] = {
	"path", "container", "usage_bytes", "limit_used_percent", "anon_bytes", "file_bytes",
	"working_set_bytes", "working_set_refault_bytes", "psi_some_avg10_percent", "stalls",
	"stall_p99_at_most_ns", "reclaim_reclaimed_pages", "oom_kills", "nr_processes", NULL };

/* --tree: the last part of the path, indented by depth. */
static void tree_name(json_object *o, const struct memcg_row *r)
{
	const char *base = strrchr(r->path, '/');
	char name[300];

	snprintf(name, sizeof(name), "%*s%s", (int)(2 * r->depth), "",
		 r->depth && base ? base + 1 : r->path);
	json_object_object_add(o, "path", json_object_new_string(name));
}

/* Paths in tree order: '/' before any other character, so a parent's subtree stays
 * together ("/a", "/a/b", "/a-x"). */
static int by_tree(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)((const struct memcg_row *)a)->path;
	const unsigned char *y = (const unsigned char *)((const struct memcg_row *)b)->path;

	for (; *x && *x == *y; x++, y++)
		;
	return (*x == '/' ? 1 : *x + 1) - (*y == '/' ? 1 : *y + 1);
}

static void print_list(struct memcg_list *l, bool live, double ts)
{
	static struct ms_col cols[2][24];
	static struct ms_table *t[2];
	size_t n = l->n;

	qsort(l->r, l->n, sizeof(*l->r), cfg.tree ? by_tree : by_sort);
	if (cfg.top && (size_t)cfg.top < n)
		n = cfg.top;
	if (!out_json_mode() && !t[live]) {
		t[live] = table_new(cols[live], record_cols_pick(&memcg_desc, live ? live_cols :
								 snapshot_cols, cols[live], 24));
		if (live)
			table_set_live(t[live]);
	}
	for (size_t i = 0; i < n; i++) {
		json_object *o;

		if (out_json_mode()) {
			out_json(record_json(&memcg_desc, &l->r[i], ts));
			continue;
		}
		o = record_row(&memcg_desc, &l->r[i], ts);
		if (cfg.tree)
			tree_name(o, &l->r[i]);
		table_add(t[live], o);
	}
	if (!out_json_mode()) {
		if (live) {
			char when[16];

			out_printf("%s  %zu memory cgroup%s\n", fmt_clock(when, sizeof(when), ts, false),
				   l->n, l->n == 1 ? "" : "s");
		}
		table_flush(t[live]);
	}
	out_flush();
}

/* ---- the run ---- */

static const char *under(void)
{
	return cfg.cgroup.id ? cfg.cgroup.path : NULL;
}

/* The cgroups' files and the processes at once: loading BPF and reading a thousand
 * small files each take tens of milliseconds. */
static void read_list(struct memcg_list *l)
{
	struct proc_list pl = { 0 };
	pthread_t t;
	bool threaded = !pthread_create(&t, NULL, snapshot_processes, &pl);

	if (!threaded)
		snapshot_processes(&pl);
	if (memcgs_read(under(), l) < 0)
		ms_fatal("cgroup: no memory cgroup hierarchy is mounted (v1 memory controller "
			 "or cgroup2 with +memory)");
	if (threaded)
		pthread_join(t, NULL);
	add_processes(l, &pl);
}

static void open_live(void)
{
	static const struct ms_filter all;
	static const struct reclaim_want by_memcg = { .by_memcg = true };
	static const struct kills_want plain = { .ring_bytes = 256 << 10 };

	st.reclaim = reclaim_open(&all, &by_memcg);
	st.kills = kills_open(&plain);
	st.rb = ring_buffer__new(kills_events_fd(st.kills), on_kill, NULL, NULL);
	if (!st.rb)
		ms_bpf_fail("creating the event ring buffer", errno);
}

/* Live: every interval, the cgroups with the interval's reclaim, kills and refaults. */
static void run_live(const struct ms_opts *o)
{
	struct memcg_list cur = { 0 }, prev = { 0 };
	struct attribution now = { 0 }, before = { 0 }, swap;
	struct ms_ticker tk;
	struct ms_loss *losses;
	int nl;

	open_live();
	read_attribution(&before);
	read_list(&prev);
	ticker_init(&tk, o->interval ? o->interval : 1, o->count, o->duration);
	while (ticker_wait(&tk)) {
		read_list(&cur);
		read_attribution(&now);
		for (size_t i = 0; i < cur.n; i++) {
			struct memcg_row *r = &cur.r[i];

			fill_live(r, find_attributed(&now, r->id), find_attributed(&before, r->id));
			add_refaults(r, row_of_id(&prev, r->id));
		}
		print_list(&cur, true, ms_wall_now());
		losses = reclaim_losses(st.reclaim, &nl); /* nl is set by this call */
		ms_report_losses("cgroup", losses, nl);
		swap = before, before = now, now = swap;
		memcg_list_free(&prev);
		prev = cur;
		memset(&cur, 0, sizeof(cur));
	}
	memcg_list_free(&prev);
	free(now.a);
	free(before.a);
}

static int cgroup_run(const struct ms_opts *o)
{
	bool live = o->interval || o->duration || o->count;

	if (live) {
		run_live(o);
	} else {
		struct memcg_list l = { 0 };

		read_list(&l);
		print_list(&l, false, ms_wall_now());
		memcg_list_free(&l);
	}
	ring_buffer__free(st.rb);
	kills_close(st.kills);
	reclaim_close(st.reclaim);
	procs_close(st.procs);
	free(st.kills_seen.a);
	return 0;
}

const struct ms_cmd cmd_cgroup = {
	.name = "cgroup",
	.summary = "memory per cgroup and container: usage, limits, working set, pressure, "
		   "reclaim and OOM kills attributed",
	.details =
		"Every memory cgroup (v1 memory controller or v2) from its own files: usage,\n"
		"limits, the memory.stat breakdown, swap, events and pressure, the working set\n"
		"both ways (cAdvisor's usage - inactive_file, and from refaults when live), the\n"
		"names users know (systemd unit, container id, Kubernetes pod and QoS class) and\n"
		"its largest processes, exact, from the task iterator. Live (-i/-c/-d): each\n"
		"interval's reclaim stalls, scanned and reclaimed pages of its tasks' own\n"
		"reclaim, and OOM kills of its processes, from BPF.",
	.examples = "  memscope cgroup                      every memory cgroup, largest first\n"
		    "  memscope cgroup --tree               the hierarchy\n"
		    "  memscope cgroup -s limit_used --top 5   the closest to their limit\n"
		    "  memscope cgroup -i 5 --cgroup /system.slice   live, one subtree\n"
		    "  memscope cgroup -j | jq .working_set_bytes\n",
	.shared = MS_OPT_LOOP,
	.opts = cgroup_opts,
	.parse_opt = cgroup_parse_opt,
	.check = cgroup_check,
	.run = cgroup_run,
	.hooks = reclaim_hooks,
	.nr_hooks = RECLAIM_NR_HOOKS,
	.records = (const struct record_desc *const[]){ &memcg_desc, &proc_desc, &lost_desc,
		NULL },
};
