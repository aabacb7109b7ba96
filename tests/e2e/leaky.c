// SPDX-License-Identifier: GPL-2.0
/*
 * memscope leak's test program. "ready" on stdout, then on a line of stdin:
 * leaky_caller() -> leaky_function() leaks 100 blocks of 64 KiB (6,553,600 bytes)
 * through the allocator named by argv[1], "done" on stdout, then balanced_function()
 * allocates and frees forever, until killed: once every millisecond, or as fast as it
 * can with argv[1] "churn" (whose leak is malloc's).
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
	for (;;) {
		balanced_function();
		if (strcmp(mode, "churn"))
			usleep(1000);
	}
}
