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
#include "failures.h"
#include "kills.h"
#include "meminfo.h"
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

/* What watches the sample. */
struct watchers {
	struct reclaim *reclaim;
	struct reclaim_snapshot before, after;
	struct failures *failures;
	struct kills *kills;
};

/* Everything the report says, gathered at the end of the sample. */
struct sample {
	double secs;
	struct reclaim_totals rt;
	struct failures_totals ft;
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
};

static void watch(struct watchers *w)
{
	static const struct ms_filter all;
	static const struct reclaim_want no_extras;
	static const struct failures_want counts = { .order_eq = -1, .order_min = -1 };
	static const struct kills_want plain;

	w->reclaim = reclaim_open(&all, &no_extras);
	reclaim_read(w->reclaim, &w->before);
	w->failures = failures_open(&all, &counts);
	w->kills = kills_open(&plain);
}

static void unwatch(struct watchers *w)
{
	kills_close(w->kills);
	failures_close(w->failures);
	reclaim_close(w->reclaim);
}

/* The largest processes; memscope's own footprint is said apart, not listed. */
static void gather_processes(struct sample *s)
{
	static const struct ms_filter all;
	struct procs *p = procs_open(&all, false);
	size_t k = 0;

	procs_snapshot(p, &s->procs);
	procs_close(p);
	for (size_t i = 0; i < s->procs.n; i++)
		if (s->procs.r[i].pid == (__u32)getpid())
			s->self_rss_bytes = proc_rss_pages(&s->procs.r[i]) * ms_page_size();
		else
			s->procs.r[k++] = s->procs.r[i];
	s->procs.n = k;
	proc_list_sort_rss(&s->procs);
}

static void gather(struct watchers *w, struct sample *s)
{
	struct nodes *n;

	reclaim_read(w->reclaim, &w->after);
	reclaim_totals_between(&w->before, &w->after, &s->rt);
	failures_totals(w->failures, &s->ft);
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
}

/* ---- the verdict ---- */

/* One finding: to the JSON list and the text line. */
static void __attribute__((format(printf, 3, 4)))
add_reason(struct strbuf *text, json_object *list, const char *fmt, ...)
{
	char one[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	json_object_array_add(list, json_object_new_string(one));
	sb_sep(text, ", ");
	sb_add(text, "%s", one);
}

static void verdict(const struct sample *s, struct strbuf *text, json_object *list)
{
	const struct reclaim_totals *rt = &s->rt;
	char b[32];

	if (s->nv)
		add_reason(text, list, "%d OOM kill%s%s%s", s->nv, s->nv == 1 ? "" : "s",
			   s->victims[0].memcg[0] ? " in memcg " : "", s->victims[0].memcg);
	if (s->ft.failures)
		add_reason(text, list, "%llu allocation failure%s (worst order %d)", s->ft.failures,
			   s->ft.failures == 1 ? "" : "s", s->ft.worst_order);
	if (rt->stalls[RC_DIRECT] + rt->stalls[RC_MEMCG] + rt->stalls[RC_NODE])
		add_reason(text, list, "reclaim stalls: %llu direct, %llu memcg, p99 <= %s",
			   rt->stalls[RC_DIRECT], rt->stalls[RC_MEMCG],
			   fmt_duration_ns(b, sizeof(b), rt->stall_p99_ns));
	if (s->have_psi && s->psi.some_avg10 >= 1.0)
		add_reason(text, list, "PSI memory some avg10 %.2f%%", s->psi.some_avg10);
	if (s->total.v[NF_available] < s->total.v[NF_total] / 20)
		add_reason(text, list, "only %s available",
			   fmt_bytes(b, sizeof(b), s->total.v[NF_available]));
}

/* ---- the record ---- */

/* The system's figures the report shows: a part of the "sys" total record. */
static const char *const memory_keys[] = {
	"total_bytes", "free_bytes", "available_bytes", "used_bytes", "unmanaged_bytes",
	"unmanaged_reason", "anon_pages_bytes", "file_pages_bytes", "shmem_bytes", "slab_bytes",
	"sreclaimable_bytes", "page_tables_bytes", "kernel_stack_bytes", "anon_huge_pages_bytes",
	"shmem_huge_pages_bytes", "dirty_bytes", "writeback_bytes",
};

static json_object *memory_json(const struct sample *s, double ts)
{
	json_object *total = record_json(&node_desc, &s->total, ts), *mem = json_object_new_object();
	bool swap = s->have_mi && meminfo_has(&s->mi, MI_SWAP_TOTAL) &&
		    meminfo_has(&s->mi, MI_SWAP_FREE);

	for (size_t i = 0; i < ARRAY_SIZE(memory_keys); i++) {
		json_object *v = NULL;

		json_object_object_get_ex(total, memory_keys[i], &v);
		json_object_object_add(mem, memory_keys[i], json_object_get(v));
	}
	json_object_put(total);
	/* Swap has no per-node counter: these come from /proc/meminfo. */
	json_object_object_add(mem, "swap_total_bytes",
			       swap ? json_u64(s->mi.bytes[MI_SWAP_TOTAL]) : NULL);
	json_object_object_add(mem, "swap_free_bytes",
			       swap ? json_u64(s->mi.bytes[MI_SWAP_FREE]) : NULL);
	/* memscope's own resident memory, in the figures above but not in the top list */
	json_object_object_add(mem, "memscope_rss_bytes", json_u64(s->self_rss_bytes));
	return mem;
}

static json_object *activity_json(const struct sample *s, double ts)
{
	const struct reclaim_totals *rt = &s->rt;
	json_object *a = json_object_new_object(), *vic = json_object_new_array();

	(void)ts;
	json_object_object_add(a, "sample_ns", json_u64(s->secs * 1e9));
	json_object_object_add(a, "alloc_failures", json_u64(s->ft.failures));
	json_object_object_add(a, "alloc_failure_worst_order",
			       s->ft.worst_order >= 0 ? json_object_new_int(s->ft.worst_order) : NULL);
	json_object_object_add(a, "reclaim_scanned_pages", json_u64(rt->scanned));
	json_object_object_add(a, "reclaim_reclaimed_pages", json_u64(rt->reclaimed));
	json_object_object_add(a, "reclaim_scanned_per_s", json_fixed(rt->scanned / s->secs, 1));
	json_object_object_add(a, "reclaim_reclaimed_per_s", json_fixed(rt->reclaimed / s->secs, 1));
	json_object_object_add(a, "direct_reclaim_stalls", json_u64(rt->stalls[RC_DIRECT]));
	json_object_object_add(a, "memcg_reclaim_stalls", json_u64(rt->stalls[RC_MEMCG]));
	json_object_object_add(a, "stall_p50_at_most_ns",
			       rt->stall_p50_ns ? json_u64(rt->stall_p50_ns) : NULL);
	json_object_object_add(a, "stall_p99_at_most_ns",
			       rt->stall_p99_ns ? json_u64(rt->stall_p99_ns) : NULL);
	json_object_object_add(a, "kswapd_wakeups", json_u64(rt->kswapd_wakeups));
	json_object_object_add(a, "compaction_stalls", json_u64(rt->compact_stalls));
	for (int i = 0; i < s->nv; i++) {
		const struct oom_victim *v = &s->victims[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_int(v->pid));
		json_object_object_add(o, "comm", json_object_new_string(v->comm));
		json_object_object_add(o, "memcg", v->memcg[0] ? json_object_new_string(v->memcg) : NULL);
		json_object_object_add(o, "rss_anon_bytes",
				       v->has_sizes ? json_u64(v->rss_anon_bytes) : NULL);
		json_object_array_add(vic, o);
	}
	json_object_object_add(a, "oom_kills", vic);
	return a;
}

static json_object *psi_json(const struct sample *s)
{
	json_object *p;

	if (!s->have_psi)
		return NULL;
	p = json_object_new_object();
	json_object_object_add(p, "some_avg10", json_fixed(s->psi.some_avg10, 2));
	json_object_object_add(p, "some_avg60", json_fixed(s->psi.some_avg60, 2));
	json_object_object_add(p, "full_avg10", json_fixed(s->psi.full_avg10, 2));
	json_object_object_add(p, "full_avg60", json_fixed(s->psi.full_avg60, 2));
	json_object_object_add(p, "some_total_ns", json_u64(s->psi.some_total_ns));
	json_object_object_add(p, "full_total_ns", json_u64(s->psi.full_total_ns));
	return p;
}

static json_object *report_json(const struct sample *s, json_object *reasons, double ts)
{
	json_object *r = json_object_new_object(), *nodes = json_object_new_array();
	json_object *tops = json_object_new_array();

	for (int i = 0; i < s->nn; i++)
		json_object_array_add(nodes, record_json(&node_desc, &s->node_rows[i], ts));
	for (size_t i = 0; i < s->procs.n && i < TOP_N; i++) {
		struct proc_row row;

		proc_row_of(&s->procs.r[i], NULL, &row);
		json_object_array_add(tops, record_json(&proc_desc, &row, ts));
	}
	json_object_object_add(r, "type", json_object_new_string("summary"));
	json_object_object_add(r, "ts", json_ts(ts));
	json_object_object_add(r, "verdict", json_object_new_string(
				       json_object_array_length(reasons) ? "under pressure" : "OK"));
	json_object_object_add(r, "reasons", reasons);
	json_object_object_add(r, "memory", memory_json(s, ts));
	json_object_object_add(r, "nodes", nodes);
	json_object_object_add(r, "psi", psi_json(s));
	json_object_object_add(r, "activity", activity_json(s, ts));
	json_object_object_add(r, "top_processes", tops);
	return r;
}

/* ---- text ---- */

static uint64_t get_u64(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v ? json_object_get_uint64(v) : 0;
}

static void print_memory(const struct sample *s, json_object *mem)
{
	static const char *const used_by[][2] = {
		{ "anon", "anon_pages_bytes" }, { "file cache", "file_pages_bytes" },
		{ "shmem", "shmem_bytes" }, { "slab", "slab_bytes" },
		{ "page tables", "page_tables_bytes" }, { "kernel stacks", "kernel_stack_bytes" },
		{ "THP anon", "anon_huge_pages_bytes" }, { "THP shmem", "shmem_huge_pages_bytes" },
	};
	char a[32], b[32], c[32], d[32];
	json_object *why = NULL;

	out_printf("memory   total %s, free %s, available %s, used %s\n",
		   fmt_bytes(a, 32, get_u64(mem, "total_bytes")),
		   fmt_bytes(b, 32, get_u64(mem, "free_bytes")),
		   fmt_bytes(c, 32, get_u64(mem, "available_bytes")),
		   fmt_bytes(d, 32, get_u64(mem, "used_bytes")));
	char text[512];
	struct strbuf sb;

	json_object_object_get_ex(mem, "unmanaged_reason", &why);
	if (why) {
		snprintf(text, sizeof(text), "%s of it in no zone yet: %s",
			 fmt_bytes(a, 32, get_u64(mem, "unmanaged_bytes")), json_object_get_string(why));
		out_wrap("  note: ", "        ", text);
	}
	sb_init(&sb, text, sizeof(text));
	for (size_t i = 0; i < ARRAY_SIZE(used_by); i++) {
		sb_sep(&sb, ", ");
		sb_add(&sb, "%s %s", used_by[i][0], fmt_bytes(a, 32, get_u64(mem, used_by[i][1])));
	}
	out_wrap("  used by ", "    ", text);
	out_printf("  dirty %s, writeback %s; ", fmt_bytes(a, 32, get_u64(mem, "dirty_bytes")),
		   fmt_bytes(b, 32, get_u64(mem, "writeback_bytes")));
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
			   fmt_bytes(d, 32, s->node_rows[i].v[NF_anon_pages]));
	if (s->have_psi)
		out_printf("pressure PSI memory some %.2f%% (10 s) %.2f%% (60 s), full %.2f%% / "
			   "%.2f%%\n", s->psi.some_avg10, s->psi.some_avg60, s->psi.full_avg10,
			   s->psi.full_avg60);
	else
		out_printf("pressure PSI not available on this kernel\n");
}

/* One finding a line, and the command that digs deeper: beside it when the line has room. */
static void finding(const char *what, const char *value, const char *next)
{
	int room = out_width() - 26 - (int)strlen(next) - 3;

	if ((int)strlen(value) <= room)
		out_printf("  %-22s %-*s %s %s\n", what, room < 44 ? room : 44, value, out_arrow(),
			   next);
	else
		out_printf("  %-22s %s\n  %-22s %s %s\n", what, value, "", out_arrow(), next);
}

static void print_activity(const struct sample *s)
{
	const struct reclaim_totals *rt = &s->rt;
	char line[320], a[32], b[32], c[32], d[32], comm[COMM_TEXT_LEN];

	out_printf("\nduring the sample\n");
	if (s->ft.failures)
		snprintf(line, sizeof(line), "%llu, worst order %d", s->ft.failures, s->ft.worst_order);
	finding("allocation failures", s->ft.failures ? line : "none", "memscope paf --stack");
	snprintf(line, sizeof(line), "scanned %s/s, reclaimed %s/s (pages)",
		 fmt_count(a, 32, rt->scanned / s->secs), fmt_count(b, 32, rt->reclaimed / s->secs));
	finding("reclaim", line, "memscope reclaim");
	snprintf(line, sizeof(line), "%llu direct, %llu memcg; p50 <= %s, p99 <= %s",
		 rt->stalls[RC_DIRECT], rt->stalls[RC_MEMCG],
		 rt->stall_p50_ns ? fmt_duration_ns(c, 32, rt->stall_p50_ns) : "-",
		 rt->stall_p99_ns ? fmt_duration_ns(d, 32, rt->stall_p99_ns) : "-");
	finding("reclaim stalls", line, "memscope reclaim --events --by-process");
	snprintf(line, sizeof(line), "%llu", rt->kswapd_wakeups);
	finding("kswapd wakeups", line, "memscope reclaim");
	snprintf(line, sizeof(line), "%llu", rt->compact_stalls);
	finding("compaction stalls", line, "memscope sys --zones --frag");
	if (s->nv)
		snprintf(line, sizeof(line), "%d: pid %d (%s)%s%s", s->nv, s->victims[0].pid,
			 comm_text(s->victims[0].comm, comm), s->victims[0].memcg[0] ? " in " : "",
			 s->victims[0].memcg);
	finding("OOM kills", s->nv ? line : "none", "memscope oom --detail");
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
	for (size_t i = 0; i < json_object_array_length(tops); i++)
		table_add(t, json_object_get(json_object_array_get_idx(tops, i)));
	table_flush(t);
	table_free(t);
}

static void print_report(const struct sample *s, json_object *rec, const char *reasons)
{
	json_object *mem = NULL, *tops = NULL;
	struct utsname un;

	uname(&un);
	json_object_object_get_ex(rec, "memory", &mem);
	json_object_object_get_ex(rec, "top_processes", &tops);
	out_printf("\nmemscope health report: %.1f s sample, kernel %s\n", s->secs, un.release);
	if (*reasons)
		out_wrap("verdict: under pressure: ", "         ", reasons);
	else
		out_printf("verdict: OK\n");
	out_printf("\n");
	print_memory(s, mem);
	print_activity(s);
	print_top(tops, s);
	out_flush();
}

static int summary_run(const struct ms_opts *o)
{
	double want = o->duration > 0 ? o->duration : DEFAULT_SAMPLE_S;
	struct sample *s = calloc(1, sizeof(*s));
	struct watchers *w = calloc(1, sizeof(*w));
	json_object *reasons = json_object_new_array(), *rec;
	char text[1024];
	struct strbuf sb;
	uint64_t t0;

	if (!s || !w)
		ms_fatal("out of memory");
	ms_require_bpf();
	watch(w);
	t0 = ms_now_ns();
	if (!out_json_mode()) {
		out_printf("sampling for %.1f s...\n", want);
		out_flush();
	}
	ms_sleep_ns(want * 1e9);
	if (ms_stop_reason() != MS_STOP_PIPE) {
		s->secs = (ms_now_ns() - t0) / 1e9;
		gather(w, s);
		sb_init(&sb, text, sizeof(text));
		verdict(s, &sb, reasons);
		rec = report_json(s, json_object_get(reasons), ms_wall_now());
		if (out_json_mode())
			out_json(json_object_get(rec));
		else
			print_report(s, rec, text);
		json_object_put(rec);
	}
	json_object_put(reasons);
	unwatch(w);
	proc_list_free(&s->procs);
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
};
