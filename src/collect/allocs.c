// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "allocs.h"
#include "elfsym.h"
#include "kbtf.h"
#include "loss.h"
#include "mapwalk.h"
#include "runtime.h"
#include "util.h"
#include "ustacks.h"
#include "uunwind.h"
#include "leak.skel.h"

#define ALLOCS_MAX_OBJS 64

/* The traced functions, in enum leak_fn order; the last ones need no return probe. */
static const char *const fn_names[LEAK_NR_FN] = {
	"malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
	"memalign", "valloc", "pvalloc", "mmap", "free", "munmap",
};

/*
 * A stack map stops taking stacks, and is pruned once this long after: a BPF program
 * that picked it just before runs to its end long before (they cannot sleep; the
 * margin is for a virtual CPU the hypervisor holds up).
 */
#define ALLOCS_PRUNE_AFTER_NS 1000000000ULL

/* The two stack maps (leak.bpf.c): the one taking stacks, and the other's pruning. */
struct stack_maps {
	int fd[2];
	uint32_t ids;	   /* ids per map: max_entries rounded up to a power of two */
	uint8_t *used;	   /* by id: an outstanding allocation has this stack of the other */
	uint32_t *keys;	   /* the other's ids, collected before any is deleted */
	uint64_t since_ns; /* when the other one stopped taking stacks */
};

struct allocs {
	struct leak_bpf *skel;
	struct stack_maps sm;
	bool dwarf;
	struct ring_buffer *ring;	/* --dwarf: stack copies */
	struct uunwind *unwind[64];	/* --dwarf: by pid slot */
	struct ustacks *ustacks;
	struct bpf_link **links;
	int nr_links, cap_links;
	int pids[64], attached[64], nr_pids;
	unsigned long long nr_unwound_lost; /* --dwarf: stacks not interned (at the bound) */
	struct ms_loss loss[5];
};

static struct bpf_program *entry_prog(struct leak_bpf *s, int fn)
{
	struct bpf_program *const progs[LEAK_NR_FN] = {
		s->progs.malloc_enter, s->progs.calloc_enter, s->progs.realloc_enter,
		s->progs.reallocarray_enter, s->progs.posix_memalign_enter,
		s->progs.aligned_alloc_enter, s->progs.memalign_enter, s->progs.valloc_enter,
		s->progs.pvalloc_enter, s->progs.mmap_enter, s->progs.free_enter,
		s->progs.munmap_enter,
	};

	return progs[fn];
}

static void add_link_ptr(struct allocs *a, struct bpf_link *l)
{
	if (a->nr_links == a->cap_links) {
		a->cap_links = a->cap_links ? 2 * a->cap_links : 64;
		a->links = realloc(a->links, a->cap_links * sizeof(*a->links));
		if (!a->links)
			ms_fatal("out of memory");
	}
	a->links[a->nr_links++] = l;
}

static void add_link(struct allocs *a, struct bpf_program *prog, bool ret, int pid,
		     const char *path, uint64_t off)
{
	struct bpf_link *l = bpf_program__attach_uprobe(prog, ret, pid, path, off);

	/* perf_event_open of a uprobe: CAP_BPF and CAP_PERFMON alone were refused (6.18) */
	if (!l && (errno == EACCES || errno == EPERM) && geteuid())
		ms_fatal("leak: the kernel refused a uprobe on %s (%s): run memscope leak as root",
			 path, strerror(errno));
	if (!l)
		ms_bpf_fail("attaching a uprobe to the allocator", errno);
	add_link_ptr(a, l);
}

/* Every allocator function the object defines, once per address (aliases share one). */
static int attach_object(struct allocs *a, int pid, const char *path, const char *prefix)
{
	char names[LEAK_NR_FN][64];
	const char *np[LEAK_NR_FN];
	uint64_t off[LEAK_NR_FN];
	int n = 0, found;

	for (int f = 0; f < LEAK_NR_FN; f++) {
		snprintf(names[f], sizeof(names[f]), "%s%s", prefix, fn_names[f]);
		np[f] = names[f];
	}
	found = elf_func_offsets(path, np, LEAK_NR_FN, off);
	if (found < 0 && (errno == EACCES || errno == EPERM))
		ms_fatal("leak: cannot read %s: %s (run memscope leak as root)", path,
			 strerror(errno));
	if (found <= 0)
		return 0;
	for (int f = 0; f < LEAK_NR_FN; f++) {
		bool alias = false;

		for (int g = 0; g < f; g++)
			alias |= off[g] && off[g] == off[f];
		if (!off[f] || alias)
			continue;
		add_link(a, entry_prog(a->skel, f), false, pid, path, off[f]);
		if (f < LEAK_FREE)
			add_link(a, a->skel->progs.alloc_return, true, pid, path, off[f]);
		n++;
	}
	return n;
}

/* The executable files pid has mapped, seen through its root (containers). */
static int mapped_objects(int pid, char objs[][512], int max)
{
	char path[64], line[4096];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!(f = fopen(path, "re")))
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		char perms[8], file[3800] = "";
		bool seen = false;

		if (sscanf(line, "%*s %7s %*s %*s %*s %3799[^\n]", perms, file) < 2 ||
		    !strchr(perms, 'x') || file[0] != '/' || strstr(file, " (deleted)"))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/root", pid);
		for (int i = 0; i < n; i++)
			seen |= !strcmp(objs[i] + strlen(path), file);
		if (!seen && snprintf(objs[n], 512, "%s%s", path, file) < 512)
			n++;
	}
	fclose(f);
	return n;
}

static int attach_pid(struct allocs *a, int pid, const struct allocs_opts *o)
{
	static char objs[ALLOCS_MAX_OBJS][512];
	int n = 0, nobj;

	if (o->lib)
		return attach_object(a, pid, o->lib, o->prefix);
	nobj = mapped_objects(pid, objs, ALLOCS_MAX_OBJS);
	if (nobj < 0 && errno == ENOENT)
		ms_fatal("leak: process %d is gone", pid);
	if (nobj < 0)
		ms_fatal("leak: cannot read /proc/%d/maps: %s (run memscope leak as root)", pid,
			 strerror(errno));
	for (int i = 0; i < nobj; i++)
		n += attach_object(a, pid, objs[i], o->prefix);
	return n;
}

/* Only one side's programs: the uprobes, or (--kernel) the kmem tracepoints. */
static void choose_side(struct leak_bpf *s, bool kernel)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, s->obj)
		bpf_program__set_autoload(p, (bpf_program__type(p) ==
					      BPF_PROG_TYPE_RAW_TRACEPOINT) == kernel);
}

static void attach_kernel(struct allocs *a)
{
	struct bpf_program *p;

	/* 2c1d697fb8ba (6.0): kmem_cache_alloc's third argument became the cache */
	if (kbtf_tp_arg_is_ptr("kmem_cache_alloc", 2) != 1)
		ms_fatal("leak --kernel: this kernel's kmem tracepoints predate 6.0 (no cache "
			 "in kmem_cache_alloc); not supported");
	bpf_object__for_each_program(p, a->skel->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(p))
			continue;
		/* f67bed134a05 (6.0) added call_site and bytes_alloc to percpu_alloc_percpu */
		if (strstr(bpf_program__section_name(p), "percpu") &&
		    kbtf_tp_arg_is_ptr("percpu_alloc_percpu", 7) != 1) {
			if (ms_verbose())
				ms_message("leak --kernel: per-CPU areas not traced: this kernel's "
					   "percpu_alloc_percpu predates 6.0");
			continue;
		}
		if (!(l = bpf_program__attach(p)))
			ms_bpf_fail("attaching to the kmem tracepoints", errno);
		add_link_ptr(a, l);
	}
}

static int on_ustack(void *ctx, void *data, size_t len)
{
	struct allocs *a = ctx;
	const struct leak_ustack *e = data;
	uint64_t pcs[LEAK_STACK_DEPTH];
	struct uunwind *u = NULL;
	int n;

	if (len < sizeof(*e))
		return 0;
	for (int i = 0; i < a->nr_pids; i++)
		if ((uint32_t)a->pids[i] == e->tgid)
			u = a->unwind[i];
	n = u ? uunwind_stack(u, e->ip, e->sp, e->bp, e->data, e->len, pcs, LEAK_STACK_DEPTH) : 0;
	if (n > 0 && !ustacks_add(a->ustacks, e->seq, pcs, n))
		a->nr_unwound_lost++;
	return 0;
}

void allocs_poll(struct allocs *a, int timeout_ms)
{
	if (a->ring)
		ring_buffer__poll(a->ring, timeout_ms);
}

/* --dwarf: each process's call frame information, and the ring of stack copies. */
static void open_dwarf(struct allocs *a)
{
	for (int i = 0; i < a->nr_pids; i++)
		if (!(a->unwind[i] = uunwind_open(a->pids[i])))
			ms_fatal("leak --dwarf: cannot read the mappings of process %d", a->pids[i]);
	a->ustacks = ustacks_new();
	a->ring = ring_buffer__new(bpf_map__fd(a->skel->maps.ustacks), on_ustack, a, NULL);
	if (!a->ring)
		ms_bpf_fail("opening the stack copies' ring buffer", errno);
}

static void load(struct allocs *a, unsigned int sample, bool kernel)
{
	a->skel = leak_bpf__open_opts(ms_bpf_open_opts());
	if (!a->skel)
		ms_bpf_fail("opening leak's BPF object", errno);
	a->skel->rodata->sample_every = sample ? sample : 1;
	a->skel->rodata->dwarf = a->dwarf;
	if (!a->dwarf) /* the ring's pages are allocated when it is made */
		bpf_map__set_max_entries(a->skel->maps.ustacks, sysconf(_SC_PAGESIZE));
	a->skel->rodata->page_size = sysconf(_SC_PAGESIZE);
	choose_side(a->skel, kernel);
	ms_test_map_sizes(a->skel->obj);
	if (leak_bpf__load(a->skel))
		ms_bpf_fail("loading leak's BPF programs", errno);
	a->loss[0] = (struct ms_loss){ "untracked_allocations",
				       "allocations not tracked: the allocation map is full",
				       &a->skel->bss->nr_untracked, 0 };
	a->loss[1] = (struct ms_loss){ "stacks_lost",
				       "allocations without a stack: the stack map was full",
				       &a->skel->bss->nr_stacks_lost, 0 };
	a->loss[2] = (struct ms_loss){ "stack_collisions",
				       "allocations with no stack: a hash collision in the "
				       "stack map",
				       &a->skel->bss->nr_stack_collisions, 0 };
	a->loss[3] = (struct ms_loss){ "stack_copies_lost",
				       "--dwarf stack copies lost (the ring was full): "
				       "frame-pointer stacks instead",
				       &a->skel->bss->nr_ustacks_lost, 0 };
	a->loss[4] = (struct ms_loss){ "unwound_stacks_lost",
				       "--dwarf stacks not kept (" MS_STR(USTACKS_MAX) " held "
				       "already): frame-pointer stacks instead",
				       &a->nr_unwound_lost, 0 };
}

/* ids are the stack's hash masked by the map's buckets, a power of two (stackmap.c) */
static uint32_t stack_ids(struct bpf_map *m)
{
	uint32_t n = 1;

	while (n < bpf_map__max_entries(m))
		n *= 2;
	return n;
}

static void open_stack_maps(struct allocs *a)
{
	struct stack_maps *sm = &a->sm;
	uint32_t n2 = stack_ids(a->skel->maps.stacks2);

	sm->fd[0] = bpf_map__fd(a->skel->maps.stacks);
	sm->fd[1] = bpf_map__fd(a->skel->maps.stacks2);
	sm->ids = stack_ids(a->skel->maps.stacks);
	sm->ids = sm->ids > n2 ? sm->ids : n2;
	sm->used = calloc(sm->ids, sizeof(*sm->used));
	sm->keys = calloc(sm->ids, sizeof(*sm->keys));
	if (!sm->used || !sm->keys)
		ms_fatal("out of memory");
	sm->since_ns = ms_boot_ns();
}

/*
 * The stack map not taking stacks keeps only those an outstanding allocation has (the
 * walk that began at walk_ns marked them), then takes the stacks in its turn. Only once
 * no BPF program can still be adding to it: picked before it stopped taking stacks.
 */
static void prune_stacks(struct allocs *a, uint64_t walk_ns)
{
	struct stack_maps *sm = &a->sm;
	uint32_t other = !a->skel->bss->stack_gen, n = 0, *prev = NULL;
	int fd = sm->fd[other];

	if (walk_ns - sm->since_ns >= ALLOCS_PRUNE_AFTER_NS) {
		/* every id first: a deleted one sends bpf_map_get_next_key back to the start */
		while (n < sm->ids && !bpf_map_get_next_key(fd, prev, &sm->keys[n]))
			prev = &sm->keys[n++];
		for (uint32_t i = 0; i < n; i++)
			if (!sm->used[sm->keys[i]])
				bpf_map_delete_elem(fd, &sm->keys[i]);
		a->skel->bss->stack_gen = other;
		sm->since_ns = ms_boot_ns();
	}
	memset(sm->used, 0, sm->ids * sizeof(*sm->used));
}

struct allocs *allocs_open(const struct allocs_opts *o)
{
	struct allocs *a = calloc(1, sizeof(*a));

	if (!a)
		ms_fatal("out of memory");
	ms_require_bpf();
	a->dwarf = o->dwarf;
	load(a, o->sample, o->kernel);
	open_stack_maps(a);
	if (o->kernel)
		attach_kernel(a);
	for (int i = 0; i < o->nr_pids && i < 64; i++) {
		a->pids[i] = o->pids[i];
		a->attached[i] = attach_pid(a, o->pids[i], o);
		if (!a->attached[i])
			ms_fatal("leak: no %smalloc or free in %s (process %d): give the "
				 "allocator with --lib PATH, its prefix with --symbol-prefix",
				 o->prefix, o->lib ? o->lib : "the files it maps", o->pids[i]);
		a->nr_pids++;
	}
	if (a->dwarf)
		open_dwarf(a);
	return a;
}

int allocs_attached(const struct allocs *a, int pid)
{
	for (int i = 0; i < a->nr_pids; i++)
		if (a->pids[i] == pid)
			return a->attached[i];
	return 0;
}

struct walk {
	struct allocs *a;
	struct alloc_group *g;
	size_t n, cap;
	uint64_t before;
	uint32_t taking; /* the stack map taking stacks: the other one's are marked */
};

static void add_alloc(const void *key, const void *value, void *ctx)
{
	const struct leak_key *k = key;
	const struct leak_alloc *v = value;
	struct walk *w = ctx;
	/* --dwarf: marks the allocation's stack copy as still needed */
	uint32_t ustack = w->a->dwarf && v->cache ? ustacks_of(w->a->ustacks, v->cache) : 0;
	struct stack_maps *sm = &w->a->sm;

	if (v->stack_id >= 0 && v->stack_gen != w->taking && (uint32_t)v->stack_id < sm->ids)
		sm->used[v->stack_id] = 1;
	if (v->ts_ns >= w->before)
		return;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 1024;
		if (!(w->g = realloc(w->g, w->cap * sizeof(*w->g))))
			ms_fatal("out of memory");
	}
	w->g[w->n++] = (struct alloc_group){ .pid = k->tgid, .stack_id = v->stack_id,
					     .fn = v->fn, .stack_gen = v->stack_gen,
					     .cache = w->a->dwarf ? ustack : v->cache,
					     .bytes = v->size,
					     .count = 1, .oldest_ns = v->ts_ns };
}

static int cmp_key(const void *x, const void *y)
{
	const struct alloc_group *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->stack_id != b->stack_id)
		return a->stack_id < b->stack_id ? -1 : 1;
	if (a->fn != b->fn)
		return a->fn < b->fn ? -1 : 1;
	if (a->stack_gen != b->stack_gen)
		return a->stack_gen < b->stack_gen ? -1 : 1;
	return (a->cache > b->cache) - (a->cache < b->cache);
}

size_t allocs_groups(struct allocs *a, uint64_t before, struct alloc_group **out)
{
	struct walk w = { .a = a, .before = before, .taking = a->skel->bss->stack_gen };
	uint64_t walk_ns = ms_boot_ns();
	size_t n = 0;

	ms_map_each(bpf_map__fd(a->skel->maps.allocs), sizeof(struct leak_key),
		    sizeof(struct leak_alloc), false, add_alloc, &w);
	prune_stacks(a, walk_ns);
	if (a->dwarf)
		ustacks_sweep(a->ustacks);
	*out = w.g;
	if (!w.n)
		return 0;
	qsort(w.g, w.n, sizeof(*w.g), cmp_key);
	for (size_t i = 0; i < w.n; i++) {
		struct alloc_group *last = n ? &w.g[n - 1] : NULL;

		if (last && !cmp_key(last, &w.g[i])) {
			last->bytes += w.g[i].bytes;
			last->count++;
			if (w.g[i].oldest_ns < last->oldest_ns)
				last->oldest_ns = w.g[i].oldest_ns;
		} else {
			w.g[n++] = w.g[i];
		}
	}
	return n;
}

int allocs_stack(struct allocs *a, const struct alloc_group *g, uint64_t *ips, int max)
{
	uint64_t buf[LEAK_STACK_DEPTH];
	int32_t stack_id = g->stack_id;
	int n = 0;

	if (a->dwarf && g->cache)
		return ustacks_get(a->ustacks, g->cache, ips, max);
	if (stack_id < 0 || g->stack_gen > 1 ||
	    bpf_map_lookup_elem(a->sm.fd[g->stack_gen], &stack_id, buf))
		return 0;
	while (n < LEAK_STACK_DEPTH && n < max && buf[n]) {
		ips[n] = buf[n];
		n++;
	}
	return n;
}

const char *allocs_fn_name(uint32_t fn)
{
	return fn < LEAK_NR_FN ? fn_names[fn] : "?";
}

void allocs_source_name(struct allocs *a, const struct alloc_group *g, char *buf, size_t len)
{
	char name[LEAK_CACHE_NAME] = "";

	if (g->fn == LEAK_K_PERCPU) {
		snprintf(buf, len, "percpu");
	} else if (g->fn == LEAK_K_PAGES) {
		snprintf(buf, len, "pages-order-%llu", (unsigned long long)g->cache);
	} else if (g->fn == LEAK_K_PAGECACHE) {
		snprintf(buf, len, "page-cache-order-%llu", (unsigned long long)g->cache);
	} else if (g->fn == LEAK_K_KMALLOC) {
		/* the size class (kmalloc-cg-N and -rcl-N are not told apart) */
		snprintf(buf, len, "kmalloc-%llu", (unsigned long long)g->cache);
	} else {
		bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.caches), &g->cache, name);
		snprintf(buf, len, "%s", name[0] ? name : "?");
	}
}

uint64_t allocs_unknown_frees(const struct allocs *a)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *v, sum = 0;
	__u32 zero = 0;

	if (ncpus <= 0 || !(v = calloc(ncpus, sizeof(*v))))
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.unknown_frees), &zero, v))
		for (int i = 0; i < ncpus; i++)
			sum += v[i];
	free(v);
	return sum;
}

struct ms_loss *allocs_losses(struct allocs *a, int *n)
{
	*n = a->dwarf ? 5 : 3;
	return a->loss;
}

void allocs_close(struct allocs *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->nr_links; i++)
		bpf_link__destroy(a->links[i]);
	ring_buffer__free(a->ring);
	for (int i = 0; i < a->nr_pids; i++)
		uunwind_close(a->unwind[i]);
	ustacks_free(a->ustacks);
	free(a->sm.used);
	free(a->sm.keys);
	free(a->links);
	leak_bpf__destroy(a->skel);
	free(a);
}
