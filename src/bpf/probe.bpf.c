// SPDX-License-Identifier: GPL-2.0
/*
 * One empty program per hook kind. memscope loads and attaches each on its own
 * to learn what really works: program-type probes claim "tracing is not
 * available" on kernels where tp_btf works, and fentry may fail to load (EPERM)
 * where the kernel has the trampoline machinery.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_switch")
int BPF_PROG(probe_tp_btf)
{
	return 0;
}

SEC("raw_tp/sched_switch")
int probe_raw_tp(void *ctx)
{
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int probe_tracepoint(void *ctx)
{
	return 0;
}

/* vfs_read: exported, never inlined, present on every kernel we support. */
SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry)
{
	return 0;
}

SEC("kprobe/vfs_read")
int probe_kprobe(void *ctx)
{
	return 0;
}

SEC("uprobe")
int probe_uprobe(void *ctx)
{
	return 0;
}

SEC("iter/task")
int probe_iter_task(struct bpf_iter__task *ctx)
{
	return 0;
}

SEC("iter/task_vma")
int probe_iter_task_vma(struct bpf_iter__task_vma *ctx)
{
	return 0;
}

SEC("iter/cgroup")
int probe_iter_cgroup(struct bpf_iter__cgroup *ctx)
{
	return 0;
}

SEC("iter/kmem_cache")
int probe_iter_kmem_cache(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
