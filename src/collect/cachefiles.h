/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page cache by file: every file a process holds open or maps, with the pages
 * its mapping has in the cache (BPF task_file and task_vma iterators), dirty and
 * under writeback (cachestat(2), 6.5+); with a walk of each mounted file system, the
 * rest of the cache too. Live: pages added to and deleted from each file's cache
 * (the filemap tracepoints). Errors come back as a negative errno and a message.
 */
#ifndef MEMSCOPE_COLLECT_CACHEFILES_H
#define MEMSCOPE_COLLECT_CACHEFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "comm.h"
#include "hooks.h"
#include "record.h"

#define CACHE_PATH_LEN 512
#define CACHE_HOLDERS 6

struct cache_holder {
	uint32_t pid;
	int32_t fd; /* -1: it maps the file */
	char comm[MS_COMM_LEN];
};

/* One file with pages in the page cache. */
struct cache_file {
	char path[CACHE_PATH_LEN]; /* "" when no name was found */
	uint32_t major, minor;	   /* its file system's device (st_dev) */
	uint64_t ino, mapping;	   /* mapping: the kernel's address_space (0: walked) */
	uint64_t cached_pages, size;
	int64_t dirty_pages, writeback_pages; /* -1: unknown (no cachestat) */
	bool open, mapped, walked, block_device;
	uint32_t nr_holders; /* processes holding it (the first CACHE_HOLDERS kept) */
	struct cache_holder holders[CACHE_HOLDERS];
};

struct cache_list {
	struct cache_file *f;
	size_t n, cap;
};

/* What a walk of the file systems (--all) did. */
struct cache_walk_stats {
	uint64_t file_systems, files, cached_files, unreadable;
	uint64_t ns;
};

struct cachefiles_opts {
	bool live; /* count pages added and deleted per file */
};

struct cachefiles;
int cachefiles_open(const struct cachefiles_opts *o, struct cachefiles **out, char *err,
		    size_t len);
/* Every file processes hold open or map that has cached pages. 0 or -errno (err). */
int cachefiles_read(struct cachefiles *c, struct cache_list *out, char *err, size_t len);
/*
 * Add the cached files of every mounted file system's tree (files already in out are
 * not counted twice); under: only that directory's tree, on its own file system (NULL:
 * every one). 0 or -errno (err).
 */
int cachefiles_walk(struct cache_list *out, const char *under, struct cache_walk_stats *st,
		    char *err, size_t len);
/* Live: pages added and deleted per file so far. */
struct cache_churn_entry {
	uint32_t major, minor;
	uint64_t ino, added, deleted;
};
long cachefiles_churn(struct cachefiles *c, struct cache_churn_entry **out);
struct ms_loss *cachefiles_losses(struct cachefiles *c, int *n);
void cachefiles_close(struct cachefiles *c);
void cache_list_free(struct cache_list *l);
/* Most cached pages first. */
void cache_list_sort(struct cache_list *l);
/* Does the kernel have cachestat(2) (6.5+)? */
bool cachefiles_have_cachestat(void);

#define CACHEFILES_NR_HOOKS 2
extern const struct hook_spec cachefiles_hooks[CACHEFILES_NR_HOOKS];

/* ---- records ---- */

struct cache_file_row {
	uint64_t null_mask;
	char path[CACHE_PATH_LEN];
	char dev[16];
	uint64_t ino;
	uint64_t cached_bytes, dirty_bytes, writeback_bytes, size_bytes;
	double cached_percent;
	char seen_as[24];
	uint32_t nr_holders;
	char holders[160];
	int64_t added_bytes, deleted_bytes; /* live, this interval */
};

struct cache_total_row {
	uint64_t null_mask;
	uint32_t files;
	uint64_t cached_bytes, dirty_bytes, writeback_bytes;
	uint64_t meminfo_cached_bytes, meminfo_buffers_bytes, meminfo_shmem_bytes;
	uint64_t meminfo_dirty_bytes, meminfo_writeback_bytes;
	bool walked;
	uint64_t walk_file_systems, walk_files, walk_unreadable;
	uint64_t walk_ns;
	uint64_t added_bytes, deleted_bytes; /* live, this interval, all files */
};

struct cache_memcg_row {
	uint64_t null_mask;
	char path[4096]; /* memcg_row's whole: names of 255 bytes nest */
	uint64_t file_bytes, file_dirty_bytes, file_writeback_bytes, shmem_bytes;
	uint64_t file_mapped_bytes;
};

extern const struct record_desc cache_file_desc, cache_total_desc, cache_memcg_desc;

void cache_file_row_of(const struct cache_file *f, unsigned long page, struct cache_file_row *r);

#endif
