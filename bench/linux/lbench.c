/*
 * lbench: Linux system-call and process benchmarks, one static binary run
 * from the initramfs (/init) on each kernel under comparison ("guest",
 * "native", "debian"; see tools/bench/run-linux).
 *
 * Method (docs/benchmarks.md): under QEMU TCG -icount shift=0
 * the TSC advances one tick per guest instruction, so a difference of two
 * rdtscp readings is an instruction count.  Each sample is one window
 *     t0 = rdtscp; <operation>; t1 = rdtscp
 * minus `overhead`, the median of the same window with no operation (the
 * residue is the few register moves that set up a raw syscall).  The
 * operations use raw `syscall` instructions, not libc wrappers, so the
 * figures are the kernel's cost plus a handful of user instructions.
 * WARMUP samples are discarded; median and minimum of the rest are printed:
 *     LBENCH {"name":"null_syscall","median":N,"min":N,"runs":N}
 *
 * What each window holds:
 *   null_syscall   getppid()
 *   read_devzero   read(/dev/zero, 1 byte)
 *   write_devnull  write(/dev/null, 1 byte)
 *   open_close     open(/tmp/lbench.file, O_RDONLY) + close()   (tmpfs)
 *   stat           stat(/tmp/lbench.file)
 *   stat_rodata    the same, the path in a static const array (.rodata)
 *   stat_stack     the same, the path in an array on lbench's stack: a
 *                  kernel should not care where the string lives
 *   fork_exit      fork(); the child exit_group(0)s at once; the parent
 *                  wait4()s for it: the whole create/run/exit/reap cycle
 *   fork_exec      as fork_exit, but the child execve()s /bin/lbench-nop
 *                  (a static binary whose _start just exits)
 *   pipe_rtt       1 byte parent -> child over one pipe and back over a
 *                  second: a whole round trip (2 writes, 2 reads, 2 switches)
 *   unix_rtt       as pipe_rtt over one AF_UNIX stream socketpair: 1 byte
 *                  parent -> child and back (2 writes, 2 reads, 2 switches)
 *   tcp_rtt        the same over a TCP connection on 127.0.0.1 (TCP_NODELAY
 *                  on both ends; lbench brings the loopback device up)
 *   ctx_switch     one switch between two processes: both SCHED_FIFO at the
 *                  same priority on the one CPU, each loops on sched_yield();
 *                  window = from before the parent's sched_yield to the
 *                  child's first instruction after its own sched_yield
 *                  returns (one syscall entry + schedule + switch + exit)
 *   pagefault_anon first write to a fresh page of a private anonymous map
 *   pagefault_file first read of a 1-page MAP_SHARED map of a page-cache
 *                  (tmpfs) page; one page per map, so no fault-around, and
 *                  the page-table page already there (see bench_fault_file)
 *   mmap_1m        mmap(1 MiB anonymous, not touched) + munmap
 *   sig_install    rt_sigaction(SIGUSR1, handler)
 *   sig_deliver    kill(getpid(), SIGUSR1): the syscall, the signal frame,
 *                  the (empty) handler and rt_sigreturn
 * How cost grows with the work (fewer samples the bigger: scale_runs()):
 *   fork_exit_touch_1m/16m/64m   fork_exit with 1, 16, 64 MiB of the
 *                  parent's anonymous memory written before
 *   mmap_touch_64k/256k/1m/4m/16m/64m   mmap(S anonymous) + a write to
 *                  each page + munmap
 *
 * Counting caveat: icount counts each iteration of a rep-prefixed string
 * instruction (lbench prints "rep stosb of 4096 bytes = 4100"), so a kernel
 * path that clears or copies a page (clear_page_erms: pagefault_anon, fork's
 * page tables) carries ~4096 "instructions" per page for it.
 *
 * Microkernel events (the guest, tools/bench/run-linux): with -e FILE, lbench
 * reads FILE -- cumulative counters of the microkernel under the guest, as
 * lines "kernel_entries N", "as_switches N", "tlb_flushes N", "timer_ticks N"
 * (the fields of struct uk_stats, libipc/include/uk/abi.h; "entries" is
 * accepted for kernel_entries; "key N", "key: N" and "key=N" all parse) --
 * with pread() just before and just after each sample's window, and appends
 * to the LBENCH line the median per operation of each count, less the
 * events of an empty window (the reads themselves) and less timer ticks
 * (each tick is an entry that is not the operation's):
 *     LBENCH {...} events=entries:2,as_switches:2,tlb_flushes:0
 * (ctx_switch: the parent's window spans both switches, so half of it).
 * Which file the guest kernel provides is the guest port's choice; the
 * format is docs/benchmarks.md's.  Without -e nothing is appended, and the
 * windows' code is the same as it was without the option; with it, lbench
 * also makes the two reads per sample (outside the window) and keeps
 * 24 bytes per sample more.  (Memory matters: every fork copies the page
 * tables, and a 2.4 MiB bigger bss cost each fork_exit 17,700 instructions.)
 *
 *   lbench [-n RUNS] [-o NAME,NAME...] [-e FILE]
 *                        run everything, or only the benchmarks named
 *                        (default RUNS 1000, fork_* RUNS/4)
 *   lbench exit CODE     write CODE to QEMU's isa-debug-exit port (0xf4)
 *   lbench tsc           print "LBENCH-CLOCK tsc N", the TSC now
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WARMUP   50
#define MAXRUNS  100000
#define FILE_PATH "/tmp/lbench.file"
#define FILE_SIZE (1 << 20)
#define PAGE 4096   /* a Linux program: not built with libipc, so not UK_PAGE_SIZE */
#define HUGE (2ul << 20)

static int runs = 1000;
static int warmup = WARMUP;         /* samples dropped first; fewer for the scaling rows */
static int64_t samples[MAXRUNS + WARMUP];
static int64_t overhead;

/* every benchmark, in the order they run (-o names a subset) */
static const char *const NAMES[] = {
    "null_syscall", "read_devzero", "write_devnull", "open_close", "stat", "stat_rodata",
    "stat_stack",
    "fork_exit", "fork_exec", "pipe_rtt", "unix_rtt", "tcp_rtt", "ctx_switch", "pagefault_anon",
    "pagefault_file", "mmap_1m", "sig_install", "sig_deliver",
    /* how cost grows with the work (docs/benchmarks.md "Scaling"): last, so
     * that the memory they touch cannot change the rows above */
    "fork_exit_touch_1m", "fork_exit_touch_16m", "fork_exit_touch_64m",
    "mmap_touch_64k", "mmap_touch_256k", "mmap_touch_1m", "mmap_touch_4m", "mmap_touch_16m",
    "mmap_touch_64m",
};
#define NNAMES (int)(sizeof NAMES / sizeof NAMES[0])
static const char *only;            /* -o: comma-separated names; NULL: all */

/* -e FILE: microkernel event counters, per sample (see the top comment) */
enum { EV_ENTRIES, EV_AS, EV_TLB, EV_TICKS, NEV };
#define NREP 3                      /* the ones reported: entries, AS, TLB */
static const char *const EV_KEYS[NEV] = { "kernel_entries", "as_switches", "tlb_flushes",
                                          "timer_ticks" };
static const char *const EV_OUT[NREP] = { "entries", "as_switches", "tlb_flushes" };
static int ev_fd = -1;
static int64_t ev_a[NEV];
static int64_t *ev_samples[NREP];   /* [runs + WARMUP] each, only with -e: a bigger
                                       bss would cost every fork more (page tables) */
static int64_t ev_overhead[NREP];
static int ev_div = 1;              /* ctx_switch: 2 */

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi) :: "rcx", "memory");
    return (uint64_t)hi << 32 | lo;
}

/* raw system calls */
static inline long sc0(long n)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
    return r;
}
static inline long sc3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
static inline long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
#define sc1(n, a)       sc3(n, a, 0, 0)
#define sc2(n, a, b)    sc3(n, a, b, 0)
#define sc4(n, a, b, c, d) sc6(n, a, b, c, d, 0, 0)

static void die(const char *what)
{
    printf("lbench: %s failed: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* sort the n samples after the warm-up ones; return the median */
static int64_t median(int64_t *v, int n)
{
    qsort(v + warmup, n, sizeof *v, cmp64);
    return v[warmup + n / 2];
}

static int want(const char *name)
{
    if (!only)
        return 1;
    size_t n = strlen(name);
    for (const char *p = only;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !memcmp(p, name, n))
            return 1;
        if (!e)
            return 0;
        p = e + 1;
    }
}

/* -o: every name must be one of NAMES (a typo must not pass as "not run") */
static void check_only(void)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", only);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int ok = 0;
        for (int i = 0; i < NNAMES; i++)
            ok |= !strcmp(t, NAMES[i]);
        if (!ok) {
            printf("lbench: -o: no benchmark \"%s\"\n", t);
            exit(2);
        }
    }
}

/* the counters, from the start of FILE (pread: one system call) */
static void ev_read(int64_t c[NEV])
{
    char buf[1024], *save;
    ssize_t n = pread(ev_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) die("read of the events file");
    buf[n] = 0;
    int seen = 0;
    for (int k = 0; k < NEV; k++)
        c[k] = 0;
    for (char *key = strtok_r(buf, " \t\n:=", &save); key; key = strtok_r(NULL, " \t\n:=", &save)) {
        char *val = strtok_r(NULL, " \t\n:=", &save);
        if (!val)
            break;
        for (int k = 0; k < NEV; k++)
            if (!strcmp(key, EV_KEYS[k]) || (k == EV_ENTRIES && !strcmp(key, "entries"))) {
                c[k] = strtoll(val, NULL, 0);
                seen |= 1 << k;
            }
    }
    if (!(seen & 1 << EV_ENTRIES)) {
        printf("lbench: the events file has no kernel_entries line\n");
        exit(1);
    }
}
static inline void ev_begin(void)
{
    if (ev_fd >= 0)
        ev_read(ev_a);
}
static inline void ev_end(int i)
{
    if (ev_fd < 0)
        return;
    int64_t b[NEV];
    ev_read(b);
    ev_samples[0][i] = (b[EV_ENTRIES] - ev_a[EV_ENTRIES]) - (b[EV_TICKS] - ev_a[EV_TICKS]);
    ev_samples[1][i] = b[EV_AS] - ev_a[EV_AS];
    ev_samples[2][i] = b[EV_TLB] - ev_a[EV_TLB];
}

static void report(const char *name, int n)
{
    for (int i = 0; i < n + warmup; i++)
        samples[i] -= overhead;
    int64_t med = median(samples, n);
    printf("LBENCH {\"name\":\"%s\",\"median\":%lld,\"min\":%lld,\"runs\":%d}",
           name, (long long)med, (long long)samples[warmup], n);
    if (ev_fd >= 0) {
        printf(" events=");
        for (int k = 0; k < NREP; k++) {
            for (int i = 0; i < n + warmup; i++)
                ev_samples[k][i] -= ev_overhead[k];
            printf("%s%s:%.10g", k ? "," : "", EV_OUT[k], (double)median(ev_samples[k], n) / ev_div);
        }
    }
    printf("\n");
    fflush(stdout);
}

/* TIMED(n, op): n + WARMUP samples of the window around op (and, with -e,
 * of the event counters just outside it); TIMED_PRE runs pre (which may
 * use i_) before each window.  Two loops, so that without -e the code
 * around the window is what it always was: a call in the loop would make
 * the compiler reload op's arguments inside the window. */
#define TIMED_PRE(n, pre, op) do { \
        if (ev_fd < 0) { \
            for (int i_ = 0; i_ < (n) + WARMUP; i_++) { \
                pre; \
                uint64_t t0_ = tsc(); \
                op; \
                samples[i_] = (int64_t)(tsc() - t0_); \
            } \
        } else { \
            for (int i_ = 0; i_ < (n) + WARMUP; i_++) { \
                pre; \
                ev_begin(); \
                uint64_t t0_ = tsc(); \
                op; \
                samples[i_] = (int64_t)(tsc() - t0_); \
                ev_end(i_); \
            } \
        } \
    } while (0)
#define TIMED(n, op) TIMED_PRE(n, {}, op)

static void measure_overhead(void)
{
    overhead = 0;
    TIMED(runs, (void)0);
    overhead = median(samples, runs);
    printf("lbench: window overhead %lld instructions (subtracted)\n", (long long)overhead);
    if (ev_fd >= 0) {
        for (int k = 0; k < NREP; k++)
            ev_overhead[k] = median(ev_samples[k], runs);
        printf("lbench: events of an empty window: entries %lld, as_switches %lld, "
               "tlb_flushes %lld (subtracted)\n", (long long)ev_overhead[0],
               (long long)ev_overhead[1], (long long)ev_overhead[2]);
    }
}

/* "LBENCH-CPU <brand>": the CPUID brand string, the same under every kernel
 * (a /proc/cpuinfo "model name" is not: User-Mode Linux prints "UML") */
static void print_cpu(void)
{
    uint32_t r[12];
    for (uint32_t leaf = 0; leaf < 3; leaf++)
        __asm__ volatile("cpuid" : "=a"(r[4 * leaf]), "=b"(r[4 * leaf + 1]), "=c"(r[4 * leaf + 2]),
                         "=d"(r[4 * leaf + 3]) : "a"(0x80000002u + leaf), "c"(0));
    char brand[49];
    memcpy(brand, r, 48);
    brand[48] = 0;
    char *b = brand;
    while (*b == ' ')
        b++;
    for (char *e = b + strlen(b); e > b && e[-1] == ' '; )
        *--e = 0;
    printf("LBENCH-CPU %s\n", *b ? b : "unknown");
}

static void wait_child(long pid)
{
    int status;
    if (sc4(SYS_wait4, pid, (long)&status, 0, 0) != pid || status != 0) {
        printf("lbench: child %ld: wait4 status %#x\n", pid, status);
        exit(1);
    }
}

static void bench_fork(int n, int exec)
{
    static char nop[] = "/bin/lbench-nop";
    static char *argv[] = { nop, NULL }, *envp[] = { NULL };
    for (int i = 0; i < n + WARMUP; i++) {
        ev_begin();
        uint64_t t0 = tsc();
        long pid = sc0(SYS_fork);
        if (pid == 0) {
            if (exec)
                sc3(SYS_execve, (long)nop, (long)argv, (long)envp);
            sc1(SYS_exit_group, exec ? 127 : 0);
        }
        if (pid < 0) { errno = -pid; die("fork"); }
        wait_child(pid);
        samples[i] = (int64_t)(tsc() - t0);
        ev_end(i);
    }
    report(exec ? "fork_exec" : "fork_exit", n);
}

static void bench_pipe(int n)
{
    int p1[2], p2[2];
    char c = 'x';
    if (pipe(p1) || pipe(p2)) die("pipe");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {             /* echo each byte back until EOF */
        close(p1[1]); close(p2[0]);
        while (sc3(SYS_read, p1[0], (long)&c, 1) == 1)
            sc3(SYS_write, p2[1], (long)&c, 1);
        sc1(SYS_exit_group, 0);
    }
    close(p1[0]); close(p2[1]);
    TIMED(n, (sc3(SYS_write, p1[1], (long)&c, 1), sc3(SYS_read, p2[0], (long)&c, 1)));
    close(p1[1]); close(p2[0]);
    wait_child(pid);
    report("pipe_rtt", n);
}

/* 1-byte round trips over a connected stream socket pair: the child (fd
 * child_fd) echoes each byte until EOF; the window is the parent's write and
 * read on parent_fd.  Both fds are the caller's; they are closed here. */
static void sock_rtt(int n, int parent_fd, int child_fd, const char *name)
{
    char c = 'x';
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(parent_fd);
        while (sc3(SYS_read, child_fd, (long)&c, 1) == 1)
            sc3(SYS_write, child_fd, (long)&c, 1);
        sc1(SYS_exit_group, 0);
    }
    close(child_fd);
    TIMED(n, (sc3(SYS_write, parent_fd, (long)&c, 1), sc3(SYS_read, parent_fd, (long)&c, 1)));
    close(parent_fd);
    wait_child(pid);
    report(name, n);
}

static void bench_unix(int n)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) die("socketpair(AF_UNIX)");
    sock_rtt(n, sv[0], sv[1], "unix_rtt");
}

/* the loopback device up (the initramfs' /init may not have done it) */
static void loopback_up(void)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die("socket(AF_INET)");
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr)) die("SIOCGIFFLAGS lo");
    if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr)) die("SIOCSIFFLAGS lo up");
    }
    close(s);
}

static void bench_tcp(int n)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int one = 1;
    loopback_up();
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, alen) || listen(ls, 1) ||
        getsockname(ls, (struct sockaddr *)&a, &alen))
        die("TCP listen on 127.0.0.1");
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, alen)) die("TCP connect to 127.0.0.1");
    int s = accept(ls, NULL, NULL);
    if (s < 0) die("accept");
    close(ls);
    if (setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ||
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one))
        die("TCP_NODELAY");
    sock_rtt(n, c, s, "tcp_rtt");
}

struct shared {
    volatile int iter, stop;
    volatile uint64_t child_woke[MAXRUNS + WARMUP];
};

static void bench_ctx(int n)
{
    struct sched_param sp = { .sched_priority = 1 }, sp0 = { 0 };
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) die("mmap shared");
    if (sched_setscheduler(0, SCHED_FIFO, &sp)) die("sched_setscheduler FIFO");
    sh->iter = -1;
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {             /* stamp each return from sched_yield */
        for (;;) {
            sc0(SYS_sched_yield);
            uint64_t t = tsc();
            if (sh->stop) sc1(SYS_exit_group, 0);
            if (sh->iter >= 0) sh->child_woke[sh->iter] = t;
        }
    }
    sc0(SYS_sched_yield);       /* let the child reach its loop */
    for (int i = 0; i < n + WARMUP; i++) {
        sh->iter = i;
        ev_begin();
        uint64_t t0 = tsc();
        sc0(SYS_sched_yield);   /* returns after the child's yield */
        samples[i] = (int64_t)t0;
        ev_end(i);              /* both switches: reported halved */
    }
    sh->stop = 1;
    sc0(SYS_sched_yield);
    wait_child(pid);
    if (sched_setscheduler(0, SCHED_OTHER, &sp0)) die("sched_setscheduler OTHER");
    for (int i = 0; i < n + WARMUP; i++)
        samples[i] = (int64_t)sh->child_woke[i] - samples[i];
    munmap(sh, sizeof *sh);
    ev_div = 2;
    report("ctx_switch", n);
    ev_div = 1;
}

static void bench_fault_anon(int n)
{
    char *p = mmap(NULL, (size_t)(n + WARMUP) * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("mmap anon");
    /* the page's address is computed before the window (the empty asm pins
     * it there), so the window holds the store alone, however the compiler
     * lays the loop out */
    char *q;
    TIMED_PRE(n, { q = p + (size_t)i_ * PAGE; __asm__ volatile("" : "+r"(q)); },
              *(volatile char *)q = 1);
    munmap(p, (size_t)(n + WARMUP) * PAGE);
    report("pagefault_anon", n);
}

static void bench_fault_file(int n, int fd)
{
    /* Each sample maps one file page at a fixed slot of a 2 MiB-aligned
     * PROT_NONE reservation whose first page stays mapped and touched: the
     * page-table page survives each munmap, so a sample is the fault alone
     * (not also a page-table allocation). */
    char *res = mmap(NULL, 2 * HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED) die("mmap reservation");
    char *a = (char *)(((uintptr_t)res + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
    if (mmap(a, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != a)
        die("mmap anchor");
    *(volatile char *)a = 1;
    for (int i = 0; i < n + WARMUP; i++) {
        char *slot = a + (size_t)(1 + i % 255) * PAGE;
        char *q = mmap(slot, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, (off_t)(i % (FILE_SIZE / PAGE)) * PAGE);
        if (q != slot) die("mmap file");
        ev_begin();
        uint64_t t0 = tsc();
        (void)*(volatile char *)q;
        samples[i] = (int64_t)(tsc() - t0);
        ev_end(i);
        munmap(q, PAGE);
    }
    munmap(res, 2 * HUGE);
    report("pagefault_file", n);
}

/* signals: the kernel's struct sigaction and our own sa_restorer */
struct ksigaction { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; };
#define SA_RESTORER_ 0x04000000
void lbench_restorer(void);
__asm__(".text\n.globl lbench_restorer\nlbench_restorer:\n\tmov $15, %eax\n\tsyscall\n\thlt\n");
static volatile int signals;
static void on_signal(int sig) { (void)sig; signals++; }

static void bench_signals(int n)
{
    struct ksigaction sa = { on_signal, SA_RESTORER_, lbench_restorer, 0 };
    if (want("sig_install")) {
        TIMED(n, sc4(SYS_rt_sigaction, SIGUSR1, (long)&sa, 0, 8));
        report("sig_install", n);
    } else if (sc4(SYS_rt_sigaction, SIGUSR1, (long)&sa, 0, 8)) {
        die("rt_sigaction");
    }
    if (!want("sig_deliver"))
        return;
    long self = sc0(SYS_getpid);
    signals = 0;
    TIMED(n, sc2(SYS_kill, self, SIGUSR1));
    if (signals != n + WARMUP) { printf("lbench: %d signals, expected %d\n", signals, n + WARMUP); exit(1); }
    report("sig_deliver", n);
}

/* --- how cost grows with the work (the *_touch_* rows) ---------------------
 * Each size runs fewer samples the more pages it touches, so that every
 * size does about the same work in all: n = runs * SCALE_PAGES / pages,
 * within [SCALE_MIN, runs], after n / 4 (1 to WARMUP) warm-up samples.
 * Under tcg-icount the counts repeat exactly, so a few samples suffice. */
#define SCALE_PAGES 16
#define SCALE_MIN   5
static int scale_runs(size_t pages, int limit)
{
    long n = (long)limit * SCALE_PAGES / (long)pages;
    return n < SCALE_MIN ? SCALE_MIN : n > limit ? limit : (int)n;
}
static int scale_warmup(int n)      /* n / 4, within [1, WARMUP]: the arrays' room */
{
    return n / 4 < 1 ? 1 : n / 4 > WARMUP ? WARMUP : n / 4;
}

/* fork_exit_touch_<M>: fork_exit with M MiB of the parent's private
 * anonymous memory written (so present, copy-on-write after the fork):
 * what a fork costs against what the parent has mapped. */
static void bench_fork_touch(const char *name, size_t bytes, int limit)
{
    char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) die("mmap for fork_exit_touch");
    for (size_t o = 0; o < bytes; o += PAGE)
        m[o] = 1;
    int n = scale_runs(bytes / PAGE, limit);
    warmup = scale_warmup(n);
    for (int i = 0; i < n + warmup; i++) {
        ev_begin();
        uint64_t t0 = tsc();
        long pid = sc0(SYS_fork);
        if (pid == 0)
            sc1(SYS_exit_group, 0);
        if (pid < 0) { errno = -pid; die("fork"); }
        wait_child(pid);
        samples[i] = (int64_t)(tsc() - t0);
        ev_end(i);
    }
    munmap(m, bytes);
    report(name, n);
    warmup = WARMUP;
}

/* mmap_touch_<S>: mmap S bytes anonymous, write one byte of every page,
 * munmap: page faults, page clearing and the unmap, against the size. */
static void bench_mmap_touch(const char *name, size_t bytes)
{
    int n = scale_runs(bytes / PAGE, runs);
    warmup = scale_warmup(n);
    for (int i = 0; i < n + warmup; i++) {
        ev_begin();
        uint64_t t0 = tsc();
        long p = sc6(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
        if (p < 0 && p > -4096) { errno = -p; die("mmap for mmap_touch"); }
        for (size_t o = 0; o < bytes; o += PAGE)
            ((volatile char *)p)[o] = 1;
        sc2(SYS_munmap, p, (long)bytes);
        samples[i] = (int64_t)(tsc() - t0);
        ev_end(i);
    }
    report(name, n);
    warmup = WARMUP;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "tsc")) {     /* the boot's clock (bench/linux/init) */
        printf("LBENCH-CLOCK tsc %llu\n", (unsigned long long)tsc());
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "exit")) {    /* QEMU isa-debug-exit */
        if (ioperm(0xf4, 4, 1)) die("ioperm");
        outb((unsigned char)atoi(argv[2]), 0xf4);
        return 1;
    }
    const char *events = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "-n"))
            runs = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "-o"))
            only = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "-e"))
            events = argv[++i];
        else {
            printf("usage: lbench [-n RUNS] [-o NAME,NAME...] [-e EVENTS-FILE] | lbench exit CODE\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAXRUNS) { printf("lbench: bad run count\n"); return 1; }
    if (only)
        check_only();
    print_cpu();
    if (events) {
        if ((ev_fd = open(events, O_RDONLY)) < 0) die("open of the events file");
        for (int k = 0; k < NREP; k++)
            if (!(ev_samples[k] = calloc((size_t)(runs + WARMUP), sizeof(int64_t))))
                die("calloc");
        int64_t c[NEV];
        ev_read(c);
        printf("lbench: microkernel events from %s (now: kernel_entries %lld, as_switches %lld, "
               "tlb_flushes %lld, timer_ticks %lld)\n", events, (long long)c[EV_ENTRIES],
               (long long)c[EV_AS], (long long)c[EV_TLB], (long long)c[EV_TICKS]);
    }
    int nfork = runs / 4 > 0 ? runs / 4 : 1;
    char buf[PAGE];
    memset(buf, 'f', sizeof buf);

    /* the file for open_close, stat and pagefault_file (page cache, tmpfs) */
    int fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("create " FILE_PATH);
    for (int i = 0; i < FILE_SIZE / PAGE; i++)
        if (write(fd, buf, PAGE) != PAGE) die("write " FILE_PATH);
    int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
    if (zero < 0 || null < 0) die("open /dev/zero, /dev/null");

    measure_overhead();
    {   /* context for the figures: how many "instructions" one rep stosb of
         * a page counts as (the kernel clears pages with rep stosb/stosq) */
        uint64_t t0 = tsc();
        void *d = buf; unsigned long c = PAGE;
        __asm__ volatile("rep stosb" : "+D"(d), "+c"(c) : "a"(0) : "memory");
        printf("lbench: rep stosb of %d bytes = %lld instructions\n", PAGE,
               (long long)((int64_t)(tsc() - t0) - overhead));
    }
    if (want("null_syscall")) {
        TIMED(runs, sc0(SYS_getppid));
        report("null_syscall", runs);
    }
    if (want("read_devzero")) {
        TIMED(runs, sc3(SYS_read, zero, (long)buf, 1));
        report("read_devzero", runs);
    }
    if (want("write_devnull")) {
        TIMED(runs, sc3(SYS_write, null, (long)buf, 1));
        report("write_devnull", runs);
    }
    if (want("open_close")) {
        TIMED(runs, sc1(SYS_close, sc3(SYS_open, (long)FILE_PATH, O_RDONLY, 0)));
        report("open_close", runs);
    }
    if (want("stat")) {
        struct stat st;
        TIMED(runs, sc2(SYS_stat, (long)FILE_PATH, (long)&st));
        report("stat", runs);
    }
    if (want("stat_rodata")) {
        static const char path[] = FILE_PATH;
        struct stat st;
        TIMED(runs, sc2(SYS_stat, (long)path, (long)&st));
        report("stat_rodata", runs);
    }
    if (want("stat_stack")) {
        volatile char path[sizeof FILE_PATH];   /* volatile: really on the stack */
        struct stat st;
        for (size_t i = 0; i < sizeof path; i++)
            path[i] = FILE_PATH[i];
        TIMED(runs, sc2(SYS_stat, (long)path, (long)&st));
        report("stat_stack", runs);
    }
    if (want("fork_exit"))
        bench_fork(nfork, 0);
    if (want("fork_exec"))
        bench_fork(nfork, 1);
    if (want("pipe_rtt"))
        bench_pipe(runs);
    if (want("unix_rtt"))
        bench_unix(runs);
    if (want("tcp_rtt"))
        bench_tcp(runs);
    if (want("ctx_switch"))
        bench_ctx(runs);
    if (want("pagefault_anon"))
        bench_fault_anon(runs);
    if (want("pagefault_file"))
        bench_fault_file(runs, fd);
    if (want("mmap_1m")) {
        TIMED(runs, { long p = sc6(SYS_mmap, 0, 1 << 20, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                      sc2(SYS_munmap, p, 1 << 20); });
        report("mmap_1m", runs);
    }
    if (want("sig_install") || want("sig_deliver"))
        bench_signals(runs);
    static const struct { const char *name; size_t mib; } forks[] = {
        { "fork_exit_touch_1m", 1 }, { "fork_exit_touch_16m", 16 }, { "fork_exit_touch_64m", 64 } };
    for (size_t i = 0; i < sizeof forks / sizeof forks[0]; i++)
        if (want(forks[i].name))
            bench_fork_touch(forks[i].name, forks[i].mib << 20, nfork);
    static const struct { const char *name; size_t kib; } maps[] = {
        { "mmap_touch_64k", 64 }, { "mmap_touch_256k", 256 }, { "mmap_touch_1m", 1024 },
        { "mmap_touch_4m", 4096 }, { "mmap_touch_16m", 16384 }, { "mmap_touch_64m", 65536 } };
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        if (want(maps[i].name))
            bench_mmap_touch(maps[i].name, maps[i].kib << 10);
    printf("LBENCH-DONE\n");
    return 0;
}
