/* tcprr: TCP request/response, one byte each way (tools/bench/run-net,
 * docs/benchmarks.md "Network").  A static binary that runs on the host,
 * on native Linux and in a guest alike.
 *
 *   tcprr serve PORT [-s CLOCK -n N -w W -m]
 *       accept connections on PORT one after the other; on each, echo
 *       every byte back until the peer closes.  A connection whose first
 *       byte is 'q' ends the server (exit 0).
 *   tcprr call HOST PORT ROUNDS [-s CLOCK -n N -w W -m] [-r TRIES]
 *       connect (up to TRIES attempts, 1 s apart: the peer may not be up
 *       yet), then ROUNDS round trips: send one byte, wait for it back.
 *   tcprr quit HOST PORT   end a server
 *   tcprr snap CLOCK [-i IF]  print one snapshot of CLOCK (the format
 *                          below) and IF's bytes (eth0)
 *   tcprr mark start|stop  the insn-profile plugin's START or STOP marker
 *                          (a stream job's window: tools/bench/net-breakdown)
 *   tcprr cpu              the CPUID brand string (a guest's /proc/cpuinfo
 *                          says "UML")
 *
 * With -s, the side that has it snapshots the clock file CLOCK three times
 * on one connection: after W round trips (warm-up, 50), at once again, and
 * after N more (1000); it prints
 * as three lines, TCPRR-SNAP n=N at=a|b|c v=<copy>, where each copy is
 * /proc/ukvm's counters (ukvm_keys) as name=value joined by ',', or for
 * /proc/timer_list its "now" and the halted time (idle_sleeptime +
 * iowait_sleeptime), then rxb= and txb=, the bytes
 * the interface (-i, eth0) received and sent.  (c - b) - (b - a) is N round trips
 * less one snapshot: the host (run-net) divides by N.  -m puts the
 * insn-profile plugin's markers around the N round trips (b to c).  The snapshots and
 * the echo loop are in this one process, so nothing is forked or exec'd in
 * the window.  Both sides set TCP_NODELAY: each byte is one segment.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cpuid.h>

static const char *clock_file;      /* -s: the file to snapshot, or NULL */
static const char *nic = "eth0";    /* -i: the interface whose bytes a snapshot has */
static long n_rounds = 1000, warm = 50;
static int markers;                 /* -m: tools/bench/insn-profile's START/STOP */

/* The insn-profile plugin's markers (no-ops anywhere else): the window of
 * N round trips, between snapshots b and c (tools/bench/net-breakdown). */
static void marker_start(void)
{
    if (markers)
        __asm__ volatile("xchg %%bx, %%bx" ::: "memory");
}

static void marker_stop(void)
{
    if (markers)
        __asm__ volatile("xchg %%cx, %%cx" ::: "memory");
}

static void die(const char *what)
{
    fprintf(stderr, "tcprr: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The counters of /proc/ukvm kept, under short names: the guest's console
 * breaks lines of about 200 characters. */
static const char *const ukvm_keys[][2] = {
    { "tsc", "tsc" }, { "idle_tsc", "idle" }, { "kernel_entries", "ke" },
    { "as_switches", "as" }, { "tlb_flushes", "tlb" }, { "ipc_fastpath", "ipcf" },
    { "ipc_slowpath", "ipcs" }, { "timer_ticks", "tt" }, { "fpu_switches", "fpu" },
};

/* One snapshot of clock_file into out: "name=value,..." of the numeric
 * lines, or "now=..,halted=.." of /proc/timer_list. */
static void snapshot(char *out, size_t size)
{
    static char buf[1 << 16];
    int fd = open(clock_file, O_RDONLY);
    if (fd < 0)
        die(clock_file);
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    buf[len] = 0;
    size_t o = 0;
    out[0] = 0;
    unsigned long long now = 0, halted = 0;
    int timer_list = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64];
        unsigned long long v;
        if (sscanf(line, "now at %llu nsecs", &v) == 1) {
            now = v, timer_list = 1;
        } else if (sscanf(line, " .idle_sleeptime : %llu", &v) == 1 ||
                   sscanf(line, " .iowait_sleeptime : %llu", &v) == 1) {
            halted += v;
        } else if (!timer_list && sscanf(line, "%63s %llu", name, &v) == 2 && o < size - 100) {
            for (size_t k = 0; k < sizeof ukvm_keys / sizeof ukvm_keys[0]; k++)
                if (!strcmp(name, ukvm_keys[k][0]))
                    o += (size_t)snprintf(out + o, size - o, "%s%s=%llu", o ? "," : "",
                                          ukvm_keys[k][1], v);
        }
    }
    if (timer_list)
        o = (size_t)snprintf(out, size, "now=%llu,halted=%llu", now, halted);
    /* the interface's received and sent bytes (/proc/net/dev), headers
     * included: what the stream rows divide by */
    FILE *f = fopen("/proc/net/dev", "r");
    char l[512];
    while (f && fgets(l, sizeof l, f)) {
        char *c = strchr(l, ':'), *p = l;
        unsigned long long rx, tx, skip;
        while (*p == ' ')
            p++;
        if (!c || (size_t)(c - p) != strlen(nic) || strncmp(p, nic, strlen(nic)))
            continue;
        if (sscanf(c + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &rx, &skip, &skip, &skip,
                   &skip, &skip, &skip, &skip, &tx) == 9 && o < size - 60)
            snprintf(out + o, size - o, ",rxb=%llu,txb=%llu", rx, tx);
    }
    if (f)
        fclose(f);
}

static void one_round(int s, char c)
{
    if (write(s, &c, 1) != 1)
        die("write");
    ssize_t r = read(s, &c, 1);
    if (r != 1) {
        if (r == 0)
            errno = ECONNRESET;
        die("read");
    }
}

static void nodelay(int s)
{
    int one = 1;
    if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die("TCP_NODELAY");
}

static void print_snap(const char *a, const char *b, const char *c)
{
    printf("TCPRR-SNAP n=%ld at=a v=%s\nTCPRR-SNAP n=%ld at=b v=%s\nTCPRR-SNAP n=%ld at=c v=%s\n",
           n_rounds, a, n_rounds, b, n_rounds, c);
    fflush(stdout);
}

static int serve(int port)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (ls < 0)
        die("socket");
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0)
        die("bind");
    if (listen(ls, 4) < 0)
        die("listen");
    for (;;) {
        int s = accept(ls, NULL, NULL);
        if (s < 0)
            die("accept");
        nodelay(s);
        char c;
        long done = 0;
        static char sa[4096], sb[4096], sc[4096];
        for (;;) {
            if (read(s, &c, 1) != 1)
                break;
            if (done == 0 && c == 'q') {
                close(s);
                return 0;
            }
            if (write(s, &c, 1) != 1)
                break;
            done++;
            /* the window: snapshots when the W-th and (W+N)-th answers are out */
            if (clock_file && done == warm) {
                snapshot(sa, sizeof sa);
                snapshot(sb, sizeof sb);
                marker_start();
            } else if (clock_file && done == warm + n_rounds) {
                marker_stop();
                snapshot(sc, sizeof sc);
                print_snap(sa, sb, sc);
            }
        }
        close(s);
    }
}

static int dial(const char *host, int port, int tries)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "tcprr: %s: not an IPv4 address\n", host);
        exit(2);
    }
    for (int i = 1;; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0)
            die("socket");
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            nodelay(s);
            return s;
        }
        if (i >= tries)
            die("connect");
        close(s);
        sleep(1);
    }
}

int main(int argc, char **argv)
{
    int tries = 1;
    char *pos[4];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-s") && i + 1 < argc)
            clock_file = argv[++i];
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n_rounds = atol(argv[++i]);
        else if (!strcmp(argv[i], "-w") && i + 1 < argc)
            warm = atol(argv[++i]);
        else if (!strcmp(argv[i], "-m"))
            markers = 1;
        else if (!strcmp(argv[i], "-i") && i + 1 < argc)
            nic = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            tries = atoi(argv[++i]);
        else if (npos < 4)
            pos[npos++] = argv[i];
        else
            goto usage;
    }
    if (n_rounds < 1 || warm < 1 || tries < 1)
        goto usage;
    if (npos == 2 && !strcmp(pos[0], "serve"))
        return serve(atoi(pos[1]));
    if (npos == 2 && !strcmp(pos[0], "mark")) {
        markers = 1;
        if (!strcmp(pos[1], "start"))
            marker_start();
        else if (!strcmp(pos[1], "stop"))
            marker_stop();
        else
            goto usage;
        return 0;
    }
    if (npos == 1 && !strcmp(pos[0], "cpu")) {
        unsigned int r[12] = { 0 };
        for (unsigned int i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        printf("%.48s\n", (char *)r);
        return 0;
    }
    if (npos == 2 && !strcmp(pos[0], "snap")) {
        static char sa[4096];
        clock_file = pos[1];
        snapshot(sa, sizeof sa);
        printf("%s\n", sa);
        return 0;
    }
    if (npos == 3 && !strcmp(pos[0], "quit")) {
        int s = dial(pos[1], atoi(pos[2]), tries);
        if (write(s, "q", 1) != 1)
            die("write");
        close(s);
        return 0;
    }
    if (npos == 4 && !strcmp(pos[0], "call")) {
        long rounds = atol(pos[3]);
        int s = dial(pos[1], atoi(pos[2]), tries);
        static char sa[4096], sb[4096], sc[4096];
        for (long k = 1; k <= rounds; k++) {
            one_round(s, 'x');
            if (clock_file && k == warm) {
                snapshot(sa, sizeof sa);
                snapshot(sb, sizeof sb);
                marker_start();
            } else if (clock_file && k == warm + n_rounds) {
                marker_stop();
                snapshot(sc, sizeof sc);
                print_snap(sa, sb, sc);
            }
        }
        close(s);
        return 0;
    }
usage:
    fprintf(stderr, "usage: tcprr serve PORT [-s CLOCK -n N -w W -m] | "
                    "call HOST PORT ROUNDS [-s CLOCK -n N -w W -m] [-r TRIES] | quit HOST PORT [-r TRIES] | snap CLOCK [-i IF] | mark start|stop | cpu\n");
    return 2;
}
