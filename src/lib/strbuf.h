/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Appending formatted text to a fixed buffer. snprintf returns what it would have
 * written: "off += snprintf(buf + off, len - off, ...)" runs past the end after one
 * truncation (len - off wraps). This keeps off inside the buffer and says so.
 */
#ifndef MEMSCOPE_STRBUF_H
#define MEMSCOPE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len, off; /* off < len always: the text stays NUL-terminated */
	bool truncated;
};

/* Start appending to buf (len > 0); buf becomes "". */
void sb_init(struct strbuf *sb, char *buf, size_t len);
/* Append; what does not fit is cut and sb->truncated set. */
void sb_add(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append sep first unless the text is still empty. */
void sb_sep(struct strbuf *sb, const char *sep);

/*
 * A list in buf (len bytes), items separated by sep: add item unless it is there as a
 * whole item ("oom_kill pid 12" is not in "oom_kill pid 123"). An item that does not
 * fit whole is left out. false when it was not added.
 */
bool list_add_once(char *buf, size_t len, const char *sep, const char *item);

#endif
