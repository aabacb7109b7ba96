// SPDX-License-Identifier: GPL-2.0
/* A prefixed allocator for memscope leak's --symbol-prefix test: a bump arena. */
#include <stddef.h>

static char arena[64 << 20];
static size_t used;

void *tst_malloc(size_t size)
{
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (size > sizeof(arena) - used)
		used = 0; /* a test allocator: wraps around */
	p = arena + used;
	used += size;
	return p;
}

void tst_free(void *p)
{
	(void)p;
}
