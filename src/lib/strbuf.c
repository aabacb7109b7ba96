// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "strbuf.h"

void sb_init(struct strbuf *sb, char *buf, size_t len)
{
	sb->buf = buf;
	sb->len = len;
	sb->off = 0;
	sb->truncated = false;
	if (len)
		buf[0] = 0;
}

void sb_add(struct strbuf *sb, const char *fmt, ...)
{
	size_t room = sb->len - sb->off;
	va_list ap;
	int n;

	if (sb->len == 0 || room <= 1) {
		sb->truncated = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->off, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		sb->off = sb->len - 1;
		sb->truncated = true;
	} else {
		sb->off += n;
	}
}

void sb_sep(struct strbuf *sb, const char *sep)
{
	if (sb->off)
		sb_add(sb, "%s", sep);
}

static bool list_has(const char *list, const char *sep, const char *item)
{
	size_t n = strlen(item), s = strlen(sep);

	for (const char *p = list; *p;) {
		const char *end = strstr(p, sep);
		size_t l = end ? (size_t)(end - p) : strlen(p);

		if (l == n && !memcmp(p, item, n))
			return true;
		if (!end)
			break;
		p = end + s;
	}
	return false;
}

bool list_add_once(char *buf, size_t len, const char *sep, const char *item)
{
	size_t used = strnlen(buf, len), need = strlen(item) + (used ? strlen(sep) : 0);

	if (!*item || list_has(buf, sep, item) || used + need >= len)
		return false;
	snprintf(buf + used, len - used, "%s%s", used ? sep : "", item);
	return true;
}
