// SPDX-License-Identifier: GPL-2.0
/*
 * memscope (no command): the one-screen memory health report. Watches a short
 * sample with the reclaim, allocation-failure and OOM-kill collectors, then reads
 * the system's totals, every node and the largest processes: one answer to "is
 * memory OK here, and if not, where do I look".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include "commands.h"
#include "counters.h"
#include "failures.h"
#include "gfp.h"
#include "kills.h"
#include "memcgs.h"
#include "meminfo.h"
#include "memowners.h"
#include "memparts.h"
#include "nodes.h"
#include "output.h"
#include "pressure.h"
#include "procs.h"
#include "record.h"
#include "runtime.h"
#include "strbuf.h"
#include "textsafe.h"
#include "units.h"
#include "util.h"
#include "vmscan.h"

#define DEFAULT_SAMPLE_S 5.0
#define TOP_N 10
#define MAX_VICTIMS 32
#define MAX_CGROUPS 8
#define CGROUP_NEAR_LIMIT_PERCENT 90.0

static const struct record_desc cgroup_part_desc;

/* What watches the sample. */
struct watchers {
	struct reclaim *reclaim; /* with stalls per memory cgroup */
	struct reclaim_snapshot before, after;
	struct failures *failures;
	struct kills *kills;
	struct memcg_list cgroups_before; /* their OOM-kill counters at the start */
};

/* A memory cgroup the report names: near its limit, or OOM-killed in the sample. */
struct cgroup_part {
	uint64_t null_mask;
	char path[sizeof(((struct memcg_row *)0)->path)], container[128];
	uint64_t usage_bytes, limit_bytes;
	double limit_used_percent;
	uint64_t working_set_bytes, reclaim_stalls, refault_pages;
	double psi_some_percent;
	uint64_t oom_kills;
	bool pressure;
	char state[40];
};

/* Everything the report says, gathered at the end of the sample. */
struct sample {
	double secs;
	struct reclaim_totals rt;
	struct failures_totals ft;
	/* failures whose caller allowed them (__GFP_NOWARN), and the worst order of the rest */
	unsigned long long failures_allowed;
	int worst_unallowed_order;
	struct oom_victim victims[MAX_VICTIMS];
	int nv;
	struct sys_node nodes[SYS_MAX_NODES];
	struct node_row node_rows[SYS_MAX_NODES], total;
	int nn;
	struct ms_meminfo mi;
	bool have_mi, have_psi;
	struct psi psi;
	struct proc_list procs; /* largest first, memscope itself left out */
	uint64_t self_rss_bytes;
	bool pid_namespace; /* memscope sees only its PID namespace's processes */
	struct cgroup_part cgroups[MAX_CGROUPS];
	int cgroup_why[MAX_CGROUPS]; /* index in cgroup_states; -1: no pressure */
	int ncg;
	/* every byte of MemTotal in a part, and each part's largest holders */
	struct mem_accounting acc;
	bool have_acc;
	struct mem_owner owners[24];
	int nowners;
	char owners_why[256];
};

static void watch(struct watchers *w)
{
	static const struct ms_filter all;
	static const struct reclaim_want by_memcg = { .by_memcg = true };
	static const struct failures_want counts = { .order_eq = -1, .order_min = -1 };
	static const struct kills_want plain;

	w->reclaim = reclaim_open(&all, &by_memcg);
	reclaim_read(w->reclaim, &w->before);
	w->failures = failures_open(&all, &counts);
	w->kills = kills_open(&plain);
	memcgs_read(NULL, &w->cgroups_before); /* none: no hierarchy, nothing to say */
}

static void unwatch(struct watchers *w)
{
	kills_close(w->kills);
	failures_close(w->failures);
	reclaim_close(w->reclaim);
	memcg_list_free(&w->cgroups_before);
}

/* The cgroup's row at the start of the sample; NULL when it was made during it. */
static const struct memcg_row *row_before(const struct watchers *w, const struct memcg_row *r)
{
	for (size_t i = 0; i < w->cgroups_before.n; i++)
		if (w->cgroups_before.r[i].id == r->id)
			return &w->cgroups_before.r[i];
	return NULL;
}

/* A counter's growth during the sample (all of it for a cgroup made during it). */
static uint64_t grew(const struct memcg_row *now, const struct memcg_row *before,
		     const char *key, uint64_t v_now, uint64_t v_before)
{
	if (record_is_null(&memcg_desc, now, key))
		return 0;
	if (!before || record_is_null(&memcg_desc, before, key))
		return v_now;
	return v_now > v_before ? v_now - v_before : 0;
}

/* Reclaim stalls of the cgroup's tasks during the sample (BPF, by their memory cgroup). */
struct memcg_stalls {
	uint64_t id, stalls;
};

static void add_stalls(const struct rc_memcg_key *k, const struct rc_memcg *m, void *ctx)
{
	struct memcg_stalls *s = ctx;

	if (k->memcg_id == s->id)
		s->stalls += m->count;
}

/*
 * A cgroup at its limit is a problem when its tasks stall, its pages refault, it stalls
 * on memory (PSI) or memory it cannot drop fills it; not when page cache fills it.
 */
static const char *const cgroup_states[][2] = {
	/* the table's word, and the verdict's */
	{ "OOM-killed", "OOM-killed" },
	{ "stalled", "its tasks stalled in reclaim" },
	{ "refaulting", "its pages refaulted" },
	{ "PSI pressure", "its tasks stalled on memory >= 1% of the sample (PSI)" },
	{ "working set", "its working set near the limit" },
};

static void assess(struct cgroup_part *c, double wset_percent, int *why_out)
{
	bool why[] = { c->oom_kills > 0, c->reclaim_stalls > 0, c->refault_pages > 0,
		       c->psi_some_percent >= 1.0,
		       wset_percent >= CGROUP_NEAR_LIMIT_PERCENT };

	*why_out = -1;
	for (size_t i = 0; i < ARRAY_SIZE(why); i++)
		if (why[i]) {
			c->pressure = true;
			snprintf(c->state, sizeof(c->state), "%s", cgroup_states[i][0]);
			*why_out = i;
			return;
		}
	snprintf(c->state, sizeof(c->state), "page cache");
}

static void cgroup_part_of(const struct watchers *w, const struct memcg_row *r, double secs,
			   uint64_t kills, struct cgroup_part *c, int *why)
{
	const struct memcg_row *b = row_before(w, r);
	bool limited = !record_is_null(&memcg_desc, r, "limit_used_percent");
	struct memcg_stalls st = { .id = r->id };
	double wset = 0;

	snprintf(c->path, sizeof(c->path), "%s", r->path);
	snprintf(c->container, sizeof(c->container), "%s", r->container);
	c->usage_bytes = r->usage_bytes;
	c->limit_bytes = r->limit_bytes;
	c->limit_used_percent = r->limit_used_percent;
	c->oom_kills = kills;
	c->working_set_bytes = r->working_set_bytes;
	reclaim_each_memcg(w->reclaim, add_stalls, &st);
	c->reclaim_stalls = st.stalls;
	c->refault_pages = grew(r, b, "refault_anon_pages", r->refault_anon_pages,
				b ? b->refault_anon_pages : 0) +
			   grew(r, b, "refault_file_pages", r->refault_file_pages,
				b ? b->refault_file_pages : 0);
	/* the sample's share, not avg10: that still holds the stalls of the 10 s before */
	c->psi_some_percent = grew(r, b, "psi_some_total_ns", r->psi_some_total_ns,
				   b ? b->psi_some_total_ns : 0) / (secs * 1e7);
	if (!r->container[0])
		record_null(&cgroup_part_desc, c, "container");
	if (!limited) {
		record_null(&cgroup_part_desc, c, "limit_bytes");
		record_null(&cgroup_part_desc, c, "limit_used_percent");
	}
	if (record_is_null(&memcg_desc, r, "working_set_bytes"))
		record_null(&cgroup_part_desc, c, "working_set_bytes");
	else if (limited && r->limit_bytes)
		wset = 100.0 * r->working_set_bytes / r->limit_bytes;
	if (record_is_null(&memcg_desc, r, "refault_file_pages"))
		record_null(&cgroup_part_desc, c, "refault_pages");
	if (record_is_null(&memcg_desc, r, "psi_some_total_ns"))
		record_null(&cgroup_part_desc, c, "psi_some_percent");
	assess(c, wset, why);
}

/* The cgroups at >= 90 % of their limit or OOM-killed during the sample. */
static void gather_cgroups(const struct watchers *w, struct sample *s)
{
	struct memcg_list l = { 0 };

	memcgs_read(NULL, &l);
	for (size_t i = 0; i < l.n && s->ncg < MAX_CGROUPS; i++) {
		const struct memcg_row *r = &l.r[i], *b = row_before(w, r);
		bool limited = !record_is_null(&memcg_desc, r, "limit_used_percent");
		/* OOM kills in the cgroup during the sample, by its own counter */
		uint64_t kills = grew(r, b, "events_oom_kill", r->events_oom_kill,
				      b ? b->events_oom_kill : 0);

		if (!kills && !(limited && r->limit_used_percent >= CGROUP_NEAR_LIMIT_PERCENT))
			continue;
		cgroup_part_of(w, r, s->secs, kills, &s->cgroups[s->ncg],
			       &s->cgroup_why[s->ncg]);
		s->ncg++;
	}
	memcg_list_free(&l);
}

/* The largest processes; memscope's own footprint is said apart, not listed. */
static void gather_processes(struct sample *s)
{
	static const struct ms_filter all;
	struct procs *p = procs_open(&all);
	size_t k = 0;

	procs_snapshot(p, &s->procs);
	s->pid_namespace = procs_pid_namespace(p);
	for (size_t i = 0; i < s->procs.n; i++)
		if (s->procs.r[i].pid == procs_self_pid(p))
			s->self_rss_bytes = proc_rss_pages(&s->procs.r[i]) * ms_page_size();
		else
			s->procs.r[k++] = s->procs.r[i];
	s->procs.n = k;
	procs_close(p);
	proc_list_sort_rss(&s->procs);
}

/* Failures the caller said it handles (__GFP_NOWARN): no incident by themselves. */
struct allowed_walk {
	unsigned long nowarn;
	struct sample *s;
};

static void count_allowed(const struct paf_key *k, __u64 n, void *ctx)
{
	struct allowed_walk *a = ctx;

	if (a->nowarn && (k->gfp & a->nowarn))
		a->s->failures_allowed += n;
	else if (n && (int)k->order > a->s->worst_unallowed_order)
		a->s->worst_unallowed_order = k->order;
}

static void gather_failures(struct watchers *w, struct sample *s)
{
	struct gfp_table *t = calloc(1, sizeof(*t));
	struct allowed_walk a = { 0, s };

	failures_totals(w->failures, &s->ft);
	s->worst_unallowed_order = -1;
	if (t && gfp_table_load(t) >= 0)
		a.nowarn = gfp_flag_mask(t, "__GFP_NOWARN");
	failures_each_count(w->failures, false, count_allowed, &a);
	if (s->failures_allowed > s->ft.failures)
		s->failures_allowed = s->ft.failures;
	free(t);
}

static void gather(struct watchers *w, struct sample *s)
{
	struct nodes *n;

	reclaim_read(w->reclaim, &w->after);
	reclaim_totals_between(&w->before, &w->after, &s->rt);
	gather_failures(w, s);
	s->nv = kills_victims(w->kills, s->victims, MAX_VICTIMS);
	n = nodes_open(0);
	s->nn = nodes_read(n, s->nodes, SYS_MAX_NODES);
	nodes_close(n);
	s->have_mi = meminfo_read(&s->mi);
	total_row_of(s->nodes, s->nn, s->have_mi ? &s->mi : NULL, &s->total);
	for (int i = 0; i < s->nn; i++)
		node_row_of(&s->nodes[i], &s->node_rows[i]);
	s->have_psi = psi_read_memory(&s->psi);
	gather_processes(s);
	gather_cgroups(w, s);
	s->have_acc = mem_accounting_read(&s->acc);
	if (s->have_acc)
		s->nowners = mem_owners_read(s->owners, ARRAY_SIZE(s->owners), s->owners_why,
					     sizeof(s->owners_why));
}

/* ---- the verdict ---- */

/* The findings, one a line of the verdict. */
struct findings {
	char text[8][256];
	int n;
};

static void __attribute__((format(printf, 2, 3)))
add_reason(struct findings *f, const char *fmt, ...)
{
	va_list ap;

	if (f->n == 8)
		return;
	va_start(ap, fmt);
	vsnprintf(f->text[f->n++], sizeof(f->text[0]), fmt, ap);
	va_end(ap);
}

/* Is b a cgroup below a ("/a" and "/a/b"; the root "/" is above all)? */
static bool below(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strcmp(a, b) && !strncmp(a, b, n) && (b[n] == '/' || (n && a[n - 1] == '/'));
}

/*
 * The kills a listed cgroup's counter has beyond those of the listed cgroups below it
 * (the counters are hierarchical): one kill is said once, at the deepest cgroup.
 */
static uint64_t own_kills(const struct sample *s, int i)
{
	uint64_t below_kills = 0;

	for (int j = 0; j < s->ncg; j++) {
		bool direct = below(s->cgroups[i].path, s->cgroups[j].path);

		for (int k = 0; direct && k < s->ncg; k++)
			if (k != j && below(s->cgroups[i].path, s->cgroups[k].path) &&
			    below(s->cgroups[k].path, s->cgroups[j].path))
				direct = false;
		if (direct)
			below_kills += s->cgroups[j].oom_kills;
	}
	return s->cgroups[i].oom_kills > below_kills ? s->cgroups[i].oom_kills - below_kills : 0;
}

/* OOM kills: once each, by the cgroup that counted them, else by the kill events. */
static void kill_reasons(const struct sample *s, struct findings *f)
{
	int said = 0;

	for (int i = 0; i < s->ncg; i++) {
		uint64_t n = own_kills(s, i);

		if (!n)
			continue;
		add_reason(f, "memory cgroup %s OOM-killed (%llu kill%s)", s->cgroups[i].path,
			   (unsigned long long)n, n == 1 ? "" : "s");
		said += n;
	}
	if (s->nv > said)
		add_reason(f, "%d OOM kill%s%s%s", s->nv - said, s->nv - said == 1 ? "" : "s",
			   !said && s->victims[0].memcg[0] ? " in memcg " : "",
			   !said ? s->victims[0].memcg : "");
}

static void verdict(const struct sample *s, struct findings *f)
{
	const struct reclaim_totals *rt = &s->rt;
	char b[32];

	kill_reasons(s, f);
	/* a pool growing until memory runs out fails with __GFP_NOWARN: no incident */
	if (s->ft.failures > s->failures_allowed)
		add_reason(f, "%llu allocation failure%s (worst order %d)",
			   s->ft.failures - s->failures_allowed,
			   s->ft.failures - s->failures_allowed == 1 ? "" : "s",
			   s->worst_unallowed_order);
	if (rt->stalls[RC_DIRECT] + rt->stalls[RC_MEMCG] + rt->stalls[RC_NODE])
		add_reason(f, "reclaim stalls: %llu direct, %llu memcg, p99 <= %s",
			   rt->stalls[RC_DIRECT], rt->stalls[RC_MEMCG],
			   fmt_duration_ns(b, sizeof(b), rt->stall_p99_ns));
	if (s->have_psi && s->psi.some_avg10 >= 1.0)
		add_reason(f, "PSI memory some avg10 %.2f%%", s->psi.some_avg10);
	/* a cgroup full of page cache is at its limit by design: not pressure */
	for (int i = 0; i < s->ncg; i++)
		if (s->cgroups[i].pressure && !s->cgroups[i].oom_kills)
			add_reason(f, "memory cgroup %s at %.0f%% of its limit, %s",
				   s->cgroups[i].path, s->cgroups[i].limit_used_percent,
				   cgroup_states[s->cgroup_why[i]][1]);
	if (s->total.v[NF_available] < s->total.v[NF_total] / 20)
		add_reason(f, "only %s available", fmt_bytes(b, sizeof(b), s->total.v[NF_available]));
}

/* ---- the record ---- */

#define MAX_REASONS 8

/* The system's figures the report shows: sys's total record's, and swap and self. */
#define MEMORY_FACTS(X)                                                                    \
	X(total) X(free) X(available) X(used) X(anon_pages) X(file_pages) X(shmem) X(slab)  \
	X(sreclaimable) X(page_tables) X(kernel_stack) X(anon_huge_pages)                   \
	X(shmem_huge_pages) X(dirty) X(writeback)

struct memory_part {
	uint64_t null_mask;
#define M(name) uint64_t name##_bytes;
	MEMORY_FACTS(M)
#undef M
	uint64_t allocated_bytes;
	int64_t other_bytes;
	int64_t unmanaged_bytes;
	char unmanaged_reason[160];
	uint64_t swap_total_bytes, swap_free_bytes, memscope_rss_bytes;
};

struct psi_part {
	uint64_t null_mask;
	double some_avg10, some_avg60, full_avg10, full_avg60;
	uint64_t some_total_ns, full_total_ns;
};

struct victim_part {
	uint64_t null_mask;
	int32_t pid;
	char comm[MS_COMM_LEN + 1];
	char memcg[256];
	uint64_t rss_anon_bytes;
};

struct activity_part {
	uint64_t null_mask;
	uint64_t sample_ns, alloc_failures, allowed_alloc_failures;
	int32_t alloc_failure_worst_order;
	uint64_t reclaim_scanned_pages, reclaim_reclaimed_pages;
	double reclaim_scanned_per_s, reclaim_reclaimed_per_s;
	uint64_t direct_reclaim_stalls, memcg_reclaim_stalls;
	uint64_t stall_p50_at_most_ns, stall_p99_at_most_ns, kswapd_wakeups, kswapd_awake_ns;
	uint64_t compaction_stalls;
	uint32_t nr_kills;
	struct victim_part oom_kills[MAX_VICTIMS];
};

struct summary_row {
	uint64_t null_mask;
	char verdict[16];
	uint32_t nr_reasons, nr_nodes, nr_top, nr_cgroups;
	char reasons[MAX_REASONS][256];
	struct memory_part memory;
	struct node_row nodes[SYS_MAX_NODES];
	struct psi_part psi;
	struct activity_part activity;
	struct proc_row top_processes[TOP_N];
	char processes_scope[160];
	struct cgroup_part cgroups[MAX_CGROUPS];
	struct mem_accounting parts;
	uint32_t nr_owners;
	struct mem_owner owners[24];
};

#define M(name)                                                                            \
	FLD(struct memory_part, name##_bytes, #name "_bytes", NULL, FT_U64, FU_BYTES,       \
	    FK_GAUGE, 0, "as the sys total record's " #name "_bytes"),
static const struct field memory_fields[] = {
	MEMORY_FACTS(M)
	FLD(struct memory_part, allocated_bytes, "allocated_bytes", NULL, FT_U64, FU_BYTES,
	    FK_GAUGE, 0, "total - free: what the parts below and other_bytes add up to"),
	FLD(struct memory_part, other_bytes, "other_bytes", NULL, FT_S64, FU_BYTES, FK_GAUGE, 0,
	    "allocated - anon_pages - file_pages - slab - page_tables - kernel_stack (shmem and "
	    "THP are inside those): huge page pools, vmalloc, per-CPU areas, drivers"),
	FLD(struct memory_part, unmanaged_bytes, "unmanaged_bytes", NULL, FT_S64, FU_BYTES,
	    FK_GAUGE, FF_NULL, "MemTotal minus the zones' managed pages"),
	FLD(struct memory_part, unmanaged_reason, "unmanaged_reason", NULL, FT_STR, FU_NONE,
	    FK_LABEL, FF_NULL, "why that is beyond 1 %; null when not"),
	FLD(struct memory_part, swap_total_bytes, "swap_total_bytes", NULL, FT_U64, FU_BYTES,
	    FK_GAUGE, FF_NULL, "SwapTotal"),
	FLD(struct memory_part, swap_free_bytes, "swap_free_bytes", NULL, FT_U64, FU_BYTES,
	    FK_GAUGE, FF_NULL, "SwapFree"),
	FLD(struct memory_part, memscope_rss_bytes, "memscope_rss_bytes", NULL, FT_U64, FU_BYTES,
	    FK_GAUGE, 0, "memscope's own resident memory (in the figures, not in the top list)"),
};
#undef M
static const struct record_desc memory_desc =
	RECORD_DESC("summary.memory", "the system's memory (/proc/meminfo's figures)",
		    memory_fields, struct memory_part);

/* named as everywhere else (cgroup, report, the recorder's samples) */
#define P(m, key, help)                                                                     \
	FLD(struct psi_part, m, key, NULL, FT_F64, FU_PERCENT, FK_GAUGE, FF_NULL, help)
static const struct field psi_fields[] = {
	P(some_avg10, "psi_some_avg10_percent",
	  "percent of the last 10 s some task stalled on memory; null without PSI"),
	P(some_avg60, "psi_some_avg60_percent", "the same over 60 s"),
	P(full_avg10, "psi_full_avg10_percent",
	  "percent of the last 10 s all non-idle tasks stalled"),
	P(full_avg60, "psi_full_avg60_percent", "the same over 60 s"),
	FLD(struct psi_part, some_total_ns, "psi_some_total_ns", NULL, FT_U64, FU_NS, FK_COUNTER,
	    FF_NULL, "time some task stalled, since boot"),
	FLD(struct psi_part, full_total_ns, "psi_full_total_ns", NULL, FT_U64, FU_NS, FK_COUNTER,
	    FF_NULL, "time all stalled, since boot"),
};
#undef P
static const struct record_desc psi_desc =
	RECORD_DESC("summary.psi", "memory pressure (/proc/pressure/memory)", psi_fields,
		    struct psi_part);

static const struct field victim_fields[] = {
	FLD(struct victim_part, pid, "pid", NULL, FT_S32, FU_NONE, FK_LABEL, 0, "the victim"),
	FLD(struct victim_part, comm, "comm", NULL, FT_STR, FU_NONE, FK_LABEL, 0, "its name"),
	FLD(struct victim_part, memcg, "memcg", NULL, FT_STR, FU_NONE, FK_LABEL, FF_NULL,
	    "its memory cgroup (/a/b); null when unknown"),
	FLD(struct victim_part, rss_anon_bytes, "rss_anon_bytes", NULL, FT_U64, FU_BYTES, FK_GAUGE,
	    FF_NULL, "its anonymous memory at the kill; null where the kernel gave only the pid"),
};
static const struct record_desc victim_desc =
	RECORD_DESC("summary.activity.oom_kills", "an OOM kill during the sample", victim_fields,
		    struct victim_part);

#define A(m, ft, unit, flags, help)                                                        \
	FLD(struct activity_part, m, #m, NULL, ft, unit, FK_GAUGE, flags, help)
static const struct field activity_fields[] = {
	A(sample_ns, FT_U64, FU_NS, 0, "the sample's length"),
	A(alloc_failures, FT_U64, FU_NONE, 0, "page allocation failures"),
	A(allowed_alloc_failures, FT_U64, FU_NONE, 0,
	  "of those, the ones the caller said it handles (__GFP_NOWARN): no incident by "
	  "themselves, so not in the verdict"),
	A(alloc_failure_worst_order, FT_S32, FU_NONE, FF_NULL, "the highest order that failed"),
	A(reclaim_scanned_pages, FT_U64, FU_PAGES, 0, "pages reclaim scanned"),
	A(reclaim_reclaimed_pages, FT_U64, FU_PAGES, 0, "pages it reclaimed"),
	A(reclaim_scanned_per_s, FT_F64, FU_NONE, 0, "pages scanned per second"),
	A(reclaim_reclaimed_per_s, FT_F64, FU_NONE, 0, "pages reclaimed per second"),
	A(direct_reclaim_stalls, FT_U64, FU_NONE, 0, "direct reclaim stalls"),
	A(memcg_reclaim_stalls, FT_U64, FU_NONE, 0, "memcg reclaim stalls"),
	A(stall_p50_at_most_ns, FT_U64, FU_NS, FF_NULL, "stall median (upper bound); null: none"),
	A(stall_p99_at_most_ns, FT_U64, FU_NS, FF_NULL, "stall 99th percentile (upper bound)"),
	A(kswapd_wakeups, FT_U64, FU_NONE, 0, "times a kswapd left a full sleep, every node"),
	A(kswapd_awake_ns, FT_U64, FU_NS, 0,
	  "time kswapd was awake (wake-up to full sleep), every node's added"),
	A(compaction_stalls, FT_U64, FU_NONE, 0, "direct compaction runs"),
	FLD_RECS(struct activity_part, oom_kills, nr_kills, "oom_kills", &victim_desc,
		 "OOM kills"),
};
#undef A
static const struct record_desc activity_desc =
	RECORD_DESC("summary.activity", "what happened during the sample", activity_fields,
		    struct activity_part);

static const struct field cgroup_part_fields[] = {
	FLD(struct cgroup_part, path, "path", "CGROUP", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	    "the memory cgroup"),
	FLD(struct cgroup_part, container, "container", "CONTAINER", FT_STR, FU_NONE, FK_LABEL,
	    FF_LEFT | FF_NULL, "systemd unit, container or pod (memscope cgroup); null: none"),
	FLD(struct cgroup_part, usage_bytes, "usage_bytes", "USAGE", FT_U64, FU_BYTES, FK_GAUGE, 0,
	    "its usage at the end of the sample"),
	FLD(struct cgroup_part, limit_bytes, "limit_bytes", "LIMIT", FT_U64, FU_BYTES, FK_GAUGE,
	    FF_NULL, "its limit; null: none"),
	FLD(struct cgroup_part, limit_used_percent, "limit_used_percent", "%LIM", FT_F64,
	    FU_PERCENT, FK_GAUGE, FF_NULL, "usage of the limit"),
	FLD(struct cgroup_part, working_set_bytes, "working_set_bytes", "WSET", FT_U64, FU_BYTES,
	    FK_GAUGE, FF_NULL, "usage - inactive file pages (cAdvisor's; memscope cgroup)"),
	FLD(struct cgroup_part, reclaim_stalls, "reclaim_stalls", NULL, FT_U64, FU_NONE,
	    FK_COUNTER, 0, "reclaim stalls of its tasks during the sample (BPF)"),
	FLD(struct cgroup_part, refault_pages, "refault_pages", NULL, FT_U64, FU_PAGES,
	    FK_COUNTER, FF_NULL,
	    "pages refaulted during the sample (memory.stat workingset_refault_anon + _file); "
	    "null where memory.stat has no such line"),
	FLD(struct cgroup_part, psi_some_percent, "psi_some_percent", NULL, FT_F64, FU_PERCENT,
	    FK_GAUGE, FF_NULL, "share of the sample some task of it stalled on memory "
	    "(memory.pressure some total, v2); null on v1"),
	FLD(struct cgroup_part, oom_kills, "oom_kills", "OOM_KILLS", FT_U64, FU_NONE, FK_COUNTER, 0,
	    "OOM kills in it during the sample, by its own counter"),
	FLD(struct cgroup_part, pressure, "pressure", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "it counts toward the verdict: OOM-killed, its tasks stalled in reclaim, its pages "
	    "refaulted, its PSI some >= 1 % of the sample, or its working set >= 90 % of the "
	    "limit (all during the sample but the last); a cgroup its page cache fills is at "
	    "its limit by design"),
	FLD(struct cgroup_part, state, "state", "STATE", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	    "the first of those that holds: OOM-killed, stalled, refaulting, PSI pressure, "
	    "working set (>= 90 % of the limit); else \"page cache\" (what fills it is "
	    "reclaimable)"),
};
static const struct record_desc cgroup_part_desc =
	RECORD_DESC("cgroup_alert", "a memory cgroup at >= 90 % of its limit or OOM-killed during "
		    "the health report's sample", cgroup_part_fields, struct cgroup_part);

static const struct field summary_fields[] = {
	FLD(struct summary_row, verdict, "verdict", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "OK, or under pressure"),
	FLD_STRS(struct summary_row, reasons, nr_reasons, "reasons", 0, "why, one finding each"),
	FLD_REC(struct summary_row, memory, "memory", 0, &memory_desc, "the system's memory"),
	FLD_RECS(struct summary_row, nodes, nr_nodes, "nodes", &node_desc, "every node"),
	FLD_REC(struct summary_row, psi, "psi", FF_INLINE, &psi_desc,
		"memory pressure (/proc/pressure/memory)"),
	FLD_REC(struct summary_row, activity, "activity", 0, &activity_desc, "during the sample"),
	FLD_RECS(struct summary_row, top_processes, nr_top, "top_processes", &proc_desc,
		 "the largest processes (memscope itself not listed)"),
	FLD(struct summary_row, processes_scope, "processes_scope", NULL, FT_STR, FU_NONE,
	    FK_LABEL, FF_NULL, "null: every process; else which ones top_processes could see "
	    "(in a PID namespace, only its own)"),
	FLD_RECS(struct summary_row, cgroups, nr_cgroups, "cgroups", &cgroup_part_desc,
		 "memory cgroups at >= 90 % of their limit, or OOM-killed during the sample"),
	FLD_REC(struct summary_row, parts, "memory_parts", FF_NULL, &mem_accounting_desc,
		"every byte of MemTotal in one part; null when /proc/meminfo cannot be read"),
	FLD_RECS(struct summary_row, owners, nr_owners, "memory_owners", &mem_owner_desc,
		 "each part's largest holders"),
};
static const struct record_desc summary_desc =
	RECORD_DESC("summary", "the health report (memscope with no command)", summary_fields,
		    struct summary_row);

static void memory_of(const struct sample *s, struct memory_part *m)
{
	const struct node_row *t = &s->total;
	bool swap = s->have_mi && meminfo_has(&s->mi, MI_SWAP_TOTAL) &&
		    meminfo_has(&s->mi, MI_SWAP_FREE);

#define M(name) m->name##_bytes = t->v[NF_##name];
	MEMORY_FACTS(M)
#undef M
	m->allocated_bytes = counter_nonneg((int64_t)(m->total_bytes - m->free_bytes));
	m->other_bytes = (int64_t)m->allocated_bytes - (int64_t)(m->anon_pages_bytes +
		m->file_pages_bytes + m->slab_bytes + m->page_tables_bytes + m->kernel_stack_bytes);
	m->unmanaged_bytes = t->unmanaged_bytes;
	if (record_is_null(&node_desc, t, "unmanaged_bytes"))
		record_null(&memory_desc, m, "unmanaged_bytes");
	snprintf(m->unmanaged_reason, sizeof(m->unmanaged_reason), "%s", t->unmanaged_reason);
	if (record_is_null(&node_desc, t, "unmanaged_reason"))
		record_null(&memory_desc, m, "unmanaged_reason");
	/* Swap has no per-node counter: these come from /proc/meminfo. */
	m->swap_total_bytes = s->mi.bytes[MI_SWAP_TOTAL];
	m->swap_free_bytes = s->mi.bytes[MI_SWAP_FREE];
	if (!swap) {
		record_null(&memory_desc, m, "swap_total_bytes");
		record_null(&memory_desc, m, "swap_free_bytes");
	}
	m->memscope_rss_bytes = s->self_rss_bytes;
}

static void activity_of(const struct sample *s, struct activity_part *a)
{
	const struct reclaim_totals *rt = &s->rt;

	a->sample_ns = s->secs * 1e9;
	a->alloc_failures = s->ft.failures;
	a->allowed_alloc_failures = s->failures_allowed;
	a->alloc_failure_worst_order = s->ft.worst_order;
	if (s->ft.worst_order < 0)
		record_null(&activity_desc, a, "alloc_failure_worst_order");
	a->reclaim_scanned_pages = rt->scanned;
	a->reclaim_reclaimed_pages = rt->reclaimed;
	a->reclaim_scanned_per_s = (int64_t)(rt->scanned / s->secs * 10) / 10.0;
	a->reclaim_reclaimed_per_s = (int64_t)(rt->reclaimed / s->secs * 10) / 10.0;
	a->direct_reclaim_stalls = rt->stalls[RC_DIRECT];
	a->memcg_reclaim_stalls = rt->stalls[RC_MEMCG];
	a->stall_p50_at_most_ns = rt->stall_p50_ns;
	a->stall_p99_at_most_ns = rt->stall_p99_ns;
	if (!rt->stall_p50_ns)
		record_null(&activity_desc, a, "stall_p50_at_most_ns");
	if (!rt->stall_p99_ns)
		record_null(&activity_desc, a, "stall_p99_at_most_ns");
	a->kswapd_wakeups = rt->kswapd_wakeups;
	a->kswapd_awake_ns = rt->kswapd_awake_ns;
	a->compaction_stalls = rt->compact_stalls;
	for (int i = 0; i < s->nv; i++) {
		struct victim_part *v = &a->oom_kills[a->nr_kills++];

		v->pid = s->victims[i].pid;
		snprintf(v->comm, sizeof(v->comm), "%s", s->victims[i].comm);
		snprintf(v->memcg, sizeof(v->memcg), "%s", s->victims[i].memcg);
		if (!v->memcg[0])
			record_null(&victim_desc, v, "memcg");
		v->rss_anon_bytes = s->victims[i].rss_anon_bytes;
		if (!s->victims[i].has_sizes)
			record_null(&victim_desc, v, "rss_anon_bytes");
	}
}

static void psi_of(const struct sample *s, struct summary_row *r)
{
	/* two decimals, as the kernel prints them */
	r->psi.some_avg10 = s->psi.some_avg10;
	r->psi.some_avg60 = s->psi.some_avg60;
	r->psi.full_avg10 = s->psi.full_avg10;
	r->psi.full_avg60 = s->psi.full_avg60;
	r->psi.some_total_ns = s->psi.some_total_ns;
	r->psi.full_total_ns = s->psi.full_total_ns;
	for (int i = 0; !s->have_psi && i < psi_desc.nr; i++)
		record_null(&psi_desc, &r->psi, psi_desc.fields[i].key);
}

static void report_row(const struct sample *s, const char (*reasons)[256], int nr,
		       struct summary_row *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->verdict, sizeof(r->verdict), "%s", nr ? "under pressure" : "OK");
	for (r->nr_reasons = 0; (int)r->nr_reasons < nr && r->nr_reasons < MAX_REASONS;
	     r->nr_reasons++)
		memcpy(r->reasons[r->nr_reasons], reasons[r->nr_reasons], sizeof(r->reasons[0]));
	memory_of(s, &r->memory);
	r->nr_nodes = s->nn;
	memcpy(r->nodes, s->node_rows, s->nn * sizeof(r->nodes[0]));
	psi_of(s, r);
	activity_of(s, &r->activity);
	for (r->nr_top = 0; r->nr_top < s->procs.n && r->nr_top < TOP_N; r->nr_top++)
		proc_row_of(&s->procs.r[r->nr_top], NULL, &r->top_processes[r->nr_top]);
	if (s->pid_namespace)
		snprintf(r->processes_scope, sizeof(r->processes_scope), "%s", PROCS_PIDNS_SCOPE);
	else
		record_null(&summary_desc, r, "processes_scope");
	r->nr_cgroups = s->ncg;
	memcpy(r->cgroups, s->cgroups, sizeof(r->cgroups));
	r->parts = s->acc;
	if (!s->have_acc)
		record_null(&summary_desc, r, "memory_parts");
	r->nr_owners = s->nowners;
	memcpy(r->owners, s->owners, sizeof(r->owners));
}

/* ---- text ---- */

/*
 * What is not free, by owner: the parts add up to it ("other" is the rest: huge page
 * pools, vmalloc, per-CPU areas, drivers). Shmem and THP are inside anon and file.
 */
static void print_memory(const struct sample *s, const struct memory_part *m)
{
	char a[32], b[32], c[32], text[512];
	char items[6][64];
	const char *list[6];
	const struct { const char *name; int64_t bytes; } parts[] = {
		{ "anon", m->anon_pages_bytes }, { "file cache", m->file_pages_bytes },
		{ "slab", m->slab_bytes }, { "page tables", m->page_tables_bytes },
		{ "kernel stacks", m->kernel_stack_bytes }, { "other", m->other_bytes },
	};

	out_printf("memory   total %s, free %s, available %s\n", fmt_bytes(a, 32, m->total_bytes),
		   fmt_bytes(b, 32, m->free_bytes), fmt_bytes(c, 32, m->available_bytes));
	if (!record_is_null(&memory_desc, m, "unmanaged_reason")) {
		snprintf(text, sizeof(text), "%s of it in no zone yet: %s",
			 fmt_bytes(a, 32, m->unmanaged_bytes), m->unmanaged_reason);
		out_wrap("  note: ", "        ", text);
	}
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		if (parts[i].bytes < 0)
			snprintf(items[i], sizeof(items[i]), "%s -%s", parts[i].name,
				 fmt_bytes(a, 32, -parts[i].bytes));
		else
			snprintf(items[i], sizeof(items[i]), "%s %s", parts[i].name,
				 fmt_bytes(a, 32, parts[i].bytes));
		list[i] = items[i];
	}
	snprintf(text, sizeof(text), "  allocated %s: ", fmt_bytes(a, 32, m->allocated_bytes));
	out_wrap_list(text, "    ", list, ARRAY_SIZE(parts), ",", true);
	out_printf("  of which shmem %s, THP anon %s, THP shmem %s\n",
		   fmt_bytes(a, 32, m->shmem_bytes), fmt_bytes(b, 32, m->anon_huge_pages_bytes),
		   fmt_bytes(c, 32, m->shmem_huge_pages_bytes));
	out_printf("  dirty %s, writeback %s; ", fmt_bytes(a, 32, m->dirty_bytes),
		   fmt_bytes(b, 32, m->writeback_bytes));
	if (!s->have_mi)
		out_printf("swap unknown\n");
	else if (!s->mi.bytes[MI_SWAP_TOTAL])
		out_printf("no swap configured\n");
	else
		out_printf("swap %s used of %s\n",
			   fmt_bytes(a, 32, s->mi.bytes[MI_SWAP_TOTAL] - s->mi.bytes[MI_SWAP_FREE]),
			   fmt_bytes(b, 32, s->mi.bytes[MI_SWAP_TOTAL]));
	for (int i = 0; s->nn > 1 && i < s->nn; i++)
		out_printf("  node %d: total %s, free %s, file %s, anon %s\n", s->node_rows[i].node,
			   fmt_bytes(a, 32, s->node_rows[i].v[NF_total]),
			   fmt_bytes(b, 32, s->node_rows[i].v[NF_free]),
			   fmt_bytes(c, 32, s->node_rows[i].v[NF_file_pages]),
			   fmt_bytes(text, 32, s->node_rows[i].v[NF_anon_pages]));
	if (s->have_psi)
		out_printf("pressure PSI memory some %.2f%% (10 s) %.2f%% (60 s), full %.2f%% / "
			   "%.2f%%\n", s->psi.some_avg10, s->psi.some_avg60, s->psi.full_avg10,
			   s->psi.full_avg60);
	else
		out_printf("pressure PSI not available on this kernel\n");
}

/* A finding: its name, its value, and the command that digs deeper. */
struct finding {
	const char *what;
	char value[320];
	const char *next;
};

#define FINDING_NAME_COLS 25 /* "  " + 22 + " " */

/*
 * Every "→ memscope ..." starts at one column: right of the longest value when the
 * line has room, else as far left as the longest pointer allows; a value too long
 * for its line has its pointer on the next one, at the same column.
 */
static void print_findings(const struct finding *f, int n)
{
	int arrow = out_utf8() ? 1 : 2, longest_value = 0, longest_next = 0, col, room;

	for (int i = 0; i < n; i++) {
		if ((int)strlen(f[i].value) > longest_value)
			longest_value = strlen(f[i].value);
		if (arrow + 1 + (int)strlen(f[i].next) > longest_next)
			longest_next = arrow + 1 + strlen(f[i].next);
	}
	col = FINDING_NAME_COLS + longest_value + 2;
	if (col + longest_next > out_width())
		col = out_width() - longest_next;
	if (col < FINDING_NAME_COLS + 2)
		col = FINDING_NAME_COLS + 2;
	room = col - FINDING_NAME_COLS - 1;
	for (int i = 0; i < n; i++) {
		char first[64];

		if ((int)strlen(f[i].value) <= room) {
			out_printf("  %-22s %-*s %s %s\n", f[i].what, room, f[i].value, out_arrow(),
				   f[i].next);
			continue;
		}
		snprintf(first, sizeof(first), "  %-22s ", f[i].what);
		out_wrap(first, "                         ", f[i].value);
		out_printf("%*s%s %s\n", col, "", out_arrow(), f[i].next);
	}
}

static void print_activity(const struct sample *s)
{
	const struct reclaim_totals *rt = &s->rt;
	char a[32], b[32], comm[COMM_TEXT_LEN];
	struct finding f[] = {
		{ "allocation failures", "none", "memscope paf --stack" },
		{ "reclaim", "", "memscope reclaim" },
		{ "reclaim stalls", "none", "memscope reclaim --events --by-process" },
		{ "kswapd", "", "memscope reclaim" },
		{ "compaction stalls", "", "memscope sys --zones --frag" },
		{ "OOM kills", "none", "memscope oom --detail" },
	};
	unsigned long long stalls = rt->stalls[RC_DIRECT] + rt->stalls[RC_MEMCG] +
				    rt->stalls[RC_NODE];

	out_printf("\nduring the sample\n");
	if (s->ft.failures)
		snprintf(f[0].value, sizeof(f[0].value), "%llu, worst order %d%s", s->ft.failures,
			 s->ft.worst_order, !s->failures_allowed ? "" :
			 s->failures_allowed == s->ft.failures ? ", all allowed (__GFP_NOWARN)" :
			 ", some allowed (__GFP_NOWARN)");
	snprintf(f[1].value, sizeof(f[1].value), "scanned %s/s, reclaimed %s/s (pages)",
		 fmt_count(a, 32, rt->scanned / s->secs), fmt_count(b, 32, rt->reclaimed / s->secs));
	if (stalls)
		snprintf(f[2].value, sizeof(f[2].value), "%llu direct, %llu memcg; p50 <= %s, "
			 "p99 <= %s", rt->stalls[RC_DIRECT], rt->stalls[RC_MEMCG],
			 fmt_duration_ns(a, 32, rt->stall_p50_ns),
			 fmt_duration_ns(b, 32, rt->stall_p99_ns));
	snprintf(f[3].value, sizeof(f[3].value), "%llu wake-up%s, awake %s", rt->kswapd_wakeups,
		 rt->kswapd_wakeups == 1 ? "" : "s", fmt_duration_ns(a, 32, rt->kswapd_awake_ns));
	snprintf(f[4].value, sizeof(f[4].value), "%llu", rt->compact_stalls);
	if (s->nv)
		snprintf(f[5].value, sizeof(f[5].value), "%d: pid %d (%s)%s%s", s->nv,
			 s->victims[0].pid, comm_text(s->victims[0].comm, comm),
			 s->victims[0].memcg[0] ? " in " : "", s->victims[0].memcg);
	print_findings(f, ARRAY_SIZE(f));
}

static void print_top(json_object *tops, const struct sample *s)
{
	static const char *const keys[] = { "pid", "comm", "rss_bytes", "rss_anon_bytes",
					    "rss_file_bytes", "rss_shmem_bytes", "swap_bytes",
					    "page_tables_bytes", NULL };
	struct ms_col cols[8];
	struct ms_table *t = table_new(cols, record_cols_pick(&proc_desc, keys, cols, 8));
	char own[32];

	out_printf("\ntop %zu processes by RSS (memscope's own %s not listed) %s memscope proc\n",
		   json_object_array_length(tops), fmt_bytes(own, sizeof(own), s->self_rss_bytes),
		   out_arrow());
	if (s->pid_namespace)
		out_printf("  (%s)\n", PROCS_PIDNS_SCOPE);
	for (size_t i = 0; i < json_object_array_length(tops); i++)
		table_add(t, json_object_get(json_object_array_get_idx(tops, i)));
	table_flush(t);
	table_free(t);
}

static void print_cgroups(json_object *list)
{
	struct ms_col cols[8];
	struct ms_table *t;

	if (!list || !json_object_array_length(list))
		return;
	static const char *const keys[] = { "path", "usage_bytes", "limit_bytes",
					    "working_set_bytes", "state", "oom_kills", NULL };

	t = table_new(cols, record_cols_pick(&cgroup_part_desc, keys, cols, 8));
	out_printf("\nmemory cgroups near their limit or OOM-killed %s memscope cgroup\n",
		   out_arrow());
	for (size_t i = 0; i < json_object_array_length(list); i++)
		table_add(t, json_object_get(json_object_array_get_idx(list, i)));
	table_flush(t);
	table_free(t);
}

static void print_report(const struct sample *s, const struct summary_row *row, json_object *rec,
			 const struct findings *f)
{
	char reasons[1024];
	struct strbuf sb;

	json_object *tops = NULL, *cgroups = NULL;
	struct utsname un;

	uname(&un);
	json_object_object_get_ex(rec, "top_processes", &tops);
	json_object_object_get_ex(rec, "cgroups", &cgroups);
	sb_init(&sb, reasons, sizeof(reasons));
	for (int i = 0; i < f->n; i++) {
		sb_sep(&sb, ", ");
		sb_add(&sb, "%s", f->text[i]);
	}
	out_printf("\nmemscope health report: %.1f s sample, kernel %s\n", s->secs, un.release);
	if (*reasons)
		out_wrap("verdict: under pressure: ", "         ", reasons);
	else
		out_printf("verdict: OK\n");
	out_printf("\n");
	print_memory(s, &row->memory);
	if (s->have_acc) {
		out_printf("\n");
		mem_accounting_print(&s->acc, s->owners, s->nowners, true);
		if (s->owners_why[0])
			out_wrap("  not named: ", "    ", s->owners_why);
	}
	print_activity(s);
	print_top(tops, s);
	print_cgroups(cgroups);
	out_flush();
}

static int summary_run(const struct ms_opts *o)
{
	double want = o->duration > 0 ? o->duration : DEFAULT_SAMPLE_S;
	struct sample *s = calloc(1, sizeof(*s));
	struct watchers *w = calloc(1, sizeof(*w));
	struct summary_row *row = calloc(1, sizeof(*row));
	struct findings f = { .n = 0 };
	json_object *rec;
	uint64_t t0;

	if (!s || !w || !row)
		ms_fatal("out of memory");
	ms_require_bpf();
	watch(w);
	t0 = ms_now_ns();
	if (!out_json_mode()) {
		out_printf("sampling for %.1f s...\n", want);
		out_flush();
	}
	ms_ready();
	ms_sleep_ns(want * 1e9);
	if (ms_stop_reason() != MS_STOP_PIPE) {
		s->secs = (ms_now_ns() - t0) / 1e9;
		gather(w, s);
		verdict(s, &f);
		report_row(s, f.text, f.n, row);
		rec = record_json(&summary_desc, row, ms_wall_now());
		if (out_json_mode())
			out_json(json_object_get(rec));
		else
			print_report(s, row, rec, &f);
		json_object_put(rec);
	}
	unwatch(w);
	proc_list_free(&s->procs);
	free(row);
	free(s);
	free(w);
	return 0;
}

const struct ms_cmd cmd_summary = {
	.name = "summary",
	.summary = "one-screen memory health report (the default when no command is given)",
	.details =
		"Watches a short sample (default 5 s, -d to change) for allocation failures,\n"
		"reclaim, stalls, kswapd, compaction and OOM kills, then reads the system's\n"
		"totals (/proc/meminfo's), every node and the largest processes: a verdict,\n"
		"and for each finding the command that digs deeper.",
	.examples = "  memscope                  a 5 s sample\n"
		    "  memscope -d 30 -j         30 s, one JSON record\n",
	.shared = MS_OPT_DURATION,
	.run = summary_run,
	.records = (const struct record_desc *const[]){ &summary_desc, &memory_desc, &psi_desc,
		&activity_desc, &victim_desc, &node_desc, &proc_desc, &cgroup_part_desc,
		&mem_accounting_desc, &mem_owner_desc, NULL },
};
