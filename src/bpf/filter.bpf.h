/* SPDX-License-Identifier: GPL-2.0 */
/* The -p / --comm / --cgroup filters, evaluated in the kernel. */
#ifndef MEMSCOPE_FILTER_BPF_H
#define MEMSCOPE_FILTER_BPF_H

#include "comm.h"

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define MS_FILTER_MAX_PIDS 64
#define MS_CGROUP_MAX_DEPTH 32

const volatile bool filter_pids;
const volatile bool filter_comm;
const volatile char comm_filter[MS_COMM_LEN];
/* --cgroup: the kernfs id (inode number) of a memory cgroup directory. */
const volatile __u64 filter_cgroup_id;
const volatile bool filter_cgroup_v2; /* else a v1 memory-controller hierarchy */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MS_FILTER_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

static __always_inline bool comm_matches(struct task_struct *leader)
{
	char comm[MS_COMM_LEN];

	BPF_CORE_READ_STR_INTO(&comm, leader, comm);
	for (int i = 0; i < 16; i++) {
		if (comm[i] != comm_filter[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* The hierarchy memscope names memory cgroups in (memcg_root()): v1's memory controller
 * when it is mounted, else v2. */
const volatile bool memcg_hier_v2;

/* The task's cgroup in the v2 tree, or in v1's memory-controller hierarchy. */
static __always_inline struct cgroup *task_memcg(struct task_struct *t, bool v2)
{
	int id;

	if (v2)
		return BPF_CORE_READ(t, cgroups, dfl_cgrp);
	id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (id < 0 || id >= 16)
		return NULL;
	return BPF_CORE_READ(t, cgroups, subsys[id], cgroup);
}

/* Its kernfs id (the directory's inode number), 0 when unknown. */
static __always_inline __u64 task_memcg_id(struct task_struct *t)
{
	struct cgroup *cg = task_memcg(t, memcg_hier_v2);

	return cg ? BPF_CORE_READ(cg, kn, id) : 0;
}

/* Is the task's memory cgroup the filter's cgroup or one below it? */
static __always_inline bool cgroup_matches(struct task_struct *t)
{
	struct cgroup *cg = task_memcg(t, filter_cgroup_v2);

	for (int depth = 0; depth < MS_CGROUP_MAX_DEPTH && cg; depth++) {
		if (BPF_CORE_READ(cg, kn, id) == filter_cgroup_id)
			return true;
		struct cgroup_subsys_state *parent = BPF_CORE_READ(cg, self.parent);

		cg = parent ? BPF_CORE_READ(parent, cgroup) : NULL;
	}
	return false;
}

/* All filters given on the command line; t is a thread-group leader. */
static __always_inline bool task_passes_filters(struct task_struct *t, __u32 tgid)
{
	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	if (filter_comm && !comm_matches(t))
		return false;
	if (filter_cgroup_id && !cgroup_matches(t))
		return false;
	return true;
}

#endif
