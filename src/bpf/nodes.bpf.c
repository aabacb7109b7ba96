// SPDX-License-Identifier: GPL-2.0
/*
 * memscope sys's snapshot, kernel side: the node iterator alone, built as a light
 * skeleton so that a one-shot `sys` never parses the vmlinux BTF in user space.
 * The --on modes load sys.bpf.c, whose event programs use the nodes its own pass
 * remembers.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include "nodes_iter.bpf.h"

SEC("iter/task")
int nodes_snapshot(struct bpf_iter__task *ctx)
{
	return node_iter(ctx);
}

char LICENSE[] SEC("license") = "GPL";
