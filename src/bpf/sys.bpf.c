// SPDX-License-Identifier: GPL-2.0
/*
 * memscope sys, kernel side.
 * - sys_nodes (iter/task): finds every node (zone.bpf.h), reads each into
 *   node_snap and remembers its pglist_data for the events.
 * - --on: at a reclaim, kswapd wake-up, compaction or allocation failure, the
 *   state of every node at that instant goes out through the ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "sys.h"
#include "zone.bpf.h"
#include "nodes_iter.bpf.h"
#include "hook.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

__u64 nr_lost;			   /* snapshots the ring buffer had no room for */

SEC("iter/task")
int sys_nodes(struct bpf_iter__task *ctx)
{
	return node_iter(ctx);
}

static __always_inline void snapshot_event(__u32 kind, __u32 order, __u32 event_nid)
{
	for (int i = 0; i < SYS_MAX_NODES; i++) {
		struct pglist_data *pgdat;
		struct sys_event *e;

		if (i >= nodes_found)
			break;
		/* a copy of i is the map key: the loop counter stays in a register */
		pgdat = node_by_id(i);
		if (!pgdat)
			continue;
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			__sync_fetch_and_add(&nr_lost, 1);
			return;
		}
		e->kind = kind;
		e->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		e->ts_ns = bpf_ktime_get_boot_ns();
		e->order = order;
		e->event_nid = event_nid;
		read_node(pgdat, &e->node);
		bpf_ringbuf_submit(e, 0);
	}
}

MS_TRACEPOINT(sys_direct_reclaim, mm_vmscan_direct_reclaim_begin,
	      snapshot_event(SYS_EV_DIRECT_RECLAIM, order, -1),
	      int order)

MS_TRACEPOINT(sys_memcg_reclaim, mm_vmscan_memcg_reclaim_begin,
	      snapshot_event(SYS_EV_MEMCG_RECLAIM, order, -1),
	      int order)

MS_TRACEPOINT(sys_kswapd_wake, mm_vmscan_kswapd_wake,
	      snapshot_event(SYS_EV_KSWAPD_WAKE, order, nid),
	      int nid, int zid, int order)

MS_TRACEPOINT(sys_compaction, mm_compaction_begin, snapshot_event(SYS_EV_COMPACTION, -1, -1))

MS_CLASSIC(sys_direct_reclaim, vmscan, mm_vmscan_direct_reclaim_begin,
	   mm_vmscan_direct_reclaim_begin_template,
	   snapshot_event(SYS_EV_DIRECT_RECLAIM, ctx->order, -1))
MS_CLASSIC(sys_memcg_reclaim, vmscan, mm_vmscan_memcg_reclaim_begin,
	   mm_vmscan_direct_reclaim_begin_template,
	   snapshot_event(SYS_EV_MEMCG_RECLAIM, ctx->order, -1))
MS_CLASSIC(sys_kswapd_wake, vmscan, mm_vmscan_kswapd_wake, mm_vmscan_kswapd_wake,
	   snapshot_event(SYS_EV_KSWAPD_WAKE, ctx->order, ctx->nid))
MS_CLASSIC(sys_compaction, compaction, mm_compaction_begin, mm_compaction_begin,
	   snapshot_event(SYS_EV_COMPACTION, -1, -1))

/* mm_page_alloc runs for every page allocation: leave at once unless it failed. */
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(sys_alloc_btf, struct page *page, unsigned int order)
{
	if (!page)
		snapshot_event(SYS_EV_ALLOC_FAILURE, order, -1);
	return 0;
}

SEC("raw_tp/mm_page_alloc")
int BPF_PROG(sys_alloc_raw, struct page *page, unsigned int order)
{
	if (!page)
		snapshot_event(SYS_EV_ALLOC_FAILURE, order, -1);
	return 0;
}

/* the record carries the pfn: -1UL when the allocation failed (include/trace/events/kmem.h) */
MS_CLASSIC(sys_alloc, kmem, mm_page_alloc, mm_page_alloc,
	   if (ctx->pfn == -1UL) snapshot_event(SYS_EV_ALLOC_FAILURE, ctx->order, -1))

char LICENSE[] SEC("license") = "GPL";
