/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Slab caches: every cache as /proc/slabinfo counts it, from the kernel's kmem_cache
 * iterator where it exists (6.13+), else from /proc/slabinfo itself; live, allocations
 * and frees per cache from the kmem tracepoints, counted in the kernel, and sampled
 * allocation stacks. Errors come back as a negative errno and a message.
 */
#ifndef MEMSCOPE_COLLECT_SLABS_H
#define MEMSCOPE_COLLECT_SLABS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hooks.h"
#include "record.h"

#define SLABS_NAME_LEN 64
#define SLABS_STACK_FRAMES 16

/* One cache, as the collector reads it. */
struct slab_info {
	char name[SLABS_NAME_LEN];
	uint64_t key;	     /* the live counters' key (the struct kmem_cache *), 0: none */
	uint32_t object_size; /* 0: unknown (/proc/slabinfo does not say) */
	uint32_t size, objs_per_slab, order;
	uint64_t active_objs, total_objs, slabs;
	int reclaimable;      /* 1, 0, or -1: unknown */
	bool approx;	      /* a partial list too long to count whole (as the kernel) */
};

struct slab_snapshot {
	struct slab_info *c;
	size_t n, cap;
};

/* Allocations and frees of one cache since the collector opened. */
struct slab_count {
	char name[SLABS_NAME_LEN];
	uint64_t key, allocs, frees;
};

struct slab_site {
	char cache[SLABS_NAME_LEN];
	uint64_t samples;
	int nr_frames;
	uint64_t ips[SLABS_STACK_FRAMES * 2];
};

struct slabs_opts {
	bool live;		/* count allocations and frees per cache */
	unsigned int stack_every; /* --stacks: sample one allocation in this many; 0: off */
	bool force_slabinfo;	/* read /proc/slabinfo even where the iterator exists */
};

struct slabs;
/* 0, or a negative errno with err saying what failed and the fix. */
int slabs_open(const struct slabs_opts *o, struct slabs **out, char *err, size_t len);
/* Every cache now. 0 or a negative errno (err set). */
int slabs_read(struct slabs *s, struct slab_snapshot *out, char *err, size_t len);
/* Live: do the events name each cache (6.0+)? Else only kmalloc's size classes count. */
bool slabs_cache_rates(const struct slabs *s);
/* "iter/kmem_cache" or "/proc/slabinfo". */
const char *slabs_source(const struct slabs *s);
/* Why /proc/slabinfo is read ("this kernel has no kmem_cache iterator (6.13+)"); NULL
 * when the iterator is. */
const char *slabs_source_why(const struct slabs *s);
/* Live: the counts so far, one per cache seen (free *out); returns how many or -errno. */
long slabs_counts(struct slabs *s, struct slab_count **out);
/* kfree() calls so far: the event names no cache. */
uint64_t slabs_kfrees(struct slabs *s);
/* --stacks: the sampled allocation sites so far (free *out); how many or -errno. */
long slabs_sites(struct slabs *s, struct slab_site **out);
struct ms_loss;
struct ms_loss *slabs_losses(struct slabs *s, int *n);
/* The hook each live probe took ("tp_btf"...), for -v. */
const char *slabs_hook(const struct slabs *s);
void slabs_close(struct slabs *s);
void slab_snapshot_free(struct slab_snapshot *s);
/* Largest first (slabs x pages per slab), then by name. */
void slab_snapshot_sort(struct slab_snapshot *s);

/* Pure: parse /proc/slabinfo text (version 2.1) into out; the caches found, or -EINVAL. */
long slabinfo_parse(const char *text, struct slab_snapshot *out);

#define SLABS_NR_HOOKS 4
extern const struct hook_spec slabs_hooks[SLABS_NR_HOOKS];

/* ---- records ---- */

/* The "slab" record: one cache. */
struct slab_row {
	uint64_t null_mask;
	char name[SLABS_NAME_LEN];
	uint64_t bytes, active_bytes;
	int64_t growth_bytes, growth_objects;
	uint64_t objects_active, objects_total;
	uint32_t object_size_bytes, size_bytes, objects_per_slab, pages_per_slab;
	uint64_t slabs;
	bool reclaimable, approx;
	double allocs_per_s, frees_per_s;
};

/* The "slab_total" record: the caches summed, beside /proc/meminfo's Slab. */
struct slab_total_row {
	uint64_t null_mask;
	char source[24];
	uint32_t caches;
	uint64_t bytes, reclaimable_bytes, unreclaimable_bytes;
	int64_t growth_bytes;
	uint64_t meminfo_slab_bytes, meminfo_sreclaimable_bytes, meminfo_sunreclaim_bytes;
	double kfree_per_s;
	uint32_t stack_every;
	char source_why[160];
};

/* The "slab_site" record: an allocation site that grows a cache (--stacks). */
struct slab_site_row {
	uint64_t null_mask;
	char cache[SLABS_NAME_LEN];
	uint64_t samples, estimated_allocs;
	uint32_t nr_frames;
	char frames[SLABS_STACK_FRAMES][96];
};

/* The "slab_memcg" record: a memory cgroup's slab, where its files tell. */
struct slab_memcg_row {
	uint64_t null_mask;
	char path[256];
	uint64_t slab_bytes, slab_reclaimable_bytes, slab_unreclaimable_bytes, kernel_bytes;
	char source[32];
};

extern const struct record_desc slab_desc, slab_total_desc, slab_site_desc, slab_memcg_desc;

/*
 * Every memory cgroup's slab as its files state it (free *out); how many, or a negative
 * errno with err set (no memory hierarchy).
 */
long slabs_memcgs(struct slab_memcg_row **out, char *err, size_t len);

/* A row of one cache; prev: the same cache at the previous report (NULL: none). */
void slab_row_of(const struct slab_info *c, const struct slab_info *prev, unsigned long page,
		 struct slab_row *row);

#endif
