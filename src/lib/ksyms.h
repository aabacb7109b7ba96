/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel address -> symbol+offset, from /proc/kallsyms. */
#ifndef MEMSCOPE_KSYMS_H
#define MEMSCOPE_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksym {
	uint64_t addr;
	char *name;
};

struct ksyms {
	struct ksym *syms;
	size_t n;
};

/* Load a kallsyms-format file (path NULL = /proc/kallsyms); NULL on failure. */
struct ksyms *ksyms_load(const char *path);
void ksyms_free(struct ksyms *k);
/* The symbol containing addr, or NULL. */
const struct ksym *ksyms_find(const struct ksyms *k, uint64_t addr);
/* "name+0x1c" or "0xffff..." when unknown. */
const char *ksyms_format(const struct ksyms *k, uint64_t addr, char *buf, size_t len);
/*
 * A kernel stack taken by one of memscope's programs starts in that program and the
 * tracepoint glue that called it (bpf_trace_run*, __bpf_trace_*, __traceiter_*): the
 * index of the first frame after them.
 */
int ksyms_stack_start(const struct ksyms *k, const uint64_t *ips, int n);
struct json_object;
/* The stack from its first own frame, symbolized, as a JSON array of strings. */
struct json_object *ksyms_stack_json(const struct ksyms *k, const uint64_t *ips, int n);

#endif
