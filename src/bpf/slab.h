/* SPDX-License-Identifier: GPL-2.0 */
/* memscope slab: what BPF and user space share. */
#ifndef MEMSCOPE_SLAB_H
#define MEMSCOPE_SLAB_H

#define SLAB_NAME_LEN 64
#define SLAB_MAX_NODES 64
#define SLAB_STACK_DEPTH 32
/* The kernel's own bound on a partial list scan (mm/slub.c MAX_PARTIAL_TO_SCAN, 6.10+). */
#define SLAB_MAX_PARTIAL_SCAN 10000

/* One cache, as the kmem_cache iterator reads it (get_slabinfo()'s sums). */
struct slab_cache_rec {
	__u64 addr; /* struct kmem_cache *: the live counters' key */
	char name[SLAB_NAME_LEN];
	__u32 object_size, size; /* the object; with its metadata and alignment */
	__u32 objs_per_slab, order;
	__u64 slabs, total_objs, free_objs; /* free: in the nodes' partial lists */
	__u32 reclaimable; /* SLAB_RECLAIM_ACCOUNT; 2: unknown */
	__u32 approx;	   /* a partial list longer than the scan bound: estimated */
};

/*
 * Live counters, per CPU. Key: the struct kmem_cache * (tp_btf, raw_tp), a hash of
 * the name (classic tracepoint), or SLAB_KEY_KMALLOC | the size class (kmalloc).
 */
#define SLAB_KEY_KMALLOC (1ULL << 63)
#define SLAB_KEY_HASH (1ULL << 62)
struct slab_rate {
	__u64 allocs, frees;
};

/* --stacks: sampled allocations by (cache key, kernel stack). */
struct slab_stack_key {
	__u64 cache;
	__s32 stack_id;
	__u32 pad;
};

#endif
