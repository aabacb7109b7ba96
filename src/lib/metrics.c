// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "msg.h"
#include "strbuf.h"
#include "textsafe.h"

struct sample {
	char *family, *help, *line;
	const char *type;
	size_t seq;
};

struct metrics {
	struct sample *s;
	size_t n, cap;
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
		free(m->s[i].family);
		free(m->s[i].help);
		free(m->s[i].line);
	}
	free(m->s);
	free(m);
}

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

		label_pair(&t, name, v, strlen(v));
	}
	va_end(ap);
	return text_take(&t);
}

/* name{labels} value: the family is the name but for a histogram's suffixes. */
static void add_line(struct metrics *m, const char *family, const char *type, const char *help,
		     char *line)
{
	struct sample *s;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->s = realloc(m->s, m->cap * sizeof(*m->s));
		if (!m->s)
			ms_fatal("out of memory");
	}
	s = &m->s[m->n];
	s->family = xstrdup(family);
	s->help = xstrdup(help);
	s->line = line;
	s->type = type;
	s->seq = m->n++;
}

/* The line of one sample (malloc'ed). */
static char *sample_text(const char *name, const char *labels, const char *value)
{
	struct text t = { 0 };

	text_str(&t, name);
	if (labels && *labels) {
		text_str(&t, "{");
		text_str(&t, labels);
		text_str(&t, "}");
	}
	text_str(&t, " ");
	text_str(&t, value);
	return text_take(&t);
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

	add_line(m, name, type, help, sample_text(name, labels, fmt_double(v, sizeof(v), value)));
}

void metrics_add_u64(struct metrics *m, const char *name, const char *type, const char *help,
		     const char *labels, uint64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64, value);
	add_line(m, name, type, help, sample_text(name, labels, v));
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail);
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
	}
	snprintf(buf, len, "%s%.*s%s%s", prefix, (int)k, f->key, unit,
		 f->kind == FK_COUNTER ? "_total" : "");
	return buf;
}

/* A scalar field as the value text of a sample; NULL when it is not a number. */
static const char *value_text(const struct field *f, const char *p, char *buf, size_t len)
{
	double scale = f->unit == FU_NS ? 1e-9 : f->unit == FU_PERCENT ? 0.01 : 1;
	union { uint32_t u32; int32_t s32; uint64_t u64; int64_t s64; double f64; bool b; } v;

	memcpy(&v, p, f->type == FT_U32 || f->type == FT_S32 ? 4 : f->type == FT_BOOL ? 1 : 8);
	if (scale != 1 && f->type != FT_F64 && f->type != FT_BOOL)
		return fmt_double(buf, len, (f->type == FT_S32 ? v.s32 : f->type == FT_S64 ? v.s64 :
					     f->type == FT_U32 ? v.u32 : (double)v.u64) * scale);
	switch (f->type) {
	case FT_U32: snprintf(buf, len, "%" PRIu32, v.u32); return buf;
	case FT_S32: snprintf(buf, len, "%" PRId32, v.s32); return buf;
	case FT_U64: snprintf(buf, len, "%" PRIu64, v.u64); return buf;
	case FT_S64: snprintf(buf, len, "%" PRId64, v.s64); return buf;
	case FT_F64: return fmt_double(buf, len, v.f64 * scale);
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
static void array_samples(struct metrics *m, const char *name, const struct field *f,
			  const void *rec, const char *labels)
{
	struct field elem = *f;
	uint32_t n;

	elem.type = f->type == FT_U64S ? FT_U64 : f->type == FT_S64S ? FT_S64 : FT_F64;
	memcpy(&n, (const char *)rec + f->count_off, sizeof(n));
	for (uint32_t i = 0; i < n && i < f->size / 8; i++) {
		struct text lab = { 0 };
		char idx[16], v[64], *l;

		text_str(&lab, labels);
		snprintf(idx, sizeof(idx), "%u", i);
		label_pair(&lab, f->index, idx, strlen(idx));
		l = text_take(&lab);
		add_line(m, name, "gauge", f->help, sample_text(name, l,
			 value_text(&elem, (const char *)rec + f->off + 8 * i, v, sizeof(v))));
		free(l);
	}
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
	char name[256], val[64], *lab = record_labels(d, rec, v->labels, labels);

	for (int i = 0; i < d->nr; i++) {
		const struct field *f = &d->fields[i];
		const char *p = (const char *)rec + f->off;
		const char *type = f->kind == FK_COUNTER ? "counter" : "gauge";

		if (!is_metric(v, f) || field_null(d, rec, f))
			continue;
		metrics_field_name(name, sizeof(name), v->prefix, f);
		if (is_array(f)) {
			array_samples(m, name, f, rec, lab);
			continue;
		}
		if (!value_text(f, p, val, sizeof(val)))
			continue;
		add_line(m, name, type, f->help, sample_text(name, lab, val));
	}
	free(lab);
}

void metrics_histogram(struct metrics *m, const char *name, const char *help,
		       const char *labels, const double *le, const uint64_t *in_bucket, int n,
		       double sum)
{
	char sname[256], v[64], b[64];
	uint64_t cum = 0;

	snprintf(sname, sizeof(sname), "%s_bucket", name);
	for (int i = 0; i <= n; i++) {
		struct text lab = { 0 };
		const char *bound = i < n ? fmt_double(b, sizeof(b), le[i]) : "+Inf";
		char *l;

		text_str(&lab, labels ? labels : "");
		label_pair(&lab, "le", bound, strlen(bound));
		if (i < n)
			cum += in_bucket[i];
		snprintf(v, sizeof(v), "%" PRIu64, cum);
		l = text_take(&lab);
		add_line(m, name, "histogram", help, sample_text(sname, l, v));
		free(l);
	}
	snprintf(sname, sizeof(sname), "%s_sum", name);
	add_line(m, name, "histogram", help, sample_text(sname, labels,
							 fmt_double(v, sizeof(v), sum)));
	snprintf(sname, sizeof(sname), "%s_count", name);
	snprintf(v, sizeof(v), "%" PRIu64, cum);
	add_line(m, name, "histogram", help, sample_text(sname, labels, v));
}

static int by_family(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;
	int c = strcmp(x->family, y->family);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
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
	qsort(m->s, m->n, sizeof(*m->s), by_family);
	for (size_t i = 0; i < m->n; i++) {
		const struct sample *s = &m->s[i];

		if (!i || strcmp(s->family, m->s[i - 1].family)) {
			fprintf(f, "# HELP %s ", s->family);
			help_text(f, s->help);
			fprintf(f, "\n# TYPE %s %s\n", s->family, s->type);
		}
		fprintf(f, "%s\n", s->line);
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

void metrics_record_docs(FILE *out, const struct metrics_view *v,
			 const char *(*equivalent)(const char *name))
{
	for (int i = 0; i < v->d->nr; i++) {
		const struct field *f = &v->d->fields[i];
		char name[256], labels[256], help[512];
		struct strbuf sb;

		if (!is_metric(v, f))
			continue;
		metrics_field_name(name, sizeof(name), v->prefix, f);
		sb_init(&sb, labels, sizeof(labels));
		for (int k = 0; v->labels && v->labels[k]; k++) {
			sb_sep(&sb, ", ");
			sb_add(&sb, "%s", v->labels[k]);
		}
		if (is_array(f)) {
			sb_sep(&sb, ", ");
			sb_add(&sb, "%s", f->index);
		}
		snprintf(help, sizeof(help), "%s%s", f->help,
			 f->flags & FF_NULL ? " (absent where unknown)" : "");
		metrics_doc_row(out, name, f->kind == FK_COUNTER ? "counter" : "gauge", labels, help,
				equivalent ? equivalent(name) : NULL);
	}
}
