/* SPDX-License-Identifier: GPL-2.0 */
/* Human-readable units for the text output. */
#ifndef MEMSCOPE_UNITS_H
#define MEMSCOPE_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 B, 512 B, 4.0 KiB, 1.5 MiB, 12.3 GiB — binary prefixes, one decimal. */
char *fmt_bytes(char *buf, size_t len, uint64_t bytes);
/* Signed change: +8.0 MiB, -12 KiB, 0. */
char *fmt_bytes_delta(char *buf, size_t len, int64_t delta);
/* Counts with SI suffix: 999, 1.2k, 3.4M. */
char *fmt_count(char *buf, size_t len, double v);
/* Durations: 850 ns, 12.3 us, 41.0 ms, 1.20 s. */
char *fmt_duration_ns(char *buf, size_t len, uint64_t ns);

/* Local wall-clock time of day of ts (seconds since the epoch): 23:40:14 or 23:40:14.275. */
char *fmt_clock(char *buf, size_t len, double ts, bool millis);
/* Local time in ISO 8601 with its UTC offset: 2026-11-27T03:14:00+01:00. */
char *fmt_iso(char *buf, size_t len, double ts);

#endif
