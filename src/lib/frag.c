// SPDX-License-Identifier: GPL-2.0
#include "frag.h"

struct contig_info {
	uint64_t free_pages, free_blocks_total, free_blocks_suitable;
};

static struct contig_info contig(const uint64_t *nr_free, int nr_orders, int suitable_order)
{
	struct contig_info ci = { 0 };

	for (int o = 0; o < nr_orders; o++) {
		ci.free_blocks_total += nr_free[o];
		ci.free_pages += nr_free[o] << o;
		if (o >= suitable_order)
			ci.free_blocks_suitable += nr_free[o] << (o - suitable_order);
	}
	return ci;
}

int frag_unusable_index(const uint64_t *nr_free, int nr_orders, int order)
{
	struct contig_info ci = contig(nr_free, nr_orders, order);

	if (!ci.free_pages)
		return 1000;
	return ((ci.free_pages - (ci.free_blocks_suitable << order)) * 1000ULL) / ci.free_pages;
}

int frag_extfrag_index(const uint64_t *nr_free, int nr_orders, int order)
{
	struct contig_info ci = contig(nr_free, nr_orders, order);
	uint64_t requested = 1ULL << order;

	if (!ci.free_blocks_total)
		return 0;
	if (ci.free_blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + (ci.free_pages * 1000ULL) / requested) / ci.free_blocks_total);
}
