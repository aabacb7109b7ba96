/* SPDX-License-Identifier: GPL-2.0 */
/* Folding the per-CPU copies of a BPF per-CPU array value into one. */
#ifndef MEMSCOPE_PERCPU_H
#define MEMSCOPE_PERCPU_H

#include <stddef.h>
#include <stdint.h>

/* Bit w set: word w is a maximum (the largest copy wins), not a count (summed). */
#define PERCPU_MAX_WORD(w) (1ULL << (w))

/*
 * vals holds ncpus copies of a struct of `words` u64s, one after the other; out
 * gets their sum word by word, except the words in max_mask, which get the largest.
 */
void percpu_fold(const uint64_t *vals, int ncpus, size_t words, uint64_t max_mask,
		 uint64_t *out);

#endif
