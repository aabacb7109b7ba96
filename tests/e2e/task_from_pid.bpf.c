// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: a classic tracepoint program that looks a task up by pid, loaded by
 * bpftool as an independent ground truth of whether the kernel lets one do that.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tracepoint/oom/mark_victim")
int task_from_pid(struct trace_event_raw_mark_victim *ctx)
{
	struct task_struct *t = bpf_task_from_pid(ctx->pid);

	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
