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

static const char *const sort_units[] = { "", "_bytes", "_percent", "_pages", "_ns" };

/* A numeric field by its key, or its key without the unit ("usage" for usage_bytes). */
static const struct field *sort_field(const char *key)
{
	char k[64];

	for (size_t u = 0; u < ARRAY_SIZE(sort_units); u++) {
		snprintf(k, sizeof(k), "%s%s", key, sort_units[u]);
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

static struct {
	struct procs *procs;
	struct reclaim *reclaim; /* live only */
	struct kills *kills;	 /* live only */
	struct ring_buffer *rb;
	struct memcg_attribution kills_seen; /* OOM kills per victim memcg, from the events */
} st;

static int on_kill(void *ctx, void *data, size_t len)
{
	const struct oom_event *e = data;
	uint64_t id;

	(void)ctx;
	if (len >= sizeof(*e) && kill_victim_memcg_id(e, &id))
		memcg_attributed_of(&st.kills_seen, id)->kills++;
	return 0;
}

/* Since start: reclaim per cgroup (summed over reclaimers) and kills per cgroup. */
static void read_attribution(struct memcg_attribution *t)
{
	memcg_attribution_read(t, st.reclaim);
	ring_buffer__consume(st.rb);
	for (size_t i = 0; i < st.kills_seen.n; i++)
		memcg_attributed_of(t, st.kills_seen.a[i].id)->kills = st.kills_seen.a[i].kills;
}

/* ---- processes: each cgroup's own, exact, from one task-iterator pass ---- */

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
		struct memcg_row *r = memcg_list_find(l, pl.r[i].memcg_id);

		if (!r)
			continue;
		r->nr_processes++;
		if (r->nr_top < MEMCG_TOP_PROCS)
			proc_row_of(&pl.r[i], NULL, &r->top_processes[r->nr_top++]);
	}
	proc_list_free(&pl);
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
	char name[512]; /* a name takes up to 255 bytes, the indent 2 per level (64 at most) */

	snprintf(name, sizeof(name), "%*s%.255s", (int)(2 * r->depth), "",
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
	struct memcg_attribution now = { 0 }, before = { 0 }, swap;
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

			memcg_fill_live(r, memcg_attributed_find(&now, r->id),
					memcg_attributed_find(&before, r->id));
			if (!kills_victim_memcg(st.kills)) /* no victim's cgroup: unknown */
				record_null(&memcg_desc, r, "oom_kills");
			memcg_add_refaults(r, memcg_list_find(&prev, r->id));
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
	memcg_attribution_free(&now);
	memcg_attribution_free(&before);
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
	memcg_attribution_free(&st.kills_seen);
	return 0;
}

/* The i-th key --sort takes, as its help names them: a number's key without its unit. */
static const char *sort_word(int i)
{
	static char key[64];

	for (int f = 0; f < memcg_desc.nr; f++) {
		const struct field *fl = &memcg_desc.fields[f];
		size_t n = strlen(fl->key);

		if (sort_field(fl->key) != fl || i--)
			continue;
		for (size_t u = 1; u < ARRAY_SIZE(sort_units); u++) {
			size_t l = strlen(sort_units[u]);

			if (n > l && !strcmp(fl->key + n - l, sort_units[u]))
				n -= l;
		}
		snprintf(key, sizeof(key), "%.*s", (int)n, fl->key);
		if (sort_field(key) != fl) /* the short form is another field's */
			snprintf(key, sizeof(key), "%s", fl->key);
		return key;
	}
	return NULL;
}

static const struct ms_opt_value cgroup_values[] = {
	{ "sort", MS_ARG_WORD, sort_word },
	{ "cgroup", MS_ARG_CGROUP, NULL },
	{ NULL, 0, NULL },
};

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
	.values = cgroup_values,
};
