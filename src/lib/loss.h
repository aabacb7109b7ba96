/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a command could not keep (a full map, a full ring buffer): never silent.
 * Text: a warning line as a count grows. JSON: a {"type":"lost"} record with the
 * totals so far whenever one grew, so a consumer knows the output is incomplete.
 */
#ifndef MEMSCOPE_LOSS_H
#define MEMSCOPE_LOSS_H

#include <stdint.h>

struct ms_loss {
	const char *field;	   /* JSON field, e.g. "untracked_processes" */
	const char *what;	   /* text, after the count: "processes not tracked: ..." */
	const volatile unsigned long long *count; /* the BPF object's counter */
	uint64_t reported;
};

struct record_desc;
/*
 * The "lost" record: the command, and each of its counts under its own field name
 * (ms_loss.field), totals so far. Its fixed part is described here; the counts are the
 * losses the command declares.
 */
extern const struct record_desc lost_desc;

/* Report what grew since the last call; command names the record's source. */
void ms_report_losses(const char *command, struct ms_loss *l, int n);

struct bpf_object;
/*
 * Tests only: MEMSCOPE_TEST_MAP_MAX="map=N,map=N" shrinks those maps of obj before it
 * is loaded, so the tests can fill them and see the loss reported.
 */
void ms_test_map_sizes(struct bpf_object *obj);

#endif
