// SPDX-License-Identifier: GPL-2.0
/*
 * Every memory cgroup's counters in one pass (iter/cgroup: commit d4ccaf58a847 "bpf:
 * Introduce cgroup iter", 6.1; started at the memory hierarchy's root, parents first):
 * what memory.current, memory.max, memory.peak, memory.high/low/min, memory.swap.*,
 * memory.events and v1's failcnt, kmem and soft limit print, read where those files read
 * them (mm/memcontrol.c, mm/memcontrol-v1.c), so that a scrape of fifty cgroups is not
 * five hundred files.
 * A cgroup iterator cannot resume a pass across read() calls, and its output buffer
 * holds a few hundred records: so the records go to recs[] in .bss, which user space
 * reads through the skeleton's mapping, and nothing to the output.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include "memcg.h"

struct memcg_rec recs[MC_MAX];
const volatile __u32 max_recs = MC_MAX; /* fewer: tests drive the files' way with it */
__u32 nr;	   /* records this pass; user space sets 0 before it */
__u64 nr_beyond;   /* cgroups past recs[] this pass */

/* The memory controller's state of this cgroup, or NULL (v2: not enabled here). */
static __always_inline struct mem_cgroup *memcg_of(struct cgroup *cgrp)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;

	if (id < 0 || id >= 16)
		return NULL;
	css = BPF_CORE_READ(cgrp, subsys[id]);
	if (!css)
		return NULL;
	return (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
}

/* memcg->memory_events[e] where the kernel has that event. */
static __always_inline __u64 memory_event(struct mem_cgroup *m, int e)
{
	__u32 nr = bpf_core_field_size(m->memory_events) / sizeof(long);
	long v = -1;

	if (e < 0 || (__u32)e >= nr)
		return ~0ULL;
	bpf_probe_read_kernel(&v, sizeof(v), (void *)m +
			      bpf_core_field_offset(struct mem_cgroup, memory_events) +
			      e * sizeof(long));
	return v;
}

static __always_inline void read_events(struct mem_cgroup *m, struct memcg_rec *r)
{
	r->events[MC_EV_LOW] = memory_event(m, bpf_core_enum_value(enum memcg_memory_event,
								   MEMCG_LOW));
	r->events[MC_EV_HIGH] = memory_event(m, bpf_core_enum_value(enum memcg_memory_event,
								    MEMCG_HIGH));
	r->events[MC_EV_MAX] = memory_event(m, bpf_core_enum_value(enum memcg_memory_event,
								   MEMCG_MAX));
	r->events[MC_EV_OOM] = memory_event(m, bpf_core_enum_value(enum memcg_memory_event,
								   MEMCG_OOM));
	r->events[MC_EV_OOM_KILL] = memory_event(m, bpf_core_enum_value(enum memcg_memory_event,
									MEMCG_OOM_KILL));
}

static __always_inline void read_counters(struct mem_cgroup *m, struct memcg_rec *r)
{
	r->usage = BPF_CORE_READ(m, memory.usage.counter);
	r->max = BPF_CORE_READ(m, memory.max);
	r->watermark = BPF_CORE_READ(m, memory.watermark);
	r->failcnt = BPF_CORE_READ(m, memory.failcnt);
	r->high = BPF_CORE_READ(m, memory.high);
	r->low = BPF_CORE_READ(m, memory.low);
	r->min = BPF_CORE_READ(m, memory.min);
	r->swap = BPF_CORE_READ(m, swap.usage.counter);
	r->swap_max = BPF_CORE_READ(m, swap.max);
	/* v1's, gone from kernels built without CONFIG_MEMCG_V1 (6.11+) */
	if (bpf_core_field_exists(m->kmem)) {
		r->kmem = BPF_CORE_READ(m, kmem.usage.counter);
		r->flags |= MC_KMEM;
	}
	if (bpf_core_field_exists(m->soft_limit)) {
		r->soft_limit = BPF_CORE_READ(m, soft_limit);
		r->flags |= MC_SOFT_LIMIT;
	}
	read_events(m, r);
}

SEC("iter/cgroup")
int memcg_walk(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct cgroup_subsys_state *parent;
	struct memcg_rec *r;
	struct mem_cgroup *m;
	__u32 i = nr;

	if (!cgrp)
		return 0;
	if (i >= MC_MAX || i >= max_recs) {
		nr_beyond++;
		return 0;
	}
	r = &recs[i];
	__builtin_memset(r, 0, sizeof(*r));
	r->id = BPF_CORE_READ(cgrp, kn, id);
	r->level = BPF_CORE_READ(cgrp, level);
	parent = BPF_CORE_READ(cgrp, self.parent);
	if (parent)
		r->parent_id = BPF_CORE_READ(parent, cgroup, kn, id);
	m = memcg_of(cgrp);
	if (m) {
		r->flags |= MC_MEMCG;
		read_counters(m, r);
	}
	nr = i + 1; /* one pass at a time: the iterator holds cgroup_mutex */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
