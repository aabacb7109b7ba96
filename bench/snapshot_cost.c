// SPDX-License-Identifier: GPL-2.0
/*
 * B3 in-process: the cost of one more whole-system snapshot inside a running
 * memscope (the process collector's own code: one task-iterator pass, sorted by RSS,
 * as the top lists do). Prints the median
 * of N runs in microseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <linux/types.h>
#include "procs.h"
#include "runtime.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 21;
	static const struct ms_filter all;
	struct proc_list l = { 0 };
	struct procs *p;
	double *us = calloc(n, sizeof(*us));

	ms_runtime_init(false);
	p = procs_open(&all);
	procs_snapshot(p, &l); /* warm-up */
	for (int i = 0; i < n; i++) {
		uint64_t t0 = ms_now_ns();

		procs_snapshot(p, &l);
		proc_list_sort_rss(&l);
		us[i] = (ms_now_ns() - t0) / 1e3;
	}
	qsort(us, n, sizeof(*us), cmp);
	printf("%.1f\n", us[n / 2]);
	procs_close(p);
	proc_list_free(&l);
	return 0;
}
