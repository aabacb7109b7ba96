// SPDX-License-Identifier: GPL-2.0
/* memscope proc: per-process memory state (procstat), exact, snapshot or live. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "commands.h"
#include "filters.h"
#include "output.h"
#include "procfs.h"
#include "procs.h"
#include "record.h"
#include "runtime.h"
#include "units.h"
#include "util.h"

enum sort_key { SORT_RSS, SORT_VSZ, SORT_SWAP, SORT_PTE, SORT_HWM, SORT_ANON, SORT_FILE,
		SORT_SHMEM, SORT_PID, SORT_NR };
static const char *const sort_names[SORT_NR] = { "rss", "vsz", "swap", "pte", "hwm",
						 "anon", "file", "shmem", "pid" };

static struct {
	bool once;
	long top;
	enum sort_key sort;
	struct ms_cgroup_filter cgroup;
} cfg;

enum { OPT_ONCE, OPT_TOP, OPT_SORT, OPT_CGROUP };

static const char *sort_word(int i)
{
	return i >= 0 && i < SORT_NR ? sort_names[i] : NULL;
}

static const struct ms_opt_value proc_values[] = {
	{ "sort", MS_ARG_WORD, sort_word },
	{ "cgroup", MS_ARG_CGROUP, NULL },
	{ NULL, 0, NULL },
};

static const struct ms_cmd_opt proc_opts[] = {
	{ "once", 0, no_argument, NULL, "one snapshot of every process, then exit", OPT_ONCE },
	{ "top", 0, required_argument, "N", "only the N first by --sort", OPT_TOP },
	{ "sort", 's', required_argument, "KEY",
	  "rss|vsz|swap|pte|hwm|anon|file|shmem|pid (default rss)", OPT_SORT },
	{ "cgroup", 0, required_argument, "PATH",
	  "only processes in this memory cgroup (v1 or v2) or below", OPT_CGROUP },
	{ NULL },
};

static void proc_parse_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_ONCE:
		cfg.once = true;
		break;
	case OPT_TOP:
		cfg.top = ms_parse_long("--top", arg, 1, 1000000);
		break;
	case OPT_SORT:
		for (int i = 0; i < SORT_NR; i++)
			if (!strcmp(arg, sort_names[i])) {
				cfg.sort = i;
				return;
			}
		ms_usage_error("--sort: unknown key '%s' (rss, vsz, swap, pte, hwm, anon, file, "
			       "shmem, pid)", arg);
	case OPT_CGROUP:
		ms_cgroup_filter_parse(arg, &cfg.cgroup);
		break;
	}
}

static void proc_check(const struct ms_opts *o)
{
	if (cfg.once && (o->interval || o->duration || o->count))
		ms_usage_error("proc: --once takes no --interval, --duration or --count");
	/* -c 1 without live options is a snapshot too. */
	if (o->count == 1 && !o->interval && !o->duration)
		cfg.once = true;
}

/* ---- sorting ---- */

static uint64_t sort_value(const struct proc_rec *r, enum sort_key k)
{
	struct proc_row row;

	if (k == SORT_PID)
		return r->pid;
	proc_row_of(r, NULL, &row);
	switch (k) {
	case SORT_VSZ: return row.vsz_bytes;
	case SORT_SWAP: return row.swap_bytes;
	case SORT_PTE: return row.page_tables_bytes;
	case SORT_HWM: return row.hwm_bytes;
	case SORT_ANON: return row.rss_anon_bytes;
	case SORT_FILE: return row.rss_file_bytes;
	case SORT_SHMEM: return row.rss_shmem_bytes;
	default: return row.rss_bytes;
	}
}

static enum sort_key qsort_key;

static int cmp_sort(const void *a, const void *b)
{
	const struct proc_rec *x = a, *y = b;
	uint64_t vx = sort_value(x, qsort_key), vy = sort_value(y, qsort_key);

	if (qsort_key == SORT_PID)
		return vx < vy ? -1 : vx > vy;
	if (vx != vy)
		return vx > vy ? -1 : 1; /* largest first */
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* ---- output ---- */

/* The text table of proc records (live: with the deltas); widths kept while it lives. */
static struct ms_table *proc_table(bool live)
{
	static struct ms_col cols[2][32];
	struct ms_table *t = table_new(cols[live], record_cols(&proc_desc, cols[live],
							      ARRAY_SIZE(cols[live]),
							      live ? 0 : FF_DELTA));

	if (live)
		table_set_live(t);
	return t;
}

/* The first --top of l by --sort into t; prev: the previous report's values (live). */
static void print_list(struct ms_table *t, struct proc_list *l, const struct proc_list *prev,
		       bool exited, double ts)
{
	size_t n = l->n;

	qsort_key = cfg.sort;
	if (l->n)
		qsort(l->r, l->n, sizeof(*l->r), cmp_sort);
	if (cfg.top && (size_t)cfg.top < n)
		n = cfg.top;
	for (size_t i = 0; i < n; i++) {
		struct proc_row row;

		proc_row_of(&l->r[i], prev ? proc_list_find(prev, l->r[i].pid) : NULL, &row);
		row.exited = exited;
		table_add(t, record_json(&proc_desc, &row, ts));
	}
	table_flush(t);
	proc_list_sort_pid(l);
}

/* -p PID that the snapshot does not show: say why, each one (l sorted by pid). */
static void explain_missing(const struct ms_opts *o, const struct proc_list *l)
{
	for (int i = 0; i < o->nr_pids; i++) {
		const char *why;

		if (proc_list_find(l, o->pids[i]))
			continue;
		why = proc_no_mm_reason(o->pids[i]);
		if (why)
			ms_warn("pid %d is not shown: %s", o->pids[i], why);
		else if (o->has_comm || cfg.cgroup.id)
			ms_warn("pid %d is not shown: it does not match --comm/--cgroup", o->pids[i]);
		else if (kill(o->pids[i], 0) && errno == ESRCH)
			ms_warn("pid %d is not shown: it exited", o->pids[i]);
		else
			ms_warn("pid %d is not shown: the kernel's task iterator did not yield it "
				"(some sandboxes hide their supervisor from BPF iterators)",
				o->pids[i]);
	}
}

static int run_once(const struct ms_opts *o)
{
	struct ms_filter f = ms_filter_of(o, &cfg.cgroup);
	struct procs *p = procs_open(&f);
	struct proc_list l = { 0 };
	struct ms_table *t = proc_table(false);

	procs_snapshot(p, &l);
	explain_missing(o, &l);
	print_list(t, &l, NULL, false, ms_wall_now());
	table_free(t);
	procs_close(p);
	proc_list_free(&l);
	return 0;
}

/* ---- live ---- */

static bool same_state(const struct proc_rec *a, const struct proc_rec *b)
{
	return a->total_vm == b->total_vm && a->hiwater_rss == b->hiwater_rss &&
	       a->data_vm == b->data_vm && a->stack_vm == b->stack_vm &&
	       a->pgtables_bytes == b->pgtables_bytes && a->anon == b->anon &&
	       a->file == b->file && a->shmem == b->shmem && a->swap == b->swap;
}

struct live {
	struct procs *p;
	struct ms_table *table;
	struct proc_list all, shown, exact, gone;
};

/*
 * One pass gives every matching process, exact; the ones to show are all of them
 * (--top) or those whose state moved since the last report. A process missing from
 * the pass has exited.
 */
static void live_gather(struct live *lv)
{
	/* exits first: each one read here came before the pass, which cannot show it */
	procs_exited(lv->p, &lv->gone);
	procs_snapshot(lv->p, &lv->all);
	if (cfg.top) {
		proc_list_copy(&lv->exact, &lv->all);
		return;
	}
	lv->exact.n = 0;
	for (size_t i = 0; i < lv->all.n; i++) {
		const struct proc_rec *p = proc_list_find(&lv->shown, lv->all.r[i].pid);

		if (!p || !same_state(p, &lv->all.r[i]))
			proc_list_push(&lv->exact, &lv->all.r[i]);
	}
}

/* What was shown becomes the baseline; exited processes leave with it. */
static void live_remember(struct live *lv)
{
	struct proc_list tmp = lv->shown;

	lv->shown = lv->all;
	lv->all = tmp;
}

static void live_print(struct live *lv, double ts)
{
	char when[16];

	if (!out_json_mode()) {
		fmt_clock(when, sizeof(when), ts, false);
		if (cfg.top)
			out_printf("%s  top %zu by %s\n", when,
				   lv->exact.n < (size_t)cfg.top ? lv->exact.n : (size_t)cfg.top,
				   sort_names[cfg.sort]);
		else
			out_printf("%s  %zu process%s changed\n", when, lv->exact.n,
				   lv->exact.n == 1 ? "" : "es");
	}
	if (lv->exact.n)
		print_list(lv->table, &lv->exact, &lv->shown, false, ts);
	if (lv->gone.n && !cfg.top) {
		if (!out_json_mode())
			out_printf("  %zu exited since the previous report (their last values):\n",
				   lv->gone.n);
		print_list(lv->table, &lv->gone, &lv->shown, true, ts);
	}
	out_flush();
}

static int run_live(const struct ms_opts *o)
{
	struct ms_filter f = ms_filter_of(o, &cfg.cgroup);
	struct live lv = { .p = procs_open(&f), .table = proc_table(true) };
	struct ms_ticker tk;
	struct ms_loss *loss;
	const char *why;

	/* Baseline for the first interval's deltas: every matching process, exact. */
	procs_snapshot(lv.p, &lv.shown);
	explain_missing(o, &lv.shown); /* else a -p PID without an mm is never mentioned */
	if (!procs_watch_exits(lv.p, &why) && ms_verbose())
		ms_message("proc: a process that starts and exits between two reports is not "
			   "shown: %s", why);
	loss = procs_exit_loss(lv.p);
	ticker_init(&tk, o->interval, o->count, o->duration);
	while (ticker_wait(&tk)) {
		double ts = ms_wall_now();

		live_gather(&lv);
		live_print(&lv, ts);
		live_remember(&lv);
		if (loss)
			ms_report_losses("proc", loss, 1);
	}
	procs_close(lv.p);
	table_free(lv.table);
	proc_list_free(&lv.all);
	proc_list_free(&lv.exact);
	proc_list_free(&lv.shown);
	proc_list_free(&lv.gone);
	return 0;
}

static int proc_run(const struct ms_opts *o)
{
	return cfg.once ? run_once(o) : run_live(o);
}

const struct ms_cmd cmd_proc = {
	.name = "proc",
	.summary = "per-process memory: RSS anon/file/shmem, swap, VSZ, peak RSS, data, stack, "
		   "page tables",
	.details =
		"Snapshot (--once, or -c 1): every process with an address space, from one pass\n"
		"of a BPF task iterator, with exact counters (the per-CPU parts of each RSS\n"
		"counter summed in, as /proc/PID/status shows them).\n"
		"Live (default): the same pass once per interval (no hook on any hot path),\n"
		"printing the processes whose memory changed (or --top N of all) with the\n"
		"change since the previous report. A process whose thread group ended since\n"
		"then is listed with its last values, from sched_process_exit (6.16+: earlier\n"
		"kernels run it after the memory is gone; -v says so).",
	.examples = "  memscope proc --once --top 10           ten largest by RSS\n"
		    "  memscope proc --once -s swap -j         all processes by swap, NDJSON\n"
		    "  memscope proc -p 1234 -i 0.5 -d 10      one process, twice a second\n"
		    "  memscope proc --comm postgres --top 5   live top 5 postgres processes\n"
		    "  memscope proc --cgroup /sys/fs/cgroup/memory/batch --once\n",
	.shared = MS_OPT_LOOP | MS_OPT_FILTER,
	.opts = proc_opts,
	.parse_opt = proc_parse_opt,
	.check = proc_check,
	.run = proc_run,
	.records = (const struct record_desc *const[]){ &proc_desc, &lost_desc, NULL },
	.values = proc_values,
};
