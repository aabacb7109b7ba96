// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cachefiles.h"
#include "iter.h"
#include "loss.h"
#include "runtime.h"
#include "util.h"
#include "cache.h"
#include "cache.skel.h"
#include "cache_iter.skel.h"
#include "cache_iter.lskel.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451 /* the same on every architecture (6.5) */
#endif

struct ms_cachestat_range {
	uint64_t off, len;
};

struct ms_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

const struct hook_spec cachefiles_hooks[CACHEFILES_NR_HOOKS] = {
	HOOK_TP("filemap:mm_filemap_add_to_page_cache", "cache_add", false),
	HOOK_TP("filemap:mm_filemap_delete_from_page_cache", "cache_delete", false),
};

struct cachefiles {
	struct cache_iter_lite *lite; /* the iterators, relocated by the kernel (5.17+) */
	struct cache_iter_bpf *iter;  /* else the same as an ordinary object */
	struct bpf_link *fds, *vmas;
	int fds_fd, vmas_fd;
	struct cache_bpf *skel;	      /* live: the filemap tracepoints */
	int chosen[CACHEFILES_NR_HOOKS];
	struct ms_loss loss[1];
};

/* The light skeleton: no vmlinux BTF parsed here (most of a snapshot's start-up). */
static bool open_lite(struct cachefiles *c)
{
	char *log;

	if (!(c->lite = cache_iter_lite__open()))
		return false;
	log = ms_lite_log(&c->lite->ctx);
	if (cache_iter_lite__load(c->lite) || cache_iter_lite__attach(c->lite)) {
		if (ms_verbose() && log && log[0])
			fprintf(stderr, "%s", log);
		cache_iter_lite__destroy(c->lite);
		c->lite = NULL;
	} else {
		c->fds_fd = c->lite->links.cache_fds_fd;
		c->vmas_fd = c->lite->links.cache_vmas_fd;
	}
	free(log);
	return c->lite;
}

static int open_iters(struct cachefiles *c, char *err, size_t len)
{
	int e;

	if (open_lite(c))
		return 0;
	if (!(c->iter = cache_iter_bpf__open_opts(ms_bpf_open_opts())))
		return ms_bpf_err(err, len, errno, "opening cache's BPF object");
	if ((e = cache_iter_bpf__load(c->iter)))
		return ms_bpf_err(err, len, e, "loading cache's BPF programs");
	c->fds = bpf_program__attach_iter(c->iter->progs.cache_fds, NULL);
	c->vmas = c->fds ? bpf_program__attach_iter(c->iter->progs.cache_vmas, NULL) : NULL;
	if (!c->vmas)
		return ms_bpf_err(err, len, errno, "attaching the task_file and task_vma iterators");
	c->fds_fd = bpf_link__fd(c->fds);
	c->vmas_fd = bpf_link__fd(c->vmas);
	return 0;
}

static int open_live(struct cachefiles *c, char *err, size_t len)
{
	int e;

	if (!(c->skel = cache_bpf__open_opts(ms_bpf_open_opts())))
		return ms_bpf_err(err, len, errno, "opening cache's BPF object");
	if (hooks_select(c->skel->obj, cachefiles_hooks, CACHEFILES_NR_HOOKS, c->chosen, err,
			 len))
		return -ENOTSUP;
	ms_test_map_sizes(c->skel->obj);
	if ((e = cache_bpf__load(c->skel)))
		return ms_bpf_err(err, len, e, "loading cache's BPF programs");
	if ((e = cache_bpf__attach(c->skel)))
		return ms_bpf_err(err, len, e, "attaching to the filemap tracepoints");
	c->loss[0] = (struct ms_loss){ "untracked_files",
				       "files whose cache changes were not counted: the map is full",
				       &c->skel->bss->nr_untracked, 0 };
	return 0;
}

int cachefiles_open(const struct cachefiles_opts *o, struct cachefiles **out, char *err,
		    size_t len)
{
	struct cachefiles *c = calloc(1, sizeof(*c));
	int e;

	*out = NULL;
	if (!c)
		return ms_err(err, len, ENOMEM, "out of memory");
	if ((e = open_iters(c, err, len)) || (o->live && (e = open_live(c, err, len)))) {
		cachefiles_close(c);
		return e;
	}
	*out = c;
	return 0;
}

static struct cache_file *grow(struct cache_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct cache_file *f = realloc(l->f, cap * sizeof(*f));

		if (!f)
			return NULL;
		l->f = f;
		l->cap = cap;
	}
	memset(&l->f[l->n], 0, sizeof(l->f[0]));
	return &l->f[l->n++];
}

struct read_ctx {
	struct cache_list *out;
	/* the first holder's fd or range of each file, to open it by */
	bool nomem;
};

static struct cache_file *find_mapping(struct cache_list *l, uint64_t mapping)
{
	for (size_t i = l->n; i-- > 0;)
		if (l->f[i].mapping == mapping)
			return &l->f[i];
	return NULL;
}

static void take_file(const void *rec, void *ctx)
{
	const struct cache_file_rec *r = rec;
	struct read_ctx *rc = ctx;
	struct cache_file *f = find_mapping(rc->out, r->mapping);
	struct cache_holder *h;

	if (!f) {
		if (!(f = grow(rc->out))) {
			rc->nomem = true;
			return;
		}
		f->mapping = r->mapping;
		f->ino = r->ino;
		f->major = r->dev >> 20; /* the kernel's MAJOR()/MINOR() of s_dev */
		f->minor = r->dev & ((1U << 20) - 1);
		f->dirty_pages = f->writeback_pages = -1;
		f->block_device = S_ISBLK(r->mode);
	}
	/* a later pass of the same file may see more pages: keep the latest */
	f->cached_pages = r->nrpages;
	f->size = r->size;
	if (r->fd >= 0)
		f->open = true;
	else
		f->mapped = true;
	for (uint32_t i = 0; i < f->nr_holders && i < CACHE_HOLDERS; i++)
		if (f->holders[i].pid == r->tgid)
			return;
	if (f->nr_holders++ >= CACHE_HOLDERS)
		return;
	h = &f->holders[f->nr_holders - 1];
	h->pid = r->tgid;
	h->fd = r->fd;
	memcpy(h->comm, r->comm, sizeof(h->comm));
	/* a mapping is opened by its range: keep it in the path until named */
	if (r->fd < 0 && !f->path[0])
		snprintf(f->path, sizeof(f->path), "\x01%llx-%llx", (unsigned long long)r->vm_start,
			 (unsigned long long)r->vm_end);
}

bool cachefiles_have_cachestat(void)
{
	static int have = -1;

	if (have < 0) {
		struct ms_cachestat_range rg = { 0, 0 };
		struct ms_cachestat cs;

		/* fd -1: EBADF where the call exists, ENOSYS where it does not */
		have = syscall(__NR_cachestat, -1, &rg, &cs, 0) < 0 && errno != ENOSYS;
	}
	return have;
}

/*
 * The files this process holds open itself, read once per read. Such a file is never
 * opened here: closing any descriptor of a file drops every POSIX lock the process holds
 * on it (fcntl(2)), and the recorder's SQLite database and its -shm file live by those
 * locks (a reader that no longer saw them truncated the -shm under the recorder: SIGBUS).
 */
struct file_id {
	dev_t dev;
	ino_t ino;
};

struct self_files {
	struct file_id *f;
	size_t n;
};

/* 0, or -ENOMEM; a /proc that cannot be read leaves the set empty. */
static int self_files_read(struct self_files *s)
{
	char link[320];
	struct stat st;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t cap = 0;
	int rc = 0;

	while (d && !rc && (e = readdir(d))) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		if (e->d_name[0] == '.' || stat(link, &st))
			continue;
		if (s->n == cap) {
			struct file_id *f = realloc(s->f, (cap = cap ? 2 * cap : 32) * sizeof(*f));

			if (!f) {
				rc = -ENOMEM;
				break;
			}
			s->f = f;
		}
		s->f[s->n++] = (struct file_id){ st.st_dev, st.st_ino };
	}
	if (d)
		closedir(d);
	return rc;
}

static bool held_by_self(const struct self_files *s, const struct stat *file)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].ino == file->st_ino && s->f[i].dev == file->st_dev)
			return true;
	return false;
}

/* Open a holder's file as /proc shows it (the same file, even when deleted or renamed). */
static int open_holder(const struct cache_file *f, const struct cache_holder *h, const char *range,
		       const struct self_files *self, char *path, size_t len)
{
	char link[96];
	ssize_t n;
	struct stat st;
	int fd;

	if (h->fd >= 0)
		snprintf(link, sizeof(link), "/proc/%u/fd/%d", h->pid, h->fd);
	else if (range)
		snprintf(link, sizeof(link), "/proc/%u/map_files/%s", h->pid, range);
	else
		return -1;
	n = readlink(link, path, len - 1);
	if (n < 0)
		return -1;
	path[n] = 0;
	/* only regular files are opened: a device or a FIFO would notice */
	if (f->block_device || stat(link, &st) || !S_ISREG(st.st_mode) || held_by_self(self, &st))
		return -2;
	fd = open(link, O_RDONLY | O_NOATIME | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		fd = open(link, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* O_NOATIME: owner only */
	if (fd < 0)
		return -2;
	if (fstat(fd, &st) || st.st_ino != f->ino || major(st.st_dev) != f->major ||
	    minor(st.st_dev) != f->minor) {
		close(fd);
		return -2;
	}
	return fd;
}

static void dirty_of(int fd, struct cache_file *f)
{
	struct ms_cachestat_range rg = { 0, 0 }; /* len 0: to the end */
	struct ms_cachestat cs;

	if (fd >= 0 && !syscall(__NR_cachestat, fd, &rg, &cs, 0)) {
		f->dirty_pages = cs.nr_dirty;
		f->writeback_pages = cs.nr_writeback;
	}
}

/* Name each file and read its dirty and writeback pages through a holder. */
static void name_file(struct cache_file *f, const struct self_files *self)
{
	char range[48] = "", path[CACHE_PATH_LEN];
	bool named = false;

	if (f->path[0] == '\x01')
		snprintf(range, sizeof(range), "%s", f->path + 1);
	f->path[0] = 0;
	for (uint32_t i = 0; i < f->nr_holders && i < CACHE_HOLDERS; i++) {
		int fd = open_holder(f, &f->holders[i], range[0] ? range : NULL, self, path,
				     sizeof(path));

		if (fd == -1)
			continue;
		if (!named) {
			snprintf(f->path, sizeof(f->path), "%s", path);
			named = true;
		}
		if (fd >= 0) {
			dirty_of(fd, f);
			close(fd);
			return;
		}
		if (f->block_device)
			return;
	}
}

int cachefiles_read(struct cachefiles *c, struct cache_list *out, char *err, size_t len)
{
	struct read_ctx rc = { out, false };
	struct self_files self = { 0 };
	int e;

	out->n = 0;
	if (c->lite)
		c->lite->bss->pass++;
	else
		c->iter->bss->pass++;
	if ((e = ms_iter_collect(c->fds_fd, sizeof(struct cache_file_rec), take_file, &rc, err,
				 len)) ||
	    (e = ms_iter_collect(c->vmas_fd, sizeof(struct cache_file_rec), take_file, &rc, err,
				 len)))
		return e;
	if (rc.nomem || self_files_read(&self))
		e = ms_err(err, len, ENOMEM, "out of memory");
	else
		for (size_t i = 0; i < out->n; i++)
			name_file(&out->f[i], &self);
	free(self.f);
	return e;
}

/* ---- --all: each mounted file system's tree ---- */

/* File systems whose files hold no page cache worth a walk (or would change by it). */
static bool skip_fstype(const char *t)
{
	static const char *const skip[] = { "proc", "sysfs", "cgroup", "cgroup2", "devpts",
		"debugfs", "tracefs", "bpf", "securityfs", "pstore", "mqueue", "configfs",
		"fusectl", "binfmt_misc", "autofs", "hugetlbfs", "devtmpfs", "rpc_pipefs",
		"nsfs", "efivarfs", "selinuxfs", NULL };

	for (int i = 0; skip[i]; i++)
		if (!strcmp(t, skip[i]))
			return true;
	return false;
}

static struct {
	struct cache_list *out;
	struct cache_walk_stats *st;
	dev_t dev;
	bool nomem;
	size_t known; /* files before the walk: the iterators' */
} walk;

static bool known_file(dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < walk.known; i++)
		if (walk.out->f[i].ino == ino && walk.out->f[i].major == major(dev) &&
		    walk.out->f[i].minor == minor(dev))
			return true;
	return false;
}

/* Pages of an open file in the cache without cachestat: mincore of a mapping, as fincore. */
static int64_t mincore_pages(int fd, uint64_t size)
{
	unsigned long page = ms_page_size();
	size_t pages = (size + page - 1) / page;
	unsigned char *vec;
	int64_t n = 0;
	void *m;

	if (!size)
		return 0;
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -1;
	vec = malloc(pages);
	if (vec && !mincore(m, size, vec))
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
	else
		n = -1;
	free(vec);
	munmap(m, size);
	return n;
}

static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	struct ms_cachestat_range rg = { 0, 0 };
	struct ms_cachestat cs = { 0 };
	struct cache_file *f;
	int fd;

	(void)ftw;
	if (ms_stopping())
		return 1;
	if (type != FTW_F || !S_ISREG(sb->st_mode) || sb->st_dev != walk.dev)
		return 0;
	walk.st->files++;
	if (known_file(sb->st_dev, sb->st_ino))
		return 0;
	fd = open(path, O_RDONLY | O_NOATIME | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		walk.st->unreadable++;
		return 0;
	}
	if (cachefiles_have_cachestat()) {
		if (syscall(__NR_cachestat, fd, &rg, &cs, 0))
			cs.nr_cache = 0, walk.st->unreadable++;
	} else {
		int64_t n = mincore_pages(fd, sb->st_size);

		cs.nr_cache = n > 0 ? n : 0;
		cs.nr_dirty = cs.nr_writeback = (uint64_t)-1;
	}
	close(fd);
	if (!cs.nr_cache)
		return 0;
	if (!(f = grow(walk.out))) {
		walk.nomem = true;
		return 1;
	}
	walk.st->cached_files++;
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->major = major(sb->st_dev);
	f->minor = minor(sb->st_dev);
	f->ino = sb->st_ino;
	f->size = sb->st_size;
	f->cached_pages = cs.nr_cache;
	f->dirty_pages = (int64_t)cs.nr_dirty;
	f->writeback_pages = (int64_t)cs.nr_writeback;
	f->walked = true;
	return 0;
}

/* One tree on one file system. */
static void walk_tree(const char *top, dev_t dev)
{
	walk.st->file_systems++;
	walk.dev = dev;
	nftw(top, visit, 64, FTW_PHYS | FTW_MOUNT);
}

int cachefiles_walk(struct cache_list *out, const char *under, struct cache_walk_stats *st,
		    char *err, size_t len)
{
	FILE *mi;
	dev_t seen[512];
	int nseen = 0;
	char line[4096];
	uint64_t t0 = ms_now_ns();

	memset(st, 0, sizeof(*st));
	walk.out = out;
	walk.st = st;
	walk.known = out->n;
	walk.nomem = false;
	if (under) {
		struct stat sb;

		if (stat(under, &sb))
			return ms_err(err, len, errno, "--under %s: %s", under, strerror(errno));
		walk_tree(under, sb.st_dev);
		st->ns = ms_now_ns() - t0;
		return walk.nomem ? ms_err(err, len, ENOMEM, "out of memory") : 0;
	}
	if (!(mi = fopen("/proc/self/mountinfo", "re")))
		return ms_err(err, len, errno, "cannot read /proc/self/mountinfo: %s",
			    strerror(errno));
	while (fgets(line, sizeof(line), mi) && !ms_stopping()) {
		char mnt[2048], type[64];
		const char *sep = strstr(line, " - ");
		struct stat sb;
		int i;

		/* id parent major:minor root mountpoint options ... - fstype source ... */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %2047s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", type) != 1 || skip_fstype(type))
			continue;
		/* octal escapes of the mount point (\040 for a space) */
		for (char *r = mnt, *w = mnt;; r++, w++) {
			if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] && r[3]) {
				*w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
				r += 3;
			} else if (!(*w = *r)) {
				break;
			}
		}
		if (stat(mnt, &sb))
			continue;
		for (i = 0; i < nseen && seen[i] != sb.st_dev; i++)
			;
		if (i < nseen) /* the same file system mounted again (a bind mount) */
			continue;
		if (nseen < (int)ARRAY_SIZE(seen))
			seen[nseen++] = sb.st_dev;
		walk_tree(mnt, sb.st_dev);
	}
	fclose(mi);
	st->ns = ms_now_ns() - t0;
	if (walk.nomem)
		return ms_err(err, len, ENOMEM, "out of memory");
	return 0;
}

long cachefiles_churn(struct cachefiles *c, struct cache_churn_entry **out)
{
	int fd = bpf_map__fd(c->skel->maps.churn), ncpu = libbpf_num_possible_cpus();
	struct cache_churn *per = calloc(ncpu > 0 ? ncpu : 1, sizeof(*per));
	struct cache_churn_key key, *prev = NULL;
	struct cache_churn_entry *e = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!per)
		return -ENOMEM;
	/* keys are never deleted: the walk cannot start over */
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		struct cache_churn_entry *x;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, per))
			continue;
		if (n == cap) {
			struct cache_churn_entry *t = realloc(e, (cap = cap ? cap * 2 : 256) *
								     sizeof(*e));

			if (!t) {
				free(e);
				free(per);
				return -ENOMEM;
			}
			e = t;
		}
		x = &e[n++];
		memset(x, 0, sizeof(*x));
		x->major = key.dev >> 20;
		x->minor = key.dev & ((1U << 20) - 1);
		x->ino = key.ino;
		for (int i = 0; i < ncpu; i++) {
			x->added += per[i].added;
			x->deleted += per[i].deleted;
		}
	}
	free(per);
	*out = e;
	return n;
}

struct ms_loss *cachefiles_losses(struct cachefiles *c, int *n)
{
	*n = c->skel ? 1 : 0;
	return c->loss;
}

void cachefiles_close(struct cachefiles *c)
{
	if (!c)
		return;
	bpf_link__destroy(c->fds);
	bpf_link__destroy(c->vmas);
	cache_iter_bpf__destroy(c->iter);
	cache_iter_lite__destroy(c->lite);
	cache_bpf__destroy(c->skel);
	free(c);
}

static int cmp_cached(const void *a, const void *b)
{
	const struct cache_file *x = a, *y = b;

	if (x->cached_pages != y->cached_pages)
		return y->cached_pages > x->cached_pages ? 1 : -1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

void cache_list_sort(struct cache_list *l)
{
	if (l->n)
		qsort(l->f, l->n, sizeof(*l->f), cmp_cached);
}

void cache_list_free(struct cache_list *l)
{
	free(l->f);
	l->f = NULL;
	l->n = l->cap = 0;
}

/* ---- the records ---- */

void cache_file_row_of(const struct cache_file *f, unsigned long page, struct cache_file_row *r)
{
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", f->path);
	if (!f->path[0])
		record_null(&cache_file_desc, r, "path");
	snprintf(r->dev, sizeof(r->dev), "%u:%u", f->major, f->minor);
	r->ino = f->ino;
	r->cached_bytes = f->cached_pages * page;
	r->size_bytes = f->size;
	r->cached_percent = f->size ? 100.0 * r->cached_bytes / f->size : 0;
	if (!f->size)
		record_null(&cache_file_desc, r, "cached_percent");
	if (f->dirty_pages >= 0) {
		r->dirty_bytes = f->dirty_pages * page;
		r->writeback_bytes = f->writeback_pages * page;
	} else {
		record_null(&cache_file_desc, r, "dirty_bytes");
		record_null(&cache_file_desc, r, "writeback_bytes");
	}
	snprintf(r->seen_as, sizeof(r->seen_as), "%s%s%s%s", f->open ? "open" : "",
		 f->open && f->mapped ? "," : "", f->mapped ? "mapped" : "",
		 f->walked ? "walk" : "");
	r->nr_holders = f->nr_holders;
	for (uint32_t i = 0; i < f->nr_holders && i < CACHE_HOLDERS && off < sizeof(r->holders);
	     i++) {
		int n = snprintf(r->holders + off, sizeof(r->holders) - off, "%s%u(%.15s)",
				 i ? " " : "", f->holders[i].pid, f->holders[i].comm);

		if (n < 0)
			break;
		off += n;
	}
	if (!f->nr_holders)
		record_null(&cache_file_desc, r, "holders");
	record_null(&cache_file_desc, r, "added_bytes");
	record_null(&cache_file_desc, r, "deleted_bytes");
}

#define F(m, key, head, ft, unit, kind, flags, help)                                      \
	FLD(struct cache_file_row, m, key, head, ft, unit, kind, flags, help)
static const struct field cache_file_fields[] = {
	F(cached_bytes, "cached_bytes", "CACHED", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "its pages in the page cache: the mapping's nrpages (open or mapped), cachestat's or "
	  "mincore's count (--all's walk)"),
	F(dirty_bytes, "dirty_bytes", "DIRTY", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "of which dirty (cachestat, 6.5+); null where it cannot be read (no cachestat, "
	  "not a regular file, gone)"),
	F(writeback_bytes, "writeback_bytes", "WB", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "of which under writeback (cachestat)"),
	F(added_bytes, "added_bytes", "+ADDED", FT_S64, FU_BYTES, FK_GAUGE, FF_NULL | FF_DELTA,
	  "live: pages added to its cache during the interval (filemap tracepoint)"),
	F(deleted_bytes, "deleted_bytes", "-EVICTED", FT_S64, FU_BYTES, FK_GAUGE,
	  FF_NULL | FF_DELTA, "live: pages deleted from its cache during the interval "
	  "(evicted, truncated or invalidated)"),
	F(size_bytes, "size_bytes", "SIZE", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "the file's size; null for a file seen only by its churn (-i), which no process holds"),
	F(cached_percent, "cached_percent", NULL, FT_F64, FU_PERCENT, FK_GAUGE, FF_NULL,
	  "cached_bytes of size_bytes; null for an empty file"),
	F(dev, "dev", "DEV", FT_STR, FU_NONE, FK_LABEL, 0,
	  "its file system's device, major:minor (st_dev)"),
	F(ino, "ino", NULL, FT_U64, FU_NONE, FK_LABEL, 0, "its inode number"),
	F(path, "path", "FILE", FT_STR, FU_NONE, FK_LABEL, FF_LEFT | FF_NULL,
	  "its path as its holder sees it (' (deleted)' when unlinked); null when no holder "
	  "could name it"),
	F(seen_as, "seen_as", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	  "how it was found: open, mapped (by a process), walk (--all)"),
	F(nr_holders, "nr_holders", NULL, FT_U32, FU_NONE, FK_GAUGE, 0,
	  "processes holding it open or mapping it"),
	F(holders, "holders", "HOLDERS", FT_STR, FU_NONE, FK_LABEL, FF_LEFT | FF_NULL,
	  "the first of them: pid(comm) ..."),
};
#undef F
const struct record_desc cache_file_desc =
	RECORD_DESC("cache_file", "one file's pages in the page cache: memscope cache",
		    cache_file_fields, struct cache_file_row);

#define T(m, key, ft, unit, kind, flags, help)                                            \
	FLD(struct cache_total_row, m, key, NULL, ft, unit, kind, flags, help)
static const struct field cache_total_fields[] = {
	T(files, "files", FT_U32, FU_NONE, FK_GAUGE, 0, "files with cached pages found"),
	T(cached_bytes, "cached_bytes", FT_U64, FU_BYTES, FK_GAUGE, 0, "their cached pages"),
	T(dirty_bytes, "dirty_bytes", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "their dirty pages (where cachestat told)"),
	T(writeback_bytes, "writeback_bytes", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "their pages under writeback"),
	T(meminfo_cached_bytes, "meminfo_cached_bytes", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "/proc/meminfo Cached read with it (shmem included)"),
	T(meminfo_buffers_bytes, "meminfo_buffers_bytes", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "/proc/meminfo Buffers: block devices' own cache"),
	T(meminfo_shmem_bytes, "meminfo_shmem_bytes", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "/proc/meminfo Shmem (tmpfs, shared anonymous memory, System V)"),
	T(meminfo_dirty_bytes, "meminfo_dirty_bytes", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "/proc/meminfo Dirty"),
	T(meminfo_writeback_bytes, "meminfo_writeback_bytes", FT_U64, FU_BYTES, FK_GAUGE, 0,
	  "/proc/meminfo Writeback"),
	T(walked, "walked", FT_BOOL, FU_NONE, FK_LABEL, 0,
	  "--all: the mounted file systems' trees were walked"),
	T(walk_file_systems, "walk_file_systems", FT_U64, FU_NONE, FK_GAUGE, FF_NULL,
	  "--all: file systems walked (pseudo file systems skipped)"),
	T(walk_files, "walk_files", FT_U64, FU_NONE, FK_GAUGE, FF_NULL,
	  "--all: regular files seen"),
	T(walk_unreadable, "walk_unreadable", FT_U64, FU_NONE, FK_GAUGE, FF_NULL,
	  "--all: files that could not be opened (their cache is not counted)"),
	T(walk_ns, "walk_ns", FT_U64, FU_NS, FK_GAUGE, FF_NULL,
	  "--all: how long the walk took"),
	T(added_bytes, "added_bytes", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "live: pages added to the cache during the interval, every file"),
	T(deleted_bytes, "deleted_bytes", FT_U64, FU_BYTES, FK_GAUGE, FF_NULL,
	  "live: pages deleted from the cache during the interval, every file"),
};
#undef T
const struct record_desc cache_total_desc =
	RECORD_DESC("cache_total", "the files found, beside /proc/meminfo: memscope cache",
		    cache_total_fields, struct cache_total_row);

#define M(m, key, head, help)                                                             \
	FLD(struct cache_memcg_row, m, key, head, FT_U64, FU_BYTES, FK_GAUGE, FF_NULL, help)
static const struct field cache_memcg_fields[] = {
	FLD(struct cache_memcg_row, path, "path", "CGROUP", FT_STR, FU_NONE, FK_LABEL, FF_LEFT,
	    "the memory cgroup (\"/\": the root)"),
	M(file_bytes, "file_bytes", "FILE", "page cache charged to it: memory.stat file (v2), "
	  "total_cache (v1)"),
	M(file_dirty_bytes, "file_dirty_bytes", "DIRTY", "of which dirty"),
	M(file_writeback_bytes, "file_writeback_bytes", "WRITEBACK", "of which under writeback"),
	M(file_mapped_bytes, "file_mapped_bytes", "MAPPED", "of which mapped"),
	M(shmem_bytes, "shmem_bytes", "SHMEM", "of which shmem"),
};
#undef M
const struct record_desc cache_memcg_desc =
	RECORD_DESC("cache_memcg", "a memory cgroup's page cache: memscope cache --memcg",
		    cache_memcg_fields, struct cache_memcg_row);
