// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cachefiles.h"
#include "memcgs.h"
#include "memowners.h"
#include "output.h"
#include "procs.h"
#include "runtime.h"
#include "slabs.h"
#include "textsafe.h"
#include "units.h"
#include "util.h"

struct owners {
	struct mem_owner *out;
	int n, max;
};

static void add(struct owners *o, const char *part, const char *kind, const char *name,
		uint64_t bytes, bool has_bytes)
{
	struct mem_owner *w;

	if (o->n >= o->max)
		return;
	w = &o->out[o->n++];
	memset(w, 0, sizeof(*w));
	snprintf(w->part, sizeof(w->part), "%s", part);
	snprintf(w->kind, sizeof(w->kind), "%s", kind);
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->bytes = bytes;
	if (!has_bytes)
		record_null(&mem_owner_desc, w, "held_bytes");
}

static int cmp_anon(const void *a, const void *b)
{
	const struct proc_rec *x = a, *y = b;

	return y->anon > x->anon ? 1 : y->anon < x->anon ? -1 : (int)x->pid - (int)y->pid;
}

static void processes(struct owners *o)
{
	struct ms_filter f = { 0 };
	struct proc_list l = { 0 };
	struct procs *p = procs_open(&f);
	unsigned long page = ms_page_size();

	procs_snapshot(p, &l);
	procs_close(p);
	qsort(l.r, l.n, sizeof(*l.r), cmp_anon);
	for (size_t i = 0; i < l.n && i < MEM_OWNERS_PER_PART && l.r[i].anon > 0; i++) {
		char name[64], comm[COMM_TEXT_LEN];

		snprintf(name, sizeof(name), "%u (%s)", l.r[i].pid, comm_text(l.r[i].comm, comm));
		add(o, "anon", "process", name, l.r[i].anon * page, true);
	}
	proc_list_free(&l);
}

static int cmp_memcg_anon(const void *a, const void *b)
{
	const struct memcg_row *x = a, *y = b;

	return y->anon_bytes > x->anon_bytes ? 1 : y->anon_bytes < x->anon_bytes ? -1 : 0;
}

/* The largest leaf-most cgroups: the root's figures are everyone's. */
static void cgroups(struct owners *o)
{
	struct memcg_list l = { 0 };
	int shown = 0;

	if (memcgs_read(NULL, &l) < 0)
		return;
	qsort(l.r, l.n, sizeof(*l.r), cmp_memcg_anon);
	for (size_t i = 0; i < l.n && shown < MEM_OWNERS_PER_PART; i++) {
		if (!strcmp(l.r[i].path, "/") || !l.r[i].anon_bytes ||
		    record_is_null(&memcg_desc, &l.r[i], "anon_bytes"))
			continue;
		add(o, "anon", "cgroup", l.r[i].path, l.r[i].anon_bytes, true);
		shown++;
	}
	memcg_list_free(&l);
}

static int files(struct owners *o, char *why, size_t len)
{
	struct cachefiles_opts co = { 0 };
	struct cachefiles *c;
	struct cache_list l = { 0 };
	int e = cachefiles_open(&co, &c, why, len);

	if (e)
		return e;
	e = cachefiles_read(c, &l, why, len);
	cachefiles_close(c);
	if (!e) {
		cache_list_sort(&l);
		for (size_t i = 0; i < l.n && i < MEM_OWNERS_PER_PART; i++) {
			char name[CACHE_PATH_LEN];

			if (l.f[i].path[0])
				snprintf(name, sizeof(name), "%s", l.f[i].path);
			else
				snprintf(name, sizeof(name), "%u:%u inode %llu", l.f[i].major,
					 l.f[i].minor, (unsigned long long)l.f[i].ino);
			add(o, "file", "file", name,
			    l.f[i].cached_pages * ms_page_size(), true);
		}
	}
	cache_list_free(&l);
	return e;
}

static int caches(struct owners *o, char *why, size_t len)
{
	struct slabs_opts so = { 0 };
	struct slab_snapshot s = { 0 };
	struct slabs *sl;
	int e = slabs_open(&so, &sl, why, len), shown[2] = { 0, 0 };

	if (e)
		return e;
	e = slabs_read(sl, &s, why, len);
	slabs_close(sl);
	if (!e) {
		slab_snapshot_sort(&s);
		for (size_t i = 0; i < s.n; i++) {
			int r = s.c[i].reclaimable > 0;

			if (shown[r] >= MEM_OWNERS_PER_PART || !s.c[i].slabs ||
			    s.c[i].reclaimable < 0)
				continue;
			shown[r]++;
			add(o, r ? "slab_reclaimable" : "slab_unreclaimable", "slab_cache",
			    s.c[i].name, s.c[i].slabs * ((uint64_t)ms_page_size() << s.c[i].order),
			    true);
		}
	}
	slab_snapshot_free(&s);
	return e;
}

int mem_owners_read(struct mem_owner *out, int max, char *why, size_t len)
{
	struct owners o = { out, 0, max };
	char err[256] = "";

	why[0] = 0;
	processes(&o);
	cgroups(&o);
	if (files(&o, err, sizeof(err)))
		snprintf(why, len, "files: %s", err);
	else if (caches(&o, err, sizeof(err)))
		snprintf(why, len, "slab caches: %s", err);
	add(&o, "other_kernel", "command", "memscope leak --kernel", 0, false);
	return o.n;
}

void mem_accounting_print(const struct mem_accounting *a, const struct mem_owner *o, int n,
			  bool brief)
{
	static const char *const keys[MP_NR] = {
#define MP_KEY(name, ...) #name,
		MEM_PARTS(MP_KEY)
#undef MP_KEY
	};
	char b[32], line[1024];

	out_printf("where MemTotal (%s) is:\n", fmt_bytes(b, sizeof(b), a->total_bytes));
	for (int p = 0; p < MP_NR; p++) {
		char key[48];
		size_t off;

		snprintf(key, sizeof(key), "%s_bytes", keys[p]);
		if (brief && p != MP_other_kernel &&
		    (record_is_null(&mem_accounting_desc, a, key) || a->part[p] * 1000 < a->total_bytes))
			continue;
		if (record_is_null(&mem_accounting_desc, a, key)) { /* no such line here */
			off = snprintf(line, sizeof(line), "%-26s %10s", mem_part_label[p], "-");
			out_wrap("  ", "  ", line);
			continue;
		}
		off = snprintf(line, sizeof(line), "%-26s %10s %5.1f%%", mem_part_label[p],
			       fmt_bytes(b, sizeof(b), a->part[p]),
			       a->total_bytes ? 100.0 * a->part[p] / a->total_bytes : 0);
		for (int i = 0, k = 0; i < n && off < sizeof(line); i++) {
			if (strcmp(o[i].part, keys[p]))
				continue;
			if (o[i].kind[0] == 'c' && !strcmp(o[i].kind, "command"))
				off += snprintf(line + off, sizeof(line) - off, "%s find it: %s",
						k++ ? ";" : "", o[i].name);
			else
				off += snprintf(line + off, sizeof(line) - off, "%s %s %s",
						k++ ? "," : "", o[i].name,
						fmt_bytes(b, sizeof(b), o[i].bytes));
		}
		out_wrap("  ", "      ", line);
	}
	if (a->overlap_bytes)
		out_wrap("  note: ", "        ", a->adjusted);
}

#define O(m, key, head, ft, unit, kind, flags, help)                                      \
	FLD(struct mem_owner, m, key, head, ft, unit, kind, flags, help)
static const struct field mem_owner_fields[] = {
	O(part, "part", "PART", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	  "the memory_parts field it holds, without _bytes (anon, file, slab_reclaimable, "
	  "slab_unreclaimable, other_kernel)"),
	O(kind, "kind", "KIND", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	  "process, cgroup, file, slab_cache; command: what finds the owners (other_kernel)"),
	O(name, "name", "OWNER", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	  "\"PID (comm)\", a cgroup path, a file's path, a cache's name, or the command"),
	O(bytes, "held_bytes", "BYTES", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "what it holds of the part; null for a command"),
};
#undef O
const struct record_desc mem_owner_desc =
	RECORD_DESC("memory_owner", "one of the largest holders of a part of MemTotal: sys "
		    "--owners and the health report", mem_owner_fields, struct mem_owner);
