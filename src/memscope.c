// SPDX-License-Identifier: GPL-2.0
/* memscope: entry point and the command table. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include "cli.h"
#include "commands.h"
#include "complete.h"
#include "manpage.h"
#include "output.h"
#include "record.h"
#include "util.h"
#include "runtime.h"


/* Adding a command: one line here, plus its src/<cmd>.c (and src/bpf/<cmd>.bpf.c). */
const struct ms_cmd *const ms_commands[] = {
	&cmd_summary,
	&cmd_proc,
	&cmd_sys,
	&cmd_paf,
	&cmd_reclaim,
	&cmd_oom,
	&cmd_cgroup,
	&cmd_leak,
	&cmd_slab,
	&cmd_cache,
	&cmd_exporter,
	&cmd_record,
	&cmd_report,
	&cmd_features,
	&cmd_gfp,
};
const int ms_nr_commands = ARRAY_SIZE(ms_commands);

/* `memscope help fields`: every record type the commands print, each once. */
static void print_fields(void)
{
	const struct record_desc *seen[128];
	int n = 0;

	for (int c = 0; c < ms_nr_commands; c++)
		for (const struct record_desc *const *r = ms_commands[c]->records; r && *r; r++) {
			int i;

			for (i = 0; i < n && seen[i] != *r; i++)
				;
			if (i == n && n < (int)ARRAY_SIZE(seen))
				seen[n++] = *r;
		}
	seen[n++] = &error_desc;
	seen[n++] = &help_desc;
	seen[n++] = &version_desc;
	out_doc_begin();
	record_docs(stdout, seen, n);
	out_doc_end("fields");
}

/*
 * Hidden help topics the build uses: `help man [COMMAND]` (roff) and
 * `help completion bash|zsh`, made from this table. Returns false for other words.
 */
static bool print_generated(int argc, char **argv)
{
	const struct ms_cmd *cmd = NULL;

	if (argc < 1 || (strcmp(argv[0], "man") && strcmp(argv[0], "completion")))
		return false;
	if (argc > 2)
		ms_usage_error("help %s: unexpected argument '%s'", argv[0], argv[2]);
	if (!strcmp(argv[0], "man")) {
		if (argc == 2 && !(cmd = ms_find_command(argv[1])))
			ms_usage_error("help man: unknown command '%s'", argv[1]);
		if (cmd)
			man_command_page(stdout, cmd, ms_commands, ms_nr_commands);
		else
			man_main_page(stdout, ms_commands, ms_nr_commands);
	} else if (argc == 2 && !strcmp(argv[1], "bash"))
		complete_bash(stdout, ms_commands, ms_nr_commands);
	else if (argc == 2 && !strcmp(argv[1], "zsh"))
		complete_zsh(stdout, ms_commands, ms_nr_commands);
	else
		ms_usage_error("help completion: give bash or zsh");
	return true;
}

const struct ms_cmd *ms_find_command(const char *name)
{
	for (int i = 0; i < ms_nr_commands; i++)
		if (!strcmp(ms_commands[i]->name, name))
			return ms_commands[i];
	return NULL;
}

void ms_print_main_help(void)
{
	out_doc_begin();
	printf("Usage: %s [-j] [-v] COMMAND [options]\n\n"
	       "Linux memory analysis with eBPF: who uses memory, node and zone state,\n"
	       "allocation failures, reclaim and OOM kills, from the kernel's own events.\n\n"
	       "Commands:\n",
	       ms_prog);
	for (int i = 0; i < ms_nr_commands; i++) {
		char first[32];

		snprintf(first, sizeof(first), "  %-10s ", ms_commands[i]->name);
		out_wrap(first, "             ", ms_commands[i]->summary);
	}
	out_wrap("  help       ", "             ", "help of one command: help COMMAND; 'help "
		 "fields': every JSON field");
	printf("\nGlobal options:\n"
	       "  -j, --json        one JSON object per line (NDJSON); sizes in bytes\n"
	       "  -v, --verbose     show the libbpf and verifier log on stderr\n"
	       "      --avoid-hooks KIND[,KIND...]\n"
	       "                    never use hooks of these kinds (tp_btf, raw_tp, tracepoint,\n"
	       "                    fentry, kprobe): the next working variant is taken\n"
	       "  -h, --help        this help; '%s help COMMAND' for a command\n"
	       "  -V, --version     print the version\n\n"
	       "Examples:\n"
	       "  %s features           what this kernel offers memscope\n"
	       "  %s proc --once --top 5   the five largest processes\n"
	       "  %s help proc          options of one command\n"
	       "  %s --avoid-hooks tp_btf features   which hooks the fallbacks would be\n",
	       ms_prog, ms_prog, ms_prog, ms_prog, ms_prog);
	out_doc_end("memscope");
}

int ms_parse_global_args(int argc, char **argv, struct ms_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json"))
			o->json = true;
		else if (!strcmp(a, "--verbose"))
			o->verbose = true;
		else if (a[0] == '-' && a[1] && a[1] != '-' && !a[strspn(a + 1, "jvhV") + 1]) {
			/* -j, -v, or a cluster such as -jv */
			for (const char *f = a + 1; *f; f++)
				if (*f == 'j')
					o->json = true;
				else if (*f == 'v')
					o->verbose = true;
				else if (*f == 'h') {
					ms_print_main_help();
					exit(0);
				} else
					ms_print_version();
		}
		else if (!strcmp(a, "--avoid-hooks")) {
			if (i + 1 >= argc)
				ms_usage_error("option '--avoid-hooks' needs a value");
			ms_parse_avoid_hooks(argv[++i]);
		} else if (!strncmp(a, "--avoid-hooks=", 14))
			ms_parse_avoid_hooks(a + 14);
		else if (!strcmp(a, "--help")) {
			ms_print_main_help();
			exit(0);
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version"))
			ms_print_version();
		else if (!strcmp(a, "--"))
			return i + 1;
		else
			break; /* the command, or options of the default command */
	}
	return i;
}

/* Is -j anywhere before "--"? Then errors also end the NDJSON stream with a record. */
static bool wants_json(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json") ||
		    (a[0] == '-' && a[1] != '-' && strchr(a, 'j') &&
		     !a[strspn(a + 1, "jvhV") + 1]))
			return true;
	}
	return false;
}

/*
 * "memscope --nosuch proc": an option the global ones do not know, before a command.
 * The health report (the default command) is not the one to blame for it. Its only
 * option of its own, -d, takes a number, so a later command word is a command.
 */
static void refuse_before_command(int argc, char **argv, int i)
{
	for (int j = i + 1; j < argc && strcmp(argv[j], "--"); j++)
		if (ms_find_command(argv[j]) || !strcmp(argv[j], "help"))
			ms_usage_error("'%s' before the command '%s' is not a global option (those "
				       "are -j, -v, --avoid-hooks; see '%s --help')", argv[i],
				       argv[j], ms_prog);
}

static int run(const struct ms_cmd *cmd, struct ms_opts *opts)
{
	out_init(opts->json);
	ms_runtime_init(opts->verbose);
	return out_finish(cmd->run(opts));
}

int main(int argc, char **argv)
{
	struct ms_opts opts = { 0 };
	const struct ms_cmd *cmd;
	int i;

	/*
	 * An observer must not change what it reports: with THP "always", any 2 MiB
	 * range of our own heap or BSS can become a huge page and show in the
	 * AnonHugePages sys reports (6.1 guest). memscope starts no other program.
	 */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	out_errors_as_json(wants_json(argc, argv));
	out_check_stdout_open();
	i = ms_parse_global_args(argc, argv, &opts);
	/* No command (or options only): the health report. */
	if (i >= argc || argv[i][0] == '-') {
		refuse_before_command(argc, argv, i);
		cmd = &cmd_summary;
		ms_parse_command_args(cmd, argc - i + 1, argv + i - 1, &opts);
		return run(cmd, &opts);
	}
	if (!strcmp(argv[i], "help")) { /* memscope help CMD = memscope CMD --help */
		if (i + 1 >= argc) {
			ms_print_main_help();
			return 0;
		}
		if (!strcmp(argv[i + 1], "fields")) { /* the JSON records, from their descriptions */
			print_fields();
			return out_finish(0);
		}
		if (print_generated(argc - i - 1, argv + i + 1))
			return out_finish(0);
		for (int c = 0; c < ms_nr_commands; c++)
			if (ms_commands[c]->topic && !strcmp(argv[i + 1], ms_commands[c]->topic)) {
				out_doc_begin();
				ms_commands[c]->topic_docs();
				out_doc_end(ms_commands[c]->topic);
				return out_finish(0);
			}
		cmd = ms_find_command(argv[i + 1]);
		if (!cmd)
			ms_usage_error("unknown command '%s' (see '%s --help')", argv[i + 1],
				       ms_prog);
		if (i + 2 < argc)
			ms_usage_error("help: unexpected argument '%s'", argv[i + 2]);
		ms_print_command_help(cmd);
		return 0;
	}
	cmd = ms_find_command(argv[i]);
	if (!cmd)
		ms_usage_error("unknown command '%s' (see '%s --help')", argv[i], ms_prog);
	ms_parse_command_args(cmd, argc - i, argv + i, &opts);
	return run(cmd, &opts);
}
