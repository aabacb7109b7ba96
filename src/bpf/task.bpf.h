/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every memscope BPF object may use. */
#ifndef MEMSCOPE_TASK_BPF_H
#define MEMSCOPE_TASK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* A kernel thread (no mm) named kswapd<N>: a node's page reclaim daemon. */
static __always_inline bool task_is_kswapd(struct task_struct *t)
{
	char comm[8];

	if (BPF_CORE_READ(t, mm))
		return false;
	BPF_CORE_READ_STR_INTO(&comm, t, comm);
	return comm[0] == 'k' && comm[1] == 's' && comm[2] == 'w' && comm[3] == 'a' &&
	       comm[4] == 'p' && comm[5] == 'd';
}

/* The value of key in a hash map, inserted as *init first when missing; NULL when full. */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

#endif
