// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counters.h"
#include "frag.h"
#include "iter.h"
#include "loss.h"
#include "nodes.h"
#include "runtime.h"
#include "util.h"
#include "sys.skel.h"
#include "nodes.lskel.h"

const struct hook_spec nodes_hooks[NODES_NR_HOOKS] = {
	HOOK_TP("vmscan:mm_vmscan_direct_reclaim_begin", "sys_direct_reclaim", true),
	HOOK_TP("vmscan:mm_vmscan_memcg_reclaim_begin", "sys_memcg_reclaim", true),
	HOOK_TP("vmscan:mm_vmscan_kswapd_wake", "sys_kswapd_wake", true),
	HOOK_TP("compaction:mm_compaction_begin", "sys_compaction", true),
	HOOK_TP("kmem:mm_page_alloc", "sys_alloc", true),
};
/* Which event each hook serves. */
static const unsigned int hook_event[NODES_NR_HOOKS] = {
	NODES_ON_RECLAIM, NODES_ON_RECLAIM, NODES_ON_KSWAPD, NODES_ON_COMPACTION, NODES_ON_FAILURE,
};

struct nodes {
	struct sys_bpf *skel;	   /* --on: the iterator and the event programs */
	struct bpf_link *iter;
	struct nodes_lite *lite;   /* else: the iterator alone, a light skeleton */
	struct sys_node *buf;
	int nr;
};

static void load_events(struct sys_bpf *skel, unsigned int on)
{
	int chosen[NODES_NR_HOOKS];
	char why[256];

	if (hooks_select(skel->obj, nodes_hooks, NODES_NR_HOOKS, chosen, why, sizeof(why)))
		ms_fatal("%s", why);
	for (int i = 0; i < NODES_NR_HOOKS; i++) {
		if (!(on & hook_event[i]))
			for (int v = 0; v < HOOK_MAX_VARIANTS && nodes_hooks[i].v[v].prog; v++)
				bpf_program__set_autoload(bpf_object__find_program_by_name(
					skel->obj, nodes_hooks[i].v[v].prog), false);
		else if (chosen[i] == HOOK_NONE)
			ms_fatal("--on: no working hook for %s on this kernel", nodes_hooks[i].name);
	}
}

/* The snapshot alone: a light skeleton, no vmlinux BTF parsed here (see proc's). */
static struct nodes_lite *open_lite(void)
{
	struct nodes_lite *lite = nodes_lite__open();
	char *log;
	int err;

	if (!lite)
		ms_bpf_fail("opening sys's BPF object", errno);
	log = ms_lite_log(&lite->ctx);
	err = nodes_lite__load(lite);
	if (!err)
		err = nodes_lite__attach(lite);
	if (err) {
		nodes_lite__destroy(lite);
		ms_lite_fail("loading sys's BPF programs", err, log);
	}
	free(log);
	return lite;
}

static struct sys_bpf *open_events(unsigned int on)
{
	struct sys_bpf *skel = sys_bpf__open_opts(ms_bpf_open_opts());
	int err;

	if (!skel)
		ms_bpf_fail("opening sys's BPF object", errno);
	ms_test_map_sizes(skel->obj);
	load_events(skel, on);
	err = sys_bpf__load(skel);
	if (err)
		ms_bpf_fail("loading sys's BPF programs", err);
	return skel;
}

struct nodes *nodes_open(unsigned int on)
{
	struct nodes *n = calloc(1, sizeof(*n));

	if (!n || !(n->buf = calloc(SYS_MAX_NODES, sizeof(*n->buf))))
		ms_fatal("out of memory");
	ms_require_bpf();
	if (!on) {
		n->lite = open_lite();
		return n;
	}
	n->skel = open_events(on);
	n->iter = bpf_program__attach_iter(n->skel->progs.sys_nodes, NULL);
	if (!n->iter)
		ms_bpf_fail("attaching the node iterator", errno);
	return n;
}

static void push_node(const void *rec, void *ctx)
{
	struct nodes *n = ctx;

	if (n->nr < SYS_MAX_NODES)
		memcpy(&n->buf[n->nr++], rec, sizeof(struct sys_node));
}

static int cmp_nid(const void *a, const void *b)
{
	const struct sys_node *x = a, *y = b;

	return (int)x->nid - (int)y->nid;
}

int nodes_read(struct nodes *n, struct sys_node *out, int max)
{
	/* The pass also records each node's pglist_data for the event programs. */
	n->nr = 0;
	ms_iter_read_fd(n->lite ? n->lite->links.nodes_snapshot_fd : bpf_link__fd(n->iter),
			sizeof(struct sys_node), push_node, n);
	if (!n->nr)
		ms_fatal("found no memory node: no kswapd thread leads to one on this kernel");
	qsort(n->buf, n->nr, sizeof(*n->buf), cmp_nid);
	if (n->nr < max)
		max = n->nr;
	memcpy(out, n->buf, max * sizeof(*out));
	return max;
}

void nodes_attach_events(struct nodes *n)
{
	int err = sys_bpf__attach(n->skel);

	if (err)
		ms_bpf_fail("attaching sys's BPF programs", err);
}

int nodes_events_fd(struct nodes *n)
{
	return bpf_map__fd(n->skel->maps.events);
}

const volatile unsigned long long *nodes_lost(struct nodes *n)
{
	return &n->skel->bss->nr_lost;
}

void nodes_close(struct nodes *n)
{
	if (!n)
		return;
	bpf_link__destroy(n->iter);
	sys_bpf__destroy(n->skel);
	nodes_lite__destroy(n->lite);
	free(n->buf);
	free(n);
}

/* ---- the records ---- */

/* Field indices in node_desc: scope, node, the facts, then the total's coverage. */
enum { FI_FACT0 = 2, FI_UNMANAGED = FI_FACT0 + NF_NR, FI_PRESENT_UNMANAGED, FI_REASON };

#define NF_GROUP(name, group, ...) group,
const char *const node_fact_group[NF_NR] = { NODE_FACTS(NF_GROUP) };
#undef NF_GROUP

#define NF_SRC(name, group, label, a, b, m1, m2, m3, help) { { a, b }, { m1, m2, m3 } },
static const struct {
	int item[2];
	enum mi_item mi[3];
} node_src[NF_NR] = { NODE_FACTS(NF_SRC) };
#undef NF_SRC

static bool has_item(const struct sys_node *n, int item)
{
	return n->present & (1ULL << item);
}

/* Bytes of a node counter, clamped at 0 as node_page_state_pages() does. */
static uint64_t item_bytes(const struct sys_node *n, int item)
{
	uint64_t v = counter_nonneg(n->item[item]);

	return item == SN_KERNEL_STACK_KB ? v * 1024 /* the kernel counts stacks in KiB */
					  : v * ms_page_size();
}

/*
 * si_mem_available() (mm/show_mem.c since 6.2, mm/page_alloc.c before; the same
 * formula since 4.18): free pages minus the reserve (each zone's largest lowmem_reserve
 * plus its high watermark, at most its managed pages: calculate_totalreserve_pages()),
 * plus the page cache and reclaimable kernel memory less what must stay (half of each,
 * at most the low watermarks).
 */
int64_t node_available_pages(const struct sys_node *n)
{
	int64_t free = 0, reserve = 0, wmark_low = 0, cache, reclaimable;
	static const int need[] = { SN_ACTIVE_FILE, SN_INACTIVE_FILE, SN_SLAB_RECLAIMABLE_B,
				    SN_KERNEL_MISC_RECLAIMABLE };

	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (!has_item(n, need[i]))
			return -1;
	for (int z = 0; z < (int)n->nr_zones && z < SYS_MAX_ZONES; z++) {
		const struct sys_zone *zn = &n->zone[z];
		int64_t max = 0;

		for (int j = z; j < (int)n->nr_protection && j < SYS_MAX_ZONES; j++)
			if (zn->protection[j] > max)
				max = zn->protection[j];
		max += zn->wmark[2];
		reserve += max < (int64_t)zn->managed ? max : (int64_t)zn->managed;
		free += zn->free;
		wmark_low += zn->wmark[1] + zn->boost;
	}
	cache = counter_nonneg(n->item[SN_ACTIVE_FILE]) + counter_nonneg(n->item[SN_INACTIVE_FILE]);
	cache -= cache / 2 < wmark_low ? cache / 2 : wmark_low;
	reclaimable = counter_nonneg(n->item[SN_SLAB_RECLAIMABLE_B]) +
		      counter_nonneg(n->item[SN_KERNEL_MISC_RECLAIMABLE]);
	reclaimable -= reclaimable / 2 < wmark_low ? reclaimable / 2 : wmark_low;
	free = free - reserve + cache + reclaimable;
	return free > 0 ? free : 0;
}

void node_row_of(const struct sys_node *n, struct node_row *row)
{
	uint64_t managed = 0, free = 0, mlock = 0, page = ms_page_size();
	bool has_mlock = true;

	memset(row, 0, sizeof(*row));
	snprintf(row->scope, sizeof(row->scope), "node");
	row->node = n->nid;
	for (int z = 0; z < SYS_MAX_ZONES && z < (int)n->nr_zones; z++) {
		managed += n->zone[z].managed;
		free += n->zone[z].free;
		mlock += n->zone[z].mlock;
		has_mlock &= n->zone[z].has_mlock;
	}
	for (int f = 0; f < NF_NR; f++) {
		const int *it = node_src[f].item;

		if (it[0] < 0 || !has_item(n, it[0]) || (it[1] >= 0 && !has_item(n, it[1]))) {
			record_mark(&node_desc, row, FI_FACT0 + f, true);
			continue;
		}
		row->v[f] = item_bytes(n, it[0]) + (it[1] >= 0 ? item_bytes(n, it[1]) : 0);
	}
	/* the zones' own counts; availability is computed system-wide only */
	record_mark(&node_desc, row, FI_FACT0 + NF_total, false);
	record_mark(&node_desc, row, FI_FACT0 + NF_free, false);
	row->v[NF_total] = managed * page;
	row->v[NF_free] = free * page;
	if (has_mlock) {
		record_mark(&node_desc, row, FI_FACT0 + NF_mlocked, false);
		row->v[NF_mlocked] = mlock * page;
	}
	record_mark(&node_desc, row, FI_UNMANAGED, true);
	record_mark(&node_desc, row, FI_PRESENT_UNMANAGED, true);
	record_mark(&node_desc, row, FI_REASON, true);
}

/* The kernel's own system-wide figures, where the nodes have the counter at all. */
static void use_meminfo(struct node_row *row, const struct ms_meminfo *mi)
{
	for (int f = 0; f < NF_NR; f++) {
		uint64_t sum = 0;
		int k;

		/* a counter this kernel lacks stays null: meminfo prints 0 for some */
		if ((row->null_mask & (1ULL << (FI_FACT0 + f))) && f != NF_available)
			continue;
		for (k = 0; k < 3 && node_src[f].mi[k] != MI_NR && meminfo_has(mi, node_src[f].mi[k]);
		     k++)
			sum += mi->bytes[node_src[f].mi[k]];
		if (k == 0 || (k < 3 && node_src[f].mi[k] != MI_NR))
			continue; /* meminfo has no such line here */
		row->v[f] = sum;
		record_mark(&node_desc, row, FI_FACT0 + f, false);
	}
	if (meminfo_has(mi, MI_MEM_TOTAL) && meminfo_has(mi, MI_MEM_AVAILABLE)) {
		row->v[NF_used] = counter_nonneg(mi->bytes[MI_MEM_TOTAL] - mi->bytes[MI_MEM_AVAILABLE]);
		record_mark(&node_desc, row, FI_FACT0 + NF_used, false);
	}
}

static void add_coverage(struct node_row *row, const struct sys_node *nodes, int nr,
			 const struct ms_meminfo *mi)
{
	uint64_t managed = 0, present = 0;
	struct mem_coverage c;

	for (int i = 0; i < nr; i++)
		for (int z = 0; z < (int)nodes[i].nr_zones && z < SYS_MAX_ZONES; z++) {
			managed += nodes[i].zone[z].managed;
			present += nodes[i].zone[z].present;
		}
	mem_coverage(mi->bytes[MI_MEM_TOTAL], managed, present, ms_page_size(),
		     kernel_defers_memory_init(), &c);
	record_mark(&node_desc, row, FI_UNMANAGED, false);
	record_mark(&node_desc, row, FI_PRESENT_UNMANAGED, false);
	row->unmanaged_bytes = c.unmanaged_bytes;
	row->zones_present_unmanaged_bytes = c.present_unmanaged_bytes;
	if (c.notable) {
		record_mark(&node_desc, row, FI_REASON, false);
		snprintf(row->unmanaged_reason, sizeof(row->unmanaged_reason), "%s", c.reason);
	}
}

void total_row_of(const struct sys_node *nodes, int nr, const struct ms_meminfo *mi,
		  struct node_row *row)
{
	struct sys_node sum;

	memset(&sum, 0, sizeof(sum));
	sum.present = nr ? ~0ULL : 0;
	for (int i = 0; i < nr; i++) {
		sum.present &= nodes[i].present;
		for (int k = 0; k < SN_NR; k++)
			sum.item[k] += nodes[i].item[k];
		sum.nr_zones = nodes[i].nr_zones;
		for (int z = 0; z < SYS_MAX_ZONES && z < (int)nodes[i].nr_zones; z++) {
			sum.zone[z].managed += nodes[i].zone[z].managed;
			sum.zone[z].free += nodes[i].zone[z].free;
			sum.zone[z].mlock += nodes[i].zone[z].mlock;
			sum.zone[z].has_mlock = nodes[i].zone[z].has_mlock;
		}
	}
	node_row_of(&sum, row);
	snprintf(row->scope, sizeof(row->scope), "total");
	record_null(&node_desc, row, "node");
	if (!mi || !meminfo_has(mi, MI_MEM_TOTAL))
		return;
	use_meminfo(row, mi);
	add_coverage(row, nodes, nr, mi);
}

void zone_row_of(const struct sys_node *n, int z, struct zone_row *row)
{
	const struct sys_zone *zn = &n->zone[z];
	uint64_t page = ms_page_size();
	int orders = n->nr_orders < SYS_MAX_ORDERS ? n->nr_orders : SYS_MAX_ORDERS;

	memset(row, 0, sizeof(*row));
	row->node = n->nid;
	memcpy(row->zone, zn->name, sizeof(row->zone));
	row->populated = zn->present != 0;
	row->free_bytes = zn->free * page;
	/* as /proc/zoneinfo prints them: each watermark includes the current boost */
	row->min_bytes = (zn->wmark[0] + zn->boost) * page;
	row->low_bytes = (zn->wmark[1] + zn->boost) * page;
	row->high_bytes = (zn->wmark[2] + zn->boost) * page;
	row->promo_bytes = (zn->wmark[3] + zn->boost) * page;
	if (!zn->has_promo)
		record_null(&zone_desc, row, "promo_bytes");
	row->boost_bytes = zn->boost * page;
	row->free_cma_bytes = zn->free_cma * page;
	if (!zn->has_free_cma)
		record_null(&zone_desc, row, "free_cma_bytes");
	row->present_bytes = zn->present * page;
	row->managed_bytes = zn->managed * page;
	row->spanned_bytes = zn->spanned * page;
	row->nr_protection = n->nr_protection < SYS_MAX_ZONES ? n->nr_protection : SYS_MAX_ZONES;
	for (uint32_t i = 0; i < row->nr_protection; i++)
		row->protection_bytes[i] = zn->protection[i] * (int64_t)page;
	row->nr_orders = orders;
	for (int i = 0; i < orders; i++)
		row->free_blocks[i] = zn->nr_free[i];
	if (!row->populated) {
		record_null(&zone_desc, row, "unusable_index");
		record_null(&zone_desc, row, "fragmentation_index");
		return;
	}
	for (int i = 0; i < orders; i++) {
		row->unusable_index[i] = frag_unusable_index(row->free_blocks, orders, i) / 1000.0;
		row->fragmentation_index[i] = frag_extfrag_index(row->free_blocks, orders, i) / 1000.0;
	}
}

#define NF_FIELD(name, group, label, a, b, m1, m2, m3, help)                               \
	FLD(struct node_row, v[NF_##name], #name "_bytes", label, FT_U64, FU_BYTES, FK_GAUGE, \
	    FF_NULL, help),
static const struct field node_fields[] = {
	FLD(struct node_row, scope, "scope", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "\"total\": the system (/proc/meminfo's figures), \"node\": one NUMA node"),
	FLD(struct node_row, node, "node", NULL, FT_S32, FU_NONE, FK_LABEL, FF_NULL,
	    "node id; null for the total"),
	NODE_FACTS(NF_FIELD)
	FLD(struct node_row, unmanaged_bytes, "unmanaged_bytes", NULL, FT_S64, FU_BYTES,
	    FK_GAUGE, FF_NULL, "total only: MemTotal minus the zones' managed pages"),
	FLD(struct node_row, zones_present_unmanaged_bytes, "zones_present_unmanaged_bytes", NULL,
	    FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	    "total only: pages the zones hold but do not manage (yet)"),
	FLD(struct node_row, unmanaged_reason, "unmanaged_reason", NULL, FT_STR, FU_NONE,
	    FK_LABEL, FF_NULL, "total only: why unmanaged_bytes is beyond 1 %; null when not"),
};
#undef NF_FIELD

const struct record_desc node_desc =
	RECORD_DESC("sys", "the memory of one node, or of the system (memscope sys, the health "
		    "report, oom --detail)", node_fields, struct node_row);

#define Z(m, head, help)                                                                   \
	FLD(struct zone_row, m, #m, head, FT_U64, FU_BYTES, FK_GAUGE, 0, help)
static const struct field zone_fields[] = {
	FLD(struct zone_row, node, "node", "NODE", FT_S32, FU_NONE, FK_LABEL, 0, "node id"),
	FLD(struct zone_row, zone, "zone", "ZONE", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	    "zone name"),
	FLD(struct zone_row, populated, "populated", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "the zone has present pages"),
	Z(free_bytes, "FREE", "free pages"),
	Z(min_bytes, "MIN", "min watermark, boost included (as /proc/zoneinfo)"),
	Z(low_bytes, "LOW", "low watermark, boost included"),
	Z(high_bytes, "HIGH", "high watermark, boost included"),
	FLD(struct zone_row, promo_bytes, "promo_bytes", "PROMO", FT_U64, FU_BYTES, FK_GAUGE,
	    FF_NULL, "promo watermark (6.1+), boost included; null where the kernel has none"),
	Z(boost_bytes, "BOOST", "watermark boost"),
	FLD(struct zone_row, free_cma_bytes, "free_cma_bytes", "FREE_CMA", FT_U64, FU_BYTES,
	    FK_GAUGE, FF_NULL, "free CMA pages; null where the kernel has no CMA counter"),
	Z(present_bytes, "PRESENT", "physical pages in the zone"),
	Z(managed_bytes, "MANAGED", "pages the buddy allocator manages"),
	Z(spanned_bytes, "SPANNED", "the zone's span, holes included"),
	FLD_ARR(struct zone_row, protection_bytes, nr_protection, NULL, "protection_bytes",
		"PROTECTION", FT_S64S, FU_BYTES, FK_GAUGE, 0,
		"lowmem_reserve[]: what an allocation that may use each zone must leave here"),
	FLD_ARR(struct zone_row, free_blocks, nr_orders, "order", "free_blocks", NULL, FT_U64S,
		FU_NONE, FK_GAUGE, 0, "free blocks per order, 0 first (/proc/buddyinfo)"),
	FLD_ARR(struct zone_row, unusable_index, nr_orders, "order", "unusable_index", NULL,
		FT_F64S, FU_NONE, FK_GAUGE, FF_NULL,
		"per order, the fraction of free memory unusable for it (0..1, debugfs "
		"extfrag/unusable_index); null for an empty zone"),
	FLD_ARR(struct zone_row, fragmentation_index, nr_orders, "order", "fragmentation_index",
		NULL, FT_F64S, FU_NONE, FK_GAUGE, FF_NULL,
		"per order, the kernel's extfrag index: toward 1 a failure would be "
		"fragmentation, toward 0 lack of memory, -1 a block is free; null for an empty "
		"zone"),
};

const struct record_desc zone_desc =
	RECORD_DESC("zone", "one zone of a node (sys --zones, paf, oom --detail)", zone_fields,
		    struct zone_row);
#undef Z

static const struct field event_part_fields[] = {
	FLD(struct node_event_part, kind, "kind", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "direct_reclaim, memcg_reclaim, kswapd_wake, compaction or alloc_failure"),
	FLD(struct node_event_part, pid, "pid", NULL, FT_U32, FU_NONE, FK_LABEL, 0,
	    "the process it happened in"),
	FLD(struct node_event_part, comm, "comm", NULL, FT_STR, FU_NONE, FK_LABEL, 0, "its name"),
	FLD(struct node_event_part, order, "order", NULL, FT_S32, FU_NONE, FK_LABEL, FF_NULL,
	    "the allocation order where the event has one"),
};
const struct record_desc node_event_part_desc =
	RECORD_DESC("sys_event.event", "the kernel event", event_part_fields,
		    struct node_event_part);

static const struct field event_fields[] = {
	FLD_REC(struct node_event_row, node, "node", FF_INLINE, &node_desc,
		"the node's record at the event's instant"),
	FLD_REC(struct node_event_row, event, "event", 0, &node_event_part_desc, "the event"),
};
const struct record_desc node_event_desc =
	RECORD_DESC("sys_event", "sys --on: a node at the instant of a kernel event",
		    event_fields, struct node_event_row);
