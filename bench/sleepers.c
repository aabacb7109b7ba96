// SPDX-License-Identifier: GPL-2.0
/*
 * B3 setup: fork N sleeping processes; prints "ready"; exits on stdin EOF, and
 * the children die with it (PR_SET_PDEATHSIG).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	char c;

	for (long i = 0; i < n; i++) {
		pid_t p = fork();

		if (p < 0)
			return 1;
		if (!p) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
