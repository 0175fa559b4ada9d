/*
 * lwork: the workload of the Linux guests in make experiments
 * (tools/experiments/linux, docs/liability.md "Linux guests").  One static
 * binary in the experiment initramfs; /init's mode `experiment` runs
 *
 *   lwork NAME PEER [work=N] [slots=N] [panic=MS] [bomb=MS:SPAN_MS | bombmax=MS:SPAN_MS]
 *
 * as root, which starts four things:
 *
 *  - a TCP server on port LWORK_PORT: every connection gets a child that
 *    answers each MSG-byte request with a MSG-byte answer naming the
 *    request's number and a checksum of it;
 *  - the TCP client: ONE connection to PEER's server, kept for the whole
 *    run: a request, its answer checked, TCP_PACE_MS of sleep, the next.
 *    A connection that ends (reset, closed, a wrong answer) is counted and
 *    opened again.  Every TCP_LINE answers a line
 *      lwork: g1 tcp A t=T sent=Q conn=C resets=X maxrtt=R
 *    (A answers so far, Q requests, C connections opened, X ended, R the
 *    longest round trip since the last line);
 *  - the agent (only with panic= or bomb=): the faults the harness
 *    schedules in this guest, at MS ms of the machine's time (the TSC since
 *    the microkernel's first instruction, /proc/ukvm; the root task's
 *    "experiment: t=" clock).  panic: `c` into /proc/sysrq-trigger (the
 *    kernel's own panic("sysrq triggered crash"), which halts the guest
 *    with the panic status); bomb: a process that drops to uid/gid 1000
 *    (no supplementary groups) and forks until fork is refused, every
 *    process then waiting until SPAN_MS after the start and exiting;
 *    bombmax: the same with the per-user process limit lifted first (by
 *    root, before dropping to uid 1000).
 *    A time already past when the agent starts (after a reboot) is skipped;
 *  - the rounds, in this process: each round
 *      1. a CPU chunk (work= iterations of xorshift, a few instructions each);
 *      2. the disk (/dev/vda, O_DIRECT, BLOCK-byte blocks in `slots` slots
 *         from block 1 on): block seq goes to slot seq % slots; first the
 *         slot is read, it must hold seq - slots (written and acknowledged a
 *         cycle ago), and the slot of seq - 1 must still hold seq - 1; then
 *         seq is written, fdatasync'd (acknowledged) and read back.  A
 *         missing or wrong block that was acknowledged is a lost write;
 *         a failed call (EIO...) a disk error, and seq is written again;
 *      3. one line on the console:
 *   lwork: g1 round R t=T disk=ok|err|lost seq=S lost=L derr=E
 *         (T: the machine's TSC since the microkernel's first instruction,
 *         taken after the round's work; S the next block, L lost writes and
 *         E disk errors so far).
 *
 * At start the disk is scanned: the newest valid block is the last write
 * that may have been acknowledged before a reboot; every older block of
 * its cycle must be there ("lwork: g1 disk scan: ... missing M"), and the
 * rounds go on from the next number.  Under QEMU's -icount shift=0 the TSC
 * counts instructions, so the lines' times repeat from run to run.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LWORK_PORT   7000
#define MSG          64            /* bytes of a request and of an answer */
#define BLOCK        4096          /* a disk block (O_DIRECT: the device's alignment) */
#define MAGIC        0x4c574f524bULL  /* "LWORK" */
#define TCP_PACE_MS  10            /* between an answer and the next request */
#define TCP_RETRY_MS 100           /* between two connection attempts */
#define TCP_LINE     5             /* a line every TCP_LINE answers */
#define TSC_PER_MS   1000000ULL    /* tcg-icount shift=0: 1 tick per ns of virtual time */

static char name[16];
static uint64_t boot_tsc;

static uint64_t rdtsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t now(void) { return rdtsc() - boot_tsc; }

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(buf, sizeof buf, "lwork: %s ", name);
    vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    va_end(ap);
    size_t len = strlen(buf);
    if (len < sizeof buf - 1)
        buf[len++] = '\n';
    /* one write a line: the line reaches the console whole */
    if (write(1, buf, len) < 0) {}
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) && errno == EINTR) {}
}

static uint64_t read_boot_tsc(void)
{
    FILE *f = fopen("/proc/ukvm", "r");
    char k[64];
    unsigned long long v;
    uint64_t b = 0;
    if (!f)
        return 0;
    while (fscanf(f, "%63s %llu", k, &v) == 2)
        if (!strcmp(k, "boot_tsc"))
            b = v;
    fclose(f);
    return b;
}

static uint32_t fnv(const void *p, size_t n)
{
    const unsigned char *c = p;
    uint32_t h = 2166136261u;
    while (n--)
        h = (h ^ *c++) * 16777619u;
    return h;
}

/* --- the TCP server ------------------------------------------------------- */

static int read_full(int fd, char *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const char *b, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t r = write(fd, b + put, n - put);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        put += (size_t)r;
    }
    return 0;
}

static void serve_one(int c)
{
    char req[MSG], ans[MSG];
    unsigned long seq;
    while (!read_full(c, req, MSG)) {
        memset(ans, 0, MSG);
        if (sscanf(req, "REQ %lu", &seq) != 1)
            seq = ~0UL;
        snprintf(ans, MSG, "ANS %lu %08x %s", seq, fnv(req, MSG), name);
        if (write_full(c, ans, MSG))
            break;
    }
    _exit(0);
}

static void server(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(LWORK_PORT) };
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 8)) {
        say("server: cannot listen on port %d: %s", LWORK_PORT, strerror(errno));
        _exit(1);
    }
    signal(SIGCHLD, SIG_IGN);            /* no zombies */
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        int c = accept(s, (struct sockaddr *)&from, &fl);
        if (c < 0)
            continue;
        say("server: connection from %s t=%llu", inet_ntoa(from.sin_addr),
            (unsigned long long)now());
        if (fork() == 0) {
            close(s);
            serve_one(c);
        }
        close(c);
    }
}

/* --- the agent: faults at scheduled times ---------------------------------- */

static void wait_until_ms(uint64_t ms)
{
    while (now() < ms * TSC_PER_MS)
        sleep_ms(1);
}

/* nolimit: RLIMIT_NPROC lifted first (bombmax=) */
static void bomb(uint64_t span_ms, int nolimit)
{
    uint64_t end = now() + span_ms * TSC_PER_MS;
    int *said = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    long *count = (long *)(said + 2);
    /* no per-user process limit (Linux's default is half of threads-max):
     * what stops the bomb is then the guest's memory and the kernel memory
     * the microkernel gives it, not an rlimit */
    struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
    if (said == MAP_FAILED || (nolimit && setrlimit(RLIMIT_NPROC, &unlimited)) ||
        setgroups(0, NULL) || setgid(1000) || setuid(1000)) {
        say("bomb: cannot drop to uid 1000: %s", strerror(errno));
        _exit(1);
    }
    pid_t top = getpid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);    /* the orphans come to us, not to init */
    say("bomb: start as uid %d, %s t=%llu", (int)getuid(),
        nolimit ? "no process limit" : "the default process limit", (unsigned long long)now());
    while (now() < end) {
        pid_t c = fork();
        if (c > 0)
            __sync_fetch_and_add(count, 1);
        if (c < 0) {
            if (__sync_bool_compare_and_swap(said, 0, errno))
                say("bomb: fork refused (%s) after %ld processes t=%llu", strerror(errno),
                    *count, (unsigned long long)now());
            sleep_ms(50);
        }
    }
    if (getpid() != top)
        _exit(0);
    while (wait(NULL) > 0 || errno == EINTR) {}
    say("bomb: over, %ld processes forked, fork %s t=%llu", *count,
        *said ? "was refused" : "never refused", (unsigned long long)now());
    _exit(0);
}

/* the agent's faults (panic=, bomb=, bombmax=), in the order given */
#define MAX_FAULTS 8
static struct fault { uint64_t at, span; int panic, nolimit; } faults[MAX_FAULTS];
static int nfaults;

static void agent(void)
{
    for (int i = 0; i < nfaults; i++) {  /* the earliest first */
        int k = i;
        for (int j = i + 1; j < nfaults; j++)
            if (faults[j].at < faults[k].at)
                k = j;
        struct fault f = faults[k];
        faults[k] = faults[i];
        faults[i] = f;
        const char *what = f.panic ? "panic" : "bomb";
        if (now() > f.at * TSC_PER_MS) {   /* we rebooted since */
            say("agent: %s at %llu ms already past: skipped", what, (unsigned long long)f.at);
            continue;
        }
        wait_until_ms(f.at);
        if (f.panic) {
            say("agent: panic: c into /proc/sysrq-trigger t=%llu", (unsigned long long)now());
            int fd = open("/proc/sysrq-trigger", O_WRONLY);
            if (fd < 0 || write(fd, "c", 1) != 1)
                say("agent: panic: /proc/sysrq-trigger: %s", strerror(errno));
            sleep_ms(1000);
            say("agent: panic: the kernel went on (no panic)");
            continue;
        }
        pid_t b = fork();
        if (b == 0)
            bomb(f.span, f.nolimit);
        if (b < 0)
            say("agent: bomb: fork: %s", strerror(errno));
        else
            waitpid(b, NULL, 0);
    }
    _exit(0);
}

/* --- the disk -------------------------------------------------------------- */

struct blockhead {                 /* the start of every block we write */
    uint64_t magic, seq;
    char name[16];
    uint32_t sum;                  /* fnv of the block with sum = 0 */
};

static unsigned char *blk;         /* BLOCK bytes, aligned for O_DIRECT */
static int disk = -1;
static unsigned slots = 16;

static void fill(unsigned char *b, uint64_t seq)
{
    struct blockhead h = { MAGIC, seq, {0}, 0 };
    memcpy(h.name, name, sizeof h.name);
    uint64_t x = seq * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = 0; i < BLOCK; i += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memcpy(b + i, &x, 8);
    }
    memcpy(b, &h, sizeof h);
    h.sum = fnv(b, BLOCK);
    memcpy(b, &h, sizeof h);
}

/* the seq a block holds, or -1 (none, damaged, or another guest's) */
static int64_t block_seq(const unsigned char *b)
{
    struct blockhead h;
    memcpy(&h, b, sizeof h);
    if (h.magic != MAGIC || strncmp(h.name, name, sizeof h.name))
        return -1;
    uint32_t sum = h.sum;
    unsigned char *c = malloc(BLOCK);
    memcpy(c, b, BLOCK);
    ((struct blockhead *)c)->sum = 0;
    int ok = fnv(c, BLOCK) == sum;
    free(c);
    return ok ? (int64_t)h.seq : -1;
}

static off_t slot_off(uint64_t seq) { return (off_t)(1 + seq % slots) * BLOCK; }

/* 0, or -errno of a failed read */
static int read_slot(uint64_t seq, int64_t *held)
{
    ssize_t r = pread(disk, blk, BLOCK, slot_off(seq));
    if (r != BLOCK)
        return r < 0 ? -errno : -EIO;
    *held = block_seq(blk);
    return 0;
}

/* the newest block on the disk; older blocks of its cycle missing: *missing */
static int64_t scan(long *valid, long *missing)
{
    int64_t top = -1;
    int64_t *held = calloc(slots, sizeof *held);
    *valid = *missing = 0;
    for (unsigned i = 0; i < slots; i++) {
        held[i] = -1;
        if (pread(disk, blk, BLOCK, (off_t)(1 + i) * BLOCK) == BLOCK)
            held[i] = block_seq(blk);
        if (held[i] >= 0 && (uint64_t)held[i] % slots == i) {
            (*valid)++;
            if (held[i] > top)
                top = held[i];
        }
    }
    /* every seq of the cycle before top was acknowledged before top was written */
    for (int64_t s = top - 1; top >= 0 && s >= 0 && s > top - (int64_t)slots; s--)
        if (held[s % slots] != s)
            (*missing)++;
    free(held);
    return top;
}

/* --- the TCP client: one connection to the peer's server ------------------ */

static struct sockaddr_in peer;

static void tcp_client(void)
{
    long opened = 0, ended = 0, sent = 0, answered = 0;
    uint64_t maxrtt = 0;
    int c = -1;
    for (;;) {
        if (c < 0) {
            c = socket(AF_INET, SOCK_STREAM, 0);
            int one = 1;
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (c < 0 || connect(c, (struct sockaddr *)&peer, sizeof peer)) {
                if (c >= 0)
                    close(c);
                c = -1;
                sleep_ms(TCP_RETRY_MS);  /* the peer is not up (yet) */
                continue;
            }
            opened++;
            say("tcp: connected to %s (connection %ld) t=%llu", inet_ntoa(peer.sin_addr),
                opened, (unsigned long long)now());
        }
        char req[MSG] = {0}, ans[MSG];
        snprintf(req, MSG, "REQ %ld %s", sent + 1, name);
        uint64_t t0 = now();
        const char *why = 0;
        unsigned long seq;
        if (write_full(c, req, MSG))
            why = strerror(errno);
        else if (sent++, read_full(c, ans, MSG))
            why = errno ? strerror(errno) : "closed by the peer";
        else if (sscanf(ans, "ANS %lu", &seq) != 1 || seq != (unsigned long)sent ||
                 strtoul(ans + 4 + strcspn(ans + 4, " ") + 1, 0, 16) != fnv(req, MSG))
            why = "a wrong answer";
        if (why) {
            ended++;
            say("tcp: connection %ld to %s ended (%s) t=%llu", opened,
                inet_ntoa(peer.sin_addr), why, (unsigned long long)now());
            close(c);
            c = -1;
            errno = 0;
            continue;
        }
        answered++;
        if (now() - t0 > maxrtt)
            maxrtt = now() - t0;
        if (answered % TCP_LINE == 0) {
            say("tcp %ld t=%llu sent=%ld conn=%ld resets=%ld maxrtt=%llu", answered,
                (unsigned long long)now(), sent, opened, ended, (unsigned long long)maxrtt);
            maxrtt = 0;
        }
        sleep_ms(TCP_PACE_MS);
    }
}

/* --- the rounds ------------------------------------------------------------ */

int main(int argc, char **argv)
{
    uint64_t work = 2000000;
    if (argc < 3) {
        fprintf(stderr, "usage: lwork NAME PEER [work=N] [slots=N] [panic=MS] "
                        "[bomb=MS:SPAN_MS | bombmax=MS:SPAN_MS]\n");
        return 2;
    }
    snprintf(name, sizeof name, "%s", argv[1]);
    peer = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(LWORK_PORT) };
    if (inet_pton(AF_INET, argv[2], &peer.sin_addr) != 1) {
        fprintf(stderr, "lwork: %s: not an IPv4 address\n", argv[2]);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        unsigned long long a, b;
        if (sscanf(argv[i], "work=%llu", &a) == 1 && a > 0)
            work = a;
        else if (sscanf(argv[i], "slots=%llu", &a) == 1 && a >= 2 && a <= 1024)
            slots = (unsigned)a;
        else if (nfaults < MAX_FAULTS && sscanf(argv[i], "panic=%llu", &a) == 1 && a > 0)
            faults[nfaults++] = (struct fault){ a, 0, 1, 0 };
        else if (nfaults < MAX_FAULTS &&
                 sscanf(argv[i], "bomb=%llu:%llu", &a, &b) == 2 && a > 0 && b > 0)
            faults[nfaults++] = (struct fault){ a, b, 0, 0 };
        else if (nfaults < MAX_FAULTS &&
                 sscanf(argv[i], "bombmax=%llu:%llu", &a, &b) == 2 && a > 0 && b > 0)
            faults[nfaults++] = (struct fault){ a, b, 0, 1 };
        else {
            fprintf(stderr, "lwork: unknown or bad word '%s'\n", argv[i]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    boot_tsc = read_boot_tsc();
    if (!boot_tsc) {
        say("no boot_tsc in /proc/ukvm");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (fork() == 0)
        server();
    if (nfaults && fork() == 0)
        agent();
    if (fork() == 0)
        tcp_client();

    disk = open("/dev/vda", O_RDWR | O_DIRECT);
    if (disk < 0 || posix_memalign((void **)&blk, BLOCK, BLOCK)) {
        say("cannot open /dev/vda: %s", strerror(errno));
        return 1;
    }
    long valid, missing;
    int64_t top = scan(&valid, &missing);
    say("disk scan: %ld valid blocks, newest seq %lld, missing %ld acknowledged t=%llu", valid,
        (long long)top, missing, (unsigned long long)now());
    uint64_t seq = (uint64_t)(top + 1);
    long lost = missing, derr = 0;
    int64_t last_acked = top;
    uint64_t x = 88172645463325252ULL ^ fnv(name, strlen(name));
    for (unsigned long round = 1;; round++) {
        /* 1. the CPU */
        for (uint64_t i = 0; i < work; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        }
        __asm__ volatile("" :: "r"(x));
        /* 2. the disk */
        const char *dstat = "ok";
        int64_t held;
        int e = read_slot(seq, &held);
        if (!e && seq >= slots && last_acked >= (int64_t)(seq - slots) &&
            held != (int64_t)(seq - slots)) {
            lost++;
            dstat = "lost";
            say("disk: slot of seq %llu holds %lld, not the acknowledged %llu t=%llu",
                (unsigned long long)seq, (long long)held, (unsigned long long)(seq - slots),
                (unsigned long long)now());
        }
        if (!e && seq >= 1 && last_acked == (int64_t)seq - 1) {
            e = read_slot(seq - 1, &held);
            if (!e && held != (int64_t)seq - 1) {
                lost++;
                dstat = "lost";
                say("disk: the last acknowledged block %llu is gone (slot holds %lld) t=%llu",
                    (unsigned long long)(seq - 1), (long long)held, (unsigned long long)now());
            }
        }
        if (!e) {
            fill(blk, seq);
            if (pwrite(disk, blk, BLOCK, slot_off(seq)) != BLOCK)
                e = errno ? -errno : -EIO;
            else if (fdatasync(disk))
                e = -errno;
        }
        if (!e) {
            last_acked = (int64_t)seq;   /* the device said it has it */
            e = read_slot(seq, &held);
            if (!e && held != (int64_t)seq) {
                lost++;
                dstat = "lost";
                say("disk: block %llu read back as %lld t=%llu", (unsigned long long)seq,
                    (long long)held, (unsigned long long)now());
            }
            seq++;
        }
        if (e) {
            derr++;
            dstat = "err";
            say("disk: seq %llu: %s t=%llu", (unsigned long long)seq, strerror(-e),
                (unsigned long long)now());
        }
        /* 3. the console */
        say("round %lu t=%llu disk=%s seq=%llu lost=%ld derr=%ld", round,
            (unsigned long long)now(), dstat, (unsigned long long)seq, lost, derr);
    }
}
