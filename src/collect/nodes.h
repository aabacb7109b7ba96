/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory nodes and zones: each node's counters (enum node_stat_item) and each zone's
 * state (free pages, watermarks, free blocks per order), read in the kernel through
 * each node's kswapd thread, now or at the instant of a kernel event (--on). The
 * system's totals are /proc/meminfo's (collect/meminfo.h).
 */
#ifndef MEMSCOPE_COLLECT_NODES_H
#define MEMSCOPE_COLLECT_NODES_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "hooks.h"
#include "meminfo.h"
#include "record.h"
#include "sys.h"

/* Kernel events at which every node's state can be taken (nodes_open). */
enum { NODES_ON_RECLAIM = 1, NODES_ON_KSWAPD = 2, NODES_ON_COMPACTION = 4,
       NODES_ON_FAILURE = 8 };

struct nodes;
/* Load the node iterator, and the event programs of `on` (0: none); exits 1 on failure. */
struct nodes *nodes_open(unsigned int on);
/* Every node's state now, sorted by node id; returns how many (at least one, or exit 1). */
int nodes_read(struct nodes *n, struct sys_node *out, int max);
/* With `on`: attach the event programs; their struct sys_event records come here. */
void nodes_attach_events(struct nodes *n);
int nodes_events_fd(struct nodes *n);
/* Snapshots the ring buffer had no room for. */
const volatile unsigned long long *nodes_lost(struct nodes *n);
void nodes_close(struct nodes *n);

#define NODES_NR_HOOKS 5
extern const struct hook_spec nodes_hooks[NODES_NR_HOOKS];

/*
 * The "sys" record: one node's counters (scope "node"), or the system's (scope
 * "total", /proc/meminfo's figures). X(name, group, label, node items, meminfo lines,
 * help): the node value is the sum of the items' pages (-1: none), the total the sum
 * of the meminfo lines (MI_NR: none). Special cases are in nodes.c.
 */
#define NODE_FACTS(X)                                                                      \
	X(total, "memory", "total", -1, -1, MI_MEM_TOTAL, MI_NR, MI_NR,                   \
	  "memory the zones manage (node); MemTotal (total)")                              \
	X(free, "", "free", -1, -1, MI_MEM_FREE, MI_NR, MI_NR, "free pages (MemFree)")     \
	X(available, "", "available", -1, -1, MI_MEM_AVAILABLE, MI_NR, MI_NR,             \
	  "MemAvailable; system-wide only (null per node)")                                \
	X(used, "", "used", -1, -1, MI_NR, MI_NR, MI_NR,                                  \
	  "total - available, as free(1) of procps 4; system-wide only")                   \
	X(active, "lru", "active", SN_ACTIVE_ANON, SN_ACTIVE_FILE, MI_ACTIVE, MI_NR, MI_NR, \
	  "active LRU lists, anon + file (Active)")                                        \
	X(inactive, "", "inactive", SN_INACTIVE_ANON, SN_INACTIVE_FILE, MI_INACTIVE, MI_NR,  \
	  MI_NR, "inactive LRU lists (Inactive)")                                          \
	X(active_anon, "", "active anon", SN_ACTIVE_ANON, -1, MI_ACTIVE_ANON, MI_NR, MI_NR,  \
	  "Active(anon)")                                                                  \
	X(inactive_anon, "", "inactive anon", SN_INACTIVE_ANON, -1, MI_INACTIVE_ANON, MI_NR, \
	  MI_NR, "Inactive(anon)")                                                         \
	X(active_file, "", "active file", SN_ACTIVE_FILE, -1, MI_ACTIVE_FILE, MI_NR, MI_NR,  \
	  "Active(file)")                                                                  \
	X(inactive_file, "", "inactive file", SN_INACTIVE_FILE, -1, MI_INACTIVE_FILE, MI_NR, \
	  MI_NR, "Inactive(file)")                                                         \
	X(unevictable, "", "unevictable", SN_UNEVICTABLE, -1, MI_UNEVICTABLE, MI_NR, MI_NR,  \
	  "Unevictable")                                                                   \
	X(mlocked, "", "mlocked", -1, -1, MI_MLOCKED, MI_NR, MI_NR, "Mlocked")             \
	X(anon_pages, "pages", "anon", SN_ANON_MAPPED, -1, MI_ANON_PAGES, MI_NR, MI_NR,      \
	  "anonymous pages mapped (AnonPages)")                                            \
	X(file_pages, "", "cache+buffers", SN_FILE_PAGES, -1, MI_CACHED, MI_BUFFERS,         \
	  MI_SWAP_CACHED, "file pages: Cached + Buffers + SwapCached (NR_FILE_PAGES)")     \
	X(mapped, "", "mapped", SN_FILE_MAPPED, -1, MI_MAPPED, MI_NR, MI_NR,                \
	  "file pages mapped (Mapped)")                                                    \
	X(shmem, "", "shmem", SN_SHMEM, -1, MI_SHMEM, MI_NR, MI_NR, "Shmem")               \
	X(swap_cached, "", "swap cached", SN_SWAPCACHE, -1, MI_SWAP_CACHED, MI_NR, MI_NR,    \
	  "SwapCached")                                                                    \
	X(dirty, "io", "dirty", SN_FILE_DIRTY, -1, MI_DIRTY, MI_NR, MI_NR, "Dirty")        \
	X(writeback, "", "writeback", SN_WRITEBACK, -1, MI_WRITEBACK, MI_NR, MI_NR,         \
	  "Writeback")                                                                     \
	X(writeback_tmp, "", "writeback tmp", SN_WRITEBACK_TEMP, -1, MI_WRITEBACK_TMP,      \
	  MI_NR, MI_NR, "WritebackTmp; null where the kernel has no such counter")         \
	X(nfs_unstable, "", "nfs unstable", SN_UNSTABLE_NFS, -1, MI_NFS_UNSTABLE, MI_NR,     \
	  MI_NR, "NFS_Unstable; null where the kernel has no such counter (5.8+)")         \
	X(slab, "kernel", "slab", SN_SLAB_RECLAIMABLE_B, SN_SLAB_UNRECLAIMABLE_B, MI_SLAB,    \
	  MI_NR, MI_NR, "Slab")                                                            \
	X(sreclaimable, "", "s reclaimable", SN_SLAB_RECLAIMABLE_B, -1, MI_SRECLAIMABLE,      \
	  MI_NR, MI_NR, "SReclaimable")                                                    \
	X(sunreclaim, "", "s unreclaim", SN_SLAB_UNRECLAIMABLE_B, -1, MI_SUNRECLAIM, MI_NR,   \
	  MI_NR, "SUnreclaim")                                                             \
	X(kreclaimable, "", "k reclaimable", SN_SLAB_RECLAIMABLE_B,                         \
	  SN_KERNEL_MISC_RECLAIMABLE, MI_KRECLAIMABLE, MI_NR, MI_NR,                       \
	  "KReclaimable: SReclaimable + NR_KERNEL_MISC_RECLAIMABLE")                      \
	X(kernel_stack, "", "kernel stack", SN_KERNEL_STACK_KB, -1, MI_KERNEL_STACK, MI_NR, \
	  MI_NR, "KernelStack")                                                            \
	X(page_tables, "", "page tables", SN_PAGETABLE, -1, MI_PAGE_TABLES, MI_NR, MI_NR,   \
	  "PageTables")                                                                    \
	X(anon_huge_pages, "huge", "anon THP", SN_ANON_THPS, -1, MI_ANON_HUGE_PAGES, MI_NR, \
	  MI_NR, "AnonHugePages")                                                          \
	X(shmem_huge_pages, "", "shmem THP", SN_SHMEM_THPS, -1, MI_SHMEM_HUGE_PAGES, MI_NR,  \
	  MI_NR, "ShmemHugePages")

#define NF_ENUM(name, ...) NF_##name,
enum node_fact { NODE_FACTS(NF_ENUM) NF_NR };
#undef NF_ENUM

struct node_row {
	uint64_t null_mask;
	char scope[8]; /* "node" or "total" */
	int32_t node;  /* null for the total */
	uint64_t v[NF_NR]; /* bytes, by enum node_fact */
	int64_t unmanaged_bytes; /* total only: MemTotal - the zones' managed pages */
	uint64_t zones_present_unmanaged_bytes;
	char unmanaged_reason[160]; /* null when within the slack */
};

struct zone_row {
	uint64_t null_mask;
	int32_t node;
	char zone[SYS_ZONE_NAME];
	bool populated;
	uint64_t free_bytes, min_bytes, low_bytes, high_bytes, promo_bytes, boost_bytes;
	uint64_t free_cma_bytes, present_bytes, managed_bytes, spanned_bytes;
	uint32_t nr_protection, nr_orders;
	int64_t protection_bytes[SYS_MAX_ZONES];
	uint64_t free_blocks[SYS_MAX_ORDERS];
	double unusable_index[SYS_MAX_ORDERS], fragmentation_index[SYS_MAX_ORDERS];
};

/* sys --on: the node at the instant of a kernel event. */
struct node_event_part {
	uint64_t null_mask;
	char kind[16];
	uint32_t pid;
	char comm[MS_COMM_LEN];
	int32_t order;
};

struct node_event_row {
	uint64_t null_mask;
	struct node_row node;
	struct node_event_part event;
};

extern const struct record_desc node_desc, zone_desc, node_event_desc, node_event_part_desc;
/* The group heading of a fact in the text view ("" continues the group above). */
extern const char *const node_fact_group[NF_NR];

void node_row_of(const struct sys_node *n, struct node_row *row);
/* The total: /proc/meminfo's figures (mi NULL: the nodes' sums) and the coverage note. */
void total_row_of(const struct sys_node *nodes, int nr, const struct ms_meminfo *mi,
		  struct node_row *row);
void zone_row_of(const struct sys_node *n, int z, struct zone_row *row);
/*
 * The node's share of MemAvailable, in pages: the kernel's si_mem_available() over this
 * node's zones and counters; -1 when a counter it needs is missing.
 */
int64_t node_available_pages(const struct sys_node *n);

#endif
