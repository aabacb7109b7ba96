// SPDX-License-Identifier: GPL-2.0
/*
 * Test workload with a known memory footprint.
 *   workload [--name BYTES] [--anon MiB] [--file MiB:PATH] [--shm MiB] [--stack MiB]
 *            [--stop] [--grow MiB --every SEC --steps N]
 * Touches every page so the RSS counters move; --stop SIGSTOPs itself when set up
 * (the counters are then stable); --grow adds anonymous memory step by step; --name
 * gives the process any name (prctl takes any bytes, the kernel keeps 15), first.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define MiB (1UL << 20)

static void touch(char *p, size_t len)
{
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
}

static char *map_or_die(size_t len, int prot, int flags, int fd)
{
	char *p = mmap(NULL, len, prot, flags, fd, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* Grow the stack by about `left` bytes with a frame that really uses its memory. */
static __attribute__((noinline)) int grow_stack(size_t left)
{
	volatile char frame[64 * 1024];

	memset((char *)frame, 1, sizeof(frame));
	if (left <= sizeof(frame))
		return frame[0];
	return grow_stack(left - sizeof(frame)) + frame[1];
}

int main(int argc, char **argv)
{
	double every = 0.5;
	long grow = 0, steps = 0;
	int stop = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";

		if (!strcmp(a, "--name")) {
			prctl(PR_SET_NAME, v, 0, 0, 0);
			i++;
		} else if (!strcmp(a, "--anon")) {
			size_t len = atol(v) * MiB;

			touch(map_or_die(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1),
			      len);
			i++;
		} else if (!strcmp(a, "--file")) {
			size_t len = atol(v) * MiB;
			const char *path = strchr(v, ':') + 1;
			int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

			if (fd < 0 || ftruncate(fd, len)) {
				perror(path);
				return 1;
			}
			/* Private read-only mapping of a file: file pages, not shmem or anon. */
			char *p = map_or_die(len, PROT_READ, MAP_SHARED, fd);
			volatile char sink = 0;

			for (size_t off = 0; off < len; off += 4096)
				sink += p[off];
			(void)sink;
			i++;
		} else if (!strcmp(a, "--shm")) {
			size_t len = atol(v) * MiB;
			int fd = memfd_create("memscope-test", 0);

			if (fd < 0 || ftruncate(fd, len)) {
				perror("memfd");
				return 1;
			}
			touch(map_or_die(len, PROT_READ | PROT_WRITE, MAP_SHARED, fd), len);
			i++;
		} else if (!strcmp(a, "--stack")) {
			grow_stack(atol(v) * MiB);
			i++;
		} else if (!strcmp(a, "--stop")) {
			stop = 1;
		} else if (!strcmp(a, "--grow")) {
			grow = atol(v);
			i++;
		} else if (!strcmp(a, "--every")) {
			every = atof(v);
			i++;
		} else if (!strcmp(a, "--steps")) {
			steps = atol(v);
			i++;
		} else {
			fprintf(stderr, "workload: unknown argument %s\n", a);
			return 2;
		}
	}
	printf("ready\n");
	fflush(stdout);
	if (stop)
		raise(SIGSTOP);
	for (long s = 0; s < steps; s++) {
		struct timespec ts = { (time_t)every, (long)((every - (time_t)every) * 1e9) };
		size_t len = grow * MiB;

		touch(map_or_die(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1), len);
		nanosleep(&ts, NULL);
	}
	if (stop)
		raise(SIGSTOP);
	return 0;
}
