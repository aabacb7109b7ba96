/* SPDX-License-Identifier: GPL-2.0 */
/* Memory pressure stall information (PSI): /proc/pressure/memory. */
#ifndef MEMSCOPE_COLLECT_PRESSURE_H
#define MEMSCOPE_COLLECT_PRESSURE_H

#include <stdbool.h>
#include <stdint.h>

struct psi {
	double some_avg10, some_avg60, full_avg10, full_avg60; /* percent of time */
	uint64_t some_total_ns, full_total_ns; /* stalled time since boot */
};

/* Parse the text of a pressure file ("some avg10=... total=...\nfull ..."). */
bool psi_parse(const char *text, struct psi *p);
/* The system's memory pressure; false where the kernel has no PSI (or psi=0). */
bool psi_read_memory(struct psi *p);

#endif
