/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page allocation failures: kmem:mm_page_alloc ends every page allocation and carries
 * no page when it failed; each thread's slow path (direct reclaim, compaction,
 * retries) is kept as a story the failure takes along, with the node's zone state at
 * that instant. Either one event per failure, or counts per (order, gfp, comm).
 */
#ifndef MEMSCOPE_COLLECT_FAILURES_H
#define MEMSCOPE_COLLECT_FAILURES_H

#include <stdbool.h>
#include <linux/types.h>
#include "filters.h"
#include "hooks.h"
#include "paf.h"

struct failures_want {
	bool events; /* one struct paf_event per failure (else counts only) */
	bool stack;  /* with the kernel stack */
	int order_eq, order_min; /* -1: any */
};

struct failures;
/* Load and attach; exits 1 on failure. */
struct failures *failures_open(const struct ms_filter *f, const struct failures_want *w);
int failures_events_fd(struct failures *fl);
/* Counts per (order, gfp, comm); take: and clear them. */
void failures_each_count(struct failures *fl, bool take,
			 void (*cb)(const struct paf_key *k, __u64 n, void *ctx), void *ctx);

struct failures_totals {
	unsigned long long failures, lost, filtered;
	int worst_order; /* -1 when none */
	char worst_comm[MS_COMM_LEN + 1];
};
void failures_totals(struct failures *fl, struct failures_totals *t);
void failures_close(struct failures *fl);

#define FAILURES_NR_HOOKS 6
extern const struct hook_spec failures_hooks[FAILURES_NR_HOOKS];

#endif
