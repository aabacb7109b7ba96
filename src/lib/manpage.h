/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Manual pages in roff, made from the command table and the record descriptions (the
 * same that make --help and docs/FIELDS.md), so a page cannot say other than the
 * program: memscope(8) and memscope-COMMAND(8). `memscope help man [COMMAND]`.
 */
#ifndef MEMSCOPE_MANPAGE_H
#define MEMSCOPE_MANPAGE_H

#include <stdio.h>
#include "cli.h"

/* memscope(8): the commands, global options, exit status, environment, files. */
void man_main_page(FILE *out, const struct ms_cmd *const *cmds, int n);
/* memscope-CMD(8): usage, description, options, the JSON records, examples. */
void man_command_page(FILE *out, const struct ms_cmd *cmd, const struct ms_cmd *const *cmds,
		      int n);

#endif
