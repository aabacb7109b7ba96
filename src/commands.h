/* SPDX-License-Identifier: GPL-2.0 */
/* Each command's table entry, defined in its own file. */
#ifndef MEMSCOPE_COMMANDS_H
#define MEMSCOPE_COMMANDS_H

#include "cli.h"

extern const struct ms_cmd cmd_features, cmd_gfp, cmd_proc, cmd_sys, cmd_paf,
	cmd_reclaim, cmd_oom, cmd_summary;

/* paf's failure counts since a session opened. */
struct paf_totals {
	unsigned long long failures;
	int worst_order; /* -1 when none */
	char worst_comm[17];
};
struct paf_session;
struct paf_session *paf_session_open(void);
void paf_session_read(struct paf_session *ps, struct paf_totals *t);
void paf_session_close(struct paf_session *ps);

/* oom's victims since a session opened. */
struct oom_victim {
	int pid;
	char comm[17];
	char memcg[256]; /* path, "" when unknown */
	bool has_sizes;	 /* false: this kernel's mark_victim gives only the pid */
	unsigned long long anon_bytes;
};
struct oom_session;
struct oom_session *oom_session_open(void);
int oom_session_read(struct oom_session *os, const struct oom_victim **out);
void oom_session_close(struct oom_session *os);


#endif
