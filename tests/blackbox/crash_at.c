/* SPDX-License-Identifier: MIT */
/* crash_at.c: an LD_PRELOAD fixture for faults.py -- SIGKILL at the Nth call that changes a file system */
/*
 * Each call below that writes, makes, links, renames, removes or syncs is a
 * point, counted from 1 in the order the process makes them:
 *
 *   R2MPU_CRASH_LOG=FILE   appends "N name" for each point (a dry run lists them)
 *   R2MPU_CRASH_AT=N       SIGKILL just before point N: nothing of that call
 *                          is done, nothing after it runs
 *   R2MPU_REFUSE_LINKS=1   linkat fails with EPERM, as on a file system
 *                          without hard links
 *   R2MPU_REFUSE_EXCHANGE=1  renameat2 with RENAME_EXCHANGE fails with EINVAL,
 *                          as on a file system that cannot exchange
 *
 * Calls libc makes inside itself are not seen; the store's own calls are.
 * A killed process leaves the page cache in place, so this tests that every
 * step leaves the store consistent, not that the fsyncs make it durable.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static long points;
static long kill_at = -1;
static int log_fd = -1;
static int refuse_links;
static int refuse_exchange;

__attribute__((constructor)) static void crash_at_init(void)
{
	const char *at = getenv("R2MPU_CRASH_AT"), *log = getenv("R2MPU_CRASH_LOG");

	if (at != NULL)
		kill_at = atol(at);
	if (log != NULL)
		log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	refuse_links = getenv("R2MPU_REFUSE_LINKS") != NULL;
	refuse_exchange = getenv("R2MPU_REFUSE_EXCHANGE") != NULL;
}

static void point(const char *name)
{
	points++;
	if (log_fd >= 0)
		dprintf(log_fd, "%ld %s\n", points, name);
	if (points == kill_at)
		kill(getpid(), SIGKILL);
}

#define NEXT(fn) ((__typeof__(&fn))dlsym(RTLD_NEXT, #fn))

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
		point("openat-create");
	}
	return NEXT(openat)(dirfd, path, flags, mode);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	point("write");
	return NEXT(write)(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	point("pwrite");
	return NEXT(pwrite)(fd, buf, len, off);
}

int fsync(int fd)
{
	point("fsync");
	return NEXT(fsync)(fd);
}

int fdatasync(int fd)
{
	point("fdatasync");
	return NEXT(fdatasync)(fd);
}

int sync_file_range(int fd, off_t off, off_t len, unsigned int flags)
{
	point("sync_file_range");
	return NEXT(sync_file_range)(fd, off, len, flags);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	point("mkdirat");
	return NEXT(mkdirat)(dirfd, path, mode);
}

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
	point("linkat");
	if (refuse_links) {
		errno = EPERM;
		return -1;
	}
	return NEXT(linkat)(olddirfd, oldpath, newdirfd, newpath, flags);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	point("renameat");
	return NEXT(renameat)(olddirfd, oldpath, newdirfd, newpath);
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned int flags)
{
	point("renameat2");
	if (refuse_exchange && (flags & RENAME_EXCHANGE)) {
		errno = EINVAL;
		return -1;
	}
	return NEXT(renameat2)(olddirfd, oldpath, newdirfd, newpath, flags);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	point("unlinkat");
	return NEXT(unlinkat)(dirfd, path, flags);
}
