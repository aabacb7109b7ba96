/* SPDX-License-Identifier: GPL-2.0 */
/* Each command's table entry, defined in its own file. */
#ifndef MEMSCOPE_COMMANDS_H
#define MEMSCOPE_COMMANDS_H

#include "cli.h"

extern const struct ms_cmd cmd_features, cmd_gfp, cmd_proc, cmd_sys, cmd_paf,
	cmd_reclaim, cmd_oom;

/* proc's snapshot, for other commands (oom --detail): the n largest by RSS. */
struct proc_rec;
struct proc_snap;
struct proc_snap *proc_snap_open(void);
int proc_snap_top(struct proc_snap *ps, struct proc_rec *out, int n);
void proc_snap_close(struct proc_snap *ps);
/* A proc_rec as proc prints it in JSON (sizes in bytes). */
struct json_object *proc_rec_json(const struct proc_rec *r);

/* sys's records of a node's counters and of one zone (for oom --detail, paf). */
struct sys_node;
struct json_object *sys_node_json(const struct sys_node *n, int nid);
struct json_object *sys_zone_json(const struct sys_node *n, int zone);

#endif
