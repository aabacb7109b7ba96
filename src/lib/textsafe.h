/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strings from the kernel are any bytes: a process sets its own name with
 * prctl(PR_SET_NAME), escape sequences and invalid UTF-8 included, and a cgroup's name
 * any UTF-8. Text output shows them as ps does ('?' for what is not printable, and for
 * the invisible characters that reorder or disguise a line: bidirectional controls such
 * as U+202E, zero-width ones), and JSON output stays valid UTF-8 with those invisible
 * characters escaped (\u202e: the same string to a parser, inert on a terminal).
 */
#ifndef MEMSCOPE_TEXTSAFE_H
#define MEMSCOPE_TEXTSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include "comm.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/*
 * Copy in (at most in_len bytes, stops at NUL) to out for a terminal: control
 * characters (newline and tab too unless keep_layout), the invisible format characters
 * above and invalid UTF-8 become '?'.
 */
char *text_safe(const char *in, size_t in_len, bool keep_layout, char *out, size_t out_len);
/* A process name (kernel comm, 16 bytes) for text output. */
#define COMM_TEXT_LEN (MS_COMM_LEN + 1)
static inline char *comm_text(const char *comm, char out[COMM_TEXT_LEN])
{
	return text_safe(comm, COMM_TEXT_LEN - 1, false, out, COMM_TEXT_LEN);
}
/*
 * A serialized JSON text with every invalid UTF-8 byte replaced by the escape
 * \ufffd and every invisible format character by its own escape (both can only
 * stand inside strings). NULL when there was none; else a malloc'ed copy.
 */
char *json_utf8_fix(const char *json);

#endif
