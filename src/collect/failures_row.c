// SPDX-License-Identifier: GPL-2.0
/* A page allocation failure event as the "paf" record: flags, zones, slow path, verdict. */
#include <stdio.h>
#include <string.h>
#include "counters.h"
#include "failures.h"
#include "kbtf.h"
#include "msg.h"
#include "runtime.h"
#include "strbuf.h"
#include "units.h"
#include "util.h"
#include "verdict.h"

void paf_decoder_init(struct paf_decoder *d, bool stack)
{
	memset(d, 0, sizeof(*d));
	d->migrate_movable = -1;
	if (gfp_table_load(&d->gfp) < 0)
		ms_warn("cannot read the kernel's GFP flag names; flags print in hex");
	kbtf_enum_value("MIGRATE_MOVABLE", &d->migrate_movable);
	kbtf_enum_copy("migratetype", "MIGRATE_", &d->migratetype);
	kbtf_enum_copy("compact_result", "COMPACT_", &d->compact_result);
	kbtf_enum_copy("compact_priority", "COMPACT_PRIO_", &d->compact_priority);
	if (stack && !(d->ksyms = ksyms_load(NULL)))
		ms_fatal("--stack: cannot read /proc/kallsyms");
}

void paf_decoder_free(struct paf_decoder *d)
{
	ksyms_free(d->ksyms);
	d->ksyms = NULL;
}

/* The highest zone the request may use: gfp_zone() from the kernel's own flag bits. */
static int highest_zone(const struct paf_decoder *d, const struct sys_node *n, unsigned long mask)
{
	const char *want = "Normal";
	unsigned long highmem = gfp_flag_mask(&d->gfp, "__GFP_HIGHMEM");

	if (mask & gfp_flag_mask(&d->gfp, "__GFP_DMA"))
		want = "DMA";
	else if (mask & gfp_flag_mask(&d->gfp, "__GFP_DMA32"))
		want = "DMA32";
	else if ((mask & highmem) && (mask & gfp_flag_mask(&d->gfp, "__GFP_MOVABLE")))
		want = "Movable";
	else if (mask & highmem)
		want = "HighMem";
	for (int pass = 0; pass < 2; pass++) {
		for (int z = 0; z < (int)n->nr_zones && z < SYS_MAX_ZONES; z++)
			if (!strcmp(n->zone[z].name, want))
				return z;
		want = "Normal"; /* no HighMem on 64-bit kernels */
	}
	return n->nr_zones - 1;
}

static bool has_flag(const struct paf_decoder *d, unsigned long mask, const char *name)
{
	unsigned long m = gfp_flag_mask(&d->gfp, name);

	return m && (mask & m) == m;
}

static void story_text(const struct paf_decoder *d, const struct paf_event *e, char *buf,
		       size_t len)
{
	const struct paf_story *s = &e->story;
	char dur[32], res[48];
	struct strbuf sb;

	sb_init(&sb, buf, len);
	if (!e->has_story) {
		snprintf(buf, len, "none seen (no direct reclaim, compaction or retry)");
		return;
	}
	if (s->reclaim_count)
		sb_add(&sb, "direct reclaim x%u (reclaimed %llu page%s, %s)", s->reclaim_count,
		       (unsigned long long)s->reclaimed, s->reclaimed == 1 ? "" : "s",
		       fmt_duration_ns(dur, sizeof(dur), s->reclaim_ns));
	if (s->compact_tries || s->compact_retries) {
		sb_sep(&sb, "; ");
		sb_add(&sb, "compaction x%u%s%s", s->compact_tries,
		       s->compact_retries ? ", last result " : "",
		       s->compact_retries ? kbtf_enum_text(&d->compact_result, s->compact_result,
						       res, sizeof(res)) : "");
	}
	if (s->retry_zone_count) {
		sb_sep(&sb, "; ");
		sb_add(&sb, "%u reclaim retries, up to %u without progress", s->retry_zone_count,
		       s->max_no_progress_loops);
	}
	if (!sb.off)
		snprintf(buf, len, "slow path entered, nothing tried");
}

/*
 * The zones the allocation could use (up to hi), as sys records them, with what this
 * allocation had to leave in each (its lowmem reserve) and the free blocks it could use;
 * and the same for the verdict.
 */
static void zones_of(const struct paf_event *e, int hi, struct paf_row *r,
		     struct verdict_input *vin)
{
	const struct sys_node *n = &e->node;

	vin->nr_zones = 0;
	for (int z = 0; z <= hi && z < SYS_MAX_ZONES; z++) {
		const struct sys_zone *zn = &n->zone[z];
		struct verdict_zone *vz = &vin->zone[vin->nr_zones++];
		struct paf_zone_row *pz = &r->zones[r->nr_zones++];

		vz->name = zn->name;
		vz->populated = zn->present != 0;
		vz->free = zn->free;
		vz->free_cma = zn->free_cma;
		vz->min = zn->wmark[0] + zn->boost;
		vz->low = zn->wmark[1] + zn->boost;
		vz->reserve = hi < (int)n->nr_protection ? zn->protection[hi] : 0;
		for (unsigned int i = 0; i < n->nr_orders && i < VERDICT_MAX_ORDERS; i++)
			vz->nr_free[i] = zn->nr_free[i];
		zone_row_of(n, z, &pz->zone);
		pz->reserve_bytes = counter_nonneg(vz->reserve) * ms_page_size();
		for (unsigned int i = e->order; i < n->nr_orders && i < SYS_MAX_ORDERS; i++)
			pz->free_blocks_from_order[pz->nr_blocks++] = zn->nr_free[i];
	}
}

/* The kernel stack of the failure, symbolized, without memscope's own frames. */
static void stack_of(const struct paf_decoder *d, const struct paf_event *e, struct paf_row *r)
{
	int n = e->stack_bytes > 0 ? e->stack_bytes / 8 : 0;

	if (n > PAF_MAX_STACK)
		n = PAF_MAX_STACK;
	for (int i = ksyms_stack_start(d->ksyms, (const uint64_t *)e->stack, n); i < n; i++)
		ksyms_format(d->ksyms, e->stack[i], r->stack[r->nr_stack++], sizeof(r->stack[0]));
}

/* What the verdict needs of the failure: its flags, and the slow path's story. */
static void verdict_input_of(const struct paf_decoder *d, const struct paf_event *e,
			     struct verdict_input *vin, char *res, size_t res_len)
{
	memset(vin, 0, sizeof(*vin));
	vin->order = e->order;
	vin->page_size = ms_page_size();
	vin->nr_orders = e->node.nr_orders;
	vin->has_zones = e->has_node;
	vin->can_use_cma = d->migrate_movable >= 0 && e->migratetype == d->migrate_movable;
	vin->direct_reclaim = has_flag(d, e->gfp, "__GFP_DIRECT_RECLAIM");
	vin->noretry = has_flag(d, e->gfp, "__GFP_NORETRY");
	vin->retry_mayfail = has_flag(d, e->gfp, "__GFP_RETRY_MAYFAIL");
	vin->nofail = has_flag(d, e->gfp, "__GFP_NOFAIL");
	vin->thisnode = has_flag(d, e->gfp, "__GFP_THISNODE");
	vin->nowarn = has_flag(d, e->gfp, "__GFP_NOWARN");
	vin->available = e->has_node ? node_available_pages(&e->node) : -1;
	for (int z = 0; e->has_node && z < (int)e->node.nr_zones && z < SYS_MAX_ZONES; z++)
		vin->managed += e->node.zone[z].managed;
	vin->has_story = e->has_story;
	if (!e->has_story)
		return;
	vin->reclaim_count = e->story.reclaim_count;
	vin->reclaimed = e->story.reclaimed;
	vin->compact_tries = e->story.compact_tries;
	vin->compact_retries = e->story.compact_retries;
	vin->retry_zone_count = e->story.retry_zone_count;
	vin->max_no_progress_loops = e->story.max_no_progress_loops;
	if (e->story.compact_retries)
		vin->compact_result = kbtf_enum_text(&d->compact_result, e->story.compact_result,
						     res, res_len);
}

static void slow_path_of(const struct paf_decoder *d, const struct paf_event *e,
			 struct paf_row *r)
{
	const struct paf_story *s = &e->story;
	struct paf_slow_path_row *sp = &r->slow_path;

	if (!e->has_story) {
		record_null(&paf_desc, r, "slow_path");
		return;
	}
	sp->direct_reclaims = s->reclaim_count;
	sp->reclaimed_pages = s->reclaimed;
	sp->reclaim_ns = s->reclaim_ns;
	sp->compaction_tries = s->compact_tries;
	sp->compact_retries = s->compact_retries;
	if (s->compact_retries) {
		kbtf_enum_text(&d->compact_result, s->compact_result, sp->last_compact_result,
			       sizeof(sp->last_compact_result));
		kbtf_enum_text(&d->compact_priority, s->compact_priority,
			       sp->last_compact_priority, sizeof(sp->last_compact_priority));
	} else {
		record_null(&paf_slow_path_desc, sp, "last_compact_result");
		record_null(&paf_slow_path_desc, sp, "last_compact_priority");
	}
	sp->reclaim_retries = s->retry_zone_count;
	sp->max_no_progress_loops = s->max_no_progress_loops;
	sp->duration_ns = s->last_ns - s->first_ns;
}

void paf_row_of(const struct paf_decoder *d, const struct paf_event *e, struct paf_row *r)
{
	struct verdict_input vin;
	char res[48];

	memset(r, 0, sizeof(*r));
	r->pid = e->pid;
	r->tid = e->tid;
	memcpy(r->comm, e->comm, sizeof(r->comm));
	r->order = e->order;
	r->size_bytes = (uint64_t)ms_page_size() << e->order;
	r->gfp = e->gfp;
	r->nr_gfp_flags = gfp_names(&d->gfp, e->gfp, r->gfp_flags, GFP_MAX_NAMES);
	kbtf_enum_text(&d->migratetype, e->migratetype, r->migratetype, sizeof(r->migratetype));
	r->cpu_node = e->cpu_node;
	verdict_input_of(d, e, &vin, res, sizeof(res));
	if (e->has_node) {
		int hi = highest_zone(d, &e->node, e->gfp);

		snprintf(r->highest_zone, sizeof(r->highest_zone), "%s", e->node.zone[hi].name);
		zones_of(e, hi, r, &vin);
	} else {
		record_null(&paf_desc, r, "highest_zone");
	}
	slow_path_of(d, e, r);
	r->available_bytes = counter_nonneg(vin.available) * ms_page_size();
	if (vin.available < 0)
		record_null(&paf_desc, r, "available_bytes");
	r->failure_allowed = verdict_failure_allowed(&vin);
	story_text(d, e, r->slow_path_summary, sizeof(r->slow_path_summary));
	snprintf(r->verdict_kind, sizeof(r->verdict_kind), "%s",
		 verdict_kind_name(verdict_explain(&vin, r->verdict, sizeof(r->verdict))));
	if (d->ksyms)
		stack_of(d, e, r);
	else
		record_null(&paf_desc, r, "stack");
}
