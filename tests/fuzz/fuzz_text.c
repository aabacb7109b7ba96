// SPDX-License-Identifier: GPL-2.0
/* Names from the kernel (a process names itself anything): safe text, valid JSON, and
 * Prometheus label values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "textsafe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), out[64], *lab;
	struct metrics *m;
	size_t len;
	char *fixed, *text;

	memcpy(in, data, size);
	in[size] = 0;
	text_safe(in, size, size & 1, out, sizeof(out));
	fixed = json_utf8_fix(in);
	free(fixed);
	m = metrics_new();
	lab = metrics_labels("comm", in, NULL);
	metrics_add(m, "f_bytes", "gauge", in, lab, 1);
	free(lab);
	text = metrics_render(m, &len);
	free(text);
	metrics_free(m);
	free(in);
	return 0;
}
