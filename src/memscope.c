// SPDX-License-Identifier: GPL-2.0
/* memscope: entry point and the command table. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "output.h"
#include "runtime.h"

/* Adding a command: one line here, plus its src/<cmd>.c (and src/bpf/<cmd>.bpf.c). */
const struct ms_cmd *const ms_commands[] = {
	&cmd_summary,
	&cmd_proc,
	&cmd_sys,
	&cmd_paf,
	&cmd_reclaim,
	&cmd_oom,
	&cmd_features,
	&cmd_gfp,
};
const int ms_nr_commands = sizeof(ms_commands) / sizeof(ms_commands[0]);

int main(int argc, char **argv)
{
	struct ms_opts opts = { 0 };
	const struct ms_cmd *cmd;
	int i;

	i = ms_parse_global_args(argc, argv, &opts);
	/* No command (or options only): the health report. */
	if (i >= argc || argv[i][0] == '-') {
		cmd = &cmd_summary;
		ms_parse_command_args(cmd, argc - i + 1, argv + i - 1, &opts);
		out_init(opts.json);
		ms_runtime_init(opts.verbose);
		return cmd->run(&opts);
	}
	if (!strcmp(argv[i], "help")) { /* memscope help CMD = memscope CMD --help */
		if (i + 1 >= argc) {
			ms_print_main_help();
			return 0;
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
	out_init(opts.json);
	ms_runtime_init(opts.verbose);
	return cmd->run(&opts);
}
