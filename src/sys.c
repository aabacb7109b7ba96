// SPDX-License-Identifier: GPL-2.0
/* memscope sys: system, node and zone state (sysstat), periodic or at kernel events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "loss.h"
#include "meminfo.h"
#include "memowners.h"
#include "memparts.h"
#include "nodes.h"
#include "output.h"
#include "record.h"
#include "runtime.h"
#include "textsafe.h"
#include "units.h"
#include "util.h"

static struct {
	bool zones, frag, owners;
	unsigned int on; /* NODES_ON_* */
} cfg;

enum { OPT_ZONES, OPT_FRAG, OPT_ON, OPT_OWNERS };

static const struct ms_cmd_opt sys_opts[] = {
	{ "zones", 'z', no_argument, NULL,
	  "per zone: free, watermarks, boost, present/managed/spanned, protection, free blocks "
	  "per order", OPT_ZONES },
	{ "frag", 0, no_argument, NULL,
	  "with the zones, the kernel's unusable-free and fragmentation indices per order",
	  OPT_FRAG },
	{ "on", 0, required_argument, "EVENT[,EVENT]",
	  "snapshot in the kernel when it happens: reclaim, kswapd, compaction, failure", OPT_ON },
	{ "owners", 0, no_argument, NULL,
	  "with the accounting of MemTotal, each part's largest holders: processes and "
	  "cgroups (anonymous), files (page cache), caches (slab)", OPT_OWNERS },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

static const struct {
	const char *name;
	unsigned int bit;
} on_names[] = {
	{ "reclaim", NODES_ON_RECLAIM },
	{ "kswapd", NODES_ON_KSWAPD },
	{ "compaction", NODES_ON_COMPACTION },
	{ "failure", NODES_ON_FAILURE },
};

static const char *on_value(int i)
{
	return i >= 0 && i < (int)ARRAY_SIZE(on_names) ? on_names[i].name : NULL;
}

static const struct ms_opt_value sys_values[] = {
	{ "on", MS_ARG_WORDS, on_value },
	{ NULL, 0, NULL },
};

static void parse_on(const char *arg)
{
	char buf[128], *tok, *save;

	if (strlen(arg) >= sizeof(buf) || !*arg)
		ms_usage_error("--on: give reclaim, kswapd, compaction or failure");
	ms_check_list("--on", arg);
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(on_names) && strcmp(tok, on_names[i].name); i++)
			;
		if (i == ARRAY_SIZE(on_names))
			ms_usage_error("--on: unknown event '%s' (reclaim, kswapd, compaction, "
				       "failure)", tok);
		cfg.on |= on_names[i].bit;
	}
}

static void sys_parse_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_ZONES:
		cfg.zones = true;
		break;
	case OPT_FRAG:
		cfg.frag = cfg.zones = true;
		break;
	case OPT_ON:
		parse_on(arg);
		break;
	case OPT_OWNERS:
		cfg.owners = true;
		break;
	}
}

/* ---- text ---- */

/* Where MemTotal and the zones disagree: by how much, and why. */
static void print_coverage_note(const struct node_row *total)
{
	char a[32], b[32], text[512];
	int64_t d = total->unmanaged_bytes;

	if (record_is_null(&node_desc, total, "unmanaged_reason"))
		return;
	snprintf(text, sizeof(text), "%s%s of MemTotal %s: %s. The zones hold %s of present "
		 "pages they do not manage (sys --zones); total, free and available are "
		 "/proc/meminfo's, node columns the zones' own.", d < 0 ? "-" : "",
		 fmt_bytes(a, sizeof(a), d < 0 ? -d : d),
		 d < 0 ? "beyond what the zones manage" : "in no zone's managed pages",
		 total->unmanaged_reason,
		 fmt_bytes(b, sizeof(b), total->zones_present_unmanaged_bytes));
	out_wrap("note: ", "      ", text);
}

/* One column per record (the total, then each node), one line per fact. */
static void print_counters(const struct node_row *rows, int nr)
{
	char buf[64];

	out_printf("%-7s %-14s", "", "");
	for (int c = 0; c < nr; c++) {
		if (strcmp(rows[c].scope, "total"))
			snprintf(buf, sizeof(buf), "node%d", rows[c].node);
		out_printf(" %11s", strcmp(rows[c].scope, "total") ? buf : "total");
	}
	out_printf("\n");
	for (int f = 0; f < NF_NR; f++) {
		const struct field *fd = &node_desc.fields[2 + f];

		out_printf("%-7s %-14s", node_fact_group[f], fd->head);
		for (int c = 0; c < nr; c++)
			out_printf(" %11s", record_text(&node_desc, &rows[c], fd->key, buf,
							sizeof(buf)));
		out_printf("\n");
	}
	if (!strcmp(rows[0].scope, "total"))
		print_coverage_note(&rows[0]);
}

/* Per order, one line per populated zone: free blocks, or a fragmentation index. */
static void print_orders(const struct zone_row *z, int nr, const char *title, int which)
{
	static char keys[SYS_MAX_ORDERS][8];
	struct ms_col cols[2 + SYS_MAX_ORDERS] = {
		{ "NODE", "node", COL_INT, false, true }, { title, "zone", COL_STR, true, true },
	};
	uint32_t orders = 0;
	struct ms_table *t;

	for (int i = 0; i < nr; i++)
		if (z[i].populated && z[i].nr_orders > orders)
			orders = z[i].nr_orders;
	for (uint32_t o = 0; o < orders; o++) {
		snprintf(keys[o], sizeof(keys[o]), "o%u", o);
		cols[2 + o] = (struct ms_col){ keys[o], keys[o], which ? COL_FLOAT3 : COL_INT, false,
					       false };
	}
	t = table_new(cols, 2 + orders);
	for (int i = 0; i < nr; i++) {
		json_object *row;

		if (!z[i].populated)
			continue;
		row = json_object_new_object();
		json_object_object_add(row, "node", json_object_new_int(z[i].node));
		json_object_object_add(row, "zone", json_object_new_string(z[i].zone));
		for (uint32_t o = 0; o < z[i].nr_orders && o < orders; o++)
			json_object_object_add(row, keys[o], which == 0 ? json_u64(z[i].free_blocks[o])
						: json_object_new_double(which == 1 ?
							z[i].unusable_index[o] : z[i].fragmentation_index[o]));
		table_add(t, row);
	}
	table_flush(t);
	table_free(t);
}

static void print_zones(const struct zone_row *z, int nr, double ts)
{
	struct ms_col cols[24];
	struct ms_table *t = table_new(cols, record_cols(&zone_desc, cols, ARRAY_SIZE(cols), 0));

	out_printf("\n");
	for (int i = 0; i < nr; i++)
		table_add(t, record_json(&zone_desc, &z[i], ts));
	table_flush(t);
	table_free(t);
	out_printf("\n");
	print_orders(z, nr, "free blocks", 0);
	if (cfg.frag) {
		out_printf("\nunusable: the fraction of free memory too fragmented for the order\n");
		print_orders(z, nr, "unusable", 1);
		out_printf("\nextfrag: toward 1 a failure would be fragmentation, toward 0 lack of\n"
			   "         memory; -1.000: a block of the order is free\n");
		print_orders(z, nr, "extfrag", 2);
	}
}

/* ---- a report ---- */

struct report {
	struct node_row rows[SYS_MAX_NODES + 1];
	struct zone_row zones[SYS_MAX_NODES * SYS_MAX_ZONES];
	int nrows, nzones;
	/* the system's view: every byte of MemTotal in a part, and who holds them */
	struct mem_accounting acc;
	bool has_acc;
	struct mem_owner owners[24];
	int nowners;
	char owners_why[256];
};

/* The records of these nodes; with_total: the system's view first. */
static void gather(const struct sys_node *nodes, int nr, bool with_total, struct report *r)
{
	struct ms_meminfo mi;

	r->nrows = r->nzones = 0;
	if (with_total)
		total_row_of(nodes, nr, meminfo_read(&mi) ? &mi : NULL, &r->rows[r->nrows++]);
	r->has_acc = with_total && mem_accounting_read(&r->acc);
	r->nowners = r->has_acc && cfg.owners ?
		     mem_owners_read(r->owners, ARRAY_SIZE(r->owners), r->owners_why,
				     sizeof(r->owners_why)) : 0;
	for (int i = 0; i < nr; i++)
		node_row_of(&nodes[i], &r->rows[r->nrows++]);
	if (cfg.zones)
		for (int i = 0; i < nr; i++)
			for (int z = 0; z < (int)nodes[i].nr_zones && z < SYS_MAX_ZONES; z++)
				zone_row_of(&nodes[i], z, &r->zones[r->nzones++]);
}

/* when: the heading in text; ev: the kernel event of the snapshot (--on), or NULL. */
static void render(const struct report *r, const char *when, double ts,
		   const struct node_event_part *ev)
{
	if (out_json_mode()) {
		for (int i = 0; i < r->nrows; i++) {
			struct node_event_row er = { .node = r->rows[i] };

			if (ev)
				er.event = *ev;
			out_json(ev ? record_json(&node_event_desc, &er, ts)
				    : record_json(&node_desc, &r->rows[i], ts));
		}
		for (int i = 0; i < r->nzones; i++)
			out_json(record_json(&zone_desc, &r->zones[i], ts));
		if (r->has_acc)
			out_json(record_json(&mem_accounting_desc, &r->acc, ts));
		for (int i = 0; i < r->nowners; i++)
			out_json(record_json(&mem_owner_desc, &r->owners[i], ts));
		return;
	}
	if (when)
		out_printf("%s\n", when);
	print_counters(r->rows, r->nrows);
	if (r->has_acc) {
		out_printf("\n");
		mem_accounting_print(&r->acc, r->owners, r->nowners, false);
		if (r->owners_why[0])
			out_wrap("  not named: ", "    ", r->owners_why);
	}
	if (cfg.zones)
		print_zones(r->zones, r->nzones, ts);
	out_printf("\n");
	out_flush();
}

/* ---- at kernel events (--on) ---- */

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
	struct report r;
};

static void event_part_of(const struct sys_event *e, struct node_event_part *ev)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->kind, sizeof(ev->kind), "%s", event_name(e->kind));
	ev->pid = e->pid;
	memcpy(ev->comm, e->comm, sizeof(ev->comm));
	ev->order = e->order;
	if ((int)e->order < 0)
		record_null(&node_event_part_desc, ev, "order");
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct event_ctx *ec = ctx;
	const struct sys_event *e = data;
	double ts = ms_boot_ns_to_real(e->ts_ns);
	char when[192], clock[24], order[24] = "", comm[COMM_TEXT_LEN];
	struct node_event_part ev;

	if (len < sizeof(*e) || (ec->limit && ec->seen >= ec->limit))
		return 0;
	ec->seen++;
	if ((int)e->order >= 0)
		snprintf(order, sizeof(order), ", order %d", (int)e->order);
	snprintf(when, sizeof(when), "%s  %s by pid %u (%s)%s %s node %u:",
		 fmt_clock(clock, sizeof(clock), ts, true), event_name(e->kind), e->pid,
		 comm_text(e->comm, comm), order, out_dash(), e->node.nid);
	/* the node's own view at that instant, not a total of one node */
	gather(&e->node, 1, false, &ec->r);
	event_part_of(e, &ev);
	render(&ec->r, when, ts, &ev);
	if (ec->limit && ec->seen >= ec->limit)
		ms_request_stop(MS_STOP_DONE);
	return 0;
}

static void run_on_events(struct nodes *n, const struct ms_opts *o)
{
	struct event_ctx *ec = calloc(1, sizeof(*ec));
	struct ms_loss lost = { "snapshots", "snapshots lost: the ring buffer was full",
				nodes_lost(n), 0 };

	if (!ec)
		ms_fatal("out of memory");
	ec->limit = o->count;
	nodes_attach_events(n);
	if (!out_json_mode()) {
		out_printf("waiting for events; Ctrl-C to stop\n");
		out_flush();
	}
	ms_ringbuf_run(nodes_events_fd(n), on_event, ec, o->duration);
	ms_report_losses("sys", &lost, 1);
	free(ec);
}

static int sys_run(const struct ms_opts *o)
{
	struct sys_node *nodes = calloc(SYS_MAX_NODES, sizeof(*nodes));
	struct report *r = calloc(1, sizeof(*r));
	struct nodes *n;
	struct ms_ticker tk;
	int nr;

	if (!nodes || !r)
		ms_fatal("out of memory");
	n = nodes_open(cfg.on);
	/* The first pass also finds each node for the event programs. */
	nr = nodes_read(n, nodes, SYS_MAX_NODES);
	if (cfg.on) {
		run_on_events(n, o);
	} else if (!o->interval && !o->count && !o->duration) {
		gather(nodes, nr, true, r);
		render(r, NULL, ms_wall_now(), NULL);
	} else {
		ticker_init(&tk, o->interval, o->count, o->duration);
		tk.next_ns = ms_now_ns(); /* the first report at once, then one per interval */
		for (bool first = true; ticker_wait(&tk); first = false) {
			double ts = ms_wall_now();
			char when[24];

			if (!first)
				nr = nodes_read(n, nodes, SYS_MAX_NODES);
			gather(nodes, nr, true, r);
			render(r, fmt_clock(when, sizeof(when), ts, false), ts, NULL);
		}
	}
	nodes_close(n);
	free(nodes);
	free(r);
	return 0;
}

const struct ms_cmd cmd_sys = {
	.name = "sys",
	.summary = "system, node and zone memory state: LRU, dirty, slab, THP, free, watermarks, "
		   "fragmentation",
	.details =
		"Reads each node's and zone's own counters in the kernel (the nodes found\n"
		"through a kswapd thread and its node's fallback zonelist, in a container\n"
		"too), with counter indices relocated by CO-RE. The total\n"
		"column is the kernel's own /proc/meminfo; where the zones manage less than\n"
		"MemTotal counts (memory not yet initialized, hot-plug, balloons) a note says\n"
		"by how much and why. A counter the running kernel does not have is shown as\n"
		"'-' (null in JSON), never as 0.\n"
		"Then every byte of MemTotal in one part (free, anonymous, page cache, shmem,\n"
		"slab, page tables, stacks, vmalloc, per-CPU, hugetlb, zswap...), the parts\n"
		"summing to it exactly: 'other kernel' is what no counter names (drivers and\n"
		"other direct callers of the page allocator). --owners names each part's\n"
		"largest holders.\n"
		"Without -i/-c/-d: one report. With --on EVENT the snapshot is taken inside the\n"
		"kernel at the instant the event happens (-c: that many snapshots).",
	.examples = "  memscope sys                         one report, total and per node\n"
		    "  memscope sys --zones --frag          watermarks, free blocks, fragmentation\n"
		    "  memscope sys -i 1 -d 60 -j           a minute of samples as NDJSON\n"
		    "  memscope sys --on reclaim,failure -c 5   state at the moment of reclaim\n"
		    "  memscope sys --owners                every byte of MemTotal and who holds it\n",
	.shared = MS_OPT_LOOP,
	.opts = sys_opts,
	.parse_opt = sys_parse_opt,
	.run = sys_run,
	.hooks = nodes_hooks,
	.nr_hooks = NODES_NR_HOOKS,
	.records = (const struct record_desc *const[]){ &node_desc, &zone_desc, &node_event_desc,
		&node_event_part_desc, &mem_accounting_desc, &mem_owner_desc, &lost_desc, NULL },
	.values = sys_values,
};
