/*
 * gltest: the guest-linux test program.  It runs inside a Linux guest (from the
 * initramfs that tools/build/mkguest-initramfs writes) and checks that the kernel
 * gives its processes what ordinary programs rely on: processes, pipes,
 * signals, memory, threads, files, /proc, timers, FPU state, dynamic linking.
 *
 *   gltest                 run every case (but those run only when named)
 *   gltest NAME...         run only these cases
 *   gltest --list          print the case names
 *   gltest --child-exit N  (used by the fork-exec case) exit with status N
 *   gltest --qemu-exit N   write N to QEMU's isa-debug-exit port (0xf4) so
 *                          tools/run/qemu-run exits with N; fails without ioperm
 *   gltest --pattern FILE  write the 16 MiB test pattern the "coreutils" case
 *                          checksums (run on the build host too, so that the
 *                          host's sha256sum gives the expected digest)
 *   gltest --fork-bomb FIFO [UID [PAGES]]  a fork bomb (as UID), reporting into FIFO;
 *                            with PAGES, each process then touches PAGES pages 2 MiB apart
 *                          when fork is refused (tests/guest-linux/run)
 *
 * Prints one line per case, "ok NAME (detail)" or "FAIL NAME: reason", then
 * "guest-linux: N passed, N failed"; exit status 0 iff none failed.  Each case
 * runs in its own forked child (its own process group) under alarm(), so a
 * crash or hang in one case is reported as its FAIL and the others still run.
 *
 * Built static (gcc -static -O2 -pthread), so it needs nothing from the guest
 * but the kernel; only the "dynamic" case needs /bin/dynhello and its libraries.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024UL * 1024)
#define TMPFS_MAGIC_NR 0x01021994   /* linux/magic.h TMPFS_MAGIC */

/* --- reporting: a MAP_SHARED page the case child writes and the runner reads ---- */

struct shared {
    char step[160];     /* what the case is doing now: shown if it hangs or dies */
    char msg[640];      /* FAIL reason, or the detail of an ok line */
};
static struct shared *sh;
static char self_path[256] = "/bin/gltest";   /* from /proc/self/exe if readable */
static long pg;                               /* page size */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    int e = errno;      /* keep errno for a %m in fmt */
    va_list ap;
    va_start(ap, fmt);
    errno = e;
    vsnprintf(sh->msg, sizeof sh->msg, fmt, ap);
    va_end(ap);
    return 1;
}
static void detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void detail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sh->msg, sizeof sh->msg, fmt, ap);
    va_end(ap);
}
static void step(const char *s) { snprintf(sh->step, sizeof sh->step, "%s", s); }

#define CHECK(cond, ...) do { if (!(cond)) return fail(__VA_ARGS__); } while (0)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* read(2)/write(2) until n bytes or EOF/error; returns bytes moved */
static ssize_t read_all(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += r;
    }
    return got;
}
static ssize_t write_all(int fd, const void *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t r = write(fd, (const char *)buf + put, n - put);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        put += r;
    }
    return put;
}

/* the whole of a (small) file, NUL-terminated, in buf; -1 on error */
static int read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read_all(fd, buf, size - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    return n < 0 ? -1 : (int)n;
}

/* waitpid for one child; returns its raw status, or -1 */
static int wait_for(pid_t pid)
{
    int st;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {}
    return r == pid ? st : -1;
}

static const char *describe_status(int st)
{
    static char b[64];
    if (st == -1) snprintf(b, sizeof b, "waitpid failed");
    else if (WIFEXITED(st)) snprintf(b, sizeof b, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(b, sizeof b, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else snprintf(b, sizeof b, "status 0x%x", st);
    return b;
}

/* --- catching a fault inside the process: handler + siglongjmp ------------------ */

static sigjmp_buf fault_env;
static volatile sig_atomic_t fault_sig;
static void *volatile fault_addr;
static volatile int fault_code;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_sig = sig;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(fault_env, 1);   /* savemask=1 at sigsetjmp: the mask comes back */
}
static void catch_faults(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
}

/* Touch *p (write if wr); 0 if that worked, else the signal it raised
 * (fault_addr/fault_code say more).  Needs catch_faults(). */
static __attribute__((noinline)) int touch(volatile char *p, int wr)
{
    fault_sig = 0;
    if (sigsetjmp(fault_env, 1) == 0) {
        if (wr) *p = 0x5a;
        else (void)*p;
        return 0;
    }
    return fault_sig;
}

/* --- fork-exec ------------------------------------------------------------------ */

/* fork + execv(path, argv); returns the child's wait status */
static int run_prog(const char *path, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execv(path, argv);
        _exit(127);
    }
    return wait_for(pid);
}

static int case_fork_exec(void)
{
    step("exec /bin/busybox true");
    int st = run_prog("/bin/busybox", (char *[]){"true", NULL});
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "busybox true: %s", describe_status(st));
    step("exec /bin/busybox false");
    st = run_prog("/bin/busybox", (char *[]){"false", NULL});
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "busybox false: %s (want exit 1)", describe_status(st));

    /* ourselves, with arguments and an environment variable the child checks */
    step("exec self --child-exit 42");
    setenv("GLTEST_TOKEN", "fork-exec", 1);
    st = run_prog(self_path, (char *[]){"gltest", "--child-exit", "42", NULL});
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 42, "%s --child-exit 42: %s", self_path, describe_status(st));

    /* a failing exec must come back to the caller with ENOENT */
    step("exec a missing file");
    errno = 0;
    execv("/nonexistent/prog", (char *[]){"x", NULL});
    CHECK(errno == ENOENT, "exec of a missing file: errno %d, want ENOENT", errno);

    /* waitpid(pid) returns that pid and its own status, in any order of exit */
    step("two children, waited in reverse order");
    pid_t a = fork();
    if (a == 0) _exit(3);
    pid_t b = fork();
    if (b == 0) { usleep(20000); _exit(4); }
    CHECK(a > 0 && b > 0, "fork: %m");
    int sb = wait_for(b), sa = wait_for(a);
    CHECK(WIFEXITED(sb) && WEXITSTATUS(sb) == 4, "child b: %s", describe_status(sb));
    CHECK(WIFEXITED(sa) && WEXITSTATUS(sa) == 3, "child a: %s", describe_status(sa));
    CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "a child is left after waiting for all");
    return 0;
}

/* --- pipes ---------------------------------------------------------------------- */

static int case_pipes(void)
{
    enum { N = 200 * 1024 };   /* more than a pipe holds (64 KiB): writer must block */
    int p[2];
    CHECK(pipe(p) == 0, "pipe: %m");
    step("child writes 200 KiB");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        close(p[0]);
        static unsigned char buf[N];
        for (int i = 0; i < N; i++) buf[i] = (unsigned char)(i * 7 + i / 251);
        _exit(write_all(p[1], buf, N) == N ? 0 : 1);
    }
    close(p[1]);
    static unsigned char got[N + 16];
    step("parent reads to EOF");
    ssize_t n = read_all(p[0], got, sizeof got);   /* stops at EOF */
    char extra;
    ssize_t eof = read(p[0], &extra, 1);
    close(p[0]);
    int st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer child: %s", describe_status(st));
    CHECK(n == N, "read %zd bytes, want %d", n, N);
    CHECK(eof == 0, "no EOF after the writer closed (read returned %zd)", eof);
    for (int i = 0; i < N; i++)
        CHECK(got[i] == (unsigned char)(i * 7 + i / 251), "byte %d wrong: %u", i, got[i]);

    /* a write with no reader left: EPIPE (SIGPIPE ignored) */
    step("write to a pipe without readers");
    CHECK(pipe(p) == 0, "pipe: %m");
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    CHECK(write(p[1], "x", 1) < 0 && errno == EPIPE, "write without a reader: errno %d, want EPIPE", errno);
    close(p[1]);
    return 0;
}

/* --- signals -------------------------------------------------------------------- */

static volatile sig_atomic_t usr1_got, usr1_code;
static volatile pid_t usr1_pid;
static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    usr1_pid = si->si_pid;
    usr1_code = si->si_code;
    usr1_got = 1;
}

static volatile sig_atomic_t usr2_ran, usr2_usr1_blocked, usr2_self_blocked;
static void on_usr2(int sig)
{
    (void)sig;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    usr2_usr1_blocked = sigismember(&cur, SIGUSR1);   /* from sa_mask */
    usr2_self_blocked = sigismember(&cur, SIGUSR2);   /* no SA_NODEFER */
    usr2_ran = 1;
}

static int case_signals(void)
{
    /* kill() to a child that waits in sigsuspend() with a SA_SIGINFO handler */
    step("kill(SIGUSR1) to a child");
    int p[2];
    CHECK(pipe(p) == 0, "pipe: %m");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        sigset_t blk, none;
        sigemptyset(&blk);
        sigaddset(&blk, SIGUSR1);
        sigprocmask(SIG_BLOCK, &blk, NULL);   /* no signal before we wait for it */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_usr1;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGUSR1, &sa, NULL);
        if (write(p[1], "r", 1) != 1) _exit(10);
        sigemptyset(&none);
        while (!usr1_got) sigsuspend(&none);
        if (usr1_pid != getppid()) _exit(2);
        if (usr1_code != SI_USER) _exit(3);
        _exit(7);
    }
    char c;
    CHECK(read(p[0], &c, 1) == 1, "child never got ready");
    CHECK(kill(pid, SIGUSR1) == 0, "kill: %m");
    int st = wait_for(pid);
    close(p[0]); close(p[1]);
    CHECK(WIFEXITED(st), "child: %s", describe_status(st));
    CHECK(WEXITSTATUS(st) != 2, "child's handler saw the wrong si_pid");
    CHECK(WEXITSTATUS(st) != 3, "child's handler saw si_code != SI_USER");
    CHECK(WEXITSTATUS(st) == 7, "child: %s (want exit 7)", describe_status(st));

    /* a handler in this process: it runs with sa_mask and itself blocked, and
     * the mask is back afterwards (sigreturn) */
    step("raise(SIGUSR2) with sa_mask");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction: %m");
    volatile long keep = 0x1234567890abcdefL;   /* a local must survive the frame */
    raise(SIGUSR2);
    CHECK(usr2_ran, "SIGUSR2 handler did not run");
    CHECK(usr2_usr1_blocked, "sa_mask (SIGUSR1) not blocked in the handler");
    CHECK(usr2_self_blocked, "SIGUSR2 not blocked in its own handler");
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    CHECK(!sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGUSR2), "signal mask not restored after the handler");
    CHECK(keep == 0x1234567890abcdefL, "a local changed across the handler");

    /* a blocked signal stays pending until unblocked */
    step("pending while blocked");
    usr2_ran = 0;
    sigset_t blk;
    sigemptyset(&blk);
    sigaddset(&blk, SIGUSR2);
    sigprocmask(SIG_BLOCK, &blk, NULL);
    raise(SIGUSR2);
    CHECK(!usr2_ran, "handler ran while its signal was blocked");
    sigset_t pend;
    sigpending(&pend);
    CHECK(sigismember(&pend, SIGUSR2), "blocked SIGUSR2 not pending");
    sigprocmask(SIG_UNBLOCK, &blk, NULL);
    CHECK(usr2_ran, "pending SIGUSR2 not delivered on unblock");
    return 0;
}

static int case_sigsegv(void)
{
    /* a child writing to NULL dies of SIGSEGV */
    step("child writes to NULL");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        *(volatile int *)(uintptr_t)0 = 1;
        _exit(0);
    }
    int st = wait_for(pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "child writing to NULL: %s, want SIGSEGV", describe_status(st));

    /* a handler that siglongjmps out, three times (the later ones show that the
     * mask came back: with SIGSEGV still blocked the kernel would kill us) */
    catch_faults();
    uintptr_t bad[] = {0, 0x10, 0x7ff0};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        step("write to a bad pointer, caught by a handler");
        int sig = touch((volatile char *)bad[i], 1);
        CHECK(sig == SIGSEGV, "write to %#lx: signal %d, want SIGSEGV", (unsigned long)bad[i], sig);
        CHECK(fault_addr == (void *)bad[i], "write to %#lx: si_addr %p", (unsigned long)bad[i], fault_addr);
        CHECK(fault_code == SEGV_MAPERR, "write to %#lx: si_code %d, want SEGV_MAPERR",
              (unsigned long)bad[i], fault_code);
    }
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    CHECK(!sigismember(&cur, SIGSEGV), "SIGSEGV still blocked after siglongjmp");
    return 0;
}

static __attribute__((noinline)) int try_div(int a, int b, int *q)
{
    fault_sig = 0;
    if (sigsetjmp(fault_env, 1) == 0) {
        volatile int x = a, y = b;   /* volatile: a real idiv at run time */
        *q = x / y;
        return 0;
    }
    return fault_sig;
}

static int case_sigfpe(void)
{
    step("child divides by zero");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        signal(SIGFPE, SIG_DFL);
        volatile int x = 1, y = 0;
        x = x / y;
        _exit(0);
    }
    int st = wait_for(pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGFPE, "child dividing by zero: %s, want SIGFPE", describe_status(st));

    step("divide by zero, caught by a handler");
    catch_faults();
    int q = 0;
    int sig = try_div(7, 0, &q);
    CHECK(sig == SIGFPE, "7/0: signal %d, want SIGFPE", sig);
    CHECK(fault_code == FPE_INTDIV, "7/0: si_code %d, want FPE_INTDIV", fault_code);
    sig = try_div(7, 2, &q);
    CHECK(sig == 0 && q == 3, "7/2 after the fault: signal %d, q %d", sig, q);
    return 0;
}

/* --- mmap / mprotect / munmap --------------------------------------------------- */

static int expect_fault(char *p, int wr, int code, const char *what)
{
    int sig = touch(p, wr);
    CHECK(sig == SIGSEGV, "%s: signal %d, want SIGSEGV", what, sig);
    CHECK(fault_addr == p, "%s: si_addr %p, want %p", what, fault_addr, (void *)p);
    CHECK(fault_code == code, "%s: si_code %d, want %d", what, fault_code, code);
    return 0;
}

static int case_mmap(void)
{
    catch_faults();
    step("mmap 4 pages");
    char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap: %m");
    for (long i = 0; i < 4 * pg; i++) CHECK(m[i] == 0, "fresh anonymous memory not zero at +%ld", i);
    for (int i = 0; i < 4; i++) memset(m + i * pg, 'a' + i, pg);

    step("mprotect read-only, then write");
    CHECK(mprotect(m + pg, pg, PROT_READ) == 0, "mprotect(PROT_READ): %m");
    if (expect_fault(m + pg, 1, SEGV_ACCERR, "write to a read-only page")) return 1;
    CHECK(touch(m + pg, 0) == 0 && m[pg + 5] == 'b', "read-only page unreadable or changed");
    CHECK(touch(m, 1) == 0 && touch(m + 2 * pg, 1) == 0, "write to a neighbour of the read-only page faulted");
    step("mprotect back to read-write");
    CHECK(mprotect(m + pg, pg, PROT_READ | PROT_WRITE) == 0, "mprotect(RW): %m");
    CHECK(touch(m + pg, 1) == 0, "write after mprotect(RW) faulted");

    step("PROT_NONE");
    CHECK(mprotect(m + 2 * pg, pg, PROT_NONE) == 0, "mprotect(PROT_NONE): %m");
    if (expect_fault(m + 2 * pg + 100, 0, SEGV_ACCERR, "read of a PROT_NONE page")) return 1;

    step("munmap then access");
    CHECK(munmap(m + 3 * pg, pg) == 0, "munmap: %m");
    if (expect_fault(m + 3 * pg, 0, SEGV_MAPERR, "read of an unmapped page")) return 1;
    if (expect_fault(m + 3 * pg + 8, 1, SEGV_MAPERR, "write to an unmapped page")) return 1;
    CHECK(m[0] == 0x5a && m[1] == 'a' && m[pg + 1] == 'b', "pages 0-1 changed after their neighbours were remapped");

    /* MAP_FIXED over the hole: a new zero page, not the old data */
    step("MAP_FIXED over the unmapped page");
    char *f = mmap(m + 3 * pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(f == m + 3 * pg, "mmap MAP_FIXED: %m");
    CHECK(f[0] == 0 && f[pg - 1] == 0, "remapped page is not zero (old data '%c')", f[0]);

    CHECK(munmap(m, 4 * pg) == 0, "munmap all: %m");
    if (expect_fault(m, 0, SEGV_MAPERR, "read after munmap of all")) return 1;
    return 0;
}

/* --- copy-on-write -------------------------------------------------------------- */

static char cow_data[4096] = "data";   /* .data: private file-backed page */

static int case_cow(void)
{
    step("set up pages");
    char *anon = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(anon != MAP_FAILED, "mmap: %m");
    memset(anon, 'X', pg);            /* page 0 touched before fork, page 1 not */
    char *heap = malloc(3 * pg);
    CHECK(heap, "malloc");
    memset(heap, 'X', 3 * pg);
    cow_data[100] = 'X';
    char *pages[] = {anon, anon + pg, heap + pg, cow_data + 100};

    int to_child[2], to_parent[2];
    CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipe: %m");
    step("fork; child and parent each write");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        /* child: still sees the pre-fork contents, writes 'C', waits for the
         * parent to have written 'P', then must still see only 'C' */
        char c;
        if (anon[0] != 'X' || anon[pg] != 0 || heap[pg] != 'X' || cow_data[100] != 'X') _exit(2);
        for (int i = 0; i < 4; i++) pages[i][0] = 'C';
        if (write(to_parent[1], "c", 1) != 1 || read(to_child[0], &c, 1) != 1) _exit(3);
        for (int i = 0; i < 4; i++) if (pages[i][0] != 'C') _exit(10 + i);
        _exit(0);
    }
    char c;
    CHECK(read(to_parent[0], &c, 1) == 1, "child did not get to its writes");
    for (int i = 0; i < 4; i++) {
        CHECK(pages[i][0] != 'C', "parent sees the child's write in page %d", i);
        pages[i][0] = 'P';
    }
    CHECK(write(to_child[1], "p", 1) == 1, "write: %m");
    int st = wait_for(pid);
    CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 2), "child did not see the pre-fork contents");
    CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) >= 10), "child sees the parent's write in page %d", WEXITSTATUS(st) - 10);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %s", describe_status(st));
    for (int i = 0; i < 4; i++) CHECK(pages[i][0] == 'P', "parent lost its own write in page %d", i);
    CHECK(anon[1] == 'X' && heap[pg + 1] == 'X', "rest of the page changed");
    free(heap);
    munmap(anon, 2 * pg);
    return 0;
}

/* --- 64 MiB --------------------------------------------------------------------- */

static long status_kb(const char *field)   /* e.g. "VmRSS:" in /proc/self/status */
{
    char buf[4096];
    if (read_file("/proc/self/status", buf, sizeof buf) < 0) return -1;
    char *p = strstr(buf, field);
    return p ? strtol(p + strlen(field), NULL, 10) : -1;
}

static int case_mem64(void)
{
    const size_t size = 64 * MiB;
    long rss0 = status_kb("VmRSS:");
    step("mmap 64 MiB");
    char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap 64 MiB: %m");
    /* a different value at both ends of every page: aliasing pages would show */
    step("write every page");
    size_t npages = size / pg;
    uint64_t salt = (uint64_t)getpid() << 32;
    for (size_t i = 0; i < npages; i++) {
        uint64_t v = (i * 0x9E3779B97F4A7C15ull) ^ salt;
        *(uint64_t *)(m + i * pg) = v;
        *(uint64_t *)(m + (i + 1) * pg - 8) = ~v;
    }
    step("check every page");
    for (size_t i = 0; i < npages; i++) {
        uint64_t v = (i * 0x9E3779B97F4A7C15ull) ^ salt;
        CHECK(*(uint64_t *)(m + i * pg) == v && *(uint64_t *)(m + (i + 1) * pg - 8) == ~v,
              "page %zu of 64 MiB lost its pattern", i);
    }
    long rss1 = status_kb("VmRSS:");
    CHECK(rss0 >= 0 && rss1 >= 0, "no VmRSS in /proc/self/status");
    CHECK(rss1 - rss0 >= (long)(size / 1024) - 1024, "VmRSS grew only %ld kB for 64 MiB", rss1 - rss0);
    CHECK(munmap(m, size) == 0, "munmap: %m");
    detail("RSS +%ld MiB", (rss1 - rss0) / 1024);
    return 0;
}

/* --- threads -------------------------------------------------------------------- */

enum { NTHREADS = 8 };
static __thread long tls_val;   /* per-thread: checks the FS base per thread */
struct tinfo { int idx; pid_t tid, pid; long *tls_addr; int tls_bad; long sum; };

static void *thread_fn(void *arg)
{
    struct tinfo *t = arg;
    t->tid = syscall(SYS_gettid);
    t->pid = getpid();
    t->tls_addr = &tls_val;
    for (int k = 0; k < 50; k++) {
        tls_val = t->idx * 1000 + k;
        sched_yield();   /* let the others run and set their own tls_val */
        if (tls_val != t->idx * 1000 + k) t->tls_bad++;
    }
    for (long k = 0; k <= 10000; k++) t->sum += k * (t->idx + 1);
    return (void *)(long)(t->idx + 100);
}

static int case_threads(void)
{
    struct tinfo ti[NTHREADS];
    pthread_t th[NTHREADS];
    memset(ti, 0, sizeof ti);
    step("pthread_create x8");
    for (int i = 0; i < NTHREADS; i++) {
        ti[i].idx = i;
        int e = pthread_create(&th[i], NULL, thread_fn, &ti[i]);
        CHECK(e == 0, "pthread_create %d: %s", i, strerror(e));
    }
    step("pthread_join x8");
    pid_t me = syscall(SYS_gettid);
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        int e = pthread_join(th[i], &ret);
        CHECK(e == 0, "pthread_join %d: %s", i, strerror(e));
        CHECK((long)ret == i + 100, "thread %d returned %ld", i, (long)ret);
        CHECK(ti[i].sum == 50005000L * (i + 1), "thread %d computed %ld", i, ti[i].sum);
        CHECK(ti[i].pid == getpid(), "thread %d has getpid %d, process %d", i, ti[i].pid, getpid());
        CHECK(ti[i].tid != me && ti[i].tid > 0, "thread %d has tid %d (main %d)", i, ti[i].tid, me);
        CHECK(ti[i].tls_bad == 0, "thread %d saw its __thread variable change %d times", i, ti[i].tls_bad);
        for (int j = 0; j < i; j++) {
            CHECK(ti[j].tid != ti[i].tid, "threads %d and %d share tid %d", j, i, ti[i].tid);
            CHECK(ti[j].tls_addr != ti[i].tls_addr, "threads %d and %d share a __thread variable", j, i);
        }
    }
    detail("%d threads", NTHREADS);
    return 0;
}

static long futex(int *uaddr, int op, int val, const struct timespec *ts)
{
    return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static int fx_word, fx_turn;
enum { FX_ROUNDS = 500 };
static void *futex_waiter(void *arg)
{
    (void)arg;
    long woken = 0;
    while (__atomic_load_n(&fx_word, __ATOMIC_ACQUIRE) == 0)
        if (futex(&fx_word, FUTEX_WAIT_PRIVATE, 0, NULL) == 0) woken++;
    /* ping-pong: this thread takes the odd turns */
    for (int r = 0; r < FX_ROUNDS; r++) {
        int t;
        while ((t = __atomic_load_n(&fx_turn, __ATOMIC_ACQUIRE)) % 2 == 0)
            futex(&fx_turn, FUTEX_WAIT_PRIVATE, t, NULL);
        __atomic_store_n(&fx_turn, t + 1, __ATOMIC_RELEASE);
        futex(&fx_turn, FUTEX_WAKE_PRIVATE, 1, NULL);
    }
    return (void *)woken;
}

/* the state letter of a thread of ours ('S' = sleeping), 0 if unknown */
static char thread_state(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    if (read_file(path, buf, sizeof buf) < 0) return 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

static pid_t fx_waiter_tid;
static void *futex_waiter_start(void *arg)
{
    __atomic_store_n(&fx_waiter_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    return futex_waiter(arg);
}

static int case_futex(void)
{
    /* errors first: wrong expected value, and a timeout */
    step("FUTEX_WAIT with a stale value");
    int w = 5;
    errno = 0;
    CHECK(futex(&w, FUTEX_WAIT_PRIVATE, 4, NULL) == -1 && errno == EAGAIN,
          "FUTEX_WAIT on a changed word: errno %d, want EAGAIN", errno);
    step("FUTEX_WAIT with a 20 ms timeout");
    struct timespec ts = {0, 20 * 1000 * 1000};
    double t0 = now();
    errno = 0;
    CHECK(futex(&w, FUTEX_WAIT_PRIVATE, 5, &ts) == -1 && errno == ETIMEDOUT,
          "FUTEX_WAIT timeout: errno %d, want ETIMEDOUT", errno);
    CHECK(now() - t0 >= 0.019, "FUTEX_WAIT timed out after %.1f ms, want 20", (now() - t0) * 1000);
    CHECK(futex(&w, FUTEX_WAKE_PRIVATE, 1, NULL) == 0, "FUTEX_WAKE with no waiter woke someone");

    /* handshake: the waiter really sleeps in FUTEX_WAIT, and our wake gets it */
    step("start the waiter thread");
    pthread_t th;
    int e = pthread_create(&th, NULL, futex_waiter_start, NULL);
    CHECK(e == 0, "pthread_create: %s", strerror(e));
    pid_t tid;
    while ((tid = __atomic_load_n(&fx_waiter_tid, __ATOMIC_ACQUIRE)) == 0) sched_yield();
    step("wait for the waiter to sleep");
    char state = 0;
    for (int i = 0; i < 500 && (state = thread_state(tid)) != 'S'; i++) usleep(10000);
    CHECK(state == 'S', "waiter thread never slept in FUTEX_WAIT (state '%c')", state ? state : '?');
    __atomic_store_n(&fx_word, 1, __ATOMIC_RELEASE);
    long nw = futex(&fx_word, FUTEX_WAKE_PRIVATE, 1, NULL);
    CHECK(nw == 1, "FUTEX_WAKE woke %ld threads, want 1", nw);

    step("futex ping-pong");
    for (int r = 0; r < FX_ROUNDS; r++) {
        int t;
        while ((t = __atomic_load_n(&fx_turn, __ATOMIC_ACQUIRE)) % 2 == 1)
            futex(&fx_turn, FUTEX_WAIT_PRIVATE, t, NULL);
        __atomic_store_n(&fx_turn, t + 1, __ATOMIC_RELEASE);
        futex(&fx_turn, FUTEX_WAKE_PRIVATE, 1, NULL);
    }
    void *ret;
    pthread_join(th, &ret);
    CHECK((long)ret >= 1, "waiter's FUTEX_WAIT never returned 0 (woken)");
    CHECK(fx_turn == 2 * FX_ROUNDS, "ping-pong ended at turn %d, want %d", fx_turn, 2 * FX_ROUNDS);
    detail("%d round trips", FX_ROUNDS);
    return 0;
}

enum { MX_THREADS = 4, MX_INCS = 50000 };
static pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
static long mx_count;
static void *mutex_fn(void *arg)
{
    (void)arg;
    for (int i = 0; i < MX_INCS; i++) {
        pthread_mutex_lock(&mx);
        long v = mx_count;
        /* yield now and then while holding the lock: the others block on it
         * (futex), and a lost update would show in the total */
        if (i % 1000 == 0) sched_yield();
        mx_count = v + 1;
        pthread_mutex_unlock(&mx);
    }
    return NULL;
}

static int case_mutex(void)
{
    pthread_t th[MX_THREADS];
    step("4 threads increment a counter");
    for (int i = 0; i < MX_THREADS; i++) {
        int e = pthread_create(&th[i], NULL, mutex_fn, NULL);
        CHECK(e == 0, "pthread_create: %s", strerror(e));
    }
    for (int i = 0; i < MX_THREADS; i++) pthread_join(th[i], NULL);
    CHECK(mx_count == (long)MX_THREADS * MX_INCS, "counter %ld, want %ld", mx_count, (long)MX_THREADS * MX_INCS);
    detail("%d x %d increments", MX_THREADS, MX_INCS);
    return 0;
}

/* --- files on tmpfs ------------------------------------------------------------- */

static int case_tmpfs(void)
{
    struct statfs sfs;
    CHECK(statfs("/tmp", &sfs) == 0, "statfs /tmp: %m");
    CHECK(sfs.f_type == TMPFS_MAGIC_NR, "/tmp is not tmpfs (f_type %#lx)", (unsigned long)sfs.f_type);

    char dir[64], a[96], b[96], c[96];
    snprintf(dir, sizeof dir, "/tmp/gltest.%d", getpid());
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    step("mkdir, create, write");
    CHECK(mkdir(dir, 0755) == 0, "mkdir %s: %m", dir);
    enum { N = 100 * 1024 };
    static unsigned char buf[N], back[N];
    for (int i = 0; i < N; i++) buf[i] = (unsigned char)(i ^ (i >> 8));
    int fd = open(a, O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(fd >= 0, "create %s: %m", a);
    CHECK(write_all(fd, buf, N) == N, "write: %m");
    CHECK(close(fd) == 0, "close: %m");
    struct stat st;
    CHECK(stat(a, &st) == 0 && st.st_size == N && S_ISREG(st.st_mode), "stat %s: size %ld", a, (long)st.st_size);

    step("read back");
    fd = open(a, O_RDWR);
    CHECK(fd >= 0, "open %s: %m", a);
    CHECK(read_all(fd, back, N + 1) == N, "read back a different length");
    CHECK(memcmp(buf, back, N) == 0, "read back different data");
    char x;
    CHECK(pread(fd, &x, 1, 12345) == 1 && x == (char)buf[12345], "pread at 12345 wrong");
    /* a shared file mapping and read() see the same page cache */
    step("mmap the file shared");
    char *m = mmap(NULL, N, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED, "mmap file: %m");
    CHECK(m[777] == (char)buf[777], "file mapping shows other data");
    m[4096] = 'Z';
    CHECK(pread(fd, &x, 1, 4096) == 1 && x == 'Z', "write through the mapping not seen by pread");
    munmap(m, N);
    close(fd);

    step("rename");
    CHECK(rename(a, b) == 0, "rename: %m");
    CHECK(access(a, F_OK) < 0 && errno == ENOENT, "old name still there after rename");
    CHECK(stat(b, &st) == 0 && st.st_size == N, "new name missing after rename");
    fd = open(c, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0, "create %s: %m", c);
    close(fd);

    step("list the directory");
    DIR *d = opendir(dir);
    CHECK(d, "opendir: %m");
    int seen_b = 0, seen_c = 0, other = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, "b")) seen_b++;
        else if (!strcmp(de->d_name, "c")) seen_c++;
        else if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) other++;
    }
    closedir(d);
    CHECK(seen_b == 1 && seen_c == 1 && other == 0, "directory lists b %d, c %d, others %d times",
          seen_b, seen_c, other);

    step("unlink, rmdir");
    CHECK(unlink(b) == 0 && unlink(c) == 0, "unlink: %m");
    CHECK(access(b, F_OK) < 0 && errno == ENOENT, "file still there after unlink");
    CHECK(rmdir(dir) == 0, "rmdir: %m");
    CHECK(access(dir, F_OK) < 0 && errno == ENOENT, "directory still there after rmdir");
    return 0;
}

/* --- /proc ---------------------------------------------------------------------- */

/* A counter of /proc/ukvm ("name value" lines), or -1. */
static long ukvm_counter(const char *name)
{
    char buf[1024], *p;
    size_t n = strlen(name);
    if (read_file("/proc/ukvm", buf, sizeof buf) <= 0)
        return -1;
    for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == ' ')
            return strtol(p + n + 1, NULL, 10);
    return -1;
}

/* Console burst: BURST_LINES numbered lines in one write() to the console,
 * four times the vmm-server's 8 KiB flow-control bucket.  The console
 * must slow us down (console_waits in /proc/ukvm grows), lose nothing
 * inside the guest (console_lost_bytes stays), and the host
 * (tests/guest-linux/run) finds every line on the serial log, in order:
 * before, the guest dropped a chunk after 200 yields. */
#define BURST_LINES 3000
static int case_console_burst(void)
{
    static char buf[BURST_LINES * 12];
    size_t n = 0;
    for (int i = 1; i <= BURST_LINES; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "burst %04d\n", i);
    long waits0 = ukvm_counter("console_waits"), lost0 = ukvm_counter("console_lost_bytes");
    if (waits0 < 0 || lost0 < 0)
        return fail("/proc/ukvm has no console_waits or console_lost_bytes");
    fflush(stdout);
    step("one write of the burst");
    if (write_all(1, buf, n) != (ssize_t)n)
        return fail("write of %zu bytes to the console: %s", n, strerror(errno));
    long waits = ukvm_counter("console_waits") - waits0;
    long lost = ukvm_counter("console_lost_bytes") - lost0;
    if (lost)
        return fail("%ld bytes lost inside the guest", lost);
    if (waits <= 0)
        return fail("%zu bytes at once and flow control never made us wait", n);
    detail("%d lines, %zu bytes in one write; flow control waited %ld times, 0 lost", BURST_LINES,
           n, waits);
    return 0;
}

static int case_proc(void)
{
    static char buf[64 * 1024];
    step("/proc/self/status");
    CHECK(read_file("/proc/self/status", buf, sizeof buf) > 0, "read /proc/self/status: %m");
    char *p = strstr(buf, "\nPid:");
    CHECK(p && strtol(p + 5, NULL, 10) == getpid(), "/proc/self/status Pid is not %d", getpid());
    p = strstr(buf, "\nPPid:");
    CHECK(p && strtol(p + 6, NULL, 10) == getppid(), "/proc/self/status PPid is not %d", getppid());

    step("/proc/meminfo");
    CHECK(read_file("/proc/meminfo", buf, sizeof buf) > 0, "read /proc/meminfo: %m");
    long total = -1, free_ = -1;
    p = strstr(buf, "MemTotal:");
    if (p) total = strtol(p + 9, NULL, 10);
    p = strstr(buf, "MemFree:");
    if (p) free_ = strtol(p + 8, NULL, 10);
    CHECK(total > 0 && free_ > 0 && free_ <= total, "meminfo MemTotal %ld kB, MemFree %ld kB", total, free_);
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0, "sysinfo: %m");
    long si_total = (long)((unsigned long long)si.totalram * si.mem_unit / 1024);
    CHECK(labs(si_total - total) <= 4, "meminfo MemTotal %ld kB, sysinfo %ld kB", total, si_total);

    step("/proc/cpuinfo");
    CHECK(read_file("/proc/cpuinfo", buf, sizeof buf) > 0, "read /proc/cpuinfo: %m");
    CHECK(strncmp(buf, "processor", 9) == 0, "/proc/cpuinfo does not start with 'processor'");

    step("/proc/self/maps");
    char *m = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap: %m");
    CHECK(mprotect(m + pg, pg, PROT_NONE) == 0, "mprotect: %m");   /* its own VMA */
    CHECK(read_file("/proc/self/maps", buf, sizeof buf) > 0, "read /proc/self/maps: %m");
    int found_none = 0, found_ro = 0, found_exe = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long lo, hi;
        char perms[8];
        int off = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &lo, &hi, perms, &off) < 3) continue;
        while (line[off] == ' ') off++;
        if (lo == (unsigned long)(m + pg) && hi == (unsigned long)(m + 2 * pg) && !strcmp(perms, "---p"))
            found_none = 1;
        if (lo <= (unsigned long)m && hi >= (unsigned long)(m + pg) && !strcmp(perms, "r--p")) found_ro = 1;
        if (!strcmp(line + off, self_path) && !strcmp(perms, "r-xp")) found_exe = 1;
    }
    CHECK(found_none, "/proc/self/maps has no line %lx-%lx ---p for our PROT_NONE page",
          (unsigned long)(m + pg), (unsigned long)(m + 2 * pg));
    CHECK(found_ro, "/proc/self/maps has no r--p line covering %p", (void *)m);
    CHECK(found_exe, "/proc/self/maps has no r-xp line for %s", self_path);
    munmap(m, 3 * pg);

    /* the host layer's file (lbench -e reads it): each system call of
     * ours is at least two microkernel entries (exit to the guest kernel,
     * resume), 100 getppid()s at least 200 */
    step("/proc/ukvm");
    long e0 = ukvm_counter("kernel_entries"), boot = ukvm_counter("boot_tsc");
    long tsc = ukvm_counter("tsc");
    CHECK(e0 > 0 && boot > 0 && tsc > boot, "/proc/ukvm: kernel_entries %ld, boot_tsc %ld, tsc %ld",
          e0, boot, tsc);
    for (int i = 0; i < 100; i++)
        syscall(SYS_getppid);
    long e1 = ukvm_counter("kernel_entries");
    CHECK(e1 - e0 >= 200, "/proc/ukvm: kernel_entries grew by %ld over 100 getppid()s", e1 - e0);
    return 0;
}

/* --- nanosleep ------------------------------------------------------------------ */

static int case_nanosleep(void)
{
    /* any sleep shorter than asked is wrong; one of three within +10% passes
     * (a loaded host may stretch one) */
    const double want = 0.200;
    double got[3];
    for (int i = 0; i < 3; i++) {
        step("nanosleep 200 ms");
        struct timespec ts = {0, 200 * 1000 * 1000};
        double t0 = now();
        CHECK(nanosleep(&ts, NULL) == 0, "nanosleep: %m");
        got[i] = now() - t0;
        CHECK(got[i] >= want, "slept %.2f ms, less than 200", got[i] * 1000);
        if (got[i] < want * 1.10) {
            detail("%.1f ms", got[i] * 1000);
            return 0;
        }
    }
    return fail("slept %.1f, %.1f, %.1f ms; want 200..220", got[0] * 1000, got[1] * 1000, got[2] * 1000);
}

/* --- FPU / SSE / AVX state across context switches ------------------------------ */

struct fpu_img {                 /* the asm below uses these offsets */
    double x87[8];               /* 0: st7..st0 as loaded */
    unsigned char vec[16][32];   /* 64: ymm0..15 (only the low 16 bytes without AVX) */
    uint32_t mxcsr;              /* 576 */
};
_Static_assert(__builtin_offsetof(struct fpu_img, vec) == 64 &&
               __builtin_offsetof(struct fpu_img, mxcsr) == 576, "fpu_img layout");

static int have_avx(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & bit_OSXSAVE) || !(c & bit_AVX)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6) == 6;   /* the OS saves SSE and AVX state */
}

#define V16(op, r, i) op " 64+" #i "*32(%[" #r "]), %%xmm" #i "\n\t"
#define LOADX(op) V16(op,in,0) V16(op,in,1) V16(op,in,2) V16(op,in,3) V16(op,in,4) V16(op,in,5) \
    V16(op,in,6) V16(op,in,7) V16(op,in,8) V16(op,in,9) V16(op,in,10) V16(op,in,11) V16(op,in,12) \
    V16(op,in,13) V16(op,in,14) V16(op,in,15)
#define Y16(op, r, i) op " 64+" #i "*32(%[" #r "]), %%ymm" #i "\n\t"
#define LOADY(op) Y16(op,in,0) Y16(op,in,1) Y16(op,in,2) Y16(op,in,3) Y16(op,in,4) Y16(op,in,5) \
    Y16(op,in,6) Y16(op,in,7) Y16(op,in,8) Y16(op,in,9) Y16(op,in,10) Y16(op,in,11) Y16(op,in,12) \
    Y16(op,in,13) Y16(op,in,14) Y16(op,in,15)
#define SV16(op, r, i) op " %%xmm" #i ", 64+" #i "*32(%[" #r "])\n\t"
#define STOREX(op) SV16(op,out,0) SV16(op,out,1) SV16(op,out,2) SV16(op,out,3) SV16(op,out,4) \
    SV16(op,out,5) SV16(op,out,6) SV16(op,out,7) SV16(op,out,8) SV16(op,out,9) SV16(op,out,10) \
    SV16(op,out,11) SV16(op,out,12) SV16(op,out,13) SV16(op,out,14) SV16(op,out,15)
#define SY16(op, r, i) op " %%ymm" #i ", 64+" #i "*32(%[" #r "])\n\t"
#define STOREY(op) SY16(op,out,0) SY16(op,out,1) SY16(op,out,2) SY16(op,out,3) SY16(op,out,4) \
    SY16(op,out,5) SY16(op,out,6) SY16(op,out,7) SY16(op,out,8) SY16(op,out,9) SY16(op,out,10) \
    SY16(op,out,11) SY16(op,out,12) SY16(op,out,13) SY16(op,out,14) SY16(op,out,15)

/* Load *in into x87 st0..7, xmm/ymm0..15 and MXCSR, then `iters` times: a
 * sched_yield, a busy loop (long enough that the timer preempts us in user
 * mode), and every 8th time a 1 ms nanosleep; then store everything to *out.
 * One asm block, so no compiler code touches the registers in between;
 * system calls keep every vector and x87 register (only rax, rcx, r11). */
static void fpu_hold(const struct fpu_img *in, struct fpu_img *out, long iters, long spin, int avx)
{
    static const struct timespec ms1 = {0, 1000 * 1000};
    uint32_t mxcsr_saved;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr_saved));
    if (avx)
        __asm__ volatile(
            "fldl 0(%[in]); fldl 8(%[in]); fldl 16(%[in]); fldl 24(%[in])\n\t"
            "fldl 32(%[in]); fldl 40(%[in]); fldl 48(%[in]); fldl 56(%[in])\n\t"
            "ldmxcsr 576(%[in])\n\t"
            LOADY("vmovdqu")
            "1: mov $24, %%eax\n\t syscall\n\t"            /* sched_yield */
            "mov %[spin], %%rdx\n 2: dec %%rdx\n\t jnz 2b\n\t"
            "test $7, %[n]\n\t jnz 3f\n\t"
            "mov $35, %%eax\n\t mov %[ts], %%rdi\n\t xor %%esi, %%esi\n\t syscall\n"  /* nanosleep */
            "3: dec %[n]\n\t jnz 1b\n\t"
            STOREY("vmovdqu")
            "vzeroupper\n\t"
            "stmxcsr 576(%[out])\n\t"
            "fstpl 56(%[out]); fstpl 48(%[out]); fstpl 40(%[out]); fstpl 32(%[out])\n\t"
            "fstpl 24(%[out]); fstpl 16(%[out]); fstpl 8(%[out]); fstpl 0(%[out])\n\t"
            : [n] "+r"(iters)
            : [in] "r"(in), [out] "r"(out), [spin] "r"(spin), [ts] "r"(&ms1)
            : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "cc",
              "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
              "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    else
        __asm__ volatile(
            "fldl 0(%[in]); fldl 8(%[in]); fldl 16(%[in]); fldl 24(%[in])\n\t"
            "fldl 32(%[in]); fldl 40(%[in]); fldl 48(%[in]); fldl 56(%[in])\n\t"
            "ldmxcsr 576(%[in])\n\t"
            LOADX("movdqu")
            "1: mov $24, %%eax\n\t syscall\n\t"
            "mov %[spin], %%rdx\n 2: dec %%rdx\n\t jnz 2b\n\t"
            "test $7, %[n]\n\t jnz 3f\n\t"
            "mov $35, %%eax\n\t mov %[ts], %%rdi\n\t xor %%esi, %%esi\n\t syscall\n"
            "3: dec %[n]\n\t jnz 1b\n\t"
            STOREX("movdqu")
            "stmxcsr 576(%[out])\n\t"
            "fstpl 56(%[out]); fstpl 48(%[out]); fstpl 40(%[out]); fstpl 32(%[out])\n\t"
            "fstpl 24(%[out]); fstpl 16(%[out]); fstpl 8(%[out]); fstpl 0(%[out])\n\t"
            : [n] "+r"(iters)
            : [in] "r"(in), [out] "r"(out), [spin] "r"(spin), [ts] "r"(&ms1)
            : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "cc",
              "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
              "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr_saved));
}

enum { FPU_ITERS = 64, FPU_SPIN = 300000 };
struct fpu_ctx { int seed, avx, bad; long vol, invol; char why[96]; };

/* this thread's context switches so far: voluntary, involuntary */
static void thread_switches(long *vol, long *invol)
{
    char buf[4096], *p;
    *vol = *invol = -1;
    if (read_file("/proc/thread-self/status", buf, sizeof buf) < 0) return;
    if ((p = strstr(buf, "\nvoluntary_ctxt_switches:"))) *vol = strtol(p + 26, NULL, 10);
    if ((p = strstr(buf, "\nnonvoluntary_ctxt_switches:"))) *invol = strtol(p + 29, NULL, 10);
}

/* one context: distinct values from its seed, held across switches, compared */
static void *fpu_run(void *arg)
{
    struct fpu_ctx *c = arg;
    struct fpu_img in, out;
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    for (int i = 0; i < 8; i++) in.x87[i] = c->seed * 100.0 + i + 0.25;
    for (int r = 0; r < 16; r++)
        for (int j = 0; j < 32; j++) in.vec[r][j] = (unsigned char)(c->seed * 61 + r * 17 + j * 3 + 1);
    /* default masks, rounding control differs per context (bits 13-14) */
    in.mxcsr = 0x1f80 | (uint32_t)(c->seed & 3) << 13;
    long v0, i0, v1, i1;
    thread_switches(&v0, &i0);
    fpu_hold(&in, &out, FPU_ITERS, FPU_SPIN, c->avx);
    thread_switches(&v1, &i1);
    c->vol = v1 - v0;
    c->invol = i1 - i0;
    for (int i = 0; i < 8; i++)
        if (out.x87[i] != in.x87[i]) {
            c->bad = 1;
            snprintf(c->why, sizeof c->why, "x87 st%d %g, want %g", 7 - i, out.x87[i], in.x87[i]);
            return NULL;
        }
    for (int r = 0; r < 16; r++)
        if (memcmp(out.vec[r], in.vec[r], c->avx ? 32 : 16)) {
            int upper = !memcmp(out.vec[r], in.vec[r], 16);
            c->bad = 1;
            snprintf(c->why, sizeof c->why, "%s%d changed", upper ? "upper half of ymm" : "xmm", r);
            return NULL;
        }
    if ((out.mxcsr & ~0x3fu) != in.mxcsr) {
        c->bad = 1;
        snprintf(c->why, sizeof c->why, "MXCSR %#x, want %#x", out.mxcsr, in.mxcsr);
    }
    return NULL;
}

static int case_fpu(void)
{
    /* two processes, each with two threads: four register contexts that the
     * kernel switches between (process and thread switches) */
    int avx = have_avx();
    struct fpu_ctx *ctx = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(ctx != MAP_FAILED, "mmap: %m");
    step("2 processes x 2 threads hold FPU state");
    pid_t pids[2];
    for (int p = 0; p < 2; p++) {
        pids[p] = fork();
        CHECK(pids[p] >= 0, "fork: %m");
        if (pids[p] == 0) {
            pthread_t th;
            for (int t = 0; t < 2; t++) ctx[p * 2 + t] = (struct fpu_ctx){.seed = p * 2 + t + 1, .avx = avx};
            if (pthread_create(&th, NULL, fpu_run, &ctx[p * 2 + 1])) _exit(2);
            fpu_run(&ctx[p * 2]);
            pthread_join(th, NULL);
            _exit(0);
        }
    }
    for (int p = 0; p < 2; p++) {
        int st = wait_for(pids[p]);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "FPU process %d: %s", p, describe_status(st));
    }
    long vol = 0, invol = 0;
    for (int i = 0; i < 4; i++) {
        CHECK(!ctx[i].bad, "context %d (process %d thread %d): %s", i, i / 2, i % 2, ctx[i].why);
        /* the state must really have been switched out (sleeps, yields, the
         * timer); a sleep may not count if its timer fired before schedule() */
        CHECK(ctx[i].vol + ctx[i].invol >= FPU_ITERS / 8, "context %d was switched out only %ld times (want >= %d)",
              i, ctx[i].vol + ctx[i].invol, FPU_ITERS / 8);
        vol += ctx[i].vol;
        invol += ctx[i].invol;
    }
    detail("checked x87 SSE %s; 2 processes x 2 threads, %ld switches (%ld blocking)",
           avx ? "AVX" : "(AVX not usable: not checked)", vol + invol, vol);
    munmap(ctx, pg);
    return 0;
}

/* --- sigreturn with a malformed FPU area ------------------------------------------- */

/* Writes what XRSTOR refuses into the FPU area sigreturn will load: MXCSR's
 * reserved bits, XSTATE_BV bits of features nobody enabled, the compacted
 * format in XCOMP_BV.  Linux on hardware refuses such a frame (SIGSEGV);
 * the guest's host layer makes the area valid instead (ukvm_fp_sanitize,
 * after every sigreturn).  Without that check the guest kernel's XRSTOR
 * before the resume faults and the whole guest stops (tried: "guest
 * kernel fault: general protection ... at rip" in userspace()). */
static void fpu_corrupt_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    unsigned char *fp = (unsigned char *)((ucontext_t *)ctx)->uc_mcontext.fpregs;
    uint32_t mxcsr = 0xffff1f80u;
    uint64_t bv = ~0ull, comp = 1ull << 63 | 1;
    memcpy(fp + 24, &mxcsr, 4);
    memcpy(fp + 512, &bv, 8);
    memcpy(fp + 520, &comp, 8);
}

static int case_fpu_sigreturn(void)
{
    step("3 signal handlers leave reserved MXCSR bits and a bad XSAVE header to sigreturn");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        struct sigaction sa = {.sa_sigaction = fpu_corrupt_handler, .sa_flags = SA_SIGINFO};
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGUSR1, &sa, NULL))
            _exit(2);
        for (int i = 1; i <= 3; i++) {
            raise(SIGUSR1);
            uint32_t m;
            __asm__ volatile("stmxcsr %0" : "=m"(m));
            if (m & 0xffff0000u)
                _exit(3);                        /* reserved bits reached MXCSR */
            volatile double x = 1.5, y = x * i;
            if (y != 1.5 * i)
                _exit(4);
        }
        _exit(0);
    }
    int st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the process: %s", describe_status(st));
    detail("the process ran on after each sigreturn, MXCSR without reserved bits");
    return 0;
}

/* --- a dynamically linked program ------------------------------------------------ */

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int case_dynamic(void)
{
    /* numbers that differ run to run; dynhello sorts them and sums them */
    long v[5], sum = 0;
    char args[5][24];
    char *argv[7] = {"dynhello"};
    for (int i = 0; i < 5; i++) {
        v[i] = ((long)getpid() * 7919 + i * 104729 + (long)(now() * 1000)) % 1000;
        sum += v[i];
        snprintf(args[i], sizeof args[i], "%ld", v[i]);
        argv[i + 1] = args[i];
    }
    argv[6] = NULL;
    qsort(v, 5, sizeof v[0], cmp_long);
    char want[160];
    snprintf(want, sizeof want, "dynhello: sorted %ld %ld %ld %ld %ld sum %ld via /",
             v[0], v[1], v[2], v[3], v[4], sum);

    step("run /bin/dynhello, output through a pipe");
    int p[2];
    CHECK(pipe(p) == 0, "pipe: %m");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]); close(p[1]);
        execv("/bin/dynhello", argv);
        _exit(127);
    }
    close(p[1]);
    char out[512];
    ssize_t n = read_all(p[0], out, sizeof out - 1);
    close(p[0]);
    out[n < 0 ? 0 : n] = 0;
    int st = wait_for(pid);
    char *nl = strchr(out, '\n');
    if (nl) *nl = 0;
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "dynhello: %s; output \"%s\"", describe_status(st), out);
    CHECK(!strncmp(out, want, strlen(want)), "dynhello printed \"%s\", want \"%s...\"", out, want);

    /* "via LOADER, libc LIBC": both mapped from files that exist here */
    char *loader = out + strlen(want) - 1, *libc = strstr(out, ", libc ");
    CHECK(libc, "no libc path in \"%s\"", out);
    *libc = 0;
    libc += 7;
    struct stat sb;
    CHECK(strstr(loader, "ld-linux") && stat(loader, &sb) == 0, "loader \"%s\" is not an ld-linux file here", loader);
    CHECK(strstr(libc, "libc.so") && stat(libc, &sb) == 0, "libc \"%s\" is not a libc.so file here", libc);
    detail("loader %s", loader);
    return 0;
}

/* --- stress: many processes, many pipe round trips, nothing left behind ---------- */

/* processes other than us in our process group (the case's own group) */
static int count_group_others(char *first, size_t n)
{
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || pid == getpid()) continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        if (read_file(path, buf, sizeof buf) < 0) continue;   /* gone meanwhile */
        char *p = strrchr(buf, ')'), state;
        int ppid, pgrp;
        if (!p || sscanf(p + 2, "%c %d %d", &state, &ppid, &pgrp) != 3) continue;
        if (pgrp == getpgrp()) {
            if (!count++) snprintf(first, n, "pid %ld state %c", pid, state);
        }
    }
    closedir(d);
    return count;
}

static int case_stress(void)
{
    enum { FORKS = 200, BATCH = 20, TRIPS = 1000 };
    step("200 fork+exit");
    for (int b = 0; b < FORKS / BATCH; b++) {
        pid_t pids[BATCH];
        for (int i = 0; i < BATCH; i++) {
            pids[i] = fork();
            CHECK(pids[i] >= 0, "fork %d: %m", b * BATCH + i);
            if (pids[i] == 0) _exit(b * BATCH + i);   /* < 256: its own status */
        }
        /* reap in whatever order they end; each pid must carry its own status */
        for (int k = 0; k < BATCH; k++) {
            int st;
            pid_t r = wait(&st);
            CHECK(r > 0, "wait: %m");
            int i;
            for (i = 0; i < BATCH && pids[i] != r; i++) {}
            CHECK(i < BATCH, "wait returned a pid %d we did not fork", r);
            CHECK(WIFEXITED(st) && WEXITSTATUS(st) == b * BATCH + i, "child %d: %s",
                  b * BATCH + i, describe_status(st));
            pids[i] = 0;
        }
    }

    step("1000 pipe round trips");
    int up[2], down[2];
    CHECK(pipe(up) == 0 && pipe(down) == 0, "pipe: %m");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {   /* echo each number back plus one, until EOF */
        close(down[1]); close(up[0]);
        unsigned v;
        while (read_all(down[0], &v, sizeof v) == sizeof v) {
            v++;
            if (write_all(up[1], &v, sizeof v) != sizeof v) _exit(1);
        }
        _exit(0);
    }
    close(down[0]); close(up[1]);
    for (unsigned i = 0; i < TRIPS; i++) {
        unsigned v = i * 3, r = 0;
        CHECK(write_all(down[1], &v, sizeof v) == sizeof v, "round trip %u: write: %m", i);
        CHECK(read_all(up[0], &r, sizeof r) == sizeof r, "round trip %u: no answer", i);
        CHECK(r == v + 1, "round trip %u: got %u, want %u", i, r, v + 1);
    }
    close(down[1]);
    int st = wait_for(pid);
    close(up[0]);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "echo child: %s", describe_status(st));

    step("nothing left behind");
    errno = 0;
    CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "waitpid(-1) finds a child still there");
    char first[64] = "";
    int others = count_group_others(first, sizeof first);
    CHECK(others >= 0, "cannot read /proc: %m");
    CHECK(others == 0, "%d processes left in our process group (first: %s)", others, first);
    detail("%d forks, %d round trips", FORKS, TRIPS);
    return 0;
}

/* --- CPU time: a process computing in user mode is charged user time ------------- */

/* about 10 instructions an iteration, all in user mode, no memory traffic */
static __attribute__((noinline)) unsigned long spin(unsigned long iters)
{
    unsigned long x = 88172645463325252UL;
    for (unsigned long i = 0; i < iters; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

/* utime and stime (clock ticks) of a process from /proc/PID/stat */
static int proc_cputime(pid_t pid, unsigned long *ut, unsigned long *st)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_file(path, buf, sizeof buf) < 0) return -1;
    char *p = strrchr(buf, ')');
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", ut, st) != 2)
        return -1;
    return 0;
}

/* The CPU time the kernel has accounted since boot, every task's and idle's
 * together (clock ticks): the sum of /proc/stat's "cpu" line (user nice
 * system idle iowait irq softirq steal; guest time is in user already). */
static int stat_cputime(unsigned long long *total)
{
    char buf[512];
    unsigned long long v[8];
    if (read_file("/proc/stat", buf, sizeof buf) < 0 ||
        sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) != 8)
        return -1;
    *total = 0;
    for (int i = 0; i < 8; i++) *total += v[i];
    return 0;
}

static double tv_s(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

/* A child spins in user mode, alone, until it has been charged CPU_TARGET
 * seconds (50 ticks: enough that a share means something), by its own
 * getrusage, checked after each chunk of work; it exits with the number of
 * chunks.  The tick charges its period to whoever runs (HZ=100,
 * docs/guest-linux.md "CPU time"), and the ticks come by the host's clock:
 * on a loaded host QEMU does not run for whole periods and the guest's
 * clock runs on meanwhile, so the CPU time the guest accounts is less than
 * its wall time, by however much the host took.  So the reference for
 * "no CPU time lost" is not the wall time but the CPU time the guest
 * accounted meanwhile, all tasks and idle together (/proc/stat): the child
 * ran alone, so nearly all of it must be the child's. */
#define CPU_TARGET 0.5
static int case_cputime(void)
{
    enum { CHUNK = 10000000,          /* ~100 million instructions */
           MAX_CHUNKS = 250 };        /* then it gives up: CPU time is not counted */
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long acct0, acct1;
    CHECK(stat_cputime(&acct0) == 0, "cannot parse /proc/stat");
    step("fork a child that spins in user mode");
    double t0 = now();
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        unsigned long x = 0;
        int chunks = 0;
        struct rusage self;
        do {
            x ^= spin(CHUNK);
            chunks++;
            getrusage(RUSAGE_SELF, &self);
        } while (chunks < MAX_CHUNKS && tv_s(self.ru_utime) + tv_s(self.ru_stime) < CPU_TARGET);
        _exit(x == 1 ? 0 : chunks);
    }

    /* the child's /proc/PID/stat while it is a zombie, then its rusage (what
     * time(1) reports) as wait4 hands it over */
    siginfo_t si;
    CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0, "waitid: %m");
    double wall = now() - t0;
    CHECK(stat_cputime(&acct1) == 0, "cannot parse /proc/stat");
    double acct = (double)(acct1 - acct0) / hz;
    unsigned long ut = 0, st = 0;
    CHECK(proc_cputime(pid, &ut, &st) == 0, "cannot parse /proc/%d/stat", (int)pid);
    struct rusage ru;
    int status;
    CHECK(wait4(pid, &status, 0, &ru) == pid, "wait4: %m");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) >= 1, "spinner: %s", describe_status(status));
    int chunks = WEXITSTATUS(status);
    struct rusage ch;
    CHECK(getrusage(RUSAGE_CHILDREN, &ch) == 0, "getrusage: %m");

    double u = tv_s(ru.ru_utime), s = tv_s(ru.ru_stime);
    double pu = (double)ut / hz, ps = (double)st / hz;
    /* it stopped at CPU_TARGET by its own count, unless it gave up */
    CHECK(u + s >= CPU_TARGET, "child charged %.2f s user + %.2f s system for %d M iterations "
          "(%.2f s wall, %.2f s accounted by the guest)", u, s, chunks * (CHUNK / 1000000), wall, acct);
    CHECK(u + s >= 0.8 * acct, "child charged %.2f s user + %.2f s system of the %.2f s the guest "
          "accounted while it ran alone (%.2f s wall)", u, s, acct, wall);
    CHECK(u >= 0.9 * (u + s), "wait4 rusage: %.2f s user, %.2f s system: user share %.0f%% < 90%%",
          u, s, 100 * u / (u + s));
    CHECK(pu >= 0.9 * (pu + ps), "/proc/%d/stat: utime %lu stime %lu ticks: user share < 90%%", (int)pid, ut, st);
    CHECK(tv_s(ch.ru_utime) >= u - 0.02, "RUSAGE_CHILDREN user %.2f s < the child's %.2f s", tv_s(ch.ru_utime), u);
    detail("%d M iterations: user %.2f s, system %.2f s (%.1f%% user) of %.2f s accounted, %.2f s wall; "
           "/proc stat %lu+%lu ticks", chunks * (CHUNK / 1000000), u, s, 100 * u / (u + s), acct, wall,
           ut, st);
    return 0;
}

/* --- /sys/devices/system/cpu as on a uniprocessor kernel -------------------------- */

static int case_cpu_sysfs(void)
{
    char buf[64];
    static const char *const masks[] = {"online", "possible", "present"};
    for (unsigned i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        char path[80];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/%s", masks[i]);
        step(path);
        CHECK(read_file(path, buf, sizeof buf) >= 0, "%s: %m", path);
        CHECK(!strcmp(buf, "0\n"), "%s reads \"%s\", want \"0\"", path, buf);
    }
    /* what programs that count CPUs scan: cpuN directories */
    step("scan /sys/devices/system/cpu for cpuN");
    DIR *d = opendir("/sys/devices/system/cpu");
    CHECK(d, "opendir /sys/devices/system/cpu: %m");
    int cpus = 0, cpu0 = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strncmp(de->d_name, "cpu", 3) && de->d_name[3] >= '0' && de->d_name[3] <= '9') {
            cpus++;
            cpu0 |= !strcmp(de->d_name, "cpu0");
        }
    }
    closedir(d);
    CHECK(cpus == 1 && cpu0, "%d cpuN entries (cpu0 %s), want cpu0 alone", cpus, cpu0 ? "there" : "missing");
    CHECK(sysconf(_SC_NPROCESSORS_ONLN) == 1 && sysconf(_SC_NPROCESSORS_CONF) == 1,
          "sysconf: %ld online, %ld configured", sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_CONF));
    detail("online/possible/present 0, cpu0");
    return 0;
}

/* --- sockets ------------------------------------------------------------------------ */

/* the child side of a stream round trip: each byte back plus one, until EOF */
static void echo_plus_one(int fd)
{
    unsigned char c;
    while (read(fd, &c, 1) == 1) {
        c++;
        if (write(fd, &c, 1) != 1) _exit(1);
    }
    _exit(0);
}

/* n one-byte round trips over a connected stream socket */
static int stream_round_trips(int fd, int n, const char *what)
{
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(i * 7), r = 0;
        CHECK(write(fd, &c, 1) == 1, "%s: round trip %d: write: %m", what, i);
        CHECK(read_all(fd, &r, 1) == 1, "%s: round trip %d: no answer", what, i);
        CHECK(r == (unsigned char)(c + 1), "%s: round trip %d: got %u, want %u", what, i, r, c + 1);
    }
    return 0;
}

static int case_unix_sockets(void)
{
    enum { TRIPS = 200 };
    step("AF_UNIX stream socketpair");
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair(AF_UNIX, SOCK_STREAM): %m");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) { close(sv[0]); echo_plus_one(sv[1]); }
    close(sv[1]);
    if (stream_round_trips(sv[0], TRIPS, "stream socketpair")) return 1;
    close(sv[0]);
    int st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "stream echo child: %s", describe_status(st));

    step("AF_UNIX datagram socketpair: message boundaries");
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair(AF_UNIX, SOCK_DGRAM): %m");
    pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {   /* each datagram back, reversed, as one datagram */
        close(sv[0]);
        char m[2048];
        ssize_t n;
        while ((n = recv(sv[1], m, sizeof m, 0)) > 0) {
            for (ssize_t i = 0; i < n / 2; i++) { char t = m[i]; m[i] = m[n - 1 - i]; m[n - 1 - i] = t; }
            if (send(sv[1], m, n, 0) != n) _exit(1);
        }
        _exit(n == 0 ? 0 : 2);
    }
    close(sv[1]);
    static const int sizes[] = {1, 17, 1000, 2, 1500};
    for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {   /* all sent before any read */
        char m[2048];
        for (int i = 0; i < sizes[k]; i++) m[i] = (char)('a' + (i + k) % 26);
        CHECK(send(sv[0], m, sizes[k], 0) == sizes[k], "send %d bytes: %m", sizes[k]);
    }
    for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        char m[2048];
        ssize_t n = recv(sv[0], m, sizeof m, 0);
        CHECK(n == sizes[k], "datagram %u: %zd bytes, want %d", k, n, sizes[k]);
        for (int i = 0; i < sizes[k]; i++)
            CHECK(m[sizes[k] - 1 - i] == (char)('a' + (i + k) % 26), "datagram %u: byte %d wrong", k, i);
    }
    CHECK(send(sv[0], "", 0, 0) == 0, "send empty datagram: %m");   /* the child's recv returns 0: its end */
    close(sv[0]);
    st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "datagram child: %s", describe_status(st));

    step("AF_UNIX stream socket bound to a path");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/gltest-%d.sock", (int)getpid());
    unlink(sa.sun_path);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(ls >= 0, "socket: %m");
    CHECK(bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0, "bind %s: %m", sa.sun_path);
    CHECK(listen(ls, 1) == 0, "listen: %m");
    pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa)) _exit(3);
        echo_plus_one(c);
    }
    int c = accept(ls, NULL, NULL);
    CHECK(c >= 0, "accept: %m");
    close(ls);
    if (stream_round_trips(c, 20, "named socket")) return 1;
    close(c);
    unlink(sa.sun_path);
    st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "connecting child: %s", describe_status(st));
    detail("%d stream round trips, 5 datagrams, a named socket", TRIPS);
    return 0;
}

/* a TCP connection over the loopback device between two processes */
static int tcp_pair(int family, const char *what)
{
    union { struct sockaddr sa; struct sockaddr_in in; struct sockaddr_in6 in6; } a;
    socklen_t alen;
    memset(&a, 0, sizeof a);
    if (family == AF_INET) {
        a.in.sin_family = AF_INET;
        a.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        alen = sizeof a.in;
    } else {
        a.in6.sin6_family = AF_INET6;
        a.in6.sin6_addr = in6addr_loopback;
        alen = sizeof a.in6;
    }
    int ls = socket(family, SOCK_STREAM, 0);
    CHECK(ls >= 0, "%s: socket: %m", what);
    CHECK(bind(ls, &a.sa, alen) == 0, "%s: bind: %m", what);
    CHECK(listen(ls, 1) == 0, "%s: listen: %m", what);
    CHECK(getsockname(ls, &a.sa, &alen) == 0, "%s: getsockname: %m", what);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {   /* the client: connect, then echo */
        int c = socket(family, SOCK_STREAM, 0);
        int one = 1;
        if (c < 0 || connect(c, &a.sa, alen)) _exit(3);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        echo_plus_one(c);
    }
    int c = accept(ls, NULL, NULL);
    CHECK(c >= 0, "%s: accept: %m", what);
    close(ls);
    int one = 1;
    CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "TCP_NODELAY: %m");
    if (stream_round_trips(c, 100, what)) return 1;
    close(c);
    int st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s client: %s", what, describe_status(st));
    return 0;
}

static int case_tcp_loopback(void)
{
    step("TCP over 127.0.0.1");
    if (tcp_pair(AF_INET, "127.0.0.1")) return 1;
    step("TCP over ::1");
    if (tcp_pair(AF_INET6, "::1")) return 1;

    step("a bulk transfer over 127.0.0.1: 1 MiB, checked");
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&a, alen) == 0 && listen(ls, 1) == 0 &&
          getsockname(ls, (struct sockaddr *)&a, &alen) == 0, "listening socket: %m");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {   /* send 1 MiB of a counting pattern */
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&a, alen)) _exit(3);
        static unsigned w[16384];
        for (unsigned blk = 0; blk < 16; blk++) {
            for (unsigned i = 0; i < 16384; i++) w[i] = blk * 16384 + i;
            if (write_all(c, w, sizeof w) != sizeof w) _exit(4);
        }
        _exit(0);
    }
    int c = accept(ls, NULL, NULL);
    CHECK(c >= 0, "accept: %m");
    close(ls);
    static unsigned w[16384];
    for (unsigned blk = 0; blk < 16; blk++) {
        CHECK(read_all(c, w, sizeof w) == sizeof w, "block %u short", blk);
        for (unsigned i = 0; i < 16384; i++)
            CHECK(w[i] == blk * 16384 + i, "block %u word %u: %u", blk, i, w[i]);
    }
    char x;
    CHECK(read(c, &x, 1) == 0, "no EOF after 1 MiB");
    close(c);
    int st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sender: %s", describe_status(st));
    detail("100 round trips over 127.0.0.1 and ::1, 1 MiB through");
    return 0;
}

/* --- SysV IPC: shared memory and semaphores between two processes ----------------- */

static int sem_op(int id, int num, int op)
{
    struct sembuf b = {.sem_num = (unsigned short)num, .sem_op = (short)op};
    int r;
    while ((r = semop(id, &b, 1)) < 0 && errno == EINTR) {}
    return r;
}

static int case_sysv_ipc(void)
{
    enum { ROUNDS = 100 };
    step("shmget + semget");
    int shm = shmget(IPC_PRIVATE, 64 * 1024, IPC_CREAT | 0600);
    CHECK(shm >= 0, "shmget: %m");
    int sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    CHECK(sem >= 0, "semget: %m");
    volatile unsigned *mem = shmat(shm, NULL, 0);
    CHECK(mem != (void *)-1, "shmat: %m");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {   /* attach again (the inherited one too), answer each round */
        volatile unsigned *m2 = shmat(shm, NULL, 0);
        if (m2 == (void *)-1) _exit(3);
        for (int r = 0; r < ROUNDS; r++) {
            if (sem_op(sem, 0, -1)) _exit(4);            /* wait for the parent */
            m2[1 + r] = m2[0] * 3 + 1;                   /* answer in the other mapping */
            if (sem_op(sem, 1, 1)) _exit(5);             /* wake the parent */
        }
        shmdt((void *)m2);
        _exit(0);
    }
    for (int r = 0; r < ROUNDS; r++) {
        mem[0] = (unsigned)(r * 1000 + getpid());
        CHECK(sem_op(sem, 0, 1) == 0, "semop up: %m");
        CHECK(sem_op(sem, 1, -1) == 0, "semop down: %m");
        CHECK(mem[1 + r] == mem[0] * 3 + 1, "round %d: shared word %u, want %u", r, mem[1 + r], mem[0] * 3 + 1);
    }
    int st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %s", describe_status(st));
    struct shmid_ds ds;
    CHECK(shmctl(shm, IPC_STAT, &ds) == 0, "shmctl IPC_STAT: %m");
    CHECK(ds.shm_nattch == 1 && ds.shm_segsz == 64 * 1024, "shm: %lu attached, %zu bytes",
          (unsigned long)ds.shm_nattch, ds.shm_segsz);
    CHECK(shmdt((void *)mem) == 0, "shmdt: %m");
    CHECK(shmctl(shm, IPC_RMID, NULL) == 0, "shmctl IPC_RMID: %m");
    CHECK(semctl(sem, 0, IPC_RMID) == 0, "semctl IPC_RMID: %m");
    errno = 0;
    CHECK(semop(sem, &(struct sembuf){0, 1, 0}, 1) < 0 && (errno == EINVAL || errno == EIDRM),
          "semop on a removed set: %m");
    detail("%d rounds through 64 KiB of shared memory and 2 semaphores", ROUNDS);
    return 0;
}

/* --- unmodified Debian programs (copied with their libraries by mkguest-initramfs) - */

/* run argv with `in` on its stdin, its stdout+stderr into out (NUL-terminated);
 * returns the wait status, or -1 */
static int run_capture(char *const argv[], const char *in, char *out, size_t size)
{
    int ip[2], op[2];
    if (pipe(ip) || pipe(op)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(ip[0], 0);
        dup2(op[1], 1);
        dup2(op[1], 2);
        close(ip[0]); close(ip[1]); close(op[0]); close(op[1]);
        char *env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=/root", NULL};
        execve(argv[0], argv, env);
        _exit(127);
    }
    close(ip[0]); close(op[1]);
    /* the inputs here are small (< 64 KiB, a pipe's buffer): write, then read */
    if (in) write_all(ip[1], in, strlen(in));
    close(ip[1]);
    ssize_t n = read_all(op[0], out, size - 1);
    close(op[0]);
    out[n < 0 ? 0 : n] = 0;
    return wait_for(pid);
}

static int case_bash(void)
{
    /* loops, arithmetic, functions, command substitution, pipes through
     * other programs, a here-string, arrays; the input varies run to run */
    unsigned k = (unsigned)getpid() % 50 + 10;
    char n[16];
    snprintf(n, sizeof n, "%u", k);
    char *argv[] = {"/usr/bin/bash", "-c",
        "set -eu\n"
        "n=$1; s=0\n"
        "for ((i = 1; i <= n; i++)); do s=$((s + i * i)); done\n"
        "sq() { local x=$1; echo $((x * x)); }\n"
        "cube=$(( $(sq \"$n\") * n ))\n"
        "odd=$(seq 1 \"$n\" | while read -r v; do [ $((v % 2)) = 1 ] && echo \"$v\"; done | wc -l)\n"
        "rev=$(printf '%s\\n' c a b | sort -r | tr -d '\\n')\n"
        "arr=(x y z); read -r first rest <<< \"alpha beta gamma\"\n"
        "echo \"sumsq=$s cube=$cube odd=$odd rev=$rev arr=${#arr[@]}${arr[2]} first=$first rest=$rest bash=${BASH_VERSINFO[0]}\"\n",
        "bash-test", n, NULL};
    char out[512], want[256];
    unsigned sumsq = 0;
    for (unsigned i = 1; i <= k; i++) sumsq += i * i;
    snprintf(want, sizeof want, "sumsq=%u cube=%u odd=%u rev=cba arr=3z first=alpha rest=beta gamma bash=5\n",
             sumsq, k * k * k, (k + 1) / 2);
    step("/usr/bin/bash -c SCRIPT");
    int st = run_capture(argv, NULL, out, sizeof out);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "bash: %s; output \"%s\"", describe_status(st), out);
    CHECK(!strcmp(out, want), "bash printed \"%s\", want \"%s\"", out, want);
    detail("n=%u: %.*s", k, (int)strlen(out) - 1, out);
    return 0;
}

static int case_perl(void)
{
    unsigned k = (unsigned)getpid() % 1000 + 1000;
    char n[16];
    snprintf(n, sizeof n, "%u", k);
    char *argv[] = {"/usr/bin/perl", "-e",
        "my $s = 0; $s += $_ for 1 .. $ARGV[0]; my %h = map { $_ => length } qw(a bb ccc);"
        " printf \"sum=%d keys=%s perl=%vd\\n\", $s, join(',', map { \"$_$h{$_}\" } sort keys %h), $^V;",
        n, NULL};
    char out[256], want[128];
    snprintf(want, sizeof want, "sum=%u keys=a1,bb2,ccc3 perl=5.", k * (k + 1) / 2);
    step("/usr/bin/perl -e");
    int st = run_capture(argv, NULL, out, sizeof out);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "perl: %s; output \"%s\"", describe_status(st), out);
    CHECK(!strncmp(out, want, strlen(want)), "perl printed \"%s\", want \"%s...\"", out, want);
    detail("%.*s", (int)strcspn(out, "\n"), out);
    return 0;
}

static int case_python(void)
{
    unsigned k = (unsigned)getpid() % 100 + 7;
    char n[16];
    snprintf(n, sizeof n, "%u", k);
    /* tests/guest-linux/pycheck.py: hashlib, json and subprocess; one line */
    char *argv[] = {"/usr/bin/python3", "/usr/share/gltest/pycheck.py", n, NULL};
    char out[1024], want[512];
    snprintf(want, sizeof want,
             "pycheck: sha256(abc)=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
             "md5(abc)=900150983cd24fb0d6963f7d28e17f72 json=%u child=%u\n", k * (k - 1) / 2, k * 6);
    step("/usr/bin/python3 pycheck.py");
    int st = run_capture(argv, NULL, out, sizeof out);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "python3: %s; output \"%s\"", describe_status(st), out);
    CHECK(!strcmp(out, want), "python3 printed \"%s\", want \"%s\"", out, want);
    detail("json=%u child=%u", k * (k - 1) / 2, k * 6);
    return 0;
}

/* The 16 MiB pattern the coreutils case checksums: xorshift64 words.  The
 * build runs `gltest --pattern` on the host and puts the host's sha256sum of
 * it into the initramfs (/etc/gltest/pattern.sha256). */
enum { PATTERN_BYTES = 16 << 20 };
static int write_pattern(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    static uint64_t w[8192];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t done = 0; done < PATTERN_BYTES; done += sizeof w) {
        for (size_t i = 0; i < 8192; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            w[i] = x;
        }
        if (write_all(fd, w, sizeof w) != sizeof w) { close(fd); return -1; }
    }
    return close(fd);
}

static int case_coreutils(void)
{
    step("/usr/bin/sort -n");
    enum { LINES = 2000 };
    static char in[LINES * 12], out[LINES * 12 + 512];
    static long v[LINES];
    size_t len = 0;
    unsigned x = (unsigned)getpid() * 2654435761u;
    for (int i = 0; i < LINES; i++) {
        x = x * 1103515245u + 12345u;
        v[i] = (long)((x >> 8) % 1000000) - 500000;
        len += snprintf(in + len, sizeof in - len, "%ld\n", v[i]);
    }
    qsort(v, LINES, sizeof v[0], cmp_long);
    char *sort_argv[] = {"/usr/bin/sort", "-n", NULL};
    int st = run_capture(sort_argv, in, out, sizeof out);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "sort: %s; output \"%.200s\"", describe_status(st), out);
    char *p = out;
    for (int i = 0; i < LINES; i++) {
        char *end;
        long got = strtol(p, &end, 10);
        CHECK(end != p && *end == '\n', "sort output line %d unreadable: \"%.40s\"", i, p);
        CHECK(got == v[i], "sort output line %d: %ld, want %ld", i, got, v[i]);
        p = end + 1;
    }
    CHECK(!*p, "sort printed more than %d lines", LINES);

    step("/usr/bin/sha256sum of the 16 MiB pattern");
    char want[128];
    CHECK(read_file("/etc/gltest/pattern.sha256", want, sizeof want) == 65, "no host digest in /etc/gltest/pattern.sha256");
    want[64] = 0;
    const char *path = "/tmp/gltest-pattern";
    CHECK(write_pattern(path) == 0, "writing %s: %m", path);
    char *sum_argv[] = {"/usr/bin/sha256sum", (char *)path, NULL};
    st = run_capture(sum_argv, NULL, out, sizeof out);
    unlink(path);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "sha256sum: %s; output \"%s\"", describe_status(st), out);
    CHECK(!strncmp(out, want, 64) && out[64] == ' ', "sha256sum printed \"%s\", the host's digest is %s", out, want);
    detail("%d lines sorted; sha256 %.16s... as on the host", LINES, want);
    return 0;
}

/* --- exact mprotect -------------------------------------------------------------- */

/* every page of [m, m + n pages) faults on read and on write (SEGV_ACCERR) */
static int expect_no_access(char *m, int n, const char *what)
{
    for (int i = 0; i < n; i++) {
        char w[96];
        snprintf(w, sizeof w, "read of %s page %d", what, i);
        if (expect_fault(m + i * pg + 8, 0, SEGV_ACCERR, w)) return 1;
        snprintf(w, sizeof w, "write to %s page %d", what, i);
        if (expect_fault(m + i * pg + 16, 1, SEGV_ACCERR, w)) return 1;
    }
    return 0;
}

/* PROT_NONE faults on read and write, PROT_READ on write, for pages that
 * were populated (written) and pages never touched, private and shared,
 * and in a forked child; the data is all there when access comes back. */
static int case_mprotect(void)
{
    catch_faults();
    enum { N = 4 };   /* pages 0-1 populated, 2-3 never touched */
    for (int shared = 0; shared < 2; shared++) {
        const char *kind = shared ? "shared" : "private";
        step(shared ? "MAP_SHARED: set up" : "MAP_PRIVATE: set up");
        char *m = mmap(NULL, N * pg, PROT_READ | PROT_WRITE,
                       (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
        CHECK(m != MAP_FAILED, "mmap %s: %m", kind);
        memset(m, 'p', 2 * pg);
        step("PROT_NONE");
        CHECK(mprotect(m, N * pg, PROT_NONE) == 0, "mprotect(PROT_NONE): %m");
        if (expect_no_access(m, N, "a PROT_NONE")) return 1;
        step("PROT_NONE, in a forked child");
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: %m");
        if (pid == 0) _exit(expect_no_access(m, N, "the child's PROT_NONE") ? 3 : 0);
        int st = wait_for(pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: child could touch a PROT_NONE page (%s: %s)",
              kind, describe_status(st), sh->msg);
        step("PROT_READ");
        CHECK(mprotect(m, N * pg, PROT_READ) == 0, "mprotect(PROT_READ): %m");
        for (int i = 0; i < N; i++) {
            CHECK(touch(m + i * pg + 8, 0) == 0, "%s: read of a PROT_READ page %d faulted", kind, i);
            CHECK(m[i * pg + 8] == (i < 2 ? 'p' : 0), "%s: page %d lost its data", kind, i);
            if (expect_fault(m + i * pg + 16, 1, SEGV_ACCERR, "write to a PROT_READ page")) return 1;
        }
        step("PROT_NONE again, then read-write");
        CHECK(mprotect(m, N * pg, PROT_NONE) == 0, "mprotect(PROT_NONE): %m");
        if (expect_no_access(m, N, "a PROT_NONE (again)")) return 1;
        CHECK(mprotect(m, N * pg, PROT_READ | PROT_WRITE) == 0, "mprotect(RW): %m");
        for (int i = 0; i < N; i++) {
            CHECK(touch(m + i * pg + 24, 1) == 0, "%s: write after mprotect(RW) faulted, page %d", kind, i);
            CHECK(m[i * pg] == (i < 2 ? 'p' : 0), "%s: page %d lost its data", kind, i);
        }
        CHECK(munmap(m, N * pg) == 0, "munmap: %m");
    }
    detail("PROT_NONE and PROT_READ exact on populated and untouched pages, private and shared");
    return 0;
}

/* --- a thread's stack guard page ---------------------------------------------------- */

static volatile char *guard_lo, *guard_hi;   /* the guard: [lo, hi) */
static volatile long guard_depth;

static volatile long guard_stop = -1;     /* never reached: ends only by the fault */

static __attribute__((noinline)) long recurse_down(long n)
{
    volatile char frame[512];
    frame[0] = (char)n;
    frame[511] = (char)n;
    guard_depth = n;
    if (n == guard_stop)
        return 0;
    return recurse_down(n + 1) + frame[0] + frame[511];
}

static void *guard_thread(void *arg)
{
    (void)arg;
    static char altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    if (sigaltstack(&ss, NULL)) return (void *)1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    pthread_attr_t a;
    void *base;
    size_t size, guard;
    if (pthread_getattr_np(pthread_self(), &a)) return (void *)2;
    pthread_attr_getstack(&a, &base, &size);
    pthread_attr_getguardsize(&a, &guard);
    pthread_attr_destroy(&a);
    guard_hi = base;                 /* the stack grows down onto the guard */
    guard_lo = (char *)base - guard;
    fault_sig = 0;
    if (sigsetjmp(fault_env, 1) == 0) {
        recurse_down(0);
        return (void *)3;            /* not reached: the recursion has no end */
    }
    return (void *)4;
}

/* Address 0 is refused to an unprivileged process (mmap_min_addr, so a
 * kernel NULL dereference cannot land on user data); root may map it. */
static int case_mmap_min_addr(void)
{
    step("an unprivileged child maps address 0");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        if (setgid(1000) || setuid(1000))
            _exit(2);
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED)
            _exit(3);                       /* mapped: wrong */
        _exit(errno == EPERM || errno == EACCES ? 0 : 4);
    }
    int st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "unprivileged mmap of address 0: %s (2: no setuid, 3: it was mapped, 4: wrong errno)",
          describe_status(st));
    step("root maps address 0 (CAP_SYS_RAWIO)");
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p == NULL, "root's mmap of address 0 returned %p: %m", p);
    volatile int *volatile zero = p;        /* (hidden from the compiler: page 0 is ours) */
    *zero = 42;                             /* our own page now: no fault */
    CHECK(munmap(p, 4096) == 0, "munmap of address 0: %m");
    detail("uid 1000 refused, root allowed");
    return 0;
}

static int case_guard_page(void)
{
    step("a thread with a 64 KiB stack recurses until it overflows");
    pthread_attr_t a;
    pthread_t t;
    void *ret = NULL;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    pthread_attr_setguardsize(&a, pg);
    CHECK(pthread_create(&t, &a, guard_thread, NULL) == 0, "pthread_create: %m");
    CHECK(pthread_join(t, &ret) == 0, "pthread_join: %m");
    CHECK(ret == (void *)4, "thread ended with %ld (1 sigaltstack, 2 getattr), not by the fault",
          (long)ret);
    CHECK(fault_sig == SIGSEGV, "signal %d, want SIGSEGV", fault_sig);
    CHECK((char *)fault_addr >= guard_lo && (char *)fault_addr < guard_hi,
          "fault at %p, outside the guard page [%p, %p)", fault_addr, (void *)guard_lo,
          (void *)guard_hi);
    CHECK(fault_code == SEGV_ACCERR, "si_code %d, want SEGV_ACCERR (the guard is PROT_NONE)",
          fault_code);
    detail("SIGSEGV in the guard page at depth %ld", guard_depth);
    return 0;
}

/* --- many live processes ------------------------------------------------------------ */

/* 1,000 children alive at once, each blocked reading a pipe; the
 * microkernel memory their address spaces take (/proc/ukvm: the process
 * account of the host layer) per process; then all of them end and are
 * reaped, and that memory is given back.
 * When a child first runs depends on when the guest's ticks come, so on
 * the host's load (they come by its clock): a child may not have run yet
 * when we look at it (state R), and the host layer counts each child not
 * run yet at our charge, refusing a fork when those would not fit
 * (docs/guest-linux.md).  So a refused fork is tried again after a sleep,
 * which lets the children run (a bounded number of times), and a child
 * not yet asleep is looked at again after one. */
static int case_procs(void)
{
    enum { N = 1000, RETRIES = 100 };
    static pid_t pids[N];
    int p[2], refused = 0, unslept = 0;
    CHECK(pipe(p) == 0, "pipe: %m");
    /* our own address space first, so that what it grows by is not counted:
     * the pid array, a child forked and reaped */
    memset(pids, 0, sizeof pids);
    pid_t w = fork();
    CHECK(w >= 0, "fork: %m");
    if (w == 0) _exit(0);
    wait_for(w);
    /* on ukvm: the microkernel memory of the process account (/proc/ukvm);
     * on native Linux (no /proc/ukvm) the rest of the case runs alone */
    int ukvm = access("/proc/ukvm", R_OK) == 0;
    long used0 = ukvm_counter("process_kmem_used"), tasks0 = ukvm_counter("process_tasks");
    CHECK(!ukvm || (used0 > 0 && tasks0 > 0), "/proc/ukvm has no process_kmem_used/process_tasks");
    step("forking 1000 children that block on a pipe");
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] < 0 && (errno == ENOMEM || errno == EAGAIN) && refused < RETRIES) {
            refused++;
            usleep(10000);
            i--;
            continue;
        }
        if (pids[i] < 0) {
            int e = errno;
            close(p[1]);
            for (int k = 0; k < i; k++) waitpid(pids[k], NULL, 0);
            errno = e;
            return fail("fork %d of %d: %m (process_kmem_room %ld; %d refused before, tried again)",
                        i + 1, N, ukvm_counter("process_kmem_room"), refused);
        }
        if (pids[i] == 0) {
            char c;
            close(p[1]);
            _exit(read(p[0], &c, 1) == 0 ? 0 : 1);   /* EOF: the parent let go */
        }
    }
    step("all 1000 alive");
    long used1 = ukvm_counter("process_kmem_used"), tasks1 = ukvm_counter("process_tasks");
    long room1 = ukvm_counter("process_kmem_room");
    CHECK(!ukvm || tasks1 - tasks0 == N, "process tasks %ld -> %ld, want %d more", tasks0, tasks1, N);
    /* what Linux itself spends on a child's page tables (VmPTE) */
    char path[64], status[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pids[N / 2]);
    CHECK(read_file(path, status, sizeof status) >= 0, "read %s: %m", path);
    char *pte = strstr(status, "VmPTE:");
    long vmpte = pte ? strtol(pte + 6, NULL, 10) : -1;
    for (int i = 0; i < N; i += 97) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pids[i]);
        char buf[512], *st;
        for (int tries = 0;; tries++) {
            CHECK(read_file(path, buf, sizeof buf) >= 0, "child %d (pid %d) gone", i, (int)pids[i]);
            st = strrchr(buf, ')');
            if (!st || st[2] == 'S' || tries == RETRIES) break;
            unslept += !tries;
            usleep(10000);   /* not run yet, or on its way to the read: let it */
        }
        CHECK(st && st[2] == 'S', "child %d not sleeping after %d sleeps of ours: %.40s", i, RETRIES,
              st ? st : buf);
    }
    step("closing the pipe: all end");
    close(p[1]);
    close(p[0]);
    for (int i = 0; i < N; i++) {
        int st;
        CHECK(waitpid(pids[i], &st, 0) == pids[i], "waitpid child %d: %m", i);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: %s", i, describe_status(st));
    }
    errno = 0;
    CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "a child is still there");
    if (!ukvm) {
        printf("gltest: procs: %d live processes, VmPTE %ld kB each (native)\n", N, vmpte);
        detail("%d alive at once, VmPTE %ld kB each, all reaped; forks refused and tried again %d, "
               "children not asleep at first look %d", N, vmpte, refused, unslept);
        return 0;
    }
    long used2 = ukvm_counter("process_kmem_used"), tasks2 = ukvm_counter("process_tasks");
    CHECK(tasks2 == tasks0, "process tasks %ld after, %ld before", tasks2, tasks0);
    /* all given back: less than half a mapping node (64 bytes) per child
     * stays (what our own address space may have grown by meanwhile) */
    CHECK(used2 - used0 < N * 32, "process kernel memory %ld bytes after, %ld before: "
          "%ld bytes not given back", used2, used0, used2 - used0);
    printf("gltest: procs: %d live processes, %ld bytes of microkernel memory each "
           "(the guest Linux's own VmPTE %ld kB), %ld KiB left to processes\n",
           N, (used1 - used0) / N, vmpte, room1 >> 10);
    detail("%d alive at once, %ld bytes of microkernel memory each, all reaped and given back; "
           "forks refused and tried again %d, children not asleep at first look %d",
           N, (used1 - used0) / N, refused, unslept);
    return 0;
}

/* --- a big guest: 900 MiB in one process (run by name, in a 1 GiB guest) --------- */

/* a /proc/meminfo field in KiB, or -1 */
static long meminfo_kib(const char *field)
{
    static char buf[4096];
    if (read_file("/proc/meminfo", buf, sizeof buf) < 0) return -1;
    char *p = strstr(buf, field);
    return p ? strtol(p + strlen(field), NULL, 10) : -1;
}

static int case_mem900(void)
{
    const unsigned long size = 900 * MiB;
    long total = meminfo_kib("MemTotal:"), avail0 = meminfo_kib("MemAvailable:");
    CHECK(total > 950 * 1024, "MemTotal %ld KiB: not a 1 GiB guest (tools/run/boot-guest --mem 1024)",
          total);
    step("mmap 900 MiB and touch every page");
    unsigned long *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap 900 MiB: %m");
    size_t words = pg / sizeof *m;
    for (unsigned long i = 0; i < size / pg; i++)
        m[i * words + i % words] = i;
    long avail1 = meminfo_kib("MemAvailable:");
    step("busybox free");
    char *const argv[] = {"free", "-m", NULL};
    int st = run_prog("/bin/free", argv);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "free: %s", describe_status(st));
    CHECK(avail0 - avail1 >= 880 * 1024, "MemAvailable %ld -> %ld KiB: not 900 MiB less",
          avail0, avail1);
    step("read it all back");
    for (unsigned long i = 0; i < size / pg; i++)
        CHECK(m[i * words + i % words] == i, "page %lu lost its data", i);
    CHECK(munmap(m, size) == 0, "munmap: %m");
    long avail2 = meminfo_kib("MemAvailable:");
    CHECK(avail2 - avail1 >= 880 * 1024, "MemAvailable %ld KiB after munmap, %ld before",
          avail2, avail1);
    detail("MemTotal %ld MiB, MemAvailable %ld -> %ld -> %ld MiB", total >> 10, avail0 >> 10,
           avail1 >> 10, avail2 >> 10);
    return 0;
}

/* --- fork bombs (driven from a shell by tests/guest-linux/run) ---------------------- */

/* gltest --fork-bomb FIFO [UID [PAGES]]: become UID (if given), then every
 * process forks as fast as it can until fork fails; each then touches
 * PAGES pages 2 MiB apart (each a page table more for the microkernel to
 * charge: the bomb spends the guest's kernel memory for processes after
 * fork was refused, as any process may grow) and sleeps for good.  The
 * first process to get there (any of them: another may be killed by the
 * guest's out-of-memory handling) says, into FIFO, how fork failed and how
 * many processes there were (/proc/loadavg), so the shell that started it
 * (blocked in its builtin read on FIFO, no fork needed) knows the bomb is
 * spent. */
static int fork_bomb(const char *fifo, const char *uid, long pages)
{
    /* opened before we give up root (the FIFO is root's); read-write, so
     * the open does not wait for the reader */
    int fd = open(fifo, O_RDWR);
    if (fd < 0) { perror("gltest: open the FIFO"); return 1; }
    int *reported = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (reported == MAP_FAILED) { perror("gltest: mmap"); return 1; }
    if (uid && setuid(atoi(uid))) { perror("gltest: setuid"); return 1; }
    int err = 0;
    for (;;) {
        pid_t c = fork();
        if (c < 0) { err = errno; break; }
    }
    if (pages > 0) {
        const unsigned long apart = 2ul << 20;
        char *m = mmap(NULL, pages * apart, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        for (long i = 0; m != MAP_FAILED && i < pages; i++)
            m[i * apart] = 1;
    }
    if (__sync_bool_compare_and_swap(reported, 0, 1)) {
        char buf[128] = "", msg[256];
        read_file("/proc/loadavg", buf, sizeof buf);
        char *tot = strchr(buf, '/');
        snprintf(msg, sizeof msg, "fork-bomb: fork refused: %s, %d processes\n",
                 err == EAGAIN ? "EAGAIN" : err == ENOMEM ? "ENOMEM" : strerror(err),
                 tot ? atoi(tot + 1) : -1);
        write_all(fd, msg, strlen(msg));
    }
    for (;;)
        pause();
}

/* --- the runner ------------------------------------------------------------------- */

struct tcase { const char *name; int (*fn)(void); int timeout; int named_only; };
static const struct tcase cases[] = {
    {"fork-exec", case_fork_exec, 30, 0},
    {"pipes", case_pipes, 30, 0},
    {"signals", case_signals, 30, 0},
    {"sigsegv", case_sigsegv, 30, 0},
    {"sigfpe", case_sigfpe, 30, 0},
    {"mmap", case_mmap, 30, 0},
    {"cow", case_cow, 30, 0},
    {"mem64", case_mem64, 60, 0},
    {"threads", case_threads, 30, 0},
    {"futex", case_futex, 30, 0},
    {"mutex", case_mutex, 60, 0},
    {"tmpfs", case_tmpfs, 30, 0},
    {"proc", case_proc, 30, 0},
    {"console-burst", case_console_burst, 60, 0},
    {"nanosleep", case_nanosleep, 30, 0},
    {"fpu", case_fpu, 120, 0},
    {"fpu-sigreturn", case_fpu_sigreturn, 30, 0},
    {"dynamic", case_dynamic, 30, 0},
    {"stress", case_stress, 120, 0},
    {"mprotect", case_mprotect, 60, 0},
    {"guard-page", case_guard_page, 30, 0},
    {"mmap-min-addr", case_mmap_min_addr, 30, 0},
    {"procs", case_procs, 600, 0},
    {"mem900", case_mem900, 900, 1},   /* only when named: needs a 1 GiB guest */
    {"cputime", case_cputime, 120, 0},
    {"cpu-sysfs", case_cpu_sysfs, 30, 0},
    {"unix-sockets", case_unix_sockets, 60, 0},
    {"tcp-loopback", case_tcp_loopback, 60, 0},
    {"sysv-ipc", case_sysv_ipc, 60, 0},
    {"bash", case_bash, 60, 0},
    {"perl", case_perl, 60, 0},
    {"python3", case_python, 180, 0},
    {"coreutils", case_coreutils, 120, 0},
};
enum { NCASES = sizeof cases / sizeof cases[0] };

/* run one case in a child of its own process group; 1 if it passed */
static int run_case(const struct tcase *c)
{
    memset(sh, 0, sizeof *sh);
    fflush(stdout);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        printf("FAIL %s: fork: %s\n", c->name, strerror(errno));
        return 0;
    }
    if (pid == 0) {
        setpgid(0, 0);     /* its own group: cleaned up as a whole below */
        alarm(c->timeout); /* SIGALRM (default: terminate) if it hangs */
        _exit(c->fn() ? 1 : 0);
    }
    setpgid(pid, pid);     /* either side may get there first */
    int st = wait_for(pid);
    kill(-pid, SIGKILL);   /* anything the case left running */
    double dt = now() - t0;
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        if (sh->msg[0]) printf("ok %s (%s; %.2f s)\n", c->name, sh->msg, dt);
        else printf("ok %s (%.2f s)\n", c->name, dt);
        fflush(stdout);
        return 1;
    }
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1 && sh->msg[0])
        printf("FAIL %s: %s\n", c->name, sh->msg);
    else if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
        printf("FAIL %s: timeout after %d s (at: %s)\n", c->name, c->timeout, sh->step[0] ? sh->step : "start");
    else
        printf("FAIL %s: case process ended with %s (at: %s)\n", c->name, describe_status(st),
               sh->step[0] ? sh->step : "start");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--child-exit")) {   /* for fork-exec */
        const char *tok = getenv("GLTEST_TOKEN");
        return tok && !strcmp(tok, "fork-exec") ? atoi(argv[2]) : 99;
    }
    if (argc == 3 && !strcmp(argv[1], "--qemu-exit")) {    /* isa-debug-exit */
        if (ioperm(0xf4, 4, 1)) { perror("gltest: ioperm"); return 1; }
        outb((unsigned char)atoi(argv[2]), 0xf4);
        return 1;   /* QEMU did not exit: no such device */
    }
    if (argc == 3 && !strcmp(argv[1], "--pattern")) {      /* the coreutils case's file */
        if (write_pattern(argv[2])) { perror("gltest: --pattern"); return 1; }
        return 0;
    }
    if (argc >= 3 && argc <= 5 && !strcmp(argv[1], "--fork-bomb")) {
        pg = sysconf(_SC_PAGESIZE);
        return fork_bomb(argv[2], argc >= 4 ? argv[3] : NULL, argc == 5 ? atol(argv[4]) : 0);
    }
    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (int i = 0; i < NCASES; i++)
            printf("%s%s\n", cases[i].name, cases[i].named_only ? " (only when named)" : "");
        return 0;
    }
    int want[NCASES] = {0}, any = 0;
    for (int a = 1; a < argc; a++) {
        int i;
        for (i = 0; i < NCASES && strcmp(argv[a], cases[i].name); i++) {}
        if (i == NCASES) {
            fprintf(stderr, "gltest: no case '%s' (gltest --list)\nusage: gltest [--list | CASE...]\n", argv[a]);
            return 2;
        }
        want[i] = any = 1;
    }

    pg = sysconf(_SC_PAGESIZE);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n > 0) self_path[n] = 0;
    else strcpy(self_path, "/bin/gltest");
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);   /* the crash tests must not write cores */
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) { perror("gltest: mmap"); return 1; }

    int passed = 0, failed = 0;
    double t0 = now();
    for (int i = 0; i < NCASES; i++) {
        if (any ? !want[i] : cases[i].named_only) continue;
        if (run_case(&cases[i])) passed++;
        else failed++;
    }
    printf("gltest: %d cases in %.1f s\n", passed + failed, now() - t0);
    printf("guest-linux: %d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return failed ? 1 : 0;
}
