// SPDX-License-Identifier: GPL-2.0
/* memscope sys: system, node and zone state (sysstat), periodic or at kernel events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "strbuf.h"
#include "commands.h"
#include "frag.h"
#include "hooks.h"
#include "iter.h"
#include "loss.h"
#include "output.h"
#include "runtime.h"
#include "units.h"
#include "textsafe.h"
#include "counters.h"
#include "util.h"
#include "meminfo.h"
#include "sys.h"
#include "sys.skel.h"

enum { ON_RECLAIM = 1, ON_KSWAPD = 2, ON_COMPACTION = 4, ON_FAILURE = 8 };

static struct {
	bool zones, frag;
	unsigned int on;
} cfg;

enum { OPT_ZONES, OPT_FRAG, OPT_ON };

static const struct ms_cmd_opt sys_opts[] = {
	{ "zones", 'z', no_argument, NULL,
	  "per zone: free, watermarks, boost, present/managed/spanned, protection, free blocks "
	  "per order", OPT_ZONES },
	{ "frag", 0, no_argument, NULL,
	  "with the zones, the kernel's unusable-free and fragmentation indices per order",
	  OPT_FRAG },
	{ "on", 0, required_argument, "EVENT[,EVENT]",
	  "snapshot in the kernel when it happens: reclaim, kswapd, compaction, failure", OPT_ON },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

static void sys_parse_opt(int id, const char *arg)
{
	char buf[128], *tok, *save;

	switch (id) {
	case OPT_ZONES:
		cfg.zones = true;
		break;
	case OPT_FRAG:
		cfg.frag = cfg.zones = true;
		break;
	case OPT_ON:
		if (strlen(arg) >= sizeof(buf) || !*arg)
			ms_usage_error("--on: give reclaim, kswapd, compaction or failure");
		ms_check_list("--on", arg);
		strcpy(buf, arg);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!strcmp(tok, "reclaim"))
				cfg.on |= ON_RECLAIM;
			else if (!strcmp(tok, "kswapd"))
				cfg.on |= ON_KSWAPD;
			else if (!strcmp(tok, "compaction"))
				cfg.on |= ON_COMPACTION;
			else if (!strcmp(tok, "failure"))
				cfg.on |= ON_FAILURE;
			else
				ms_usage_error("--on: unknown event '%s' (reclaim, kswapd, compaction, "
					       "failure)", tok);
		}
		break;
	}
}

/* ---- records ---- */

static unsigned long page_size;

static bool has(const struct sys_node *n, int item)
{
	return n->present & (1ULL << item);
}

/* A node counter in bytes, or JSON null when the running kernel has no such counter. */
static json_object *item_bytes(const struct sys_node *n, int item)
{
	long long v;

	if (!has(n, item))
		return NULL;
	v = n->item[item] > 0 ? n->item[item] : 0;
	if (item == SN_KERNEL_STACK_KB)
		return json_u64(v * 1024ULL); /* the kernel counts stacks in KiB */
	return json_u64(v * page_size);	   /* every other counter is in pages */
}

/* Each node's counter clamped as node_page_state_pages() does, then added. */
static json_object *sum_bytes(const struct sys_node *n, int a, int b)
{
	if (!has(n, a) || !has(n, b))
		return NULL;
	return json_u64((counter_nonneg(n->item[a]) + counter_nonneg(n->item[b])) * page_size);
}

/* Sum the nodes into one "total" pseudo-node: /proc/meminfo's view. */
static void total_of(const struct sys_node *nodes, int nr, struct sys_node *t)
{
	memset(t, 0, sizeof(*t));
	t->present = ~0ULL;
	for (int i = 0; i < nr; i++) {
		t->present &= nodes[i].present;
		for (int k = 0; k < SN_NR; k++)
			t->item[k] += nodes[i].item[k];
		t->nr_zones = nodes[i].nr_zones;
		for (int z = 0; z < SYS_MAX_ZONES && z < (int)nodes[i].nr_zones; z++) {
			t->zone[z].managed += nodes[i].zone[z].managed;
			t->zone[z].free += nodes[i].zone[z].free;
			t->zone[z].mlock += nodes[i].zone[z].mlock;
			t->zone[z].has_mlock = nodes[i].zone[z].has_mlock;
		}
	}
	if (!nr)
		t->present = 0;
}

static json_object *node_json(const struct sys_node *n, int nid)
{
	json_object *o = json_object_new_object();
	unsigned long long managed = 0, free = 0, mlock = 0;
	bool has_mlock = true;

	for (int z = 0; z < SYS_MAX_ZONES && z < (int)n->nr_zones; z++) {
		managed += n->zone[z].managed;
		free += n->zone[z].free;
		mlock += n->zone[z].mlock;
		has_mlock &= n->zone[z].has_mlock;
	}
	json_object_object_add(o, "type", json_object_new_string("sys"));
	json_object_object_add(o, "scope", json_object_new_string(nid < 0 ? "total" : "node"));
	json_object_object_add(o, "node", nid < 0 ? NULL : json_object_new_int(nid));
	json_object_object_add(o, "total_bytes", json_u64(managed * page_size));
	json_object_object_add(o, "free_bytes", json_u64(free * page_size));
	/* The kernel computes MemAvailable (and so free(1)'s "used") system-wide only. */
	json_object_object_add(o, "available_bytes", NULL);
	json_object_object_add(o, "used_bytes", NULL);
	json_object_object_add(o, "active_bytes", sum_bytes(n, SN_ACTIVE_ANON, SN_ACTIVE_FILE));
	json_object_object_add(o, "inactive_bytes",
			       sum_bytes(n, SN_INACTIVE_ANON, SN_INACTIVE_FILE));
	json_object_object_add(o, "active_anon_bytes", item_bytes(n, SN_ACTIVE_ANON));
	json_object_object_add(o, "inactive_anon_bytes", item_bytes(n, SN_INACTIVE_ANON));
	json_object_object_add(o, "active_file_bytes", item_bytes(n, SN_ACTIVE_FILE));
	json_object_object_add(o, "inactive_file_bytes", item_bytes(n, SN_INACTIVE_FILE));
	json_object_object_add(o, "unevictable_bytes", item_bytes(n, SN_UNEVICTABLE));
	json_object_object_add(o, "mlocked_bytes", has_mlock ? json_u64(mlock * page_size) : NULL);
	json_object_object_add(o, "dirty_bytes", item_bytes(n, SN_FILE_DIRTY));
	json_object_object_add(o, "writeback_bytes", item_bytes(n, SN_WRITEBACK));
	json_object_object_add(o, "writeback_tmp_bytes", item_bytes(n, SN_WRITEBACK_TEMP));
	json_object_object_add(o, "anon_pages_bytes", item_bytes(n, SN_ANON_MAPPED));
	json_object_object_add(o, "mapped_bytes", item_bytes(n, SN_FILE_MAPPED));
	json_object_object_add(o, "shmem_bytes", item_bytes(n, SN_SHMEM));
	json_object_object_add(o, "file_pages_bytes", item_bytes(n, SN_FILE_PAGES));
	json_object_object_add(o, "swap_cached_bytes", item_bytes(n, SN_SWAPCACHE));
	/* KReclaimable = SReclaimable + NR_KERNEL_MISC_RECLAIMABLE (fs/proc/meminfo.c) */
	json_object_object_add(o, "kreclaimable_bytes",
			       sum_bytes(n, SN_SLAB_RECLAIMABLE_B, SN_KERNEL_MISC_RECLAIMABLE));
	json_object_object_add(o, "slab_bytes",
			       sum_bytes(n, SN_SLAB_RECLAIMABLE_B, SN_SLAB_UNRECLAIMABLE_B));
	/* The *_B slab items are kept in pages in the counters (converted on update). */
	json_object_object_add(o, "sreclaimable_bytes", item_bytes(n, SN_SLAB_RECLAIMABLE_B));
	json_object_object_add(o, "sunreclaim_bytes", item_bytes(n, SN_SLAB_UNRECLAIMABLE_B));
	json_object_object_add(o, "kernel_stack_bytes", item_bytes(n, SN_KERNEL_STACK_KB));
	json_object_object_add(o, "page_tables_bytes", item_bytes(n, SN_PAGETABLE));
	json_object_object_add(o, "nfs_unstable_bytes", item_bytes(n, SN_UNSTABLE_NFS));
	json_object_object_add(o, "anon_huge_pages_bytes", item_bytes(n, SN_ANON_THPS));
	json_object_object_add(o, "shmem_huge_pages_bytes", item_bytes(n, SN_SHMEM_THPS));
	return o;
}

static bool zone_populated(const struct sys_zone *z)
{
	return z->present != 0;
}

static json_object *u64_array(const __u64 *v, int n)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < n; i++)
		json_object_array_add(a, json_u64(v[i]));
	return a;
}

static json_object *zone_json(const struct sys_node *n, int z)
{
	const struct sys_zone *zn = &n->zone[z];
	json_object *o = json_object_new_object(), *prot = json_object_new_array();
	int orders = n->nr_orders < SYS_MAX_ORDERS ? n->nr_orders : SYS_MAX_ORDERS;

	json_object_object_add(o, "type", json_object_new_string("zone"));
	json_object_object_add(o, "node", json_object_new_int(n->nid));
	json_object_object_add(o, "zone", json_object_new_string(zn->name));
	json_object_object_add(o, "populated", json_object_new_boolean(zone_populated(zn)));
	json_object_object_add(o, "free_pages", json_u64(zn->free));
	json_object_object_add(o, "free_bytes", json_u64(zn->free * page_size));
	/* As /proc/zoneinfo prints them: each watermark includes the current boost. */
	json_object_object_add(o, "min_pages", json_u64(zn->wmark[0] + zn->boost));
	json_object_object_add(o, "low_pages", json_u64(zn->wmark[1] + zn->boost));
	json_object_object_add(o, "high_pages", json_u64(zn->wmark[2] + zn->boost));
	json_object_object_add(o, "promo_pages",
			       zn->has_promo ? json_u64(zn->wmark[3] + zn->boost) : NULL);
	json_object_object_add(o, "boost_pages", json_u64(zn->boost));
	json_object_object_add(o, "present_pages", json_u64(zn->present));
	json_object_object_add(o, "managed_pages", json_u64(zn->managed));
	json_object_object_add(o, "spanned_pages", json_u64(zn->spanned));
	json_object_object_add(o, "free_cma_pages", zn->has_free_cma ? json_u64(zn->free_cma) : NULL);
	for (unsigned int i = 0; i < n->nr_protection && i < SYS_MAX_ZONES; i++)
		json_object_array_add(prot, json_object_new_int64(zn->protection[i]));
	json_object_object_add(o, "protection_pages", prot);
	json_object_object_add(o, "free_blocks", u64_array(zn->nr_free, orders));
	if (cfg.frag && zone_populated(zn)) {
		json_object *u = json_object_new_array(), *f = json_object_new_array();
		uint64_t nf[SYS_MAX_ORDERS];

		for (int i = 0; i < orders; i++)
			nf[i] = zn->nr_free[i];
		for (int i = 0; i < orders; i++) {
			json_object_array_add(u, json_object_new_double(
				frag_unusable_index(nf, orders, i) / 1000.0));
			json_object_array_add(f, json_object_new_double(
				frag_extfrag_index(nf, orders, i) / 1000.0));
		}
		json_object_object_add(o, "unusable_index", u);
		json_object_object_add(o, "fragmentation_index", f);
	}
	return o;
}

json_object *sys_node_json(const struct sys_node *n, int nid)
{
	page_size = getpagesize();
	return node_json(n, nid);
}

/* The total record's facts that /proc/meminfo states, and its lines for them. */
static const struct {
	const char *key;
	int n;
	enum mi_item mi[3];
} from_meminfo[] = {
	{ "total_bytes", 1, { MI_MEM_TOTAL } },
	{ "free_bytes", 1, { MI_MEM_FREE } },
	{ "available_bytes", 1, { MI_MEM_AVAILABLE } },
	{ "active_bytes", 1, { MI_ACTIVE } },
	{ "inactive_bytes", 1, { MI_INACTIVE } },
	{ "active_anon_bytes", 1, { MI_ACTIVE_ANON } },
	{ "inactive_anon_bytes", 1, { MI_INACTIVE_ANON } },
	{ "active_file_bytes", 1, { MI_ACTIVE_FILE } },
	{ "inactive_file_bytes", 1, { MI_INACTIVE_FILE } },
	{ "unevictable_bytes", 1, { MI_UNEVICTABLE } },
	{ "mlocked_bytes", 1, { MI_MLOCKED } },
	{ "dirty_bytes", 1, { MI_DIRTY } },
	{ "writeback_bytes", 1, { MI_WRITEBACK } },
	{ "writeback_tmp_bytes", 1, { MI_WRITEBACK_TMP } },
	{ "anon_pages_bytes", 1, { MI_ANON_PAGES } },
	{ "mapped_bytes", 1, { MI_MAPPED } },
	{ "shmem_bytes", 1, { MI_SHMEM } },
	/* fs/proc/meminfo.c: Cached = NR_FILE_PAGES - swap cache - buffers */
	{ "file_pages_bytes", 3, { MI_CACHED, MI_BUFFERS, MI_SWAP_CACHED } },
	{ "swap_cached_bytes", 1, { MI_SWAP_CACHED } },
	{ "kreclaimable_bytes", 1, { MI_KRECLAIMABLE } },
	{ "slab_bytes", 1, { MI_SLAB } },
	{ "sreclaimable_bytes", 1, { MI_SRECLAIMABLE } },
	{ "sunreclaim_bytes", 1, { MI_SUNRECLAIM } },
	{ "kernel_stack_bytes", 1, { MI_KERNEL_STACK } },
	{ "page_tables_bytes", 1, { MI_PAGE_TABLES } },
	{ "nfs_unstable_bytes", 1, { MI_NFS_UNSTABLE } },
	{ "anon_huge_pages_bytes", 1, { MI_ANON_HUGE_PAGES } },
	{ "shmem_huge_pages_bytes", 1, { MI_SHMEM_HUGE_PAGES } },
};

/*
 * Take the kernel's own system-wide figure for each fact /proc/meminfo states. A
 * counter this kernel does not have stays null: meminfo prints 0 for some of those.
 */
static void use_meminfo(json_object *o, const struct ms_meminfo *mi)
{
	for (size_t i = 0; i < ARRAY_SIZE(from_meminfo); i++) {
		json_object *v = NULL;
		uint64_t sum = 0;
		int k;

		json_object_object_get_ex(o, from_meminfo[i].key, &v);
		if (!v && strcmp(from_meminfo[i].key, "available_bytes"))
			continue;
		for (k = 0; k < from_meminfo[i].n && meminfo_has(mi, from_meminfo[i].mi[k]); k++)
			sum += mi->bytes[from_meminfo[i].mi[k]];
		if (k == from_meminfo[i].n)
			json_object_object_add(o, from_meminfo[i].key, json_u64(sum));
	}
	/* free(1) of procps 4: used = total - available */
	if (meminfo_has(mi, MI_MEM_TOTAL) && meminfo_has(mi, MI_MEM_AVAILABLE))
		json_object_object_add(o, "used_bytes",
				       json_u64(counter_nonneg(mi->bytes[MI_MEM_TOTAL] -
							       mi->bytes[MI_MEM_AVAILABLE])));
}

/* How far MemTotal is from what the zones manage, and why. */
static void add_coverage(json_object *o, const struct sys_node *nodes, int nr,
			 const struct ms_meminfo *mi)
{
	uint64_t managed = 0, present = 0;
	struct mem_coverage c;

	if (!meminfo_has(mi, MI_MEM_TOTAL)) {
		json_object_object_add(o, "unmanaged_bytes", NULL);
		json_object_object_add(o, "zones_present_unmanaged_bytes", NULL);
		json_object_object_add(o, "unmanaged_reason", NULL);
		return;
	}
	for (int i = 0; i < nr; i++)
		for (int z = 0; z < (int)nodes[i].nr_zones && z < SYS_MAX_ZONES; z++) {
			managed += nodes[i].zone[z].managed;
			present += nodes[i].zone[z].present;
		}
	mem_coverage(mi->bytes[MI_MEM_TOTAL], managed, present, page_size,
		     kernel_defers_memory_init(), &c);
	json_object_object_add(o, "unmanaged_bytes", json_object_new_int64(c.unmanaged_bytes));
	json_object_object_add(o, "zones_present_unmanaged_bytes",
			       json_u64(c.present_unmanaged_bytes));
	json_object_object_add(o, "unmanaged_reason",
			       c.notable ? json_object_new_string(c.reason) : NULL);
}

/*
 * The "total" record: /proc/meminfo's view (the kernel's own totals), with the
 * node sums where meminfo has no line. mi NULL: /proc/meminfo unreadable.
 */
static json_object *total_json(const struct sys_node *nodes, int nr, const struct ms_meminfo *mi)
{
	struct sys_node t;
	json_object *o;

	total_of(nodes, nr, &t);
	o = node_json(&t, -1);
	if (mi) {
		use_meminfo(o, mi);
		add_coverage(o, nodes, nr, mi);
	}
	return o;
}

json_object *sys_total_json(const struct sys_node *nodes, int nr)
{
	struct ms_meminfo mi;

	page_size = getpagesize();
	return total_json(nodes, nr, meminfo_read(&mi) ? &mi : NULL);
}

json_object *sys_zone_json(const struct sys_node *n, int zone)
{
	page_size = getpagesize();
	return zone_json(n, zone);
}

/* ---- text ---- */

static const struct {
	const char *group, *label, *key;
} text_rows[] = {
	{ "memory", "total", "total_bytes" },
	{ "", "free", "free_bytes" },
	{ "", "available", "available_bytes" },
	{ "", "used", "used_bytes" },
	{ "lru", "active", "active_bytes" },
	{ "", "inactive", "inactive_bytes" },
	{ "", "active anon", "active_anon_bytes" },
	{ "", "inactive anon", "inactive_anon_bytes" },
	{ "", "active file", "active_file_bytes" },
	{ "", "inactive file", "inactive_file_bytes" },
	{ "", "unevictable", "unevictable_bytes" },
	{ "", "mlocked", "mlocked_bytes" },
	{ "pages", "anon", "anon_pages_bytes" },
	{ "", "file", "file_pages_bytes" },
	{ "", "mapped", "mapped_bytes" },
	{ "", "shmem", "shmem_bytes" },
	{ "", "swap cached", "swap_cached_bytes" },
	{ "io", "dirty", "dirty_bytes" },
	{ "", "writeback", "writeback_bytes" },
	{ "", "writeback tmp", "writeback_tmp_bytes" },
	{ "", "nfs unstable", "nfs_unstable_bytes" },
	{ "kernel", "slab", "slab_bytes" },
	{ "", "s reclaimable", "sreclaimable_bytes" },
	{ "", "s unreclaim", "sunreclaim_bytes" },
	{ "", "k reclaimable", "kreclaimable_bytes" },
	{ "", "kernel stack", "kernel_stack_bytes" },
	{ "", "page tables", "page_tables_bytes" },
	{ "huge", "anon THP", "anon_huge_pages_bytes" },
	{ "", "shmem THP", "shmem_huge_pages_bytes" },
};

/* Where MemTotal and the zones disagree: by how much, and why. */
static void print_coverage_note(json_object *total)
{
	json_object *why = NULL, *diff = NULL;
	char buf[32];
	int64_t d;

	if (!json_object_object_get_ex(total, "unmanaged_reason", &why) || !why)
		return;
	json_object_object_get_ex(total, "unmanaged_bytes", &diff);
	d = json_object_get_int64(diff);
	out_printf("note: %s%s of MemTotal %s: %s\n", d < 0 ? "-" : "",
		   fmt_bytes(buf, sizeof(buf), d < 0 ? -d : d),
		   d < 0 ? "beyond what the zones manage" : "in no zone's managed pages",
		   json_object_get_string(why));
	json_object_object_get_ex(total, "zones_present_unmanaged_bytes", &diff);
	out_printf("      the zones hold %s of present pages they do not manage (sys --zones);\n"
		   "      total, free and available are /proc/meminfo's, node columns the "
		   "zones' own\n", fmt_bytes(buf, sizeof(buf), json_object_get_uint64(diff)));
}

static void print_counters_text(json_object **recs, int nr)
{
	char buf[64];

	out_printf("%-7s %-14s", "", "");
	for (int c = 0; c < nr; c++) {
		json_object *node;

		json_object_object_get_ex(recs[c], "node", &node);
		if (node)
			snprintf(buf, sizeof(buf), "node%d", json_object_get_int(node));
		out_printf(" %11s", node ? buf : "total");
	}
	out_printf("\n");
	for (size_t r = 0; r < sizeof(text_rows) / sizeof(text_rows[0]); r++) {
		out_printf("%-7s %-14s", text_rows[r].group, text_rows[r].label);
		for (int c = 0; c < nr; c++) {
			json_object *v = NULL;

			json_object_object_get_ex(recs[c], text_rows[r].key, &v);
			out_printf(" %11s", out_format_value(v, COL_BYTES, buf, sizeof(buf)));
		}
		out_printf("\n");
	}
	print_coverage_note(recs[0]);
}

static const struct ms_col zone_cols[] = {
	{ "NODE", "node", COL_INT, false },
	{ "ZONE", "zone", COL_STR, true },
	{ "FREE", "free_bytes", COL_BYTES, false },
	{ "MIN", "min_bytes", COL_BYTES, false },
	{ "LOW", "low_bytes", COL_BYTES, false },
	{ "HIGH", "high_bytes", COL_BYTES, false },
	{ "PROMO", "promo_bytes", COL_BYTES, false },
	{ "BOOST", "boost_bytes", COL_BYTES, false },
	{ "FREE_CMA", "free_cma_bytes", COL_BYTES, false },
	{ "PRESENT", "present_bytes", COL_BYTES, false },
	{ "MANAGED", "managed_bytes", COL_BYTES, false },
	{ "SPANNED", "spanned_bytes", COL_BYTES, false },
	{ "PROTECTION(pages)", "protection", COL_STR, true },
};

/* Text view of a zone record: the page counts as bytes, lists flattened. */
static json_object *zone_text_row(json_object *z)
{
	static const char *const keys[] = { "min", "low", "high", "promo", "boost", "free_cma",
					     "present", "managed", "spanned" };
	json_object *row = json_object_new_object(), *v;
	char name[32], list[256] = "";
	struct strbuf sb;

	json_object_object_get_ex(z, "node", &v);
	json_object_object_add(row, "node", json_object_get(v));
	json_object_object_get_ex(z, "zone", &v);
	json_object_object_add(row, "zone", json_object_get(v));
	json_object_object_get_ex(z, "free_bytes", &v);
	json_object_object_add(row, "free_bytes", json_object_get(v));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(name, sizeof(name), "%s_pages", keys[i]);
		json_object_object_get_ex(z, name, &v);
		snprintf(name, sizeof(name), "%s_bytes", keys[i]);
		json_object_object_add(row, name,
				       v ? json_u64(json_object_get_uint64(v) * page_size) : NULL);
	}
	json_object_object_get_ex(z, "protection_pages", &v);
	sb_init(&sb, list, sizeof(list));
	for (size_t i = 0; i < json_object_array_length(v); i++)
		sb_add(&sb, "%s%lld", i ? "," : "",
		       (long long)json_object_get_int64(json_object_array_get_idx(v, i)));
	json_object_object_add(row, "protection", json_object_new_string(list));
	return row;
}

static void print_zone_lists_text(json_object **zones, int nr, const char *key, const char *title,
				  bool fraction)
{
	bool header = false;

	for (int i = 0; i < nr; i++) {
		json_object *a, *node, *zone;

		if (!json_object_object_get_ex(zones[i], key, &a))
			continue;
		if (!header) {
			size_t n = json_object_array_length(a);

			out_printf("%-12s", title);
			for (size_t o = 0; o < n; o++)
				out_printf(" %7s%zu", "o", o);
			out_printf("\n");
			header = true;
		}
		json_object_object_get_ex(zones[i], "node", &node);
		json_object_object_get_ex(zones[i], "zone", &zone);
		out_printf("%d %-10s", json_object_get_int(node), json_object_get_string(zone));
		for (size_t o = 0; o < json_object_array_length(a); o++) {
			json_object *v = json_object_array_get_idx(a, o);

			if (fraction)
				out_printf(" %8.3f", json_object_get_double(v));
			else
				out_printf(" %8llu", (unsigned long long)json_object_get_uint64(v));
		}
		out_printf("\n");
	}
}

/* ---- BPF ---- */

static const struct hook_spec sys_hooks[] = {
	HOOK_TP("vmscan:mm_vmscan_direct_reclaim_begin", "sys_direct_reclaim", true),
	HOOK_TP("vmscan:mm_vmscan_memcg_reclaim_begin", "sys_memcg_reclaim", true),
	HOOK_TP("vmscan:mm_vmscan_kswapd_wake", "sys_kswapd_wake", true),
	HOOK_TP("compaction:mm_compaction_begin", "sys_compaction", true),
	HOOK_TP("kmem:mm_page_alloc", "sys_alloc", true),
};
#define NR_SYS_HOOKS (int)(sizeof(sys_hooks) / sizeof(sys_hooks[0]))
/* Which --on event each hook serves. */
static const unsigned int hook_event[NR_SYS_HOOKS] = { ON_RECLAIM, ON_RECLAIM, ON_KSWAPD,
						       ON_COMPACTION, ON_FAILURE };

struct node_list {
	struct sys_node n[SYS_MAX_NODES];
	int nr;
};

static void push_node(const void *rec, void *ctx)
{
	struct node_list *nl = ctx;

	if (nl->nr < SYS_MAX_NODES)
		memcpy(&nl->n[nl->nr++], rec, sizeof(struct sys_node));
}

static void read_nodes(struct bpf_link *iter, struct node_list *out)
{
	out->nr = 0;
	ms_iter_read(iter, sizeof(struct sys_node), push_node, out);
	if (!out->nr)
		ms_fatal("found no memory node: no kswapd thread leads to one on this kernel");
}

static int cmp_nid(const void *a, const void *b)
{
	const struct sys_node *x = a, *y = b;

	return (int)x->nid - (int)y->nid;
}

/* when: the heading; with_total: a "total" column (the system's view now) first. */
static void report(const struct node_list *nl, const char *when, bool with_total)
{
	json_object *recs[SYS_MAX_NODES + 1], *zones[SYS_MAX_NODES * SYS_MAX_ZONES];
	int nrec = 0, nz = 0;

	struct ms_meminfo mi;

	if (with_total)
		recs[nrec++] = total_json(nl->n, nl->nr, meminfo_read(&mi) ? &mi : NULL);
	for (int i = 0; i < nl->nr; i++)
		recs[nrec++] = node_json(&nl->n[i], nl->n[i].nid);
	if (cfg.zones)
		for (int i = 0; i < nl->nr; i++)
			for (int z = 0; z < (int)nl->n[i].nr_zones && z < SYS_MAX_ZONES; z++)
				zones[nz++] = zone_json(&nl->n[i], z);
	if (out_json_mode()) {
		for (int i = 0; i < nrec; i++)
			out_json(recs[i]);
		for (int i = 0; i < nz; i++)
			out_json(zones[i]);
		return;
	}
	if (when)
		out_printf("%s\n", when);
	print_counters_text(recs, nrec);
	if (cfg.zones) {
		struct ms_table *t = table_new(zone_cols, sizeof(zone_cols) / sizeof(zone_cols[0]));
		json_object *populated[SYS_MAX_NODES * SYS_MAX_ZONES];
		int np = 0;

		out_printf("\n");
		for (int i = 0; i < nz; i++)
			table_add(t, zone_text_row(zones[i]));
		table_flush(t);
		table_free(t);
		for (int i = 0; i < nz; i++) {
			json_object *p;

			json_object_object_get_ex(zones[i], "populated", &p);
			if (json_object_get_boolean(p))
				populated[np++] = zones[i];
		}
		out_printf("\n");
		print_zone_lists_text(populated, np, "free_blocks", "free blocks", false);
		if (cfg.frag) {
			out_printf("\n");
			print_zone_lists_text(populated, np, "unusable_index", "unusable", true);
			out_printf("\n");
			print_zone_lists_text(populated, np, "fragmentation_index", "extfrag", true);
		}
	}
	out_printf("\n");
	out_flush();
	for (int i = 0; i < nrec; i++)
		json_object_put(recs[i]);
	for (int i = 0; i < nz; i++)
		json_object_put(zones[i]);
}

static const char *event_name(__u32 kind)
{
	switch (kind) {
	case SYS_EV_DIRECT_RECLAIM: return "direct_reclaim";
	case SYS_EV_MEMCG_RECLAIM: return "memcg_reclaim";
	case SYS_EV_KSWAPD_WAKE: return "kswapd_wake";
	case SYS_EV_COMPACTION: return "compaction";
	case SYS_EV_ALLOC_FAILURE: return "alloc_failure";
	default: return "?";
	}
}

struct event_ctx {
	long seen, limit;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct event_ctx *ec = ctx;
	const struct sys_event *e = data;
	double ts = ms_boot_ns_to_real(e->ts_ns);
	json_object *rec;
	char when[160], tbuf[32];
	time_t secs = (time_t)ts;
	struct tm tm;

	if (len < sizeof(*e) || (ec->limit && ec->seen >= ec->limit))
		return 0;
	ec->seen++;
	localtime_r(&secs, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	if (out_json_mode()) {
		json_object *ev = json_object_new_object();

		rec = node_json(&e->node, e->node.nid);
		json_object_object_add(ev, "kind", json_object_new_string(event_name(e->kind)));
		json_object_object_add(ev, "pid", json_object_new_int(e->pid));
		json_object_object_add(ev, "comm", json_object_new_string_len(
			e->comm, strnlen(e->comm, sizeof(e->comm))));
		json_object_object_add(ev, "order", (int)e->order >= 0 ?
				       json_object_new_int(e->order) : NULL);
		json_object_object_add(ev, "ts", json_object_new_double(ts));
		json_object_object_add(rec, "event", ev);
		out_json(rec);
		if (cfg.zones)
			for (int z = 0; z < (int)e->node.nr_zones && z < SYS_MAX_ZONES; z++) {
				json_object *zr = zone_json(&e->node, z);

				json_object_object_add(zr, "event_ts", json_object_new_double(ts));
				out_json(zr);
			}
	} else {
		struct node_list one;

		char order[24] = "", cbuf[COMM_TEXT_LEN];

		if ((int)e->order >= 0)
			snprintf(order, sizeof(order), ", order %d", (int)e->order);
		snprintf(when, sizeof(when), "%s.%03d  %s by pid %u (%s)%s — node %u:", tbuf,
			 (int)((ts - secs) * 1000), event_name(e->kind), e->pid,
			 comm_text(e->comm, cbuf), order,
			 e->node.nid);
		one.n[0] = e->node;
		one.nr = 1;
		/* the node's own view, not a total of one node */
		report(&one, when, false);
	}
	if (ec->limit && ec->seen >= ec->limit)
		ms_request_stop(MS_STOP_DONE);
	return 0;
}

static int run_on_events(struct sys_bpf *skel, const struct ms_opts *o)
{
	struct event_ctx ec = { .limit = o->count };
	int err = sys_bpf__attach(skel);

	if (err)
		ms_bpf_fail("attaching sys's BPF programs", err);
	if (!out_json_mode()) {
		out_printf("waiting for events; Ctrl-C to stop\n");
		out_flush();
	}
	ms_ringbuf_run(bpf_map__fd(skel->maps.events), on_event, &ec, o->duration);
	struct ms_loss lost = { "snapshots", "snapshots lost: the ring buffer was full",
				&skel->bss->nr_lost, 0 };

	ms_report_losses("sys", &lost, 1);
	return 0;
}

/*
 * Load sys's programs: the node iterator, and the programs of the --on events
 * in `on` (0: none). Attaches the iterator; exits 1 on failure.
 */
static struct sys_bpf *sys_load(unsigned int on, struct bpf_link **iter)
{
	struct sys_bpf *skel;
	int chosen[NR_SYS_HOOKS], err;
	char why[256];

	ms_require_bpf();
	skel = sys_bpf__open_opts(ms_bpf_open_opts());
	if (!skel)
		ms_bpf_fail("opening sys's BPF object", errno);
	ms_test_map_sizes(skel->obj);
	if (on) {
		if (hooks_select(skel->obj, sys_hooks, NR_SYS_HOOKS, chosen, why, sizeof(why)))
			ms_fatal("%s", why);
		for (int i = 0; i < NR_SYS_HOOKS; i++) {
			if (!(on & hook_event[i]))
				for (int v = 0; v < HOOK_MAX_VARIANTS && sys_hooks[i].v[v].prog; v++)
					bpf_program__set_autoload(bpf_object__find_program_by_name(
						skel->obj, sys_hooks[i].v[v].prog), false);
			else if (chosen[i] == HOOK_NONE)
				ms_fatal("--on: no working hook for %s on this kernel",
					 sys_hooks[i].name);
		}
	} else {
		struct bpf_program *p;

		bpf_object__for_each_program(p, skel->obj)
			bpf_program__set_autoload(p, p == skel->progs.sys_nodes);
	}
	err = sys_bpf__load(skel);
	if (err)
		ms_bpf_fail("loading sys's BPF programs", err);
	*iter = bpf_program__attach_iter(skel->progs.sys_nodes, NULL);
	if (!*iter)
		ms_bpf_fail("attaching the node iterator", errno);
	return skel;
}

int sys_read_nodes(struct sys_node *out, int max)
{
	struct node_list *nl = calloc(1, sizeof(*nl));
	struct bpf_link *iter;
	struct sys_bpf *skel;
	int n;

	if (!nl)
		ms_fatal("out of memory");
	skel = sys_load(0, &iter);
	read_nodes(iter, nl);
	qsort(nl->n, nl->nr, sizeof(nl->n[0]), cmp_nid);
	n = nl->nr < max ? nl->nr : max;
	memcpy(out, nl->n, n * sizeof(*out));
	bpf_link__destroy(iter);
	sys_bpf__destroy(skel);
	free(nl);
	return n;
}

static int sys_run(const struct ms_opts *o)
{
	struct sys_bpf *skel;
	struct bpf_link *iter;
	struct node_list *nl = calloc(1, sizeof(*nl));
	int err = 0;

	page_size = getpagesize();
	if (!nl)
		ms_fatal("out of memory");
	skel = sys_load(cfg.on, &iter);
	/* The first pass also records each node's pglist_data for the event programs. */
	read_nodes(iter, nl);
	qsort(nl->n, nl->nr, sizeof(nl->n[0]), cmp_nid);

	if (cfg.on) {
		err = run_on_events(skel, o);
	} else if (!o->interval && !o->count && !o->duration) {
		report(nl, NULL, true);
	} else {
		struct ms_ticker tk;
		bool first = true;

		ticker_init(&tk, o->interval, o->count, o->duration);
		/* The first report comes at once; then one per interval. */
		tk.next_ns = ms_now_ns();
		while (ticker_wait(&tk)) {
			char when[32];
			time_t now = time(NULL);
			struct tm tm;

			if (!first)
				read_nodes(iter, nl);
			first = false;
			qsort(nl->n, nl->nr, sizeof(nl->n[0]), cmp_nid);
			localtime_r(&now, &tm);
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
			report(nl, when, true);
		}
	}
	bpf_link__destroy(iter);
	sys_bpf__destroy(skel);
	free(nl);
	return err;
}

const struct ms_cmd cmd_sys = {
	.name = "sys",
	.summary = "system, node and zone memory state: LRU, dirty, slab, THP, free, watermarks, "
		   "fragmentation",
	.details =
		"Reads each node's and zone's own counters in the kernel (found through each\n"
		"node's kswapd thread), with counter indices relocated by CO-RE. A counter the\n"
		"running kernel does not have is shown as '-' (null in JSON), never as 0.\n"
		"Without -i/-c/-d: one report. With --on EVENT the snapshot is taken inside the\n"
		"kernel at the instant the event happens (-c: that many snapshots).",
	.examples = "  memscope sys                         one report, total and per node\n"
		    "  memscope sys --zones --frag          watermarks, free blocks, fragmentation\n"
		    "  memscope sys -i 1 -d 60 -j           a minute of samples as NDJSON\n"
		    "  memscope sys --on reclaim,failure -c 5   state at the moment of reclaim\n",
	.shared = MS_OPT_LOOP,
	.opts = sys_opts,
	.parse_opt = sys_parse_opt,
	.run = sys_run,
	.hooks = sys_hooks,
	.nr_hooks = NR_SYS_HOOKS,
};
