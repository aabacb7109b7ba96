// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counters.h"
#include "hooks.h"
#include "iter.h"
#include "kbtf.h"
#include "cgroups.h"
#include "procs.h"
#include "runtime.h"
#include "util.h"
#include "proc.lskel.h"
#include "proc_exit.lskel.h"

void proc_list_push(struct proc_list *l, const struct proc_rec *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->r = realloc(l->r, l->cap * sizeof(*l->r));
		if (!l->r)
			ms_fatal("out of memory");
	}
	l->r[l->n++] = *r;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct proc_rec *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

void proc_list_copy(struct proc_list *to, const struct proc_list *from)
{
	to->n = 0;
	for (size_t i = 0; i < from->n; i++)
		proc_list_push(to, &from->r[i]);
}

void proc_list_sort_pid(struct proc_list *l)
{
	if (l->n)
		qsort(l->r, l->n, sizeof(*l->r), cmp_pid);
}

const struct proc_rec *proc_list_find(const struct proc_list *l, __u32 pid)
{
	struct proc_rec key = { .pid = pid };

	return l->n ? bsearch(&key, l->r, l->n, sizeof(key), cmp_pid) : NULL;
}

static int cmp_rss(const void *a, const void *b)
{
	const struct proc_rec *x = a, *y = b;
	uint64_t rx = proc_rss_pages(x), ry = proc_rss_pages(y);

	if (rx != ry)
		return rx > ry ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

void proc_list_sort_rss(struct proc_list *l)
{
	if (l->n)
		qsort(l->r, l->n, sizeof(*l->r), cmp_rss);
}

void proc_list_free(struct proc_list *l)
{
	free(l->r);
	memset(l, 0, sizeof(*l));
}

struct procs {
	struct proc_lite *skel;
	struct proc_exit_lite *exit_skel;
	int idx[4];
	struct ms_filter filter;
	struct ring_buffer *exits; /* live mode: last values at exit */
	struct proc_list *exited;  /* where the ring's records go while it is read */
	struct ms_loss loss;
};

/* The settings both objects share: counter indices, CPUs, filters. */
#define SET_RODATA(skel, p)                                                                \
	do {                                                                               \
		(skel)->rodata->mm_idx_file = (p)->idx[0];                                 \
		(skel)->rodata->mm_idx_anon = (p)->idx[1];                                 \
		(skel)->rodata->mm_idx_shmem = (p)->idx[2];                                \
		(skel)->rodata->mm_idx_swap = (p)->idx[3];                                 \
		(skel)->rodata->nr_cpus = libbpf_num_possible_cpus();                      \
		MS_SET_FILTERS(skel, &(p)->filter);                                        \
	} while (0)

/*
 * Light skeletons (bpftool gen skeleton -L): the kernel relocates CO-RE against its
 * own BTF (kernel-side CO-RE, 5.17+), so this process never reads and parses the
 * vmlinux BTF, which was most of a snapshot's cost.
 */
static struct proc_lite *load(struct procs *p)
{
	struct proc_lite *skel;
	char *log;
	int err;

	ms_require_bpf();
	if (kbtf_mm_counter_indices(&p->idx[0], &p->idx[1], &p->idx[2], &p->idx[3]))
		ms_fatal("cannot find MM_ANONPAGES and friends in the kernel's BTF");
	skel = proc_lite__open();
	if (!skel)
		ms_bpf_fail("opening proc's BPF object", errno);
	SET_RODATA(skel, p);
	log = ms_lite_log(&skel->ctx);
	err = proc_lite__load(skel);
	if (err) {
		proc_lite__destroy(skel);
		ms_lite_fail("loading proc's BPF programs", err, log);
	}
	free(log);
	ms_pid_filter_fill(skel->maps.pid_filter.map_fd, &p->filter);
	return skel;
}

struct procs *procs_open(const struct ms_filter *f)
{
	struct procs *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		ms_fatal("out of memory");
	p->filter = *f;
	p->skel = load(p);
	err = proc_lite__proc_snapshot__attach(p->skel);
	if (err < 0)
		ms_bpf_fail("attaching the task iterator", err);
	return p;
}

static void push_rec(const void *rec, void *ctx)
{
	proc_list_push(ctx, rec);
}

void procs_snapshot(struct procs *p, struct proc_list *out)
{
	out->n = 0;
	ms_iter_read_fd(p->skel->links.proc_snapshot_fd, sizeof(struct proc_rec), push_rec, out);
	proc_list_sort_pid(out);
}

__u32 procs_self_pid(const struct procs *p)
{
	return p->skel->bss->reader_pid;
}

bool procs_pid_namespace(const struct procs *p)
{
	__u32 self = procs_self_pid(p);

	return self && self != (__u32)getpid();
}

static int on_exit_rec(void *ctx, void *data, size_t len)
{
	struct procs *p = ctx;

	if (len >= sizeof(struct proc_rec))
		proc_list_push(p->exited, data);
	return 0;
}

static struct proc_exit_lite *load_exit(struct procs *p)
{
	struct proc_exit_lite *skel = proc_exit_lite__open();
	char *log;
	int err;

	if (!skel)
		ms_bpf_fail("opening proc's exit BPF object", errno);
	SET_RODATA(skel, p);
	log = ms_lite_log(&skel->ctx);
	err = proc_exit_lite__load(skel);
	if (!err)
		ms_pid_filter_fill(skel->maps.pid_filter.map_fd, &p->filter);
	if (!err && (err = proc_exit_lite__attach(skel)) > 0)
		err = 0;
	if (err) {
		proc_exit_lite__destroy(skel);
		ms_lite_fail("attaching to sched_process_exit", err, log);
	}
	free(log);
	return skel;
}

bool procs_watch_exits(struct procs *p, const char **why)
{
	if (hook_kind_avoided(HK_TP_BTF)) {
		*why = "--avoid-hooks tp_btf: sched_process_exit is read through tp_btf only";
		return false;
	}
	if (!p->skel->bss->exit_before_mm) {
		*why = "before 6.16 sched_process_exit comes after the process's memory is gone";
		return false;
	}
	p->exit_skel = load_exit(p);
	p->exits = ring_buffer__new(p->exit_skel->maps.exits.map_fd, on_exit_rec, p, NULL);
	if (!p->exits)
		ms_bpf_fail("creating the exit ring buffer", errno);
	p->loss = (struct ms_loss){ "exits_unseen",
				    "process exits not seen: the exit ring buffer was full",
				    &p->exit_skel->bss->nr_exit_lost, 0 };
	return true;
}

void procs_exited(struct procs *p, struct proc_list *out)
{
	out->n = 0;
	if (!p->exits)
		return;
	p->exited = out;
	ring_buffer__consume(p->exits);
	p->exited = NULL;
	proc_list_sort_pid(out);
}

struct ms_loss *procs_exit_loss(struct procs *p)
{
	return p->exits ? &p->loss : NULL;
}

void procs_close(struct procs *p)
{
	if (!p)
		return;
	ring_buffer__free(p->exits);
	proc_exit_lite__destroy(p->exit_skel);
	proc_lite__destroy(p->skel);
	free(p);
}

/* ---- the record ---- */

uint64_t proc_rss_pages(const struct proc_rec *r)
{
	const int64_t rss[3] = { r->anon, r->file, r->shmem };

	return counters_sum_nonneg(rss, 3);
}

void proc_row_of(const struct proc_rec *r, const struct proc_rec *prev, struct proc_row *row)
{
	uint64_t page = ms_page_size(), rss = proc_rss_pages(r);
	const char *cg;

	memset(row, 0, sizeof(*row));
	row->pid = r->pid;
	memcpy(row->comm, r->comm, sizeof(row->comm));
	row->rss_bytes = rss * page;
	row->rss_anon_bytes = counter_nonneg(r->anon) * page;
	row->rss_file_bytes = counter_nonneg(r->file) * page;
	row->rss_shmem_bytes = counter_nonneg(r->shmem) * page;
	row->swap_bytes = counter_nonneg(r->swap) * page;
	row->vsz_bytes = r->total_vm * page;
	/* as /proc/PID/status computes VmHWM: the recorded peak, or the RSS if higher */
	row->hwm_bytes = (r->hiwater_rss > rss ? r->hiwater_rss : rss) * page;
	row->data_bytes = r->data_vm * page;
	row->stack_bytes = r->stack_vm * page;
	row->page_tables_bytes = r->pgtables_bytes;
	row->exact = r->exact;
	cg = memcg_path_cached(r->memcg_id);
	if (cg)
		snprintf(row->cgroup, sizeof(row->cgroup), "%s", cg);
	else
		record_null(&proc_desc, row, "cgroup");
	if (!prev) {
		record_null(&proc_desc, row, "rss_delta_bytes");
		record_null(&proc_desc, row, "rss_anon_delta_bytes");
		return;
	}
	row->rss_delta_bytes = ((int64_t)rss - (int64_t)proc_rss_pages(prev)) * (int64_t)page;
	row->rss_anon_delta_bytes =
		((int64_t)counter_nonneg(r->anon) - (int64_t)counter_nonneg(prev->anon)) *
		(int64_t)page;
}

#define P(m, key, head, ft, unit, kind, flags, help)                                       \
	FLD(struct proc_row, m, key, head, ft, unit, kind, flags, help)
#define D(m, key, head, help)                                                              \
	FLD(struct proc_row, m, key, head, FT_S64, FU_BYTES, FK_GAUGE, FF_DELTA | FF_NULL, help)

static const struct field proc_fields[] = {
	P(pid, "pid", "PID", FT_U32, FU_NONE, FK_LABEL, 0, "process id (thread group id)"),
	P(comm, "comm", "COMM", FT_STR, FU_NONE, FK_LABEL, FF_LEFT, "command name"),
	P(rss_bytes, "rss_bytes", "RSS", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "resident memory: anon + file + shmem (VmRSS)"),
	D(rss_delta_bytes, "rss_delta_bytes", "+RSS",
	  "change of rss_bytes since the previous report (live); null when first seen"),
	P(rss_anon_bytes, "rss_anon_bytes", "ANON", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "resident anonymous memory (RssAnon)"),
	D(rss_anon_delta_bytes, "rss_anon_delta_bytes", "+ANON",
	  "change of rss_anon_bytes since the previous report (live); null when first seen"),
	P(rss_file_bytes, "rss_file_bytes", "FILE", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "resident file-backed memory (RssFile)"),
	P(rss_shmem_bytes, "rss_shmem_bytes", "SHMEM", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "resident shared memory (RssShmem)"),
	P(swap_bytes, "swap_bytes", "SWAP", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "swapped-out anonymous memory (VmSwap)"),
	P(vsz_bytes, "vsz_bytes", "VSZ", FT_U64, FU_BYTES, FK_GAUGE, 0, "virtual size (VmSize)"),
	P(hwm_bytes, "hwm_bytes", "HWM", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "peak resident memory (VmHWM)"),
	P(data_bytes, "data_bytes", "DATA", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "private writable mappings (VmData)"),
	P(stack_bytes, "stack_bytes", "STACK", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "stack mappings (VmStk)"),
	P(page_tables_bytes, "page_tables_bytes", "PTE", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "page tables (VmPTE)"),
	P(exact, "exact", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	  "the RSS counters include their per-CPU parts (as /proc shows them)"),
	P(exited, "exited", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	  "live: the process ended since the previous report; these are its last values"),
	P(cgroup, "cgroup", "CGROUP", FT_STR, FU_NONE, FK_LABEL, FF_LEFT | FF_NULL,
	  "its memory cgroup, as /proc/PID/cgroup names it (\"/\" the root); null when unknown"),
};

const struct record_desc proc_desc =
	RECORD_DESC("proc", "one process: memscope proc, and the top lists of the health report "
		    "and oom --detail", proc_fields, struct proc_row);
