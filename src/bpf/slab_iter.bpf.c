// SPDX-License-Identifier: GPL-2.0
/*
 * memscope slab, the caches: the kmem_cache iterator (4971266e1595 "bpf: Add
 * kmem_cache iterator", 6.13) reads each cache as get_slabinfo() sums it for
 * /proc/slabinfo: slabs and objects per node, minus the free objects of the nodes'
 * partial lists. A light skeleton: the kernel relocates it, no vmlinux BTF is parsed
 * in user space (the kernels that have the iterator can).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "slab.h"

const volatile __u32 nr_nodes = 1;	 /* possible node ids, from user space */

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

char LICENSE[] SEC("license") = "GPL";
