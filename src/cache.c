// SPDX-License-Identifier: GPL-2.0
/* memscope cache: which files hold the page cache, dirty or not, and their churn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cachefiles.h"
#include "commands.h"
#include "loss.h"
#include "memcgs.h"
#include "meminfo.h"
#include "output.h"
#include "record.h"
#include "runtime.h"
#include "units.h"
#include "util.h"

enum sort_key { SORT_CACHED, SORT_DIRTY, SORT_CHURN, SORT_SIZE, SORT_NR };
static const char *const sort_names[SORT_NR] = { "cached", "dirty", "churn", "size" };

static struct {
	long top;
	enum sort_key sort;
	bool all, memcg;
	const char *under;
} cfg = { .top = 20 };

enum { OPT_TOP, OPT_SORT, OPT_ALL, OPT_MEMCG, OPT_UNDER };

static const struct ms_cmd_opt cache_opts[] = {
	{ "top", 0, required_argument, "N", "the N first by --sort (default 20; 0: every file)",
	  OPT_TOP },
	{ "sort", 's', required_argument, "KEY",
	  "cached|dirty|churn|size (default cached; churn needs -i)", OPT_SORT },
	{ "all", 0, no_argument, NULL,
	  "also the files no process holds: walk every mounted file system (costly, see below)",
	  OPT_ALL },
	{ "memcg", 0, no_argument, NULL, "the page cache per memory cgroup, as its files state it",
	  OPT_MEMCG },
	{ "under", 0, required_argument, "DIR",
	  "with --all: walk only DIR's tree, on its own file system", OPT_UNDER },
	{ NULL },
};

static void cache_parse_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_TOP:
		cfg.top = ms_parse_long("--top", arg, 0, 10000000);
		break;
	case OPT_SORT:
		cfg.sort = ms_parse_choice("--sort", arg, sort_names, SORT_NR);
		break;
	case OPT_ALL:
		cfg.all = true;
		break;
	case OPT_MEMCG:
		cfg.memcg = true;
		break;
	case OPT_UNDER:
		cfg.under = arg;
		break;
	}
}

static bool is_live(const struct ms_opts *o)
{
	return o->interval || o->duration || (o->count && o->count != 1);
}

static void cache_check(const struct ms_opts *o)
{
	if (cfg.memcg && (is_live(o) || cfg.all))
		ms_usage_error("cache: --memcg is one report: no -i, -c, -d or --all");
	if (cfg.under && !cfg.all)
		ms_usage_error("cache: --under DIR goes with --all");
	if (cfg.sort == SORT_CHURN && !is_live(o))
		ms_usage_error("cache: --sort churn needs an interval (-i SEC)");
}

/* ---- a report ---- */

struct state {
	struct cachefiles *c;
	struct cache_list files;
	struct cache_churn_entry *churn, *prev;
	long nr_churn, nr_prev;
	struct cache_file_row *rows;
	size_t nrows, cap;
};

static enum sort_key sort_by;

static int cmp_rows(const void *a, const void *b)
{
	const struct cache_file_row *x = a, *y = b;
	uint64_t kx = x->cached_bytes, ky = y->cached_bytes;

	if (sort_by == SORT_DIRTY)
		kx = x->dirty_bytes, ky = y->dirty_bytes;
	else if (sort_by == SORT_CHURN)
		kx = x->added_bytes + x->deleted_bytes, ky = y->added_bytes + y->deleted_bytes;
	else if (sort_by == SORT_SIZE)
		kx = x->size_bytes, ky = y->size_bytes;
	if (kx != ky)
		return ky > kx ? 1 : -1;
	if (x->cached_bytes != y->cached_bytes)
		return y->cached_bytes > x->cached_bytes ? 1 : -1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static struct cache_file_row *new_row(struct state *st)
{
	if (st->nrows == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 256;
		struct cache_file_row *r = realloc(st->rows, cap * sizeof(*r));

		if (!r)
			ms_fatal("out of memory");
		st->rows = r;
		st->cap = cap;
	}
	return &st->rows[st->nrows++];
}

static const struct cache_churn_entry *find_churn(const struct cache_churn_entry *e, long n,
						  uint32_t maj, uint32_t min, uint64_t ino)
{
	for (long i = 0; i < n; i++)
		if (e[i].ino == ino && e[i].major == maj && e[i].minor == min)
			return &e[i];
	return NULL;
}

static void churn_of(const struct state *st, const struct cache_churn_entry *c, int64_t *add,
		     int64_t *del)
{
	const struct cache_churn_entry *p = find_churn(st->prev, st->nr_prev, c->major, c->minor,
						       c->ino);
	unsigned long page = ms_page_size();

	*add = (c->added - (p ? p->added : 0)) * page;
	*del = (c->deleted - (p ? p->deleted : 0)) * page;
}

/* Live: each file's churn, and the files that churned without a holder. */
static void add_churn(struct state *st, struct cache_total_row *t)
{
	size_t held = st->nrows;

	t->added_bytes = t->deleted_bytes = 0;
	for (long i = 0; i < st->nr_churn; i++) {
		const struct cache_churn_entry *c = &st->churn[i];
		struct cache_file_row *r = NULL;
		char dev[16];
		int64_t add, del;

		churn_of(st, c, &add, &del);
		t->added_bytes += add;
		t->deleted_bytes += del;
		if (!add && !del)
			continue;
		snprintf(dev, sizeof(dev), "%u:%u", c->major, c->minor);
		for (size_t j = 0; j < held && !r; j++)
			if (st->rows[j].ino == c->ino && !strcmp(st->rows[j].dev, dev))
				r = &st->rows[j];
		if (!r) {
			struct cache_file f = { .major = c->major, .minor = c->minor, .ino = c->ino,
						.dirty_pages = -1 };

			cache_file_row_of(&f, ms_page_size(), r = new_row(st));
			record_null(&cache_file_desc, r, "size_bytes");
			snprintf(r->seen_as, sizeof(r->seen_as), "churn");
		}
		r->added_bytes = add;
		r->deleted_bytes = del;
	}
	for (size_t j = 0; j < st->nrows; j++) {
		record_mark(&cache_file_desc, &st->rows[j], 3, false); /* added_bytes */
		record_mark(&cache_file_desc, &st->rows[j], 4, false); /* deleted_bytes */
	}
}

static void total_of(const struct state *st, const struct cache_walk_stats *ws,
		     struct cache_total_row *t)
{
	struct ms_meminfo mi;
	bool dirty_known = false;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < st->nrows; i++) {
		const struct cache_file_row *r = &st->rows[i];

		t->files++;
		t->cached_bytes += r->cached_bytes;
		if (!record_is_null(&cache_file_desc, r, "dirty_bytes")) {
			dirty_known = true;
			t->dirty_bytes += r->dirty_bytes;
			t->writeback_bytes += r->writeback_bytes;
		}
	}
	if (!dirty_known) {
		record_null(&cache_total_desc, t, "dirty_bytes");
		record_null(&cache_total_desc, t, "writeback_bytes");
	}
	if (meminfo_read(&mi)) {
		t->meminfo_cached_bytes = mi.bytes[MI_CACHED];
		t->meminfo_buffers_bytes = mi.bytes[MI_BUFFERS];
		t->meminfo_shmem_bytes = mi.bytes[MI_SHMEM];
		t->meminfo_dirty_bytes = mi.bytes[MI_DIRTY];
		t->meminfo_writeback_bytes = mi.bytes[MI_WRITEBACK];
	}
	t->walked = ws != NULL;
	if (ws) {
		t->walk_file_systems = ws->file_systems;
		t->walk_files = ws->files;
		t->walk_unreadable = ws->unreadable;
		t->walk_ns = ws->ns;
	} else {
		record_null(&cache_total_desc, t, "walk_file_systems");
		record_null(&cache_total_desc, t, "walk_files");
		record_null(&cache_total_desc, t, "walk_unreadable");
		record_null(&cache_total_desc, t, "walk_ns");
	}
	record_null(&cache_total_desc, t, "added_bytes");
	record_null(&cache_total_desc, t, "deleted_bytes");
}

/* dirty_shown: the table has DIRTY and WB columns (a table drops a column of '-' alone). */
static void print_total(const struct cache_total_row *t, const char *when, bool dirty_shown)
{
	char a[32], b[32], c[32], d[32], line[600];

	snprintf(line, sizeof(line), "%s%s%u files hold %s of the page cache (/proc/meminfo: "
		 "Cached %s, Buffers %s)%s", when ? when : "", when ? "  " : "", t->files,
		 fmt_bytes(a, sizeof(a), t->cached_bytes),
		 fmt_bytes(b, sizeof(b), t->meminfo_cached_bytes),
		 fmt_bytes(c, sizeof(c), t->meminfo_buffers_bytes),
		 t->walked ? "" : "; the files processes hold open or map (--all: every file)");
	out_wrap("", "  ", line);
	if (!cachefiles_have_cachestat())
		out_wrap("", "  ", dirty_shown ?
			 "DIRTY and WB are '-': they need cachestat(2) (6.5+), which this kernel "
			 "lacks" :
			 "dirty and writeback pages are unknown on this kernel (no DIRTY and WB "
			 "columns): they need cachestat(2) (6.5+)");
	if (t->walked) {
		snprintf(line, sizeof(line), "walked %llu file systems, %llu files in %.1f s; %llu "
			 "could not be opened", (unsigned long long)t->walk_file_systems,
			 (unsigned long long)t->walk_files, t->walk_ns / 1e9,
			 (unsigned long long)t->walk_unreadable);
		out_wrap("", "  ", line);
	}
	if (!record_is_null(&cache_total_desc, t, "added_bytes")) {
		snprintf(line, sizeof(line), "this interval: %s added to the cache, %s deleted",
			 fmt_bytes(a, sizeof(a), t->added_bytes),
			 fmt_bytes(d, sizeof(d), t->deleted_bytes));
		out_wrap("", "  ", line);
	}
}

static void report(struct state *st, bool live, const struct cache_walk_stats *ws,
		   const char *when)
{
	struct cache_total_row total;
	double now = ms_wall_now();
	size_t n;

	st->nrows = 0;
	for (size_t i = 0; i < st->files.n; i++)
		cache_file_row_of(&st->files.f[i], ms_page_size(), new_row(st));
	total_of(st, ws, &total);
	if (live) {
		add_churn(st, &total);
		record_mark(&cache_total_desc, &total, 14, false);
		record_mark(&cache_total_desc, &total, 15, false);
	}
	sort_by = cfg.sort;
	qsort(st->rows, st->nrows, sizeof(*st->rows), cmp_rows);
	n = cfg.top && (size_t)cfg.top < st->nrows ? (size_t)cfg.top : st->nrows;
	if (out_json_mode()) {
		out_json(record_json(&cache_total_desc, &total, now));
		for (size_t i = 0; i < n; i++)
			out_json(record_json(&cache_file_desc, &st->rows[i], now));
	} else {
		struct ms_col cols[16];
		struct ms_table *t;

		t = table_new(cols, record_cols(&cache_file_desc, cols, ARRAY_SIZE(cols),
						live ? 0 : FF_DELTA));
		for (size_t i = 0; i < n; i++)
			table_add(t, record_row(&cache_file_desc, &st->rows[i], now));
		print_total(&total, when, table_shows(t, "dirty_bytes"));
		table_flush(t);
		table_free(t);
		out_printf("\n");
	}
	out_flush();
}

static int run_memcg(void)
{
	struct memcg_list l = { 0 };
	struct ms_col cols[8];
	struct ms_table *t;

	if (memcgs_read(NULL, &l) < 0)
		ms_fatal("no memory cgroup hierarchy is mounted (neither v1's memory controller "
			 "nor a v2 tree with memory)");
	t = table_new(cols, record_cols(&cache_memcg_desc, cols, ARRAY_SIZE(cols), 0));
	for (size_t i = 0; i < l.n; i++) {
		const struct memcg_row *m = &l.r[i];
		struct cache_memcg_row r = { 0 };

		snprintf(r.path, sizeof(r.path), "%s", m->path);
#define COPY(f)                                                                                \
	do {                                                                                   \
		r.f = m->f;                                                                    \
		if (record_is_null(&memcg_desc, m, #f))                                        \
			record_null(&cache_memcg_desc, &r, #f);                                \
	} while (0)
		COPY(file_bytes);
		COPY(file_dirty_bytes);
		COPY(file_writeback_bytes);
		COPY(file_mapped_bytes);
		COPY(shmem_bytes);
#undef COPY
		table_add(t, record_row(&cache_memcg_desc, &r, ms_wall_now()));
	}
	table_flush(t);
	table_free(t);
	memcg_list_free(&l);
	return 0;
}

static void read_or_die(struct state *st)
{
	char err[256];

	if (cachefiles_read(st->c, &st->files, err, sizeof(err)))
		ms_fatal("%s", err);
}

static int cache_run(const struct ms_opts *o)
{
	struct cachefiles_opts co = { .live = is_live(o) };
	struct cache_walk_stats ws;
	struct state st = { 0 };
	struct ms_ticker tk;
	char err[256];

	if (cfg.memcg)
		return run_memcg();
	ms_require_bpf();
	if (cachefiles_open(&co, &st.c, err, sizeof(err)))
		ms_fatal("%s", err);
	if (!co.live) {
		read_or_die(&st);
		if (cfg.all && cachefiles_walk(&st.files, cfg.under, &ws, err, sizeof(err)))
			ms_fatal("%s", err);
		report(&st, false, cfg.all ? &ws : NULL, NULL);
	} else {
		ticker_init(&tk, o->interval ? o->interval : 1, o->count, o->duration);
		tk.next_ns = ms_now_ns();
		for (bool first = true; ticker_wait(&tk); first = false) {
			char when[24];
			struct ms_loss *loss;
			int nloss;

			read_or_die(&st);
			free(st.prev);
			st.prev = st.churn;
			st.nr_prev = st.nr_churn;
			st.nr_churn = cachefiles_churn(st.c, &st.churn);
			if (st.nr_churn < 0)
				st.nr_churn = 0;
			if (first) /* the first report sets the baseline: no interval yet */
				continue;
			report(&st, true, NULL, fmt_clock(when, sizeof(when), ms_wall_now(), false));
			loss = cachefiles_losses(st.c, &nloss);
			ms_report_losses("cache", loss, nloss);
		}
	}
	cachefiles_close(st.c);
	cache_list_free(&st.files);
	free(st.churn);
	free(st.prev);
	free(st.rows);
	return 0;
}

const struct ms_cmd cmd_cache = {
	.name = "cache",
	.summary = "which files hold the page cache: cached, dirty, writeback, holders; churn",
	.details =
		"Every file a process holds open or maps, with its pages in the page cache:\n"
		"the task_file and task_vma iterators read each file's mapping in the kernel\n"
		"(nrpages). Dirty and writeback pages come from cachestat(2) (6.5+; null\n"
		"before), through the holder's own descriptor (/proc/PID/fd, map_files), so\n"
		"an unlinked file counts too. Only regular files are opened; a block device's\n"
		"cache (Buffers) shows without them.\n"
		"--all adds the files no process holds: every mounted file system's tree is\n"
		"walked (pseudo file systems skipped, bind mounts once) and each regular file\n"
		"opened for cachestat (mincore before 6.5, as fincore): a few system calls per\n"
		"file, seconds on a large tree. It sees what memscope's mount namespace can\n"
		"reach by name: a file hidden under a mount, unlinked or only in another\n"
		"namespace is seen only while a process holds it.\n"
		"With -i: pages added to and deleted from each file's cache per interval (the\n"
		"filemap tracepoints, counted in the kernel), held or not.",
	.examples = "  memscope cache                       the 20 files with most cache\n"
		    "  memscope cache -s dirty              the dirtiest\n"
		    "  memscope cache --all --top 50        every file, held or not\n"
		    "  memscope cache --all --under /var    every file of /var's file system\n"
		    "  memscope cache -i 5 -s churn         which files churn\n"
		    "  memscope cache --memcg               page cache per memory cgroup\n",
	.shared = MS_OPT_LOOP,
	.opts = cache_opts,
	.parse_opt = cache_parse_opt,
	.check = cache_check,
	.run = cache_run,
	.hooks = cachefiles_hooks,
	.nr_hooks = CACHEFILES_NR_HOOKS,
	.records = (const struct record_desc *const[]){ &cache_total_desc, &cache_file_desc,
		&cache_memcg_desc, &lost_desc, NULL },
};
