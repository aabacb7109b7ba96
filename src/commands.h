/* SPDX-License-Identifier: GPL-2.0 */
/* Each command's table entry, defined in its own file. */
#ifndef MEMSCOPE_COMMANDS_H
#define MEMSCOPE_COMMANDS_H

#include "cli.h"

extern const struct ms_cmd cmd_features, cmd_gfp, cmd_proc, cmd_sys, cmd_paf,
	cmd_reclaim, cmd_oom, cmd_summary, cmd_exporter, cmd_cgroup, cmd_leak,
	cmd_record, cmd_report, cmd_slab, cmd_cache;

#endif
