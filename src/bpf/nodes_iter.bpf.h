/* SPDX-License-Identifier: GPL-2.0 */
/* The node iterator's body, shared by sys.bpf.c (--on modes) and nodes.bpf.c (snapshots). */
#ifndef MEMSCOPE_NODES_ITER_BPF_H
#define MEMSCOPE_NODES_ITER_BPF_H

#include "sys.h"
#include "zone.bpf.h"

/* struct sys_node is too large for the BPF stack: build it here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sys_node);
} scratch SEC(".maps");

/* Each kswapd thread leads to its node: one struct sys_node per node, remembered too. */
static __always_inline int node_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct pglist_data *pgdat;
	struct sys_node *n;
	__u32 zero = 0;

	if (!t || !(pgdat = remember_node(t)))
		return 0;
	n = bpf_map_lookup_elem(&scratch, &zero);
	if (!n)
		return 0;
	read_node(pgdat, n);
	bpf_seq_write(ctx->meta->seq, n, sizeof(*n));
	return 0;
}

#endif
