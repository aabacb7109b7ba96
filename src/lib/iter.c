// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "iter.h"
#include "runtime.h"

struct count_ctx {
	void (*cb)(const void *rec, void *ctx);
	void *ctx;
	long n;
};

static void count_rec(const void *rec, void *ctx)
{
	struct count_ctx *cc = ctx;

	cc->cb(rec, cc->ctx);
	cc->n++;
}

long ms_iter_read(struct bpf_link *link, size_t rec_size, void (*cb)(const void *rec, void *ctx),
		  void *ctx)
{
	return ms_iter_read_fd(bpf_link__fd(link), rec_size, cb, ctx);
}

long ms_iter_read_fd(int link_fd, size_t rec_size, void (*cb)(const void *rec, void *ctx),
		     void *ctx)
{
	struct count_ctx cc = { cb, ctx, 0 };
	char err[256];

	if (ms_iter_collect(link_fd, rec_size, count_rec, &cc, err, sizeof(err)))
		ms_fatal("%s", err);
	return cc.n;
}

int ms_iter_collect(int link_fd, size_t rec_size, void (*cb)(const void *rec, void *ctx),
		    void *ctx, char *err, size_t len)
{
	size_t cap = rec_size * 64, have = 0;
	char *buf = malloc(cap);
	ssize_t n = 0;
	int fd, e = 0;

	if (!buf)
		return ms_err(err, len, ENOMEM, "out of memory");
	fd = bpf_iter_create(link_fd);
	if (fd < 0) {
		free(buf);
		return ms_bpf_err(err, len, errno, "starting a BPF iterator");
	}
	/* read() may end between records: keep the remainder for the next read. */
	while ((n = read(fd, buf + have, cap - have)) > 0 || (n < 0 && errno == EINTR)) {
		size_t whole;

		if (n < 0)
			continue;
		have += n;
		whole = have - have % rec_size;
		for (size_t off = 0; off < whole; off += rec_size)
			cb(buf + off, ctx);
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	if (n < 0)
		e = ms_bpf_err(err, len, errno, "reading a BPF iterator");
	close(fd);
	free(buf);
	return e;
}

static void ignore_rec(const void *rec, void *ctx)
{
	(void)rec;
	(void)ctx;
}

int ms_iter_drain(int link_fd, char *err, size_t len)
{
	return ms_iter_collect(link_fd, 1, ignore_rec, NULL, err, len);
}

void ms_iter_run_fd(int link_fd)
{
	ms_iter_read_fd(link_fd, 1, ignore_rec, NULL);
}

void ms_iter_run_once(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);

	if (!link)
		ms_bpf_fail("attaching an iterator", errno);
	ms_iter_read(link, 1, ignore_rec, NULL);
	bpf_link__destroy(link);
}
