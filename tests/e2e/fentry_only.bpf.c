// SPDX-License-Identifier: GPL-2.0
/* Test helper: one fentry program, loaded by bpftool as an independent ground truth. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("fentry/vfs_read")
int BPF_PROG(fentry_only)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
