// SPDX-License-Identifier: GPL-2.0
/*
 * memscope oom, kernel side. oom:mark_victim runs in the context of the task
 * that invoked the OOM killer and, since 2024 (and in Debian's 6.1 by
 * backport), hands over the victim's task: its mm is read here, before the
 * reaper empties it. Older kernels give only the pid. The reaper's tracepoints
 * and oom_score_adj_update are passed on as they come: all rare events.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "oom.h"
#include "mm.bpf.h"
#include "zone.bpf.h"
#include "hook.bpf.h"

const volatile bool want_stack, want_node, want_adj;
const volatile __u32 page_kb = 4; /* the page size in KiB, set by user space */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

__u64 nr_lost;

SEC("iter/task")
int oom_nodes(struct bpf_iter__task *ctx)
{
	nodes_pass(ctx);
	return 0;
}

static __always_inline struct oom_event *reserve(__u32 kind, __u32 pid)
{
	struct oom_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&nr_lost, 1);
		return NULL;
	}
	__builtin_memset(e, 0, offsetof(struct oom_event, stack));
	e->kind = kind;
	e->pid = pid;
	e->ts_ns = bpf_ktime_get_boot_ns();
	return e;
}

static __always_inline void read_memcg(struct task_struct *t, struct oom_event *e)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;
	struct mem_cgroup *memcg;

	if (id < 0 || id >= 16)
		return;
	css = BPF_CORE_READ(t, cgroups, subsys[id]);
	if (!css)
		return;
	memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	e->memcg_id = BPF_CORE_READ(css, cgroup, kn, id);
	e->memcg_usage = BPF_CORE_READ(memcg, memory.usage.counter);
	e->memcg_max = BPF_CORE_READ(memcg, memory.max);
	e->has_memcg = 1;
}

/* The victim's sizes as the classic tracepoint's record has them (kernels since 2024). */
static __always_inline void victim_record(struct trace_event_raw_mark_victim *rec,
					  struct oom_event *e)
{
	__u32 loc;

	if (!rec || !bpf_core_field_exists(rec->anon_rss))
		return;
	e->has_task = 1;
	e->from_record = 1; /* get_mm_counter(): without the per-CPU parts */
	loc = BPF_CORE_READ(rec, __data_loc_comm);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), (void *)rec + (loc & 0xffff));
	e->uid = BPF_CORE_READ(rec, uid);
	e->oom_score_adj = BPF_CORE_READ(rec, oom_score_adj);
	/* the record is in KiB (include/trace/events/oom.h) */
	e->total_vm = BPF_CORE_READ(rec, total_vm) / page_kb;
	e->anon = BPF_CORE_READ(rec, anon_rss) / page_kb;
	e->file = BPF_CORE_READ(rec, file_rss) / page_kb;
	e->shmem = BPF_CORE_READ(rec, shmem_rss) / page_kb;
	e->pgtables_bytes = BPF_CORE_READ(rec, pgtables) * 1024;
}

/*
 * The victim's task by its pid, for the classic record, which holds values only. A kfunc
 * (bpf_task_from_pid, 6.2); weak, so the object loads where the kernel lacks it. Only
 * oom_victim_found_tp calls it: user space loads that program where a classic
 * tracepoint program may (src/lib/hooks.c loads one to see).
 */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

/*
 * t: the victim's task (tp_btf, raw_tp); rec: the classic record instead, and
 * memcg_of: the victim's task looked up by pid, read for its memory cgroup only.
 */
static __noinline void victim(void *ctx, struct task_struct *t, __u32 pid,
			      struct trace_event_raw_mark_victim *rec,
			      struct task_struct *memcg_of)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct oom_event *e = reserve(OOM_EV_KILL, pid);
	struct pglist_data *pgdat;
	struct mm_struct *mm;
	bool exact = true;

	if (!e)
		return;
	e->trigger_pid = id >> 32;
	e->trigger_tid = (__u32)id;
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	victim_record(rec, e);
	if (t) {
		e->has_task = 1;
		BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
		e->uid = BPF_CORE_READ(t, cred, uid.val);
		e->oom_score_adj = BPF_CORE_READ(t, signal, oom_score_adj);
		mm = BPF_CORE_READ(t, mm);
		if (mm) {
			e->total_vm = BPF_CORE_READ(mm, total_vm);
			e->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
			e->anon = mm_counter_exact(mm, mm_idx_anon, &exact);
			e->file = mm_counter_exact(mm, mm_idx_file, &exact);
			e->shmem = mm_counter_exact(mm, mm_idx_shmem, &exact);
			e->swap = mm_counter_exact(mm, mm_idx_swap, &exact);
			e->exact = exact;
		}
		read_memcg(t, e);
	} else if (memcg_of) {
		read_memcg(memcg_of, e);
	} else {
		/*
		 * No victim task (a pid-only mark_victim, or the classic record). The task
		 * that invoked the killer charged the memory cgroup whose limit was hit (or
		 * one below it): its memcg, and said so.
		 */
		read_memcg(bpf_get_current_task_btf(), e);
		e->memcg_of_trigger = e->has_memcg;
	}
	e->stack_bytes = want_stack ? bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0) : 0;
	pgdat = want_node ? node_by_id(bpf_get_numa_node_id()) : NULL;
	e->has_node = pgdat != NULL;
	if (pgdat)
		read_node(pgdat, &e->node);
	bpf_ringbuf_submit(e, 0);
}

/* Kernels since 2024: mark_victim(task, uid) */
MS_TRACEPOINT(oom_victim_task, mark_victim,
	      victim(ctx, t, BPF_CORE_READ(t, pid), NULL, NULL), struct task_struct *t)

/* Older kernels: mark_victim(pid) */
MS_TRACEPOINT(oom_victim_pid, mark_victim, victim(ctx, NULL, pid, NULL, NULL), int pid)
/* Any kernel: the record, with the victim's sizes where the kernel puts them in it. */
MS_CLASSIC(oom_victim, oom, mark_victim, mark_victim,
	   victim(ctx, NULL, ctx->pid, ctx, NULL))

/*
 * The same, and the victim's memory cgroup, as tp_btf reads it, from its task found by
 * the record's pid (the initial namespace's, as bpf_task_from_pid wants it).
 * mark_victim follows the SIGKILL at once: a victim already gone by then (exited and
 * reaped) is not found, and that kill names the trigger's cgroup, said so.
 */
static __always_inline void victim_found(struct trace_event_raw_mark_victim *rec)
{
	struct task_struct *t = bpf_task_from_pid(rec->pid);

	victim(rec, NULL, rec->pid, rec, t);
	if (t)
		bpf_task_release(t);
}
MS_CLASSIC(oom_victim_found, oom, mark_victim, mark_victim, victim_found(ctx))

static __always_inline void reaper(__u32 kind, int pid)
{
	struct oom_event *e = reserve(kind, pid);

	if (e)
		bpf_ringbuf_submit(e, 0);
}

/* the reaper's tracepoints all carry just the victim's pid */
#define REAPER(name, kind)                                                                 \
	MS_TRACEPOINT(oom_##name, name, reaper(kind, pid), int pid)                        \
	MS_CLASSIC(oom_##name, oom, name, name, reaper(kind, ctx->pid))

REAPER(wake_reaper, OOM_EV_WAKE_REAPER)
REAPER(start_task_reaping, OOM_EV_START_REAPING)
REAPER(finish_task_reaping, OOM_EV_FINISH_REAPING)
REAPER(skip_task_reaping, OOM_EV_SKIP_REAPING)

static __always_inline void adj_update(struct task_struct *t)
{
	struct oom_event *e;

	if (!want_adj)
		return;
	e = reserve(OOM_EV_ADJ, BPF_CORE_READ(t, pid));
	if (!e)
		return;
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	e->oom_score_adj = BPF_CORE_READ(t, signal, oom_score_adj);
	e->trigger_pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	bpf_ringbuf_submit(e, 0);
}

MS_TRACEPOINT(oom_adj, oom_score_adj_update, adj_update(t), struct task_struct *t)

static __always_inline void adj_record(struct trace_event_raw_oom_score_adj_update *rec)
{
	struct oom_event *e;

	if (!want_adj)
		return;
	e = reserve(OOM_EV_ADJ, rec->pid);
	if (!e)
		return;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), rec->comm);
	e->oom_score_adj = rec->oom_score_adj;
	e->trigger_pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	bpf_ringbuf_submit(e, 0);
}
MS_CLASSIC(oom_adj, oom, oom_score_adj_update, oom_score_adj_update, adj_record(ctx))

/*
 * The kernel's own view of the kill, where a function hook works: struct
 * oom_control, the argument of oom_kill_process, holds the constraint, the memory
 * cgroup and the chosen victim. It runs before mark_victim; user space joins the two
 * by the victim's pid.
 */
static __always_inline void oom_control(struct oom_control *oc)
{
	struct task_struct *chosen = BPF_CORE_READ(oc, chosen);
	struct mem_cgroup *memcg = BPF_CORE_READ(oc, memcg);
	struct oom_event *e;

	if (!chosen)
		return;
	e = reserve(OOM_EV_CONTROL, BPF_CORE_READ(chosen, pid));
	if (!e)
		return;
	e->constraint = BPF_CORE_READ(oc, constraint);
	e->oc_order = BPF_CORE_READ(oc, order);
	e->oc_gfp = BPF_CORE_READ(oc, gfp_mask);
	e->totalpages = BPF_CORE_READ(oc, totalpages);
	e->chosen_points = BPF_CORE_READ(oc, chosen_points);
	if (memcg) {
		e->memcg_id = BPF_CORE_READ(memcg, css.cgroup, kn, id);
		e->memcg_usage = BPF_CORE_READ(memcg, memory.usage.counter);
		e->memcg_max = BPF_CORE_READ(memcg, memory.max);
		e->has_memcg = 1;
	}
	bpf_ringbuf_submit(e, 0);
}

MS_FUNCTION(oom_control, oom_kill_process, oom_control(oc), struct oom_control *oc)

char LICENSE[] SEC("license") = "GPL";
