/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition (format 0.0.4) made from record descriptions. Samples are
 * added in any order; the text groups them by family, each under one # HELP and # TYPE
 * line, as the format requires. A record's metric names come from its field keys:
 * the prefix, the key with "_ns" as "_seconds", "_percent" as "_ratio" and "_pages" as
 * "_bytes" (values converted to those base units), and "_total" for counters. Null fields have no
 * sample: in Prometheus an absent series is the way to say "unknown".
 */
#ifndef MEMSCOPE_METRICS_H
#define MEMSCOPE_METRICS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "record.h"

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/*
 * A label set in the exposition's syntax: pairs of name and value, ended by NULL; malloc'ed,
 * whole however long, for the caller to free ("" for no pair). A NULL value leaves its pair
 * out (a label the sample does not have). A value shows as text output shows a name
 * (text_safe: '?' for control characters, newline and tab included, and for invalid
 * UTF-8), with backslash and double quote escaped.
 */
char *metrics_labels(const char *name, ...) __attribute__((sentinel));

/* One sample; type: "gauge", "counter" (name ends in _total) or "untyped". */
void metrics_add(struct metrics *m, const char *name, const char *type, const char *help,
		 const char *labels, double value);
/* The same with an exact integer (counters past 2^53 stay exact). */
void metrics_add_u64(struct metrics *m, const char *name, const char *type, const char *help,
		     const char *labels, uint64_t value);

/* How a record type becomes families: prefix + field key (see above). */
struct metrics_view {
	const char *prefix;
	const struct record_desc *d;
	const char *const *labels; /* the fields that label each sample (NULL-terminated) */
	const char *const *omit;   /* fields that are no metric in this view (or NULL) */
	const char *const *help;   /* pairs of key and HELP text where the record's does not
				    * fit this view (a counter since start, not per interval) */
};

/*
 * Every gauge and counter field of rec (but deltas: Prometheus takes its own) as a
 * sample; labels: more labels, already formatted (NULL: none). Array fields with an
 * index label give one sample per element.
 */
void metrics_record(struct metrics *m, const struct metrics_view *v, const void *rec,
		    const char *labels);

/*
 * A histogram: n buckets with upper bounds le[] (increasing, seconds) and the count of
 * observations in each bucket alone (not cumulative), in_bucket[n] those above le[n-1]
 * (n + 1 counts); +Inf is added. sum in seconds.
 */
void metrics_histogram(struct metrics *m, const char *name, const char *help,
		       const char *labels, const double *le, const uint64_t *in_bucket, int n,
		       double sum);

/* The exposition text (malloc'ed, NUL-terminated); *len: its length. */
char *metrics_render(struct metrics *m, size_t *len);

/* The metric name of a record field under a prefix, as metrics_record names it. */
char *metrics_field_name(char *buf, size_t len, const char *prefix, const struct field *f);

/* Documentation: one Markdown table row of a family (name, type, labels, help, the
 * node_exporter family with the same fact or NULL). */
void metrics_doc_row(FILE *out, const char *name, const char *type, const char *labels,
		     const char *help, const char *equivalent);
/* The rows of every family metrics_record makes of this record type; labels: the caller's
 * labels, as documented after the view's (or NULL). */
void metrics_record_docs(FILE *out, const struct metrics_view *v, const char *labels,
			 const char *(*equivalent)(const char *name));

#endif
