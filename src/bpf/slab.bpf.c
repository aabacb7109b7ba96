// SPDX-License-Identifier: GPL-2.0
/*
 * memscope slab, kernel side. The kmem_cache iterator (4971266e1595 "bpf: Add
 * kmem_cache iterator", 6.13) reads each cache as get_slabinfo() sums it for
 * /proc/slabinfo: slabs and objects per node, minus the free objects of the nodes'
 * partial lists. Live: allocations and frees per cache, counted per CPU in the kernel
 * from the kmem tracepoints; --stacks samples allocation stacks.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hook.bpf.h"
#include "slab.h"

const volatile __u32 nr_nodes = 1;	 /* possible node ids, from user space */
const volatile __u32 stack_every = 0;	 /* --stacks: one allocation in this many; 0: off */

/* ---- the caches ---- */

struct partial_walk {
	__u64 head, cur;
	__u64 free;
	__u32 scanned;
	bool back;
};

/* One slab of a node's partial list: its free objects (count_free()). */
static long partial_step(__u64 i, struct partial_walk *w)
{
	struct list_head *pos = (void *)w->cur;
	struct slab *slab;
	__u64 next;
	__u32 objects, inuse;

	next = w->back ? (__u64)BPF_CORE_READ(pos, prev) : (__u64)BPF_CORE_READ(pos, next);
	if (!next || next == w->head)
		return 1;
	/* unlocked: a slab leaving the list meanwhile may end the walk early */
	slab = (void *)(next - bpf_core_field_offset(struct slab, slab_list));
	objects = BPF_CORE_READ_BITFIELD_PROBED(slab, objects);
	inuse = BPF_CORE_READ_BITFIELD_PROBED(slab, inuse);
	if (objects > inuse)
		w->free += objects - inuse;
	w->scanned++;
	w->cur = next;
	return 0;
}

/*
 * count_partial_free_approx() (6.10+): up to 10,000 slabs counted; a longer list is
 * estimated from 5,000 at each end, scaled, at most the node's objects. A global
 * function, verified once, returns the free objects with SLAB_APPROX set if estimated.
 */
#define SLAB_APPROX (1ULL << 63)
__noinline __u64 partial_free(__u64 node, __u64 total)
{
	struct kmem_cache_node *n = (void *)node;
	struct partial_walk w = {};
	__u64 nr = BPF_CORE_READ(n, nr_partial);

	w.head = w.cur = node + bpf_core_field_offset(struct kmem_cache_node, partial);
	if (nr <= SLAB_MAX_PARTIAL_SCAN) {
		bpf_loop(SLAB_MAX_PARTIAL_SCAN, partial_step, &w, 0);
		return w.free;
	}
	bpf_loop(SLAB_MAX_PARTIAL_SCAN / 2, partial_step, &w, 0);
	w.cur = w.head;
	w.back = true;
	bpf_loop(SLAB_MAX_PARTIAL_SCAN / 2, partial_step, &w, 0);
	if (!w.scanned)
		return SLAB_APPROX;
	w.free = w.free * nr / w.scanned;
	return (w.free < total ? w.free : total) | SLAB_APPROX;
}

static __u32 reclaim_flag(void)
{
	/* the flag bits became an enum in 6.9; the iterator is younger */
	if (!bpf_core_enum_value_exists(enum _slab_flag_bits, _SLAB_RECLAIM_ACCOUNT))
		return 0;
	return 1U << bpf_core_enum_value(enum _slab_flag_bits, _SLAB_RECLAIM_ACCOUNT);
}

SEC("iter/kmem_cache")
int slab_caches(struct bpf_iter__kmem_cache *ctx)
{
	struct kmem_cache *s = ctx->s;
	struct slab_cache_rec r = {};
	__u32 oo, flag = reclaim_flag();

	if (!s)
		return 0;
	r.addr = (__u64)s;
	bpf_probe_read_kernel_str(r.name, sizeof(r.name), BPF_CORE_READ(s, name));
	r.object_size = BPF_CORE_READ(s, object_size);
	r.size = BPF_CORE_READ(s, size);
	oo = BPF_CORE_READ(s, oo.x);
	r.order = oo >> 16; /* OO_SHIFT: oo_order() and oo_objects() */
	r.objs_per_slab = oo & 0xffff;
	r.reclaimable = flag ? !!(BPF_CORE_READ(s, flags) & flag) : 2;
	for (__u32 i = 0; i < SLAB_MAX_NODES && i < nr_nodes; i++) {
		struct kmem_cache_node *n = NULL;
		__u64 total, free;

		bpf_core_read(&n, sizeof(n), &s->node[i]);
		if (!n)
			continue;
		r.slabs += BPF_CORE_READ(n, nr_slabs.counter);
		total = BPF_CORE_READ(n, total_objects.counter);
		r.total_objs += total;
		free = partial_free((__u64)n, total);
		r.approx |= !!(free & SLAB_APPROX);
		r.free_objs += free & ~SLAB_APPROX;
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

/* ---- live: per-cache allocations and frees ---- */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct slab_rate);
} rates SEC(".maps");

/* Each key's cache name, written once (user space names the keys with it). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, char[SLAB_NAME_LEN]);
} names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 8192);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, SLAB_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct slab_stack_key);
	__type(value, __u64);
} stack_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sample_seq SEC(".maps");

__u64 nr_untracked;	/* the rates map was full */
__u64 nr_stacks_lost;	/* the stack maps were full */
__u64 nr_kfree;		/* kfree() names no cache: counted apart */

static __always_inline struct slab_rate *rate_of(__u64 key, const char *name)
{
	struct slab_rate *r = bpf_map_lookup_elem(&rates, &key), zero = {};
	char buf[SLAB_NAME_LEN] = {};

	if (r)
		return r;
	bpf_probe_read_kernel_str(buf, sizeof(buf), name); /* the BPF stack is kernel memory */
	bpf_map_update_elem(&names, &key, buf, BPF_NOEXIST);
	if (bpf_map_update_elem(&rates, &key, &zero, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&rates, &key)) {
		__sync_fetch_and_add(&nr_untracked, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&rates, &key);
}

static __always_inline void sample_stack(void *ctx, __u64 key)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&sample_seq, &zero), one = 1, *c;
	struct slab_stack_key k = { .cache = key };

	if (!seq || (*seq)++ % stack_every)
		return;
	k.stack_id = bpf_get_stackid(ctx, &stacks, 0);
	if (k.stack_id < 0) {
		__sync_fetch_and_add(&nr_stacks_lost, 1);
		return;
	}
	c = bpf_map_lookup_elem(&stack_counts, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	else if (bpf_map_update_elem(&stack_counts, &k, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&nr_stacks_lost, 1);
}

static __always_inline void count_alloc(void *ctx, __u64 key, const char *name, __u64 bytes)
{
	struct slab_rate *r = rate_of(key, name);

	if (!r)
		return;
	r->allocs++;
	r->alloc_bytes += bytes;
	if (stack_every)
		sample_stack(ctx, key);
}

static __always_inline void count_free(__u64 key, const char *name)
{
	struct slab_rate *r = rate_of(key, name);

	if (r)
		r->frees++;
}

/* A name for a kmalloc size class, as /proc/slabinfo spells it. */
static __always_inline __u64 kmalloc_key(__u64 bytes, char *name)
{
	char num[12] = {};
	int n = 0, i = 0;
	__u64 v = bytes;
	bool k = bytes >= 1024 && !(bytes % 1024);

	__builtin_memcpy(name, "kmalloc-", 8);
	if (k)
		v /= 1024;
	for (n = 0; n < 10 && (v || !n); n++, v /= 10)
		num[n] = '0' + v % 10;
	for (i = 0; i < n && i < 10; i++)
		name[8 + i] = num[n - 1 - i];
	if (k && 8 + i < 20)
		name[8 + i] = 'k';
	return SLAB_KEY_KMALLOC | bytes;
}

static __always_inline void count_kmalloc(void *ctx, __u64 bytes)
{
	char name[24] = {};
	__u64 key;

	/* larger requests go to the page allocator (kmalloc_large) */
	if (bytes > 8192 || !bytes)
		return;
	key = kmalloc_key(bytes, name);
	count_alloc(ctx, key, name, bytes);
}

MS_TRACEPOINT(slab_alloc, kmem_cache_alloc,
	      count_alloc(ctx, (__u64)s, BPF_CORE_READ(s, name), BPF_CORE_READ(s, size)),
	      unsigned long call_site, const void *ptr, struct kmem_cache *s)
MS_TRACEPOINT(slab_free, kmem_cache_free,
	      count_free((__u64)s, BPF_CORE_READ(s, name)),
	      unsigned long call_site, const void *ptr, struct kmem_cache *s)
MS_TRACEPOINT(slab_kmalloc, kmalloc, count_kmalloc(ctx, bytes_alloc),
	      unsigned long call_site, const void *ptr, size_t bytes_req, size_t bytes_alloc)
MS_TRACEPOINT(slab_kfree, kfree, if (ptr) __sync_fetch_and_add(&nr_kfree, 1),
	      unsigned long call_site, const void *ptr)

/* The classic records carry the cache's name, not the cache: keyed by its hash. */
static __always_inline __u64 name_hash(const char *p)
{
	char buf[SLAB_NAME_LEN] = {};
	__u64 h = 14695981039346656037ULL; /* FNV-1a */

	bpf_probe_read_kernel_str(buf, sizeof(buf), p);
	for (int i = 0; i < SLAB_NAME_LEN && buf[i]; i++)
		h = (h ^ (__u8)buf[i]) * 1099511628211ULL;
	return (h & ~(SLAB_KEY_KMALLOC | SLAB_KEY_HASH)) | SLAB_KEY_HASH;
}

#define DATA_LOC(ctx, loc) ((const char *)(ctx) + ((loc) & 0xffff))

MS_CLASSIC(slab_alloc, kmem, kmem_cache_alloc, kmem_cache_alloc, {
	const char *name = DATA_LOC(ctx, ctx->__data_loc_name);

	count_alloc(ctx, name_hash(name), name, ctx->bytes_alloc);
})
MS_CLASSIC(slab_free, kmem, kmem_cache_free, kmem_cache_free, {
	const char *name = DATA_LOC(ctx, ctx->__data_loc_name);

	count_free(name_hash(name), name);
})
MS_CLASSIC(slab_kmalloc, kmem, kmalloc, kmalloc, count_kmalloc(ctx, ctx->bytes_alloc))
MS_CLASSIC(slab_kfree, kmem, kfree, kfree, if (ctx->ptr) __sync_fetch_and_add(&nr_kfree, 1))

char LICENSE[] SEC("license") = "GPL";
