// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "outfile.h"

static bool say(char *buf, size_t len, const char *fmt, const char *path, const char *what)
{
	snprintf(buf, len, fmt, path, what);
	return false;
}

/* What cannot take a page: NULL when st's file can. */
static const char *unwritable(const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return "a directory";
	if (S_ISBLK(st->st_mode))
		return "a block device (a page is not written over a disk)";
	if (S_ISSOCK(st->st_mode))
		return "a socket";
	return NULL;
}

bool outfile_check(const char *path, char *why, size_t len)
{
	struct stat st;
	const char *bad;

	if (lstat(path, &st))
		return true; /* none yet (or unreadable: opening it says why) */
	if ((bad = unwritable(&st)))
		return say(why, len, "%s is %s", path, bad);
	/* a symbolic link is followed, as a shell's > follows it */
	if (S_ISLNK(st.st_mode) && !stat(path, &st) && (bad = unwritable(&st)))
		return say(why, len, "%s leads to %s", path, bad);
	return true;
}

/*
 * The stream writes through these, so the first error's errno is kept: once a write
 * fails, stdio only sets its error flag, and errno at fflush or fclose may say nothing
 * (or something else: a page filling /dev/full said EIO, not ENOSPC, now and then).
 */
static ssize_t stream_write(void *cookie, const char *buf, size_t n)
{
	struct outfile *o = cookie;
	size_t done = 0;
	ssize_t w;

	while (done < n) {
		w = write(o->fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!o->err)
				o->err = w < 0 ? errno : EIO;
			errno = o->err;
			return done; /* 0: an error, to stdio */
		}
		done += w;
	}
	return done;
}

static int stream_close(void *cookie)
{
	struct outfile *o = cookie;

	return close(o->fd);
}

static bool stream_open(struct outfile *o, int fd)
{
	static const cookie_io_functions_t io = { .write = stream_write, .close = stream_close };

	o->fd = fd;
	o->f = fopencookie(o, "w", io);
	return o->f != NULL;
}

/* Through an existing file that is not regular: no replacing, no creating. */
static bool open_through(struct outfile *o, char *err, size_t len)
{
	/* O_TRUNC empties a regular file at the link's end; others ignore it */
	int fd = open(o->path, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	const char *bad;

	if (fd < 0)
		return say(err, len, "cannot write %s: %s", o->path, strerror(errno));
	/* what was opened, which may not be what was looked at */
	if (!fstat(fd, &st) && (bad = unwritable(&st))) {
		close(fd);
		return say(err, len, "%s is %s: not written", o->path, bad);
	}
	if (!stream_open(o, fd)) {
		close(fd);
		return say(err, len, "cannot write %s: %s", o->path, strerror(errno));
	}
	return true;
}

/* A new file in path's directory, named .BASE.XXXXXX, with a creat(2) mode. */
static bool open_beside(struct outfile *o, char *err, size_t len)
{
	const char *slash = strrchr(o->path, '/');
	int dir = slash ? (int)(slash - o->path + 1) : 0, fd;
	mode_t mask = umask(0);

	umask(mask);
	if (snprintf(o->tmp, sizeof(o->tmp), "%.*s.%s.XXXXXX", dir, o->path, o->path + dir) >=
	    (int)sizeof(o->tmp))
		return say(err, len, "%s: %s", o->path, strerror(ENAMETOOLONG));
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		o->tmp[0] = '\0';
		return say(err, len, "cannot write %s: %s", o->path, strerror(errno));
	}
	if (fchmod(fd, 0666 & ~mask) || !stream_open(o, fd)) {
		say(err, len, "cannot write %s: %s", o->tmp, strerror(errno));
		close(fd);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return false;
	}
	return true;
}

bool outfile_open(struct outfile *o, const char *path, char *err, size_t len)
{
	struct stat st;

	memset(o, 0, sizeof(*o));
	if (snprintf(o->path, sizeof(o->path), "%s", path) >= (int)sizeof(o->path))
		return say(err, len, "%s: %s", path, strerror(ENAMETOOLONG));
	if (!outfile_check(path, err, len))
		return false;
	if (!lstat(path, &st) && !S_ISREG(st.st_mode))
		return open_through(o, err, len);
	return open_beside(o, err, len);
}

/*
 * The new file takes the path: where nothing is (RENAME_NOREPLACE), or swapped with a
 * regular file (RENAME_EXCHANGE), which is checked once swapped out and swapped back
 * if it was not regular after all, so nothing else is ever renamed over. 0 or an errno.
 */
static int put_in_place(const struct outfile *o)
{
	struct stat st;

	for (int tries = 0; tries < 3; tries++) {
		if (!renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE))
			return 0;
		if (errno == EEXIST &&
		    !renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_EXCHANGE)) {
			if (!lstat(o->tmp, &st) && S_ISREG(st.st_mode)) {
				unlink(o->tmp); /* the old file */
				return 0;
			}
			renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_EXCHANGE);
			return EEXIST;
		}
		if (errno != ENOENT) /* ENOENT: gone between the two calls, try again */
			break;
	}
	if (errno != EINVAL)
		return errno;
	/* a file system without renameat2's flags: look, then rename */
	if (!lstat(o->path, &st) && !S_ISREG(st.st_mode))
		return EEXIST;
	return rename(o->tmp, o->path) ? errno : 0;
}

bool outfile_close(struct outfile *o, char *err, size_t len)
{
	int e = 0;

	errno = 0;
	if (fflush(o->f) || ferror(o->f) || (o->tmp[0] && fsync(o->fd)))
		e = o->err ? o->err : errno ? errno : EIO;
	if (fclose(o->f) && !e)
		e = o->err ? o->err : errno;
	o->f = NULL;
	if (!e && o->tmp[0] && (e = put_in_place(o)) == EEXIST) {
		unlink(o->tmp);
		return say(err, len, "%s became other than a regular file while the new one "
			   "was written: %s", o->path, "left as it is, not replaced");
	}
	if (e) {
		if (o->tmp[0])
			unlink(o->tmp);
		return say(err, len, "cannot write %s: %s", o->path, strerror(e));
	}
	return true;
}
