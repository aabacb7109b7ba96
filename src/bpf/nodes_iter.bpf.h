/* SPDX-License-Identifier: GPL-2.0 */
/* The node iterator's body, shared by sys.bpf.c (--on modes) and nodes.bpf.c (snapshots). */
#ifndef MEMSCOPE_NODES_ITER_BPF_H
#define MEMSCOPE_NODES_ITER_BPF_H

#include "sys.h"
#include "zone.bpf.h"

/*
 * Every node's state, by node id, as the last pass read it (node_mask says which):
 * a map, not the iterator's output, whose one call may write at most a page or so.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYS_MAX_NODES);
	__type(key, __u32);
	__type(value, struct sys_node);
} node_snap SEC(".maps");

/*
 * Node nid into node_snap: a global function, verified once on its own, not once
 * per node of the loop below.
 */
__noinline int snap_node(__u32 nid)
{
	struct pglist_data *pgdat = node_by_id(nid);
	struct sys_node *n = pgdat ? bpf_map_lookup_elem(&node_snap, &nid) : NULL;

	if (n)
		read_node(pgdat, n);
	return 0;
}

/* The pass finds the nodes; its last call reads each into node_snap. */
static __always_inline int node_iter(struct bpf_iter__task *ctx)
{
	if (!nodes_pass(ctx))
		return 0;
	for (__u32 i = 0; i < SYS_MAX_NODES; i++) {
		if (i >= nodes_found)
			break;
		snap_node(i);
	}
	return 0;
}

#endif
