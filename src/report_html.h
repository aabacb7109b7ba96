/* SPDX-License-Identifier: GPL-2.0 */
/* memscope report --html: one self-contained page (inline CSS, SVG and script). */
#ifndef MEMSCOPE_REPORT_HTML_H
#define MEMSCOPE_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include "recording.h"

/*
 * Write the page to path (outfile.h: a regular file is replaced whole, a device, FIFO
 * or symbolic link written through; "-": standard output, whose errors the caller's
 * output checks); false with the reason in err.
 */
bool report_html_write(const char *path, const char *db, const struct recording *r, char *err,
		       size_t len);

#endif
