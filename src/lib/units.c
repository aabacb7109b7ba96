// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include "units.h"

char *fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = bytes;
	int u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return buf;
	}
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	/* Keep one decimal unless rounding would print 1024.0 of a unit. */
	if (v >= 1023.95 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

char *fmt_bytes_delta(char *buf, size_t len, int64_t delta)
{
	uint64_t mag = delta < 0 ? -(uint64_t)delta : (uint64_t)delta;

	if (!delta) { /* the same zero as every size column */
		snprintf(buf, len, "0 B");
		return buf;
	}
	buf[0] = delta < 0 ? '-' : '+';
	fmt_bytes(buf + 1, len - 1, mag);
	return buf;
}

char *fmt_count(char *buf, size_t len, double v)
{
	double a = v < 0 ? -v : v;

	if (a < 1000 && v == (int64_t)v)
		snprintf(buf, len, "%" PRId64, (int64_t)v);
	else if (a < 1000)
		snprintf(buf, len, "%.1f", v);
	else if (a < 1e6)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else if (a < 1e9)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else
		snprintf(buf, len, "%.1fG", v / 1e9);
	return buf;
}

char *fmt_duration_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

char *fmt_clock(char *buf, size_t len, double ts, bool millis)
{
	time_t secs = (time_t)ts;
	char hms[16];
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	if (millis)
		snprintf(buf, len, "%s.%03d", hms, (int)((ts - secs) * 1000));
	else
		snprintf(buf, len, "%s", hms);
	return buf;
}

char *fmt_iso(char *buf, size_t len, double ts)
{
	time_t secs = (time_t)ts;
	char zone[8];
	struct tm tm;
	size_t n;

	localtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm); /* +0100: ISO 8601 writes +01:00 */
	snprintf(buf + n, len - n, "%.3s:%.2s", zone, zone + 3);
	return buf;
}
