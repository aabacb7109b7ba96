// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "pressure.h"
#include "procfs.h"

/* "<kind> avg10=0.00 avg60=0.00 avg300=0.00 total=123" (kernel/sched/psi.c) */
static bool parse_line(const char *line, const char *kind, double *a10, double *a60,
		       uint64_t *total_ns)
{
	unsigned long long total_us;
	char fmt[64];

	snprintf(fmt, sizeof(fmt), "%s avg10=%%lf avg60=%%lf avg300=%%*f total=%%llu", kind);
	if (sscanf(line, fmt, a10, a60, &total_us) != 3)
		return false;
	*total_ns = total_us * 1000; /* the kernel counts microseconds */
	return true;
}

bool psi_parse(const char *text, struct psi *p)
{
	const char *full = strstr(text, "full ");

	memset(p, 0, sizeof(*p));
	return parse_line(text, "some", &p->some_avg10, &p->some_avg60, &p->some_total_ns) &&
	       full && parse_line(full, "full", &p->full_avg10, &p->full_avg60, &p->full_total_ns);
}

bool psi_read_memory(struct psi *p)
{
	char buf[512];

	return read_text_file("/proc/pressure/memory", buf, sizeof(buf)) > 0 && psi_parse(buf, p);
}
