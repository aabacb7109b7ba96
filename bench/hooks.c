// SPDX-License-Identifier: GPL-2.0
/*
 * hooks empty   attach empty programs to sched_switch and mm_page_alloc
 * hooks naive   attach the naive per-switch ring buffer and consume it
 * Prints "ready" once attached; runs until SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "hooks.skel.h"

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static int on_rec(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

int main(int argc, char **argv)
{
	bool naive = argc > 1 && !strcmp(argv[1], "naive");
	struct ring_buffer *rb = NULL;
	struct hooks_bpf *s = hooks_bpf__open();

	if (!s)
		return 1;
	bpf_program__set_autoload(s->progs.naive_switch, naive);
	bpf_program__set_autoload(s->progs.empty_switch, !naive);
	bpf_program__set_autoload(s->progs.empty_alloc, !naive);
	if (hooks_bpf__load(s) || hooks_bpf__attach(s))
		return 1;
	if (naive)
		rb = ring_buffer__new(bpf_map__fd(s->maps.naive_rb), on_rec, NULL, NULL);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		if (rb)
			ring_buffer__poll(rb, 100);
		else
			usleep(100000);
	}
	ring_buffer__free(rb);
	hooks_bpf__destroy(s);
	return 0;
}
