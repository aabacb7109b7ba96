/* SPDX-License-Identifier: GPL-2.0 */
/* memscope oom: records shared by BPF and user space. */
#ifndef MEMSCOPE_OOM_H
#define MEMSCOPE_OOM_H

#include "comm.h"

#include "sys.h"

#define OOM_MAX_STACK 32

enum oom_ev_kind { OOM_EV_KILL, OOM_EV_WAKE_REAPER, OOM_EV_START_REAPING,
		   OOM_EV_FINISH_REAPING, OOM_EV_SKIP_REAPING, OOM_EV_ADJ, OOM_EV_CONTROL };

struct oom_event {
	__u32 kind;
	__u32 pid;	  /* the victim (or the task whose adj changed) */
	__u64 ts_ns;	  /* boot clock */
	char comm[MS_COMM_LEN];	  /* the victim's */
	__u32 has_task;	  /* the tracepoint gave the victim's task: the fields below are real */
	__u32 exact;	  /* RSS counters include their per-CPU parts */
	__u32 from_record; /* sizes from the classic tracepoint's record: no swap */
	__u32 memcg_of_trigger; /* no victim task: the memcg is the trigger's */
	__u32 uid;
	__s32 oom_score_adj;
	__u64 total_vm, anon, file, shmem, swap, pgtables_bytes; /* pages, except pgtables */
	/* the task that ran the OOM killer (current at mark_victim) */
	__u32 trigger_pid, trigger_tid;
	char trigger_comm[MS_COMM_LEN];
	/* the victim's memory cgroup */
	__u64 memcg_id;	  /* kernfs id: the directory's inode number */
	__u64 memcg_usage, memcg_max; /* pages */
	__u32 has_memcg;
	__s32 stack_bytes;
	__u64 stack[OOM_MAX_STACK];
	__u32 has_node;
	/* OOM_EV_CONTROL: struct oom_control, from a function hook on oom_kill_process */
	__s32 constraint; /* enum oom_constraint */
	__u32 oc_order;
	__u32 oc_gfp;
	__u64 totalpages;
	__s64 chosen_points;
	struct sys_node node;
};

#endif
