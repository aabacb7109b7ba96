// SPDX-License-Identifier: GPL-2.0
/* Durations, sizes and times from the command line (memscope record / report). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>
#include "cli.h"
#include "msg.h"

static jmp_buf back;
static int failed;

static void jump_back(const char *message, int status)
{
	(void)message;
	failed = status;
	longjmp(back, 1);
}

/* bad input: exit status 2 (its usage line goes to /dev/null, not the test's output) */
#define BAD(call)                                                                          \
	do {                                                                               \
		int err = dup(2), null = open("/dev/null", O_WRONLY);                       \
		failed = 0;                                                                \
		dup2(null, 2);                                                             \
		if (!setjmp(back))                                                         \
			call;                                                              \
		dup2(err, 2);                                                              \
		close(err);                                                                \
		close(null);                                                               \
		assert_int_equal(failed, 2);                                               \
	} while (0)

static void test_durations(void **state)
{
	(void)state;
	assert_true(ms_parse_duration("-x", "90") == 90);
	assert_true(ms_parse_duration("-x", "30s") == 30);
	assert_true(ms_parse_duration("-x", "15m") == 900);
	assert_true(ms_parse_duration("-x", "1.5h") == 5400);
	assert_true(ms_parse_duration("-x", "7d") == 7 * 86400);
	assert_true(ms_parse_duration("-x", "2w") == 14 * 86400);
	BAD(ms_parse_duration("-x", ""));
	BAD(ms_parse_duration("-x", "7days"));
	BAD(ms_parse_duration("-x", "-3h"));
	BAD(ms_parse_duration("-x", "h"));
	BAD(ms_parse_duration("-x", "nan"));
	BAD(ms_parse_duration("-x", "0x10")); /* strtod's hexadecimal: 16 */
}

static void test_numbers_are_decimal(void **state)
{
	(void)state;
	assert_true(ms_parse_double("-x", "16", 0, 100) == 16);
	assert_true(ms_parse_double("-x", "0.5", 0, 100) == 0.5);
	assert_int_equal(ms_parse_long("-x", "010", 0, 100), 10);
	BAD(ms_parse_double("-x", "0x10", 0, 100));
	BAD(ms_parse_double("-x", "0X1p4", 0, 100));
	BAD(ms_parse_double("-x", "-0x1", -100, 100));
	BAD(ms_parse_long("-x", "0x10", 0, 100));
	BAD(ms_parse_size("-x", "0x10M"));
}

static void test_sizes(void **state)
{
	(void)state;
	assert_true(ms_parse_size("-x", "65536") == 65536);
	assert_true(ms_parse_size("-x", "64k") == 65536);
	assert_true(ms_parse_size("-x", "256M") == 256ULL << 20);
	assert_true(ms_parse_size("-x", "256MiB") == 256ULL << 20);
	assert_true(ms_parse_size("-x", "1.5G") == 3ULL << 29);
	assert_true(ms_parse_size("-x", "2T") == 2ULL << 40);
	BAD(ms_parse_size("-x", "12X"));
	BAD(ms_parse_size("-x", "1e30"));
	BAD(ms_parse_size("-x", "M"));
}

static void test_times(void **state)
{
	(void)state;
	/* 2026-11-27T08:30:00Z is 1795768200 */
	assert_true(ms_parse_time("-x", "2026-11-27T08:30:00Z", 0) == 1795768200.0);
	assert_true(ms_parse_time("-x", "2026-11-27T08:30Z", 0) == 1795768200.0);
	assert_true(ms_parse_time("-x", "2026-11-27T08:30:00.5Z", 0) == 1795768200.5);
	assert_true(ms_parse_time("-x", "2026-11-27 08:30:00+00:00", 0) == 1795768200.0);
	assert_true(ms_parse_time("-x", "2h", 1795768200.0) == 1795768200.0 - 7200);
	BAD(ms_parse_time("-x", "2026-13-45T99:99", 0));
	/* the offset report -j prints (ISO 8601), and its other spellings */
	assert_true(ms_parse_time("-x", "2026-11-27T10:30:00+02:00", 0) == 1795768200.0);
	assert_true(ms_parse_time("-x", "2026-11-27T03:00:00-0530", 0) == 1795768200.0);
	assert_true(ms_parse_time("-x", "2026-11-27T09:30:00+01", 0) == 1795768200.0);
	BAD(ms_parse_time("-x", "2026-11-27T08:30:00+25:00", 0));
	BAD(ms_parse_time("-x", "2026-11-27T08:30:00+02:00x", 0));
	BAD(ms_parse_time("-x", "yesterday", 0));
	BAD(ms_parse_time("-x", "2026-11-27X", 0));
	BAD(ms_parse_time("-x", "garbage", 0));
}

/*
 * Local time without a Z is the zone's, with its summer time: tested in zones that are
 * not UTC (in UTC a parser that ignored the zone would pass). POSIX TZ rules, so no
 * zone database is needed: Central Europe (+1, +2 from the last Sunday of March 02:00
 * to the last Sunday of October 03:00) and the US East (-5, -4).
 */
static void test_local_times(void **state)
{
	(void)state;
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	assert_true(ms_parse_time("-x", "2026-11-27 08:30", 0) == 1795764600.0); /* 07:30Z */
	assert_true(ms_parse_time("-x", "2026-11-27T08:30:00", 0) == 1795764600.0);
	assert_true(ms_parse_time("-x", "2026-11-27", 0) == 1795737600.0 - 3600);
	assert_true(ms_parse_time("-x", "2026-07-01 12:00", 0) == 1782900000.0); /* 10:00Z */
	/* either side of the spring change: two wall-clock hours, one real hour */
	assert_true(ms_parse_time("-x", "2026-03-29 01:30", 0) == 1774744200.0); /* 00:30Z */
	assert_true(ms_parse_time("-x", "2026-03-29 03:30", 0) == 1774747800.0); /* 01:30Z */
	/* with Z or +00:00 the zone does not count */
	assert_true(ms_parse_time("-x", "2026-07-01T12:00:00Z", 0) == 1782907200.0);
	assert_true(ms_parse_time("-x", "2026-07-01 12:00+00:00", 0) == 1782907200.0);
	/* a time of day alone, as the report's text prints it: the latest one not after
	 * now (08:30Z, 09:30 here) */
	assert_true(ms_parse_time("-x", "09:00", 1795768200.0) == 1795766400.0);
	assert_true(ms_parse_time("-x", "09:00:30", 1795768200.0) == 1795766430.0);
	assert_true(ms_parse_time("-x", "10:00", 1795768200.0) == 1795770000.0 - 86400);
	BAD(ms_parse_time("-x", "09:00:30x", 1795768200.0));
	BAD(ms_parse_time("-x", "25:00", 1795768200.0));
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	tzset();
	assert_true(ms_parse_time("-x", "2026-11-27 08:30", 0) == 1795786200.0); /* 13:30Z */
	assert_true(ms_parse_time("-x", "2026-07-01 08:00", 0) == 1782907200.0); /* 12:00Z */
	unsetenv("TZ");
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_numbers_are_decimal),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_local_times),
	};

	ms_on_fail(jump_back);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
