/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A file written for the user (report --html FILE), by one rule: never replace a path
 * that is not a regular file memscope made. A regular file, or none, is written beside
 * under a name nobody can plant (O_EXCL, random), then renamed over the path: a reader
 * sees the old file or the new one, and a kill -9 or a full disk leaves the old one. A
 * character device, a FIFO or a symbolic link is written through as it is and never
 * replaced. A directory, a block device or a socket is refused.
 */
#ifndef MEMSCOPE_OUTFILE_H
#define MEMSCOPE_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct outfile {
	FILE *f; /* write here */
	int fd;
	int err; /* the first write's error: stdio keeps only that one failed */
	char path[4096];
	char tmp[4096]; /* the new file beside it; "" when written through */
};

/* Could path be written? false with the reason (a directory, ...) in why: bad input. */
bool outfile_check(const char *path, char *why, size_t len);
/* Open path for writing; false with a one-line reason in err. o must not move. */
bool outfile_open(struct outfile *o, const char *path, char *err, size_t len);
/*
 * Flush and close; a new file then takes the path. false with the reason in err: the
 * path keeps what it held, the new file is gone.
 */
bool outfile_close(struct outfile *o, char *err, size_t len);

#endif
