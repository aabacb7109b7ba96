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
#include "cgroups.h"
#include "cli.h"

struct ms_cgroup_filter {
	uint64_t id; /* kernfs id (the directory's inode number); 0 = no filter */
	bool v2;
	char path[256];
};

/* Which processes a collector looks at: -p, --comm, --cgroup. */
struct ms_filter {
	const int *pids;
	int nr_pids;
	char comm[MS_COMM_LEN]; /* "" when not filtering by name */
	struct ms_cgroup_filter cgroup; /* id 0 when not filtering by cgroup */
};

/* The filter of the shared options and a command's --cgroup (NULL: none). */
struct ms_filter ms_filter_of(const struct ms_opts *o, const struct ms_cgroup_filter *cg);
/* Resolve --cgroup PATH; bad input (not a memory cgroup directory) exits 2. */
void ms_cgroup_filter_parse(const char *path, struct ms_cgroup_filter *cg);
/* Fill a skeleton's pid_filter map after load; exits 1 on failure. */
void ms_pid_filter_fill(int map_fd, const struct ms_filter *f);

#define MS_SET_FILTERS(skel, f)                                                            \
	do {                                                                               \
		(skel)->rodata->filter_pids = (f)->nr_pids > 0;                            \
		(skel)->rodata->filter_comm = (f)->comm[0] != 0;                           \
		memcpy((void *)(skel)->rodata->comm_filter, (f)->comm,                     \
		       sizeof((skel)->rodata->comm_filter));                               \
		(skel)->rodata->filter_cgroup_id = (f)->cgroup.id;                         \
		(skel)->rodata->filter_cgroup_v2 = (f)->cgroup.v2;                         \
		(skel)->rodata->memcg_hier_v2 = memcg_hier_is_v2();                        \
	} while (0)

#endif
