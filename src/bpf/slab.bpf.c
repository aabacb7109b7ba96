// SPDX-License-Identifier: GPL-2.0
/*
 * memscope slab, live: allocations and frees per cache, counted per CPU in the kernel
 * from the kmem tracepoints; --stacks samples allocation stacks. (The caches
 * themselves: slab_iter.bpf.c.)
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hook.bpf.h"
#include "slab.h"

const volatile __u32 stack_every = 0;	 /* --stacks: one allocation in this many; 0: off */

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

/* The key's counters; at the first sight of a key its name is noted, once. */
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

static __always_inline void counted(void *ctx, struct slab_rate *r, __u64 key)
{
	r->allocs++;
	if (stack_every)
		sample_stack(ctx, key);
}

/* A cache named by its struct kmem_cache: its name is read only at the first sight. */
static __always_inline void count_cache(void *ctx, struct kmem_cache *s, bool alloc)
{
	__u64 key = (__u64)s;
	struct slab_rate *r = bpf_map_lookup_elem(&rates, &key);

	if (!r && !(r = rate_of(key, BPF_CORE_READ(s, name))))
		return;
	if (alloc)
		counted(ctx, r, key);
	else
		r->frees++;
}

/* A name for a kmalloc size class, as /proc/slabinfo spells it. */
static __always_inline void kmalloc_name(__u64 bytes, char *name)
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
}

static __always_inline void count_kmalloc(void *ctx, __u64 bytes)
{
	__u64 key = SLAB_KEY_KMALLOC | bytes;
	struct slab_rate *r;

	/* larger requests go to the page allocator (kmalloc_large) */
	if (bytes > 8192 || !bytes)
		return;
	r = bpf_map_lookup_elem(&rates, &key);
	if (!r) {
		char name[24] = {};

		kmalloc_name(bytes, name);
		if (!(r = rate_of(key, name)))
			return;
	}
	counted(ctx, r, key);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} kfrees SEC(".maps");

/* kfree() names no cache: counted apart, per CPU */
static __always_inline void count_kfree(const void *ptr)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&kfrees, &zero);

	if (ptr && n)
		(*n)++;
}

MS_TRACEPOINT(slab_alloc, kmem_cache_alloc, count_cache(ctx, s, true),
	      unsigned long call_site, const void *ptr, struct kmem_cache *s)
MS_TRACEPOINT(slab_free, kmem_cache_free, count_cache(ctx, s, false),
	      unsigned long call_site, const void *ptr, struct kmem_cache *s)
MS_TRACEPOINT(slab_kmalloc, kmalloc, count_kmalloc(ctx, bytes_alloc),
	      unsigned long call_site, const void *ptr, size_t bytes_req, size_t bytes_alloc)
/* no tp_btf variant: before 6.x's void-pointer arguments it refuses kfree's ptr (6.1) */
SEC("raw_tp/kfree")
int BPF_PROG(slab_kfree_raw, unsigned long call_site, const void *ptr)
{
	count_kfree(ptr);
	return 0;
}

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

/* 6.1's classic kmem_cache_alloc record names no cache (its free record does): the
 * collector then counts no cache rates, and this program must still load there */
MS_CLASSIC(slab_alloc, kmem, kmem_cache_alloc, kmem_cache_alloc, {
	if (bpf_core_field_exists(ctx->__data_loc_name)) {
		const char *name = DATA_LOC(ctx, ctx->__data_loc_name);
		__u64 key = name_hash(name);
		struct slab_rate *r = rate_of(key, name);

		if (r)
			counted(ctx, r, key);
	}
})
MS_CLASSIC(slab_free, kmem, kmem_cache_free, kmem_cache_free, {
	const char *name = DATA_LOC(ctx, ctx->__data_loc_name);
	struct slab_rate *r = rate_of(name_hash(name), name);

	if (r)
		r->frees++;
})
MS_CLASSIC(slab_kmalloc, kmem, kmalloc, kmalloc, count_kmalloc(ctx, ctx->bytes_alloc))
MS_CLASSIC(slab_kfree, kmem, kfree, kfree, count_kfree(ctx->ptr))

char LICENSE[] SEC("license") = "GPL";
