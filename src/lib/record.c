// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "record.h"
#include "units.h"

static bool is_null(const struct record_desc *d, const void *rec, const struct field *f)
{
	uint64_t mask;

	if (!(f->flags & FF_NULL) || d->null_off < 0)
		return false;
	memcpy(&mask, (const char *)rec + d->null_off, sizeof(mask));
	return mask & (1ULL << (f - d->fields));
}

/* The field's index; an unknown key is a bug. (First letters first: thousands of lookups
 * make a scrape of many cgroups.) */
static int field_index(const struct record_desc *d, const char *key)
{
	for (int i = 0; i < d->nr; i++)
		if (d->fields[i].key[0] == key[0] && !strcmp(d->fields[i].key, key))
			return i;
	abort();
}

bool record_is_null(const struct record_desc *d, const void *rec, const char *key)
{
	return is_null(d, rec, &d->fields[field_index(d, key)]);
}

bool record_is_null_at(const struct record_desc *d, const void *rec, int idx)
{
	return is_null(d, rec, &d->fields[idx]);
}

void record_mark(const struct record_desc *d, void *rec, int idx, bool null)
{
	uint64_t mask;

	/* a field that cannot be null, or a record without a mask: a bug */
	if (idx < 0 || idx >= d->nr || idx >= 64 || !(d->fields[idx].flags & FF_NULL) ||
	    d->null_off < 0)
		abort();
	memcpy(&mask, (char *)rec + d->null_off, sizeof(mask));
	mask = null ? mask | 1ULL << idx : mask & ~(1ULL << idx);
	memcpy((char *)rec + d->null_off, &mask, sizeof(mask));
}

void record_null(const struct record_desc *d, void *rec, const char *key)
{
	record_mark(d, rec, field_index(d, key), true);
}

static json_object *array_json(const struct field *f, const void *rec)
{
	const char *p = (const char *)rec + f->off;
	size_t max = f->size / 8;
	json_object *a = json_object_new_array();
	uint32_t n;

	memcpy(&n, (const char *)rec + f->count_off, sizeof(n));
	for (size_t i = 0; i < n && i < max; i++) {
		uint64_t u;
		int64_t s;
		double d;

		if (f->type == FT_U64S) {
			memcpy(&u, p + 8 * i, 8);
			json_object_array_add(a, json_u64(u));
		} else if (f->type == FT_S64S) {
			memcpy(&s, p + 8 * i, 8);
			json_object_array_add(a, json_object_new_int64(s));
		} else {
			memcpy(&d, p + 8 * i, 8);
			json_object_array_add(a, json_fixed(d, 3));
		}
	}
	return a;
}

static json_object *sub_json(const struct field *f, const void *rec);

static json_object *field_json(const struct field *f, const void *rec)
{
	const char *p = (const char *)rec + f->off;
	uint32_t u32;
	int32_t s32;
	uint64_t u64;
	int64_t s64;
	double f64;
	bool b;

	switch (f->type) {
	case FT_STR:
		return json_object_new_string_len(p, strnlen(p, f->size));
	case FT_U32:
		memcpy(&u32, p, sizeof(u32));
		return json_object_new_int64(u32);
	case FT_S32:
		memcpy(&s32, p, sizeof(s32));
		return json_object_new_int(s32);
	case FT_U64:
		memcpy(&u64, p, sizeof(u64));
		return json_u64(u64);
	case FT_S64:
		memcpy(&s64, p, sizeof(s64));
		return json_object_new_int64(s64);
	case FT_F64: { /* six significant digits: 0.05, not 0.050000000000000003 */
		char buf[32];

		memcpy(&f64, p, sizeof(f64));
		snprintf(buf, sizeof(buf), "%.6g", f64);
		if (!strpbrk(buf, ".en"))
			strcat(buf, ".0"); /* stays a number with a fraction in JSON */
		return json_object_new_double_s(f64, buf);
	}
	case FT_BOOL:
		memcpy(&b, p, sizeof(b));
		return json_object_new_boolean(b);
	case FT_U64S:
	case FT_S64S:
	case FT_F64S:
		return array_json(f, rec);
	case FT_REC:
	case FT_RECS:
		return sub_json(f, rec);
	case FT_STRS: {
		json_object *a = json_object_new_array();
		uint32_t n;

		memcpy(&n, (const char *)rec + f->count_off, sizeof(n));
		for (uint32_t i = 0; i < n && (i + 1) * f->elem <= f->size; i++)
			json_object_array_add(a, json_object_new_string_len(
				p + i * f->elem, strnlen(p + i * f->elem, f->elem)));
		return a;
	}
	}
	return NULL;
}

/* A nested record, or an array of them. */
static json_object *sub_json(const struct field *f, const void *rec)
{
	const char *p = (const char *)rec + f->off;
	json_object *a;
	uint32_t n;

	if (f->type == FT_REC) {
		json_object *o = json_object_new_object();

		record_json_fields(f->sub, p, o);
		return o;
	}
	memcpy(&n, (const char *)rec + f->count_off, sizeof(n));
	a = json_object_new_array();
	for (uint32_t i = 0; i < n && (i + 1) * f->sub->size <= f->size; i++) {
		json_object *o = json_object_new_object();

		record_json_fields(f->sub, p + i * f->sub->size, o);
		json_object_array_add(a, o);
	}
	return a;
}

void record_json_fields(const struct record_desc *d, const void *rec, json_object *o)
{
	for (int i = 0; i < d->nr; i++) {
		const struct field *f = &d->fields[i];

		if (f->flags & FF_TEXT)
			continue;
		if (f->flags & FF_INLINE) {
			record_json_fields(f->sub, (const char *)rec + f->off, o);
			continue;
		}
		json_object_object_add(o, f->key, is_null(d, rec, f) ? NULL : field_json(f, rec));
	}
}

json_object *record_row(const struct record_desc *d, const void *rec, double ts)
{
	json_object *o = record_json(d, rec, ts);

	for (int i = 0; i < d->nr; i++)
		if (d->fields[i].flags & FF_TEXT)
			json_object_object_add(o, d->fields[i].key, field_json(&d->fields[i], rec));
	return o;
}

json_object *record_json(const struct record_desc *d, const void *rec, double ts)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(d->type));
	json_object_object_add(o, "ts", json_ts(ts));
	record_json_fields(d, rec, o);
	return o;
}

static enum ms_col_kind col_kind(const struct field *f)
{
	if (f->type == FT_STR || f->type == FT_BOOL)
		return COL_STR;
	if (f->type >= FT_U64S)
		return f->unit == FU_BYTES ? COL_BYTES_LIST : COL_STR;
	if (f->unit == FU_BYTES)
		return f->flags & FF_DELTA ? COL_BYTES_DELTA : COL_BYTES;
	if (f->unit == FU_NS)
		return COL_DURATION;
	if (f->flags & FF_COUNT)
		return COL_COUNT;
	if (f->unit == FU_PERCENT)
		return COL_PERCENT;
	return f->type == FT_F64 ? COL_FLOAT3 : COL_INT;
}

int record_cols(const struct record_desc *d, struct ms_col *cols, int max, unsigned omit)
{
	int n = 0;

	for (int i = 0; i < d->nr && n < max; i++) {
		const struct field *f = &d->fields[i];

		if (!f->head || (f->flags & omit))
			continue;
		cols[n++] = (struct ms_col){ f->head, f->key, col_kind(f), f->flags & FF_LEFT,
					     f->flags & FF_KEY };
	}
	return n;
}

int record_cols_pick(const struct record_desc *d, const char *const *keys, struct ms_col *cols,
		     int max)
{
	int n = 0;

	for (; *keys && n < max; keys++)
		for (int i = 0; i < d->nr; i++) {
			const struct field *f = &d->fields[i];

			if (!strcmp(f->key, *keys) && f->head)
				cols[n++] = (struct ms_col){ f->head, f->key, col_kind(f),
							     f->flags & FF_LEFT,
							     f->flags & FF_KEY };
		}
	return n;
}

const char *record_text(const struct record_desc *d, const void *rec, const char *key,
			char *buf, size_t len)
{
	for (int i = 0; i < d->nr; i++) {
		const struct field *f = &d->fields[i];
		json_object *v;
		const char *s;

		if (strcmp(f->key, key))
			continue;
		v = is_null(d, rec, f) ? NULL : field_json(f, rec);
		s = out_format_value(v, col_kind(f), buf, len);
		if (s != buf)
			snprintf(buf, len, "%s", s);
		json_object_put(v);
		return buf;
	}
	snprintf(buf, len, "?");
	return buf;
}

static const char *const type_names[] = { "string", "u32", "s32", "u64", "s64", "number",
					  "bool", "[u64]", "[s64]", "[number]", "object", "[object]",
					  "[string]" };
static const char *const unit_names[] = { "", "bytes", "ns", "pages", "percent" };
static const char *const kind_names[] = { "label", "gauge", "counter" };

void record_docs(FILE *out, const struct record_desc *const *types, int n)
{
	for (int t = 0; t < n; t++) {
		const struct record_desc *d = types[t];

		fprintf(out, "### `%s`\n%s\n\n| field | type | unit | kind | null | text | meaning |\n"
			"|---|---|---|---|---|---|---|\n", d->type, d->help);
		fprintf(out, "| `type` | string | | label | no | | \"%s\" |\n", d->type);
		fprintf(out, "| `ts` | number | | gauge | no | | wall-clock time, seconds since "
			"the epoch |\n");
		for (int i = 0; i < d->nr; i++) {
			const struct field *f = &d->fields[i];

			if (f->flags & FF_TEXT)
				continue;
			if (f->flags & FF_INLINE) {
				fprintf(out, "| (every field of `%s`) | | | | | | %s |\n",
					f->sub->type, f->help);
				continue;
			}
			fprintf(out, "| `%s` | %s%s%s%s | %s | %s | %s | %s | %s |\n", f->key,
				type_names[f->type], f->sub ? " `" : "", f->sub ? f->sub->type : "",
				f->sub ? "`" : "", unit_names[f->unit], kind_names[f->kind],
				f->flags & FF_NULL ? "yes" : "no", f->head ? f->head : "", f->help);
		}
		fprintf(out, "\n");
	}
}

const char *record_field_traits(const struct field *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s, %s%s", type_names[f->type], f->sub ? " of " : "",
		 f->sub ? f->sub->type : "", f->unit ? ", " : "", unit_names[f->unit],
		 kind_names[f->kind], f->flags & FF_NULL ? ", may be null" : "");
	return buf;
}
