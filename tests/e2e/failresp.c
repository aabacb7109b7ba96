// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD for the exporter's tests: every MHD_create_response_from_buffer that would
 * own its buffer (MHD_RESPMEM_MUST_FREE: a scrape's text) fails, as it does when memory
 * is short, and free() notes whether the caller gives those buffers back. At exit it
 * writes "failed N freed M" to $FAILRESP_REPORT.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <microhttpd.h>

#define HELD_MAX 256

static void *held[HELD_MAX];
static int nheld, freed; /* held[] is written by MHD's thread only */

extern void __libc_free(void *p);

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buf,
						     enum MHD_ResponseMemoryMode mode)
{
	static struct MHD_Response *(*real)(size_t, void *, enum MHD_ResponseMemoryMode);
	int n = __atomic_load_n(&nheld, __ATOMIC_ACQUIRE);

	if (mode == MHD_RESPMEM_MUST_FREE && n < HELD_MAX) {
		__atomic_store_n(&held[n], buf, __ATOMIC_RELAXED);
		__atomic_store_n(&nheld, n + 1, __ATOMIC_RELEASE);
		return NULL;
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "MHD_create_response_from_buffer");
	return real(size, buf, mode);
}

void free(void *p)
{
	int n = __atomic_load_n(&nheld, __ATOMIC_ACQUIRE);

	for (int i = 0; p && i < n; i++)
		if (__atomic_compare_exchange_n(&held[i], &(void *){ p }, NULL, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			__atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED);
	__libc_free(p);
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("FAILRESP_REPORT");
	FILE *f = path ? fopen(path, "w") : NULL;

	if (!f)
		return;
	fprintf(f, "failed %d freed %d\n", __atomic_load_n(&nheld, __ATOMIC_ACQUIRE),
		__atomic_load_n(&freed, __ATOMIC_RELAXED));
	fclose(f);
}
