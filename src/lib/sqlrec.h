/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records as rows of SQLite tables, made from their descriptions (record.h): one
 * column per JSON key, so a field is named once for NDJSON, text, metrics and rows.
 * Scalars are INTEGER, REAL or TEXT; nested parts that are not inline and arrays
 * are JSON text (query them with json_extract). Null fields are SQL NULL. Every row
 * belongs to a sample (sample_id).
 */
#ifndef MEMSCOPE_SQLREC_H
#define MEMSCOPE_SQLREC_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>
#include "record.h"

#define SQLREC_MAX_COLS 96

struct sqlrec_table {
	const char *name;
	const struct record_desc *d;
	sqlite3_stmt *ins;
	int ncols;
	const char *keys[SQLREC_MAX_COLS];
	char types[SQLREC_MAX_COLS]; /* 'I', 'B' (0/1), 'R', 'T' (TEXT), 'J' (JSON text) */
};

/*
 * Create the table if it is new, add the columns a newer description has (the
 * migration path: columns are only ever added), and prepare the insert.
 * Returns a SQLite result code.
 */
int sqlrec_open(sqlite3 *db, struct sqlrec_table *t);
/* One record as a row of the sample; returns a SQLite result code. */
int sqlrec_put(struct sqlrec_table *t, const void *rec, int64_t sample_id);
void sqlrec_close(struct sqlrec_table *t);
/* Fill keys, types and ncols from the description (no database needed). */
void sqlrec_columns(struct sqlrec_table *t);
/* The current row of a SELECT over the table's columns as the record's JSON object
 * ("type", then each column; JSON columns parsed back). */
json_object *sqlrec_row_json(const struct sqlrec_table *t, sqlite3_stmt *st);
/* The table's columns, as Markdown rows (| column | type | meaning |), for the docs. */
void sqlrec_docs(FILE *out, const struct sqlrec_table *t);

#endif
