// SPDX-License-Identifier: GPL-2.0
/*
 * memscope cache, the files: the task_file and task_vma iterators (5.8, 5.12) give
 * every file a process holds open or maps; each one's mapping says how many of its
 * pages are in the page cache (address_space.nrpages). One record per (process,
 * mapping) and pass. Loaded as a light skeleton where the kernel relocates it (5.17+),
 * else as an ordinary object.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "cache.h"

/* Which (process, mapping) this pass has written already: a pass number per pair. */
struct seen_key {
	__u64 mapping;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, struct seen_key);
	__type(value, __u64);
} seen SEC(".maps");

__u64 pass; /* user space counts the passes */

static __always_inline bool first_sight(__u64 mapping, __u32 tgid)
{
	struct seen_key k = { .mapping = mapping, .tgid = tgid };
	__u64 *v = bpf_map_lookup_elem(&seen, &k), p = pass;

	if (v && *v == p)
		return false;
	bpf_map_update_elem(&seen, &k, &p, BPF_ANY);
	return true;
}

static __always_inline int emit(struct seq_file *seq, struct task_struct *task,
				struct file *file, int fd, __u64 start, __u64 end)
{
	struct address_space *m = BPF_CORE_READ(file, f_mapping);
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct cache_file_rec r = {};

	if (!m || !inode)
		return 0;
	r.nrpages = BPF_CORE_READ(m, nrpages);
	r.tgid = BPF_CORE_READ(task, tgid);
	if (!r.nrpages || !first_sight((__u64)m, r.tgid))
		return 0;
	/* a block device's pages are in its bdev inode's mapping, not in the /dev node's */
	inode = BPF_CORE_READ(m, host);
	r.mapping = (__u64)m;
	r.ino = BPF_CORE_READ(inode, i_ino);
	r.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	r.size = BPF_CORE_READ(inode, i_size);
	r.mode = BPF_CORE_READ(file, f_inode, i_mode);
	r.fd = fd;
	r.vm_start = start;
	r.vm_end = end;
	BPF_CORE_READ_STR_INTO(&r.comm, task, comm);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

SEC("iter/task_file")
int cache_fds(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;

	if (!task || !file)
		return 0;
	return emit(ctx->meta->seq, task, file, ctx->fd, 0, 0);
}

SEC("iter/task_vma")
int cache_vmas(struct bpf_iter__task_vma *ctx)
{
	struct task_struct *task = ctx->task;
	struct vm_area_struct *vma = ctx->vma;
	struct file *file;

	if (!task || !vma || !(file = BPF_CORE_READ(vma, vm_file)))
		return 0;
	return emit(ctx->meta->seq, task, file, -1, BPF_CORE_READ(vma, vm_start),
		    BPF_CORE_READ(vma, vm_end));
}

char LICENSE[] SEC("license") = "GPL";
