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
	char *in = malloc(size + 1), out[64], lab[256];
	struct metrics *m;
	size_t len;
	char *fixed, *text;

	memcpy(in, data, size);
	in[size] = 0;
	text_safe(in, size, size & 1, out, sizeof(out));
	fixed = json_utf8_fix(in);
	free(fixed);
	m = metrics_new();
	metrics_add(m, "f_bytes", "gauge", in, metrics_labels(lab, sizeof(lab), "comm", in, NULL),
		    1);
	text = metrics_render(m, &len);
	free(text);
	metrics_free(m);
	free(in);
	return 0;
}
