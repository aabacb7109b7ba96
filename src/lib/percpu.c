// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "percpu.h"

void percpu_fold(const uint64_t *vals, int ncpus, size_t words, uint64_t max_mask,
		 uint64_t *out)
{
	memset(out, 0, words * sizeof(*out));
	for (int c = 0; c < ncpus; c++)
		for (size_t w = 0; w < words; w++) {
			uint64_t v = vals[c * words + w];

			if (w < 64 && (max_mask & PERCPU_MAX_WORD(w)))
				out[w] = v > out[w] ? v : out[w];
			else
				out[w] += v;
		}
}
