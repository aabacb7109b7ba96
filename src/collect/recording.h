/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A flight recording read back (collect/flight.h): its samples in a window with the
 * figures the report shows and plots, the largest processes of each interval, and
 * the incidents: the recorded events, plus what the report derives (runs of reclaim
 * stalls, pressure peaks, snapshots).
 */
#ifndef MEMSCOPE_COLLECT_RECORDING_H
#define MEMSCOPE_COLLECT_RECORDING_H

#include <stdbool.h>
#include <stdint.h>
#include "flight.h"

#define PEAK_PSI 10.0 /* percent, some avg10: a pressure peak */

/* The memory of a sample, from the node table's total row (bytes). */
enum { MEM_USED, MEM_AVAILABLE, MEM_FREE, MEM_ANON, MEM_FILE, MEM_SLAB, MEM_KERNEL_OTHER,
       MEM_TOTAL, MEM_NR };

struct rproc {
	int sample; /* index in recording.s */
	int pid;
	char comm[16];
	uint64_t rss;
};

struct rsample {
	int64_t id;
	double ts;
	bool snapshot;
	char reason[64];
	bool has_psi, has_mem, has_reclaim, has_top;
	double psi_some, psi_full; /* avg10, percent */
	int64_t failures, oom_kills; /* -1: not counted (a snapshot) */
	uint64_t mem[MEM_NR];
	uint64_t wmark[3]; /* the zones' min, low and high summed */
	uint64_t scanned, reclaimed, stalls, p50, p99;
	struct rproc top;
};

struct revent {
	double ts;
	char kind[16]; /* the event's; "failure_allowed": a failure its caller allowed */
	char summary[320];
	char *record; /* JSON text; NULL for a derived incident */
	int64_t snapshot_id; /* 0: none */
	bool derived;
};

struct recording {
	double from, to;
	struct rsample *s; /* by id (time order) */
	int n;
	struct rproc *proc; /* each interval's recorded processes, largest first */
	int nproc;
	struct revent *ev; /* by time */
	int nev;
};

void recording_load(struct flight *f, double from, double to, struct recording *r);
void recording_free(struct recording *r);

#endif
