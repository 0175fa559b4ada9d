/*
 * Files: there is no host file system.  What arch/um reaches through
 * "file descriptors" are pseudo-fds, each a device of our vmm-server:
 *   0     console input  (UK_VDEV_CONSOLE_READ; -EAGAIN when empty, like a
 *                         non-blocking tty; UK_VDEV_EVENT_CONSOLE says when)
 *   1, 2  console output (UK_VDEV_CONSOLE_WRITE)
 *   3     physical memory (create_mem_file: offset o is uml_physmem + o)
 *   4     the initrd the vmm-server loaded ("ukvm:initrd", read-only)
 *   5     /dev/null (arch/um's null channel): reads "nothing yet", writes vanish
 * Everything else that names a path fails with -ENOENT; the calls that
 * only make sense for host files fail with -ENOSYS or do nothing.
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <as-layout.h>
#include <os.h>
#include "ukvm.h"

#define FD_INITRD 4
#define INITRD_NAME "ukvm:initrd"

static unsigned long long offsets[UKVM_NULL_FD + 1];   /* file position of fds 3 and 4 */

static int is_initrd(const char *name)
{
	return ukvm_gi->initrd_size && strcmp(name, INITRD_NAME) == 0;
}

int os_stat_file(const char *file_name, struct uml_stat *buf)
{
	if (!is_initrd(file_name))
		return -ENOENT;
	memset(buf, 0, sizeof *buf);
	buf->ust_mode = 0100444;
	buf->ust_size = ukvm_gi->initrd_size;
	buf->ust_blksize = UK_PAGE_SIZE;
	return 0;
}

int os_stat_fd(const int fd, struct uml_stat *buf)
{
	if (fd < 0 || fd > UKVM_NULL_FD)
		return -EBADF;
	if (fd == FD_INITRD)
		return os_stat_file(INITRD_NAME, buf);
	memset(buf, 0, sizeof *buf);
	buf->ust_mode = 020600;    /* a character device */
	return 0;
}

int os_access(const char *file, int mode)
{
	if (!is_initrd(file))
		return -ENOENT;
	return (mode & OS_ACC_W_OK) ? -EACCES : 0;
}

int os_file_type(char *file)
{
	return is_initrd(file) ? OS_TYPE_FILE : -ENOENT;
}

int os_file_mode(const char *file, struct openflags *mode_out)
{
	if (!is_initrd(file))
		return -ENOENT;
	*mode_out = of_read(OPENFLAGS());
	return 0;
}

int os_file_size(const char *file, unsigned long long *size_out)
{
	if (!is_initrd(file))
		return -ENOENT;
	*size_out = ukvm_gi->initrd_size;
	return 0;
}

int os_file_modtime(const char *file, long long *modtime)
{
	(void)file;
	(void)modtime;
	return -ENOENT;
}

int os_open_file(const char *file, struct openflags flags, int mode)
{
	(void)mode;
	if (!is_initrd(file))
		return -ENOENT;
	if (flags.w || flags.c || flags.t)
		return -EACCES;
	offsets[FD_INITRD] = 0;
	return FD_INITRD;
}

int os_read_file(int fd, void *buf, int len)
{
	if (len < 0)
		return -EINVAL;
	switch (fd) {
	case 0:
		return len == 0 ? 0 : ({ long n = ukvm_console_read(buf, len); n > 0 ? (int)n : -EAGAIN; });
	case FD_INITRD: {
		unsigned long long size = ukvm_gi->initrd_size, at = offsets[fd];
		if (at >= size)
			return 0;
		if ((unsigned long long)len > size - at)
			len = (int)(size - at);
		memcpy(buf, (const char *)ukvm_gi->initrd_base + at, len);
		offsets[fd] += len;
		return len;
	}
	case UKVM_NULL_FD:
		return -EAGAIN;
	default:
		return -EBADF;
	}
}

int os_write_file(int fd, const void *buf, int count)
{
	if (count < 0)
		return -EINVAL;
	switch (fd) {
	case 1:
	case 2:
		ukvm_console_write(buf, count);
		return count;
	case UKVM_PHYSMEM_FD: {
		/* arch/um writes its stub page into "physmem" at its own
		 * physical address: that is the page itself, nothing to copy */
		char *dst = (char *)uml_physmem + offsets[fd];
		if (dst != buf)
			memmove(dst, buf, count);
		offsets[fd] += count;
		return count;
	}
	case UKVM_NULL_FD:
		return count;
	default:
		return -EBADF;
	}
}

int os_pread_file(int fd, void *buf, int len, unsigned long long offset)
{
	if (fd != FD_INITRD)
		return -EBADF;
	offsets[fd] = offset;
	return os_read_file(fd, buf, len);
}

int os_pwrite_file(int fd, const void *buf, int count, unsigned long long offset)
{
	(void)fd;
	(void)buf;
	(void)count;
	(void)offset;
	return -EBADF;
}

int os_seek_file(int fd, unsigned long long offset)
{
	if (fd != UKVM_PHYSMEM_FD && fd != FD_INITRD)
		return -ESPIPE;
	offsets[fd] = offset;
	return 0;
}

void os_close_file(int fd)
{
	(void)fd;
}

int os_sync_file(int fd) { (void)fd; return 0; }
int os_fsync_file(int fd) { (void)fd; return 0; }
void os_flush_stdout(void) { }
int os_set_exec_close(int fd) { (void)fd; return 0; }
int os_set_fd_async(int fd) { (void)fd; return 0; }
int os_clear_fd_async(int fd) { (void)fd; return 0; }
int os_set_fd_block(int fd, int blocking) { (void)fd; (void)blocking; return 0; }
int os_mode_fd(int fd, int mode) { (void)fd; (void)mode; return 0; }
int os_lock_file(int fd, int excl) { (void)fd; (void)excl; return 0; }
int os_ioctl_generic(int fd, unsigned int cmd, unsigned long arg)
{
	(void)fd; (void)cmd; (void)arg;
	return -ENOTTY;
}

/* Sockets, pipes, network interfaces: none here. */
int os_get_ifname(int fd, char *namebuf) { (void)fd; (void)namebuf; return -ENOSYS; }
int os_set_slip(int fd) { (void)fd; return -ENOSYS; }
int os_pipe(int *fd, int stream, int close_on_exec)
{
	(void)fd; (void)stream; (void)close_on_exec;
	return -ENOSYS;
}
int os_accept_connection(int fd) { (void)fd; return -ENOSYS; }
int os_create_unix_socket(const char *file, int len, int close_on_exec)
{
	(void)file; (void)len; (void)close_on_exec;
	return -ENOSYS;
}
int os_shutdown_socket(int fd, int r, int w) { (void)fd; (void)r; (void)w; return -ENOSYS; }
int os_rcv_fd(int fd, int *helper_pid_out) { (void)fd; (void)helper_pid_out; return -ENOSYS; }
int os_connect_socket(const char *name) { (void)name; return -ENOSYS; }
int os_eventfd(unsigned int initval, int flags) { (void)initval; (void)flags; return -ENOSYS; }
int os_sendmsg_fds(int fd, const void *buf, unsigned int len, const int *fds,
		   unsigned int fds_num)
{
	(void)fd; (void)buf; (void)len; (void)fds; (void)fds_num;
	return -ENOSYS;
}
int os_poll(unsigned int n, const int *fds) { (void)n; (void)fds; return -ENOSYS; }
int os_falloc_punch(int fd, unsigned long long offset, int count)
{
	(void)fd; (void)offset; (void)count;
	return -EOPNOTSUPP;
}
int os_falloc_zeroes(int fd, unsigned long long offset, int count)
{
	(void)fd; (void)offset; (void)count;
	return -EOPNOTSUPP;
}

/* Device numbers: glibc's encoding, plain arithmetic. */
unsigned os_major(unsigned long long dev)
{
	return ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffu);
}

unsigned os_minor(unsigned long long dev)
{
	return (dev & 0xff) | ((dev >> 12) & ~0xffu);
}

unsigned long long os_makedev(unsigned major, unsigned minor)
{
	return (minor & 0xff) | ((unsigned long long)(major & 0xfff) << 8) |
	       ((unsigned long long)(minor & ~0xffu) << 12) |
	       ((unsigned long long)(major & ~0xfffu) << 32);
}
