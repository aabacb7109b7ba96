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
#include "oom.h"

struct kills_want {
	bool stack; /* the invoking task's kernel stack */
	bool node;  /* the node's state at the kill */
	bool adj;   /* oom_score_adj changes */
};

struct kills;
/* Load and attach; exits 1 on failure. */
struct kills *kills_open(const struct kills_want *w);
int kills_events_fd(struct kills *k);
/* The kind of hook that reads struct oom_control ("fentry", "kprobe"), or NULL. */
const char *kills_control_hook(const struct kills *k);
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

#define KILLS_NR_HOOKS 7
extern const struct hook_spec kills_hooks[KILLS_NR_HOOKS];

#endif
