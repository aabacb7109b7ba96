// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "hooks.h"
#include "iter.h"
#include "kbtf.h"
#include "cgroups.h"
#include "loss.h"
#include "memcgs.h"
#include "procfs.h"
#include "runtime.h"
#include "slabs.h"
#include "util.h"
#include "slab.h"
#include "slab.skel.h"
#include "slab_iter.lskel.h"

const struct hook_spec slabs_hooks[SLABS_NR_HOOKS] = {
	HOOK_TP("kmem:kmem_cache_alloc", "slab_alloc", true),
	HOOK_TP("kmem:kmem_cache_free", "slab_free", true),
	HOOK_TP("kmem:kmalloc", "slab_kmalloc", true),
	/* tp_btf refuses kfree's void pointer argument on 6.1: raw_tp first */
	{ "kmem:kfree", true, { { HK_RAW_TP, "slab_kfree_raw" }, { HK_TRACEPOINT, "slab_kfree_tp" } },
	  NULL },
};

struct slabs {
	struct slab_bpf *skel;	     /* live: the tracepoints */
	struct slab_iter_lite *iter; /* the caches, where the kernel has the iterator */
	bool live, cache_rates;
	int chosen[SLABS_NR_HOOKS];
	struct ms_loss loss[2];
	char why[160]; /* why /proc/slabinfo is read; empty with the iterator */
};

/* The highest possible node id + 1 (/sys/devices/system/node/possible: "0-3"). */
static unsigned int possible_nodes(void)
{
	char buf[256], *p;
	unsigned long max = 0;

	if (!read_line_file("/sys/devices/system/node/possible", buf, sizeof(buf)))
		return 1;
	for (p = buf; *p;) {
		unsigned long v = strtoul(p, &p, 10);

		if (v > max)
			max = v;
		if (*p != ',' && *p != '-')
			break;
		p++;
	}
	return max + 1 > SLAB_MAX_NODES ? SLAB_MAX_NODES : max + 1;
}

static void no_autoload(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	if (p)
		bpf_program__set_autoload(p, false);
}

/*
 * Does the classic kmem_cache_alloc record carry the cache's name? 6.1's has the cache
 * as the event's argument but not its name in the record (kmem_cache_free's has it).
 */
static bool classic_alloc_names_cache(void)
{
	struct btf *btf = kbtf_vmlinux();
	const struct btf_type *t;
	const struct btf_member *m;
	int id;

	id = btf ? btf__find_by_name_kind(btf, "trace_event_raw_kmem_cache_alloc",
					  BTF_KIND_STRUCT) : -ENOENT;
	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), "__data_loc_name"))
			return true;
	return false;
}

/* Keep the probes of live mode (each its working variant), or none of them. */
static int choose_hooks(struct slabs *s, const struct slabs_opts *o, char *err, size_t len)
{
	if (o->live) {
		if (hooks_select(s->skel->obj, slabs_hooks, SLABS_NR_HOOKS, s->chosen, err, len))
			return -ENOTSUP;
		/* 2c1d697fb8ba (6.0): the cache became kmem_cache_alloc's third argument */
		s->cache_rates = kbtf_tp_arg_is_ptr("kmem_cache_alloc", 2) == 1;
		if (s->chosen[0] != HOOK_NONE &&
		    slabs_hooks[0].v[s->chosen[0]].kind == HK_TRACEPOINT &&
		    !classic_alloc_names_cache())
			s->cache_rates = false;
		kbtf_release();
		if (!s->cache_rates)
			for (int i = 0; i < 2; i++)
				for (int v = 0; v < HOOK_MAX_VARIANTS && slabs_hooks[i].v[v].prog; v++)
					no_autoload(s->skel->obj, slabs_hooks[i].v[v].prog);
		return 0;
	}
	return 0;
}

/*
 * Is the iterator's context type in the kernel's BTF (kernel/bpf/kmem_cache_iter.c,
 * 6.13)? Asked only when the load failed, to tell an old kernel from a refusal; the
 * BTF is parsed apart and freed, as the iterator's reads need none of it.
 */
static bool kernel_has_kmem_cache_iter(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool has;

	if (libbpf_get_error(btf))
		return false;
	has = btf__find_by_name_kind(btf, "bpf_iter__kmem_cache", BTF_KIND_STRUCT) > 0;
	btf__free(btf);
	return has;
}

/*
 * The kmem_cache iterator as a light skeleton: no vmlinux BTF parsed here. A kernel
 * without the iterator (before 6.13) refuses it: /proc/slabinfo then, and why in s->why.
 */
static struct slab_iter_lite *open_iter(struct slabs *s)
{
	struct slab_iter_lite *it = slab_iter_lite__open();
	char *log;
	int e;

	if (!it) {
		snprintf(s->why, sizeof(s->why), "the kmem_cache iterator could not be opened: %s",
			 strerror(errno));
		return NULL;
	}
	it->rodata->nr_nodes = possible_nodes();
	log = ms_lite_log(&it->ctx);
	e = slab_iter_lite__load(it);
	if (!e)
		e = slab_iter_lite__attach(it);
	if (e) {
		e = e < 0 ? -e : e;
		if (kernel_has_kmem_cache_iter())
			snprintf(s->why, sizeof(s->why), "the kernel refused the kmem_cache "
				 "iterator (%s; -v shows why)", strerror(e));
		else
			snprintf(s->why, sizeof(s->why), "this kernel has no kmem_cache iterator "
				 "(6.13+)");
		if (ms_verbose())
			ms_message("slab: %s: /proc/slabinfo is read%s%s", s->why,
				   log && log[0] ? "\n" : "", log ? log : "");
		slab_iter_lite__destroy(it);
		it = NULL;
	}
	free(log);
	return it;
}

int slabs_open(const struct slabs_opts *o, struct slabs **out, char *err, size_t len)
{
	struct slabs *s = calloc(1, sizeof(*s));
	int e;

	*out = NULL;
	if (!s)
		return ms_err(err, len, ENOMEM, "out of memory");
	s->live = o->live;
	if (!o->force_slabinfo)
		s->iter = open_iter(s);
	else
		snprintf(s->why, sizeof(s->why), "asked for by --slabinfo");
	if (!o->live) {
		*out = s;
		return 0;
	}
	s->skel = slab_bpf__open_opts(ms_bpf_open_opts());
	if (!s->skel) {
		e = ms_bpf_err(err, len, errno, "opening slab's BPF object");
		goto out;
	}
	s->skel->rodata->stack_every = o->stack_every;
	if ((e = choose_hooks(s, o, err, len)))
		goto out;
	ms_test_map_sizes(s->skel->obj);
	if ((e = slab_bpf__load(s->skel))) {
		e = ms_bpf_err(err, len, e, "loading slab's BPF programs");
		goto out;
	}
	if ((e = slab_bpf__attach(s->skel))) {
		e = ms_bpf_err(err, len, e, "attaching to the kmem tracepoints");
		goto out;
	}
	s->loss[0] = (struct ms_loss){ "untracked_caches",
				       "caches not counted: the rates map is full",
				       &s->skel->bss->nr_untracked, 0 };
	s->loss[1] = (struct ms_loss){ "stacks_lost",
				       "sampled allocations without a stack: the stack maps are full",
				       &s->skel->bss->nr_stacks_lost, 0 };
	*out = s;
	return 0;
out:
	slabs_close(s);
	return e;
}

bool slabs_cache_rates(const struct slabs *s)
{
	return s->cache_rates;
}

const char *slabs_source(const struct slabs *s)
{
	return s->iter ? "iter/kmem_cache" : "/proc/slabinfo";
}

const char *slabs_source_why(const struct slabs *s)
{
	return s->iter ? NULL : s->why;
}

const char *slabs_hook(const struct slabs *s)
{
	const char *k = s->live ? hook_chosen_kind(slabs_hooks, SLABS_NR_HOOKS, s->chosen,
						   "kmem:kmem_cache_alloc") : NULL;

	return k ? k : "none";
}

static struct slab_info *grow(struct slab_snapshot *out)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 256;
		struct slab_info *c = realloc(out->c, cap * sizeof(*c));

		if (!c)
			return NULL;
		out->c = c;
		out->cap = cap;
	}
	memset(&out->c[out->n], 0, sizeof(out->c[0]));
	return &out->c[out->n++];
}

struct iter_ctx {
	struct slab_snapshot *out;
	bool nomem;
};

static void take_cache(const void *rec, void *ctx)
{
	const struct slab_cache_rec *r = rec;
	struct iter_ctx *ic = ctx;
	struct slab_info *c = grow(ic->out);

	if (!c) {
		ic->nomem = true;
		return;
	}
	snprintf(c->name, sizeof(c->name), "%s", r->name);
	c->key = r->addr;
	c->object_size = r->object_size;
	c->size = r->size;
	c->objs_per_slab = r->objs_per_slab;
	c->order = r->order;
	c->slabs = r->slabs;
	c->total_objs = r->total_objs;
	c->active_objs = r->total_objs > r->free_objs ? r->total_objs - r->free_objs : 0;
	c->reclaimable = r->reclaimable == 2 ? -1 : (int)r->reclaimable;
	c->approx = r->approx;
}

static int read_iter(struct slabs *s, struct slab_snapshot *out, char *err, size_t len)
{
	struct iter_ctx ic = { out, false };
	int e = ms_iter_collect(s->iter->links.slab_caches_fd, sizeof(struct slab_cache_rec),
				take_cache, &ic, err, len);

	return e ? e : ic.nomem ? ms_err(err, len, ENOMEM, "out of memory") : 0;
}

long slabinfo_parse(const char *text, struct slab_snapshot *out)
{
	const char *line = text;
	long found = 0;

	if (strncmp(text, "slabinfo - version: 2.", 22))
		return -EINVAL;
	for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		struct slab_info c = { .reclaimable = -1 };
		unsigned long long act, num, slabs, nslabs;
		unsigned int size, per, pages;
		char name[SLABS_NAME_LEN];
		struct slab_info *p;

		if (*line == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %llu %llu %u %u %u : tunables %*u %*u %*u : slabdata "
			   "%llu %llu", name, &act, &num, &size, &per, &pages, &slabs,
			   &nslabs) != 8)
			continue;
		snprintf(c.name, sizeof(c.name), "%s", name);
		c.active_objs = act;
		c.total_objs = num;
		c.size = size;
		c.objs_per_slab = per;
		c.order = pages ? __builtin_ctz(pages) : 0;
		c.slabs = nslabs;
		if (!(p = grow(out)))
			return -ENOMEM;
		*p = c;
		found++;
	}
	return found ? found : -EINVAL;
}

/* What /proc/slabinfo leaves out, from SLUB's sysfs where it exists. */
static void sysfs_details(struct slab_info *c)
{
	char path[160], buf[32];

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/reclaim_account", c->name);
	if (read_line_file(path, buf, sizeof(buf)))
		c->reclaimable = atoi(buf) != 0;
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/object_size", c->name);
	if (read_line_file(path, buf, sizeof(buf)))
		c->object_size = atoi(buf);
}

static int read_slabinfo(struct slab_snapshot *out, char *err, size_t len)
{
	size_t cap = 1 << 16;
	char *text = NULL;
	long n = -1;

	/* a few hundred caches of ~200 bytes: grow until the file fits */
	for (; cap <= (1 << 24); cap *= 2) {
		char *t = realloc(text, cap);

		if (!t)
			break;
		text = t;
		n = read_text_file("/proc/slabinfo", text, cap);
		if (n < 0 || (size_t)n < cap - 1)
			break;
	}
	if (n < 0) {
		int e = errno;

		free(text);
		return ms_err(err, len, e, "cannot read /proc/slabinfo: %s%s", strerror(e),
			    e == EACCES ? " (it is root's: run memscope as root)" : "");
	}
	n = text ? slabinfo_parse(text, out) : -ENOMEM;
	free(text);
	if (n < 0)
		return ms_err(err, len, (int)-n, "/proc/slabinfo: %s",
			    n == -EINVAL ? "not a version 2 slabinfo" : strerror(-n));
	for (size_t i = 0; i < out->n; i++)
		sysfs_details(&out->c[i]);
	return 0;
}

int slabs_read(struct slabs *s, struct slab_snapshot *out, char *err, size_t len)
{
	out->n = 0;
	return s->iter ? read_iter(s, out, err, len) : read_slabinfo(out, err, len);
}

static int cmp_size(const void *a, const void *b)
{
	const struct slab_info *x = a, *y = b;
	uint64_t bx = x->slabs << x->order, by = y->slabs << y->order;

	return by > bx ? 1 : by < bx ? -1 : strcmp(x->name, y->name);
}

void slab_snapshot_sort(struct slab_snapshot *s)
{
	if (s->n)
		qsort(s->c, s->n, sizeof(*s->c), cmp_size);
}

void slab_snapshot_free(struct slab_snapshot *s)
{
	free(s->c);
	s->c = NULL;
	s->n = s->cap = 0;
}

static void name_of(struct slabs *s, uint64_t key, char *name)
{
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.names), &key, name))
		snprintf(name, SLABS_NAME_LEN, "?");
	name[SLABS_NAME_LEN - 1] = 0;
}

long slabs_counts(struct slabs *s, struct slab_count **out)
{
	int fd = bpf_map__fd(s->skel->maps.rates), ncpu = libbpf_num_possible_cpus();
	struct slab_rate *per = calloc(ncpu > 0 ? ncpu : 1, sizeof(*per));
	uint64_t key, *prev = NULL;
	size_t n = 0, cap = 0;
	struct slab_count *c = NULL;

	*out = NULL;
	if (!per || ncpu <= 0) {
		free(per);
		return -ENOMEM;
	}
	/* keys are never deleted, so walking with next_key cannot start over */
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		struct slab_count *x;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, per))
			continue;
		if (n == cap) {
			struct slab_count *t = realloc(c, (cap = cap ? cap * 2 : 256) * sizeof(*c));

			if (!t) {
				free(c);
				free(per);
				return -ENOMEM;
			}
			c = t;
		}
		x = &c[n++];
		memset(x, 0, sizeof(*x));
		x->key = key;
		name_of(s, key, x->name);
		for (int i = 0; i < ncpu; i++) {
			x->allocs += per[i].allocs;
			x->frees += per[i].frees;
		}
	}
	free(per);
	*out = c;
	return n;
}

uint64_t slabs_kfrees(struct slabs *s)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *per, sum = 0;
	__u32 zero = 0;

	if (!s->skel || ncpu <= 0 || !(per = calloc(ncpu, sizeof(*per))))
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.kfrees), &zero, per))
		for (int i = 0; i < ncpu; i++)
			sum += per[i];
	free(per);
	return sum;
}

long slabs_sites(struct slabs *s, struct slab_site **out)
{
	int fd = bpf_map__fd(s->skel->maps.stack_counts);
	int sfd = bpf_map__fd(s->skel->maps.stacks);
	struct slab_stack_key key, *prev = NULL;
	struct slab_site *c = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		uint64_t ips[SLAB_STACK_DEPTH] = { 0 }, count;
		struct slab_site *x;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &count))
			continue;
		if (n == cap) {
			struct slab_site *t = realloc(c, (cap = cap ? cap * 2 : 256) * sizeof(*c));

			if (!t) {
				free(c);
				return -ENOMEM;
			}
			c = t;
		}
		x = &c[n++];
		memset(x, 0, sizeof(*x));
		name_of(s, key.cache, x->cache);
		x->samples = count;
		if (!bpf_map_lookup_elem(sfd, &key.stack_id, ips))
			for (int i = 0; i < SLAB_STACK_DEPTH && ips[i] &&
					i < (int)ARRAY_SIZE(x->ips); i++)
				x->ips[x->nr_frames++] = ips[i];
	}
	*out = c;
	return n;
}

struct ms_loss *slabs_losses(struct slabs *s, int *n)
{
	*n = s->skel ? 2 : 0;
	return s->loss;
}

void slabs_close(struct slabs *s)
{
	if (!s)
		return;
	slab_iter_lite__destroy(s->iter);
	slab_bpf__destroy(s->skel);
	free(s);
}

/* ---- per memory cgroup ---- */

struct memcg_walk_ctx {
	struct slab_memcg_row *r;
	size_t n, cap;
	bool v2, nomem;
	char *text;
	size_t text_len;
};

static void v1_slab(struct memcg_walk_ctx *w, const char *dir, struct slab_memcg_row *r)
{
	struct slab_snapshot caches = { 0 };
	char path[4200];
	uint64_t sum = 0;

	snprintf(path, sizeof(path), "%s/memory.kmem.usage_in_bytes", dir);
	if (read_text_file(path, w->text, w->text_len) > 0)
		r->kernel_bytes = strtoull(w->text, NULL, 10);
	else
		record_null(&slab_memcg_desc, r, "kernel_bytes");
	/* since 5.9 (slab accounting per object) v1's file lists no cache: nothing to sum */
	snprintf(path, sizeof(path), "%s/memory.kmem.slabinfo", dir);
	if (read_text_file(path, w->text, w->text_len) > 0 &&
	    slabinfo_parse(w->text, &caches) > 0) {
		for (size_t i = 0; i < caches.n; i++)
			sum += caches.c[i].slabs * ((uint64_t)ms_page_size() << caches.c[i].order);
		r->slab_bytes = sum;
	} else {
		record_null(&slab_memcg_desc, r, "slab_bytes");
	}
	slab_snapshot_free(&caches);
	record_null(&slab_memcg_desc, r, "slab_reclaimable_bytes");
	record_null(&slab_memcg_desc, r, "slab_unreclaimable_bytes");
	snprintf(r->source, sizeof(r->source), "v1 memory.kmem.*");
}

static void v2_stat(struct slab_memcg_row *r, const char *text, const char *key, uint64_t *v,
		    const char *field)
{
	if (!memcg_kv(text, key, v))
		record_null(&slab_memcg_desc, r, field);
}

static void take_memcg(const char *abs, const char *rel, uint64_t id, int depth, void *ctx)
{
	struct memcg_walk_ctx *w = ctx;
	struct slab_memcg_row *r;
	char path[4200];

	(void)id;
	(void)depth;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct slab_memcg_row *t = realloc(w->r, cap * sizeof(*t));

		if (!t) {
			w->nomem = true;
			return;
		}
		w->r = t;
		w->cap = cap;
	}
	r = &w->r[w->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", rel);
	if (!w->v2) {
		v1_slab(w, abs, r);
		return;
	}
	snprintf(path, sizeof(path), "%s/memory.stat", abs);
	if (read_text_file(path, w->text, w->text_len) <= 0)
		w->text[0] = 0; /* the root has no memory.stat on v2: all null */
	v2_stat(r, w->text, "slab", &r->slab_bytes, "slab_bytes");
	v2_stat(r, w->text, "slab_reclaimable", &r->slab_reclaimable_bytes,
		"slab_reclaimable_bytes");
	v2_stat(r, w->text, "slab_unreclaimable", &r->slab_unreclaimable_bytes,
		"slab_unreclaimable_bytes");
	v2_stat(r, w->text, "kernel", &r->kernel_bytes, "kernel_bytes");
	snprintf(r->source, sizeof(r->source), "v2 memory.stat");
}

long slabs_memcgs(struct slab_memcg_row **out, char *err, size_t len)
{
	struct memcg_walk_ctx w = { .v2 = memcg_hier_is_v2(), .text_len = 1 << 16 };

	*out = NULL;
	if (!(w.text = malloc(w.text_len)))
		return ms_err(err, len, ENOMEM, "out of memory");
	if (memcg_walk(take_memcg, &w) < 0) {
		free(w.text);
		return ms_err(err, len, ENOENT, "no memory cgroup hierarchy is mounted (neither v1's "
			    "memory controller nor a v2 tree with memory)");
	}
	free(w.text);
	if (w.nomem) {
		free(w.r);
		return ms_err(err, len, ENOMEM, "out of memory");
	}
	*out = w.r;
	return w.n;
}

/* ---- the records ---- */

void slab_row_of(const struct slab_info *c, const struct slab_info *prev, unsigned long page,
		 struct slab_row *row)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", c->name);
	row->slabs = c->slabs;
	row->pages_per_slab = 1U << c->order;
	/* as slabtop and the kernel's slab pages: whole slabs of the cache's order */
	row->bytes = c->slabs * ((uint64_t)page << c->order);
	row->objects_active = c->active_objs;
	row->objects_total = c->total_objs;
	row->active_bytes = c->active_objs * c->size;
	row->size_bytes = c->size;
	row->object_size_bytes = c->object_size;
	row->objects_per_slab = c->objs_per_slab;
	row->reclaimable = c->reclaimable > 0;
	row->approx = c->approx;
	if (prev) {
		row->growth_bytes = (int64_t)(row->bytes - prev->slabs * ((uint64_t)page << prev->order));
		row->growth_objects = (int64_t)(c->active_objs - prev->active_objs);
	} else {
		record_null(&slab_desc, row, "growth_bytes");
		record_null(&slab_desc, row, "growth_objects");
	}
	if (!c->object_size)
		record_null(&slab_desc, row, "object_size_bytes");
	if (c->reclaimable < 0)
		record_null(&slab_desc, row, "reclaimable");
	record_null(&slab_desc, row, "allocs_per_s");
	record_null(&slab_desc, row, "frees_per_s");
}

#define S(m, key, head, ft, unit, kind, flags, help)                                      \
	FLD(struct slab_row, m, key, head, ft, unit, kind, flags, help)
static const struct field slab_fields[] = {
	S(name, "name", "CACHE", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	  "the cache's name; merged caches show under the first one's name, as /proc/slabinfo"),
	S(bytes, "cache_bytes", "SIZE", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "memory of its slabs: slabs x pages per slab x page size (slabtop's CACHE SIZE)"),
	S(growth_bytes, "growth_bytes", "GROWTH", FT_S64, FU_BYTES, FK_GAUGE,
	  FF_DELTA | FF_NULL, "change of cache_bytes since the previous report; null in the first"),
	S(objects_active, "objects_active", "ACTIVE", FT_U64, FU_NONE, FK_GAUGE, FF_COUNT,
	  "objects in use, as /proc/slabinfo counts them (free objects of per-CPU slabs and "
	  "sheaves count as in use)"),
	S(objects_total, "objects_in_slabs", "OBJS", FT_U64, FU_NONE, FK_GAUGE, FF_COUNT,
	  "objects the cache's slabs hold"),
	S(growth_objects, "growth_objects", NULL, FT_S64, FU_NONE, FK_GAUGE, FF_NULL,
	  "change of objects_active since the previous report; null in the first"),
	S(size_bytes, "size_bytes", "OBJSIZE", FT_U32, FU_BYTES, FK_GAUGE, 0,
	  "bytes an object takes in its slab, metadata and alignment included (slabinfo's "
	  "objsize)"),
	S(object_size_bytes, "object_size_bytes", NULL, FT_U32, FU_BYTES, FK_GAUGE, FF_NULL,
	  "the object as its user asked for it; null where the kernel does not say"),
	S(active_bytes, "active_bytes", NULL, FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "objects_active x size_bytes"),
	S(slabs, "slabs", "SLABS", FT_U64, FU_NONE, FK_GAUGE, FF_COUNT, "slabs of the cache"),
	S(objects_per_slab, "objects_per_slab", NULL, FT_U32, FU_NONE, FK_GAUGE, 0,
	  "objects in one slab of the cache's order"),
	S(pages_per_slab, "pages_per_slab", NULL, FT_U32, FU_NONE, FK_GAUGE, 0,
	  "pages of one slab (2^order)"),
	S(reclaimable, "reclaimable", "RCL", FT_BOOL, FU_NONE, FK_LABEL, FF_NULL,
	  "SLAB_RECLAIM_ACCOUNT: counted in SReclaimable, else SUnreclaim; null where the "
	  "kernel does not say"),
	S(approx, "approx", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	  "a node's partial list was longer than 10,000 slabs: objects_active estimated from "
	  "both ends, as the kernel's own slabinfo does"),
	S(allocs_per_s, "allocs_per_s", "ALLOC/S", FT_F64, FU_NONE, FK_GAUGE,
	  FF_COUNT | FF_NULL, "live: allocations per second (kmem_cache_alloc; kmalloc by "
	  "size class); null without live counting"),
	S(frees_per_s, "frees_per_s", "FREE/S", FT_F64, FU_NONE, FK_GAUGE, FF_COUNT | FF_NULL,
	  "live: frees per second (kmem_cache_free; kfree names no cache, see slab_total); "
	  "null without live counting"),
};
#undef S
const struct record_desc slab_desc =
	RECORD_DESC("slab", "one slab cache: memscope slab", slab_fields, struct slab_row);

#define T(m, key, ft, unit, kind, flags, help)                                            \
	FLD(struct slab_total_row, m, key, NULL, ft, unit, kind, flags, help)
static const struct field slab_total_fields[] = {
	T(source, "source", FT_STR, FU_NONE, FK_LABEL, 0,
	  "where the caches were read: iter/kmem_cache (6.13+) or /proc/slabinfo"),
	T(caches, "caches", FT_U32, FU_NONE, FK_GAUGE, 0, "caches listed"),
	T(bytes, "caches_bytes", FT_U64, FU_BYTES, FK_GAUGE, 0, "the caches' bytes summed"),
	T(reclaimable_bytes, "reclaimable_bytes", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "of which reclaimable caches; null where the kernel does not say which are"),
	T(unreclaimable_bytes, "unreclaimable_bytes", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "of which the other caches"),
	T(growth_bytes, "growth_bytes", FT_S64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "change of bytes since the previous report; null in the first"),
	T(meminfo_slab_bytes, "meminfo_slab_bytes", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "/proc/meminfo Slab read with it: also counts kmalloc's large allocations "
	  "(page allocator, SUnreclaim) that no cache holds"),
	T(meminfo_sreclaimable_bytes, "meminfo_sreclaimable_bytes", FT_U64, FU_BYTES, FK_GAUGE,
	  FF_NULL, "/proc/meminfo SReclaimable"),
	T(meminfo_sunreclaim_bytes, "meminfo_sunreclaim_bytes", FT_U64, FU_BYTES, FK_GAUGE,
	  FF_NULL, "/proc/meminfo SUnreclaim"),
	T(kfree_per_s, "kfree_per_s", FT_F64, FU_NONE, FK_GAUGE, FF_NULL,
	  "live: kfree() calls per second, which name no cache; null without live counting"),
	T(stack_every, "stack_every", FT_U32, FU_NONE, FK_GAUGE, 0,
	  "--stacks: one allocation in this many has its stack taken; 0: off"),
	T(source_why, "source_why", FT_STR, FU_NONE, FK_LABEL, FF_NULL,
	  "why /proc/slabinfo is read: \"this kernel has no kmem_cache iterator (6.13+)\", "
	  "a refusal, or \"asked for by --slabinfo\"; null when the iterator is"),
};
#undef T
const struct record_desc slab_total_desc =
	RECORD_DESC("slab_total", "every slab cache summed, beside /proc/meminfo: memscope slab",
		    slab_total_fields, struct slab_total_row);

static const struct field slab_site_fields[] = {
	FLD(struct slab_site_row, cache, "cache", "CACHE", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	    "the cache the sampled allocations came from"),
	FLD(struct slab_site_row, samples, "samples", "SAMPLES", FT_U64, FU_NONE, FK_COUNTER, 0,
	    "allocations sampled at this stack since the start"),
	FLD(struct slab_site_row, estimated_allocs, "estimated_allocs", "EST", FT_U64, FU_NONE,
	    FK_COUNTER, FF_COUNT, "samples x stack_every: allocations at this stack, estimated"),
	FLD_STRS(struct slab_site_row, frames, nr_frames, "stack", 0,
		 "the kernel stack, innermost first, as function+offset"),
};
const struct record_desc slab_site_desc =
	RECORD_DESC("slab_site", "a sampled allocation site of a cache: memscope slab --stacks",
		    slab_site_fields, struct slab_site_row);

#define M(m, key, head, ft, unit, flags, help)                                            \
	FLD(struct slab_memcg_row, m, key, head, ft, unit, FK_GAUGE, flags, help)
static const struct field slab_memcg_fields[] = {
	M(path, "path", "CGROUP", FT_STR, FU_NONE, FF_LEFT, "the memory cgroup (\"/\": the root)"),
	M(slab_bytes, "slab_bytes", "SLAB", FT_U64, FU_BYTES, FF_NULL,
	  "its slab memory: v2 memory.stat slab, v1 memory.kmem.slabinfo summed; null where "
	  "the kernel does not tell"),
	M(slab_reclaimable_bytes, "slab_reclaimable_bytes", "RECLAIMABLE", FT_U64, FU_BYTES,
	  FF_NULL, "v2 memory.stat slab_reclaimable"),
	M(slab_unreclaimable_bytes, "slab_unreclaimable_bytes", "UNRECLAIM", FT_U64, FU_BYTES,
	  FF_NULL, "v2 memory.stat slab_unreclaimable"),
	M(kernel_bytes, "kernel_bytes", "KERNEL", FT_U64, FU_BYTES, FF_NULL,
	  "all its kernel memory, slab included: v2 memory.stat kernel (5.18+), v1 "
	  "memory.kmem.usage_in_bytes"),
	M(source, "source", NULL, FT_STR, FU_NONE, 0, "the files read"),
};
#undef M
const struct record_desc slab_memcg_desc =
	RECORD_DESC("slab_memcg", "a memory cgroup's slab memory: memscope slab --memcg",
		    slab_memcg_fields, struct slab_memcg_row);
