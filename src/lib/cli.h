/* SPDX-License-Identifier: GPL-2.0 */
/* Command table and the options every memscope command shares. */
#ifndef MEMSCOPE_CLI_H
#define MEMSCOPE_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <getopt.h>
#include "comm.h"
#include "msg.h"

struct hook_spec;
struct record_desc;

#define MS_MAX_PIDS 64


struct ms_opts {
	bool json;
	bool verbose;
	double interval; /* seconds; 0 when not given */
	long count;	 /* 0 when not given */
	double duration; /* seconds; 0 when not given */
	int pids[MS_MAX_PIDS];
	int nr_pids;
	char comm[MS_COMM_LEN];
	bool has_comm;
	/* Operands after the options, for commands that take them. */
	char **args;
	int nr_args;
};

/* What an option's value is: shell completion offers it, man pages name it. */
enum ms_arg_kind {
	MS_ARG_TEXT,   /* anything: nothing to offer */
	MS_ARG_WORD,   /* one of the option's values() */
	MS_ARG_WORDS,  /* a comma-separated list of them */
	MS_ARG_FILE,   /* a file name */
	MS_ARG_CGROUP, /* a memory cgroup: its path as the kernel names it, or its directory */
	MS_ARG_PIDS,   /* PID[,PID...] of running processes */
	MS_ARG_COMM,   /* a running process's command name */
};

/* A command-specific option; `id` is handed back to the command's parser. */
struct ms_cmd_opt {
	const char *name;
	int short_name; /* 0 when long-only */
	int has_arg;	/* no_argument / required_argument */
	const char *arg_name;
	const char *help;
	int id;
};

/* What the value of a command's option (named without "--") is, when not just text. */
struct ms_opt_value {
	const char *option;
	enum ms_arg_kind kind;
	/* MS_ARG_WORD(S): the i-th value the parser takes, NULL past the last */
	const char *(*values)(int i);
};

/* One option as --help, the man page and completion show it. */
struct ms_opt_doc {
	const char *name; /* long name, without "--" */
	int short_name;	  /* 0 when long-only */
	const char *arg;  /* the value's name, NULL: takes none */
	const char *help;
	enum ms_arg_kind kind;
	const char *(*values)(int i);
};

/* Which shared options a command takes (others are refused as bad input). */
enum {
	MS_OPT_INTERVAL = 1 << 0,
	MS_OPT_COUNT = 1 << 1,
	MS_OPT_DURATION = 1 << 2,
	MS_OPT_PID = 1 << 3,
	MS_OPT_COMM = 1 << 4,
	MS_OPT_LOOP = MS_OPT_INTERVAL | MS_OPT_COUNT | MS_OPT_DURATION,
	MS_OPT_FILTER = MS_OPT_PID | MS_OPT_COMM,
};

struct ms_cmd {
	const char *name;
	const char *summary;  /* one line */
	const char *details;  /* paragraph after the usage line, may be NULL */
	const char *examples; /* lines of examples */
	unsigned int shared;  /* MS_OPT_* this command accepts */
	const char *operands; /* e.g. "MASK..." when it takes operands, else NULL */
	const struct ms_cmd_opt *opts; /* terminated by { NULL } */
	/* Called for each command option; report bad values with ms_usage_error(). */
	void (*parse_opt)(int id, const char *arg);
	/* Called once after all options are parsed, to check combinations. */
	void (*check)(const struct ms_opts *o);
	int (*run)(const struct ms_opts *o);
	/* The kernel hooks this command uses, for `features` and hook selection. */
	const struct hook_spec *hooks;
	int nr_hooks;
	/* The record types it prints (NULL-terminated), for `memscope help fields`. */
	const struct record_desc *const *records;
	/* A documentation topic of its own (`memscope help TOPIC`), e.g. "metrics". */
	const char *topic;
	void (*topic_docs)(void);
	/* Its options' values, for completion and man pages (terminated by { NULL }). */
	const struct ms_opt_value *values;
};

extern const struct ms_cmd *const ms_commands[];
extern const int ms_nr_commands;

const struct ms_cmd *ms_find_command(const char *name);
/* Parse argv (after the command name) into o; exits 2 on bad input. */
void ms_parse_command_args(const struct ms_cmd *cmd, int argc, char **argv, struct ms_opts *o);
/* --avoid-hooks KIND[,KIND...]; exits 2 on an unknown kind. */
void ms_parse_avoid_hooks(const char *arg);
/* Parse global options before the command; returns index of the command word. */
int ms_parse_global_args(int argc, char **argv, struct ms_opts *o);
void ms_print_command_help(const struct ms_cmd *cmd);
/* Every option cmd takes, in --help's order (its shared ones, its own, the global ones);
 * returns how many (at most max). */
int ms_command_options(const struct ms_cmd *cmd, struct ms_opt_doc *out, int max);
/* The global options (before the command); returns how many (at most max). */
int ms_global_options(struct ms_opt_doc *out, int max);
void ms_print_main_help(void);
void ms_print_version(void) __attribute__((noreturn));

/* Number parsing shared by all options; `what` names the option in messages. */
double ms_parse_double(const char *what, const char *s, double min, double max);
long ms_parse_long(const char *what, const char *s, long min, long max);
/* Seconds from "90", "30s", "15m", "2h", "7d", "1w". */
double ms_parse_duration(const char *what, const char *s);
/* Bytes from "65536", "64k", "256M", "1G" (powers of 1024; "MiB" too). */
uint64_t ms_parse_size(const char *what, const char *s);
/* Wall-clock seconds from ISO 8601 ("2026-11-27T08:30:00Z", local time without the Z)
 * or an age before now ("2h", "30m"). */
double ms_parse_time(const char *what, const char *s, double now);
/* The index of arg in names[0..n) ("--sort", "size"); else exit 2 naming them all. */
int ms_parse_choice(const char *what, const char *arg, const char *const *names, int n);
/* Add the PIDs of a list to pids[0..n) (duplicates once); returns the new count. */
int ms_parse_pid_list(const char *what, const char *s, int *pids, int n, int max);
/* A comma-separated list must not be empty nor have empty elements ("1,,2"). */
void ms_check_list(const char *what, const char *s);


#endif
