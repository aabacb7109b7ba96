// SPDX-License-Identifier: GPL-2.0
/* memscope slab: every slab cache, its growth, live allocation rates and their sites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "ksyms.h"
#include "loss.h"
#include "meminfo.h"
#include "output.h"
#include "record.h"
#include "runtime.h"
#include "slabs.h"
#include "units.h"
#include "util.h"

enum sort_key { SORT_SIZE, SORT_GROWTH, SORT_ALLOCS, SORT_NAME, SORT_NR };
static const char *const sort_names[SORT_NR] = { "size", "growth", "allocs", "name" };

static struct {
	long top;
	enum sort_key sort;
	unsigned int stack_every;
	bool memcg, slabinfo;
} cfg = { .top = 20 };

enum { OPT_TOP, OPT_SORT, OPT_STACKS, OPT_STACK_EVERY, OPT_MEMCG, OPT_SLABINFO };

static const struct ms_cmd_opt slab_opts[] = {
	{ "top", 0, required_argument, "N", "the N first by --sort (default 20; 0: every cache)",
	  OPT_TOP },
	{ "sort", 's', required_argument, "KEY",
	  "size|growth|allocs|name (default size; growth and allocs need -i)", OPT_SORT },
	{ "stacks", 0, no_argument, NULL,
	  "live: sample allocation stacks, shown for the caches that grow", OPT_STACKS },
	{ "stack-every", 0, required_argument, "N",
	  "with --stacks: one allocation in N has its stack taken (default 64)", OPT_STACK_EVERY },
	{ "memcg", 0, no_argument, NULL, "slab per memory cgroup, as its files state it",
	  OPT_MEMCG },
	{ "slabinfo", 0, no_argument, NULL,
	  "read /proc/slabinfo even where the kmem_cache iterator exists", OPT_SLABINFO },
	{ NULL },
};

static void slab_parse_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_TOP:
		cfg.top = ms_parse_long("--top", arg, 0, 1000000);
		break;
	case OPT_SORT:
		cfg.sort = ms_parse_choice("--sort", arg, sort_names, SORT_NR);
		break;
	case OPT_STACKS:
		if (!cfg.stack_every)
			cfg.stack_every = 64;
		break;
	case OPT_STACK_EVERY:
		cfg.stack_every = ms_parse_long("--stack-every", arg, 1, 1 << 20);
		break;
	case OPT_MEMCG:
		cfg.memcg = true;
		break;
	case OPT_SLABINFO:
		cfg.slabinfo = true;
		break;
	}
}

static bool is_live(const struct ms_opts *o)
{
	return o->interval || o->duration || (o->count && o->count != 1);
}

static void slab_check(const struct ms_opts *o)
{
	if (cfg.memcg && (is_live(o) || cfg.stack_every))
		ms_usage_error("slab: --memcg is one report: no -i, -c, -d or --stacks");
	if (!is_live(o) && (cfg.stack_every || cfg.sort == SORT_GROWTH || cfg.sort == SORT_ALLOCS))
		ms_usage_error("slab: --stacks and --sort growth|allocs need an interval (-i SEC)");
}

/* ---- a report ---- */

struct state {
	struct slabs *s;
	struct slab_snapshot now, prev;
	bool have_prev;
	struct slab_count *counts, *prev_counts;
	long nr_counts, nr_prev_counts;
	uint64_t prev_kfree, prev_ns;
	uint64_t kfree, now_ns; /* read with the counts: rates span exactly what they count */
	struct slab_row *rows;
	struct ksyms *ksyms;
};

static const struct slab_info *find_prev(const struct state *st, const struct slab_info *c)
{
	for (size_t i = 0; i < st->prev.n; i++)
		if (!strcmp(st->prev.c[i].name, c->name) && st->prev.c[i].key == c->key)
			return &st->prev.c[i];
	return NULL;
}

static const struct slab_count *find_count(const struct slab_count *c, long n, uint64_t key)
{
	for (long i = 0; i < n; i++)
		if (c[i].key == key)
			return &c[i];
	return NULL;
}

/* The row a live count belongs to: its cache by address, else by name. */
static long row_of_count(const struct state *st, const struct slab_count *c)
{
	for (size_t i = 0; i < st->now.n; i++)
		if (st->now.c[i].key && st->now.c[i].key == c->key)
			return i;
	for (size_t i = 0; i < st->now.n; i++)
		if (!strcmp(st->now.c[i].name, c->name))
			return i;
	return -1;
}

static void add_rates(struct state *st, double secs)
{
	for (size_t i = 0; i < st->now.n; i++)
		st->rows[i].allocs_per_s = st->rows[i].frees_per_s = 0;
	for (long i = 0; i < st->nr_counts; i++) {
		const struct slab_count *c = &st->counts[i];
		const struct slab_count *p = find_count(st->prev_counts, st->nr_prev_counts, c->key);
		long r = row_of_count(st, c);

		if (r < 0)
			continue;
		st->rows[r].allocs_per_s += (c->allocs - (p ? p->allocs : 0)) / secs;
		st->rows[r].frees_per_s += (c->frees - (p ? p->frees : 0)) / secs;
	}
	for (size_t i = 0; i < st->now.n; i++) {
		/* before 6.0 only kmalloc's size classes are named by their events */
		bool kmalloc = !strncmp(st->rows[i].name, "kmalloc-", 8);
		bool named = slabs_cache_rates(st->s);

		/* kfree() names no cache: a kmalloc class's frees are not known */
		record_mark(&slab_desc, &st->rows[i], 14, !named && !kmalloc); /* allocs_per_s */
		record_mark(&slab_desc, &st->rows[i], 15, !named || kmalloc); /* frees_per_s */
	}
}

static enum sort_key sort_by;

static int cmp_rows(const void *a, const void *b)
{
	const struct slab_row *x = a, *y = b;
	int64_t d = 0;

	switch (sort_by) {
	case SORT_GROWTH:
		d = x->growth_bytes != y->growth_bytes ? y->growth_bytes - x->growth_bytes
						       : y->growth_objects - x->growth_objects;
		break;
	case SORT_ALLOCS:
		d = y->allocs_per_s > x->allocs_per_s ? 1 :
		    y->allocs_per_s < x->allocs_per_s ? -1 : 0;
		break;
	case SORT_NAME:
		return strcmp(x->name, y->name);
	default:
		break;
	}
	if (!d)
		d = y->bytes > x->bytes ? 1 : y->bytes < x->bytes ? -1 : 0;
	return d > 0 ? 1 : d < 0 ? -1 : strcmp(x->name, y->name);
}

static void total_of(const struct state *st, struct slab_total_row *t)
{
	struct ms_meminfo mi;
	bool known = true;

	memset(t, 0, sizeof(*t));
	snprintf(t->source, sizeof(t->source), "%s", slabs_source(st->s));
	if (slabs_source_why(st->s))
		snprintf(t->source_why, sizeof(t->source_why), "%s", slabs_source_why(st->s));
	else
		record_null(&slab_total_desc, t, "source_why");
	t->caches = st->now.n;
	t->stack_every = cfg.stack_every;
	for (size_t i = 0; i < st->now.n; i++) {
		const struct slab_row *r = &st->rows[i];

		t->bytes += r->bytes;
		if (record_is_null(&slab_desc, r, "reclaimable"))
			known = false;
		else if (r->reclaimable)
			t->reclaimable_bytes += r->bytes;
		else
			t->unreclaimable_bytes += r->bytes;
		t->growth_bytes += r->growth_bytes;
	}
	if (!known) {
		record_null(&slab_total_desc, t, "reclaimable_bytes");
		record_null(&slab_total_desc, t, "unreclaimable_bytes");
	}
	if (!st->have_prev)
		record_null(&slab_total_desc, t, "growth_bytes");
	if (meminfo_read(&mi) && meminfo_has(&mi, MI_SLAB)) {
		t->meminfo_slab_bytes = mi.bytes[MI_SLAB];
		t->meminfo_sreclaimable_bytes = mi.bytes[MI_SRECLAIMABLE];
		t->meminfo_sunreclaim_bytes = mi.bytes[MI_SUNRECLAIM];
	} else {
		record_null(&slab_total_desc, t, "meminfo_slab_bytes");
		record_null(&slab_total_desc, t, "meminfo_sreclaimable_bytes");
		record_null(&slab_total_desc, t, "meminfo_sunreclaim_bytes");
	}
	record_null(&slab_total_desc, t, "kfree_per_s");
}

static void print_total(const struct slab_total_row *t, const char *when)
{
	char a[32], b[32], c[32], d[32], line[400];

	if (record_is_null(&slab_total_desc, t, "reclaimable_bytes"))
		snprintf(b, sizeof(b), "reclaimable -");
	else
		snprintf(b, sizeof(b), "reclaimable %s", fmt_bytes(c, sizeof(c),
								     t->reclaimable_bytes));
	snprintf(line, sizeof(line), "%s%s%u caches hold %s (%s); /proc/meminfo Slab %s. Read "
		 "from %s%s%s.%s", when ? when : "", when ? "  " : "", t->caches,
		 fmt_bytes(a, sizeof(a), t->bytes), b,
		 record_is_null(&slab_total_desc, t, "meminfo_slab_bytes") ? "-" :
		 fmt_bytes(d, sizeof(d), t->meminfo_slab_bytes), t->source,
		 record_is_null(&slab_total_desc, t, "source_why") ? "" : ": ",
		 record_is_null(&slab_total_desc, t, "source_why") ? "" : t->source_why,
		 t->stack_every ? " Stacks: one allocation in N sampled (stack_every)." : "");
	out_wrap("", "  ", line);
}

static void print_sites(struct state *st, const struct slab_row *rows, long nrows)
{
	struct slab_site *sites;
	long n = slabs_sites(st->s, &sites);
	int shown = 0;

	if (n <= 0)
		return;
	if (!st->ksyms)
		st->ksyms = ksyms_load(NULL);
	/* the sites of the first caches of this report (the ones that grow, by --sort) */
	for (long r = 0; r < nrows && shown < 5; r++) {
		int per = 0;

		for (int pass = 0; pass < 3; pass++) {
			long best = -1;

			for (long i = 0; i < n; i++)
				if (!strcmp(sites[i].cache, rows[r].name) && sites[i].samples &&
				    (best < 0 || sites[i].samples > sites[best].samples))
					best = i;
			if (best < 0)
				break;
			struct slab_site_row sr = { 0 };

			snprintf(sr.cache, sizeof(sr.cache), "%s", sites[best].cache);
			sr.samples = sites[best].samples;
			sr.estimated_allocs = sr.samples * cfg.stack_every;
			for (int f = st->ksyms ? ksyms_stack_start(st->ksyms, sites[best].ips,
								   sites[best].nr_frames) : 0;
			     f < sites[best].nr_frames && sr.nr_frames < SLABS_STACK_FRAMES; f++)
				ksyms_format(st->ksyms, sites[best].ips[f], sr.frames[sr.nr_frames++],
					     sizeof(sr.frames[0]));
			sites[best].samples = 0;
			per++;
			if (out_json_mode()) {
				out_json(record_json(&slab_site_desc, &sr, ms_wall_now()));
				continue;
			}
			if (per == 1 && !shown++)
				out_printf("\nallocation sites (sampled 1 in %u):\n", cfg.stack_every);
			out_printf("  %s: %llu samples, ~%llu allocations\n", sr.cache,
				   (unsigned long long)sr.samples, (unsigned long long)sr.estimated_allocs);
			for (uint32_t f = 0; f < sr.nr_frames && f < 8; f++)
				out_printf("      %s\n", sr.frames[f]);
		}
	}
	free(sites);
}

static const char *const snap_cols[] = { "name", "cache_bytes", "objects_active",
	"objects_in_slabs", "size_bytes", "slabs", "reclaimable", NULL };
static const char *const live_cols[] = { "name", "cache_bytes", "growth_bytes", "objects_active",
	"allocs_per_s", "frees_per_s", "size_bytes", "reclaimable", NULL };

static void report(struct state *st, bool live, const char *when)
{
	unsigned long page = ms_page_size();
	struct slab_total_row total;
	double now = ms_wall_now();
	long nrows;

	free(st->rows);
	st->rows = calloc(st->now.n ? st->now.n : 1, sizeof(*st->rows));
	if (!st->rows)
		ms_fatal("out of memory");
	for (size_t i = 0; i < st->now.n; i++)
		slab_row_of(&st->now.c[i], st->have_prev ? find_prev(st, &st->now.c[i]) : NULL,
			    page, &st->rows[i]);
	total_of(st, &total);
	if (live && st->have_prev) {
		double secs = (st->now_ns - st->prev_ns) / 1e9;

		add_rates(st, secs > 0 ? secs : 1);
		total.kfree_per_s = (st->kfree - st->prev_kfree) / (secs > 0 ? secs : 1);
		record_mark(&slab_total_desc, &total, 9, false);
	}
	sort_by = cfg.sort;
	qsort(st->rows, st->now.n, sizeof(*st->rows), cmp_rows);
	nrows = cfg.top && cfg.top < (long)st->now.n ? cfg.top : (long)st->now.n;
	if (out_json_mode()) {
		out_json(record_json(&slab_total_desc, &total, now));
		for (long i = 0; i < nrows; i++)
			out_json(record_json(&slab_desc, &st->rows[i], now));
	} else {
		struct ms_col cols[20];
		struct ms_table *t;

		print_total(&total, when);
		t = table_new(cols, record_cols_pick(&slab_desc, live ? live_cols : snap_cols,
						     cols, ARRAY_SIZE(cols)));
		for (long i = 0; i < nrows; i++)
			table_add(t, record_row(&slab_desc, &st->rows[i], now));
		table_flush(t);
		table_free(t);
	}
	if (cfg.stack_every && st->have_prev)
		print_sites(st, st->rows, nrows);
	if (!out_json_mode())
		out_printf("\n");
	out_flush();
}

static void read_or_die(struct state *st)
{
	char err[256];

	if (slabs_read(st->s, &st->now, err, sizeof(err)))
		ms_fatal("%s", err);
}

static void remember(struct state *st, bool live)
{
	struct slab_snapshot t = st->prev;

	st->prev = st->now;
	st->now = t;
	st->have_prev = true;
	if (live) {
		free(st->prev_counts);
		st->prev_counts = st->counts;
		st->nr_prev_counts = st->nr_counts;
		st->counts = NULL;
		st->nr_counts = 0;
		st->prev_kfree = st->kfree;
	}
	st->prev_ns = st->now_ns;
}

static int run_memcg(void)
{
	struct slab_memcg_row *r;
	char err[256];
	long n = slabs_memcgs(&r, err, sizeof(err));
	struct ms_col cols[8];
	struct ms_table *t;
	bool any = false;

	if (n < 0)
		ms_fatal("%s", err);
	t = table_new(cols, record_cols(&slab_memcg_desc, cols, ARRAY_SIZE(cols), 0));
	for (long i = 0; i < n; i++) {
		any |= !record_is_null(&slab_memcg_desc, &r[i], "slab_bytes");
		table_add(t, record_row(&slab_memcg_desc, &r[i], ms_wall_now()));
	}
	table_flush(t);
	table_free(t);
	if (!any && !out_json_mode())
		out_wrap("note: ", "      ", "this kernel states no slab per memory cgroup here: "
			 "v1's memory.kmem.slabinfo lists no cache since 5.9 (objects are "
			 "charged one by one); KERNEL is all of a cgroup's kernel memory, slab "
			 "included. Cgroup v2's memory.stat has slab_reclaimable and "
			 "slab_unreclaimable.");
	free(r);
	return 0;
}

static int slab_run(const struct ms_opts *o)
{
	struct slabs_opts so = { .live = is_live(o), .stack_every = cfg.stack_every,
				 .force_slabinfo = cfg.slabinfo };
	struct state st = { 0 };
	struct ms_ticker tk;
	char err[256];
	struct ms_loss *loss;
	int nloss;

	if (cfg.memcg)
		return run_memcg();
	if (so.live || !so.force_slabinfo)
		ms_require_bpf();
	if (slabs_open(&so, &st.s, err, sizeof(err)))
		ms_fatal("%s", err);
	if (!so.live) {
		read_or_die(&st);
		report(&st, false, NULL);
	} else {
		ticker_init(&tk, o->interval ? o->interval : 1, o->count, o->duration);
		tk.next_ns = ms_now_ns();
		while (ticker_wait(&tk)) {
			char when[24];

			read_or_die(&st);
			st.nr_counts = slabs_counts(st.s, &st.counts);
			if (st.nr_counts < 0)
				st.nr_counts = 0;
			st.kfree = slabs_kfrees(st.s);
			st.now_ns = ms_now_ns();
			report(&st, true, fmt_clock(when, sizeof(when), ms_wall_now(), false));
			remember(&st, true);
			loss = slabs_losses(st.s, &nloss);
			ms_report_losses("slab", loss, nloss);
		}
	}
	slabs_close(st.s);
	slab_snapshot_free(&st.now);
	slab_snapshot_free(&st.prev);
	free(st.counts);
	free(st.prev_counts);
	free(st.rows);
	ksyms_free(st.ksyms);
	return 0;
}

const struct ms_cmd cmd_slab = {
	.name = "slab",
	.summary = "every slab cache: size, objects, growth; live allocation rates and sites",
	.details =
		"Every slab cache as /proc/slabinfo counts it: read in the kernel by the\n"
		"kmem_cache iterator (6.13+), else from /proc/slabinfo. SIZE is slabs x pages\n"
		"per slab (slabtop's CACHE SIZE); GROWTH its change since the previous report.\n"
		"With -i, allocations and frees per second per cache, counted in the kernel from\n"
		"the kmem tracepoints (no event per allocation leaves it): kmalloc counts go to\n"
		"the size class (kmalloc-64), and kfree, which names no cache, is counted apart.\n"
		"--stacks samples one allocation in --stack-every (64) with its kernel stack and\n"
		"shows the sites of the first caches listed (sort by growth to see the ones that\n"
		"grow): each sample costs a stack walk and a map update.",
	.examples = "  memscope slab                        the 20 largest caches\n"
		    "  memscope slab --top 0 -j             every cache as NDJSON\n"
		    "  memscope slab -i 5 -s growth         what grows, with allocation rates\n"
		    "  memscope slab -i 10 -s growth --stacks   and who allocates it\n"
		    "  memscope slab --memcg                slab per memory cgroup\n",
	.shared = MS_OPT_LOOP,
	.opts = slab_opts,
	.parse_opt = slab_parse_opt,
	.check = slab_check,
	.run = slab_run,
	.hooks = slabs_hooks,
	.nr_hooks = SLABS_NR_HOOKS,
	.records = (const struct record_desc *const[]){ &slab_total_desc, &slab_desc,
		&slab_site_desc, &slab_memcg_desc, &lost_desc, NULL },
};
