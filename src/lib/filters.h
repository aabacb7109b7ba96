/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The -p / --comm / --cgroup filters, handed to a command's BPF object. Every
 * object that includes src/bpf/filter.bpf.h has the same rodata fields and the
 * pid_filter map, so one macro sets them for any skeleton.
 */
#ifndef MEMSCOPE_FILTERS_H
#define MEMSCOPE_FILTERS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "cli.h"

struct ms_cgroup_filter {
	uint64_t id; /* kernfs id (the directory's inode number); 0 = no filter */
	bool v2;
	char path[256];
};

/* Resolve --cgroup PATH; bad input (not a memory cgroup directory) exits 2. */
void ms_cgroup_filter_parse(const char *path, struct ms_cgroup_filter *cg);
/* Fill a skeleton's pid_filter map after load; exits 1 on failure. */
void ms_pid_filter_fill(int map_fd, const struct ms_opts *o);

#define MS_SET_FILTERS(skel, o, cg)                                                        \
	do {                                                                               \
		(skel)->rodata->filter_pids = (o)->nr_pids > 0;                            \
		(skel)->rodata->filter_comm = (o)->has_comm;                               \
		memcpy((void *)(skel)->rodata->comm_filter, (o)->comm,                     \
		       sizeof((skel)->rodata->comm_filter));                               \
		(skel)->rodata->filter_cgroup_id = (cg)->id;                               \
		(skel)->rodata->filter_cgroup_v2 = (cg)->v2;                               \
	} while (0)

#endif
