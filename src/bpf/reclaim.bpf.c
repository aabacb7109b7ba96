// SPDX-License-Identifier: GPL-2.0
/*
 * memscope reclaim, kernel side: page reclaim from the vmscan tracepoints,
 * counted in per-CPU arrays (no event per batch), stall latencies as log2
 * histograms, kswapd wake/sleep, shrinker timing. Only --events sends one
 * record per stall.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "reclaim.h"
#include "filter.bpf.h"
#include "hook.bpf.h"
#include "task.bpf.h"

const volatile bool want_events, want_by_process, want_slab, want_by_memcg;
/* boot-clock ns when the hooks were attached: kswapd awake then counts from here */
__u64 start_ns;
/* --events: only stalls at least this long (ns) become records */
const volatile __u64 min_event_ns;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RC_NODE_SLOTS * RC_NR_KIND);
	__type(key, __u32);
	__type(value, struct rc_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RC_NR_KIND);
	__type(key, __u32);
	__type(value, struct rc_isolate);
} isolate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RC_NR_KIND);
	__type(key, __u32);
	__type(value, struct rc_stall_stats);
} stalls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RC_MAX_NODES);
	__type(key, __u32);
	__type(value, struct rc_kswapd);
} kswapd SEC(".maps");

/* A stalled thread: what it is in, since when. */
struct stall_start {
	__u64 ts;
	__u64 gfp;
	__u32 kind, order;
	__u32 counted; /* passed the filters */
	__u32 pad;
};

/*
 * Stalls nest: memcg soft-limit reclaim (cgroup v1) runs inside direct reclaim
 * (shrink_zones -> mem_cgroup_soft_limit_reclaim, mm/vmscan.c), so each thread
 * keeps a stack of them; an end closes the innermost.
 */
#define STALL_NEST 4
struct stall_stack {
	struct stall_start s[STALL_NEST];
	__u32 depth; /* may exceed STALL_NEST: those levels are counted, not timed */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct stall_stack);
} in_stall SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rc_proc_key);
	__type(value, struct rc_proc);
} by_process SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct slab_start {
	__u64 ts;
	__u64 scan_fn;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct slab_start);
} in_slab SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* the shrinker's scan_objects function */
	__type(value, struct rc_slab);
} slab SEC(".maps");

/* lost: ring buffer full; by_process_full: a process not counted (map full);
 * stalls_untimed: a stall not timed (thread table full, or nested too deep);
 * node_beyond: an event of a node whose id is RC_MAX_NODES or more (its counts go
 * to the RC_NODE_BEYOND slot, its kswapd's are not kept) */
__u64 nr_lost, nr_by_process_full, nr_stalls_untimed, nr_by_memcg_full, nr_node_beyond;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct rc_memcg_key);
	__type(value, struct rc_memcg);
} by_memcg SEC(".maps");

/* --by-memcg: the current task's entry for this reclaimer (shared by all CPUs). */
static __always_inline struct rc_memcg *memcg_entry(__u32 kind)
{
	struct rc_memcg_key k = { .kind = kind };
	struct rc_memcg *m;

	k.memcg_id = task_memcg_id(bpf_get_current_task_btf());
	m = bpf_map_lookup_elem(&by_memcg, &k);
	if (!m) {
		static const struct rc_memcg fresh;

		m = lookup_or_init(&by_memcg, &k, &fresh);
		if (!m)
			__sync_fetch_and_add(&nr_by_memcg_full, 1);
	}
	return m;
}

/* The innermost stall of this thread, or NULL. */
static __always_inline struct stall_start *stall_top(struct stall_stack *st)
{
	__u32 d = st->depth;

	if (d == 0 || d > STALL_NEST)
		return NULL;
	return &st->s[(d - 1) & (STALL_NEST - 1)];
}

/* Who is reclaiming on this thread right now? */
static __always_inline __u32 current_kind(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct stall_stack *st = bpf_map_lookup_elem(&in_stall, &tid);
	struct stall_start *s = st ? stall_top(st) : NULL;

	if (s)
		return s->kind;
	return task_is_kswapd((struct task_struct *)bpf_get_current_task()) ? RC_KSWAPD : RC_OTHER;
}

/* Pages the stalled task's own reclaim scanned and freed (kswapd's and others' are not
 * any one memory cgroup's). */
static __always_inline void memcg_scanned(unsigned long scanned, unsigned long reclaimed)
{
	__u32 kind = current_kind();
	struct rc_memcg *m;

	if (kind == RC_KSWAPD || kind == RC_OTHER || !(m = memcg_entry(kind)))
		return;
	__sync_fetch_and_add(&m->scanned_pages, scanned);
	__sync_fetch_and_add(&m->reclaimed_pages, reclaimed);
}

/* The node's slot in the per-node tables; nodes past them share the last one. */
static __always_inline __u32 node_slot(int nid)
{
	if (nid >= 0 && nid < RC_MAX_NODES)
		return nid;
	__sync_fetch_and_add(&nr_node_beyond, 1);
	return RC_NODE_BEYOND;
}

static __always_inline struct rc_stats *stats_of(int nid)
{
	__u32 key = node_slot(nid) * RC_NR_KIND + current_kind();

	return bpf_map_lookup_elem(&stats, &key);
}

/* What one mm_vmscan_lru_shrink_inactive reports (struct reclaim_stat and more). */
struct shrink_result {
	unsigned long scanned, reclaimed, dirty, writeback, congested, immediate;
	unsigned long activate_anon, activate_file, ref_keep, unmap_fail;
};

/* The RECLAIM_WB_FILE bit of reclaim_flags, from tracefs (the classic variant only). */
const volatile int reclaim_wb_file;

static __always_inline void shrink_inactive(int nid, const struct shrink_result *r, int prio,
					    int file)
{
	struct rc_stats *st = stats_of(nid);

	if (!st)
		return;
	if (want_by_memcg)
		memcg_scanned(r->scanned, r->reclaimed);
	st->shrink_calls++;
	st->scanned += r->scanned;
	st->reclaimed += r->reclaimed;
	if (file > 0) {
		st->scanned_file += r->scanned;
		st->reclaimed_file += r->reclaimed;
	} else if (file == 0) {
		st->scanned_anon += r->scanned;
		st->reclaimed_anon += r->reclaimed;
	}
	st->dirty += r->dirty;
	st->writeback += r->writeback;
	st->congested += r->congested;
	st->immediate += r->immediate;
	st->activate_anon += r->activate_anon;
	st->activate_file += r->activate_file;
	st->ref_keep += r->ref_keep;
	st->unmap_fail += r->unmap_fail;
	/*
	 * The mask keeps the index in bounds where an older verifier loses the check across
	 * a spill (6.1 does, on the classic variant); the empty asm keeps the compiler from
	 * dropping the mask as redundant after the check.
	 */
	__u32 i = prio;

	if (i < RC_NR_PRIO) {
		asm volatile("" : "+r"(i));
		st->prio[i & (RC_PRIO_SLOTS - 1)]++;
	}
}

static __always_inline void shrink_inactive_rs(int nid, unsigned long scanned,
					       unsigned long reclaimed, struct reclaim_stat *rs,
					       int prio, int file)
{
	struct shrink_result r = {
		.scanned = scanned,
		.reclaimed = reclaimed,
		.dirty = BPF_CORE_READ(rs, nr_dirty),
		.writeback = BPF_CORE_READ(rs, nr_writeback),
		.congested = BPF_CORE_READ(rs, nr_congested),
		.immediate = BPF_CORE_READ(rs, nr_immediate),
		.activate_anon = BPF_CORE_READ(rs, nr_activate[0]),
		.activate_file = BPF_CORE_READ(rs, nr_activate[1]),
		.ref_keep = BPF_CORE_READ(rs, nr_ref_keep),
		.unmap_fail = BPF_CORE_READ(rs, nr_unmap_fail),
	};

	shrink_inactive(nid, &r, prio, file);
}

MS_TRACEPOINT(rc_shrink_inactive, mm_vmscan_lru_shrink_inactive,
	      shrink_inactive_rs(nid, scanned, reclaimed, rs, prio, file),
	      int nid, unsigned long scanned, unsigned long reclaimed, struct reclaim_stat *rs,
	      int prio, int file)

/* The record has the counts, and anon/file only as a bit of reclaim_flags. */
static __always_inline void shrink_inactive_classic(struct trace_event_raw_mm_vmscan_lru_shrink_inactive *ctx)
{
	struct shrink_result r = {
		.scanned = ctx->nr_scanned,
		.reclaimed = ctx->nr_reclaimed,
		.dirty = ctx->nr_dirty,
		.writeback = ctx->nr_writeback,
		.congested = ctx->nr_congested,
		.immediate = ctx->nr_immediate,
		.activate_anon = ctx->nr_activate0,
		.activate_file = ctx->nr_activate1,
		.ref_keep = ctx->nr_ref_keep,
		.unmap_fail = ctx->nr_unmap_fail,
	};
	int file = reclaim_wb_file ? !!(ctx->reclaim_flags & reclaim_wb_file) : -1;

	shrink_inactive(ctx->nid, &r, ctx->priority, file);
}

MS_CLASSIC(rc_shrink_inactive, vmscan, mm_vmscan_lru_shrink_inactive,
	   mm_vmscan_lru_shrink_inactive, shrink_inactive_classic(ctx))

static __always_inline void shrink_active(int nid, unsigned long taken, unsigned long active,
					  unsigned long deactivated, unsigned long referenced)
{
	struct rc_stats *st = stats_of(nid);

	if (!st)
		return;
	st->active_taken += taken;
	st->active_deactivated += deactivated;
	st->active_referenced += referenced;
}

MS_TRACEPOINT(rc_shrink_active, mm_vmscan_lru_shrink_active,
	      shrink_active(nid, taken, active, deactivated, referenced),
	      int nid, unsigned long taken, unsigned long active, unsigned long deactivated,
	      unsigned long referenced)
MS_CLASSIC(rc_shrink_active, vmscan, mm_vmscan_lru_shrink_active, mm_vmscan_lru_shrink_active,
	   shrink_active(ctx->nid, ctx->nr_taken, ctx->nr_active, ctx->nr_deactivated,
			 ctx->nr_referenced))

/* The count arguments sit at the same places on every kernel we support. */
static __always_inline void lru_isolate(unsigned long requested, unsigned long scanned,
					unsigned long skipped, unsigned long taken)
{
	__u32 kind = current_kind();
	struct rc_isolate *is = bpf_map_lookup_elem(&isolate, &kind);

	if (!is)
		return;
	is->calls++;
	is->requested += requested;
	is->scanned += scanned;
	is->skipped += skipped;
	is->taken += taken;
}

MS_TRACEPOINT(rc_isolate, mm_vmscan_lru_isolate, lru_isolate(requested, scanned, skipped, taken),
	      int zoneidx, int order, unsigned long requested, unsigned long scanned,
	      unsigned long skipped, unsigned long taken)
MS_CLASSIC(rc_isolate, vmscan, mm_vmscan_lru_isolate, mm_vmscan_lru_isolate,
	   lru_isolate(ctx->nr_requested, ctx->nr_scanned, ctx->nr_skipped, ctx->nr_taken))

/* ---- stalls: direct, memcg and node reclaim hold up the allocating task ---- */

static __always_inline void stall_begin(__u32 kind, int order, __u64 gfp)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct task_struct *t = bpf_get_current_task_btf();
	struct stall_stack *st = bpf_map_lookup_elem(&in_stall, &tid);
	__u32 d;

	if (!st) {
		struct stall_stack fresh = {};

		st = lookup_or_init(&in_stall, &tid, &fresh);
		if (!st) {
			__sync_fetch_and_add(&nr_stalls_untimed, 1);
			return;
		}
	}
	d = st->depth;
	st->depth = d + 1;
	if (d >= STALL_NEST) {
		__sync_fetch_and_add(&nr_stalls_untimed, 1);
		return;
	}
	d &= STALL_NEST - 1;
	st->s[d].ts = bpf_ktime_get_boot_ns();
	st->s[d].gfp = gfp;
	st->s[d].kind = kind;
	st->s[d].order = order;
	st->s[d].counted =
		task_passes_filters(BPF_CORE_READ(t, group_leader), BPF_CORE_READ(t, tgid));
}

static __always_inline __u32 log2_slot(__u64 us)
{
	__u32 slot = 0;

	for (int i = 0; i < RC_HIST_SLOTS - 1; i++) {
		if (us <= 1)
			break;
		us >>= 1;
		slot++;
	}
	return slot;
}

/* The stall's latency into its reclaimer's histogram (per CPU: no atomics needed). */
static __always_inline void count_stall(__u32 kind, __u64 lat, unsigned long reclaimed)
{
	struct rc_stall_stats *ss = bpf_map_lookup_elem(&stalls, &kind);
	__u32 slot = log2_slot(lat / 1000);

	if (!ss)
		return;
	ss->count++;
	ss->total_ns += lat;
	ss->reclaimed += reclaimed;
	if (lat > ss->max_ns)
		ss->max_ns = lat;
	if (slot < RC_HIST_SLOTS)
		ss->hist[slot]++;
}

/* --by-process: the stall to the process's (shared) counters. */
static __always_inline void count_process(__u32 pid, __u32 kind, __u64 lat,
					  unsigned long reclaimed)
{
	struct rc_proc_key k = { .pid = pid, .kind = kind };
	struct rc_proc *p = bpf_map_lookup_elem(&by_process, &k);

	if (!p) {
		struct rc_proc fresh = {};

		bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
		p = lookup_or_init(&by_process, &k, &fresh);
		if (!p) {
			__sync_fetch_and_add(&nr_by_process_full, 1);
			return;
		}
	}
	__sync_fetch_and_add(&p->count, 1);
	__sync_fetch_and_add(&p->total_ns, lat);
	__sync_fetch_and_add(&p->reclaimed, reclaimed);
	if (lat > p->max_ns)
		p->max_ns = lat;
}

/* --by-memcg: the stall to the stalled task's memory cgroup. */
static __always_inline void count_memcg(__u32 kind, __u64 lat, unsigned long reclaimed)
{
	struct rc_memcg *m = memcg_entry(kind);
	__u32 slot = log2_slot(lat / 1000);

	if (!m)
		return;
	__sync_fetch_and_add(&m->count, 1);
	__sync_fetch_and_add(&m->total_ns, lat);
	__sync_fetch_and_add(&m->reclaimed, reclaimed);
	if (lat > m->max_ns)
		m->max_ns = lat;
	if (slot < RC_HIST_SLOTS)
		__sync_fetch_and_add(&m->hist[slot], 1);
}

/* --events: one record for this stall. */
static __always_inline void send_stall(const struct stall_start *s, __u64 id, __u64 now,
				       __u64 lat, unsigned long reclaimed)
{
	struct rc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&nr_lost, 1);
		return;
	}
	e->ts_ns = now;
	e->latency_ns = lat;
	e->reclaimed = reclaimed;
	e->gfp = s->gfp;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->kind = s->kind;
	e->order = s->order;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->memcg_id = task_memcg_id(bpf_get_current_task_btf());
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void stall_end(unsigned long reclaimed)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_boot_ns(), lat;
	__u32 tid = (__u32)id;
	struct stall_stack *st = bpf_map_lookup_elem(&in_stall, &tid);
	struct stall_start *s;

	if (!st || !st->depth)
		return;
	s = stall_top(st); /* NULL: a level too deep to be timed */
	if (s && s->counted) {
		lat = now - s->ts;
		count_stall(s->kind, lat, reclaimed);
		if (want_by_process)
			count_process(id >> 32, s->kind, lat, reclaimed);
		if (want_by_memcg)
			count_memcg(s->kind, lat, reclaimed);
		if (want_events && lat >= min_event_ns)
			send_stall(s, id, now, lat, reclaimed);
	}
	if (--st->depth == 0)
		bpf_map_delete_elem(&in_stall, &tid);
}

/*
 * A reclaim stall: the begin tracepoint (order and gfp, after other fields) and its
 * end, in all three variants; begin_raw is the classic begin record's class.
 */
#define STALL_PAIR(name, kind, begin_raw, args...)                                         \
	MS_TRACEPOINT(rc_##name##_begin, mm_vmscan_##name##_begin, stall_begin(kind, order, gfp), \
		      args)                                                                \
	MS_TRACEPOINT(rc_##name##_end, mm_vmscan_##name##_end, stall_end(reclaimed),        \
		      unsigned long reclaimed)                                             \
	MS_CLASSIC(rc_##name##_begin, vmscan, mm_vmscan_##name##_begin, begin_raw,          \
		   stall_begin(kind, ctx->order, ctx->gfp_flags))                          \
	MS_CLASSIC(rc_##name##_end, vmscan, mm_vmscan_##name##_end,                         \
		   mm_vmscan_direct_reclaim_end_template, stall_end(ctx->nr_reclaimed))

STALL_PAIR(direct_reclaim, RC_DIRECT, mm_vmscan_direct_reclaim_begin_template, int order,
	   gfp_t gfp)
STALL_PAIR(memcg_reclaim, RC_MEMCG, mm_vmscan_direct_reclaim_begin_template, int order,
	   gfp_t gfp)
STALL_PAIR(memcg_softlimit_reclaim, RC_MEMCG, mm_vmscan_direct_reclaim_begin_template,
	   int order, gfp_t gfp)
STALL_PAIR(node_reclaim, RC_NODE, mm_vmscan_node_reclaim_begin, int nid, int order, gfp_t gfp)

/* ---- kswapd ---- */

/* kswapd's entry of its node, or NULL past the table (counted). */
static __always_inline struct rc_kswapd *kswapd_of(int nid)
{
	__u32 key = nid;

	if (nid < 0 || nid >= RC_MAX_NODES) {
		__sync_fetch_and_add(&nr_node_beyond, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&kswapd, &key);
}

/* Each round starts with a wake; the first since a full sleep starts an awake period. */
static __always_inline void kswapd_wake(int nid, int zid, int order)
{
	struct rc_kswapd *k = kswapd_of(nid);
	__u64 now = bpf_ktime_get_boot_ns(), st;

	if (!k)
		return;
	k->rounds++;
	st = k->awake_state;
	if (!(st & RC_KSWAPD_AWAKE)) {
		k->wakeups++;
		k->awake_state = RC_KSWAPD_AWAKE | RC_KSWAPD_SEEN | (now - (st & RC_KSWAPD_NS));
	}
	if ((__u64)order > k->max_order)
		k->max_order = order;
	if (zid >= 0 && zid < 64)
		k->zones |= 1ULL << zid;
}

static __always_inline void kswapd_sleep(int nid)
{
	struct rc_kswapd *k = kswapd_of(nid);
	__u64 now = bpf_ktime_get_boot_ns(), st;

	if (!k)
		return;
	st = k->awake_state;
	if (st & RC_KSWAPD_AWAKE)
		k->awake_state = RC_KSWAPD_SEEN | (now - (st & RC_KSWAPD_NS));
	else if (!(st & RC_KSWAPD_SEEN) && start_ns && now > start_ns)
		k->awake_state = RC_KSWAPD_SEEN | (now - start_ns); /* awake since the start */
	/* else asleep already: a second sleep, after the freezer, without a round */
}

MS_TRACEPOINT(rc_kswapd_wake, mm_vmscan_kswapd_wake, kswapd_wake(nid, zid, order),
	      int nid, int zid, int order)

MS_TRACEPOINT(rc_kswapd_sleep, mm_vmscan_kswapd_sleep, kswapd_sleep(nid), int nid)
MS_CLASSIC(rc_kswapd_wake, vmscan, mm_vmscan_kswapd_wake, mm_vmscan_kswapd_wake,
	   kswapd_wake(ctx->nid, ctx->zid, ctx->order))
MS_CLASSIC(rc_kswapd_sleep, vmscan, mm_vmscan_kswapd_sleep, mm_vmscan_kswapd_sleep,
	   kswapd_sleep(ctx->nid))

/* ---- shrinkers (--slab) ---- */

static __always_inline void slab_start(__u64 scan_fn)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct slab_start s = { .ts = bpf_ktime_get_boot_ns(), .scan_fn = scan_fn };

	if (want_slab)
		bpf_map_update_elem(&in_slab, &tid, &s, BPF_ANY);
}

static __always_inline void slab_end(int freed, long total_scan)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct slab_start *s = bpf_map_lookup_elem(&in_slab, &tid);
	struct rc_slab *v;
	__u64 fn;

	if (!s)
		return;
	fn = s->scan_fn;
	{
		struct rc_slab fresh = {};

		v = lookup_or_init(&slab, &fn, &fresh);
	}
	if (v) {
		__sync_fetch_and_add(&v->calls, 1);
		__sync_fetch_and_add(&v->total_ns, bpf_ktime_get_boot_ns() - s->ts);
		if (freed > 0)
			__sync_fetch_and_add(&v->freed, freed);
		if (total_scan > 0)
			__sync_fetch_and_add(&v->scanned, total_scan);
	}
	bpf_map_delete_elem(&in_slab, &tid);
}

MS_TRACEPOINT(rc_slab_start, mm_shrink_slab_start,
	      slab_start((__u64)BPF_CORE_READ(shr, scan_objects)), struct shrinker *shr)
MS_TRACEPOINT(rc_slab_end, mm_shrink_slab_end, slab_end(freed, total_scan),
	      struct shrinker *shr, int nid, int freed, long unused, long new_scan, long total_scan)
/* the records name the shrinker by its scan function already ("shrink") */
MS_CLASSIC(rc_slab_start, vmscan, mm_shrink_slab_start, mm_shrink_slab_start,
	   slab_start((__u64)ctx->shrink))
MS_CLASSIC(rc_slab_end, vmscan, mm_shrink_slab_end, mm_shrink_slab_end,
	   slab_end(ctx->retval, ctx->total_scan))

/* ---- the reclaim target: needs a function hook (struct scan_control) ---- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RC_NODE_SLOTS * RC_NR_KIND);
	__type(key, __u32);
	__type(value, struct rc_target);
} target SEC(".maps");

static __always_inline void shrink_list(struct pglist_data *pgdat, struct scan_control *sc)
{
	__u32 key = node_slot(BPF_CORE_READ(pgdat, node_id)) * RC_NR_KIND + current_kind();
	struct rc_target *t = bpf_map_lookup_elem(&target, &key);

	if (!t)
		return;
	__sync_fetch_and_add(&t->calls, 1);
	t->last = BPF_CORE_READ(sc, nr_to_reclaim);
}

/* shrink_folio_list(folio_list, pgdat, sc, ...), named shrink_page_list before 6.1 */
MS_FUNCTION(rc_folio_list, shrink_folio_list, shrink_list(pgdat, sc),
	    struct list_head *l, struct pglist_data *pgdat, struct scan_control *sc)

MS_FUNCTION(rc_page_list, shrink_page_list, shrink_list(pgdat, sc),
	    struct list_head *l, struct pglist_data *pgdat, struct scan_control *sc)

/* ---- direct compaction: an allocating task compacting memory itself ---- */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} compact SEC(".maps");

static __always_inline void compact_try(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&compact, &zero);

	if (n)
		(*n)++;
}

MS_TRACEPOINT(rc_compact, mm_compaction_try_to_compact_pages, compact_try())
MS_CLASSIC(rc_compact, compaction, mm_compaction_try_to_compact_pages,
	   mm_compaction_try_to_compact_pages, compact_try())

char LICENSE[] SEC("license") = "GPL";
