/*
 * The small runtime: the few C-library functions arch/um's host-side code
 * calls, so that vmlinux links with no host library.  What the kernel image
 * already defines (memcpy, strlen, vsnprintf, snprintf, ... from lib/ and
 * arch/x86/lib) is not repeated here: the host side uses the kernel's.
 *
 * malloc: a bump allocator on the brk window (start.c), used only until
 * kmalloc works (arch/um's __wrap_malloc, main.c, switches then); free()
 * of its blocks is a no-op.  sbrk(0) reports the break: arch/um gives the
 * rest of the window to the page allocator at mem_init.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <os.h>
#include "ukvm.h"

static unsigned long brk_cur, brk_limit;

void ukvm_rt_init(unsigned long start, unsigned long limit)
{
	brk_cur = start;
	brk_limit = limit;
}

void *sbrk(intptr_t inc)
{
	unsigned long old = brk_cur;
	if (inc < 0 || brk_cur + inc > brk_limit) {
		errno = ENOMEM;
		return (void *)-1;
	}
	brk_cur += inc;
	return (void *)old;
}

/* "real" malloc: the link's --wrap (arch/um/Makefile) sends the kernel's
 * calls to __wrap_malloc (util.c), which calls this one until kmalloc works */
void *malloc(size_t n)
{
	void *p = sbrk((intptr_t)((n + 15) & ~15ul));
	return p == (void *)-1 ? NULL : p;
}

void *calloc(size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size)
		return NULL;
	void *p = malloc(n * size);
	if (p)
		memset(p, 0, n * size);   /* the window may hold an earlier boot's bytes */
	return p;
}

void free(void *p)
{
	(void)p;
}

/* errno of the host side (the kernel's own is kernel_errno) */
static int host_errno;
int *__errno_location(void)
{
	return &host_errno;
}

/* stdio: everything goes to the console */
FILE *stdin, *stdout, *stderr;

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	char buf[512];
	(void)f;
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n > 0)
		ukvm_console_write(buf, (unsigned long)n < sizeof buf ? (unsigned long)n
								  : sizeof buf - 1);
	return n;
}

int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	return printf("%s\n", s);
}

int fflush(FILE *f)
{
	(void)f;
	return 0;
}

void perror(const char *s)
{
	printf("%s: error %d\n", s, host_errno);
}

char *strerror(int e)
{
	static char buf[32];
	snprintf(buf, sizeof buf, "error %d", e);
	return buf;
}

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;
	while (*s == ' ')
		s++;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}
	for (;; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'z')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'Z')
			d = *s - 'A' + 10;
		else
			break;
		if (d >= base)
			break;
		v = v * base + d;
	}
	if (end)
		*end = (char *)s;
	return v;
}

long strtol(const char *s, char **end, int base)
{
	while (*s == ' ')
		s++;
	if (*s == '-')
		return -(long)strtoul(s + 1, end, base);
	return (long)strtoul(*s == '+' ? s + 1 : s, end, base);
}

int getpagesize(void)
{
	return UK_PAGE_SIZE;
}

void exit(int status)
{
	ukvm_power(UK_VDEV_POWER_HALT, status ? UKVM_EXIT_PANIC : 0);
}

void _exit(int status)
{
	exit(status);
}

void abort(void)
{
	ukvm_printf("ukvm: abort()\n");
	ukvm_power(UK_VDEV_POWER_HALT, UKVM_EXIT_PANIC);
}

/* No terminal and no host signals: the ones that still get asked say so. */
int isatty(int fd)
{
	(void)fd;
	return 0;
}

int tcgetattr(int fd, void *t)
{
	(void)fd;
	(void)t;
	host_errno = ENOTTY;
	return -1;
}

int tcsetattr(int fd, int act, const void *t)
{
	(void)fd;
	(void)act;
	(void)t;
	host_errno = ENOTTY;
	return -1;
}

/* Raw host system calls: only arch/x86/um/ldt.c asks, for the host's LDT
 * (modify_ldt); there is none, and no stub to change one: it says so once
 * ("couldn't read host ldt") and goes on without LDT entries. */
long syscall(long nr, ...)
{
	(void)nr;
	host_errno = ENOSYS;
	return -1;
}

/* --- the POSIX calls of arch/um's channel code (drivers/chan_user.c,
 * null.c) and ptrace_user.c, on our pseudo-fds (file.c) --------------- */
static long posix_ret(long r)
{
	if (r < 0) {
		host_errno = (int)-r;
		return -1;
	}
	return r;
}

ssize_t read(int fd, void *buf, size_t n)
{
	return posix_ret(os_read_file(fd, buf, (int)n));
}

ssize_t write(int fd, const void *buf, size_t n)
{
	return posix_ret(os_write_file(fd, buf, (int)n));
}

int close(int fd)
{
	os_close_file(fd);
	return 0;
}

int open64(const char *path, int flags, ...)
{
	(void)flags;
	return (int)posix_ret(strcmp(path, "/dev/null") == 0 ? UKVM_NULL_FD : -ENOENT);
}

int ioctl(int fd, unsigned long req, ...)
{
	(void)fd;
	(void)req;
	return (int)posix_ret(-ENOTTY);
}

pid_t setsid(void) { return 1; }
pid_t tcgetpgrp(int fd) { (void)fd; return (pid_t)posix_ret(-ENOTTY); }
int tcsetpgrp(int fd, pid_t pg) { (void)fd; (void)pg; return (int)posix_ret(-ENOTTY); }
long ptrace(int req, ...) { (void)req; return posix_ret(-ENOSYS); }

/* host signal masks: there are no host signals (signal.c has the events) */
int sigemptyset(sigset_t *set) { memset(set, 0, sizeof *set); return 0; }
int sigfillset(sigset_t *set) { memset(set, 0xff, sizeof *set); return 0; }
int sigaddset(sigset_t *set, int sig) { (void)set; (void)sig; return 0; }
int sigdelset(sigset_t *set, int sig) { (void)set; (void)sig; return 0; }
int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	(void)how;
	(void)set;
	if (old)
		memset(old, 0, sizeof *old);
	return 0;
}
int sigsuspend(const sigset_t *mask) { (void)mask; return (int)posix_ret(-EINTR); }
sighandler_t signal(int sig, sighandler_t h) { (void)sig; (void)h; return SIG_DFL; }
