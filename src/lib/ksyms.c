// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "ksyms.h"
#include "util.h"

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct ksyms *ksyms_load(const char *path)
{
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;
	struct ksyms *k = calloc(1, sizeof(*k));
	FILE *f = fopen(path ? path : "/proc/kallsyms", "r");

	if (!k || !f)
		goto fail;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		/* Text symbols only: stacks hold code addresses. */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (k->n == cap) {
			cap = cap ? cap * 2 : 4096;
			struct ksym *s = realloc(k->syms, cap * sizeof(*s));

			if (!s)
				goto fail;
			k->syms = s;
		}
		k->syms[k->n].addr = addr;
		k->syms[k->n].name = strdup(name);
		if (!k->syms[k->n].name)
			goto fail;
		k->n++;
	}
	fclose(f);
	if (!k->n) { /* kptr_restrict hides addresses: all zero */
		ksyms_free(k);
		return NULL;
	}
	qsort(k->syms, k->n, sizeof(*k->syms), cmp_addr);
	return k;
fail:
	if (f)
		fclose(f);
	ksyms_free(k);
	return NULL;
}

void ksyms_free(struct ksyms *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->syms[i].name);
	free(k->syms);
	free(k);
}

const struct ksym *ksyms_find(const struct ksyms *k, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!k || !k->n || addr < k->syms[0].addr)
		return NULL;
	hi = k->n;
	while (hi - lo > 1) { /* last symbol with sym.addr <= addr */
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &k->syms[lo];
}

const char *ksyms_format(const struct ksyms *k, uint64_t addr, char *buf, size_t len)
{
	const struct ksym *s = ksyms_find(k, addr);

	if (s)
		snprintf(buf, len, "%s+0x%" PRIx64, s->name, addr - s->addr);
	else
		snprintf(buf, len, "0x%" PRIx64, addr);
	return buf;
}

int ksyms_stack_start(const struct ksyms *k, const uint64_t *ips, int n)
{
	static const char *const glue[] = { "bpf_trace_run", "__bpf_trace_", "__traceiter_" };
	int first = 0;

	for (int i = 0; i < n; i++) {
		const struct ksym *s = ksyms_find(k, ips[i]);

		for (size_t g = 0; s && g < ARRAY_SIZE(glue); g++)
			if (!strncmp(s->name, glue[g], strlen(glue[g])))
				first = i + 1;
	}
	return first;
}

struct json_object *ksyms_stack_json(const struct ksyms *k, const uint64_t *ips, int n)
{
	json_object *a = json_object_new_array();
	char sym[256];

	for (int i = ksyms_stack_start(k, ips, n); i < n; i++)
		json_object_array_add(a, json_object_new_string(ksyms_format(k, ips[i], sym,
									     sizeof(sym))));
	return a;
}
