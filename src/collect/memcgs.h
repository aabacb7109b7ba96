/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory cgroups as their own files state them, on cgroup v1 (the memory controller's
 * hierarchy) or v2: usage, limits, the memory.stat breakdown, events, pressure. The
 * names users know (systemd unit, container id, Kubernetes pod and QoS class) come
 * from the path. What BPF attributes to a cgroup (reclaim, stalls, kills, processes)
 * the view adds from the other collectors.
 */
#ifndef MEMSCOPE_COLLECT_MEMCGS_H
#define MEMSCOPE_COLLECT_MEMCGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "procs.h"
#include "vmscan.h"
#include "record.h"

#define MEMCG_TOP_PROCS 3

/* The "cgroup" record: one memory cgroup. Sizes in bytes. */
struct memcg_row {
	uint64_t null_mask;
	char path[256];		 /* as /proc/PID/cgroup names it */
	char container[128];	 /* systemd unit, docker:/containerd:ID, k8s pod; null: none */
	char pod_uid[40], qos_class[16];
	uint64_t id;		 /* kernfs id: the directory's inode number */
	uint32_t version, depth;
	uint64_t usage_bytes, limit_bytes;
	double limit_used_percent;
	uint64_t high_bytes, low_bytes, min_bytes, soft_limit_bytes;
	uint64_t anon_bytes, file_bytes, active_anon_bytes, inactive_anon_bytes;
	uint64_t active_file_bytes, inactive_file_bytes, unevictable_bytes, shmem_bytes;
	uint64_t file_mapped_bytes, file_dirty_bytes, file_writeback_bytes;
	uint64_t kernel_bytes, slab_bytes, sock_bytes, page_tables_bytes;
	uint64_t swap_bytes, swap_limit_bytes;
	uint64_t working_set_bytes;	    /* usage - inactive_file, as cAdvisor */
	uint64_t working_set_refault_bytes; /* live: anon + active_file + file refaulted */
	uint64_t refault_anon_pages, refault_file_pages, activate_anon_pages, activate_file_pages;
	uint64_t events_low, events_high, events_max, events_oom, events_oom_kill, failcnt;
	double psi_some_avg10_percent, psi_full_avg10_percent;
	uint64_t psi_some_total_ns, psi_full_total_ns;
	/* live, from BPF: this interval's reclaim by its tasks, and its OOM kills */
	uint64_t stalls, stall_total_ns, stall_p99_at_most_ns, reclaim_scanned_pages;
	uint64_t reclaim_reclaimed_pages, oom_kills;
	uint32_t nr_buckets;
	struct hist_bucket stall_histogram[RC_HIST_SLOTS];
	uint32_t nr_processes, nr_top;
	struct proc_row top_processes[MEMCG_TOP_PROCS];
};

extern const struct record_desc memcg_desc;

struct memcg_list {
	struct memcg_row *r;
	size_t n, cap;
};

/*
 * Every memory cgroup at or below rel ("/" or NULL: all), read now; returns how many,
 * -1 (errno set) without a memory hierarchy. Parents come before children.
 */
int memcgs_read(const char *rel, struct memcg_list *out);
void memcg_list_free(struct memcg_list *l);

/* Pure parts, for the unit tests. */
/* The value of key in a "key value" file (memory.stat, memory.events). */
bool memcg_kv(const char *text, const char *key, uint64_t *value);
/* What the path says the cgroup is: systemd unit, container, pod (row fields). */
void memcg_names(const char *path, struct memcg_row *row);

#endif
