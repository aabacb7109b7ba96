/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shell completion scripts made from the command table: commands, every option, and
 * the values of those whose set is known (the words the parser takes, memory cgroups
 * from the cgroup file system, running processes' PIDs and names, files).
 * `memscope help completion bash|zsh`.
 */
#ifndef MEMSCOPE_COMPLETE_H
#define MEMSCOPE_COMPLETE_H

#include <stdio.h>
#include "cli.h"

void complete_bash(FILE *out, const struct ms_cmd *const *cmds, int n);
void complete_zsh(FILE *out, const struct ms_cmd *const *cmds, int n);

#endif
