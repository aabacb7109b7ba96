/* SPDX-License-Identifier: GPL-2.0 */
/* Run a BPF iterator link once and hand each fixed-size record to a callback. */
#ifndef MEMSCOPE_ITER_H
#define MEMSCOPE_ITER_H

#include <stddef.h>

struct bpf_link;

/* Exits 1 with a clear line when the iterator cannot run. Returns records read. */
long ms_iter_read(struct bpf_link *link, size_t rec_size, void (*cb)(const void *rec, void *ctx),
		  void *ctx);
/* The same for an iterator link known by its descriptor (a light skeleton's). */
long ms_iter_read_fd(int link_fd, size_t rec_size, void (*cb)(const void *rec, void *ctx),
		     void *ctx);

/* Run an iterator link once for its side effects (what it leaves in maps); exits 1. */
void ms_iter_run_fd(int link_fd);
/* The same for collectors: 0, or a negative errno with err set; never exits. */
int ms_iter_collect(int link_fd, size_t rec_size, void (*cb)(const void *rec, void *ctx),
		    void *ctx, char *err, size_t len);
/* ms_iter_run_fd for collectors: 0, or a negative errno with err set; never exits. */
int ms_iter_drain(int link_fd, char *err, size_t len);

struct bpf_program;
/* Run an iterator program once for its side effects (e.g. noting each node); exits 1. */
void ms_iter_run_once(struct bpf_program *prog);

#endif
