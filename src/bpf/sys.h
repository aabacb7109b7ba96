/* SPDX-License-Identifier: GPL-2.0 */
/* Node and zone state as BPF reads it; shared by sys, paf and the BPF side. */
#ifndef MEMSCOPE_SYS_H
#define MEMSCOPE_SYS_H

#include "comm.h"

#define SYS_MAX_ZONES  8
#define SYS_MAX_ORDERS 16
#define SYS_MAX_NODES  64
#define SYS_ZONE_NAME  16

/* Node counters memscope reads (enum node_stat_item), in this order. */
enum sys_node_item {
	SN_INACTIVE_ANON,
	SN_ACTIVE_ANON,
	SN_INACTIVE_FILE,
	SN_ACTIVE_FILE,
	SN_UNEVICTABLE,
	SN_SLAB_RECLAIMABLE_B,
	SN_SLAB_UNRECLAIMABLE_B,
	SN_ANON_MAPPED,
	SN_FILE_MAPPED,
	SN_FILE_PAGES,
	SN_FILE_DIRTY,
	SN_WRITEBACK,
	SN_WRITEBACK_TEMP,
	SN_SHMEM,
	SN_SHMEM_THPS,
	SN_ANON_THPS,
	SN_KERNEL_MISC_RECLAIMABLE,
	SN_KERNEL_STACK_KB,
	SN_PAGETABLE,
	SN_SWAPCACHE,
	SN_UNSTABLE_NFS,
	SN_NR
};

struct sys_zone {
	char name[SYS_ZONE_NAME];
	__u64 free, free_cma, mlock;
	__u64 managed, present, spanned;
	__u64 wmark[4]; /* min, low, high, promo: without the boost */
	__u64 boost;
	__s64 protection[SYS_MAX_ZONES]; /* lowmem_reserve[] */
	__u64 nr_free[SYS_MAX_ORDERS];	  /* free blocks per order */
	__u32 has_promo, has_free_cma, has_mlock, pad;
};

struct sys_node {
	__u32 nid;
	__u32 nr_zones;	 /* entries of node_zones[] on this kernel */
	__u32 nr_orders; /* entries of free_area[] on this kernel */
	__u32 nr_protection;
	__u64 present;	 /* bit per sys_node_item the kernel has */
	__s64 item[SN_NR];
	struct sys_zone zone[SYS_MAX_ZONES];
};

/* --on: what made the snapshot */
enum sys_event_kind {
	SYS_EV_NONE,
	SYS_EV_DIRECT_RECLAIM,
	SYS_EV_MEMCG_RECLAIM,
	SYS_EV_KSWAPD_WAKE,
	SYS_EV_COMPACTION,
	SYS_EV_ALLOC_FAILURE,
};

struct sys_event {
	__u32 kind;
	__u32 pid;
	char comm[MS_COMM_LEN];
	__u64 ts_ns; /* bpf_ktime_get_boot_ns */
	__u32 order; /* where the event has one, else -1 */
	__u32 event_nid;
	struct sys_node node;
};

#endif
