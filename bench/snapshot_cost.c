// SPDX-License-Identifier: GPL-2.0
/*
 * B3 in-process: the cost of one more whole-system snapshot inside a running
 * memscope (proc's own code: one task-iterator pass, sorted). Prints the median
 * of N runs in microseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <linux/types.h>
#include "commands.h"
#include "proc.h"
#include "runtime.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 21;
	struct proc_snap *ps;
	struct proc_rec top;
	double *us = calloc(n, sizeof(*us));

	ms_runtime_init(false);
	ps = proc_snap_open();
	proc_snap_top(ps, &top, 1); /* warm-up */
	for (int i = 0; i < n; i++) {
		uint64_t t0 = ms_now_ns();

		proc_snap_top(ps, &top, 1);
		us[i] = (ms_now_ns() - t0) / 1e3;
	}
	qsort(us, n, sizeof(*us), cmp);
	printf("%.1f\n", us[n / 2]);
	proc_snap_close(ps);
	return 0;
}
