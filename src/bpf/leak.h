/* SPDX-License-Identifier: GPL-2.0 */
/* memscope leak: what BPF and user space share. */
#ifndef MEMSCOPE_LEAK_H
#define MEMSCOPE_LEAK_H

#define LEAK_STACK_DEPTH 32
/*
 * Stacks per stack map. There are two: the kernel takes new stacks into one while
 * user space prunes the other to the stacks outstanding allocations still have.
 */
#define LEAK_STACKS 16384
#define LEAK_DWARF_BYTES 8192 /* --dwarf: the top of the user stack copied, as perf's default */

/* The allocator functions traced; their arguments differ, their return value too. */
enum leak_fn {
	LEAK_MALLOC, LEAK_CALLOC, LEAK_REALLOC, LEAK_REALLOCARRAY, LEAK_POSIX_MEMALIGN,
	LEAK_ALIGNED_ALLOC, LEAK_MEMALIGN, LEAK_VALLOC, LEAK_PVALLOC, LEAK_MMAP,
	LEAK_FREE, LEAK_MUNMAP, LEAK_NR_FN,
};

/*
 * --kernel: what an allocation is; leak_key.tgid says which address space it is in.
 * LEAK_K_PAGECACHE: pages while the page cache holds them (file data, not a leak).
 */
enum leak_kind { LEAK_K_KMALLOC, LEAK_K_CACHE, LEAK_K_PAGES, LEAK_K_PERCPU, LEAK_K_PAGECACHE,
		 LEAK_K_NR };
#define LEAK_SPACE_SLAB 0   /* kmalloc and kmem_cache objects: kfree frees both */
#define LEAK_SPACE_PAGE 1   /* pages, by their struct page */
#define LEAK_SPACE_PERCPU 2 /* per-CPU areas, by their __percpu pointer */
#define LEAK_CACHE_NAME 32

/* An allocation still outstanding, by process and address. */
struct leak_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct leak_alloc {
	__u64 size;
	__u64 ts_ns;	 /* boot clock, when it was made */
	__s32 stack_id;	 /* in the stack map of stack_gen; < 0: not kept (counted) */
	__u16 fn;	 /* enum leak_fn; --kernel: enum leak_kind */
	__u16 stack_gen; /* which of the two stack maps: 0 stacks, 1 stacks2 */
	__u64 cache;	 /* --kernel: the kmem_cache (its name in the caches map); kmalloc:
			  * the size class; pages: the order. --dwarf: its stack's copy, by seq */
};

/* --dwarf: the registers and the top of the user stack at an allocation's return. */
struct leak_ustack {
	__u64 seq;
	__u32 tgid;
	__u32 len;	/* bytes of data copied from sp */
	__u64 ip, sp, bp;
	__u8 data[LEAK_DWARF_BYTES];
};

/* A thread inside a traced allocator call, between its entry and its return. */
struct leak_call {
	__u64 size;
	__u64 arg;	/* realloc: the old pointer; posix_memalign: where the result goes */
	__u64 ts_ns;
	__u32 fn;
	__u32 depth;	/* traced calls nested in it (realloc -> malloc, malloc -> mmap) */
};

#endif
