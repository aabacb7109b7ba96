/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One writer for both outputs. Commands build each record as a json-c object;
 * in JSON mode it is printed as one NDJSON line, in text mode the columns of a
 * table are formatted from the same object (bytes in human units, null as '-').
 */
#ifndef MEMSCOPE_OUTPUT_H
#define MEMSCOPE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

enum ms_col_kind {
	COL_STR,
	COL_INT,
	COL_BYTES,	 /* integer bytes -> 1.5 MiB */
	COL_BYTES_DELTA, /* signed bytes -> +8.0 MiB */
	COL_COUNT,	 /* number -> 1.2k */
	COL_FLOAT3,	 /* number with 3 decimals */
	COL_PERCENT,	 /* a percentage -> 96.9% */
	COL_DURATION,	 /* nanoseconds -> 12.3 us */
	COL_BYTES_LIST,	 /* array of bytes -> 0 B,1.5 MiB */
};

struct ms_col {
	const char *head;
	const char *key;
	enum ms_col_kind kind;
	bool left; /* left-align (names); numbers align right */
	bool must; /* a narrow screen shows it before the others (the problem columns) */
};

struct ms_table;

void out_init(bool json);
bool out_json_mode(void);

struct ms_table *table_new(const struct ms_col *cols, int ncols);
/* Takes ownership of row. JSON mode prints it at once. */
void table_add(struct ms_table *t, json_object *row);
/* Rows added since the last flush (text mode; JSON prints each row at once). */
long table_rows(const struct ms_table *t);
/*
 * Text mode: print header and rows, aligned; then empty the table. What fits the line:
 * the first column, then the key columns, then the others from the left; a column
 * empty in every row ('-') is left out unless it is a key; a name (left-aligned text)
 * gives way down to NAME_MIN characters, shortened to its distinctive tail. The first
 * flush picks the columns; later ones keep them (a live report does not change its
 * columns between intervals), dropping the rightmost only if the line cannot hold them.
 */
void table_flush(struct ms_table *t);
/* Whether the next flush prints the column of this key (text said before the table can
 * then speak of what the table shows). False in JSON mode or with no rows. */
bool table_shows(struct ms_table *t, const char *key);
/* A table flushed every interval: numbers get room to grow from the first flush on. */
void table_set_live(struct ms_table *t);
/* Text s shortened to at most w characters: its tail kept (a path: the first component,
 * "…", the end), indentation kept. Returns s itself when it fits. */
const char *out_shorten(const char *s, int w, char *buf, size_t len);
void table_free(struct ms_table *t);

/* Print one record as an NDJSON line (takes ownership). */
void out_json(json_object *rec);
/* Text output helper; all output goes through here so a closed pipe is seen. */
void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_flush(void);
/* Format one value as the text table would. */
const char *out_format_value(json_object *v, enum ms_col_kind kind, char *buf, size_t len);

/*
 * -j was given: an error also ends the NDJSON stream on stdout with
 * {"type":"error","message":...,"exit_status":N}, so a consumer sees why it ended.
 */
void out_errors_as_json(bool on);
void out_error_record(const char *message, int exit_status);
struct record_desc;
extern const struct record_desc error_desc;
/*
 * With -j, documentation is records too: what is printed between out_doc_begin and
 * out_doc_end becomes one {"type":"help","topic":…,"line":…} per line; out_version
 * prints {"type":"version",…} and says so (false without -j).
 */
void out_doc_begin(void);
void out_doc_end(const char *topic);
bool out_version(const char *version);
extern const struct record_desc help_desc, version_desc;
/* Standard output closed (memscope ... >&-): exit 1 now, before anything takes fd 1. */
void out_check_stdout_open(void);
/* After the command: flush; a failed write (disk full, ...) makes the status 1. */
int out_finish(int status);

/* Columns on a terminal line: COLUMNS, else the terminal's width, else 80. */
int out_width(void);
/*
 * Text printed as paragraphs that fit the line: first begins the first line (it
 * counts toward the width), indent each further one; breaks at spaces.
 */
void out_wrap(const char *first, const char *indent, const char *text);
/* A list (items joined by sep, and a space when space), wrapped between items only. */
void out_wrap_list(const char *first, const char *indent, const char *const *items, int n,
		   const char *sep, bool space);
/* Does the locale (LC_ALL, LC_CTYPE, LANG) say UTF-8? Else text is plain ASCII. */
bool out_utf8(void);
/* "→" in a UTF-8 locale, "->" otherwise; out_dash: "—" or "-". */
const char *out_arrow(void);
const char *out_dash(void);

/* json-c helpers */
json_object *json_u64(uint64_t v);
/* A number printed with this many decimals, no float noise ("5.000", not 5.00022875). */
json_object *json_fixed(double v, int decimals);
/* A wall-clock timestamp, seconds since the epoch to the microsecond. */
json_object *json_ts(double ts);
/* A value the running kernel cannot provide: JSON null. */
#define json_absent() NULL

#endif
