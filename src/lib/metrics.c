// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "msg.h"
#include "runtime.h"
#include "strbuf.h"
#include "textsafe.h"

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		ms_fatal("out of memory");
	return d;
}

/*
 * Text that grows as needed: a label set or a sample line has no length limit (a cgroup's
 * path alone may take 4 KiB), and a cut one would leave a label open and void the scrape.
 */
struct text {
	char *s;
	size_t len, cap;
};

static void text_room(struct text *t, size_t more)
{
	if (t->len + more + 1 <= t->cap)
		return;
	t->cap = (t->len + more + 1) * 2;
	t->s = realloc(t->s, t->cap);
	if (!t->s)
		ms_fatal("out of memory");
}

static void text_put(struct text *t, const char *s, size_t n)
{
	text_room(t, n);
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = 0;
}

static void text_str(struct text *t, const char *s)
{
	text_put(t, s, strlen(s));
}

/* The text, "" when nothing was added; the caller frees it. */
static char *text_take(struct text *t)
{
	if (!t->s)
		return xstrdup("");
	return t->s;
}

/*
 * A family: its HELP and TYPE once, then its sample lines in the order added. A scrape
 * of fifty memory cgroups is thousands of samples in a few hundred families: each
 * sample is appended to its family's text, found by a hash of its name.
 */
struct family {
	char *name, *help;
	const char *type;
	struct text body;
};

struct metrics {
	struct family *f;
	size_t n, cap;
	int *slot; /* open addressing: index into f, -1 free; nslot a power of two */
	size_t nslot;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		ms_fatal("out of memory");
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->f[i].name);
		free(m->f[i].help);
		free(m->f[i].body.s);
	}
	free(m->f);
	free(m->slot);
	free(m);
}

static size_t name_hash(const char *s)
{
	size_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void rehash(struct metrics *m)
{
	for (m->nslot = 256; m->nslot < 4 * (m->n + 1); m->nslot *= 2)
		;
	free(m->slot);
	m->slot = malloc(m->nslot * sizeof(*m->slot));
	if (!m->slot)
		ms_fatal("out of memory");
	memset(m->slot, 0xff, m->nslot * sizeof(*m->slot));
	for (size_t i = 0; i < m->n; i++) {
		size_t s = name_hash(m->f[i].name) & (m->nslot - 1);

		while (m->slot[s] >= 0)
			s = (s + 1) & (m->nslot - 1);
		m->slot[s] = i;
	}
}

/* The family of that name; made with this help and type when it is the first sample. */
static struct family *family_of(struct metrics *m, const char *name, const char *type,
				const char *help)
{
	size_t s;

	if (2 * (m->n + 1) > m->nslot)
		rehash(m);
	for (s = name_hash(name) & (m->nslot - 1); m->slot[s] >= 0; s = (s + 1) & (m->nslot - 1))
		if (!strcmp(m->f[m->slot[s]].name, name))
			return &m->f[m->slot[s]];
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->f = realloc(m->f, m->cap * sizeof(*m->f));
		if (!m->f)
			ms_fatal("out of memory");
	}
	m->slot[s] = m->n;
	m->f[m->n] = (struct family){ .name = xstrdup(name), .help = xstrdup(help), .type = type };
	return &m->f[m->n++];
}

/*
 * A label value as the other outputs show a name the kernel handed over: text_safe's
 * '?' for control characters (newline and tab included) and invalid UTF-8, so that
 * `curl .../metrics` on a terminal runs nothing; then backslash and quote escaped.
 */
static void label_value(struct text *t, const char *v, size_t n)
{
	/* room for a replacement as long as U+FFFD for every byte */
	size_t room = 3 * n + 1;
	char small[256], *safe = room <= sizeof(small) ? small : malloc(room);

	if (!safe)
		ms_fatal("out of memory");
	text_safe(v, n, false, safe, room);
	for (const char *p = safe; *p; p++) {
		if (*p == '\\' || *p == '"')
			text_put(t, "\\", 1);
		text_put(t, p, 1);
	}
	if (safe != small)
		free(safe);
}

static void label_pair(struct text *t, const char *name, const char *value, size_t n)
{
	if (t->len)
		text_str(t, ",");
	text_str(t, name);
	text_str(t, "=\"");
	label_value(t, value, n);
	text_str(t, "\"");
}

char *metrics_labels(const char *name, ...)
{
	struct text t = { 0 };
	va_list ap;

	va_start(ap, name);
	for (; name; name = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);

		if (v) /* NULL: a label this sample does not have */
			label_pair(&t, name, v, strlen(v));
	}
	va_end(ap);
	return text_take(&t);
}

/* name{labels} value, under its family (the name but for a histogram's suffixes). */
static void add_sample(struct metrics *m, const char *family, const char *type,
		       const char *help, const char *name, const char *labels, const char *value)
{
	struct text *t = &family_of(m, family, type, help)->body;

	text_str(t, name);
	if (labels && *labels) {
		text_str(t, "{");
		text_str(t, labels);
		text_str(t, "}");
	}
	text_str(t, " ");
	text_str(t, value);
	text_str(t, "\n");
}

static const char *fmt_double(char *buf, size_t len, double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	snprintf(buf, len, "%.15g", v);
	return buf;
}

void metrics_add(struct metrics *m, const char *name, const char *type, const char *help,
		 const char *labels, double value)
{
	char v[64];

	add_sample(m, name, type, help, name, labels, fmt_double(v, sizeof(v), value));
}

void metrics_add_u64(struct metrics *m, const char *name, const char *type, const char *help,
		     const char *labels, uint64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64, value);
	add_sample(m, name, type, help, name, labels, v);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail);
}

/* Pages are served as bytes: one unit for one fact, whatever the machine's page size. */
static bool as_bytes(const struct field *f)
{
	return f->unit == FU_PAGES && ends_with(f->key, "_pages");
}

char *metrics_field_name(char *buf, size_t len, const char *prefix, const struct field *f)
{
	size_t k = strlen(f->key);
	const char *unit = "";

	if (f->unit == FU_NS && ends_with(f->key, "_ns")) {
		k -= 3;
		unit = "_seconds";
	} else if (f->unit == FU_PERCENT && ends_with(f->key, "_percent")) {
		k -= 8;
		unit = "_ratio";
	} else if (as_bytes(f)) {
		k -= 6;
		unit = "_bytes";
	}
	snprintf(buf, len, "%s%.*s%s%s", prefix, (int)k, f->key, unit,
		 f->kind == FK_COUNTER ? "_total" : "");
	return buf;
}

/* The HELP of a field's family: the view's own text for it, or the record's. */
static const char *field_help(const struct metrics_view *v, const struct field *f, char *buf,
			      size_t len)
{
	const char *help = f->help;

	for (int i = 0; v->help && v->help[i]; i += 2)
		if (!strcmp(v->help[i], f->key))
			help = v->help[i + 1];
	if (!as_bytes(f))
		return help;
	snprintf(buf, len, "%s (counted in pages, served in bytes)", help);
	return buf;
}

/* A scalar field as the value text of a sample; NULL when it is not a number. */
static const char *value_text(const struct field *f, const char *p, char *buf, size_t len)
{
	double scale = f->unit == FU_NS ? 1e-9 : f->unit == FU_PERCENT ? 0.01 : 1;
	uint64_t mult = as_bytes(f) ? ms_page_size() : 1;
	union { uint32_t u32; int32_t s32; uint64_t u64; int64_t s64; double f64; bool b; } v;

	memcpy(&v, p, f->type == FT_U32 || f->type == FT_S32 ? 4 : f->type == FT_BOOL ? 1 : 8);
	if (scale != 1 && f->type != FT_F64 && f->type != FT_BOOL)
		return fmt_double(buf, len, (f->type == FT_S32 ? v.s32 : f->type == FT_S64 ? v.s64 :
					     f->type == FT_U32 ? v.u32 : (double)v.u64) * scale);
	switch (f->type) {
	case FT_U32: snprintf(buf, len, "%" PRIu64, v.u32 * mult); return buf;
	case FT_S32: snprintf(buf, len, "%" PRId64, v.s32 * (int64_t)mult); return buf;
	case FT_U64: snprintf(buf, len, "%" PRIu64, v.u64 * mult); return buf;
	case FT_S64: snprintf(buf, len, "%" PRId64, v.s64 * (int64_t)mult); return buf;
	case FT_F64: return fmt_double(buf, len, v.f64 * scale * mult);
	case FT_BOOL: return v.b ? "1" : "0";
	default: return NULL;
	}
}

static bool field_null(const struct record_desc *d, const void *rec, const struct field *f)
{
	return (f->flags & FF_NULL) && record_is_null(d, rec, f->key);
}

/* The record's label fields, then the caller's labels (malloc'ed). */
static char *record_labels(const struct record_desc *d, const void *rec,
			   const char *const *keys, const char *labels)
{
	struct text t = { 0 };

	for (int i = 0; keys && keys[i]; i++) {
		for (int j = 0; j < d->nr; j++) {
			const struct field *f = &d->fields[j];
			const char *p = (const char *)rec + f->off;
			char v[64];

			if (strcmp(f->key, keys[i]) || field_null(d, rec, f))
				continue;
			if (f->type == FT_STR) {
				label_pair(&t, f->key, p, strnlen(p, f->size));
			} else if (value_text(f, p, v, sizeof(v))) {
				const char *s = f->type != FT_BOOL ? v :
						!strcmp(v, "1") ? "true" : "false";

				label_pair(&t, f->key, s, strlen(s));
			}
		}
	}
	if (labels && *labels) {
		if (t.len)
			text_str(&t, ",");
		text_str(&t, labels);
	}
	return text_take(&t);
}

/* One sample per element of an array field, labelled by its index. */
static void array_samples(struct metrics *m, const char *name, const char *help,
			  const struct field *f, const void *rec, const char *labels)
{
	struct field elem = *f;
	struct text lab = { 0 };
	size_t base;
	uint32_t n;

	elem.type = f->type == FT_U64S ? FT_U64 : f->type == FT_S64S ? FT_S64 : FT_F64;
	memcpy(&n, (const char *)rec + f->count_off, sizeof(n));
	text_str(&lab, labels);
	base = lab.len;
	for (uint32_t i = 0; i < n && i < f->size / 8; i++) {
		char idx[16], v[64];

		lab.len = base;
		snprintf(idx, sizeof(idx), "%u", i);
		label_pair(&lab, f->index, idx, strlen(idx));
		add_sample(m, name, "gauge", help, name, lab.s,
			   value_text(&elem, (const char *)rec + f->off + 8 * i, v, sizeof(v)));
	}
	free(lab.s);
}

static bool is_array(const struct field *f)
{
	return f->type == FT_U64S || f->type == FT_S64S || f->type == FT_F64S;
}

/* Does metrics_record make a family of this field? */
static bool is_metric(const struct metrics_view *v, const struct field *f)
{
	if (f->kind == FK_LABEL || (f->flags & (FF_TEXT | FF_DELTA)))
		return false;
	for (int i = 0; v->omit && v->omit[i]; i++)
		if (!strcmp(v->omit[i], f->key))
			return false;
	if (is_array(f))
		return f->index != NULL;
	return f->type == FT_U32 || f->type == FT_S32 || f->type == FT_U64 || f->type == FT_S64 ||
	       f->type == FT_F64 || f->type == FT_BOOL;
}

void metrics_record(struct metrics *m, const struct metrics_view *v, const void *rec,
		    const char *labels)
{
	const struct record_desc *d = v->d;
	char name[256], val[64], help[512], *lab = record_labels(d, rec, v->labels, labels);

	for (int i = 0; i < d->nr; i++) {
		const struct field *f = &d->fields[i];
		const char *p = (const char *)rec + f->off;
		const char *type = f->kind == FK_COUNTER ? "counter" : "gauge";

		if (!is_metric(v, f) || field_null(d, rec, f))
			continue;
		metrics_field_name(name, sizeof(name), v->prefix, f);
		if (is_array(f)) {
			array_samples(m, name, field_help(v, f, help, sizeof(help)), f, rec, lab);
			continue;
		}
		if (!value_text(f, p, val, sizeof(val)))
			continue;
		add_sample(m, name, type, field_help(v, f, help, sizeof(help)), name, lab, val);
	}
	free(lab);
}

void metrics_histogram(struct metrics *m, const char *name, const char *help,
		       const char *labels, const double *le, const uint64_t *in_bucket, int n,
		       double sum)
{
	struct text lab = { 0 };
	char sname[256], v[64], b[64];
	uint64_t cum = 0;
	size_t base;

	text_str(&lab, labels ? labels : "");
	base = lab.len;
	snprintf(sname, sizeof(sname), "%s_bucket", name);
	for (int i = 0; i <= n; i++) {
		const char *bound = i < n ? fmt_double(b, sizeof(b), le[i]) : "+Inf";

		lab.len = base;
		label_pair(&lab, "le", bound, strlen(bound));
		cum += in_bucket[i]; /* the last: above every bound */
		snprintf(v, sizeof(v), "%" PRIu64, cum);
		add_sample(m, name, "histogram", help, sname, lab.s, v);
	}
	free(lab.s);
	snprintf(sname, sizeof(sname), "%s_sum", name);
	add_sample(m, name, "histogram", help, sname, labels, fmt_double(v, sizeof(v), sum));
	snprintf(sname, sizeof(sname), "%s_count", name);
	snprintf(v, sizeof(v), "%" PRIu64, cum);
	add_sample(m, name, "histogram", help, sname, labels, v);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct family *)a)->name, ((const struct family *)b)->name);
}

/* HELP text: backslash and newline escaped. */
static void help_text(FILE *f, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

char *metrics_render(struct metrics *m, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		ms_fatal("out of memory");
	qsort(m->f, m->n, sizeof(*m->f), by_name);
	m->nslot = 0; /* the index no longer matches: rebuilt by the next sample */
	for (size_t i = 0; i < m->n; i++) {
		const struct family *fam = &m->f[i];

		fprintf(f, "# HELP %s ", fam->name);
		help_text(f, fam->help);
		fprintf(f, "\n# TYPE %s %s\n", fam->name, fam->type);
		fwrite(fam->body.s, 1, fam->body.len, f);
	}
	if (fclose(f))
		ms_fatal("out of memory");
	return text;
}

void metrics_doc_row(FILE *out, const char *name, const char *type, const char *labels,
		     const char *help, const char *equivalent)
{
	fprintf(out, "| `%s` | %s | %s | ", name, type, labels && *labels ? labels : "");
	for (const char *p = help; *p; p++) /* a bar would end the cell */
		fputs(*p == '|' ? "\\|" : (char[]){ *p, 0 }, out);
	fprintf(out, " | %s |\n", equivalent ? equivalent : "");
}

void metrics_record_docs(FILE *out, const struct metrics_view *v, const char *labels,
			 const char *(*equivalent)(const char *name))
{
	for (int i = 0; i < v->d->nr; i++) {
		const struct field *f = &v->d->fields[i];
		char name[256], lab[256], help[512], full[600];
		struct strbuf sb;

		if (!is_metric(v, f))
			continue;
		metrics_field_name(name, sizeof(name), v->prefix, f);
		sb_init(&sb, lab, sizeof(lab));
		for (int k = 0; v->labels && v->labels[k]; k++) {
			sb_sep(&sb, ", ");
			sb_add(&sb, "%s", v->labels[k]);
		}
		if (labels && *labels) {
			sb_sep(&sb, ", ");
			sb_add(&sb, "%s", labels);
		}
		if (is_array(f)) {
			sb_sep(&sb, ", ");
			sb_add(&sb, "%s", f->index);
		}
		snprintf(full, sizeof(full), "%s%s", field_help(v, f, help, sizeof(help)),
			 f->flags & FF_NULL ? " (absent where unknown)" : "");
		metrics_doc_row(out, name, f->kind == FK_COUNTER ? "counter" : "gauge", lab, full,
				equivalent ? equivalent(name) : NULL);
	}
}
