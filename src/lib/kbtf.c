// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "tracefmt.h"
#include "kbtf.h"

static struct btf *vmlinux_btf;
static bool vmlinux_btf_tried;

struct btf *kbtf_vmlinux(void)
{
	if (!vmlinux_btf_tried) {
		vmlinux_btf_tried = true;
		vmlinux_btf = btf__load_vmlinux_btf();
		if (libbpf_get_error(vmlinux_btf))
			vmlinux_btf = NULL;
	}
	return vmlinux_btf;
}

void kbtf_use(struct btf *btf)
{
	vmlinux_btf = btf;
	vmlinux_btf_tried = true;
}

void kbtf_release(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	vmlinux_btf_tried = false;
}

/* A name in the BTF's strings; an offset past them (corrupt BTF) names nothing. */
static bool name_is(const struct btf *btf, __u32 off, const char *name)
{
	const char *s = btf__name_by_offset(btf, off);

	return s && !strcmp(s, name);
}

int kbtf_enum_value(const char *name, long long *value)
{
	struct btf *btf = kbtf_vmlinux();
	int n;

	if (!btf)
		return -ENOENT;
	n = btf__type_cnt(btf);
	for (int id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);

			for (int i = 0; i < btf_vlen(t); i++)
				if (name_is(btf, e[i].name_off, name)) {
					*value = e[i].val;
					return 0;
				}
		} else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);

			for (int i = 0; i < btf_vlen(t); i++)
				if (name_is(btf, e[i].name_off, name)) {
					*value = (long long)btf_enum64_value(&e[i]);
					return 0;
				}
		}
	}
	return -ENOENT;
}

int kbtf_mm_counter_indices(int *file, int *anon, int *shmem, int *swap)
{
	static const char *const names[] = { "MM_FILEPAGES", "MM_ANONPAGES", "MM_SHMEMPAGES",
					      "MM_SWAPENTS" };
	int *out[] = { file, anon, shmem, swap };
	long long v;

	/* tracefs' rss_stat table is a 1 KiB read; the BTF is 6 MiB in 4 KiB sysfs reads. */
	for (int pass = 0; pass < 2; pass++) {
		int i;

		for (i = 0; i < 4; i++) {
			if (pass ? kbtf_enum_value(names[i], &v)
				 : trace_symbol_value("kmem/rss_stat", names[i], &v))
				break;
			*out[i] = v;
		}
		if (i == 4)
			return 0;
	}
	return -ENOENT;
}

const char *kbtf_enum_name(const char *enum_name, long long value)
{
	struct btf *btf = kbtf_vmlinux();
	int id;

	if (!btf)
		return NULL;
	id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	if (id > 0) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e = btf_enum(t);

		for (int i = 0; i < btf_vlen(t); i++)
			if (e[i].val == value)
				return btf__name_by_offset(btf, e[i].name_off);
	}
	return NULL;
}

static const struct btf_type *skip_mods(struct btf *btf, __u32 *id)
{
	const struct btf_type *t = btf__type_by_id(btf, *id);

	while (t && (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) ||
		     btf_is_restrict(t) || btf_is_type_tag(t))) {
		*id = t->type;
		t = btf__type_by_id(btf, *id);
	}
	return t;
}

int kbtf_tp_arg_is_ptr(const char *event, int n)
{
	struct btf *btf = kbtf_vmlinux();
	const struct btf_type *t;
	const struct btf_param *p;
	char name[128];
	__u32 id;
	int tid;

	if (!btf)
		return -1;
	snprintf(name, sizeof(name), "btf_trace_%s", event);
	tid = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (tid <= 0)
		return -1;
	id = tid;
	t = skip_mods(btf, &id); /* typedef -> pointer */
	if (!t || !btf_is_ptr(t))
		return -1;
	id = t->type;
	t = skip_mods(btf, &id);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < n + 2)
		return -1;
	p = btf_params(t) + n + 1; /* parameter 0 is the tracepoint's void *data */
	id = p->type;
	t = skip_mods(btf, &id);
	return t && btf_is_ptr(t);
}

/* An enumerator's name without its prefix, in lower case ("COMPACT_COMPLETE" -> "complete"). */
static const char *short_form(const char *n, const char *prefix, char *buf, size_t len)
{
	if (prefix && !strncmp(n, prefix, strlen(prefix)))
		n += strlen(prefix);
	snprintf(buf, len, "%s", n);
	for (char *p = buf; *p; p++)
		*p = tolower((unsigned char)*p);
	return buf;
}

const char *kbtf_enum_short(const char *enum_name, long long value, const char *prefix,
			    char *buf, size_t len)
{
	const char *n = kbtf_enum_name(enum_name, value);

	if (!n) {
		snprintf(buf, len, "%lld", value);
		return buf;
	}
	return short_form(n, prefix, buf, len);
}

int kbtf_enum_copy(const char *enum_name, const char *prefix, struct kbtf_enum *out)
{
	struct btf *btf = kbtf_vmlinux();
	const struct btf_type *t;
	const struct btf_enum *e;
	int id;

	out->n = 0;
	id = btf ? btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM) : -ENOENT;
	if (id <= 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t) && out->n < KBTF_ENUM_MAX; i++) {
		const char *n = btf__name_by_offset(btf, e[i].name_off);
		char name[128];

		/* a name that does not fit whole is left out: its number is printed instead */
		if (!n || strlen(short_form(n, prefix, name, sizeof(name))) >= sizeof(out->name[0]))
			continue;
		memcpy(out->name[out->n], name, strlen(name) + 1);
		out->value[out->n++] = e[i].val;
	}
	return 0;
}

const char *kbtf_enum_text(const struct kbtf_enum *en, long long value, char *buf, size_t len)
{
	for (int i = 0; i < en->n; i++)
		if (en->value[i] == value) {
			snprintf(buf, len, "%s", en->name[i]);
			return buf;
		}
	snprintf(buf, len, "%lld", value);
	return buf;
}
