// SPDX-License-Identifier: GPL-2.0
/*
 * memscope leak, kernel side: uprobes on the allocator's entry points keep, per
 * outstanding allocation, its size, time and user stack; a free forgets it. Only
 * aggregates leave the kernel (user space walks the allocs map once per interval).
 *
 * The stack is taken at the allocator's return: the uretprobe runs with the
 * instruction pointer already at the return address in the direct caller and the
 * frame pointer still the caller's, so a frame-pointer walk starts at the caller.
 * (At function entry the walk would start from the caller's saved frame and skip
 * the direct caller, whose return address is only at the stack pointer.)
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <asm-generic/errno-base.h>
#include "leak.h"

/* --sample N: track one allocation in N */
const volatile __u32 sample_every = 1;
const volatile __u32 page_size = 4096; /* set by user space */

/*
 * Per thread, kept between calls and reused in place (depth 0: idle), so a call costs
 * two lookups, not an insert and a delete; LRU, so threads that are gone make room.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct leak_call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 19);
	__type(key, struct leak_key);
	__type(value, struct leak_alloc);
} allocs SEC(".maps");

/*
 * A stack map never forgets on its own: stacks of freed allocations would fill it, and a
 * new stack whose slot (hash) is taken is refused. So two of them, one taking new
 * stacks (stack_gen), the other pruned by user space to the stacks of outstanding
 * allocations, then they swap. No BPF_F_REUSE_STACKID: it would overwrite the stack an
 * older allocation still refers to; a refused stack is counted instead.
 */
struct stack_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, LEAK_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, LEAK_STACK_DEPTH * sizeof(__u64));
};
struct stack_map stacks SEC(".maps");
struct stack_map stacks2 SEC(".maps");
__u32 stack_gen; /* set by user space: 0 stacks, 1 stacks2 takes new stacks */

/* --dwarf: copies of the user stack, unwound in user space */
const volatile bool dwarf;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} ustacks SEC(".maps");

__u64 nr_ustacks_lost;	/* the ring was full: that allocation has the frame-pointer stack */
__u64 nr_useq;
__u64 nr_untracked;	/* the allocs map was full */
__u64 nr_stacks_lost;	/* the stack map was full */
__u64 nr_stack_collisions; /* the stack's slot in the stack map held another stack */
/*
 * Frees of pointers allocated before memscope attached, counted per CPU: in --kernel mode
 * most kfree()s are of those, and one shared counter would bounce between the CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} unknown_frees SEC(".maps");

static __always_inline void count_unknown_free(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&unknown_frees, &zero);

	if (n)
		(*n)++;
}
__u64 nr_seen;		/* calls counted for --sample */

/* A call that never returned (longjmp, a thread killed inside) is stale after this. */
#define LEAK_STALE_NS 10000000000ULL

static __always_inline int enter(enum leak_fn fn, __u64 size, __u64 arg)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_boot_ns();
	struct leak_call *c = bpf_map_lookup_elem(&calls, &id);
	struct leak_call nc = { .size = size, .arg = arg, .ts_ns = now, .fn = fn, .depth = 1 };

	if (c && c->depth && now - c->ts_ns < LEAK_STALE_NS) {
		c->depth++; /* inside another traced call: that one is the allocation */
		return 0;
	}
	if (sample_every > 1 && __sync_fetch_and_add(&nr_seen, 1) % sample_every)
		nc.fn = LEAK_NR_FN; /* not sampled: still tracked for nesting */
	if (c)
		*c = nc; /* only this thread touches its entry */
	else
		bpf_map_update_elem(&calls, &id, &nc, BPF_ANY);
	return 0;
}

static __always_inline void forget(__u32 tgid, __u64 addr)
{
	struct leak_key k = { .tgid = tgid, .addr = addr };

	if (addr && bpf_map_delete_elem(&allocs, &k))
		count_unknown_free();
}

/*
 * How much stack to copy: up to 8 KiB, but not past the main thread's stack top
 * (mm->start_stack: argc, above every frame), where a read would fault; a thread's
 * stack end is unknown, so a failed read is retried shorter.
 */
static __always_inline __u32 copy_len(__u64 sp)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 top = BPF_CORE_READ(t, mm, start_stack);

	if (sp < top && top - sp < LEAK_DWARF_BYTES)
		return top - sp;
	return LEAK_DWARF_BYTES;
}

/* --dwarf: the top of the stack with the registers the unwinder starts from; its seq. */
static __always_inline __u64 copy_stack(struct pt_regs *regs, __u32 tgid)
{
	struct leak_ustack *e = bpf_ringbuf_reserve(&ustacks, sizeof(*e), 0);
	__u64 sp = PT_REGS_SP(regs), seq;
	__u32 len = copy_len(sp);

	if (!e) {
		__sync_fetch_and_add(&nr_ustacks_lost, 1);
		return 0;
	}
	e->seq = seq = __sync_fetch_and_add(&nr_useq, 1) + 1;
	e->tgid = tgid;
	e->ip = PT_REGS_IP(regs);
	e->sp = sp;
	e->bp = PT_REGS_FP(regs);
	for (int i = 0; i < 4; i++, len /= 2) {
		if (len > LEAK_DWARF_BYTES)
			len = LEAK_DWARF_BYTES;
		e->len = len;
		if (!bpf_probe_read_user(e->data, len, (void *)sp))
			break;
		e->len = 0;
	}
	bpf_ringbuf_submit(e, 0);
	return seq;
}

/* The allocation's stack, in the stack map that takes new ones; counted when refused. */
static __always_inline void take_stack(void *ctx, struct leak_alloc *a, __u64 flags)
{
	__u16 gen = stack_gen & 1;

	a->stack_gen = gen;
	a->stack_id = gen ? bpf_get_stackid(ctx, &stacks2, flags)
			  : bpf_get_stackid(ctx, &stacks, flags);
	if (a->stack_id == -EEXIST)
		__sync_fetch_and_add(&nr_stack_collisions, 1);
	else if (a->stack_id < 0)
		__sync_fetch_and_add(&nr_stacks_lost, 1);
}

static __always_inline void remember(void *ctx, __u32 tgid, __u64 addr, const struct leak_call *c)
{
	struct leak_key k = { .tgid = tgid, .addr = addr };
	struct leak_alloc a = { .size = c->size, .ts_ns = bpf_ktime_get_boot_ns(), .fn = c->fn };

	take_stack(ctx, &a, BPF_F_USER_STACK);
	if (dwarf)
		a.cache = copy_stack(ctx, tgid);
	if (bpf_map_update_elem(&allocs, &k, &a, BPF_ANY))
		__sync_fetch_and_add(&nr_untracked, 1);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, long ret)
{
	__u64 id = bpf_get_current_pid_tgid(), addr = ret;
	struct leak_call *c = bpf_map_lookup_elem(&calls, &id), call;
	__u32 tgid = id >> 32;

	if (!c || !c->depth || --c->depth)
		return 0;
	call = *c;
	switch (call.fn) {
	case LEAK_NR_FN:
		return 0;
	case LEAK_REALLOC:
	case LEAK_REALLOCARRAY:
		/* realloc(p, n): p is gone when it returns a block, or NULL for n == 0 */
		if (call.arg && (addr || !call.size))
			forget(tgid, call.arg);
		break;
	case LEAK_POSIX_MEMALIGN:
		if (ret || bpf_probe_read_user(&addr, sizeof(addr), (void *)call.arg))
			return 0;
		break;
	case LEAK_MMAP:
		if (ret == -1) /* MAP_FAILED */
			return 0;
		break;
	}
	if (addr)
		remember(ctx, tgid, addr, &call);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, __u64 size)
{
	return enter(LEAK_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 n, __u64 size)
{
	return enter(LEAK_CALLOC, n * size, 0);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 ptr, __u64 size)
{
	return enter(LEAK_REALLOC, size, ptr);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, __u64 ptr, __u64 n, __u64 size)
{
	return enter(LEAK_REALLOCARRAY, n * size, ptr);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 align, __u64 size)
{
	return enter(LEAK_POSIX_MEMALIGN, size, memptr);
}

SEC("uprobe")
int BPF_KPROBE(aligned_alloc_enter, __u64 align, __u64 size)
{
	return enter(LEAK_ALIGNED_ALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 align, __u64 size)
{
	return enter(LEAK_MEMALIGN, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(valloc_enter, __u64 size)
{
	return enter(LEAK_VALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(pvalloc_enter, __u64 size)
{
	return enter(LEAK_PVALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(mmap_enter, __u64 addr, __u64 len)
{
	return enter(LEAK_MMAP, len, 0);
}

/* A free inside a traced call (realloc's) belongs to that call. */
static __always_inline int release(__u64 addr)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct leak_call *c = bpf_map_lookup_elem(&calls, &id);

	if (!c || !c->depth || bpf_ktime_get_boot_ns() - c->ts_ns >= LEAK_STALE_NS)
		forget(id >> 32, addr);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	return release(ptr);
}

SEC("uprobe")
int BPF_KPROBE(munmap_enter, __u64 addr)
{
	return release(addr);
}

/*
 * --kernel: the kmem tracepoints, with the 6.0+ arguments (kmem_cache_alloc and
 * kmem_cache_free pass the cache since 2c1d697fb8ba; kmalloc and kmalloc_node are one
 * event since 11e9734bc, 6.1). User space checks the layout in the kernel's BTF.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* struct kmem_cache * */
	__type(value, char[LEAK_CACHE_NAME]);
} caches SEC(".maps");

static __always_inline void kremember(void *ctx, __u32 space, __u64 addr, __u64 size, __u32 kind,
				      __u64 cache)
{
	struct leak_key k = { .tgid = space, .addr = addr };
	struct leak_alloc a = { .size = size, .ts_ns = bpf_ktime_get_boot_ns(), .fn = kind,
				.cache = cache };

	if (!addr || (sample_every > 1 && __sync_fetch_and_add(&nr_seen, 1) % sample_every))
		return;
	take_stack(ctx, &a, 0);
	if (bpf_map_update_elem(&allocs, &k, &a, BPF_ANY))
		__sync_fetch_and_add(&nr_untracked, 1);
}

SEC("raw_tp/kmalloc")
int BPF_PROG(k_kmalloc, unsigned long call_site, const void *ptr, __u64 bytes_req,
	     __u64 bytes_alloc)
{
	kremember(ctx, LEAK_SPACE_SLAB, (__u64)ptr, bytes_alloc, LEAK_K_KMALLOC, bytes_alloc);
	return 0;
}

SEC("raw_tp/kmem_cache_alloc")
int BPF_PROG(k_cache_alloc, unsigned long call_site, const void *ptr, struct kmem_cache *s)
{
	__u64 key = (__u64)s;

	if (!bpf_map_lookup_elem(&caches, &key)) {
		char name[LEAK_CACHE_NAME] = {};

		bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(s, name));
		bpf_map_update_elem(&caches, &key, name, BPF_NOEXIST);
	}
	kremember(ctx, LEAK_SPACE_SLAB, (__u64)ptr, BPF_CORE_READ(s, size), LEAK_K_CACHE, key);
	return 0;
}

SEC("raw_tp/mm_page_alloc")
int BPF_PROG(k_page_alloc, struct page *page, unsigned int order)
{
	kremember(ctx, LEAK_SPACE_PAGE, (__u64)page, (__u64)page_size << order, LEAK_K_PAGES,
		  order);
	return 0;
}

static __always_inline void kforget(__u32 space, __u64 addr)
{
	struct leak_key k = { .tgid = space, .addr = addr };

	if (addr && bpf_map_delete_elem(&allocs, &k))
		count_unknown_free();
}

SEC("raw_tp/kfree")
int BPF_PROG(k_kfree, unsigned long call_site, const void *ptr)
{
	kforget(LEAK_SPACE_SLAB, (__u64)ptr);
	return 0;
}

SEC("raw_tp/kmem_cache_free")
int BPF_PROG(k_cache_free, unsigned long call_site, const void *ptr)
{
	kforget(LEAK_SPACE_SLAB, (__u64)ptr);
	return 0;
}

SEC("raw_tp/mm_page_free")
int BPF_PROG(k_page_free, struct page *page)
{
	kforget(LEAK_SPACE_PAGE, (__u64)page);
	return 0;
}

/* order-0 pages freed from a list (free_unref_page_list, folios_put) */
SEC("raw_tp/mm_page_free_batched")
int BPF_PROG(k_page_free_batched, struct page *page)
{
	kforget(LEAK_SPACE_PAGE, (__u64)page);
	return 0;
}

/*
 * Pages the page cache takes (__filemap_add_folio) hold file data until reclaim or a
 * truncate drops them (__filemap_remove_folio): told apart from other pages, since they
 * are no leak. The argument is the folio (a struct page * before 5.16): the head page,
 * the address mm_page_alloc gave.
 */
static __always_inline void kmark(__u64 page, __u32 from, __u32 to)
{
	struct leak_key k = { .tgid = LEAK_SPACE_PAGE, .addr = page };
	struct leak_alloc *a = bpf_map_lookup_elem(&allocs, &k);

	if (a && a->fn == from)
		a->fn = to;
}

SEC("raw_tp/mm_filemap_add_to_page_cache")
int BPF_PROG(k_filemap_add, void *folio)
{
	kmark((__u64)folio, LEAK_K_PAGES, LEAK_K_PAGECACHE);
	return 0;
}

SEC("raw_tp/mm_filemap_delete_from_page_cache")
int BPF_PROG(k_filemap_delete, void *folio)
{
	kmark((__u64)folio, LEAK_K_PAGECACHE, LEAK_K_PAGES);
	return 0;
}

/*
 * Per-CPU areas: the arguments as raw positions, since the event gained call_site,
 * bytes_alloc and gfp_flags (6.0) around the ones it had; user space checks the layout
 * and leaves these two unattached on older kernels.
 */
SEC("raw_tp/percpu_alloc_percpu")
int k_percpu_alloc(__u64 *ctx)
{
	/* call_site, reserved, is_atomic, size, align, base_addr, off, ptr, bytes_alloc */
	kremember(ctx, LEAK_SPACE_PERCPU, ctx[7], ctx[8], LEAK_K_PERCPU, 0);
	return 0;
}

SEC("raw_tp/percpu_free_percpu")
int k_percpu_free(__u64 *ctx)
{
	/* base_addr, off, ptr */
	kforget(LEAK_SPACE_PERCPU, ctx[2]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
