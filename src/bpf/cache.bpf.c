// SPDX-License-Identifier: GPL-2.0
/*
 * memscope cache, live: the filemap tracepoints count pages added to and deleted from
 * each file's cache, per CPU, in the kernel. (The files: cache_iter.bpf.c.)
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hook.bpf.h"
#include "cache.h"

/* ---- live: the filemap tracepoints ---- */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cache_churn_key);
	__type(value, struct cache_churn);
} churn SEC(".maps");

__u64 nr_untracked; /* the churn map was full */

static __always_inline void count(__u32 dev, __u64 ino, __u64 pages, bool add)
{
	struct cache_churn_key k = { .ino = ino, .dev = dev };
	struct cache_churn *c = bpf_map_lookup_elem(&churn, &k);
	struct cache_churn by = { .added = add ? pages : 0, .deleted = add ? 0 : pages };

	if (!c) {
		/* a file's first event inserts its count: no second lookup */
		if (!bpf_map_update_elem(&churn, &k, &by, BPF_NOEXIST))
			return;
		c = bpf_map_lookup_elem(&churn, &k); /* another CPU inserted it first */
		if (!c) {
			__sync_fetch_and_add(&nr_untracked, 1);
			return;
		}
	}
	c->added += by.added;
	c->deleted += by.deleted;
}

/* Older layouts of a folio's page count (the large-folio fields moved over releases). */
struct folio___nr_pages {
	unsigned int _nr_pages;
} __attribute__((preserve_access_index));
struct folio___folio_nr_pages {
	unsigned int _folio_nr_pages;
} __attribute__((preserve_access_index));
struct folio___folio_order {
	unsigned char _folio_order;
} __attribute__((preserve_access_index));

/*
 * A folio's flags were a plain unsigned long until they became memdesc_flags_t (6.18);
 * CO-RE matches a field's type too, so the older one needs a flavour of its own (6.1's
 * folio.flags did not relocate, and cache -i failed to load there).
 */
struct folio___ulong_flags {
	unsigned long flags;
} __attribute__((preserve_access_index));

/* folio_nr_pages(): 1 unless PG_head says it is large; then its count or order. */
static __always_inline __u64 folio_pages(struct folio *f)
{
	unsigned long flags = 0;
	__u32 off;

	if (bpf_core_field_exists(struct folio___ulong_flags, flags))
		off = bpf_core_field_offset(struct folio___ulong_flags, flags);
	else
		off = bpf_core_field_offset(struct folio, flags);
	bpf_probe_read_kernel(&flags, sizeof(flags), (void *)f + off);
	if (!(flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head))))
		return 1;
	if (bpf_core_field_exists(struct folio___nr_pages, _nr_pages))
		return BPF_CORE_READ((struct folio___nr_pages *)f, _nr_pages);
	if (bpf_core_field_exists(struct folio___folio_nr_pages, _folio_nr_pages))
		return BPF_CORE_READ((struct folio___folio_nr_pages *)f, _folio_nr_pages);
	if (bpf_core_field_exists(struct folio___folio_order, _folio_order))
		return 1ULL << BPF_CORE_READ((struct folio___folio_order *)f, _folio_order);
	return 1;
}

static __always_inline void count_folio(struct folio *f, bool add)
{
	struct inode *host = BPF_CORE_READ(f, mapping, host);

	if (host)
		count(BPF_CORE_READ(host, i_sb, s_dev), BPF_CORE_READ(host, i_ino), folio_pages(f),
		      add);
}

MS_TRACEPOINT(cache_add, mm_filemap_add_to_page_cache, count_folio(folio, true),
	      struct folio *folio)
MS_TRACEPOINT(cache_delete, mm_filemap_delete_from_page_cache, count_folio(folio, false),
	      struct folio *folio)

/* The classic record names the folio's order where the kernel has that field. */
static __always_inline __u64 record_pages(struct trace_event_raw_mm_filemap_op_page_cache *ctx)
{
	if (bpf_core_field_exists(ctx->order))
		return 1ULL << BPF_CORE_READ(ctx, order);
	return 1;
}

MS_CLASSIC(cache_add, filemap, mm_filemap_add_to_page_cache, mm_filemap_op_page_cache,
	   count(ctx->s_dev, ctx->i_ino, record_pages(ctx), true))
MS_CLASSIC(cache_delete, filemap, mm_filemap_delete_from_page_cache, mm_filemap_op_page_cache,
	   count(ctx->s_dev, ctx->i_ino, record_pages(ctx), false))

char LICENSE[] SEC("license") = "GPL";
