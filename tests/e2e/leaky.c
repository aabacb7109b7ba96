// SPDX-License-Identifier: GPL-2.0
/*
 * memscope leak's test program. "ready" on stdout, then on a line of stdin:
 * leaky_caller() -> leaky_function() leaks 100 blocks of 64 KiB (6,553,600 bytes)
 * through the allocator named by argv[1], "done" on stdout, then balanced_function()
 * allocates and frees forever, until killed: once every millisecond, or as fast as it
 * can with argv[1] "churn" (whose leak is malloc's). With argv[1] "stacks" (a malloc
 * leak too), instead, each further line "FIRST N" allocates and frees 64 bytes from N
 * distinct stacks, FIRST to FIRST + N - 1 of the 2048 fork_path() makes, then "done".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 65536
#define COUNT 100

void *tst_malloc(size_t size);
void tst_free(void *p);

static const char *mode;
void *volatile keep[COUNT];
void *volatile sink;

__attribute__((noinline)) void *leaky_function(void)
{
	void *p = NULL;

	if (!strcmp(mode, "calloc"))
		p = calloc(BLOCK / 64, 64);
	else if (!strcmp(mode, "realloc"))
		p = realloc(malloc(16), BLOCK); /* the 16 bytes are realloc's to free */
	else if (!strcmp(mode, "posix_memalign"))
		p = posix_memalign(&p, 64, BLOCK) ? NULL : p;
	else if (!strcmp(mode, "prefix"))
		p = tst_malloc(BLOCK);
	else
		p = malloc(BLOCK);
	return p;
}

__attribute__((noinline)) void leaky_caller(void)
{
	for (int i = 0; i < COUNT; i++)
		keep[i] = leaky_function();
}

__attribute__((noinline)) void balanced_function(void)
{
	if (!strcmp(mode, "prefix")) {
		sink = tst_malloc(BLOCK);
		tst_free(sink);
	} else {
		sink = malloc(BLOCK);
		free(sink);
	}
}

volatile int lefts, rights;

/* Stack number path: at each of 11 levels, one of two call sites (path's bits). */
__attribute__((noinline)) void fork_path(unsigned int path, int level)
{
	if (!level) {
		sink = malloc(64);
		free(sink);
	} else if (path & 1) {
		fork_path(path >> 1, level - 1);
		rights++; /* unlike the other side's: two return addresses */
	} else {
		fork_path(path >> 1, level - 1);
		lefts++;
	}
}

static void stack_rounds(void)
{
	char line[64];
	unsigned int first, n;

	while (fgets(line, sizeof(line), stdin) && sscanf(line, "%u %u", &first, &n) == 2) {
		for (unsigned int p = first; p < first + n; p++)
			fork_path(p, 11);
		printf("done\n");
	}
}

int main(int argc, char **argv)
{
	char line[16];

	mode = argc > 1 ? argv[1] : "malloc";
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	leaky_caller();
	printf("done\n");
	if (!strcmp(mode, "stacks")) {
		stack_rounds();
		return 0;
	}
	for (;;) {
		balanced_function();
		if (strcmp(mode, "churn"))
			usleep(1000);
	}
}
