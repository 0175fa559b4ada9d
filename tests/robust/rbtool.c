/*
 * rbtool: the guest-side helpers of the robust suite (tests/robust/run,
 * docs/testing.md "Trinity, soak and isolation"), one static binary in the
 * robust initramfs.  Times are the guest's CLOCK_MONOTONIC; under QEMU's
 * -icount shift=0 that is instructions run by the whole machine, so a run
 * repeats.  The TSC read by `tsc` is the machine's (the same in every
 * guest), so the host can line up two guests' windows.
 *
 *   rbtool as-user UID PROG ARGS...   drop every privilege to UID (gid UID,
 *                                     no supplementary groups), exec PROG
 *   rbtool tsc                        print "tsc N"
 *   rbtool heartbeat PERIOD_MS FILE   beat every PERIOD_MS until FILE exists,
 *                                     then print the gaps' summary:
 *       heartbeat: N beats, period P ms, longest gap G ms, missed 1: A, missed 2+ in a row: B
 *                                     (a gap of k periods misses k-1 beats)
 *   rbtool bomb SECONDS               fork until fork fails, every process then
 *                                     sleeps until SECONDS after the start and exits
 *   rbtool hog MIB SECONDS            touch MIB MiB over and over (a page a write),
 *                                     freeing and mapping it again, for SECONDS
 *   rbtool flood SECONDS              write 80-byte lines to stdout as fast as it
 *                                     can for SECONDS (the console: device requests)
 *   rbtool oomcopy N                  N times in turn, a child runs the guest out of
 *                                     memory in copies from user space only:
 *                                     access() of a path in a fresh page every
 *                                     2 MiB of a huge MAP_NORESERVE map.  The
 *                                     kernel's read of it maps the zero page, so
 *                                     all each copy allocates is a page table, and
 *                                     the out-of-memory fault comes when a page
 *                                     table cannot be had (arch/um's maybe_map:
 *                                     guest-patches/um-maybe-map-after-oom.patch);
 *                                     prints how each child ended
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec t = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
    while (nanosleep(&t, &t) && errno == EINTR) {}
}

static int as_user(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rbtool as-user UID PROG ARGS...\n");
        return 2;
    }
    uid_t uid = (uid_t)atoi(argv[2]);
    if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
        perror("rbtool: as-user");
        return 1;
    }
    if (getuid() != uid || geteuid() != uid || setuid(0) == 0) {
        fprintf(stderr, "rbtool: as-user: still privileged\n");
        return 1;
    }
    execv(argv[3], argv + 3);
    perror("rbtool: exec");
    return 1;
}

static int heartbeat(int period_ms, const char *stop)
{
    double period = period_ms / 1000.0, start = now(), last = start, longest = 0;
    long beats = 0, miss1 = 0, miss2 = 0;
    struct stat st;
    while (stat(stop, &st) != 0) {
        sleep_s(last + period - now());
        double t = now(), gap = t - last;
        last = t;
        beats++;
        if (gap > longest)
            longest = gap;
        /* a beat due every period: a gap over 2 periods missed one, over 3 two */
        if (gap > 3 * period)
            miss2++;
        else if (gap > 2 * period)
            miss1++;
    }
    printf("heartbeat: %ld beats, period %d ms, longest gap %.0f ms, missed 1: %ld, "
           "missed 2+ in a row: %ld, over %.1f s\n",
           beats, period_ms, longest * 1000, miss1, miss2, last - start);
    return miss2 ? 1 : 0;
}

static int bomb(double seconds)
{
    double end = now() + seconds;
    int *said = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (said == MAP_FAILED) {
        perror("rbtool: mmap");
        return 1;
    }
    pid_t top = getpid();
    /* the orphans of bomb processes that ended come to us, not to init */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    long n = 0;
    while (now() < end) {
        pid_t c = fork();
        if (c > 0)
            n++;
        if (c < 0) {
            if (__sync_bool_compare_and_swap(said, 0, errno)) {
                unsigned lo, hi;
                __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
                printf("rbtool: bomb: fork refused: %s, %ld processes forked by this one, "
                       "tsc %llu\n", strerror(errno), n, ((unsigned long long)hi << 32) | lo);
            }
            sleep_s(0.5);   /* then try again: a process that ended made room */
        }
    }
    if (getpid() != top)
        _exit(0);
    while (wait(NULL) > 0 || errno == EINTR) {}
    printf("rbtool: bomb over (%s)\n", *said ? "fork was refused" : "fork never refused");
    return 0;
}

static int hog(long mib, double seconds)
{
    double end = now() + seconds;
    size_t len = (size_t)mib << 20;
    long rounds = 0, failed = 0;
    while (now() < end) {
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            failed++;
            sleep_s(0.1);
            continue;
        }
        for (size_t o = 0; o < len; o += 4096)
            p[o] = (char)o;
        munmap(p, len);
        rounds++;
    }
    printf("rbtool: hog: %ld rounds of %ld MiB, %ld refused\n", rounds, mib, failed);
    return 0;
}

static int flood(double seconds)
{
    double end = now() + seconds;
    long n = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (now() < end)
        printf("flood %09ld ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789\n", n++);
    return 0;
}

static int oomcopy(int n)
{
    int killed = 0;
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c < 0) {
            perror("rbtool: fork");
            return 1;
        }
        if (c == 0) {
            size_t len = (size_t)256 << 30, step = (size_t)2 << 20;
            char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p == MAP_FAILED) {
                perror("rbtool: oomcopy");
                _exit(2);
            }
            /* the path is "" (the zero page): ENOENT; EFAULT when the copy
               failed (then our SIGKILL from the OOM killer ends us) */
            for (size_t o = 0; o < len; o += step)
                if (access(p + o, F_OK) == 0 || errno != ENOENT)
                    _exit(3);
            _exit(4);           /* 256 GiB / 2 MiB page tables fitted: no memory pressure */
        }
        int st;
        while (waitpid(c, &st, 0) < 0 && errno == EINTR) {}
        killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        printf("rbtool: oomcopy: child %d %s %d\n", i + 1,
               WIFSIGNALED(st) ? "killed by signal" : "exited with", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    }
    printf("rbtool: oomcopy: %d children, %d killed (SIGKILL: the OOM killer)\n", n, killed);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "as-user"))
        return as_user(argc, argv);
    if (argc == 2 && !strcmp(argv[1], "tsc")) {
        unsigned lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        printf("tsc %llu\n", ((unsigned long long)hi << 32) | lo);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "heartbeat"))
        return heartbeat(atoi(argv[2]), argv[3]);
    if (argc == 3 && !strcmp(argv[1], "bomb"))
        return bomb(atof(argv[2]));
    if (argc == 4 && !strcmp(argv[1], "hog"))
        return hog(atol(argv[2]), atof(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "flood"))
        return flood(atof(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "oomcopy"))
        return oomcopy(atoi(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "oomcopy"))
        return oomcopy(atoi(argv[2]));
    fprintf(stderr, "usage: rbtool as-user UID PROG ARGS... | tsc | heartbeat PERIOD_MS STOPFILE |"
                    " bomb S | hog MIB S | flood S | oomcopy N\n");
    return 2;
}
