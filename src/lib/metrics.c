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
	t->cap = t->len + more + 1 > 2 * t->cap ? t->len + more + 1 : 2 * t->cap;
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

/* A view's fields worked out once per scrape: each one's family, made at its first
 * sample (a field null everywhere has none). */
enum { FAM_NONE = -1, FAM_LATER = -2 };
struct view_state {
	const struct metrics_view *v;
	int *fam; /* per field: index into metrics.f, FAM_NONE (no metric) or FAM_LATER */
};

struct metrics {
	struct family *f;
	size_t n, cap;
	int *slot; /* open addressing: index into f, -1 free; nslot a power of two */
	size_t nslot;
	struct view_state *vs;
	size_t nvs;
	/* the last histogram's bounds and as text: fifty cgroups' histograms share theirs */
	double *le;
	int nle;
	char (*le_text)[32];
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
	for (size_t i = 0; i < m->nvs; i++)
		free(m->vs[i].fam);
	free(m->vs);
	free(m->le);
	free(m->le_text);
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
static int family_index(struct metrics *m, const char *name, const char *type,
			const char *help)
{
	size_t s;

	if (2 * (m->n + 1) > m->nslot)
		rehash(m);
	for (s = name_hash(name) & (m->nslot - 1); m->slot[s] >= 0; s = (s + 1) & (m->nslot - 1))
		if (!strcmp(m->f[m->slot[s]].name, name))
			return m->slot[s];
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->f = realloc(m->f, m->cap * sizeof(*m->f));
		if (!m->f)
			ms_fatal("out of memory");
	}
	m->slot[s] = m->n;
	m->f[m->n] = (struct family){ .name = xstrdup(name), .help = xstrdup(help), .type = type };
	return m->n++;
}

static struct family *family_of(struct metrics *m, const char *name, const char *type,
				const char *help)
{
	int i = family_index(m, name, type, help); /* first: it may move m->f */

	return &m->f[i];
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

/* name{labels} value in a family's text. */
static void put_sample(struct text *t, const char *name, const char *labels, const char *value)
{
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

/* name{labels} value, under its family (the name but for a histogram's suffixes). */
static void add_sample(struct metrics *m, const char *family, const char *type,
		       const char *help, const char *name, const char *labels, const char *value)
{
	put_sample(&family_of(m, family, type, help)->body, name, labels, value);
}

/* Decimal digits of v, without printf's machinery (thousands of samples a scrape). */
static const char *fmt_u64(char *buf, size_t len, uint64_t v)
{
	char *p = buf + len - 1;

	*p = 0;
	do
		*--p = '0' + v % 10;
	while ((v /= 10) && p > buf);
	return p;
}

static const char *fmt_s64(char *buf, size_t len, int64_t v)
{
	const char *p = fmt_u64(buf + 1, len - 1, v < 0 ? -(uint64_t)v : (uint64_t)v);

	if (v >= 0)
		return p;
	((char *)p)[-1] = '-';
	return p - 1;
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
		/* a JSON total (psi_full_total_ns) is a counter ending in _seconds_total */
		if (f->kind == FK_COUNTER && k > 6 && !strncmp(f->key + k - 6, "_total", 6))
			k -= 6;
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
	case FT_U32: return fmt_u64(buf, len, v.u32 * mult);
	case FT_S32: return fmt_s64(buf, len, v.s32 * (int64_t)mult);
	case FT_U64: return fmt_u64(buf, len, v.u64 * mult);
	case FT_S64: return fmt_s64(buf, len, v.s64 * (int64_t)mult);
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
			const char *p = (const char *)rec + f->off, *text;
			char v[64];

			if (strcmp(f->key, keys[i]) || field_null(d, rec, f))
				continue;
			if (f->type == FT_STR) {
				label_pair(&t, f->key, p, strnlen(p, f->size));
			} else if ((text = value_text(f, p, v, sizeof(v)))) {
				const char *s = f->type != FT_BOOL ? text :
						!strcmp(text, "1") ? "true" : "false";

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
static void array_samples(struct metrics *m, int fam, const struct field *f, const void *rec,
			  const char *labels)
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
		put_sample(&m->f[fam].body, m->f[fam].name, lab.s,
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

static struct view_state *view_state(struct metrics *m, const struct metrics_view *v)
{
	struct view_state *vs;

	for (size_t i = 0; i < m->nvs; i++)
		if (m->vs[i].v == v)
			return &m->vs[i];
	m->vs = realloc(m->vs, (m->nvs + 1) * sizeof(*m->vs));
	vs = m->vs ? &m->vs[m->nvs++] : NULL;
	if (!vs || !(vs->fam = malloc(v->d->nr * sizeof(*vs->fam))))
		ms_fatal("out of memory");
	vs->v = v;
	for (int i = 0; i < v->d->nr; i++)
		vs->fam[i] = is_metric(v, &v->d->fields[i]) ? FAM_LATER : FAM_NONE;
	return vs;
}

/* The field's family, made at its first sample. */
static int field_family(struct metrics *m, struct view_state *vs, int i)
{
	const struct field *f = &vs->v->d->fields[i];
	char name[256], help[512];

	if (vs->fam[i] == FAM_LATER)
		vs->fam[i] = family_index(m, metrics_field_name(name, sizeof(name), vs->v->prefix, f),
					  f->kind == FK_COUNTER ? "counter" : "gauge",
					  field_help(vs->v, f, help, sizeof(help)));
	return vs->fam[i];
}

void metrics_record(struct metrics *m, const struct metrics_view *v, const void *rec,
		    const char *labels)
{
	const struct record_desc *d = v->d;
	struct view_state *vs = view_state(m, v);
	char val[64], *lab = record_labels(d, rec, v->labels, labels);

	for (int i = 0; i < d->nr; i++) {
		const struct field *f = &d->fields[i];
		const char *text;
		int fam;

		if (vs->fam[i] == FAM_NONE || ((f->flags & FF_NULL) && record_is_null_at(d, rec, i)))
			continue;
		if (is_array(f)) {
			array_samples(m, field_family(m, vs, i), f, rec, lab);
			continue;
		}
		if (!(text = value_text(f, (const char *)rec + f->off, val, sizeof(val))))
			continue;
		fam = field_family(m, vs, i);
		put_sample(&m->f[fam].body, m->f[fam].name, lab, text);
	}
	free(lab);
}

/* The bounds as text, kept for the next histogram with the same ones. */
static char (*bounds_text(struct metrics *m, const double *le, int n))[32]
{
	if (m->le && m->nle == n && !memcmp(m->le, le, n * sizeof(*le)))
		return m->le_text;
	free(m->le);
	free(m->le_text);
	m->le = malloc(n * sizeof(*le) + 1);
	m->le_text = malloc((n + 1) * sizeof(*m->le_text));
	if (!m->le || !m->le_text)
		ms_fatal("out of memory");
	memcpy(m->le, le, n * sizeof(*le));
	for (int i = 0; i < n; i++) {
		char b[32];

		snprintf(m->le_text[i], sizeof(m->le_text[i]), "%s", fmt_double(b, sizeof(b), le[i]));
	}
	snprintf(m->le_text[n], sizeof(m->le_text[n]), "+Inf");
	m->nle = n;
	return m->le_text;
}

void metrics_histogram(struct metrics *m, const char *name, const char *help,
		       const char *labels, const double *le, const uint64_t *in_bucket, int n,
		       double sum)
{
	char (*bound)[32] = bounds_text(m, le, n);
	struct text lab = { 0 };
	struct family *fam;
	char sname[256], v[64];
	uint64_t cum = 0;
	size_t base;

	text_str(&lab, labels ? labels : "");
	base = lab.len;
	snprintf(sname, sizeof(sname), "%s_bucket", name);
	fam = family_of(m, name, "histogram", help);
	for (int i = 0; i <= n; i++) {
		lab.len = base;
		label_pair(&lab, "le", bound[i], strlen(bound[i]));
		cum += in_bucket[i]; /* the last: above every bound */
		put_sample(&fam->body, sname, lab.s, fmt_u64(v, sizeof(v), cum));
	}
	free(lab.s);
	snprintf(sname, sizeof(sname), "%s_sum", name);
	put_sample(&fam->body, sname, labels, fmt_double(v, sizeof(v), sum));
	snprintf(sname, sizeof(sname), "%s_count", name);
	put_sample(&fam->body, sname, labels, fmt_u64(v, sizeof(v), cum));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct family *)a)->name, ((const struct family *)b)->name);
}

/* HELP text: backslash and newline escaped. */
static void help_text(struct text *t, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			text_put(t, "\\\\", 2);
		else if (*p == '\n')
			text_put(t, "\\n", 2);
		else
			text_put(t, p, 1);
	}
}

char *metrics_render(struct metrics *m, size_t *len)
{
	struct text t = { 0 };
	size_t need = 1;

	qsort(m->f, m->n, sizeof(*m->f), by_name);
	/* indices no longer match: the hash is rebuilt by the next sample, views anew */
	m->nslot = 0;
	for (size_t i = 0; i < m->nvs; i++)
		free(m->vs[i].fam);
	m->nvs = 0;
	/* one allocation of about the whole text (a scrape of many cgroups is ~1 MB) */
	for (size_t i = 0; i < m->n; i++)
		need += 2 * strlen(m->f[i].name) + 2 * strlen(m->f[i].help) + 32 +
			m->f[i].body.len;
	text_room(&t, need);
	for (size_t i = 0; i < m->n; i++) {
		const struct family *fam = &m->f[i];

		text_str(&t, "# HELP ");
		text_str(&t, fam->name);
		text_str(&t, " ");
		help_text(&t, fam->help);
		text_str(&t, "\n# TYPE ");
		text_str(&t, fam->name);
		text_str(&t, " ");
		text_str(&t, fam->type);
		text_str(&t, "\n");
		text_put(&t, fam->body.s ? fam->body.s : "", fam->body.len);
	}
	*len = t.len;
	return text_take(&t);
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
