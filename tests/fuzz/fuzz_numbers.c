// SPDX-License-Identifier: GPL-2.0
/* Numbers, durations, sizes, times and lists from the command line. Bad input ends in ms_usage_error
 * (exit 2): here its hook jumps back instead, so the fuzzer goes on. */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include "cli.h"
#include "msg.h"

static jmp_buf back;

static void jump_back(const char *message, int status)
{
	(void)message;
	longjmp(back, status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet = -1, err = -1;
	char *s = malloc(size + 1);
	int pids[8];

	/* the usage line of each bad input goes nowhere; sanitizer reports still reach
	 * the real stderr, which is back before this returns */
	if (quiet < 0) {
		quiet = open("/dev/null", O_WRONLY);
		err = dup(2);
	}
	dup2(quiet, 2);
	memcpy(s, data, size);
	s[size] = 0;
	ms_on_fail(jump_back);
	if (!setjmp(back))
		ms_parse_long("-c", s, 1, 1000000);
	if (!setjmp(back))
		ms_parse_double("-i", s, 0.001, 86400);
	if (!setjmp(back))
		ms_parse_pid_list("-p", s, pids, 0, 8);
	if (!setjmp(back))
		ms_check_list("--on", s);
	if (!setjmp(back))
		ms_parse_duration("--retain", s);
	if (!setjmp(back))
		ms_parse_size("--max-size", s);
	if (!setjmp(back))
		ms_parse_time("--since", s, 1e9);
	dup2(err, 2);
	free(s);
	return 0;
}
