/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records described once. A record is a plain C struct; its description lists each
 * field: the name (JSON key, and later metric and column name), the text column's
 * heading, the C type and place in the struct, the unit, whether it is a gauge, a
 * counter or a label, and whether it may be null. NDJSON lines, text tables and the
 * field documentation (memscope help fields) are all made from the description, so
 * a fact is named in one place.
 */
#ifndef MEMSCOPE_RECORD_H
#define MEMSCOPE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>
#include "output.h"

enum fld_type { FT_STR, FT_U32, FT_S32, FT_U64, FT_S64, FT_F64, FT_BOOL,
		/* arrays, with their length in a u32 member (count_off) */
		FT_U64S, FT_S64S, FT_F64S,
		/* a nested record (sub), or an array of them with their count at count_off */
		FT_REC, FT_RECS,
		/* an array of strings of elem bytes each */
		FT_STRS };
/* The unit is in the name too: "_bytes", "_ns", "_pages", "_percent" (tested). */
enum fld_unit { FU_NONE, FU_BYTES, FU_NS, FU_PAGES, FU_PERCENT };
enum fld_kind { FK_LABEL, FK_GAUGE, FK_COUNTER };

enum {
	FF_LEFT = 1 << 0,  /* text: left-aligned (names) */
	FF_DELTA = 1 << 1, /* a signed change since the previous report: +8.0 MiB */
	FF_COUNT = 1 << 2, /* text: 1.2k instead of every digit */
	FF_NULL = 1 << 3,  /* may be null: bit <field index> of the record's null mask */
	FF_TEXT = 1 << 4,  /* a text rendering of other fields: a column, not a JSON key */
	FF_INLINE = 1 << 5, /* FT_REC: the part's fields stand in the record itself */
	FF_KEY = 1 << 6,    /* text: a narrow screen shows this column before the others */
};

struct field {
	const char *key;  /* JSON key */
	const char *head; /* text column heading (ASCII); NULL: not a text column */
	enum fld_type type;
	enum fld_unit unit;
	enum fld_kind kind;
	unsigned int off;    /* offset in the record struct */
	unsigned short size; /* FT_STR: the char array's size */
	unsigned int count_off;   /* arrays: offset of the u32 element count */
	unsigned short elem;	  /* FT_STRS: bytes of one string */
	unsigned char flags;
	const char *help;
	const struct record_desc *sub; /* FT_REC, FT_RECS */
	const char *index; /* arrays: the metric label an element's index is ("order"); NULL:
			    * not a metric */
};

struct record_desc {
	const char *type; /* the records' "type" */
	const char *help;
	const struct field *fields;
	int nr;
	int null_off; /* offset of the struct's u64 null mask; -1: none */
	size_t size;  /* of the struct, for arrays of it */
};

#define RECORD_DESC(type_, help_, fields_, st)                                             \
	{ type_, help_, fields_, (int)(sizeof(fields_) / sizeof((fields_)[0])),           \
	  offsetof(st, null_mask), sizeof(st) }

/* A field of struct st's member m (its C type given as ft); FF_NULL: it may be null. */
#define FLD(st, m, key_, head_, ft, unit_, kind_, flags_, help_)                           \
	{ .key = key_, .head = head_, .type = ft, .unit = unit_, .kind = kind_,            \
	  .off = offsetof(st, m), .size = sizeof(((st *)0)->m), .flags = flags_, .help = help_ }
/* An array member m whose length is the u32 member cnt; idx_: see struct field.index. */
#define FLD_ARR(st, m, cnt, idx_, key_, head_, ft, unit_, kind_, flags_, help_)            \
	{ .key = key_, .head = head_, .type = ft, .unit = unit_, .kind = kind_,            \
	  .off = offsetof(st, m), .size = sizeof(((st *)0)->m), .count_off = offsetof(st, cnt), \
	  .flags = flags_, .help = help_, .index = idx_ }
/* An array member m of strings (char m[N][LEN]), cnt of them. */
#define FLD_STRS(st, m, cnt, key_, flags_, help_)                                          \
	{ .key = key_, .type = FT_STRS, .kind = FK_LABEL, .off = offsetof(st, m),            \
	  .size = sizeof(((st *)0)->m), .count_off = offsetof(st, cnt),                     \
	  .elem = sizeof(((st *)0)->m[0]), .flags = flags_, .help = help_ }
/* A member m that is a record described by sub (a part of a larger record). */
#define FLD_REC(st, m, key_, flags_, sub_, help_)                                          \
	{ .key = key_, .type = FT_REC, .kind = FK_LABEL, .off = offsetof(st, m),             \
	  .size = sizeof(((st *)0)->m), .flags = flags_, .help = help_, .sub = sub_ }
/* An array member m of records described by sub, cnt of them. */
#define FLD_RECS(st, m, cnt, key_, sub_, help_)                                            \
	{ .key = key_, .type = FT_RECS, .kind = FK_LABEL, .off = offsetof(st, m),            \
	  .size = sizeof(((st *)0)->m), .count_off = offsetof(st, cnt), .help = help_,      \
	  .sub = sub_ }

/* Say the kernel cannot provide this (FF_NULL) field of rec: JSON null, '-' in text. */
void record_null(const struct record_desc *d, void *rec, const char *key);
/* Is this field of rec null? */
bool record_is_null(const struct record_desc *d, const void *rec, const char *key);
/* The same by the field's index in the description. */
bool record_is_null_at(const struct record_desc *d, const void *rec, int idx);
/* The same by the field's index in the description; null false: it has a value. */
void record_mark(const struct record_desc *d, void *rec, int idx, bool null);

/* The record as a JSON object: "type", "ts" (wall-clock seconds), then every field. */
json_object *record_json(const struct record_desc *d, const void *rec, double ts);
/* For a text table: the JSON record plus the FF_TEXT fields its columns show. */
json_object *record_row(const struct record_desc *d, const void *rec, double ts);
/* Add a record's fields to an existing object (a nested part of a larger record). */
void record_json_fields(const struct record_desc *d, const void *rec, json_object *o);
/* The text columns of a record type, for table_new(), but for fields with any of the
 * omit flags (e.g. FF_DELTA in a snapshot); returns how many. */
int record_cols(const struct record_desc *d, struct ms_col *cols, int max, unsigned omit);
/* The text columns of just these fields (NULL-terminated keys), in that order. */
int record_cols_pick(const struct record_desc *d, const char *const *keys, struct ms_col *cols,
		     int max);
/* One field's value as text, the way its column shows it. */
const char *record_text(const struct record_desc *d, const void *rec, const char *key,
			char *buf, size_t len);
/* The field documentation of these record types: Markdown, one table each. */
void record_docs(FILE *out, const struct record_desc *const *types, int n);
/* A field's type, unit, kind and nullness in words, as record_docs gives them
 * ("u64, bytes, gauge, may be null"); returns buf. */
const char *record_field_traits(const struct field *f, char *buf, size_t len);

#endif
