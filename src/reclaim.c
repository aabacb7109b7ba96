// SPDX-License-Identifier: GPL-2.0
/* memscope reclaim: page reclaim activity (pr) and the stalls it causes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "textsafe.h"
#include "strbuf.h"
#include "commands.h"
#include "filters.h"
#include "gfp.h"
#include "hooks.h"
#include "ksyms.h"
#include "loss.h"
#include "util.h"
#include "output.h"
#include "percpu.h"
#include "runtime.h"
#include "units.h"
#include "reclaim.h"
#include "reclaim.skel.h"

static const char *const kind_names[RC_NR_KIND] = { "kswapd", "direct", "memcg", "node",
						     "other" };

static struct {
	bool by_process, events, slab;
	struct ms_cgroup_filter cgroup;
} cfg;

enum { OPT_BY_PROCESS, OPT_EVENTS, OPT_SLAB, OPT_CGROUP };

static const struct ms_cmd_opt reclaim_opts[] = {
	{ "by-process", 0, no_argument, NULL, "stalls per process (since start)", OPT_BY_PROCESS },
	{ "events", 0, no_argument, NULL,
	  "one record per direct/memcg reclaim stall: pid, order, flags, pages, latency",
	  OPT_EVENTS },
	{ "slab", 0, no_argument, NULL, "top shrinkers by time and objects freed (since start)",
	  OPT_SLAB },
	{ "cgroup", 0, required_argument, "PATH",
	  "stalls only of processes in this memory cgroup (v1 or v2) or below", OPT_CGROUP },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

static void reclaim_parse_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_BY_PROCESS:
		cfg.by_process = true;
		break;
	case OPT_EVENTS:
		cfg.events = true;
		break;
	case OPT_SLAB:
		cfg.slab = true;
		break;
	case OPT_CGROUP:
		ms_cgroup_filter_parse(arg, &cfg.cgroup);
		break;
	}
}

/* ---- reading the per-CPU arrays ---- */

static int ncpus;

/*
 * Fold one key of a per-CPU array of u64-only structs into out (n u64 words): counts
 * are summed, the words in max_mask (maxima) take the largest CPU's value.
 */
static void percpu_read(int fd, __u32 key, __u64 *out, size_t words, uint64_t max_mask)
{
	__u64 *vals = calloc(ncpus, words * sizeof(__u64));

	if (!vals)
		ms_fatal("out of memory");
	if (!bpf_map_lookup_elem(fd, &key, vals))
		percpu_fold((const uint64_t *)vals, ncpus, words, max_mask, (uint64_t *)out);
	else
		memset(out, 0, words * sizeof(__u64));
	free(vals);
}

#define WORDS(type) (sizeof(type) / sizeof(__u64))
/* rc_stall_stats.max_ns is a maximum per CPU: the largest wins, it is no sum */
#define STALL_MAX_WORD (offsetof(struct rc_stall_stats, max_ns) / sizeof(__u64))

/* The function hook that gives scan_control.nr_to_reclaim, or NULL (none works here). */
static const char *target_hook;

struct snapshot {
	struct rc_target target[RC_MAX_NODES * RC_NR_KIND];
	struct rc_stats stats[RC_MAX_NODES * RC_NR_KIND];
	struct rc_isolate isolate[RC_NR_KIND];
	struct rc_stall_stats stalls[RC_NR_KIND];
	struct rc_kswapd kswapd[RC_MAX_NODES];
	__u64 compact_stalls;
};

static void take_snapshot(struct reclaim_bpf *skel, struct snapshot *s)
{
	int kfd = bpf_map__fd(skel->maps.kswapd), tfd = bpf_map__fd(skel->maps.target);

	for (__u32 k = 0; k < RC_MAX_NODES * RC_NR_KIND; k++)
		if (bpf_map_lookup_elem(tfd, &k, &s->target[k]))
			memset(&s->target[k], 0, sizeof(s->target[k]));

	for (__u32 k = 0; k < RC_MAX_NODES * RC_NR_KIND; k++)
		percpu_read(bpf_map__fd(skel->maps.stats), k, (__u64 *)&s->stats[k],
			    WORDS(struct rc_stats), 0);
	for (__u32 k = 0; k < RC_NR_KIND; k++) {
		percpu_read(bpf_map__fd(skel->maps.isolate), k, (__u64 *)&s->isolate[k],
			    WORDS(struct rc_isolate), 0);
		percpu_read(bpf_map__fd(skel->maps.stalls), k, (__u64 *)&s->stalls[k],
			    WORDS(struct rc_stall_stats), PERCPU_MAX_WORD(STALL_MAX_WORD));
	}
	for (__u32 n = 0; n < RC_MAX_NODES; n++)
		if (bpf_map_lookup_elem(kfd, &n, &s->kswapd[n]))
			memset(&s->kswapd[n], 0, sizeof(s->kswapd[n]));
	percpu_read(bpf_map__fd(skel->maps.compact), 0, &s->compact_stalls, 1, 0);
}

/* cur - prev, word by word (the counters only grow). */
static void delta(const void *cur, const void *prev, void *out, size_t words)
{
	const __u64 *c = cur, *p = prev;
	__u64 *o = out;

	for (size_t w = 0; w < words; w++)
		o[w] = c[w] - p[w];
}

/* Upper bound (ns) of the histogram slot holding the q-quantile, or 0 when empty. */
static __u64 hist_quantile(const __u64 *hist, double q)
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

/* ---- output ---- */

static struct gfp_table gfp;
static struct ksyms *ksyms;

static const struct ms_col node_cols[] = {
	{ "NODE", "node", COL_INT, false },
	{ "RECLAIMER", "reclaimer", COL_STR, true },
	{ "SCANNED", "scanned_pages", COL_COUNT, false },
	{ "RECLAIMED", "reclaimed_pages", COL_COUNT, false },
	{ "ANON_SCAN", "scanned_anon_pages", COL_COUNT, false },
	{ "FILE_SCAN", "scanned_file_pages", COL_COUNT, false },
	{ "DIRTY", "dirty_pages", COL_COUNT, false },
	{ "WRITEBACK", "writeback_pages", COL_COUNT, false },
	{ "CONGESTED", "congested_pages", COL_COUNT, false },
	{ "IMMEDIATE", "immediate_pages", COL_COUNT, false },
	{ "ACT_ANON", "activate_anon_pages", COL_COUNT, false },
	{ "ACT_FILE", "activate_file_pages", COL_COUNT, false },
	{ "REF_KEEP", "ref_keep_pages", COL_COUNT, false },
	{ "UNMAP_FAIL", "unmap_fail_pages", COL_COUNT, false },
	{ "TO_RECLAIM", "nr_to_reclaim", COL_COUNT, false },
	{ "PRIORITY", "priority_text", COL_STR, true },
};

static json_object *prio_json(const struct rc_stats *d, char *text, size_t len)
{
	json_object *o = json_object_new_object();
	struct strbuf sb;

	sb_init(&sb, text, len);
	for (int p = RC_NR_PRIO - 1; p >= 0; p--) {
		char k[8];

		if (!d->prio[p])
			continue;
		snprintf(k, sizeof(k), "%d", p);
		json_object_object_add(o, k, json_u64(d->prio[p]));
		sb_sep(&sb, " ");
		sb_add(&sb, "%d:%llu", p, (unsigned long long)d->prio[p]);
	}
	return o;
}

static json_object *node_row(int nid, int kind, const struct rc_stats *d, double ts,
			     const struct rc_target *cur_t, const struct rc_target *prev_t)
{
	json_object *o = json_object_new_object();
	char prio[256];

	json_object_object_add(o, "type", json_object_new_string("reclaim"));
	json_object_object_add(o, "ts", json_object_new_double(ts));
	json_object_object_add(o, "node", json_object_new_int(nid));
	json_object_object_add(o, "reclaimer", json_object_new_string(kind_names[kind]));
	json_object_object_add(o, "scanned_pages", json_u64(d->scanned));
	json_object_object_add(o, "reclaimed_pages", json_u64(d->reclaimed));
	json_object_object_add(o, "scanned_anon_pages", json_u64(d->scanned_anon));
	json_object_object_add(o, "scanned_file_pages", json_u64(d->scanned_file));
	json_object_object_add(o, "reclaimed_anon_pages", json_u64(d->reclaimed_anon));
	json_object_object_add(o, "reclaimed_file_pages", json_u64(d->reclaimed_file));
	json_object_object_add(o, "dirty_pages", json_u64(d->dirty));
	json_object_object_add(o, "writeback_pages", json_u64(d->writeback));
	json_object_object_add(o, "congested_pages", json_u64(d->congested));
	json_object_object_add(o, "immediate_pages", json_u64(d->immediate));
	json_object_object_add(o, "activate_anon_pages", json_u64(d->activate_anon));
	json_object_object_add(o, "activate_file_pages", json_u64(d->activate_file));
	json_object_object_add(o, "ref_keep_pages", json_u64(d->ref_keep));
	json_object_object_add(o, "unmap_fail_pages", json_u64(d->unmap_fail));
	json_object_object_add(o, "active_taken_pages", json_u64(d->active_taken));
	json_object_object_add(o, "active_deactivated_pages", json_u64(d->active_deactivated));
	json_object_object_add(o, "shrink_inactive_calls", json_u64(d->shrink_calls));
	json_object_object_add(o, "priority", prio_json(d, prio, sizeof(prio)));
	json_object_object_add(o, "priority_text", json_object_new_string(prio));
	/* scan_control.nr_to_reclaim needs a function hook on shrink_folio_list */
	json_object_object_add(o, "nr_to_reclaim", target_hook && cur_t->calls != prev_t->calls ?
			       json_u64(cur_t->last) : NULL);
	json_object_object_add(o, "nr_to_reclaim_calls",
			       target_hook ? json_u64(cur_t->calls - prev_t->calls) : NULL);
	return o;
}

static void print_hist(const __u64 *hist)
{
	int lo = -1, hi = -1;
	__u64 max = 0;

	for (int i = 0; i < RC_HIST_SLOTS; i++)
		if (hist[i]) {
			if (lo < 0)
				lo = i;
			hi = i;
			if (hist[i] > max)
				max = hist[i];
		}
	if (lo < 0)
		return;
	out_printf("    %20s : %-8s %s\n", "usecs", "count", "distribution");
	for (int i = lo; i <= hi; i++) {
		char range[48], bar[41];
		int w = max ? (int)(hist[i] * 40 / max) : 0;

		snprintf(range, sizeof(range), "%llu -> %llu", i ? 1ULL << i : 0ULL,
			 (1ULL << (i + 1)) - 1);
		memset(bar, '*', w);
		bar[w] = 0;
		out_printf("    %20s : %-8llu |%-40s|\n", range, (unsigned long long)hist[i], bar);
	}
}

static json_object *hist_json(const __u64 *hist)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < RC_HIST_SLOTS; i++) {
		json_object *b;

		if (!hist[i])
			continue;
		b = json_object_new_object();
		/* the in-kernel buckets are log2 of microseconds */
		json_object_object_add(b, "from_ns", json_u64(i ? (1ULL << i) * 1000 : 0));
		json_object_object_add(b, "to_ns", json_u64(((1ULL << (i + 1)) - 1) * 1000));
		json_object_object_add(b, "count", json_u64(hist[i]));
		json_object_array_add(a, b);
	}
	return a;
}

static void report(struct reclaim_bpf *skel, const struct snapshot *cur,
		   const struct snapshot *prev, double ts)
{
	struct ms_table *t = table_new(node_cols, sizeof(node_cols) / sizeof(node_cols[0]));
	__u64 scanned = 0, reclaimed = 0;
	int rows = 0;
	bool any = false;
	char tbuf[16], a[32], b[32], c[32];
	time_t secs = (time_t)ts;
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	for (int n = 0; n < RC_MAX_NODES; n++)
		for (int k = 0; k < RC_NR_KIND; k++) {
			struct rc_stats d;
			int i = n * RC_NR_KIND + k;

			delta(&cur->stats[i], &prev->stats[i], &d, WORDS(d));
			if (!d.shrink_calls && !d.scanned && !d.active_taken)
				continue;
			scanned += d.scanned;
			reclaimed += d.reclaimed;
			rows++;
			table_add(t, node_row(n, k, &d, ts, &cur->target[i], &prev->target[i]));
		}
	if (out_json_mode()) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "type", json_object_new_string("reclaim_interval"));
		json_object_object_add(o, "ts", json_object_new_double(ts));
		json_object_object_add(o, "scanned_pages", json_u64(scanned));
		json_object_object_add(o, "reclaimed_pages", json_u64(reclaimed));
		json_object_object_add(o, "nr_to_reclaim_hook",
				       target_hook ? json_object_new_string(target_hook) : NULL);
		if (!target_hook)
			json_object_object_add(o, "nr_to_reclaim_unavailable", json_object_new_string(
				"needs a function hook (fentry or kprobe) on shrink_folio_list; "
				"this kernel has neither"));
		out_json(o);
	} else if (rows) {
		out_printf("%s  reclaim: scanned %s pages, reclaimed %s", tbuf,
			   fmt_count(a, sizeof(a), scanned), fmt_count(b, sizeof(b), reclaimed));
		if (scanned)
			out_printf(" (%.1f%%)", 100.0 * reclaimed / scanned);
		out_printf("\n");
	}
	table_flush(t);
	table_free(t);

	/* isolation, per reclaimer */
	for (int k = 0; k < RC_NR_KIND; k++) {
		struct rc_isolate d;

		delta(&cur->isolate[k], &prev->isolate[k], &d, WORDS(d));
		if (!d.calls)
			continue;
		any = true;
		if (out_json_mode()) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "type", json_object_new_string("reclaim_isolate"));
			json_object_object_add(o, "ts", json_object_new_double(ts));
			json_object_object_add(o, "reclaimer", json_object_new_string(kind_names[k]));
			/* nr_requested is the scan budget; taken counts pages of (large) folios */
			json_object_object_add(o, "nr_requested", json_u64(d.requested));
			json_object_object_add(o, "scanned_pages", json_u64(d.scanned));
			json_object_object_add(o, "skipped_pages", json_u64(d.skipped));
			json_object_object_add(o, "taken_pages", json_u64(d.taken));
			out_json(o);
		} else {
			out_printf("  isolate %-7s nr_requested %s, nr_taken %s pages, nr_skipped %s\n",
				   kind_names[k], fmt_count(a, sizeof(a), d.requested),
				   fmt_count(b, sizeof(b), d.taken), fmt_count(c, sizeof(c), d.skipped));
		}
	}
	/* stalls */
	for (int k = 0; k < RC_NR_KIND; k++) {
		struct rc_stall_stats d;

		delta(&cur->stalls[k], &prev->stalls[k], &d, WORDS(d));
		if (!d.count)
			continue;
		any = true;
		if (out_json_mode()) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "type", json_object_new_string("reclaim_stalls"));
			json_object_object_add(o, "ts", json_object_new_double(ts));
			json_object_object_add(o, "reclaimer", json_object_new_string(kind_names[k]));
			json_object_object_add(o, "count", json_u64(d.count));
			json_object_object_add(o, "total_ns", json_u64(d.total_ns));
			json_object_object_add(o, "reclaimed_pages", json_u64(d.reclaimed));
			json_object_object_add(o, "p50_at_most_ns", json_u64(hist_quantile(d.hist, 0.5)));
			json_object_object_add(o, "p99_at_most_ns", json_u64(hist_quantile(d.hist, 0.99)));
			json_object_object_add(o, "max_since_start_ns", json_u64(cur->stalls[k].max_ns));
			json_object_object_add(o, "histogram", hist_json(d.hist));
			out_json(o);
		} else {
			char tot[32], p50[32], p99[32];

			out_printf("  %s reclaim stalls: %llu, total %s, p50 <= %s, p99 <= %s, "
				   "reclaimed %s pages\n", kind_names[k], (unsigned long long)d.count,
				   fmt_duration_ns(tot, sizeof(tot), d.total_ns),
				   fmt_duration_ns(p50, sizeof(p50), hist_quantile(d.hist, 0.5)),
				   fmt_duration_ns(p99, sizeof(p99), hist_quantile(d.hist, 0.99)),
				   fmt_count(a, sizeof(a), d.reclaimed));
			print_hist(d.hist);
		}
	}
	/* kswapd */
	for (int n = 0; n < RC_MAX_NODES; n++) {
		__u64 wakeups = cur->kswapd[n].wakeups - prev->kswapd[n].wakeups;
		__u64 awake = cur->kswapd[n].awake_ns - prev->kswapd[n].awake_ns;

		if (!wakeups && !awake)
			continue;
		any = true;
		if (out_json_mode()) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "type", json_object_new_string("reclaim_kswapd"));
			json_object_object_add(o, "ts", json_object_new_double(ts));
			json_object_object_add(o, "node", json_object_new_int(n));
			json_object_object_add(o, "wakeups", json_u64(wakeups));
			json_object_object_add(o, "awake_ns", json_u64(awake));
			json_object_object_add(o, "max_order_since_start",
					       json_u64(cur->kswapd[n].max_order));
			json_object_object_add(o, "zone_mask_since_start",
					       json_u64(cur->kswapd[n].zones));
			out_json(o);
		} else {
			out_printf("  kswapd%d: %llu wakeup%s, awake %s (max order %llu since start)\n",
				   n, (unsigned long long)wakeups, wakeups == 1 ? "" : "s",
				   fmt_duration_ns(a, sizeof(a), awake),
				   (unsigned long long)cur->kswapd[n].max_order);
		}
	}
	if (!out_json_mode()) {
		if (!rows && !any)
			out_printf("%s  no reclaim activity\n", tbuf);
		else if (!target_hook)
			out_printf("  to reclaim (scan_control.nr_to_reclaim): unavailable on this "
				   "kernel (needs fentry or kprobe on shrink_folio_list)\n");
	}
	(void)skel;
	out_flush();
}

static void print_by_process(struct reclaim_bpf *skel)
{
	static const struct ms_col cols[] = {
		{ "PID", "pid", COL_INT, false },
		{ "COMM", "comm", COL_STR, true },
		{ "RECLAIMER", "reclaimer", COL_STR, true },
		{ "STALLS", "count", COL_INT, false },
		{ "TOTAL", "total_ns", COL_DURATION, false },
		{ "MAX", "max_ns", COL_DURATION, false },
		{ "RECLAIMED", "reclaimed_pages", COL_COUNT, false },
	};
	int fd = bpf_map__fd(skel->maps.by_process);
	struct ms_table *t = table_new(cols, 7);
	struct rc_proc_key key, next;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		struct rc_proc p;
		json_object *o;

		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &p))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string("reclaim_process"));
		json_object_object_add(o, "ts", json_ts(ms_wall_now()));
		json_object_object_add(o, "pid", json_object_new_int(key.pid));
		json_object_object_add(o, "comm", json_object_new_string_len(
					p.comm, strnlen(p.comm, sizeof(p.comm))));
		json_object_object_add(o, "reclaimer",
				       json_object_new_string(kind_names[key.kind % RC_NR_KIND]));
		json_object_object_add(o, "count", json_u64(p.count));
		json_object_object_add(o, "total_ns", json_u64(p.total_ns));
		json_object_object_add(o, "max_ns", json_u64(p.max_ns));
		json_object_object_add(o, "reclaimed_pages", json_u64(p.reclaimed));
		table_add(t, o);
	}
	if (!out_json_mode())
		out_printf("  stalls by process (since start):\n");
	table_flush(t);
	table_free(t);
}

static void print_slab(struct reclaim_bpf *skel)
{
	static const struct ms_col cols[] = {
		{ "SHRINKER", "shrinker", COL_STR, true },
		{ "CALLS", "calls", COL_INT, false },
		{ "TOTAL", "total_ns", COL_DURATION, false },
		{ "FREED", "freed_objects", COL_COUNT, false },
		{ "SCANNED", "scanned_objects", COL_COUNT, false },
	};
	int fd = bpf_map__fd(skel->maps.slab);
	struct ms_table *t = table_new(cols, 5);
	__u64 key, next;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		struct rc_slab v;
		const struct ksym *k;
		json_object *o;

		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		k = ksyms_find(ksyms, key);
		o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string("reclaim_shrinker"));
		json_object_object_add(o, "ts", json_ts(ms_wall_now()));
		json_object_object_add(o, "shrinker", json_object_new_string(k ? k->name : "?"));
		json_object_object_add(o, "calls", json_u64(v.calls));
		json_object_object_add(o, "total_ns", json_u64(v.total_ns));
		json_object_object_add(o, "freed_objects", json_u64(v.freed));
		json_object_object_add(o, "scanned_objects", json_u64(v.scanned));
		table_add(t, o);
	}
	if (!out_json_mode())
		out_printf("  shrinkers (since start):\n");
	table_flush(t);
	table_free(t);
}

static int on_stall_event(void *ctx, void *data, size_t len)
{
	const struct rc_event *e = data;
	char flags[1024], lat[32], cbuf[COMM_TEXT_LEN];
	json_object *o;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	gfp_format(&gfp, e->gfp, flags, sizeof(flags));
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("reclaim_stall"));
	json_object_object_add(o, "ts", json_object_new_double(ms_boot_ns_to_real(e->ts_ns)));
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "tid", json_object_new_int(e->tid));
	json_object_object_add(o, "comm", json_object_new_string_len(
				e->comm, strnlen(e->comm, sizeof(e->comm))));
	json_object_object_add(o, "reclaimer", json_object_new_string(kind_names[e->kind % RC_NR_KIND]));
	json_object_object_add(o, "order", json_object_new_int(e->order));
	json_object_object_add(o, "gfp", json_u64(e->gfp));
	json_object_object_add(o, "gfp_flags", json_object_new_string(flags));
	json_object_object_add(o, "reclaimed_pages", json_u64(e->reclaimed));
	json_object_object_add(o, "latency_ns", json_u64(e->latency_ns));
	if (out_json_mode()) {
		out_json(o);
		return 0;
	}
	out_printf("  stall: pid %u (%s) %s reclaim, order %u, %s, reclaimed %llu pages in %s\n",
		   e->pid, comm_text(e->comm, cbuf), kind_names[e->kind % RC_NR_KIND], e->order, flags,
		   (unsigned long long)e->reclaimed,
		   fmt_duration_ns(lat, sizeof(lat), e->latency_ns));
	json_object_put(o);
	return 0;
}

static void poll_events(int timeout_ms, void *ctx)
{
	int err = ring_buffer__poll(ctx, timeout_ms);

	if (err < 0 && err != -EINTR)
		ms_bpf_fail("reading events", err);
}

static const struct hook_spec reclaim_hooks[] = {
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
	HOOK_FN("shrink_folio_list", "rc_folio_list", true),
	HOOK_FN("shrink_page_list", "rc_page_list", true),
};
#define NR_RECLAIM_HOOKS (int)(sizeof(reclaim_hooks) / sizeof(reclaim_hooks[0]))

/* Load and attach reclaim's programs for these options; exits 1 on failure. */
static struct reclaim_bpf *reclaim_open(const struct ms_opts *o)
{
	struct ms_filter filter = ms_filter_of(o, &cfg.cgroup);
	struct reclaim_bpf *skel;
	int chosen[NR_RECLAIM_HOOKS], err;
	char why[256];

	ms_require_bpf();
	ncpus = libbpf_num_possible_cpus();
	skel = reclaim_bpf__open_opts(ms_bpf_open_opts());
	if (!skel)
		ms_bpf_fail("opening reclaim's BPF object", errno);
	ms_test_map_sizes(skel->obj);
	skel->rodata->want_events = cfg.events;
	skel->rodata->want_by_process = cfg.by_process;
	skel->rodata->want_slab = cfg.slab;
	MS_SET_FILTERS(skel, &filter);
	if (hooks_select(skel->obj, reclaim_hooks, NR_RECLAIM_HOOKS, chosen, why, sizeof(why)))
		ms_fatal("%s", why);
	if (hook_chosen_kind(reclaim_hooks, NR_RECLAIM_HOOKS, chosen,
			     "vmscan:mm_vmscan_lru_shrink_inactive") == hook_kind_name(HK_TRACEPOINT)) {
		long long wb;

		/* the classic record says anon or file by a flag bit: its value from tracefs */
		if (!trace_symbol_value("vmscan/mm_vmscan_lru_shrink_inactive", "RECLAIM_WB_FILE",
					&wb))
			skel->rodata->reclaim_wb_file = wb;
		else
			ms_warn("RECLAIM_WB_FILE not found in tracefs: anon/file split unknown");
	}
	err = reclaim_bpf__load(skel);
	if (err)
		ms_bpf_fail("loading reclaim's BPF programs", err);
	target_hook = hook_chosen_kind(reclaim_hooks, NR_RECLAIM_HOOKS, chosen, "shrink_folio_list");
	if (!target_hook)
		target_hook = hook_chosen_kind(reclaim_hooks, NR_RECLAIM_HOOKS, chosen,
					       "shrink_page_list");
	ms_pid_filter_fill(bpf_map__fd(skel->maps.pid_filter), &filter);
	err = reclaim_bpf__attach(skel);
	if (err)
		ms_bpf_fail("attaching reclaim's BPF programs", err);
	return skel;
}

static int reclaim_run(const struct ms_opts *o)
{
	struct snapshot *cur = calloc(1, sizeof(*cur)), *prev = calloc(1, sizeof(*prev));
	struct ring_buffer *rb = NULL;
	struct reclaim_bpf *skel;
	struct ms_ticker tk;

	if (!cur || !prev)
		ms_fatal("out of memory");
	if (cfg.events && gfp_table_load(&gfp) < 0)
		ms_warn("cannot read the kernel's GFP flag names; flags print in hex");
	if (cfg.slab && !(ksyms = ksyms_load(NULL)))
		ms_fatal("--slab: cannot read /proc/kallsyms");
	skel = reclaim_open(o);
	struct ms_loss losses[] = {
		{ "stall_events", "stall events not shown: the ring buffer was full",
		  &skel->bss->nr_lost, 0 },
		{ "untracked_processes", "processes not counted by --by-process: its table is full",
		  &skel->bss->nr_by_process_full, 0 },
		{ "untimed_stalls", "stalls not timed: the per-thread table was full or they "
		  "nested too deep", &skel->bss->nr_stalls_untimed, 0 },
	};

	if (cfg.events) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_stall_event, NULL, NULL);
		if (!rb)
			ms_bpf_fail("creating the event ring buffer", errno);
		ms_boot_ns_to_real(0);
		ms_set_idle(poll_events, rb);
	}
	take_snapshot(skel, prev);
	ticker_init(&tk, o->interval, o->count, o->duration);
	while (ticker_wait(&tk)) {
		struct timespec now;
		struct snapshot *tmp;

		if (rb)
			ring_buffer__consume(rb);
		clock_gettime(CLOCK_REALTIME, &now);
		take_snapshot(skel, cur);
		report(skel, cur, prev, now.tv_sec + now.tv_nsec / 1e9);
		if (cfg.by_process)
			print_by_process(skel);
		if (cfg.slab)
			print_slab(skel);
		ms_report_losses("reclaim", losses, ARRAY_SIZE(losses));
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	ms_set_idle(NULL, NULL);
	if (rb && ms_stop_reason() != MS_STOP_PIPE)
		ring_buffer__consume(rb);
	ms_report_losses("reclaim", losses, ARRAY_SIZE(losses));
	ring_buffer__free(rb);
	reclaim_bpf__destroy(skel);
	ksyms_free(ksyms);
	free(cur);
	free(prev);
	return 0;
}

/* ---- for the health report ---- */

struct reclaim_session {
	struct reclaim_bpf *skel;
	struct snapshot base, now;
};

struct reclaim_session *reclaim_session_open(void)
{
	static const struct ms_opts none;
	struct reclaim_session *rs = calloc(1, sizeof(*rs));

	if (!rs)
		ms_fatal("out of memory");
	rs->skel = reclaim_open(&none);
	take_snapshot(rs->skel, &rs->base);
	return rs;
}

void reclaim_session_read(struct reclaim_session *rs, struct reclaim_totals *t)
{
	__u64 hist[RC_HIST_SLOTS] = { 0 };

	memset(t, 0, sizeof(*t));
	take_snapshot(rs->skel, &rs->now);
	for (int i = 0; i < RC_MAX_NODES * RC_NR_KIND; i++) {
		t->scanned += rs->now.stats[i].scanned - rs->base.stats[i].scanned;
		t->reclaimed += rs->now.stats[i].reclaimed - rs->base.stats[i].reclaimed;
	}
	for (int k = RC_DIRECT; k <= RC_NODE; k++) {
		struct rc_stall_stats d;

		delta(&rs->now.stalls[k], &rs->base.stalls[k], &d, WORDS(d));
		t->stalls[k] = d.count;
		for (int i = 0; i < RC_HIST_SLOTS; i++)
			hist[i] += d.hist[i];
	}
	t->stall_p50_ns = hist_quantile(hist, 0.5);
	t->stall_p99_ns = hist_quantile(hist, 0.99);
	for (int n = 0; n < RC_MAX_NODES; n++)
		t->kswapd_wakeups += rs->now.kswapd[n].wakeups - rs->base.kswapd[n].wakeups;
	t->compact_stalls = rs->now.compact_stalls - rs->base.compact_stalls;
}

void reclaim_session_close(struct reclaim_session *rs)
{
	if (!rs)
		return;
	reclaim_bpf__destroy(rs->skel);
	free(rs);
}

const struct ms_cmd cmd_reclaim = {
	.name = "reclaim",
	.summary = "page reclaim activity per node and reclaimer, and the stalls it causes",
	.details =
		"From the vmscan tracepoints, counted in the kernel: pages scanned and\n"
		"reclaimed per node and reclaimer (kswapd, direct, memcg, node), what\n"
		"shrink-inactive found (dirty, writeback, congested, immediate, activated,\n"
		"ref_keep, unmap_fail), anon vs file, priorities, isolation; direct and memcg\n"
		"reclaim stalls with a log2 latency histogram; kswapd wake-ups and time awake.\n"
		"Each report covers the interval since the previous one (-i, default 1 s).",
	.examples = "  memscope reclaim                      one report per second\n"
		    "  memscope reclaim --events --by-process   every stall, and per process\n"
		    "  memscope reclaim --slab -i 5          top shrinkers\n"
		    "  memscope reclaim -j -d 60 -i 60       one minute, one NDJSON report\n",
	.shared = MS_OPT_LOOP | MS_OPT_FILTER,
	.opts = reclaim_opts,
	.parse_opt = reclaim_parse_opt,
	.run = reclaim_run,
	.hooks = reclaim_hooks,
	.nr_hooks = NR_RECLAIM_HOOKS,
};
