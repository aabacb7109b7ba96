// SPDX-License-Identifier: GPL-2.0
/* memscope proc: per-process memory state (procstat), exact, snapshot or live. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "commands.h"
#include "filters.h"
#include "hooks.h"
#include "iter.h"
#include "kbtf.h"
#include "loss.h"
#include "util.h"
#include "output.h"
#include "procfs.h"
#include "runtime.h"
#include "proc.h"
#include "proc.skel.h"

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

/* ---- records ---- */

struct rec_list {
	struct proc_rec *r;
	size_t n, cap;
};

static void list_push(struct rec_list *l, const struct proc_rec *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->r = realloc(l->r, l->cap * sizeof(*l->r));
		if (!l->r)
			ms_fatal("out of memory");
	}
	l->r[l->n++] = *r;
}

static long pos(long v) /* a global part alone can dip below zero */
{
	return v > 0 ? v : 0; /* a global part alone can dip below zero */
}

static unsigned long rss_pages(const struct proc_rec *r)
{
	return pos(r->anon) + pos(r->file) + pos(r->shmem);
}

/* As /proc/PID/status computes VmHWM: the recorded peak, or the current RSS if higher. */
static unsigned long hwm_pages(const struct proc_rec *r)
{
	return r->hiwater_rss > rss_pages(r) ? r->hiwater_rss : rss_pages(r);
}

static unsigned long long sort_value(const struct proc_rec *r, enum sort_key k)
{
	switch (k) {
	case SORT_RSS: return rss_pages(r);
	case SORT_VSZ: return r->total_vm;
	case SORT_SWAP: return pos(r->swap);
	case SORT_PTE: return r->pgtables_bytes;
	case SORT_HWM: return hwm_pages(r);
	case SORT_ANON: return pos(r->anon);
	case SORT_FILE: return pos(r->file);
	case SORT_SHMEM: return pos(r->shmem);
	default: return r->pid;
	}
}

static enum sort_key qsort_key;

static int cmp_sort(const void *a, const void *b)
{
	const struct proc_rec *x = a, *y = b;
	unsigned long long vx = sort_value(x, qsort_key), vy = sort_value(y, qsort_key);

	if (qsort_key == SORT_PID)
		return vx < vy ? -1 : vx > vy;
	if (vx != vy)
		return vx > vy ? -1 : 1; /* largest first */
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct proc_rec *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static const struct proc_rec *find_pid(const struct rec_list *l, __u32 pid)
{
	struct proc_rec key = { .pid = pid };

	return l->n ? bsearch(&key, l->r, l->n, sizeof(key), cmp_pid) : NULL;
}

static const struct ms_col snapshot_cols[] = {
	{ "PID", "pid", COL_INT, false },
	{ "COMM", "comm", COL_STR, true },
	{ "RSS", "rss_bytes", COL_BYTES, false },
	{ "ANON", "rss_anon_bytes", COL_BYTES, false },
	{ "FILE", "rss_file_bytes", COL_BYTES, false },
	{ "SHMEM", "rss_shmem_bytes", COL_BYTES, false },
	{ "SWAP", "swap_bytes", COL_BYTES, false },
	{ "VSZ", "vsz_bytes", COL_BYTES, false },
	{ "HWM", "hwm_bytes", COL_BYTES, false },
	{ "DATA", "data_bytes", COL_BYTES, false },
	{ "STACK", "stack_bytes", COL_BYTES, false },
	{ "PTE", "pte_bytes", COL_BYTES, false },
};

static const struct ms_col live_cols[] = {
	{ "PID", "pid", COL_INT, false },
	{ "COMM", "comm", COL_STR, true },
	{ "RSS", "rss_bytes", COL_BYTES, false },
	{ "ΔRSS", "rss_delta_bytes", COL_BYTES_DELTA, false },
	{ "ANON", "rss_anon_bytes", COL_BYTES, false },
	{ "ΔANON", "rss_anon_delta_bytes", COL_BYTES_DELTA, false },
	{ "FILE", "rss_file_bytes", COL_BYTES, false },
	{ "SHMEM", "rss_shmem_bytes", COL_BYTES, false },
	{ "SWAP", "swap_bytes", COL_BYTES, false },
	{ "VSZ", "vsz_bytes", COL_BYTES, false },
	{ "HWM", "hwm_bytes", COL_BYTES, false },
	{ "DATA", "data_bytes", COL_BYTES, false },
	{ "STACK", "stack_bytes", COL_BYTES, false },
	{ "PTE", "pte_bytes", COL_BYTES, false },
};

static json_object *rec_json(const struct proc_rec *r, const struct proc_rec *prev, bool live,
			     double ts)
{
	unsigned long page = getpagesize();
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("proc"));
	if (live)
		json_object_object_add(o, "ts", json_object_new_double(ts));
	json_object_object_add(o, "pid", json_object_new_int(r->pid));
	json_object_object_add(o, "comm", json_object_new_string_len(
				r->comm, strnlen(r->comm, sizeof(r->comm))));
	json_object_object_add(o, "rss_bytes", json_u64(rss_pages(r) * page));
	json_object_object_add(o, "rss_anon_bytes", json_u64(pos(r->anon) * page));
	json_object_object_add(o, "rss_file_bytes", json_u64(pos(r->file) * page));
	json_object_object_add(o, "rss_shmem_bytes", json_u64(pos(r->shmem) * page));
	json_object_object_add(o, "swap_bytes", json_u64(pos(r->swap) * page));
	json_object_object_add(o, "vsz_bytes", json_u64(r->total_vm * page));
	json_object_object_add(o, "hwm_bytes", json_u64(hwm_pages(r) * page));
	json_object_object_add(o, "data_bytes", json_u64(r->data_vm * page));
	json_object_object_add(o, "stack_bytes", json_u64(r->stack_vm * page));
	json_object_object_add(o, "pte_bytes", json_u64(r->pgtables_bytes));
	json_object_object_add(o, "exact", json_object_new_boolean(r->exact));
	if (live) {
		/* A process first seen in this interval has no previous value: null. */
		json_object_object_add(o, "rss_delta_bytes", prev ? json_object_new_int64(
			((long long)rss_pages(r) - (long long)rss_pages(prev)) * (long long)page) : NULL);
		json_object_object_add(o, "rss_anon_delta_bytes", prev ? json_object_new_int64(
			(pos(r->anon) - pos(prev->anon)) * (long long)page) : NULL);
	}
	return o;
}

/* ---- BPF ---- */

static const struct hook_spec proc_hooks[] = {
	HOOK_TP("sched:sched_switch", "proc_switch", false),
	HOOK_TP("sched:sched_process_exit", "proc_exit", false),
};
#define NR_PROC_HOOKS (int)(sizeof(proc_hooks) / sizeof(proc_hooks[0]))

static struct proc_bpf *proc_open(const struct ms_opts *o, bool live)
{
	struct proc_bpf *skel;
	int chosen[NR_PROC_HOOKS], err, idx[4];
	char why[256];

	ms_require_bpf();
	if (kbtf_mm_counter_indices(&idx[0], &idx[1], &idx[2], &idx[3]))
		ms_fatal("cannot find MM_ANONPAGES and friends in the kernel's BTF");
	skel = proc_bpf__open_opts(ms_bpf_open_opts());
	if (!skel)
		ms_bpf_fail("opening proc's BPF object", errno);
	ms_test_map_sizes(skel->obj);
	skel->rodata->mm_idx_file = idx[0];
	skel->rodata->mm_idx_anon = idx[1];
	skel->rodata->mm_idx_shmem = idx[2];
	skel->rodata->mm_idx_swap = idx[3];
	skel->rodata->nr_cpus = libbpf_num_possible_cpus();
	MS_SET_FILTERS(skel, o, &cfg.cgroup);
	if (live) {
		if (hooks_select(skel->obj, proc_hooks, NR_PROC_HOOKS, chosen, why, sizeof(why)))
			ms_fatal("%s", why);
	} else {
		struct bpf_program *p;

		bpf_object__for_each_program(p, skel->obj)
			bpf_program__set_autoload(p, p == skel->progs.proc_snapshot);
		/* The live-mode maps are preallocated: a snapshot needs none of them. */
		bpf_map__set_max_entries(skel->maps.procs, 1);
		bpf_map__set_max_entries(skel->maps.exited, 1);
	}
	err = proc_bpf__load(skel);
	if (err)
		ms_bpf_fail("loading proc's BPF programs", err);
	ms_pid_filter_fill(bpf_map__fd(skel->maps.pid_filter), o);
	return skel;
}

static void push_rec(const void *rec, void *ctx)
{
	list_push(ctx, rec);
}

/* One snapshot: every matching process (or just the wanted ones). */
static void snapshot(struct bpf_link *iter, struct rec_list *out)
{
	out->n = 0;
	ms_iter_read(iter, sizeof(struct proc_rec), push_rec, out);
}

static void print_list(struct rec_list *l, const struct rec_list *prev, bool live, double ts)
{
	const struct ms_col *cols = live ? live_cols : snapshot_cols;
	int ncols = live ? sizeof(live_cols) / sizeof(live_cols[0])
			 : sizeof(snapshot_cols) / sizeof(snapshot_cols[0]);
	struct ms_table *t = table_new(cols, ncols);
	size_t n = l->n;

	qsort_key = cfg.sort;
	qsort(l->r, l->n, sizeof(*l->r), cmp_sort);
	if (cfg.top && (size_t)cfg.top < n)
		n = cfg.top;
	for (size_t i = 0; i < n; i++)
		table_add(t, rec_json(&l->r[i], prev ? find_pid(prev, l->r[i].pid) : NULL, live,
				      ts));
	table_flush(t);
	table_free(t);
}

/* -p PID that the snapshot does not show: say why, each one (l sorted by pid). */
static void explain_missing(const struct ms_opts *o, const struct rec_list *l)
{
	for (int i = 0; i < o->nr_pids; i++) {
		const char *why;

		if (find_pid(l, o->pids[i]))
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
	struct proc_bpf *skel = proc_open(o, false);
	struct bpf_link *iter = bpf_program__attach_iter(skel->progs.proc_snapshot, NULL);
	struct rec_list l = { 0 };

	if (!iter)
		ms_bpf_fail("attaching the task iterator", errno);
	snapshot(iter, &l);
	qsort(l.r, l.n, sizeof(*l.r), cmp_pid);
	explain_missing(o, &l);
	print_list(&l, NULL, false, 0);
	bpf_link__destroy(iter);
	proc_bpf__destroy(skel);
	free(l.r);
	return 0;
}

/* The approximate state sched_switch recorded, sorted by pid. */
static void read_live_map(struct proc_bpf *skel, struct rec_list *out)
{
	int fd = bpf_map__fd(skel->maps.procs);
	__u32 key, next;
	bool first = true;

	out->n = 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		struct proc_rec r;

		if (!bpf_map_lookup_elem(fd, &next, &r))
			list_push(out, &r);
		key = next;
		first = false;
	}
	qsort(out->r, out->n, sizeof(*out->r), cmp_pid);
}

/* Drop the processes whose thread group ended (queued by the exit program). */
static void forget_exited(struct proc_bpf *skel, struct rec_list *l)
{
	int fd = bpf_map__fd(skel->maps.exited);
	__u32 pid;
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].pid)
			l->r[k++] = l->r[i];
	l->n = k;
	qsort(l->r, l->n, sizeof(*l->r), cmp_pid);
	while (!bpf_map_lookup_and_delete_elem(fd, NULL, &pid)) {
		struct proc_rec *p = (struct proc_rec *)find_pid(l, pid);

		if (p)
			p->pid = 0; /* removed on the next pass; keeps the array sorted now */
	}
	k = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].pid)
			l->r[k++] = l->r[i];
	l->n = k;
}

static bool same_state(const struct proc_rec *a, const struct proc_rec *b)
{
	return a->total_vm == b->total_vm && a->hiwater_rss == b->hiwater_rss &&
	       a->data_vm == b->data_vm && a->stack_vm == b->stack_vm &&
	       a->pgtables_bytes == b->pgtables_bytes && a->anon == b->anon &&
	       a->file == b->file && a->shmem == b->shmem && a->swap == b->swap;
}

static int run_live(const struct ms_opts *o)
{
	struct proc_bpf *skel = proc_open(o, true);
	struct rec_list cur = { 0 }, prev_fast = { 0 }, exact = { 0 }, prev_exact = { 0 };
	struct bpf_link *iter;
	struct ms_ticker tk;
	int wanted_fd = bpf_map__fd(skel->maps.wanted), err;
	struct ms_loss losses[] = {
		{ "untracked_processes", "processes not tracked: the process table is full",
		  &skel->bss->nr_dropped, 0 },
		{ "exits_unseen", "process exits not seen: the exit queue was full",
		  &skel->bss->nr_exit_lost, 0 },
	};

	err = proc_bpf__attach(skel);
	if (err)
		ms_bpf_fail("attaching proc's BPF programs", err);
	iter = bpf_program__attach_iter(skel->progs.proc_snapshot, NULL);
	if (!iter)
		ms_bpf_fail("attaching the task iterator", errno);
	/* Baseline for the first interval's deltas: every matching process, exact. */
	snapshot(iter, &prev_exact);
	qsort(prev_exact.r, prev_exact.n, sizeof(*prev_exact.r), cmp_pid);

	ticker_init(&tk, o->interval, o->count, o->duration);
	while (ticker_wait(&tk)) {
		size_t nwanted = 0;
		struct timespec now;
		double ts;

		clock_gettime(CLOCK_REALTIME, &now);
		ts = now.tv_sec + now.tv_nsec / 1e9;
		read_live_map(skel, &cur);
		skel->data->generation++; /* every process may be refreshed once more */
		exact.n = 0;
		if (cfg.top) {
			/* Top N of every matching process: one exact iterator pass. */
			snapshot(iter, &exact);
		} else {
			/* Exact values for just the processes whose state moved: the
			 * O(nr_cpus) sum stays off the hot path. */
			for (size_t i = 0; i < cur.n; i++) {
				const struct proc_rec *p = find_pid(&prev_fast, cur.r[i].pid);
				__u8 one = 1;

				if (p && same_state(p, &cur.r[i]))
					continue;
				if (!bpf_map_update_elem(wanted_fd, &cur.r[i].pid, &one, BPF_ANY))
					nwanted++;
			}
			if (nwanted) {
				skel->bss->use_wanted = true;
				snapshot(iter, &exact);
				skel->bss->use_wanted = false;
				for (size_t i = 0; i < cur.n; i++)
					bpf_map_delete_elem(wanted_fd, &cur.r[i].pid);
			}
		}
		if (!out_json_mode()) {
			char tbuf[16];
			struct tm tm;

			localtime_r(&now.tv_sec, &tm);
			strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
			if (cfg.top)
				out_printf("%s  top %zu by %s\n", tbuf,
					   exact.n < (size_t)cfg.top ? exact.n : (size_t)cfg.top,
					   sort_names[cfg.sort]);
			else
				out_printf("%s  %zu process%s changed\n", tbuf, exact.n,
					   exact.n == 1 ? "" : "es");
		}
		if (exact.n)
			print_list(&exact, &prev_exact, true, ts);
		out_flush();
		/* Remember the exact values shown, and forget processes that exited. */
		for (size_t i = 0; i < exact.n; i++) {
			struct proc_rec *p = (struct proc_rec *)find_pid(&prev_exact, exact.r[i].pid);

			if (p)
				*p = exact.r[i];
			else
				list_push(&prev_exact, &exact.r[i]);
		}
		forget_exited(skel, &prev_exact);
		ms_report_losses("proc", losses, ARRAY_SIZE(losses));
		{
			struct rec_list tmp = prev_fast;

			prev_fast = cur;
			cur = tmp;
		}
	}
	bpf_link__destroy(iter);
	proc_bpf__destroy(skel);
	free(cur.r);
	free(prev_fast.r);
	free(exact.r);
	free(prev_exact.r);
	return 0;
}

struct proc_snap {
	struct proc_bpf *skel;
	struct bpf_link *iter;
	struct rec_list recs;
};

struct proc_snap *proc_snap_open(void)
{
	static const struct ms_opts none;
	struct proc_snap *ps = calloc(1, sizeof(*ps));

	if (!ps)
		ms_fatal("out of memory");
	ps->skel = proc_open(&none, false);
	ps->iter = bpf_program__attach_iter(ps->skel->progs.proc_snapshot, NULL);
	if (!ps->iter)
		ms_bpf_fail("attaching the task iterator", errno);
	return ps;
}

int proc_snap_top(struct proc_snap *ps, struct proc_rec *out, int n)
{
	snapshot(ps->iter, &ps->recs);
	qsort_key = SORT_RSS;
	qsort(ps->recs.r, ps->recs.n, sizeof(*ps->recs.r), cmp_sort);
	if ((size_t)n > ps->recs.n)
		n = ps->recs.n;
	memcpy(out, ps->recs.r, n * sizeof(*out));
	return n;
}

void proc_snap_close(struct proc_snap *ps)
{
	if (!ps)
		return;
	bpf_link__destroy(ps->iter);
	proc_bpf__destroy(ps->skel);
	free(ps->recs.r);
	free(ps);
}

json_object *proc_rec_json(const struct proc_rec *r)
{
	return rec_json(r, NULL, false, 0);
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
		"Live (default): the sched_switch tracepoint records each process as it leaves\n"
		"the CPU, at most once per interval, in a kernel map; each interval prints the\n"
		"processes whose memory changed (or --top N of all), with exact values and the\n"
		"change since the previous report. Exited processes are dropped.",
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
	.hooks = proc_hooks,
	.nr_hooks = NR_PROC_HOOKS,
};
