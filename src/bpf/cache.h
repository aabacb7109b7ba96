/* SPDX-License-Identifier: GPL-2.0 */
/* memscope cache: what BPF and user space share. */
#ifndef MEMSCOPE_CACHE_H
#define MEMSCOPE_CACHE_H

#include "comm.h"

/* A file a process holds open (fd >= 0) or maps (fd -1), with pages in its cache. */
struct cache_file_rec {
	__u64 mapping; /* struct address_space *: one per cached file */
	__u64 ino;
	__u64 nrpages; /* the mapping's pages in the page cache */
	__u64 size;    /* i_size */
	__u64 vm_start, vm_end; /* a mapping: its first range (/proc/PID/map_files) */
	__u32 dev;     /* the super block's s_dev, the kernel's encoding */
	__u32 tgid;
	__s32 fd;
	__u32 mode;    /* i_mode of the file's own inode */
	char comm[MS_COMM_LEN];
};

/* Live: pages added to and deleted from the cache, per file. */
struct cache_churn_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct cache_churn {
	__u64 added, deleted; /* pages */
};

#endif
