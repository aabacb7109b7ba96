/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strings from the kernel are any bytes: a process sets its own name with
 * prctl(PR_SET_NAME), escape sequences and invalid UTF-8 included. Text output shows
 * them as ps does ('?' for what is not printable), and JSON output stays valid UTF-8.
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
 * characters (newline and tab too unless keep_layout) and invalid UTF-8 become '?'.
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
 * \ufffd (invalid bytes can only stand inside strings). NULL when it was valid;
 * else a malloc'ed copy.
 */
char *json_utf8_fix(const char *json);

#endif
