// SPDX-License-Identifier: GPL-2.0
/* memscope leak: outstanding user-space allocations by call stack (memleak). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "allocs.h"
#include "commands.h"
#include "ksyms.h"
#include "loss.h"
#include "output.h"
#include "procfs.h"
#include "record.h"
#include "runtime.h"
#include "units.h"
#include "usyms.h"
#include "util.h"

#define LEAK_FRAME_LEN 160

static struct {
	long top;
	double min_age;
	long sample;
	const char *lib;
	const char *prefix;
	bool kernel;
	bool dwarf;
} cfg = { .top = 10, .min_age = 0.5, .sample = 1, .prefix = "" };

enum { OPT_TOP, OPT_MIN_AGE, OPT_SAMPLE, OPT_LIB, OPT_PREFIX, OPT_KERNEL, OPT_DWARF };

static const struct ms_cmd_opt leak_opts[] = {
	{ "top", 0, required_argument, "N", "the N stacks holding most (default 10)", OPT_TOP },
	{ "min-age", 0, required_argument, "SEC",
	  "only allocations at least this old (default 0.5): not the ones in flight", OPT_MIN_AGE },
	{ "sample", 0, required_argument, "N",
	  "track one allocation in N (default 1: all); sizes are of the sample", OPT_SAMPLE },
	{ "lib", 0, required_argument, "PATH",
	  "the allocator is in this file (default: every file the process maps)", OPT_LIB },
	{ "symbol-prefix", 0, required_argument, "PREFIX",
	  "its functions are named PREFIXmalloc, PREFIXfree, ... (e.g. je_)", OPT_PREFIX },
	{ "kernel", 0, no_argument, NULL,
	  "the kernel's allocations instead: slab objects, pages and per-CPU areas, by stack "
	  "and cache",
	  OPT_KERNEL },
	{ "dwarf", 0, no_argument, NULL,
	  "unwind with DWARF call frame information (code without frame pointers): copies "
	  "8 KiB of stack per allocation", OPT_DWARF },
	{ NULL },
};

static void leak_parse_opt(int id, const char *arg)
{
	struct stat st;

	switch (id) {
	case OPT_TOP:
		cfg.top = ms_parse_long("--top", arg, 1, 100000);
		break;
	case OPT_MIN_AGE:
		cfg.min_age = ms_parse_double("--min-age", arg, 0, 86400 * 365);
		break;
	case OPT_SAMPLE:
		cfg.sample = ms_parse_long("--sample", arg, 1, 1 << 30);
		break;
	case OPT_LIB:
		if (stat(arg, &st) || !S_ISREG(st.st_mode))
			ms_usage_error("--lib: '%s' is not a file", arg);
		cfg.lib = arg;
		break;
	case OPT_PREFIX:
		if (!arg[0] || strlen(arg) > 32 || strspn(arg, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(arg))
			ms_usage_error("--symbol-prefix: '%s' is not a C identifier prefix", arg);
		cfg.prefix = arg;
		break;
	case OPT_KERNEL:
		cfg.kernel = true;
		break;
	case OPT_DWARF:
		cfg.dwarf = true;
		break;
	}
}

static void leak_check(const struct ms_opts *o)
{
	if (cfg.kernel && (o->nr_pids || o->has_comm || cfg.lib || cfg.prefix[0] || cfg.dwarf))
		ms_usage_error("leak --kernel: takes no -p, --comm, --lib, --symbol-prefix or "
			       "--dwarf");
	if (!cfg.kernel && !o->nr_pids && !o->has_comm)
		ms_usage_error("leak: which process? -p PID or --comm NAME (or --kernel)");
}

/* ---- records ---- */

struct leak_stack_row {
	uint32_t pid;
	char comm[16];
	char source[40];
	uint64_t bytes, allocations, oldest_age_ns;
	int64_t growth_bytes;
	bool stack_complete;
	uint32_t nr_frames;
	char frames[LEAK_STACK_DEPTH][LEAK_FRAME_LEN];
	uint64_t null_mask;
};

#define S(m, key, head, ft, unit, kind, flags, help) \
	FLD(struct leak_stack_row, m, key, head, ft, unit, kind, flags, help)
static const struct field stack_fields[] = {
	S(pid, "pid", "PID", FT_U32, FU_NONE, FK_LABEL, FF_NULL, "the process; null: --kernel"),
	S(comm, "comm", "COMM", FT_STR, FU_NONE, FK_LABEL, FF_LEFT | FF_NULL,
	  "its command name; null: --kernel"),
	S(source, "source", "SOURCE", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	  "the allocator function (malloc, ...); --kernel: the slab cache, kmalloc-N (the size "
	  "class), pages-order-N, page-cache-order-N (pages the page cache holds now: file "
	  "data the kernel drops under pressure, no leak) or percpu"),
	S(bytes, "outstanding_bytes", "BYTES", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "outstanding bytes allocated from this stack (as requested)"),
	S(allocations, "allocations", "ALLOCS", FT_U64, FU_NONE, FK_GAUGE, 0,
	  "outstanding allocations from this stack"),
	S(oldest_age_ns, "oldest_age_ns", "OLDEST", FT_U64, FU_NS, FK_GAUGE, 0,
	  "age of the oldest of them"),
	S(growth_bytes, "growth_bytes", "GROWTH", FT_S64, FU_BYTES, FK_GAUGE, FF_DELTA,
	  "change of bytes since the previous report"),
	S(stack_complete, "stack_complete", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	  "the stack reaches the process's start (main, a thread's start); false: the walk "
	  "stopped early, at code built without frame pointers"),
	FLD_STRS(struct leak_stack_row, frames, nr_frames, "stack", 0,
		 "the user stack, the allocator's direct caller first: function+offset "
		 "(file:line) where the debug information says; --kernel: the kernel stack"),
};
#undef S
static const struct record_desc leak_stack_desc =
	RECORD_DESC("leak_stack", "memscope leak: what one call stack holds", stack_fields,
		    struct leak_stack_row);

struct leak_proc_row {
	uint32_t pid;
	char comm[16];
	uint64_t bytes, allocations, stacks;
	int64_t growth_bytes;
	uint64_t null_mask;
};

#define P(m, key, head, ft, unit, kind, flags, help) \
	FLD(struct leak_proc_row, m, key, head, ft, unit, kind, flags, help)
static const struct field proc_fields[] = {
	P(pid, "pid", "PID", FT_U32, FU_NONE, FK_LABEL, 0, "the process"),
	P(comm, "comm", "COMM", FT_STR, FU_NONE, FK_LABEL, FF_LEFT, "its command name"),
	P(bytes, "outstanding_bytes", "BYTES", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "outstanding bytes (older than --min-age)"),
	P(allocations, "allocations", "ALLOCS", FT_U64, FU_NONE, FK_GAUGE, FF_COUNT,
	  "outstanding allocations"),
	P(stacks, "stacks", "STACKS", FT_U64, FU_NONE, FK_GAUGE, 0, "distinct stacks"),
	P(growth_bytes, "growth_bytes", "GROWTH", FT_S64, FU_BYTES, FK_GAUGE, FF_DELTA,
	  "change of bytes since the previous report"),
};
#undef P
static const struct record_desc leak_proc_desc =
	RECORD_DESC("leak_process", "memscope leak: one traced process, all its stacks",
		    proc_fields, struct leak_proc_row);

struct leak_summary_row {
	uint32_t processes;
	uint64_t bytes, allocations, unknown_frees, sample_every, min_age_ns;
	uint64_t null_mask;
};

#define T(m, key, head, ft, unit, kind, flags, help) \
	FLD(struct leak_summary_row, m, key, head, ft, unit, kind, flags, help)
static const struct field summary_fields[] = {
	T(processes, "processes", "PROCS", FT_U32, FU_NONE, FK_GAUGE, FF_NULL,
	  "processes traced; null: --kernel"),
	T(bytes, "outstanding_bytes", "BYTES", FT_U64, FU_BYTES, FK_GAUGE, 0, "outstanding bytes, all of them"),
	T(allocations, "allocations", "ALLOCS", FT_U64, FU_NONE, FK_GAUGE, 0,
	  "outstanding allocations"),
	T(unknown_frees, "unknown_frees", "UNKNOWN", FT_U64, FU_NONE, FK_COUNTER, 0,
	  "frees of memory allocated before memscope attached (ignored), since it attached"),
	T(sample_every, "sample_every", NULL, FT_U64, FU_NONE, FK_LABEL, 0,
	  "one allocation in this many is tracked (--sample)"),
	T(min_age_ns, "min_age_ns", NULL, FT_U64, FU_NS, FK_LABEL, 0,
	  "allocations younger than this are not counted (--min-age)"),
};
#undef T
static const struct record_desc leak_summary_desc =
	RECORD_DESC("leak", "memscope leak: one report's totals", summary_fields,
		    struct leak_summary_row);

struct leak_source_row {
	char source[40];
	uint64_t bytes, allocations, stacks;
	int64_t growth_bytes;
	uint64_t null_mask;
};

#define C(m, key, head, ft, unit, kind, flags, help) \
	FLD(struct leak_source_row, m, key, head, ft, unit, kind, flags, help)
static const struct field source_fields[] = {
	C(source, "source", "SOURCE", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	  "the slab cache, kmalloc-N (the size class), pages-order-N, page-cache-order-N (pages "
	  "the page cache holds now: file data, no leak) or percpu"),
	C(bytes, "outstanding_bytes", "BYTES", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "outstanding bytes (older than --min-age)"),
	C(allocations, "allocations", "ALLOCS", FT_U64, FU_NONE, FK_GAUGE, FF_COUNT,
	  "outstanding allocations"),
	C(stacks, "stacks", "STACKS", FT_U64, FU_NONE, FK_GAUGE, 0, "distinct stacks"),
	C(growth_bytes, "growth_bytes", "GROWTH", FT_S64, FU_BYTES, FK_GAUGE, FF_DELTA,
	  "change of bytes since the previous report"),
};
#undef C
static const struct record_desc leak_source_desc =
	RECORD_DESC("leak_source", "memscope leak --kernel: one slab cache or page order, all "
		    "its stacks", source_fields, struct leak_source_row);

/* ---- which processes ---- */

/* --comm NAME: the processes of that name now (one set of probes per process). */
static int pids_of_comm(const char *comm, int *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && n < max && (e = readdir(d))) {
		char path[300], name[64];
		int pid = atoi(e->d_name);

		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (pid > 0 && pid != getpid() && read_line_file(path, name, sizeof(name)) &&
		    !strcmp(name, comm))
			pids[n++] = pid;
	}
	if (d)
		closedir(d);
	return n;
}

static int choose_pids(const struct ms_opts *o, int *pids)
{
	char path[64];
	int n = 0;

	if (o->has_comm) {
		n = pids_of_comm(o->comm, pids, MS_MAX_PIDS);
		if (!n)
			ms_usage_error("--comm: no process is named '%s'", o->comm);
		return n;
	}
	for (int i = 0; i < o->nr_pids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/maps", o->pids[i]);
		if (proc_no_mm_reason(o->pids[i]))
			ms_usage_error("-p %d: %s", o->pids[i], proc_no_mm_reason(o->pids[i]));
		pids[n++] = o->pids[i];
	}
	return n;
}

static void comm_of(int pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (!read_line_file(path, buf, len))
		snprintf(buf, len, "?");
}

/* ---- reports ---- */

/*
 * One stack as shown. Groups are merged when their symbolized stacks read the same:
 * past code without frame pointers the walk picks up stray words, which split one
 * call site into many kernel stack ids; those frames are cut.
 */
struct shown {
	uint64_t hash; /* of the pid and the frames */
	char where[256]; /* the file of the outermost frame kept */
	struct leak_stack_row row;
};

struct seen { /* a stack of the previous report */
	uint64_t hash, bytes;
	uint32_t pid;
	char source[40];
};

struct report {
	struct allocs *a;
	int pids[MS_MAX_PIDS], nr;
	char comms[MS_MAX_PIDS][16];
	bool gone[MS_MAX_PIDS];
	struct usyms *syms[MS_MAX_PIDS];
	struct ksyms *ksyms; /* --kernel */
	struct seen *prev; /* by hash */
	size_t nprev;
};

static int slot_of(const struct report *r, uint32_t pid)
{
	for (int i = 0; i < r->nr; i++)
		if ((uint32_t)r->pids[i] == pid)
			return i;
	return 0;
}

static int cmp_seen(const void *x, const void *y)
{
	const struct seen *a = x, *b = y;

	return (a->hash > b->hash) - (a->hash < b->hash);
}

static uint64_t prev_bytes(const struct report *r, uint64_t hash)
{
	struct seen key = { .hash = hash }, *s;

	s = r->nprev ? bsearch(&key, r->prev, r->nprev, sizeof(key), cmp_seen) : NULL;
	return s ? s->bytes : 0;
}

static bool is_start(const char *fn)
{
	static const char *const starts[] = { "main", "__libc_start_call_main",
		"__libc_start_main", "_start", "start_thread", "clone", "clone3", "__clone",
		"__clone3" };

	for (size_t i = 0; fn && i < ARRAY_SIZE(starts); i++)
		if (!strcmp(fn, starts[i]))
			return true;
	return false;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *c = p; n--; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return h;
}

/* The stack symbolized, up to its first address in no mapped file. */
static void fill_stack(struct report *r, const struct alloc_group *g, struct shown *sh)
{
	struct leak_stack_row *s = &sh->row;
	uint64_t ips[LEAK_STACK_DEPTH];
	int n = allocs_stack(r->a, g, ips, LEAK_STACK_DEPTH);
	struct usyms *u = r->syms[slot_of(r, g->pid)];
	const char *mod;

	for (int i = 0; i < n && (mod = usyms_module(u, ips[i] - 1)); i++) {
		const char *fn;

		usyms_format(u, ips[i], true, s->frames[s->nr_frames], LEAK_FRAME_LEN, &fn);
		sh->hash = fnv1a(sh->hash, s->frames[s->nr_frames], strlen(s->frames[s->nr_frames]) + 1);
		s->nr_frames++;
		s->stack_complete |= is_start(fn);
		snprintf(sh->where, sizeof(sh->where), "%s", strrchr(mod, '/') ? strrchr(mod, '/') + 1 : mod);
	}
}

/* --kernel: the stack from its first frame outside memscope's program and tracing glue. */
static void fill_kernel_stack(struct report *r, const struct alloc_group *g, struct shown *sh)
{
	struct leak_stack_row *s = &sh->row;
	uint64_t ips[LEAK_STACK_DEPTH];
	int n = allocs_stack(r->a, g, ips, LEAK_STACK_DEPTH);

	for (int i = ksyms_stack_start(r->ksyms, ips, n); i < n; i++) {
		ksyms_format(r->ksyms, ips[i], s->frames[s->nr_frames], LEAK_FRAME_LEN);
		sh->hash = fnv1a(sh->hash, s->frames[s->nr_frames], strlen(s->frames[s->nr_frames]) + 1);
		s->nr_frames++;
	}
	s->stack_complete = n > 0 && n < LEAK_STACK_DEPTH; /* else cut at the map's depth */
}

static void fill_row(struct report *r, const struct alloc_group *g, uint64_t now, struct shown *sh)
{
	struct leak_stack_row *s = &sh->row;

	s->bytes = g->bytes;
	s->allocations = g->count;
	s->oldest_age_ns = now > g->oldest_ns ? now - g->oldest_ns : 0;
	if (cfg.kernel) {
		record_null(&leak_stack_desc, s, "pid");
		record_null(&leak_stack_desc, s, "comm");
		allocs_source_name(r->a, g, s->source, sizeof(s->source));
	} else {
		s->pid = g->pid;
		memcpy(s->comm, r->comms[slot_of(r, g->pid)], sizeof(s->comm));
		snprintf(s->source, sizeof(s->source), "%s%s", cfg.prefix, allocs_fn_name(g->fn));
	}
	sh->hash = fnv1a(14695981039346656037ULL, &s->pid, sizeof(s->pid));
	sh->hash = fnv1a(sh->hash, s->source, strlen(s->source) + 1);
	if (cfg.kernel)
		fill_kernel_stack(r, g, sh);
	else
		fill_stack(r, g, sh);
}

static int cmp_hash(const void *x, const void *y)
{
	const struct shown *a = x, *b = y;

	return (a->hash > b->hash) - (a->hash < b->hash);
}

static int cmp_bytes(const void *x, const void *y)
{
	const struct shown *a = x, *b = y;

	if (a->row.bytes != b->row.bytes)
		return a->row.bytes > b->row.bytes ? -1 : 1;
	return cmp_hash(x, y);
}

/* Merge the stacks that read the same; returns how many are left, largest first. */
static size_t merge(struct shown *sh, size_t n)
{
	size_t m = 0;

	qsort(sh, n, sizeof(*sh), cmp_hash);
	for (size_t i = 0; i < n; i++) {
		struct leak_stack_row *last = m ? &sh[m - 1].row : NULL, *s = &sh[i].row;

		if (last && sh[m - 1].hash == sh[i].hash) {
			last->bytes += s->bytes;
			last->allocations += s->allocations;
			if (s->oldest_age_ns > last->oldest_age_ns)
				last->oldest_age_ns = s->oldest_age_ns;
		} else if (m++ != i) {
			sh[m - 1] = sh[i];
		}
	}
	qsort(sh, m, sizeof(*sh), cmp_bytes);
	return m;
}

static void print_stack_text(const struct leak_stack_row *s, const char *where)
{
	char b[3][32], note[300], from[80], line[400];

	record_text(&leak_stack_desc, s, "outstanding_bytes", b[0], sizeof(b[0]));
	record_text(&leak_stack_desc, s, "oldest_age_ns", b[1], sizeof(b[1]));
	record_text(&leak_stack_desc, s, "growth_bytes", b[2], sizeof(b[2]));
	if (cfg.kernel)
		snprintf(from, sizeof(from), "%s", s->source);
	else
		snprintf(from, sizeof(from), "%s, pid %u %s", s->source, s->pid, s->comm);
	snprintf(line, sizeof(line), "%s in %llu allocation%s (%s), oldest %s, %s:", b[0],
		 (unsigned long long)s->allocations, s->allocations == 1 ? "" : "s", from, b[1],
		 b[2]);
	out_wrap("  ", "    ", line);
	if (!s->nr_frames)
		out_printf("      (no stack: the stack map had no room for it)\n");
	for (uint32_t i = 0; i < s->nr_frames; i++)
		out_printf("      %s\n", s->frames[i]);
	if (s->nr_frames && !s->stack_complete && !cfg.kernel) {
		snprintf(note, sizeof(note), "(the walk ends here: %s has no frame pointers, so "
			 "the callers above are unknown)", where[0] ? where : "the code");
		out_wrap("      ", "       ", note);
	}
}

static void report_processes(struct report *r, const struct shown *sh, size_t n, double ts)
{
	struct ms_col cols[8];
	struct ms_table *t = table_new(cols, record_cols(&leak_proc_desc, cols, 8, 0));

	for (int p = 0; p < r->nr; p++) {
		struct leak_proc_row row = { .pid = r->pids[p] };

		if (r->gone[p])
			continue;
		memcpy(row.comm, r->comms[p], sizeof(row.comm));
		for (size_t i = 0; i < n; i++)
			if (sh[i].row.pid == row.pid) {
				row.bytes += sh[i].row.bytes;
				row.allocations += sh[i].row.allocations;
				row.stacks++;
			}
		row.growth_bytes = row.bytes;
		for (size_t i = 0; i < r->nprev; i++)
			if (r->prev[i].pid == row.pid)
				row.growth_bytes -= r->prev[i].bytes;
		table_add(t, record_row(&leak_proc_desc, &row, ts));
	}
	table_flush(t);
	table_free(t);
}

static uint32_t live_processes(const struct report *r)
{
	uint32_t n = 0;

	for (int p = 0; p < r->nr; p++)
		n += !r->gone[p];
	return n;
}

/* Read each process's mappings (they change: dlopen); say once when one has exited. */
static void open_symbols(struct report *r)
{
	for (int p = 0; p < r->nr; p++) {
		r->syms[p] = r->gone[p] ? NULL : usyms_open(r->pids[p]);
		if (r->syms[p] || r->gone[p] || (kill(r->pids[p], 0) && errno != ESRCH))
			continue;
		r->gone[p] = true;
		ms_message("leak: process %d (%s) has exited: what it held went with it",
			   r->pids[p], r->comms[p]);
	}
	if (!live_processes(r))
		ms_request_stop(MS_STOP_DONE);
}

static struct leak_source_row *source_row(struct leak_source_row *rows, size_t *n,
					  const char *source)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(rows[i].source, source))
			return &rows[i];
	memset(&rows[*n], 0, sizeof(rows[*n]));
	snprintf(rows[*n].source, sizeof(rows[*n].source), "%s", source);
	return &rows[(*n)++];
}

static int cmp_source_bytes(const void *x, const void *y)
{
	const struct leak_source_row *a = x, *b = y;

	return (a->bytes < b->bytes) - (a->bytes > b->bytes);
}

/* --kernel: by slab cache (or page order), largest first. */
static void report_sources(struct report *r, const struct shown *sh, size_t n, double ts)
{
	struct leak_source_row *rows = calloc(n + r->nprev + 1, sizeof(*rows));
	struct ms_col cols[8];
	struct ms_table *t = table_new(cols, record_cols(&leak_source_desc, cols, 8, 0));
	size_t m = 0;

	if (!rows)
		ms_fatal("out of memory");
	for (size_t i = 0; i < n; i++) {
		struct leak_source_row *c = source_row(rows, &m, sh[i].row.source);

		c->bytes += sh[i].row.bytes;
		c->allocations += sh[i].row.allocations;
		c->stacks++;
		c->growth_bytes += sh[i].row.bytes;
	}
	for (size_t i = 0; i < r->nprev; i++)
		source_row(rows, &m, r->prev[i].source)->growth_bytes -= r->prev[i].bytes;
	qsort(rows, m, sizeof(*rows), cmp_source_bytes);
	for (size_t i = 0; i < m && i < (size_t)cfg.top; i++)
		table_add(t, record_row(&leak_source_desc, &rows[i], ts));
	table_flush(t);
	table_free(t);
	free(rows);
}

static void report_summary(const struct report *r, const struct shown *sh, size_t n, double ts)
{
	struct leak_summary_row s = { .processes = live_processes(r), .sample_every = cfg.sample,
				      .unknown_frees = allocs_unknown_frees(r->a),
				      .min_age_ns = cfg.min_age * 1e9 };
	char when[16], bytes[32], age[32], line[512];

	for (size_t i = 0; i < n; i++) {
		s.bytes += sh[i].row.bytes;
		s.allocations += sh[i].row.allocations;
	}
	if (cfg.kernel)
		record_null(&leak_summary_desc, &s, "processes");
	if (out_json_mode()) {
		out_json(record_json(&leak_summary_desc, &s, ts));
		return;
	}
	fmt_clock(when, sizeof(when), ts, false);
	record_text(&leak_summary_desc, &s, "outstanding_bytes", bytes, sizeof(bytes));
	record_text(&leak_summary_desc, &s, "min_age_ns", age, sizeof(age));
	snprintf(line, sizeof(line), "%s  %s in %llu allocation%s older than %s, %zu stack%s%s; "
		 "%llu free%s of memory from before memscope attached ignored", when, bytes,
		 (unsigned long long)s.allocations, s.allocations == 1 ? "" : "s", age, n,
		 n == 1 ? "" : "s", cfg.sample > 1 ? " (a sample)" : "",
		 (unsigned long long)s.unknown_frees, s.unknown_frees == 1 ? "" : "s");
	out_wrap("", "    ", line);
}

static void report_stacks(struct report *r, struct shown *sh, size_t n, double ts)
{
	for (size_t i = 0; i < n && i < (size_t)cfg.top; i++) {
		struct leak_stack_row *s = &sh[i].row;

		s->growth_bytes = (int64_t)s->bytes - (int64_t)prev_bytes(r, sh[i].hash);
		if (out_json_mode())
			out_json(record_json(&leak_stack_desc, s, ts));
		else
			print_stack_text(s, sh[i].where);
	}
}

/* What this report showed becomes the baseline of the next one's growth. */
static void remember(struct report *r, const struct shown *sh, size_t n)
{
	free(r->prev);
	r->prev = calloc(n ? n : 1, sizeof(*r->prev));
	if (!r->prev)
		ms_fatal("out of memory");
	for (size_t i = 0; i < n; i++)
	{
		r->prev[i] = (struct seen){ sh[i].hash, sh[i].row.bytes, sh[i].row.pid, "" };
		memcpy(r->prev[i].source, sh[i].row.source, sizeof(r->prev[i].source));
	}
	qsort(r->prev, n, sizeof(*r->prev), cmp_seen);
	r->nprev = n;
}

static void report(struct report *r)
{
	uint64_t now = ms_boot_ns();
	double ts = ms_wall_now();
	struct alloc_group *g;
	size_t n = allocs_groups(r->a, now - (uint64_t)(cfg.min_age * 1e9), &g);
	struct shown *sh = calloc(n ? n : 1, sizeof(*sh));
	size_t k = 0;

	if (!sh)
		ms_fatal("out of memory");
	if (!cfg.kernel)
		open_symbols(r);
	for (size_t i = 0; i < n; i++) /* an exited process's allocations went with it */
		if (cfg.kernel || !r->gone[slot_of(r, g[i].pid)])
			fill_row(r, &g[i], now, &sh[k++]);
	n = k;
	for (int p = 0; p < r->nr; p++)
		usyms_close(r->syms[p]);
	free(g);
	n = merge(sh, n);
	report_summary(r, sh, n, ts);
	if (cfg.kernel)
		report_sources(r, sh, n, ts);
	else if (r->nr > 1 || out_json_mode())
		report_processes(r, sh, n, ts);
	report_stacks(r, sh, n, ts);
	out_flush();
	remember(r, sh, n);
	free(sh);
}

static void poll_copies(int timeout_ms, void *ctx)
{
	allocs_poll(ctx, timeout_ms);
}

static int leak_run(const struct ms_opts *o)
{
	struct report r = { 0 };
	struct allocs_opts ao = { .lib = cfg.lib, .prefix = cfg.prefix, .sample = cfg.sample,
				  .kernel = cfg.kernel, .dwarf = cfg.dwarf };
	struct ms_ticker tk;
	struct ms_loss *loss;
	int nloss;

	if (cfg.kernel && !(r.ksyms = ksyms_load(NULL)))
		ms_fatal("leak --kernel: cannot read /proc/kallsyms");
	r.nr = cfg.kernel ? 0 : choose_pids(o, r.pids);
	for (int p = 0; p < r.nr; p++)
		comm_of(r.pids[p], r.comms[p], sizeof(r.comms[p]));
	ao.pids = r.pids;
	ao.nr_pids = r.nr;
	r.a = allocs_open(&ao);
	loss = allocs_losses(r.a, &nloss);
	if (cfg.dwarf) /* the stack copies are unwound as they come, between reports */
		ms_set_idle(poll_copies, r.a);
	if (ms_verbose())
		for (int p = 0; p < r.nr; p++)
			ms_message("leak: pid %d: %d allocator functions traced", r.pids[p],
				   allocs_attached(r.a, r.pids[p]));
	ticker_init(&tk, o->interval ? o->interval : 5, o->count, o->duration);
	while (ticker_wait(&tk)) {
		report(&r);
		ms_report_losses("leak", loss, nloss);
	}
	ms_set_idle(NULL, NULL);
	allocs_close(r.a);
	ksyms_free(r.ksyms);
	free(r.prev);
	return 0;
}

static const struct ms_opt_value leak_values[] = {
	{ "lib", MS_ARG_FILE, NULL },
	{ NULL, 0, NULL },
};

const struct ms_cmd cmd_leak = {
	.name = "leak",
	.summary = "outstanding allocations of a process by call stack (memleak)",
	.details =
		"uprobes on the allocator the process really has mapped (libc's malloc,\n"
		"calloc, realloc, reallocarray, posix_memalign, aligned_alloc, memalign,\n"
		"valloc, pvalloc, mmap, and their free and munmap; or --lib and\n"
		"--symbol-prefix for another allocator) keep each allocation with its stack\n"
		"in the kernel until it is freed. Every interval (default 5 s): the stacks\n"
		"holding most, with bytes, count, oldest age and growth. The stack is taken\n"
		"when the allocator returns, so its direct caller is always the first frame;\n"
		"where the walk stops at code without frame pointers, the output says so.\n"
		"Allocations made before memscope attached are never reported; their frees\n"
		"are counted and ignored. --comm traces the processes of that name running\n"
		"when memscope starts.",
	.examples = "  memscope leak -p 1234                    every 5 s, the top 10 stacks\n"
		    "  memscope leak -p 1234 -i 60 --min-age 30  what stays for 30 s or more\n"
		    "  memscope leak --comm nginx --top 5 -j    all nginx processes, NDJSON\n"
		    "  memscope leak -p 1234 --lib /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \\\n"
		    "      --symbol-prefix je_                  a prefixed jemalloc\n"
		    "  memscope leak -p 1234 --sample 100      one allocation in 100: cheaper\n",
	.shared = MS_OPT_LOOP | MS_OPT_FILTER,
	.opts = leak_opts,
	.parse_opt = leak_parse_opt,
	.check = leak_check,
	.run = leak_run,
	.records = (const struct record_desc *const[]){ &leak_summary_desc, &leak_proc_desc,
							&leak_source_desc, &leak_stack_desc,
							&lost_desc, NULL },
	.values = leak_values,
};
