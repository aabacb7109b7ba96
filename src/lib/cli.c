// SPDX-License-Identifier: GPL-2.0
/* One parser for the options all commands share, plus per-command options. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include "cli.h"
#include "hooks.h"
#include "msg.h"
#include "output.h"
#include "procfs.h"
#include "util.h"

/* strtod reads "0x10" as 16: memscope's numbers are decimal (gfp's masks are parsed
 * apart), so hexadecimal is refused, with the same line for every option. */
static void refuse_hex(const char *what, const char *s)
{
	const char *d = s + strspn(s, " \t+-");

	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
		ms_usage_error("%s: '%s' is hexadecimal: write a decimal number", what, s);
}

double ms_parse_double(const char *what, const char *s, double min, double max)
{
	char *end;
	double v;

	if (!s || !*s)
		ms_usage_error("%s needs a number", what);
	refuse_hex(what, s);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		ms_usage_error("%s: '%s' is not a number", what, s);
	if (*end)
		ms_usage_error("%s: unexpected '%s' after the number in '%s'", what, end, s);
	if (v < min || v > max)
		ms_usage_error("%s: %s is out of range (%g to %g)", what, s, min, max);
	return v;
}

/* A number followed by one of the units' suffixes (none: unit[0]'s scale 1). */
static double parse_scaled(const char *what, const char *s, const char *const *suffix,
			   const double *scale, int n, const char *example)
{
	char *end;
	double v;

	if (!s || !*s)
		ms_usage_error("%s needs a value, e.g. %s", what, example);
	refuse_hex(what, s);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v) || v < 0)
		ms_usage_error("%s: '%s' is not a value such as %s", what, s, example);
	for (int i = 0; i < n; i++)
		if (!strcmp(end, suffix[i]))
			return v * scale[i];
	ms_usage_error("%s: unknown unit '%s' in '%s' (e.g. %s)", what, end, s, example);
}

double ms_parse_duration(const char *what, const char *s)
{
	static const char *const sfx[] = { "", "s", "m", "min", "h", "d", "w" };
	static const double sc[] = { 1, 1, 60, 60, 3600, 86400, 604800 };

	return parse_scaled(what, s, sfx, sc, 7, "30s, 15m, 2h, 7d");
}

uint64_t ms_parse_size(const char *what, const char *s)
{
	static const char *const sfx[] = { "", "B", "k", "K", "KiB", "M", "MiB", "G", "GiB",
					   "T", "TiB" };
	static const double sc[] = { 1, 1, 1024, 1024, 1024, 1 << 20, 1 << 20, 1 << 30, 1 << 30,
				     1099511627776.0, 1099511627776.0 };
	double v = parse_scaled(what, s, sfx, sc, 11, "256M, 1G, 65536");

	if (v >= 18446744073709551615.0)
		ms_usage_error("%s: %s is too large", what, s);
	return (uint64_t)v;
}

/* "+01:00", "-0530", "Z": seconds east of UTC; false: not an offset. */
static bool utc_offset(const char *s, long *east)
{
	int h, m = 0, n = 0;

	if (!strcmp(s, "Z")) {
		*east = 0;
		return true;
	}
	if ((*s != '+' && *s != '-') ||
	    (sscanf(s + 1, "%2d:%2d%n", &h, &m, &n) != 2 &&
	     sscanf(s + 1, "%2d%2d%n", &h, &m, &n) != 2 && sscanf(s + 1, "%2d%n", &h, &n) != 1) ||
	    s[1 + n] || h > 23 || m > 59)
		return false;
	*east = (*s == '-' ? -1 : 1) * (h * 3600L + m * 60L);
	return true;
}

/* "14:05" or "14:05:30" alone (as report prints a time): the latest such moment, today
 * or else yesterday, that is not after now. */
static bool clock_time(const char *s, double now, double *t)
{
	time_t secs = (time_t)now;
	struct tm tm;
	const char *end;

	localtime_r(&secs, &tm);
	tm.tm_sec = 0;
	if (!(end = strptime(s, "%H:%M", &tm)) || (*end && !(end = strptime(end, ":%S", &tm))) ||
	    *end)
		return false;
	tm.tm_isdst = -1;
	*t = (double)mktime(&tm);
	if (*t > now) {
		tm.tm_mday--;
		tm.tm_isdst = -1;
		*t = (double)mktime(&tm);
	}
	return true;
}

double ms_parse_time(const char *what, const char *s, double now)
{
	struct tm tm = { 0 };
	const char *end;
	char *dot;
	double frac = 0, t;
	long east;

	/* "2h": two hours ago; anything else that is no date gets the message below */
	if (s && (isdigit((unsigned char)*s) || *s == '.') && !strchr(s, '-') && !strchr(s, ':'))
		return now - ms_parse_duration(what, s);
	if (s && clock_time(s, now, &t))
		return t;
	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M", &tm)))
		end = s ? strptime(s, "%Y-%m-%d %H:%M", &tm) : NULL;
	if (!end && s && (end = strptime(s, "%Y-%m-%d", &tm)) && *end)
		end = NULL;
	if (!end)
		ms_usage_error("%s: '%s' is neither a time such as 2026-11-27T08:30:00+01:00 or "
			       "08:30, nor an age such as 2h", what, s ? s : "");
	if (*end == ':' && !(end = strptime(end, ":%S", &tm)))
		ms_usage_error("%s: bad seconds in '%s'", what, s);
	if (*end == '.') {
		frac = strtod(end, &dot);
		end = dot;
	}
	if (utc_offset(end, &east))
		return (double)timegm(&tm) - east + frac;
	if (*end)
		ms_usage_error("%s: unexpected '%s' in '%s' (an offset such as Z or +01:00, or "
			       "local time without)", what, end, s);
	tm.tm_isdst = -1;
	return (double)mktime(&tm) + frac;
}

long ms_parse_long(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	if (!s || !*s)
		ms_usage_error("%s needs a whole number", what);
	refuse_hex(what, s);
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s)
		ms_usage_error("%s: '%s' is not a whole number", what, s);
	if (*end)
		ms_usage_error("%s: unexpected '%s' after the number in '%s'", what, end, s);
	if (errno == ERANGE || v < min || v > max)
		ms_usage_error("%s: %s is out of range (%ld to %ld)", what, s, min, max);
	return v;
}

static bool pid_exists(int pid)
{
	char path[32];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return stat(path, &st) == 0;
}

void ms_check_list(const char *what, const char *s)
{
	size_t n = strlen(s);

	if (!n)
		ms_usage_error("%s needs a value", what);
	if (s[0] == ',' || s[n - 1] == ',' || strstr(s, ",,"))
		ms_usage_error("%s: empty element in the list '%s'", what, s);
}

int ms_parse_choice(const char *what, const char *arg, const char *const *names, int n)
{
	char all[256] = "";
	size_t off = 0;

	for (int i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	for (int i = 0; i < n && off < sizeof(all); i++)
		off += snprintf(all + off, sizeof(all) - off, "%s%s", i ? ", " : "", names[i]);
	ms_usage_error("%s: unknown key '%s' (%s)", what, arg, all);
}

int ms_parse_pid_list(const char *what, const char *s, int *pids, int n, int max)
{
	char buf[1024], *tok, *save;

	if (!s || !*s)
		ms_usage_error("%s needs a PID", what);
	ms_check_list(what, s);
	if (strlen(s) >= sizeof(buf))
		ms_usage_error("%s: list too long", what);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long pid = ms_parse_long(what, tok, 1, INT_MAX);

		bool dup = false;
		long long tgid;

		if (!pid_exists(pid))
			ms_usage_error("%s: no process with PID %ld", what, pid);
		/* a thread's id stands for its process (filters match the thread group) */
		if (proc_status_field(pid, "Tgid", &tgid) && tgid != pid) {
			ms_message("%s: %ld is a thread of process %lld: that process is meant",
				   what, pid, tgid);
			pid = tgid;
		}
		for (int i = 0; i < n; i++)
			dup |= pids[i] == pid;
		if (dup)
			continue;
		if (n == max)
			ms_usage_error("%s: at most %d PIDs", what, max);
		pids[n++] = pid;
	}
	if (!n)
		ms_usage_error("%s needs a PID", what);
	return n;
}

enum {
	OPT_JSON = 'j',
	OPT_VERBOSE = 'v',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_INTERVAL = 'i',
	OPT_COUNT = 'c',
	OPT_DURATION = 'd',
	OPT_PID = 'p',
	OPT_COMM = 1000,
	OPT_AVOID_HOOKS,
	OPT_CMD_BASE = 2000,
};

static const struct option global_long[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "avoid-hooks", required_argument, NULL, OPT_AVOID_HOOKS },
};

static const struct {
	struct option opt;
	unsigned int flag;
	const char *arg, *help;
	enum ms_arg_kind kind;
} shared_long[] = {
	{ { "interval", required_argument, NULL, OPT_INTERVAL }, MS_OPT_INTERVAL, "SEC",
	  "seconds between reports (fractions allowed)", MS_ARG_TEXT },
	{ { "count", required_argument, NULL, OPT_COUNT }, MS_OPT_COUNT, "N",
	  "stop after N reports", MS_ARG_TEXT },
	{ { "duration", required_argument, NULL, OPT_DURATION }, MS_OPT_DURATION, "SEC",
	  "stop after SEC seconds", MS_ARG_TEXT },
	{ { "pid", required_argument, NULL, OPT_PID }, MS_OPT_PID, "PID[,PID...]",
	  "only these processes", MS_ARG_PIDS },
	{ { "comm", required_argument, NULL, OPT_COMM }, MS_OPT_COMM, "NAME",
	  "only processes whose command name is NAME", MS_ARG_COMM },
};

/* --avoid-hooks takes the kinds up to kprobe (hooks_avoid refuses the others). */
static const char *avoidable_kind(int i)
{
	return i >= 0 && i <= HK_KPROBE ? hook_kind_name(i) : NULL;
}

/* Options every command takes, after its own; the last (-V) only before a command. */
static const struct ms_opt_doc global_docs[] = {
	{ .name = "json", .short_name = 'j', .help = "NDJSON output" },
	{ .name = "verbose", .short_name = 'v', .help = "libbpf and verifier log" },
	{ .name = "avoid-hooks", .arg = "KIND,...",
	  .help = "never use these hook kinds (see 'memscope features')", .kind = MS_ARG_WORDS,
	  .values = avoidable_kind },
	{ .name = "help", .short_name = 'h', .help = "this help" },
	{ .name = "version", .short_name = 'V', .help = "print the version" },
};

int ms_global_options(struct ms_opt_doc *out, int max)
{
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(global_docs) && n < max; i++)
		out[n++] = global_docs[i];
	return n;
}

int ms_command_options(const struct ms_cmd *cmd, struct ms_opt_doc *out, int max)
{
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(shared_long) && n < max; i++)
		if (cmd->shared & shared_long[i].flag)
			out[n++] = (struct ms_opt_doc){
				.name = shared_long[i].opt.name,
				.short_name = shared_long[i].opt.val < 256 ? shared_long[i].opt.val : 0,
				.arg = shared_long[i].arg, .help = shared_long[i].help,
				.kind = shared_long[i].kind };
	for (const struct ms_cmd_opt *co = cmd->opts; co && co->name && n < max; co++) {
		const struct ms_opt_value *v = cmd->values;

		while (v && v->option && strcmp(v->option, co->name))
			v++;
		out[n++] = (struct ms_opt_doc){ .name = co->name, .short_name = co->short_name,
						.arg = co->arg_name, .help = co->help,
						.kind = v && v->option ? v->kind : MS_ARG_TEXT,
						.values = v && v->option ? v->values : NULL };
	}
	for (size_t i = 0; i + 1 < ARRAY_SIZE(global_docs) && n < max; i++)
		out[n++] = global_docs[i];
	return n;
}

void ms_print_version(void)
{
	if (!out_version(MEMSCOPE_VERSION))
		printf("memscope %s\n", MEMSCOPE_VERSION);
	exit(out_finish(0));
}

/* An option and its help, the help wrapped under itself. */
static void help_item(const char *arg, const char *help)
{
	char first[128];

	snprintf(first, sizeof(first), "  %-28s ", arg);
	out_wrap(first, "                               ", help);
}

void ms_print_command_help(const struct ms_cmd *cmd)
{
	struct ms_opt_doc od[64];
	int n = ms_command_options(cmd, od, ARRAY_SIZE(od));
	char arg[64];

	out_doc_begin();
	printf("Usage: %s %s [options]%s%s\n\n", ms_prog, cmd->name, cmd->operands ? " " : "",
	       cmd->operands ? cmd->operands : "");
	out_wrap("", "", cmd->summary);
	if (cmd->details)
		printf("\n%s\n", cmd->details);
	printf("\nOptions:\n");
	for (int i = 0; i < n; i++) {
		if (od[i].short_name)
			snprintf(arg, sizeof(arg), "-%c, --%s%s%s", od[i].short_name, od[i].name,
				 od[i].arg ? " " : "", od[i].arg ? od[i].arg : "");
		else
			snprintf(arg, sizeof(arg), "    --%s%s%s", od[i].name, od[i].arg ? " " : "",
				 od[i].arg ? od[i].arg : "");
		help_item(arg, od[i].help);
	}
	if (cmd->examples)
		printf("\nExamples:\n%s", cmd->examples);
	out_doc_end(cmd->name);
}

void ms_parse_avoid_hooks(const char *arg)
{
	char err[128];

	ms_check_list("--avoid-hooks", arg);
	if (hooks_avoid(arg, err, sizeof(err)))
		ms_usage_error("--avoid-hooks: %s", err);
}

static void parse_shared(int c, const char *arg, struct ms_opts *o)
{
	switch (c) {
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_VERBOSE:
		o->verbose = true;
		break;
	case OPT_AVOID_HOOKS:
		ms_parse_avoid_hooks(arg);
		break;
	case OPT_INTERVAL:
		/* Below 10 ms the report itself would dominate; a day is plenty. */
		o->interval = ms_parse_double("--interval", arg, 0, 86400);
		if (o->interval < 0.01)
			ms_usage_error("--interval: %s is too small (minimum 0.01 s)", arg);
		break;
	case OPT_COUNT:
		o->count = ms_parse_long("--count", arg, 1, 1000000000L);
		break;
	case OPT_DURATION:
		o->duration = ms_parse_double("--duration", arg, 0, 31536000);
		if (o->duration <= 0)
			ms_usage_error("--duration: must be more than 0 seconds");
		break;
	case OPT_PID:
		/* -p 1 -p 2 is -p 1,2 */
		o->nr_pids = ms_parse_pid_list("--pid", arg, o->pids, o->nr_pids, MS_MAX_PIDS);
		break;
	case OPT_COMM:
		if (!*arg)
			ms_usage_error("--comm needs a name");
		if (strlen(arg) >= MS_COMM_LEN)
			ms_usage_error("--comm: '%s' is longer than the kernel's %d-character "
				       "command names", arg, MS_COMM_LEN - 1);
		strcpy(o->comm, arg);
		o->has_comm = true;
		break;
	}
}

static bool long_known(const struct option *opts, const char *name, size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return true;
	return false;
}

/* getopt's tables for this command: global, the shared options it takes, its own. */
static void build_options(const struct ms_cmd *cmd, struct option *longopts, char *shortopts)
{
	int n = 0;

	strcpy(shortopts, ":jvhV");
	for (size_t i = 0; i < ARRAY_SIZE(global_long); i++)
		longopts[n++] = global_long[i];
	for (size_t i = 0; i < ARRAY_SIZE(shared_long); i++) {
		const struct option *so = &shared_long[i].opt;

		if (!(cmd->shared & shared_long[i].flag))
			continue;
		longopts[n++] = *so;
		if (so->val < 256) {
			char s[3] = { so->val, ':', 0 };

			strcat(shortopts, s);
		}
	}
	for (const struct ms_cmd_opt *co = cmd->opts; co && co->name; co++) {
		longopts[n++] = (struct option){ co->name, co->has_arg, NULL,
						 co->short_name ? co->short_name
								: OPT_CMD_BASE + co->id };
		if (co->short_name) {
			char s[3] = { co->short_name, co->has_arg ? ':' : 0, 0 };

			strcat(shortopts, s);
		}
	}
	longopts[n] = (struct option){ 0 };
}

/* An option getopt did not know: name what the user typed, not its short twin. */
static void __attribute__((noreturn))
unknown_option(const struct ms_cmd *cmd, const struct option *longopts, const char *a)
{
	const char *eq = strchr(a, '=');

	if (!strncmp(a, "--", 2) && eq && long_known(longopts, a + 2, eq - a - 2))
		ms_usage_error("%s: option '%.*s' takes no value (see '%s help %s')", cmd->name,
			       (int)(eq - a), a, ms_prog, cmd->name);
	if (!strncmp(a, "--", 2))
		ms_usage_error("%s: unknown option '%s' (see '%s help %s')", cmd->name, a, ms_prog,
			       cmd->name);
	ms_usage_error("%s: unknown option '-%c' (see '%s help %s')", cmd->name,
		       optopt ? optopt : '?', ms_prog, cmd->name);
}

static void take_option(const struct ms_cmd *cmd, int c, struct ms_opts *o)
{
	const struct ms_cmd_opt *co;

	if (c == OPT_HELP) {
		ms_print_command_help(cmd);
		exit(0);
	}
	if (c == OPT_VERSION)
		ms_print_version();
	for (co = cmd->opts; co && co->name; co++)
		if (c == (co->short_name ? co->short_name : OPT_CMD_BASE + co->id))
			break;
	if (co && co->name)
		cmd->parse_opt(co->id, optarg);
	else
		parse_shared(c, optarg, o);
}

void ms_parse_command_args(const struct ms_cmd *cmd, int argc, char **argv, struct ms_opts *o)
{
	struct option longopts[64];
	char shortopts[128];
	int c;

	build_options(cmd, longopts, shortopts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == '?')
			unknown_option(cmd, longopts, argv[optind - 1]);
		if (c == ':')
			ms_usage_error("%s: option '%s' needs a value", cmd->name, argv[optind - 1]);
		take_option(cmd, c, o);
	}
	if (optind < argc && !cmd->operands)
		ms_usage_error("%s: unexpected argument '%s'", cmd->name, argv[optind]);
	o->args = argv + optind;
	o->nr_args = argc - optind;
	if (cmd->check)
		cmd->check(o);
}
