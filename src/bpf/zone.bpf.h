/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Read a node's counters and its zones' state with CO-RE: indices of
 * node_stat_item, zone_stat_item and zone_watermarks are relocated by name, the
 * sizes of struct zone and struct free_area come from the running kernel, so
 * nothing here depends on the layout of the kernel memscope was built on.
 * Shared by sys and paf.
 */
#ifndef MEMSCOPE_ZONE_BPF_H
#define MEMSCOPE_ZONE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include "sys.h"
#include "task.bpf.h"

/*
 * Our own flavors of the kernel's enums: libbpf matches enumerators by name
 * without the ___ms suffix, so items the build host's headers lack (or the
 * running kernel lacks, like NR_WRITEBACK_TEMP on 6.18) are still resolvable.
 */
enum node_stat_item___ms {
	NR_INACTIVE_ANON___ms,
	NR_ACTIVE_ANON___ms,
	NR_INACTIVE_FILE___ms,
	NR_ACTIVE_FILE___ms,
	NR_UNEVICTABLE___ms,
	NR_SLAB_RECLAIMABLE_B___ms,
	NR_SLAB_UNRECLAIMABLE_B___ms,
	NR_ANON_MAPPED___ms,
	NR_FILE_MAPPED___ms,
	NR_FILE_PAGES___ms,
	NR_FILE_DIRTY___ms,
	NR_WRITEBACK___ms,
	NR_WRITEBACK_TEMP___ms,
	NR_SHMEM___ms,
	NR_SHMEM_THPS___ms,
	NR_ANON_THPS___ms,
	NR_KERNEL_MISC_RECLAIMABLE___ms,
	NR_KERNEL_STACK_KB___ms,
	NR_PAGETABLE___ms,
	NR_SWAPCACHE___ms,
	NR_UNSTABLE_NFS___ms,
};

enum zone_stat_item___ms {
	NR_FREE_PAGES___ms,
	NR_FREE_CMA_PAGES___ms,
	NR_MLOCK___ms,
};

enum zone_watermarks___ms {
	WMARK_MIN___ms,
	WMARK_LOW___ms,
	WMARK_HIGH___ms,
	WMARK_PROMO___ms,
};

static __always_inline long read_atomic_long(const void *base, long idx)
{
	long v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (const char *)base + idx * sizeof(atomic_long_t));
	return v;
}

#define NODE_ITEM(out, vm_stat, slot, name)                                                \
	do {                                                                               \
		if (bpf_core_enum_value_exists(enum node_stat_item___ms, name##___ms)) {   \
			(out)->item[slot] = read_atomic_long(                              \
				vm_stat, bpf_core_enum_value(enum node_stat_item___ms,     \
							     name##___ms));                \
			(out)->present |= 1ULL << (slot);                                  \
		}                                                                          \
	} while (0)

static __always_inline void read_node_items(struct pglist_data *pgdat, struct sys_node *out)
{
	const void *vm_stat = &pgdat->vm_stat;

	NODE_ITEM(out, vm_stat, SN_INACTIVE_ANON, NR_INACTIVE_ANON);
	NODE_ITEM(out, vm_stat, SN_ACTIVE_ANON, NR_ACTIVE_ANON);
	NODE_ITEM(out, vm_stat, SN_INACTIVE_FILE, NR_INACTIVE_FILE);
	NODE_ITEM(out, vm_stat, SN_ACTIVE_FILE, NR_ACTIVE_FILE);
	NODE_ITEM(out, vm_stat, SN_UNEVICTABLE, NR_UNEVICTABLE);
	NODE_ITEM(out, vm_stat, SN_SLAB_RECLAIMABLE_B, NR_SLAB_RECLAIMABLE_B);
	NODE_ITEM(out, vm_stat, SN_SLAB_UNRECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B);
	NODE_ITEM(out, vm_stat, SN_ANON_MAPPED, NR_ANON_MAPPED);
	NODE_ITEM(out, vm_stat, SN_FILE_MAPPED, NR_FILE_MAPPED);
	NODE_ITEM(out, vm_stat, SN_FILE_PAGES, NR_FILE_PAGES);
	NODE_ITEM(out, vm_stat, SN_FILE_DIRTY, NR_FILE_DIRTY);
	NODE_ITEM(out, vm_stat, SN_WRITEBACK, NR_WRITEBACK);
	NODE_ITEM(out, vm_stat, SN_WRITEBACK_TEMP, NR_WRITEBACK_TEMP);
	NODE_ITEM(out, vm_stat, SN_SHMEM, NR_SHMEM);
	NODE_ITEM(out, vm_stat, SN_SHMEM_THPS, NR_SHMEM_THPS);
	NODE_ITEM(out, vm_stat, SN_ANON_THPS, NR_ANON_THPS);
	NODE_ITEM(out, vm_stat, SN_KERNEL_MISC_RECLAIMABLE, NR_KERNEL_MISC_RECLAIMABLE);
	NODE_ITEM(out, vm_stat, SN_KERNEL_STACK_KB, NR_KERNEL_STACK_KB);
	NODE_ITEM(out, vm_stat, SN_PAGETABLE, NR_PAGETABLE);
	NODE_ITEM(out, vm_stat, SN_SWAPCACHE, NR_SWAPCACHE);
	NODE_ITEM(out, vm_stat, SN_UNSTABLE_NFS, NR_UNSTABLE_NFS);
}

#define WMARK(zone, out, slot, name)                                                       \
	do {                                                                               \
		if (bpf_core_enum_value_exists(enum zone_watermarks___ms, name##___ms))    \
			bpf_probe_read_kernel(&(out)->wmark[slot], sizeof(long),           \
				(const char *)&(zone)->_watermark +                        \
				bpf_core_enum_value(enum zone_watermarks___ms, name##___ms) * \
					sizeof(long));                                     \
	} while (0)

/* One zone; `zone` points into the running kernel's node_zones[]. */
static __always_inline void read_zone(struct zone *zone, struct sys_zone *out, __u32 nr_orders,
				      __u32 nr_protection)
{
	const void *vm_stat = &zone->vm_stat;
	const char *name = BPF_CORE_READ(zone, name);
	__u32 fa_size = bpf_core_type_size(struct free_area);
	__u32 nr_free_off = bpf_core_field_offset(struct free_area, nr_free);
	const char *free_area = (const char *)&zone->free_area;

	bpf_probe_read_kernel_str(out->name, sizeof(out->name), name);
	out->free = read_atomic_long(vm_stat,
				     bpf_core_enum_value(enum zone_stat_item___ms, NR_FREE_PAGES___ms));
	if (bpf_core_enum_value_exists(enum zone_stat_item___ms, NR_FREE_CMA_PAGES___ms)) {
		out->free_cma = read_atomic_long(vm_stat, bpf_core_enum_value(
				enum zone_stat_item___ms, NR_FREE_CMA_PAGES___ms));
		out->has_free_cma = 1;
	}
	if (bpf_core_enum_value_exists(enum zone_stat_item___ms, NR_MLOCK___ms)) {
		out->mlock = read_atomic_long(vm_stat, bpf_core_enum_value(
				enum zone_stat_item___ms, NR_MLOCK___ms));
		out->has_mlock = 1;
	}
	out->managed = BPF_CORE_READ(zone, managed_pages.counter);
	out->present = BPF_CORE_READ(zone, present_pages);
	out->spanned = BPF_CORE_READ(zone, spanned_pages);
	out->boost = BPF_CORE_READ(zone, watermark_boost);
	WMARK(zone, out, 0, WMARK_MIN);
	WMARK(zone, out, 1, WMARK_LOW);
	WMARK(zone, out, 2, WMARK_HIGH);
	WMARK(zone, out, 3, WMARK_PROMO);
	out->has_promo = bpf_core_enum_value_exists(enum zone_watermarks___ms, WMARK_PROMO___ms);
	for (__u32 i = 0; i < SYS_MAX_ZONES && i < nr_protection; i++)
		bpf_probe_read_kernel(&out->protection[i], sizeof(long),
				      (const char *)&zone->lowmem_reserve + i * sizeof(long));
	for (__u32 o = 0; o < SYS_MAX_ORDERS && o < nr_orders; o++)
		bpf_probe_read_kernel(&out->nr_free[o], sizeof(long),
				      free_area + o * fa_size + nr_free_off);
}

/*
 * The whole node: counters and every zone of node_zones[]. A subprogram, not
 * inlined: inside a caller's loop clang would hoist the relocated enum values
 * out of their bpf_core_enum_value_exists() guards, and the verifier rejects a
 * reachable relocation for an enumerator this kernel lacks.
 */
static __noinline void read_node(struct pglist_data *pgdat, struct sys_node *out)
{
	__u32 zone_size = bpf_core_type_size(struct zone);
	const char *zones = (const char *)&pgdat->node_zones;

	out->nid = BPF_CORE_READ(pgdat, node_id);
	out->nr_zones = bpf_core_field_size(pgdat->node_zones) / zone_size;
	out->nr_orders = bpf_core_field_size(struct zone, free_area) /
			 bpf_core_type_size(struct free_area);
	out->nr_protection = bpf_core_field_size(struct zone, lowmem_reserve) / sizeof(long);
	out->present = 0;
	read_node_items(pgdat, out);
	for (__u32 z = 0; z < SYS_MAX_ZONES && z < out->nr_zones; z++)
		read_zone((struct zone *)(zones + z * zone_size), &out->zone[z], out->nr_orders,
			  out->nr_protection);
}

/*
 * Finding the nodes without global symbols (no node_data in BTF or kallsyms).
 * One pglist_data leads to all: its fallback zonelist, node_zonelists[0]
 * (ZONELIST_FALLBACK, the first of them since 2.6.26: 54a6eb5c4765 "mm: use two
 * zonelist that are filtered by GFP mask"), lists the zones of every node with
 * memory (build_zonelists(), mm/page_alloc.c), and zone->zone_pgdat is its node. The first comes from a kswapd thread, started with its pglist_data as
 * the kthread's data (struct kthread.data, reached through task->worker_private
 * on 5.17+, task->set_child_tid before); the node points back at it
 * (pgdat->kswapd), which confirms the find.
 */
static __always_inline struct pglist_data *kswapd_pgdat(struct task_struct *t)
{
	struct kthread *kt;
	struct pglist_data *pgdat;

	if (bpf_core_field_exists(t->worker_private))
		kt = BPF_CORE_READ(t, worker_private);
	else
		kt = (void *)BPF_CORE_READ(t, set_child_tid);
	if (!kt)
		return NULL;
	pgdat = BPF_CORE_READ(kt, data);
	if (!pgdat || BPF_CORE_READ(pgdat, kswapd) != t)
		return NULL;
	return pgdat;
}

/*
 * A task iterator sees only the tasks of the reader's PID namespace: inside a
 * container no kswapd. Every task list starts at the boot CPU's idle task
 * (init_task, pid 0), the parent of the root namespace's init, which the
 * reader's pid reaches through its entry in the root namespace (numbers[0]).
 */
static __always_inline struct task_struct *boot_idle_task(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	struct pid_namespace *root = NULL;
	struct task_struct *init, *idle;

	if (!pid || bpf_core_read(&root, sizeof(root), &pid->numbers[0].ns) || !root)
		return NULL;
	init = BPF_CORE_READ(root, child_reaper);
	idle = init ? BPF_CORE_READ(init, real_parent) : NULL;
	if (!idle || BPF_CORE_READ(idle, pid) != 0)
		return NULL;
	return idle;
}

/* "kswapd" as the first six bytes of a comm read as a little-endian u64 */
#define KSWAPD_COMM 0x64706177736bULL
#define KSWAPD_COMM_MASK 0xffffffffffffULL
/*
 * How far along init_task.tasks (thread-group leaders in creation order; an
 * iterator program runs under rcu_read_lock, which the list needs) to look for a
 * kswapd. kswapd_init() runs at boot (module_init, mm/vmscan.c) after the per-CPU
 * kthreads, five or so per CPU: kswapd0 was the 47th task with 2 CPUs, and 16384
 * cover thousands. Loops are bounded, as 5.10's verifier wants, and cut in chunks:
 * a global function is verified once, not once per step, and a chunk's branches
 * stay below the verifier's limit of pending jumps (8192).
 */
#define WALK_CHUNK 64
#define WALK_CHUNKS 256

__u64 walk_pos;	  /* the walk's place in the task list (a tasks list_head) */
__u64 walk_pgdat; /* what it found */

/* Up to WALK_CHUNK tasks from walk_pos: 1 found a kswapd, 0 go on, -1 the end. */
__noinline int walk_tasks(__u64 head)
{
	__u32 off = bpf_core_field_offset(struct task_struct, tasks);
	struct list_head *pos = (void *)walk_pos;
	struct pglist_data *pgdat;

	for (int i = 0; i < WALK_CHUNK; i++) {
		struct task_struct *t;
		__u64 comm = 0;

		if (!pos || (__u64)pos == head)
			return -1;
		t = (void *)pos - off;
		bpf_probe_read_kernel(&comm, sizeof(comm), &t->comm);
		/* the name first: one compare for every other task */
		if ((comm & KSWAPD_COMM_MASK) == KSWAPD_COMM && (pgdat = kswapd_pgdat(t))) {
			walk_pgdat = (__u64)pgdat;
			return 1;
		}
		pos = BPF_CORE_READ(pos, next);
	}
	walk_pos = (__u64)pos;
	return 0;
}

static __always_inline struct pglist_data *walk_for_kswapd(struct task_struct *idle)
{
	__u64 head = (__u64)idle + bpf_core_field_offset(struct task_struct, tasks);
	int r = 0;

	walk_pos = (__u64)BPF_CORE_READ(idle, tasks.next);
	walk_pgdat = 0;
	for (int c = 0; c < WALK_CHUNKS && !r; c++)
		r = walk_tasks(head);
	return (struct pglist_data *)walk_pgdat;
}

/* Each node's pglist_data, by node id, as the last pass found it (node_mask). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYS_MAX_NODES);
	__type(key, __u32);
	__type(value, __u64);
} node_pgdat SEC(".maps");

__u64 node_mask;      /* bit per node id the last pass found */
__u32 nodes_found;    /* the highest of those ids, plus one */
__u32 nodes_beyond;   /* nodes whose id is SYS_MAX_NODES or more: not kept */
__u64 pass_pgdat;     /* a node seen during the pass under way */

/* The zonelist's reading, carried from chunk to chunk (as the walk's). */
#define ZL_CHUNK 16
#define ZL_CHUNKS (SYS_MAX_NODES * SYS_MAX_ZONES / ZL_CHUNK)
__u64 zl_pos;	/* the next struct zoneref */
__u64 zl_mask;	/* bit per node id met */
__s32 zl_prev;	/* the node of the zone before: a node's zones are listed together */
__u32 zl_top, zl_beyond;

/* Up to ZL_CHUNK zonerefs from zl_pos into node_pgdat: 1 at the list's end, 0 go on. */
__noinline int zonelist_chunk(void)
{
	__u32 zr_size = bpf_core_type_size(struct zoneref);
	__u32 zone_off = bpf_core_field_offset(struct zoneref, zone);
	const char *pos = (const char *)zl_pos;

	for (int i = 0; i < ZL_CHUNK; i++, pos += zr_size) {
		struct pglist_data *pgdat;
		struct zone *z = NULL;
		__u64 addr;
		__u32 nid;

		bpf_probe_read_kernel(&z, sizeof(z), pos + zone_off);
		if (!z)
			return 1;
		pgdat = BPF_CORE_READ(z, zone_pgdat);
		nid = BPF_CORE_READ(pgdat, node_id);
		if ((int)nid == zl_prev)
			continue;
		zl_prev = nid;
		if (nid >= SYS_MAX_NODES) {
			zl_beyond++;
			continue;
		}
		addr = (__u64)pgdat;
		bpf_map_update_elem(&node_pgdat, &nid, &addr, BPF_ANY);
		zl_mask |= 1ULL << nid;
		if (nid + 1 > zl_top)
			zl_top = nid + 1;
	}
	zl_pos = (__u64)pos;
	return 0;
}

/* Every node of pgdat's fallback zonelist into node_pgdat; the mask of their ids. */
static __always_inline __u64 nodes_of_zonelist(struct pglist_data *pgdat)
{
	zl_pos = (__u64)&pgdat->node_zonelists[0]._zonerefs;
	zl_mask = 0;
	zl_prev = -1;
	zl_top = zl_beyond = 0;
	for (int c = 0; c < ZL_CHUNKS; c++)
		if (zonelist_chunk())
			break;
	nodes_beyond = zl_beyond;
	nodes_found = zl_top;
	return zl_mask;
}

/*
 * The body of a task iterator that finds the nodes: each task may be a kswapd
 * of the reader's namespace; the last call (no task) walks from init_task when
 * none was, then reads the zonelist. Returns true on that last call when nodes
 * were found.
 */
static __always_inline bool nodes_pass(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct pglist_data *pgdat;
	struct task_struct *idle;
	__u64 mask;

	if (t) {
		if (!pass_pgdat && task_is_kswapd(t))
			pass_pgdat = (__u64)kswapd_pgdat(t);
		return false;
	}
	pgdat = (struct pglist_data *)pass_pgdat;
	pass_pgdat = 0;
	if (!pgdat && (idle = boot_idle_task()))
		pgdat = walk_for_kswapd(idle);
	mask = pgdat ? nodes_of_zonelist(pgdat) : 0;
	node_mask = mask;
	if (!mask)
		nodes_found = 0;
	return mask != 0;
}

/* A node the last pass found: its pglist_data, or NULL. */
static __always_inline struct pglist_data *node_by_id(__u32 nid)
{
	__u64 *addr;

	if (nid >= SYS_MAX_NODES || !(node_mask >> nid & 1))
		return NULL;
	addr = bpf_map_lookup_elem(&node_pgdat, &nid);
	return addr ? (struct pglist_data *)*addr : NULL;
}

#endif
