// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroups.h"
#include "tracefmt.h"
#include "mapwalk.h"
#include "percpu.h"
#include "reclaim.h"
#include "runtime.h"
#include "strbuf.h"
#include "util.h"
#include "vmscan.h"
#include "reclaim.skel.h"

const char *const reclaim_kind_names[RC_NR_KIND] = { "kswapd", "direct", "memcg", "node",
						     "other" };

#define RECLAIM_WITHOUT_TARGET "no nr_to_reclaim (what each reclaim pass set out to free)"
const struct hook_spec reclaim_hooks[RECLAIM_NR_HOOKS] = {
#define H(tp, prog, opt) HOOK_TP("vmscan:" tp, prog, opt)
	H("mm_vmscan_lru_shrink_inactive", "rc_shrink_inactive", false),
	H("mm_vmscan_lru_shrink_active", "rc_shrink_active", true),
	H("mm_vmscan_lru_isolate", "rc_isolate", true),
	H("mm_vmscan_direct_reclaim_begin", "rc_direct_reclaim_begin", false),
	H("mm_vmscan_direct_reclaim_end", "rc_direct_reclaim_end", false),
	H("mm_vmscan_memcg_reclaim_begin", "rc_memcg_reclaim_begin", true),
	H("mm_vmscan_memcg_reclaim_end", "rc_memcg_reclaim_end", true),
	H("mm_vmscan_memcg_softlimit_reclaim_begin", "rc_memcg_softlimit_reclaim_begin", true),
	H("mm_vmscan_memcg_softlimit_reclaim_end", "rc_memcg_softlimit_reclaim_end", true),
	H("mm_vmscan_node_reclaim_begin", "rc_node_reclaim_begin", true),
	H("mm_vmscan_node_reclaim_end", "rc_node_reclaim_end", true),
	H("mm_vmscan_kswapd_wake", "rc_kswapd_wake", true),
	H("mm_vmscan_kswapd_sleep", "rc_kswapd_sleep", true),
	H("mm_shrink_slab_start", "rc_slab_start", true),
	H("mm_shrink_slab_end", "rc_slab_end", true),
#undef H
	HOOK_TP("compaction:mm_compaction_try_to_compact_pages", "rc_compact", true),
	/* scan_control.nr_to_reclaim: shrink_folio_list, shrink_page_list before 6.1 */
	HOOK_FN_OPT("shrink_folio_list", "rc_folio_list", RECLAIM_WITHOUT_TARGET),
	HOOK_FN_OPT("shrink_page_list", "rc_page_list", RECLAIM_WITHOUT_TARGET),
};

struct reclaim {
	struct reclaim_bpf *skel;
	const char *target_hook;
	int ncpus;
	struct ms_loss losses[5];
	__u64 awake_ns[RC_MAX_NODES]; /* the last read: awake time never goes back */
};

/* The classic record says anon or file by a flag bit: its value from tracefs. */
static void classic_file_bit(struct reclaim_bpf *skel, const int *chosen)
{
	long long wb;

	if (hook_chosen_kind(reclaim_hooks, RECLAIM_NR_HOOKS, chosen,
			     "vmscan:mm_vmscan_lru_shrink_inactive") != hook_kind_name(HK_TRACEPOINT))
		return;
	if (!trace_symbol_value("vmscan/mm_vmscan_lru_shrink_inactive", "RECLAIM_WB_FILE", &wb))
		skel->rodata->reclaim_wb_file = wb;
	else
		ms_warn("RECLAIM_WB_FILE not found in tracefs: anon/file split unknown");
}

static struct reclaim_bpf *load(const struct ms_filter *f, const struct reclaim_want *w,
				int *chosen)
{
	struct reclaim_bpf *skel;
	char why[256];
	int err;

	ms_require_bpf();
	skel = reclaim_bpf__open_opts(ms_bpf_open_opts());
	if (!skel)
		ms_bpf_fail("opening reclaim's BPF object", errno);
	ms_test_map_sizes(skel->obj);
	skel->rodata->want_events = w->events;
	skel->rodata->min_event_ns = w->min_event_ns;
	skel->rodata->want_by_process = w->by_process;
	skel->rodata->want_slab = w->slab;
	skel->rodata->want_by_memcg = w->by_memcg;
	MS_SET_FILTERS(skel, f);
	if (hooks_select(skel->obj, reclaim_hooks, RECLAIM_NR_HOOKS, chosen, why, sizeof(why)))
		ms_fatal("%s", why);
	classic_file_bit(skel, chosen);
	err = reclaim_bpf__load(skel);
	if (err)
		ms_bpf_fail("loading reclaim's BPF programs", err);
	ms_pid_filter_fill(bpf_map__fd(skel->maps.pid_filter), f);
	skel->bss->start_ns = ms_boot_ns();
	err = reclaim_bpf__attach(skel);
	if (err)
		ms_bpf_fail("attaching reclaim's BPF programs", err);
	return skel;
}

struct reclaim *reclaim_open(const struct ms_filter *f, const struct reclaim_want *w)
{
	struct reclaim *r = calloc(1, sizeof(*r));
	int chosen[RECLAIM_NR_HOOKS];

	if (!r)
		ms_fatal("out of memory");
	r->ncpus = libbpf_num_possible_cpus();
	r->skel = load(f, w, chosen);
	r->target_hook = hook_chosen_kind(reclaim_hooks, RECLAIM_NR_HOOKS, chosen,
					  "shrink_folio_list");
	if (!r->target_hook)
		r->target_hook = hook_chosen_kind(reclaim_hooks, RECLAIM_NR_HOOKS, chosen,
						  "shrink_page_list");
	r->losses[0] = (struct ms_loss){ "stall_events",
					 "stall events not shown: the ring buffer was full",
					 &r->skel->bss->nr_lost, 0 };
	r->losses[1] = (struct ms_loss){ "untracked_processes",
					 "processes not counted by --by-process: its table is full",
					 &r->skel->bss->nr_by_process_full, 0 };
	r->losses[2] = (struct ms_loss){ "untimed_stalls",
					 "stalls not timed: the per-thread table was full or they "
					 "nested too deep", &r->skel->bss->nr_stalls_untimed, 0 };
	r->losses[3] = (struct ms_loss){ "untracked_memcgs",
					 "memory cgroups not counted: the per-cgroup table is full",
					 &r->skel->bss->nr_by_memcg_full, 0 };
	r->losses[4] = (struct ms_loss){ "events_beyond_nodes",
					 "reclaim events of nodes " MS_STR(RC_MAX_NODES) " and up: "
					 "in the totals only, their kswapd not at all",
					 &r->skel->bss->nr_node_beyond, 0 };
	return r;
}

/*
 * Fold one key of a per-CPU array of u64-only structs into out (n u64 words): counts
 * are summed, the words in max_mask (maxima) take the largest CPU's value.
 */
static void percpu_read(const struct reclaim *r, int fd, __u32 key, __u64 *out, size_t words,
			uint64_t max_mask)
{
	__u64 *vals = calloc(r->ncpus, words * sizeof(__u64));

	if (!vals)
		ms_fatal("out of memory");
	if (!bpf_map_lookup_elem(fd, &key, vals))
		percpu_fold((const uint64_t *)vals, r->ncpus, words, max_mask, (uint64_t *)out);
	else
		memset(out, 0, words * sizeof(__u64));
	free(vals);
}

/* rc_stall_stats.max_ns is a maximum per CPU: the largest wins, it is no sum */
#define STALL_MAX_WORD (offsetof(struct rc_stall_stats, max_ns) / sizeof(__u64))

/*
 * Every stall adds one to count and one to a bucket (log2_slot() clamps into the last),
 * but a copy taken while another CPU is between the two adds holds one without the
 * other: found as 503 bucketed against 500 counted. The buckets are the authority,
 * so a count and its histogram always agree, and both only grow.
 */
static __u64 hist_sum(const __u64 *hist)
{
	__u64 n = 0;

	for (int i = 0; i < RC_HIST_SLOTS; i++)
		n += hist[i];
	return n;
}

/*
 * Node ids this machine may ever have (/sys/devices/system/node/possible, e.g. "0-3"):
 * the maps' other slots stay zero, and a scrape need not read them one by one.
 */
static __u32 possible_nodes(void)
{
	static __u32 n;
	char buf[256], *p;
	FILE *f;

	if (n)
		return n;
	n = RC_MAX_NODES;
	f = fopen("/sys/devices/system/node/possible", "r");
	if (!f)
		return n;
	if (fgets(buf, sizeof(buf), f)) {
		/* the highest id is the last number of the list */
		for (p = buf + strlen(buf); p > buf && !isdigit((unsigned char)p[-1]); p--)
			;
		while (p > buf && isdigit((unsigned char)p[-1]))
			p--;
		if (isdigit((unsigned char)*p) && atoi(p) < RC_MAX_NODES)
			n = atoi(p) + 1;
	}
	fclose(f);
	return n;
}

/*
 * kswapd of each node: the awake time of a kswapd awake now counts up to now, taken
 * after the map's copy so a wake in between is never ahead of it; a sleep in between
 * could put it ahead by that gap, so the time never goes back below the last read.
 */
static void read_kswapd(struct reclaim *r, __u32 nodes, struct reclaim_snapshot *s)
{
	int fd = bpf_map__fd(r->skel->maps.kswapd);

	for (__u32 n = 0; n < nodes; n++) {
		struct kswapd_counts *c = &s->kswapd[n];
		struct rc_kswapd k;
		__u64 ns;

		if (bpf_map_lookup_elem(fd, &n, &k))
			memset(&k, 0, sizeof(k));
		ns = rc_kswapd_awake_ns(k.awake_state, ms_boot_ns());
		if (ns < r->awake_ns[n])
			ns = r->awake_ns[n];
		r->awake_ns[n] = ns;
		*c = (struct kswapd_counts){ .wakeups = k.wakeups, .rounds = k.rounds,
					     .awake_ns = ns, .max_order = k.max_order,
					     .zones = k.zones };
	}
}

/* Key k of a per-node table (node slot times RC_NR_KIND plus the reclaimer) into s. */
static void read_node_slot(struct reclaim *r, __u32 k, struct reclaim_snapshot *s)
{
	int tfd = bpf_map__fd(r->skel->maps.target);

	if (bpf_map_lookup_elem(tfd, &k, &s->target[k]))
		memset(&s->target[k], 0, sizeof(s->target[k]));
	percpu_read(r, bpf_map__fd(r->skel->maps.stats), k, (__u64 *)&s->stats[k],
		    RECLAIM_WORDS(struct rc_stats), 0);
}

void reclaim_read(struct reclaim *r, struct reclaim_snapshot *s)
{
	struct reclaim_bpf *skel = r->skel;
	__u32 nodes = possible_nodes();

	memset(s, 0, sizeof(*s));
	for (__u32 k = 0; k < nodes * RC_NR_KIND; k++)
		read_node_slot(r, k, s);
	for (__u32 k = RC_NODE_BEYOND * RC_NR_KIND; k < RC_NODE_SLOTS * RC_NR_KIND; k++)
		read_node_slot(r, k, s);
	for (__u32 k = 0; k < RC_NR_KIND; k++) {
		percpu_read(r, bpf_map__fd(skel->maps.isolate), k, (__u64 *)&s->isolate[k],
			    RECLAIM_WORDS(struct rc_isolate), 0);
		percpu_read(r, bpf_map__fd(skel->maps.stalls), k, (__u64 *)&s->stalls[k],
			    RECLAIM_WORDS(struct rc_stall_stats), PERCPU_MAX_WORD(STALL_MAX_WORD));
		s->stalls[k].count = hist_sum(s->stalls[k].hist);
	}
	read_kswapd(r, nodes, s);
	percpu_read(r, bpf_map__fd(skel->maps.compact), 0, &s->compact_stalls, 1, 0);
}

const char *reclaim_target_hook(const struct reclaim *r)
{
	return r->target_hook;
}

int reclaim_events_fd(struct reclaim *r)
{
	return bpf_map__fd(r->skel->maps.events);
}

struct ms_loss *reclaim_losses(struct reclaim *r, int *n)
{
	*n = ARRAY_SIZE(r->losses);
	return r->losses;
}

struct walk {
	void (*proc)(const struct rc_proc_key *k, const struct rc_proc *p, void *ctx);
	void (*shrinker)(__u64 scan_fn, const struct rc_slab *s, void *ctx);
	void (*memcg)(const struct rc_memcg_key *k, const struct rc_memcg *m, void *ctx);
	void *ctx;
};

static void visit(const void *key, const void *value, void *ctx)
{
	const struct walk *w = ctx;
	__u64 fn;

	if (w->proc) {
		w->proc(key, value, w->ctx);
	} else if (w->memcg) {
		struct rc_memcg m = *(const struct rc_memcg *)value;

		m.count = hist_sum(m.hist);
		w->memcg(key, &m, w->ctx);
	} else {
		memcpy(&fn, key, sizeof(fn));
		w->shrinker(fn, value, w->ctx);
	}
}

void reclaim_each_process(struct reclaim *r,
			  void (*cb)(const struct rc_proc_key *k, const struct rc_proc *p, void *ctx),
			  void *ctx)
{
	struct walk w = { .proc = cb, .ctx = ctx };

	ms_map_each(bpf_map__fd(r->skel->maps.by_process), sizeof(struct rc_proc_key),
		    sizeof(struct rc_proc), false, visit, &w);
}

void reclaim_each_shrinker(struct reclaim *r,
			   void (*cb)(__u64 scan_fn, const struct rc_slab *s, void *ctx), void *ctx)
{
	struct walk w = { .shrinker = cb, .ctx = ctx };

	ms_map_each(bpf_map__fd(r->skel->maps.slab), sizeof(__u64), sizeof(struct rc_slab), false,
		    visit, &w);
}

void reclaim_each_memcg(struct reclaim *r,
			void (*cb)(const struct rc_memcg_key *k, const struct rc_memcg *m, void *ctx),
			void *ctx)
{
	struct walk w = { .memcg = cb, .ctx = ctx };

	ms_map_each(bpf_map__fd(r->skel->maps.by_memcg), sizeof(struct rc_memcg_key),
		    sizeof(struct rc_memcg), false, visit, &w);
}

void reclaim_forget_memcg(struct reclaim *r, uint64_t memcg_id)
{
	int fd = bpf_map__fd(r->skel->maps.by_memcg);

	for (__u32 k = 0; k < RC_NR_KIND; k++) {
		struct rc_memcg_key key = { .memcg_id = memcg_id, .kind = k };

		bpf_map_delete_elem(fd, &key); /* ENOENT for a reclaimer it never had */
	}
}

void reclaim_close(struct reclaim *r)
{
	if (!r)
		return;
	reclaim_bpf__destroy(r->skel);
	free(r);
}

void reclaim_delta(const void *cur, const void *prev, void *out, size_t words)
{
	const __u64 *c = cur, *p = prev;
	__u64 *o = out;

	for (size_t w = 0; w < words; w++)
		o[w] = c[w] - p[w];
}

uint64_t reclaim_hist_quantile(const __u64 *hist, double q)
{
	__u64 total = 0, seen = 0;

	for (int i = 0; i < RC_HIST_SLOTS; i++)
		total += hist[i];
	if (!total)
		return 0;
	for (int i = 0; i < RC_HIST_SLOTS; i++) {
		seen += hist[i];
		if (seen >= q * total)
			return (1ULL << (i + 1)) * 1000; /* slot i holds [2^i, 2^(i+1)) us */
	}
	return 0;
}

void reclaim_sum(const struct reclaim_snapshot *s, uint64_t *scanned, uint64_t *reclaimed)
{
	*scanned = *reclaimed = 0;
	for (int i = 0; i < RC_NODE_SLOTS * RC_NR_KIND; i++) {
		*scanned += s->stats[i].scanned;
		*reclaimed += s->stats[i].reclaimed;
	}
}

bool reclaim_kswapd_row_of(const struct reclaim_snapshot *cur,
			   const struct reclaim_snapshot *prev, int node,
			   struct reclaim_kswapd_row *row)
{
	static const struct kswapd_counts zero;
	const struct kswapd_counts *c, *p;

	if (node < 0 || node >= RC_MAX_NODES)
		return false;
	c = &cur->kswapd[node];
	p = prev ? &prev->kswapd[node] : &zero;
	*row = (struct reclaim_kswapd_row){ .node = node, .wakeups = c->wakeups - p->wakeups,
					    .rounds = c->rounds - p->rounds,
					    .awake_ns = c->awake_ns - p->awake_ns,
					    .max_order_since_start = c->max_order,
					    .zone_mask_since_start = c->zones };
	return true;
}

void reclaim_totals_between(const struct reclaim_snapshot *base,
			    const struct reclaim_snapshot *now, struct reclaim_totals *t)
{
	__u64 hist[RC_HIST_SLOTS] = { 0 };

	uint64_t s0, r0, s1, r1;

	memset(t, 0, sizeof(*t));
	reclaim_sum(base, &s0, &r0);
	reclaim_sum(now, &s1, &r1);
	t->scanned = s1 - s0;
	t->reclaimed = r1 - r0;
	for (int k = RC_DIRECT; k <= RC_NODE; k++) {
		struct rc_stall_stats d;

		reclaim_delta(&now->stalls[k], &base->stalls[k], &d, RECLAIM_WORDS(d));
		t->stalls[k] = d.count;
		for (int i = 0; i < RC_HIST_SLOTS; i++)
			hist[i] += d.hist[i];
	}
	t->stall_p50_ns = reclaim_hist_quantile(hist, 0.5);
	t->stall_p99_ns = reclaim_hist_quantile(hist, 0.99);
	for (int n = 0; n < RC_MAX_NODES; n++) {
		t->kswapd_wakeups += now->kswapd[n].wakeups - base->kswapd[n].wakeups;
		t->kswapd_awake_ns += now->kswapd[n].awake_ns - base->kswapd[n].awake_ns;
	}
	t->compact_stalls = now->compact_stalls - base->compact_stalls;
}

/* ---- the "reclaim" record ---- */

void reclaim_row_of(int node, int kind, const struct rc_stats *d, const struct rc_target *t,
		    const struct rc_target *pt, const char *hook, struct reclaim_row *row)
{
	struct strbuf sb;

	memset(row, 0, sizeof(*row));
	row->node = node;
	snprintf(row->reclaimer, sizeof(row->reclaimer), "%s", reclaim_kind_names[kind]);
	row->scanned_pages = d->scanned;
	row->reclaimed_pages = d->reclaimed;
	row->scanned_anon_pages = d->scanned_anon;
	row->scanned_file_pages = d->scanned_file;
	row->reclaimed_anon_pages = d->reclaimed_anon;
	row->reclaimed_file_pages = d->reclaimed_file;
	row->dirty_pages = d->dirty;
	row->writeback_pages = d->writeback;
	row->congested_pages = d->congested;
	row->immediate_pages = d->immediate;
	row->activate_anon_pages = d->activate_anon;
	row->activate_file_pages = d->activate_file;
	row->ref_keep_pages = d->ref_keep;
	row->unmap_fail_pages = d->unmap_fail;
	row->active_taken_pages = d->active_taken;
	row->active_deactivated_pages = d->active_deactivated;
	row->shrink_inactive_calls = d->shrink_calls;
	row->nr_prio = RC_NR_PRIO;
	memcpy(row->priority_calls, d->prio, sizeof(row->priority_calls));
	sb_init(&sb, row->priority_text, sizeof(row->priority_text));
	for (int p = RC_NR_PRIO - 1; p >= 0; p--)
		if (d->prio[p]) {
			sb_sep(&sb, " ");
			sb_add(&sb, "%d:%llu", p, (unsigned long long)d->prio[p]);
		}
	/* scan_control.nr_to_reclaim needs a function hook on shrink_folio_list */
	if (hook && t->calls != pt->calls)
		row->to_reclaim_pages = t->last;
	else
		record_null(&reclaim_desc, row, "to_reclaim_pages");
	if (hook)
		row->to_reclaim_calls = t->calls - pt->calls;
	else
		record_null(&reclaim_desc, row, "to_reclaim_calls");
}

#define R(m, head, flags, help)                                                            \
	FLD(struct reclaim_row, m, #m, head, FT_U64, FU_PAGES, FK_COUNTER, FF_COUNT | (flags), help)
static const struct field reclaim_fields[] = {
	FLD(struct reclaim_row, node, "node", "NODE", FT_S32, FU_NONE, FK_LABEL, 0, "node id"),
	FLD(struct reclaim_row, reclaimer, "reclaimer", "RECLAIMER", FT_STR, FU_NONE, FK_LABEL,
	    FF_LEFT, "kswapd, direct, memcg, node (node_reclaim) or other"),
	R(scanned_pages, "SCANNED", 0, "pages shrink-inactive scanned"),
	R(reclaimed_pages, "RECLAIMED", 0, "pages it reclaimed"),
	R(scanned_anon_pages, "ANON_SCAN", 0, "of the scanned, anonymous"),
	R(scanned_file_pages, "FILE_SCAN", 0, "of the scanned, file"),
	R(reclaimed_anon_pages, NULL, 0, "of the reclaimed, anonymous"),
	R(reclaimed_file_pages, NULL, 0, "of the reclaimed, file"),
	R(dirty_pages, "DIRTY", 0, "dirty pages found"),
	R(writeback_pages, "WRITEBACK", 0, "pages under writeback found"),
	R(congested_pages, "CONGESTED", 0, "pages on congested devices"),
	R(immediate_pages, "IMMEDIATE", 0, "pages to reclaim immediately after writeback"),
	R(activate_anon_pages, "ACT_ANON", 0, "anonymous pages moved back to the active list"),
	R(activate_file_pages, "ACT_FILE", 0, "file pages moved back to the active list"),
	R(ref_keep_pages, "REF_KEEP", 0, "referenced pages kept"),
	R(unmap_fail_pages, "UNMAP_FAIL", 0, "pages that could not be unmapped"),
	R(active_taken_pages, NULL, 0, "pages shrink-active took off the active lists"),
	R(active_deactivated_pages, NULL, 0, "of those, deactivated"),
	FLD(struct reclaim_row, shrink_inactive_calls, "shrink_inactive_calls", NULL, FT_U64,
	    FU_NONE, FK_COUNTER, 0, "shrink-inactive calls"),
	FLD_ARR(struct reclaim_row, priority_calls, nr_prio, NULL, "priority_calls", NULL,
		FT_U64S, FU_NONE, FK_COUNTER, 0,
		"shrink-inactive calls per scan priority, 0 first (12 is the gentlest)"),
	R(to_reclaim_pages, "TO_RECLAIM", FF_NULL,
	  "scan_control.nr_to_reclaim of the last call; null without a function hook"),
	FLD(struct reclaim_row, to_reclaim_calls, "to_reclaim_calls", NULL, FT_U64, FU_NONE,
	    FK_COUNTER, FF_NULL, "calls that to_reclaim_pages was read in; null without a hook"),
	FLD(struct reclaim_row, priority_text, "priority_text", "PRIORITY", FT_STR, FU_NONE,
	    FK_LABEL, FF_LEFT | FF_TEXT, "priority:calls, highest first"),
};
#undef R

const struct record_desc reclaim_desc =
	RECORD_DESC("reclaim", "one node and reclaimer over a report's interval (memscope reclaim)",
		    reclaim_fields, struct reclaim_row);

/* ---- the other records ---- */

void reclaim_stalls_row_of(int kind, const struct rc_stall_stats *d, __u64 max_since_start_ns,
			   struct reclaim_stalls_row *row)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->reclaimer, sizeof(row->reclaimer), "%s", reclaim_kind_names[kind]);
	row->count = d->count;
	row->total_ns = d->total_ns;
	row->reclaimed_pages = d->reclaimed;
	row->p50_at_most_ns = reclaim_hist_quantile(d->hist, 0.5);
	row->p99_at_most_ns = reclaim_hist_quantile(d->hist, 0.99);
	row->max_since_start_ns = max_since_start_ns;
	for (int i = 0; i < RC_HIST_SLOTS; i++) {
		struct hist_bucket *b;

		if (!d->hist[i])
			continue;
		/* the in-kernel buckets are log2 of microseconds */
		b = &row->histogram[row->nr_buckets++];
		b->from_ns = i ? (1ULL << i) * 1000 : 0;
		b->to_ns = ((1ULL << (i + 1)) - 1) * 1000;
		b->count = d->hist[i];
	}
}

void reclaim_stall_row_of(const struct rc_event *e, const struct gfp_table *gfp,
			  struct reclaim_stall_row *row)
{
	const char *path;

	memset(row, 0, sizeof(*row));
	row->pid = e->pid;
	row->tid = e->tid;
	row->order = e->order;
	row->gfp = e->gfp;
	row->reclaimed_pages = e->reclaimed;
	row->latency_ns = e->latency_ns;
	memcpy(row->comm, e->comm, sizeof(row->comm));
	snprintf(row->reclaimer, sizeof(row->reclaimer), "%s",
		 reclaim_kind_names[e->kind % RC_NR_KIND]);
	row->nr_gfp_flags = gfp_names(gfp, e->gfp, row->gfp_flags, GFP_MAX_NAMES);
	path = e->memcg_id ? memcg_path_cached(e->memcg_id) : NULL;
	if (path)
		snprintf(row->memcg, sizeof(row->memcg), "%s", path);
	else
		record_null(&reclaim_stall_desc, row, "memcg");
}

#define U64(st, m, head, unit, kind, help)                                                 \
	FLD(st, m, #m, head, FT_U64, unit, kind, 0, help)
#define RECLAIMER(st)                                                                      \
	FLD(st, reclaimer, "reclaimer", "RECLAIMER", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,    \
	    "kswapd, direct, memcg, node or other")

static const struct field interval_fields[] = {
	U64(struct reclaim_interval_row, scanned_pages, NULL, FU_PAGES, FK_COUNTER,
	    "pages scanned in the interval, every node and reclaimer"),
	U64(struct reclaim_interval_row, reclaimed_pages, NULL, FU_PAGES, FK_COUNTER,
	    "pages reclaimed in the interval"),
	FLD(struct reclaim_interval_row, to_reclaim_hook, "to_reclaim_hook", NULL, FT_STR, FU_NONE,
	    FK_LABEL, FF_NULL, "the hook that reads scan_control.nr_to_reclaim; null: none"),
	FLD(struct reclaim_interval_row, to_reclaim_unavailable, "to_reclaim_unavailable", NULL,
	    FT_STR, FU_NONE, FK_LABEL, FF_NULL, "why to_reclaim_pages is null; null when not"),
};
const struct record_desc reclaim_interval_desc =
	RECORD_DESC("reclaim_interval", "memscope reclaim: the interval's totals", interval_fields,
		    struct reclaim_interval_row);

static const struct field isolate_fields[] = {
	RECLAIMER(struct reclaim_isolate_row),
	U64(struct reclaim_isolate_row, requested_pages, "REQUESTED", FU_PAGES, FK_COUNTER,
	    "the scan budget isolation was given"),
	U64(struct reclaim_isolate_row, scanned_pages, "SCANNED", FU_PAGES, FK_COUNTER,
	    "pages looked at"),
	U64(struct reclaim_isolate_row, skipped_pages, "SKIPPED", FU_PAGES, FK_COUNTER,
	    "pages skipped (zones above the allocation's)"),
	U64(struct reclaim_isolate_row, taken_pages, "TAKEN", FU_PAGES, FK_COUNTER,
	    "pages taken off the LRU (of large folios, each page)"),
};
const struct record_desc reclaim_isolate_desc =
	RECORD_DESC("reclaim_isolate", "memscope reclaim: LRU isolation per reclaimer",
		    isolate_fields, struct reclaim_isolate_row);

static const struct field bucket_fields[] = {
	U64(struct hist_bucket, from_ns, NULL, FU_NS, FK_LABEL, "the bucket's lower bound"),
	U64(struct hist_bucket, to_ns, NULL, FU_NS, FK_LABEL, "its upper bound"),
	U64(struct hist_bucket, count, NULL, FU_NONE, FK_COUNTER, "stalls that long"),
};
const struct record_desc hist_bucket_desc =
	RECORD_DESC("histogram_bucket", "one log2 latency bucket (part of reclaim_stalls)",
		    bucket_fields, struct hist_bucket);

static const struct field stalls_fields[] = {
	RECLAIMER(struct reclaim_stalls_row),
	U64(struct reclaim_stalls_row, count, "STALLS", FU_NONE, FK_COUNTER,
	    "stalls that ended in the interval"),
	U64(struct reclaim_stalls_row, total_ns, "TOTAL", FU_NS, FK_COUNTER, "their time"),
	U64(struct reclaim_stalls_row, reclaimed_pages, "RECLAIMED", FU_PAGES, FK_COUNTER,
	    "pages they reclaimed"),
	U64(struct reclaim_stalls_row, p50_at_most_ns, "P50<=", FU_NS, FK_GAUGE,
	    "median, as the upper bound of its log2 bucket"),
	U64(struct reclaim_stalls_row, p99_at_most_ns, "P99<=", FU_NS, FK_GAUGE,
	    "99th percentile, as the upper bound of its log2 bucket"),
	U64(struct reclaim_stalls_row, max_since_start_ns, "MAX", FU_NS, FK_GAUGE,
	    "the longest since memscope started"),
	FLD_RECS(struct reclaim_stalls_row, histogram, nr_buckets, "histogram", &hist_bucket_desc,
		 "the non-empty log2 buckets"),
};
const struct record_desc reclaim_stalls_desc =
	RECORD_DESC("reclaim_stalls", "memscope reclaim: stalls per reclaimer over the interval",
		    stalls_fields, struct reclaim_stalls_row);

static const struct field kswapd_fields[] = {
	FLD(struct reclaim_kswapd_row, node, "node", "NODE", FT_S32, FU_NONE, FK_LABEL, 0,
	    "node id"),
	U64(struct reclaim_kswapd_row, wakeups, "WAKEUPS", FU_NONE, FK_COUNTER,
	    "times kswapd left a full sleep: an mm_vmscan_kswapd_wake after "
	    "mm_vmscan_kswapd_sleep (or the first one since memscope started)"),
	U64(struct reclaim_kswapd_row, rounds, "ROUNDS", FU_NONE, FK_COUNTER,
	    "its reclaim rounds: every mm_vmscan_kswapd_wake, one balance_pgdat each; a "
	    "wake-up starts one, more follow until the node stays balanced"),
	U64(struct reclaim_kswapd_row, awake_ns, "AWAKE", FU_NS, FK_COUNTER,
	    "time from each wake-up to the next full sleep (naps of up to 0.1 s between "
	    "rounds included); one still going counts up to the reading"),
	U64(struct reclaim_kswapd_row, max_order_since_start, "MAX_ORDER", FU_NONE, FK_GAUGE,
	    "the highest order it was woken for, since start"),
	U64(struct reclaim_kswapd_row, zone_mask_since_start, NULL, FU_NONE, FK_LABEL,
	    "bit per zone index it was woken for, since start"),
};
const struct record_desc reclaim_kswapd_desc =
	RECORD_DESC("reclaim_kswapd", "memscope reclaim: kswapd per node", kswapd_fields,
		    struct reclaim_kswapd_row);

static const struct field process_fields[] = {
	FLD(struct reclaim_process_row, pid, "pid", "PID", FT_U32, FU_NONE, FK_LABEL, 0,
	    "process id"),
	FLD(struct reclaim_process_row, comm, "comm", "COMM", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	    "command name"),
	RECLAIMER(struct reclaim_process_row),
	U64(struct reclaim_process_row, count, "STALLS", FU_NONE, FK_COUNTER, "its stalls"),
	U64(struct reclaim_process_row, total_ns, "TOTAL", FU_NS, FK_COUNTER, "their time"),
	U64(struct reclaim_process_row, max_ns, "MAX", FU_NS, FK_GAUGE, "the longest"),
	FLD(struct reclaim_process_row, reclaimed_pages, "reclaimed_pages", "RECLAIMED", FT_U64,
	    FU_PAGES, FK_COUNTER, FF_COUNT, "pages they reclaimed"),
};
const struct record_desc reclaim_process_desc =
	RECORD_DESC("reclaim_process", "reclaim --by-process: stalls per process, since start",
		    process_fields, struct reclaim_process_row);

static const struct field shrinker_fields[] = {
	FLD(struct reclaim_shrinker_row, shrinker, "shrinker", "SHRINKER", FT_STR, FU_NONE,
	    FK_LABEL, FF_LEFT, "the shrinker's scan function"),
	U64(struct reclaim_shrinker_row, calls, "CALLS", FU_NONE, FK_COUNTER, "calls"),
	U64(struct reclaim_shrinker_row, total_ns, "TOTAL", FU_NS, FK_COUNTER, "their time"),
	FLD(struct reclaim_shrinker_row, freed_objects, "freed_objects", "FREED", FT_U64, FU_NONE,
	    FK_COUNTER, FF_COUNT, "objects freed"),
	FLD(struct reclaim_shrinker_row, scanned_objects, "scanned_objects", "SCANNED", FT_U64,
	    FU_NONE, FK_COUNTER, FF_COUNT, "objects scanned"),
};
const struct record_desc reclaim_shrinker_desc =
	RECORD_DESC("reclaim_shrinker", "reclaim --slab: shrinkers, since start", shrinker_fields,
		    struct reclaim_shrinker_row);

static const struct field stall_fields[] = {
	FLD(struct reclaim_stall_row, pid, "pid", NULL, FT_U32, FU_NONE, FK_LABEL, 0, "process id"),
	FLD(struct reclaim_stall_row, tid, "tid", NULL, FT_U32, FU_NONE, FK_LABEL, 0, "thread id"),
	FLD(struct reclaim_stall_row, comm, "comm", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "command name"),
	RECLAIMER(struct reclaim_stall_row),
	FLD(struct reclaim_stall_row, order, "order", NULL, FT_S32, FU_NONE, FK_LABEL, 0,
	    "the allocation's order"),
	FLD(struct reclaim_stall_row, gfp, "gfp", NULL, FT_U64, FU_NONE, FK_LABEL, 0,
	    "its GFP mask"),
	FLD_STRS(struct reclaim_stall_row, gfp_flags, nr_gfp_flags, "gfp_flags", 0,
		 "the mask in the kernel's own flag names, as it prints them"),
	U64(struct reclaim_stall_row, reclaimed_pages, NULL, FU_PAGES, FK_GAUGE, "pages reclaimed"),
	U64(struct reclaim_stall_row, latency_ns, NULL, FU_NS, FK_GAUGE, "how long it stalled"),
	FLD(struct reclaim_stall_row, memcg, "memcg", NULL, FT_STR, FU_NONE, FK_LABEL, FF_NULL,
	    "the stalled task's memory cgroup, as /proc/PID/cgroup names it; null: unknown"),
};
const struct record_desc reclaim_stall_desc =
	RECORD_DESC("reclaim_stall", "reclaim --events: one direct/memcg/node reclaim stall",
		    stall_fields, struct reclaim_stall_row);
#undef U64
#undef RECLAIMER
