// SPDX-License-Identifier: GPL-2.0
/*
 * B9: nanoseconds per malloc+free pair. Prints "ready", waits for a line on stdin (so a
 * tracer can attach to this pid first), then times N pairs and prints ns per pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void *volatile sink;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	struct timespec a, b;
	char line[16];

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		sink = malloc(64);
		free(sink);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
