// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "strbuf.h"
#include "gfp.h"
#include "tracefmt.h"
#include "kbtf.h"
#include "runtime.h"

int gfp_table_from_bits(struct gfp_table *t, const char *const *names, const int *bits, int n)
{
	t->n = 0;
	/* The kernel's own table lists the single bits in bit order. */
	for (int bit = 0; bit < 64; bit++) {
		for (int i = 0; i < n; i++) {
			const char *nm = names[i];
			size_t l = strlen(nm);

			if (bits[i] != bit || strncmp(nm, "___GFP_", 7) || l < 12 ||
			    strcmp(nm + l - 4, "_BIT") || !strcmp(nm, "___GFP_LAST_BIT") ||
			    !strcmp(nm, "___GFP_UNUSED_BIT") || t->n == GFP_MAX_FLAGS)
				continue;
			snprintf(t->flag[t->n].name, sizeof(t->flag[t->n].name), "__GFP_%.*s",
				 (int)(l - 11), nm + 7);
			t->flag[t->n].mask = 1UL << bit;
			t->n++;
		}
	}
	t->source = t->n ? GFP_SRC_BTF : GFP_SRC_NONE;
	return t->n ? t->n : -1;
}

static int btf_enum_ident(const char *name, unsigned long *value)
{
	long long v;

	if (kbtf_enum_value(name, &v))
		return -1;
	*value = (unsigned long)v;
	return 0;
}

static int load_from_btf(struct gfp_table *t)
{
	struct btf *btf = kbtf_vmlinux();
	const char *names[64];
	int bits[64], n = 0, id, cnt;

	if (!btf)
		return -1;
	cnt = btf__type_cnt(btf);
	for (id = 1; id < cnt && !n; id++) {
		const struct btf_type *tp = btf__type_by_id(btf, id);

		if (!btf_is_enum(tp))
			continue;
		const struct btf_enum *e = btf_enum(tp);

		for (int i = 0; i < btf_vlen(tp) && n < 64; i++) {
			const char *nm = btf__name_by_offset(btf, e[i].name_off);

			if (!strncmp(nm, "___GFP_", 7)) {
				names[n] = nm;
				bits[n++] = e[i].val;
			}
		}
	}
	return n ? gfp_table_from_bits(t, names, bits, n) : -1;
}

int gfp_table_load(struct gfp_table *t)
{
	const char *tfs = ms_tracefs();
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (tfs) {
		char path[256], *buf = NULL;
		size_t cap = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/events/kmem/mm_page_alloc/format", tfs);
		f = fopen(path, "r");
		if (f) {
			ssize_t len = getdelim(&buf, &cap, '\0', f);

			if (len > 0)
				rc = gfp_table_parse_format(t, buf, btf_enum_ident);
			free(buf);
			fclose(f);
		}
	}
	if (rc < 0)
		rc = load_from_btf(t);
	return rc;
}

int gfp_names(const struct gfp_table *t, unsigned long mask, char (*names)[GFP_NAME_LEN],
	      int max)
{
	int n = 0;

	/* Same walk as trace_print_flags_seq(): first match wins, its bits are consumed. */
	for (int i = 0; i < t->n && mask && n < max; i++) {
		unsigned long m = t->flag[i].mask;

		if ((mask & m) != m)
			continue;
		mask &= ~m;
		snprintf(names[n++], GFP_NAME_LEN, "%s", t->flag[i].name);
	}
	if (mask && n < max)
		snprintf(names[n++], GFP_NAME_LEN, "0x%lx", mask);
	return n;
}

const char *gfp_format(const struct gfp_table *t, unsigned long mask, char *buf, size_t len)
{
	char names[GFP_MAX_NAMES][GFP_NAME_LEN];
	int n = gfp_names(t, mask, names, GFP_MAX_NAMES);
	struct strbuf sb;

	sb_init(&sb, buf, len);
	if (!n)
		sb_add(&sb, "none");
	for (int i = 0; i < n; i++) {
		sb_sep(&sb, "|");
		sb_add(&sb, "%s", names[i]);
	}
	return buf;
}

/* One part of a mask as written: a number, or a name in the table. */
static int gfp_parse_part(const struct gfp_table *t, const char *part, size_t len,
			  unsigned long *mask)
{
	char word[GFP_NAME_LEN], *end;

	while (len && isspace((unsigned char)*part))
		part++, len--;
	while (len && isspace((unsigned char)part[len - 1]))
		len--;
	if (!len || len >= sizeof(word))
		return -1;
	snprintf(word, sizeof(word), "%.*s", (int)len, part);
	if (isdigit((unsigned char)word[0])) {
		errno = 0;
		*mask |= strtoul(word, &end, 0);
		return *end || errno ? -1 : 0;
	}
	for (int i = 0; i < t->n; i++)
		if (!strcasecmp(t->flag[i].name, word)) {
			*mask |= t->flag[i].mask;
			return 0;
		}
	return -1;
}

int gfp_parse(const struct gfp_table *t, const char *text, unsigned long *mask)
{
	*mask = 0;
	for (const char *p = text;; p++) {
		size_t len = strcspn(p, "|");

		if (gfp_parse_part(t, p, len, mask))
			return -1;
		p += len;
		if (!*p)
			return 0;
	}
}

unsigned long gfp_flag_mask(const struct gfp_table *t, const char *name)
{
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->flag[i].name, name))
			return t->flag[i].mask;
	return 0;
}
