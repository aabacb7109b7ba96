// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "iter.h"
#include "runtime.h"

long ms_iter_read(struct bpf_link *link, size_t rec_size, void (*cb)(const void *rec, void *ctx),
		  void *ctx)
{
	return ms_iter_read_fd(bpf_link__fd(link), rec_size, cb, ctx);
}

long ms_iter_read_fd(int link_fd, size_t rec_size, void (*cb)(const void *rec, void *ctx),
		     void *ctx)
{
	size_t cap = rec_size * 64, have = 0;
	char *buf = malloc(cap);
	long nrec = 0;
	ssize_t n;
	int fd;

	if (!buf)
		ms_fatal("out of memory");
	fd = bpf_iter_create(link_fd);
	if (fd < 0)
		ms_bpf_fail("starting a BPF iterator", errno);
	/* read() may end between records: keep the remainder for the next read. */
	while ((n = read(fd, buf + have, cap - have)) > 0 || (n < 0 && errno == EINTR)) {
		size_t whole;

		if (n < 0)
			continue;
		have += n;
		whole = have - have % rec_size;
		for (size_t off = 0; off < whole; off += rec_size, nrec++)
			cb(buf + off, ctx);
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	if (n < 0)
		ms_bpf_fail("reading a BPF iterator", errno);
	close(fd);
	free(buf);
	return nrec;
}

static void ignore_rec(const void *rec, void *ctx)
{
	(void)rec;
	(void)ctx;
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
