// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include "msg.h"

const char *ms_prog = "memscope";
static void (*on_fail)(const char *message, int exit_status);

void ms_vmessage(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", ms_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ms_message(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_vmessage(fmt, ap);
	va_end(ap);
}

void ms_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_vmessage(fmt, ap);
	va_end(ap);
}

void ms_on_fail(void (*fn)(const char *message, int exit_status))
{
	on_fail = fn;
}

void ms_vfail(int status, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s: %s\n", ms_prog, msg);
	if (on_fail)
		on_fail(msg, status);
	exit(status);
}

void ms_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_vfail(MS_EXIT_USAGE, fmt, ap);
}

void ms_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_vfail(MS_EXIT_RUNTIME, fmt, ap);
}
