// SPDX-License-Identifier: GPL-2.0
/*
 * memscope proc, kernel side: proc_snapshot (iter/task), one record per user
 * process with exact counters, read into user space. Live mode runs the same pass
 * once per interval and hooks no hot path (proc_exit.bpf.c: process exits). (It used to note processes from
 * sched_switch, which costs every context switch ~30 ns even when the program is
 * empty, to save a pass that takes about a millisecond at 2,000 processes.)
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "proc_rec.bpf.h"
#include "task.bpf.h"

/* Set by each pass: does sched_process_exit still see the mm (6.16+, proc_exit.bpf.c)? */
bool exit_before_mm;
/* Set by each pass: the reader's pid in the root PID namespace, as records number pids */
__u32 reader_pid;

SEC("iter/task")
int proc_snapshot(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct proc_rec r = {};
	struct mm_struct *mm;
	__u32 tgid;

	exit_before_mm = bpf_core_field_exists(struct trace_event_raw_sched_process_exit,
					       group_dead);
	reader_pid = bpf_get_current_pid_tgid() >> 32;
	if (!t || t->pid != t->tgid || !(mm = t->mm) || task_is_kthread_with_mm(t, mm))
		return 0;
	tgid = t->tgid;
	if (!task_passes_filters(t, tgid))
		return 0;
	r.pid = tgid;
	fill_rec(&r, t, mm);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
