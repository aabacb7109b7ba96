/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Processes: each one's memory as its mm_struct holds it, exact (the per-CPU parts
 * of the RSS counters summed in, as /proc/PID/status shows them). A snapshot is one
 * pass of a BPF task iterator; live mode makes one per interval and hooks nothing.
 */
#ifndef MEMSCOPE_COLLECT_PROCS_H
#define MEMSCOPE_COLLECT_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "filters.h"
#include "loss.h"
#include "proc.h"
#include "record.h"

struct proc_list {
	struct proc_rec *r;
	size_t n, cap;
};

void proc_list_push(struct proc_list *l, const struct proc_rec *r);
void proc_list_copy(struct proc_list *to, const struct proc_list *from);
void proc_list_sort_pid(struct proc_list *l);
/* In a list sorted by pid. */
const struct proc_rec *proc_list_find(const struct proc_list *l, __u32 pid);
void proc_list_free(struct proc_list *l);
/* Largest resident first (ties by pid), as the top lists show them. */
void proc_list_sort_rss(struct proc_list *l);

struct procs;
/* Load the task iterator; exits 1 on failure. */
struct procs *procs_open(const struct ms_filter *f);
/* Every matching process, exact, sorted by pid: one pass of the iterator. */
void procs_snapshot(struct procs *p, struct proc_list *out);
/*
 * Pids are the root PID namespace's (the kernel's own numbers), in every record:
 * memscope's own as they number it, known after a snapshot (0 before).
 */
__u32 procs_self_pid(const struct procs *p);
/*
 * After a snapshot: memscope runs in a PID namespace of its own (a container), whose
 * task iterator sees only that namespace's processes.
 */
bool procs_pid_namespace(const struct procs *p);
/* What the views say of that (without the task iterator, no other list can be had). */
#define PROCS_PIDNS_SCOPE "in a PID namespace: only its own processes, with the host's pids"
/*
 * Live: also take each process's last values as its thread group ends (6.16+, where
 * sched_process_exit still sees the mm). False, with why, where that cannot be had;
 * call after a first snapshot.
 */
bool procs_watch_exits(struct procs *p, const char **why);
/* The processes that ended since the last call, with their last values, by pid. */
void procs_exited(struct procs *p, struct proc_list *out);
/* What the exit ring could not hold (NULL when exits are not watched). */
struct ms_loss *procs_exit_loss(struct procs *p);
void procs_close(struct procs *p);

/* ---- the "proc" record ---- */

struct proc_row {
	uint64_t null_mask;
	__u32 pid;
	char comm[MS_COMM_LEN];
	uint64_t rss_bytes, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes;
	uint64_t vsz_bytes, hwm_bytes, data_bytes, stack_bytes, page_tables_bytes;
	int64_t rss_delta_bytes, rss_anon_delta_bytes; /* live: null on the first sight */
	bool exact;
	bool exited; /* live: its thread group ended; these are its last values */
	char cgroup[256]; /* its memory cgroup, "/a/b"; null when unknown */
};

/* The "proc" record (the deltas are null in a snapshot). */
extern const struct record_desc proc_desc;

/* The row of r; prev: the same process in the previous report (NULL: none). */
void proc_row_of(const struct proc_rec *r, const struct proc_rec *prev, struct proc_row *row);
/* RSS (anon + file + shmem) in pages, each counter clamped at 0 as the kernel does. */
uint64_t proc_rss_pages(const struct proc_rec *r);

#endif
