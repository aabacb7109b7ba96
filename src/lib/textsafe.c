// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "textsafe.h"

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned int cp;

	if (!n)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and beyond U+10FFFF are invalid */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Invisible characters that change what a reader sees: the bidirectional controls
 * (Unicode's Bidi_Control: U+061C, U+200E/F, U+202A-202E, U+2066-2069) reorder the rest
 * of a line, so "\u202eexe.txt" shows as "txt.exe"; the zero-width ones (U+200B-200D,
 * U+2060-2064, U+FEFF) make two different names look alike; U+2028/2029 break lines.
 * The code point of the UTF-8 sequence s of l bytes when it is one of them, else 0.
 */
static unsigned int invisible_char(const unsigned char *s, size_t l)
{
	unsigned int cp;

	if (l == 2 && s[0] == 0xd8 && s[1] == 0x9c)
		return 0x61c;
	if (l != 3)
		return 0;
	cp = (s[0] & 0x0f) << 12 | (s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	if ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff)
		return cp;
	return 0;
}

char *text_safe(const char *in, size_t in_len, bool keep_layout, char *out, size_t out_len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strnlen(in, in_len), o = 0;

	for (size_t i = 0; i < n && o + 1 < out_len;) {
		size_t l = utf8_seq_len(s + i, n - i);

		if (!l || (l == 1 && (s[i] < 0x20 || s[i] == 0x7f) &&
			   !(keep_layout && (s[i] == '\n' || s[i] == '\t')))) {
			out[o++] = '?';
			i++;
			continue;
		}
		/* C1 controls (U+0080..U+009F) act like escapes on some terminals */
		if ((l == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) || invisible_char(s + i, l)) {
			out[o++] = '?';
			i += l;
			continue;
		}
		if (o + l >= out_len)
			break;
		memcpy(out + o, s + i, l);
		o += l;
		i += l;
	}
	if (out_len)
		out[o] = 0;
	return out;
}

char *json_utf8_fix(const char *json)
{
	const unsigned char *s = (const unsigned char *)json;
	size_t n = strlen(json), bad = 0, o = 0;
	char *out;

	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len(s + i, n - i);

		bad += !l || invisible_char(s + i, l);
		i += l ? l : 1;
	}
	if (!bad)
		return NULL;
	out = malloc(n + bad * 6 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len(s + i, n - i);
		unsigned int cp = l ? invisible_char(s + i, l) : 0xfffd;

		if (cp) { /* an escape: the same string to a parser, inert on a terminal */
			o += sprintf(out + o, "\\u%04x", cp);
			i += l ? l : 1;
			continue;
		}
		memcpy(out + o, s + i, l);
		o += l;
		i += l;
	}
	out[o] = 0;
	return out;
}
