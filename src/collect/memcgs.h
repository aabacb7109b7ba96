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
	char path[4096];	 /* as /proc/PID/cgroup names it: whole (a name alone may
				  * take 255 bytes, and they nest) */
	char container[128];	 /* systemd unit, docker:/containerd:ID, k8s pod; null: none */
	char pod_uid[40], qos_class[16];
	uint64_t id;		 /* kernfs id: the directory's inode number */
	uint32_t version, depth;
	uint64_t usage_bytes, limit_bytes;
	double limit_used_percent;
	uint64_t peak_bytes;
	uint64_t high_bytes, low_bytes, min_bytes, soft_limit_bytes;
	uint64_t anon_bytes, file_bytes, active_anon_bytes, inactive_anon_bytes;
	uint64_t active_file_bytes, inactive_file_bytes, unevictable_bytes, shmem_bytes;
	uint64_t file_mapped_bytes, file_dirty_bytes, file_writeback_bytes;
	uint64_t kernel_bytes, slab_bytes, sock_bytes, page_tables_bytes;
	uint64_t swap_bytes, swap_limit_bytes;
	uint64_t working_set_bytes;	    /* usage - inactive_file, as cAdvisor */
	uint64_t working_set_refault_bytes; /* live: anon + active_file + file refaulted */
	uint64_t refault_anon_pages, refault_file_pages, activate_anon_pages, activate_file_pages;
	uint64_t faults, major_faults;
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
/* The row of the cgroup with this kernfs id, or NULL. */
struct memcg_row *memcg_list_find(struct memcg_list *l, uint64_t id);

/* Kernfs ids, sorted. */
struct memcg_ids {
	uint64_t *id;
	size_t n, cap;
};
bool memcg_ids_has(const struct memcg_ids *s, uint64_t id);
/* Add an id; memcg_ids_sort before the next memcg_ids_has. */
void memcg_ids_add(struct memcg_ids *s, uint64_t id);
void memcg_ids_sort(struct memcg_ids *s);
void memcg_ids_free(struct memcg_ids *s);

/*
 * The kernel's counters of every memory cgroup in one pass of a BPF cgroup iterator
 * (6.1+): usage, limits, peak, swap, events, v1's failcnt, kmem and soft limit, as the
 * files print them. NULL where the iterator cannot run: memcgs_read_top reads files.
 */
struct memcg_counters;
struct memcg_counters *memcg_counters_open(void);
void memcg_counters_close(struct memcg_counters *c);

/*
 * At most n memory cgroups at or below rel, the root not among them (the system's
 * figures are the root's): those whose id is in first ahead, then the largest by usage
 * (ties by path). With c, one iterator pass gives every cgroup's counters and only
 * memory.stat (and v2's memory.pressure) of the n is read, from files held open while
 * the cgroup is served; without it (or when the pass fails), the tree is walked, each
 * cgroup's usage file read, and the n read whole. all (NULL: not wanted): the id of
 * every cgroup seen, at or below rel or not. Returns how many were read, -1 (errno
 * set) without a memory hierarchy.
 */
int memcgs_read_top(struct memcg_counters *c, const char *rel, size_t n,
		    const struct memcg_ids *first, struct memcg_ids *all, struct memcg_list *out);

/* What BPF attributed to each memory cgroup: reclaim summed over reclaimers, kills. */
struct memcg_attributed {
	uint64_t id;
	struct rc_memcg m;
	uint64_t kills;
};

struct memcg_attribution {
	struct memcg_attributed *a;
	size_t n, cap;
};

/* The entry of a cgroup, added (zero) when missing. */
struct memcg_attributed *memcg_attributed_of(struct memcg_attribution *t, uint64_t id);
const struct memcg_attributed *memcg_attributed_find(const struct memcg_attribution *t,
						     uint64_t id);
/* Empty t, then add reclaim's --by-memcg map (since the programs were attached). */
void memcg_attribution_read(struct memcg_attribution *t, struct reclaim *r);
void memcg_attribution_free(struct memcg_attribution *t);
/* The live fields of a row: now minus before (either NULL: nothing; before NULL: all). */
void memcg_fill_live(struct memcg_row *r, const struct memcg_attributed *now,
		     const struct memcg_attributed *before);
/* The refault estimate of the working set, from the file pages refaulted since prev (the
 * same cgroup read earlier; NULL: the field stays null). */
void memcg_add_refaults(struct memcg_row *r, const struct memcg_row *prev);

/* Pure parts, for the unit tests. */
/* The value of key in a "key value" file (memory.stat, memory.events). */
bool memcg_kv(const char *text, const char *key, uint64_t *value);
/* What the path says the cgroup is: systemd unit, container, pod (row fields). */
void memcg_names(const char *path, struct memcg_row *row);

#endif
