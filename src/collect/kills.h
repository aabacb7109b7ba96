/* SPDX-License-Identifier: GPL-2.0 */
/*
 * OOM kills: oom:mark_victim hands over the victim (its mm is read there, before the
 * reaper empties it), the reaper's tracepoints follow; struct oom_control (the kernel's
 * own constraint) comes from a function hook on oom_kill_process where one works;
 * oom_score_adj changes on request. All rare: one struct oom_event each.
 */
#ifndef MEMSCOPE_COLLECT_KILLS_H
#define MEMSCOPE_COLLECT_KILLS_H

#include <stdbool.h>
#include "hooks.h"
#include "memcgs.h"
#include "nodes.h"
#include "oom.h"
#include "procs.h"
#include "record.h"

struct kills_want {
	bool stack; /* the invoking task's kernel stack */
	bool node;  /* the node's state at the kill */
	bool adj;   /* oom_score_adj changes */
	unsigned int ring_bytes; /* the event ring buffer (a power of 2 pages); 0: default */
};

struct kills;
/* Load and attach; exits 1 on failure. */
struct kills *kills_open(const struct kills_want *w);
int kills_events_fd(struct kills *k);
/* The kind of hook that reads struct oom_control ("fentry", "kprobe"), or NULL. */
const char *kills_control_hook(const struct kills *k);
/*
 * Does each kill name its victim's memory cgroup? Not where mark_victim gives only the
 * pid, or the classic record without a way to look its task up: then only the
 * trigger's (memcg_of_trigger), and no count per cgroup can be had.
 */
bool kills_victim_memcg(const struct kills *k);
/* A kill naming its victim's memory cgroup: true, with that cgroup's id. */
bool kill_victim_memcg_id(const struct oom_event *e, uint64_t *id);
const volatile unsigned long long *kills_lost(struct kills *k);
void kills_close(struct kills *k);

/* A kill as the health report lists it. */
struct oom_victim {
	int pid;
	char comm[MS_COMM_LEN + 1];
	char memcg[256]; /* the kernel's name of the memory cgroup, "" when unknown */
	bool has_sizes;	 /* false: this kernel's mark_victim gives only the pid */
	unsigned long long rss_anon_bytes;
};
/* The kills among events delivered so far (up to max). */
int kills_victims(struct kills *k, struct oom_victim *out, int max);

/* The kill's constraint: the kernel's own (oom_control), derived, or unavailable. */
struct kill_verdict {
	const char *path; /* the memory cgroup's name, or NULL */
	bool limited, at_limit;
	const char *constraint; /* NULL: unknown */
	char why[256], cname[48];
	char path_buf[4096]; /* whole: a cgroup's name alone may take 255 bytes */
};
/* control: the kill's struct oom_control event, NULL without; hook: the hook that read it. */
void kill_explain(const struct oom_event *e, const struct oom_event *control, const char *hook,
		  struct kill_verdict *v);

/* struct oom_control events wait here for their kill's mark_victim (the same pid). */
struct kill_controls {
	struct oom_event ev[16];
	int n;
	struct oom_event taken; /* the last one matched: each goes with one kill */
};
/*
 * Feed the next event of the ring: a control event is kept (16 at most: past that the
 * oldest goes); a kill returns true with its control event in *control (NULL: none
 * seen). Other kinds return false.
 */
bool kill_controls_take(struct kill_controls *c, const struct oom_event *e,
			const struct oom_event **control);

#define KILLS_NR_HOOKS 7
extern const struct hook_spec kills_hooks[KILLS_NR_HOOKS];


/* ---- the "oom" record: one kill ---- */

#define OOM_TOP_N	  5  /* of the whole system */
#define OOM_MEMCG_TASKS 16 /* of the memory cgroup of a memcg OOM */

struct oom_victim_row {
	uint64_t null_mask;
	uint32_t pid;
	char comm[MS_COMM_LEN];
	uint32_t uid;
	int32_t oom_score_adj;
	uint64_t vsz_bytes, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes;
	uint64_t page_tables_bytes;
	bool exact;
};

struct oom_trigger_row {
	uint64_t null_mask;
	uint32_t pid, tid;
	char comm[MS_COMM_LEN];
	uint32_t nr_stack;
	char stack[OOM_MAX_STACK][96];
};

struct oom_memcg_row {
	uint64_t null_mask;
	char path[256];
	char of[8]; /* "victim", or "trigger" when the victim's task was not at hand */
	uint64_t id, usage_bytes, limit_bytes;
	bool at_limit;
};

struct oom_control_row {
	uint64_t null_mask;
	char memcg[256];
	int32_t order;
	uint64_t gfp, total_pages;
	int64_t chosen_points;
};

struct oom_reaper_row {
	uint64_t null_mask;
	uint64_t woken_after_ns, reaping_ns;
	bool skipped, woken;
};

struct oom_detail_row {
	uint64_t null_mask;
	struct node_row node;
	uint32_t nr_zones, nr_top;
	struct zone_row zones[SYS_MAX_ZONES];
	char tasks_of[8]; /* "memcg" or "system" */
	uint32_t nr_tasks;
	struct proc_row top_processes_after[OOM_MEMCG_TASKS];
	struct memcg_row memcg;
};

struct oom_row {
	uint64_t null_mask;
	struct oom_victim_row victim;
	struct oom_trigger_row trigger;
	char constraint[16];
	char constraint_source[256];
	struct oom_memcg_row memcg;
	struct oom_control_row oom_control;
	struct oom_reaper_row reaper;
	struct oom_detail_row detail;
};

/* oom --adj: an oom_score_adj change. */
struct oom_adj_row {
	uint64_t null_mask;
	uint32_t pid;
	char comm[MS_COMM_LEN];
	int32_t oom_score_adj;
	uint32_t by_pid;
	char by_comm[MS_COMM_LEN];
};

extern const struct record_desc oom_adj_desc;
extern const struct record_desc oom_desc, oom_victim_desc, oom_trigger_desc, oom_memcg_desc,
	oom_control_desc, oom_reaper_desc, oom_detail_desc;

struct ksyms;
/*
 * The parts of the "oom" record a kill's events give: victim, trigger (its kernel stack
 * resolved with ks; NULL: stack null), constraint, memcg and oom_control (control NULL:
 * null). reaper and detail are left zero: the caller that followed them fills them in,
 * or marks them null.
 */
void kill_row_of_events(const struct oom_event *e, const struct oom_event *control,
			const struct kill_verdict *v, struct ksyms *ks, struct oom_row *r);
/* The victim part from the event; sizes null where the kernel gave only the pid. */
void oom_victim_row_of(const struct oom_event *e, struct oom_victim_row *v);

#endif
