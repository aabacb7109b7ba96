// SPDX-License-Identifier: GPL-2.0
/*
 * memscope (no command): the one-screen memory health report. Watches a short
 * sample with reclaim's, paf's and oom's programs, then reads every node with
 * sys's iterator and the largest processes with proc's: one answer to "is
 * memory OK here, and if not, where do I look".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <linux/types.h>
#include "textsafe.h"
#include "commands.h"
#include "output.h"
#include "procfs.h"
#include "runtime.h"
#include "units.h"
#include "strbuf.h"
#include "counters.h"
#include "failures.h"
#include "kills.h"
#include "meminfo.h"
#include "nodes.h"
#include "procs.h"
#include "record.h"
#include "vmscan.h"
#include "sys.h"

#define DEFAULT_SAMPLE_S 5.0
#define TOP_N 10

static unsigned long page_size;

struct psi {
	bool ok;
	double some10, some60, full10, full60;
};

static struct psi read_psi(void)
{
	struct psi p = { 0 };
	char buf[512], *full;

	if (read_text_file("/proc/pressure/memory", buf, sizeof(buf)) <= 0)
		return p;
	full = strstr(buf, "full");
	p.ok = sscanf(buf, "some avg10=%lf avg60=%lf", &p.some10, &p.some60) == 2 && full &&
	       sscanf(full, "full avg10=%lf avg60=%lf", &p.full10, &p.full60) == 2;
	return p;
}

/* One finding of the verdict: to the JSON list and the text line. */
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

static uint64_t get_u64(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v ? json_object_get_uint64(v) : 0;
}

static void copy_key(json_object *dst, json_object *src, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(src, key, &v);
	json_object_object_add(dst, key, json_object_get(v));
}

static int summary_run(const struct ms_opts *o)
{
	double sample = o->duration > 0 ? o->duration : DEFAULT_SAMPLE_S;
	char cbuf[COMM_TEXT_LEN];
	struct reclaim *rs;
	struct reclaim_snapshot *rbase = calloc(2, sizeof(*rbase));
	struct failures *ps;
	struct kills *os;
	struct oom_victim victims[32];
	struct reclaim_totals rt;
	struct failures_totals pt;
	struct sys_node *nodes = calloc(SYS_MAX_NODES, sizeof(*nodes));
	struct proc_list procs = { 0 };
	int nv, nn, ntop;
	uint64_t t0;
	double secs;
	struct psi psi;
	char reasons_buf[1024], b[8][32];
	struct strbuf reasons;
	json_object *reason_list = json_object_new_array();
	json_object *rec = json_object_new_object(), *total, *mem = json_object_new_object();
	json_object *act = json_object_new_object(), *tops = json_object_new_array();
	json_object *vic = json_object_new_array(), *nodes_json = json_object_new_array();
	uint64_t swap_total = 0, swap_free = 0, avail;
	char meminfo[8192];
	bool have_swap;
	struct utsname un;

	page_size = getpagesize();
	if (!nodes)
		ms_fatal("out of memory");
	ms_require_bpf();
	{
		static const struct ms_filter all;
		static const struct reclaim_want none;

		if (!rbase)
			ms_fatal("out of memory");
		rs = reclaim_open(&all, &none);
		reclaim_read(rs, &rbase[0]);
	}
	{
		static const struct ms_filter all;
		static const struct failures_want counts = { .order_eq = -1, .order_min = -1 };

		ps = failures_open(&all, &counts);
	}
	{
		static const struct kills_want plain;

		os = kills_open(&plain);
	}
	t0 = ms_now_ns();
	if (!out_json_mode()) {
		out_printf("sampling for %.1f s...\n", sample);
		out_flush();
	}
	ms_sleep_ns(sample * 1e9);
	if (ms_stop_reason() == MS_STOP_PIPE)
		goto out;
	secs = (ms_now_ns() - t0) / 1e9;
	reclaim_read(rs, &rbase[1]);
	reclaim_totals_between(&rbase[0], &rbase[1], &rt);
	failures_totals(ps, &pt);
	nv = kills_victims(os, victims, 32);
	{
		struct nodes *n = nodes_open(0);

		nn = nodes_read(n, nodes, SYS_MAX_NODES);
		nodes_close(n);
	}
	{
		struct ms_filter all = { 0 };
		struct procs *p = procs_open(&all, false);

		procs_snapshot(p, &procs);
		procs_close(p);
		proc_list_sort_rss(&procs);
		ntop = procs.n < TOP_N ? (int)procs.n : TOP_N;
	}
	psi = read_psi();
	have_swap = read_text_file("/proc/meminfo", meminfo, sizeof(meminfo)) > 0 &&
		    meminfo_value(meminfo, "SwapTotal", &swap_total) &&
		    meminfo_value(meminfo, "SwapFree", &swap_free);

	/* memory */
	/* The system's totals are /proc/meminfo's (sys's total record). */
	{
		struct ms_meminfo mi;
		struct node_row row;

		total_row_of(nodes, nn, meminfo_read(&mi) ? &mi : NULL, &row);
		total = record_json(&node_desc, &row, ms_wall_now());
	}
	avail = get_u64(total, "available_bytes");
	{
		static const char *const keys[] = {
			"total_bytes", "free_bytes", "available_bytes", "used_bytes",
			"unmanaged_bytes", "unmanaged_reason", "anon_pages_bytes",
			"file_pages_bytes", "shmem_bytes", "slab_bytes", "sreclaimable_bytes",
			"page_tables_bytes", "kernel_stack_bytes", "anon_huge_pages_bytes",
			"shmem_huge_pages_bytes", "dirty_bytes", "writeback_bytes" };

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			copy_key(mem, total, keys[i]);
	}
	/* Swap has no per-node counter: these two come from /proc/meminfo. */
	json_object_object_add(mem, "swap_total_bytes", have_swap ? json_u64(swap_total) : NULL);
	json_object_object_add(mem, "swap_free_bytes", have_swap ? json_u64(swap_free) : NULL);
	for (int i = 0; i < nn; i++) {
		struct node_row row;

		node_row_of(&nodes[i], &row);
		json_object_array_add(nodes_json, record_json(&node_desc, &row, ms_wall_now()));
	}

	/* activity during the sample */
	json_object_object_add(act, "sample_ns", json_u64(secs * 1e9));
	json_object_object_add(act, "alloc_failures", json_u64(pt.failures));
	json_object_object_add(act, "alloc_failure_worst_order",
			       pt.worst_order >= 0 ? json_object_new_int(pt.worst_order) : NULL);
	json_object_object_add(act, "reclaim_scanned_pages", json_u64(rt.scanned));
	json_object_object_add(act, "reclaim_reclaimed_pages", json_u64(rt.reclaimed));
	json_object_object_add(act, "reclaim_scanned_per_s", json_fixed(rt.scanned / secs, 1));
	json_object_object_add(act, "reclaim_reclaimed_per_s",
			       json_fixed(rt.reclaimed / secs, 1));
	json_object_object_add(act, "direct_reclaim_stalls", json_u64(rt.stalls[RC_DIRECT]));
	json_object_object_add(act, "memcg_reclaim_stalls", json_u64(rt.stalls[RC_MEMCG]));
	json_object_object_add(act, "stall_p50_at_most_ns",
			       rt.stall_p50_ns ? json_u64(rt.stall_p50_ns) : NULL);
	json_object_object_add(act, "stall_p99_at_most_ns",
			       rt.stall_p99_ns ? json_u64(rt.stall_p99_ns) : NULL);
	json_object_object_add(act, "kswapd_wakeups", json_u64(rt.kswapd_wakeups));
	json_object_object_add(act, "compaction_stalls", json_u64(rt.compact_stalls));
	for (int i = 0; i < nv; i++) {
		json_object *v = json_object_new_object();

		json_object_object_add(v, "pid", json_object_new_int(victims[i].pid));
		json_object_object_add(v, "comm", json_object_new_string(victims[i].comm));
		json_object_object_add(v, "memcg", victims[i].memcg[0] ?
				       json_object_new_string(victims[i].memcg) : NULL);
		json_object_object_add(v, "rss_anon_bytes", victims[i].has_sizes ?
				       json_u64(victims[i].rss_anon_bytes) : NULL);
		json_object_array_add(vic, v);
	}
	json_object_object_add(act, "oom_kills", vic);
	for (int i = 0; i < ntop; i++) {
		struct proc_row row;

		proc_row_of(&procs.r[i], NULL, &row);
		json_object_array_add(tops, record_json(&proc_desc, &row, ms_wall_now()));
	}

	/* the verdict */
	sb_init(&reasons, reasons_buf, sizeof(reasons_buf));
	if (nv)
		add_reason(&reasons, reason_list, "%d OOM kill%s%s%s", nv, nv == 1 ? "" : "s",
		       victims[0].memcg[0] ? " in memcg " : "", victims[0].memcg);
	if (pt.failures)
		add_reason(&reasons, reason_list, "%llu allocation failure%s (worst order %d)", pt.failures,
		       pt.failures == 1 ? "" : "s", pt.worst_order);
	if (rt.stalls[RC_DIRECT] + rt.stalls[RC_MEMCG] + rt.stalls[RC_NODE])
		add_reason(&reasons, reason_list, "reclaim stalls: %llu direct, %llu memcg, p99 <= %s", rt.stalls[RC_DIRECT],
		       rt.stalls[RC_MEMCG], fmt_duration_ns(b[0], 32, rt.stall_p99_ns));
	if (psi.ok && psi.some10 >= 1.0)
		add_reason(&reasons, reason_list, "PSI memory some avg10 %.2f%%", psi.some10);
	if (avail < get_u64(total, "total_bytes") / 20)
		add_reason(&reasons, reason_list, "only %s available", fmt_bytes(b[1], 32, avail));
	json_object_object_add(rec, "type", json_object_new_string("summary"));
	json_object_object_add(rec, "ts", json_ts(ms_wall_now()));
	json_object_object_add(rec, "verdict", json_object_new_string(reasons.off ? "under pressure" : "OK"));
	json_object_object_add(rec, "reasons", reason_list);
	json_object_object_add(rec, "memory", mem);
	json_object_object_add(rec, "nodes", nodes_json);
	if (psi.ok) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "some_avg10", json_object_new_double(psi.some10));
		json_object_object_add(p, "some_avg60", json_object_new_double(psi.some60));
		json_object_object_add(p, "full_avg10", json_object_new_double(psi.full10));
		json_object_object_add(p, "full_avg60", json_object_new_double(psi.full60));
		json_object_object_add(rec, "psi", p);
	} else {
		json_object_object_add(rec, "psi", NULL);
	}
	json_object_object_add(rec, "activity", act);
	json_object_object_add(rec, "top_processes", tops);

	if (out_json_mode()) {
		out_json(json_object_get(rec));
	} else {
		uname(&un);
		out_printf("\nmemscope health report: %.1f s sample, kernel %s\n", secs, un.release);
		out_printf("verdict: %s%s%s\n\n", reasons.off ? "under pressure: " : "OK", reasons_buf, "");
		out_printf("memory   total %s, free %s, available %s, used %s\n",
			   fmt_bytes(b[0], 32, get_u64(mem, "total_bytes")),
			   fmt_bytes(b[1], 32, get_u64(mem, "free_bytes")), fmt_bytes(b[2], 32, avail),
			   fmt_bytes(b[3], 32, get_u64(mem, "used_bytes")));
		{
			json_object *why = NULL;

			json_object_object_get_ex(mem, "unmanaged_reason", &why);
			if (why)
				out_printf("  note: %s of it in no zone yet: %s\n",
					   fmt_bytes(b[0], 32, get_u64(mem, "unmanaged_bytes")),
					   json_object_get_string(why));
		}
		out_printf("  used by anon %s, file cache %s, shmem %s, slab %s, page tables %s, "
			   "kernel stacks %s, THP anon %s / shmem %s\n",
			   fmt_bytes(b[0], 32, get_u64(mem, "anon_pages_bytes")),
			   fmt_bytes(b[1], 32, get_u64(mem, "file_pages_bytes")),
			   fmt_bytes(b[2], 32, get_u64(mem, "shmem_bytes")),
			   fmt_bytes(b[3], 32, get_u64(mem, "slab_bytes")),
			   fmt_bytes(b[4], 32, get_u64(mem, "page_tables_bytes")),
			   fmt_bytes(b[5], 32, get_u64(mem, "kernel_stack_bytes")),
			   fmt_bytes(b[6], 32, get_u64(mem, "anon_huge_pages_bytes")),
			   fmt_bytes(b[7], 32, get_u64(mem, "shmem_huge_pages_bytes")));
		out_printf("  dirty %s, writeback %s; ", fmt_bytes(b[0], 32, get_u64(mem, "dirty_bytes")),
			   fmt_bytes(b[1], 32, get_u64(mem, "writeback_bytes")));
		if (!have_swap)
			out_printf("swap unknown\n");
		else if (!swap_total)
			out_printf("no swap configured\n");
		else
			out_printf("swap %s used of %s\n", fmt_bytes(b[2], 32, swap_total - swap_free),
				   fmt_bytes(b[3], 32, swap_total));
		for (int i = 0; nn > 1 && i < nn; i++) {
			json_object *n = json_object_array_get_idx(nodes_json, i);

			out_printf("  node %d: total %s, free %s, file %s, anon %s\n", nodes[i].nid,
				   fmt_bytes(b[0], 32, get_u64(n, "total_bytes")),
				   fmt_bytes(b[1], 32, get_u64(n, "free_bytes")),
				   fmt_bytes(b[2], 32, get_u64(n, "file_pages_bytes")),
				   fmt_bytes(b[3], 32, get_u64(n, "anon_pages_bytes")));
		}
		if (psi.ok)
			out_printf("pressure PSI memory some %.2f%% (10 s) %.2f%% (60 s), full %.2f%% / "
				   "%.2f%%\n", psi.some10, psi.some60, psi.full10, psi.full60);
		else
			out_printf("pressure PSI not available on this kernel\n");
		char failures[64];

		out_printf("\nduring the sample\n");
		out_printf("  %-22s %-44s → memscope paf --stack\n", "allocation failures",
			   pt.failures ? (snprintf(failures, sizeof(failures), "%llu, worst order %d",
						   pt.failures, pt.worst_order), failures) : "none");
		snprintf(b[4], 32, "%.20s/s", fmt_count(b[1], 32, rt.scanned / secs));
		snprintf(b[5], 32, "%.20s/s", fmt_count(b[2], 32, rt.reclaimed / secs));
		{
			char line[320];

			snprintf(line, sizeof(line), "scanned %s, reclaimed %s (pages)", b[4], b[5]);
			out_printf("  %-22s %-44s → memscope reclaim\n", "reclaim", line);
			snprintf(line, sizeof(line), "%llu direct, %llu memcg; p50 <= %s, p99 <= %s",
				 rt.stalls[RC_DIRECT], rt.stalls[RC_MEMCG],
				 rt.stall_p50_ns ? fmt_duration_ns(b[0], 32, rt.stall_p50_ns) : "-",
				 rt.stall_p99_ns ? fmt_duration_ns(b[1], 32, rt.stall_p99_ns) : "-");
			out_printf("  %-22s %-44s → memscope reclaim --events --by-process\n",
				   "reclaim stalls", line);
			snprintf(line, sizeof(line), "%llu", rt.kswapd_wakeups);
			out_printf("  %-22s %-44s → memscope reclaim\n", "kswapd wakeups", line);
			snprintf(line, sizeof(line), "%llu", rt.compact_stalls);
			out_printf("  %-22s %-44s → memscope sys --zones --frag\n", "compaction stalls",
				   line);
			if (!nv)
				snprintf(line, sizeof(line), "none");
			else
				snprintf(line, sizeof(line), "%d: pid %d (%s)%s%s", nv, victims[0].pid,
					 comm_text(victims[0].comm, cbuf), victims[0].memcg[0] ? " in " : "",
					 victims[0].memcg);
			out_printf("  %-22s %-44s → memscope oom --detail\n", "OOM kills", line);
		}
		out_printf("\ntop %d processes by RSS                                        "
			   "→ memscope proc\n", ntop);
		{
			static const char *const keys[] = { "pid", "comm", "rss_bytes",
							    "rss_anon_bytes", "rss_file_bytes",
							    "rss_shmem_bytes", "swap_bytes",
							    "page_tables_bytes", NULL };
			struct ms_col cols[8];
			struct ms_table *t = table_new(cols, record_cols_pick(&proc_desc, keys, cols, 8));

			for (int i = 0; i < ntop; i++)
				table_add(t, json_object_get(json_object_array_get_idx(tops, i)));
			table_flush(t);
			table_free(t);
		}
		out_flush();
	}
	json_object_put(total);
out:
	json_object_put(rec);
	proc_list_free(&procs);
	kills_close(os);
	failures_close(ps);
	reclaim_close(rs);
	free(rbase);
	free(nodes);
	return 0;
}

const struct ms_cmd cmd_summary = {
	.name = "summary",
	.summary = "one-screen memory health report (the default when no command is given)",
	.details =
		"Watches a short sample (default 5 s, -d to change) for allocation failures,\n"
		"reclaim, stalls, kswapd, compaction and OOM kills, then reads every node and\n"
		"the largest processes: a verdict, and for each finding the command that digs\n"
		"deeper.",
	.examples = "  memscope                  a 5 s sample\n"
		    "  memscope -d 30 -j         30 s, one JSON record\n",
	.shared = MS_OPT_DURATION,
	.run = summary_run,
};
