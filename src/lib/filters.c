// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "cgroups.h"
#include "filters.h"
#include "runtime.h"

void ms_cgroup_filter_parse(const char *arg, struct ms_cgroup_filter *cg)
{
	char probe[600], path[512];
	struct statfs sfs;
	struct stat st;

	/* "/a/b" as the kernel names it, or the directory itself */
	if (!memcg_resolve(arg, path, sizeof(path), cg->path, sizeof(cg->path)) ||
	    stat(path, &st))
		ms_usage_error("--cgroup: '%s' is no memory cgroup (neither a path below %s nor "
			       "a directory)", arg, memcg_root() ? memcg_root() : "a cgroup mount");
	if (statfs(path, &sfs))
		ms_usage_error("--cgroup: cannot inspect '%s': %s", arg, strerror(errno));
	if ((unsigned long)sfs.f_type == CGROUP2_SUPER_MAGIC) {
		cg->v2 = true;
	} else if ((unsigned long)sfs.f_type == CGROUP_SUPER_MAGIC) {
		/* v1: only the memory controller's hierarchy has these files. */
		snprintf(probe, sizeof(probe), "%s/memory.usage_in_bytes", path);
		if (access(probe, F_OK))
			ms_usage_error("--cgroup: '%s' is not in the memory cgroup hierarchy", arg);
		cg->v2 = false;
	} else {
		ms_usage_error("--cgroup: '%s' is not a cgroup directory", arg);
	}
	cg->id = st.st_ino;
}

struct ms_filter ms_filter_of(const struct ms_opts *o, const struct ms_cgroup_filter *cg)
{
	struct ms_filter f = { .pids = o->pids, .nr_pids = o->nr_pids };

	if (o->has_comm)
		memcpy(f.comm, o->comm, sizeof(f.comm));
	if (cg)
		f.cgroup = *cg;
	return f;
}

void ms_pid_filter_fill(int map_fd, const struct ms_filter *f)
{
	for (int i = 0; i < f->nr_pids; i++) {
		__u32 pid = f->pids[i];
		__u8 one = 1;

		if (bpf_map_update_elem(map_fd, &pid, &one, BPF_ANY))
			ms_fatal("cannot set the PID filter: %s", strerror(errno));
	}
}
