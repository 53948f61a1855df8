/*
 * newlib's system-call layer: the plain-named stubs an x86_64-elf newlib calls
 * (MISSING_SYSCALL_NAMES). stdout and stderr go to COM1, sbrk() hands out a
 * static heap, and there are no files, no input and no other processes.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * newlib's _r wrappers (_write_r, _sbrk_r, ...) read the syscall layer's own
 * global errno, not the per-reent one that <errno.h> names, and copy it over.
 */
#undef errno
extern int errno;

void serial_write(const char *buf, size_t len);
__attribute__((noreturn)) void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define LIBC_HEAP_SIZE                                                                             \
	(256u << 10) /* malloc's arena, in .bss: the hypervisor itself uses palloc                 \
		      */
#define LIBC_HEAP_ALIGN 16
#define LIBC_PID	1 /* the hypervisor is the only "process" */

static char libc_heap[LIBC_HEAP_SIZE] __attribute__((aligned(LIBC_HEAP_ALIGN)));
static size_t libc_brk; /* bytes of libc_heap handed out */

static bool is_std_fd(int fd)
{
	return fd == STDIN_FILENO || fd == STDOUT_FILENO || fd == STDERR_FILENO;
}

int write(int fd, const void *buf, size_t len)
{
	if (fd != STDOUT_FILENO && fd != STDERR_FILENO) {
		errno = EBADF;
		return -1;
	}
	if (len > __INT_MAX__)
		len = __INT_MAX__; /* the return type is int: write in pieces */
	serial_write(buf, len);
	return (int)len;
}

int read(int fd, void *buf, size_t len)
{
	if (!is_std_fd(fd)) {
		errno = EBADF;
		return -1;
	}
	return 0; /* the console is read by kernel/con.c, never through stdin */
}

int close(int fd)
{
	if (!is_std_fd(fd)) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

int fstat(int fd, struct stat *st)
{
	if (!is_std_fd(fd)) {
		errno = EBADF;
		return -1;
	}
	/* A character device: newlib then line-buffers stdout. */
	*st = (struct stat){.st_mode = S_IFCHR};
	return 0;
}

int isatty(int fd)
{
	if (!is_std_fd(fd)) {
		errno = EBADF;
		return 0;
	}
	return 1;
}

off_t lseek(int fd, off_t offset, int whence)
{
	errno = is_std_fd(fd) ? ESPIPE : EBADF;
	return -1;
}

void *sbrk(ptrdiff_t incr)
{
	size_t old = libc_brk;
	size_t delta = (size_t)incr;

	if (incr >= 0 ? delta > LIBC_HEAP_SIZE - old : -delta > old) {
		errno = ENOMEM;
		return (void *)-1;
	}
	libc_brk = old + delta;
	return libc_heap + old;
}

int kill(pid_t pid, int sig)
{
	if (pid != LIBC_PID) {
		errno = ESRCH;
		return -1;
	}
	/* raise() with no handler installed, e.g. from abort() or assert(). */
	if (sig != 0)
		panic("libc: signal %d raised%s", sig, sig == SIGABRT ? " (abort)" : "");
	return 0;
}

pid_t getpid(void)
{
	return LIBC_PID;
}

void _exit(int status)
{
	panic("libc: _exit(%d)", status);
}
