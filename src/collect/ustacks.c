// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "leak.h"
#include "runtime.h"
#include "ustacks.h"

struct stack {
	uint64_t hash;
	uint32_t refs; /* allocations (seqs) that have it; 0: a free number */
	int n;
	uint64_t pcs[LEAK_STACK_DEPTH];
};

struct seq_entry {
	uint64_t seq;
	uint32_t id;
	bool live;
};

struct ustacks {
	struct stack *stacks; /* id - 1 */
	uint32_t nstacks, cap_stacks; /* numbers given out, held or free */
	uint32_t held;	      /* stacks with refs > 0 */
	uint32_t *free_ids;   /* numbers of forgotten stacks, for reuse */
	uint32_t nfree, cap_free;
	uint32_t *index;      /* open addressing by hash: id, 0 when empty */
	uint32_t index_size;  /* a power of two, at least twice held */
	struct seq_entry *seqs;
	size_t nseqs, cap_seqs;
	bool sorted;
};

static void *grow(void *p, size_t n, size_t size)
{
	if (!(p = realloc(p, n * size)))
		ms_fatal("out of memory");
	return p;
}

struct ustacks *ustacks_new(void)
{
	struct ustacks *u = calloc(1, sizeof(*u));

	if (!u)
		ms_fatal("out of memory");
	u->index_size = 1024;
	u->index = calloc(u->index_size, sizeof(*u->index));
	u->sorted = true;
	if (!u->index)
		ms_fatal("out of memory");
	return u;
}

void ustacks_free(struct ustacks *u)
{
	if (!u)
		return;
	free(u->stacks);
	free(u->free_ids);
	free(u->index);
	free(u->seqs);
	free(u);
}

static uint64_t hash_pcs(const uint64_t *pcs, int n)
{
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < n; i++)
		h = (h ^ pcs[i]) * 1099511628211ULL;
	return h ? h : 1;
}

/* The index again, of the held stacks only (size: a power of two, > 2 * held). */
static void reindex(struct ustacks *u, uint32_t size)
{
	free(u->index);
	u->index_size = size;
	u->index = calloc(u->index_size, sizeof(*u->index));
	if (!u->index)
		ms_fatal("out of memory");
	for (uint32_t id = 1; id <= u->nstacks; id++) {
		uint32_t slot = u->stacks[id - 1].hash & (u->index_size - 1);

		if (!u->stacks[id - 1].refs)
			continue;
		while (u->index[slot])
			slot = (slot + 1) & (u->index_size - 1);
		u->index[slot] = id;
	}
}

/* A number for a new stack: a forgotten one's, or the next. */
static uint32_t new_id(struct ustacks *u)
{
	if (u->nfree)
		return u->free_ids[--u->nfree];
	if (u->nstacks == u->cap_stacks) {
		u->cap_stacks = u->cap_stacks ? 2 * u->cap_stacks : 64;
		u->stacks = grow(u->stacks, u->cap_stacks, sizeof(*u->stacks));
	}
	return ++u->nstacks;
}

/* The stack's number, one more allocation counted on it; 0 at the bound. */
static uint32_t intern(struct ustacks *u, const uint64_t *pcs, int n)
{
	uint64_t h = hash_pcs(pcs, n);
	uint32_t slot = h & (u->index_size - 1), id;
	struct stack *s;

	for (; (id = u->index[slot]); slot = (slot + 1) & (u->index_size - 1)) {
		s = &u->stacks[id - 1];
		if (s->hash == h && s->n == n && !memcmp(s->pcs, pcs, n * sizeof(*pcs))) {
			s->refs++;
			return id;
		}
	}
	if (u->held == USTACKS_MAX)
		return 0;
	id = new_id(u);
	s = &u->stacks[id - 1];
	*s = (struct stack){ .hash = h, .refs = 1, .n = n };
	memcpy(s->pcs, pcs, n * sizeof(*pcs));
	u->index[slot] = id;
	if (2 * ++u->held > u->index_size)
		reindex(u, 2 * u->index_size);
	return id;
}

bool ustacks_add(struct ustacks *u, uint64_t seq, const uint64_t *pcs, int n)
{
	uint32_t id;

	if (n > LEAK_STACK_DEPTH)
		n = LEAK_STACK_DEPTH;
	if (!(id = intern(u, pcs, n)))
		return false;
	if (u->nseqs == u->cap_seqs) {
		u->cap_seqs = u->cap_seqs ? 2 * u->cap_seqs : 1024;
		u->seqs = grow(u->seqs, u->cap_seqs, sizeof(*u->seqs));
	}
	/* the CPUs' records interleave: mostly in order, not always */
	if (u->nseqs && u->seqs[u->nseqs - 1].seq > seq)
		u->sorted = false;
	u->seqs[u->nseqs++] = (struct seq_entry){ seq, id, false };
	return true;
}

static int cmp_seq(const void *x, const void *y)
{
	const struct seq_entry *a = x, *b = y;

	return (a->seq > b->seq) - (a->seq < b->seq);
}

uint32_t ustacks_of(struct ustacks *u, uint64_t seq)
{
	struct seq_entry key = { .seq = seq }, *e;

	if (!u->sorted && u->nseqs)
		qsort(u->seqs, u->nseqs, sizeof(*u->seqs), cmp_seq);
	u->sorted = true;
	e = u->nseqs ? bsearch(&key, u->seqs, u->nseqs, sizeof(key), cmp_seq) : NULL;
	if (!e)
		return 0;
	e->live = true;
	return e->id;
}

/* One allocation fewer on stack id; when none is left, its number is free. */
static bool unref(struct ustacks *u, uint32_t id)
{
	struct stack *s = &u->stacks[id - 1];

	if (--s->refs)
		return false;
	if (u->nfree == u->cap_free) {
		u->cap_free = u->cap_free ? 2 * u->cap_free : 64;
		u->free_ids = grow(u->free_ids, u->cap_free, sizeof(*u->free_ids));
	}
	u->free_ids[u->nfree++] = id;
	u->held--;
	return true;
}

void ustacks_sweep(struct ustacks *u)
{
	size_t k = 0;
	bool forgot = false;

	for (size_t i = 0; i < u->nseqs; i++) {
		if (!u->seqs[i].live) {
			forgot |= unref(u, u->seqs[i].id);
			continue;
		}
		u->seqs[i].live = false;
		u->seqs[k++] = u->seqs[i];
	}
	u->nseqs = k;
	if (forgot)
		reindex(u, u->index_size);
}

int ustacks_get(const struct ustacks *u, uint32_t id, uint64_t *pcs, int max)
{
	const struct stack *s;
	int n;

	if (!id || id > u->nstacks || !u->stacks[id - 1].refs)
		return 0;
	s = &u->stacks[id - 1];
	n = s->n < max ? s->n : max;
	memcpy(pcs, s->pcs, n * sizeof(*pcs));
	return n;
}

uint32_t ustacks_count(const struct ustacks *u)
{
	return u->held;
}
