// SPDX-License-Identifier: GPL-2.0
/* Test helper: print the tgid of every task the kernel's task iterator yields. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("iter/task")
int task_pids(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;

	if (t && t->pid == t->tgid)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", t->tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
