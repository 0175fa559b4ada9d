/*
 * sbreak: the storage benchmark's I/O between the insn-profile plugin's
 * markers (tools/bench/storage-breakdown; docs/benchmarks.md), so that
 * every instruction of fio's three kinds of request can be put under a
 * symbol: the process's, the guest kernel's, the microkernel's, a
 * server's.  fio itself cannot carry markers, and its job windows hold a
 * fork and exec at each end, so this does what fio's psync engine does --
 * pwrite/pread with O_DIRECT, one request at a time -- in a plain loop:
 *
 *   window 1: 64 sequential 1 MiB writes over FILE (written once before)
 *   window 2: 64 sequential 1 MiB reads
 *   window 3: N 4 KiB reads at random 4 KiB offsets (a fixed LCG)
 *
 *   sbreak FILE [N]        (N = 1024)
 *
 * Markers (no-ops; tools/bench/insn-profile/plugin.c): START xchg %bx,%bx,
 * STOP xchg %cx,%cx.  Before START and after STOP it copies /proc/ukvm
 * (the TSC and the microkernel's halted ticks) so the host can check the
 * plugin's count against the busy time.  Prints one line,
 *   SBREAK {"ios": [64, 64, N], "busy": [b1, b2, b3]}
 * and exits 0 if every request moved all its bytes.
 * Built static, linked at 0x10000000 (above the microkernel's programs:
 * the plugin counts by address).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB (1024L * 1024)
#define FILE_MIB 64

static void start(void) { __asm__ volatile("xchg %%bx, %%bx" ::: "memory"); }
static void stop(void) { __asm__ volatile("xchg %%cx, %%cx" ::: "memory"); }

/* busy ticks so far: tsc - idle_tsc of /proc/ukvm (0 if it cannot be read) */
static long long busy_now(void)
{
    char buf[2048], *p;
    long long tsc = -1, idle = -1;
    int fd = open("/proc/ukvm", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (!strncmp(p, "tsc ", 4))
            tsc = atoll(p + 4);
        else if (!strncmp(p, "idle_tsc ", 9))
            idle = atoll(p + 9);
    }
    return tsc < 0 || idle < 0 ? 0 : tsc - idle;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: sbreak FILE [N]\n");
        return 2;
    }
    long nrand = argc == 3 ? atol(argv[2]) : 1024;
    int fd = open(argv[1], O_RDWR | O_CREAT | O_DIRECT, 0644);
    char *buf;
    if (fd < 0 || nrand < 1 || posix_memalign((void **)&buf, 4096, MiB)) {
        perror("sbreak");
        return 1;
    }
    memset(buf, 0x5a, MiB);
    int bad = 0;
    for (int i = 0; i < FILE_MIB; i++)          /* the file, written in full */
        bad |= pwrite(fd, buf, MiB, i * MiB) != MiB;
    bad |= fsync(fd) != 0;
    bad |= pread(fd, buf, MiB, 0) != MiB;       /* each path warm once */
    bad |= pread(fd, buf, 4096, 0) != 4096;

    long long busy[3];
    long long b0 = busy_now();
    start();
    for (int i = 0; i < FILE_MIB; i++)
        bad |= pwrite(fd, buf, MiB, i * MiB) != MiB;
    stop();
    busy[0] = busy_now() - b0;

    b0 = busy_now();
    start();
    for (int i = 0; i < FILE_MIB; i++)
        bad |= pread(fd, buf, MiB, i * MiB) != MiB;
    stop();
    busy[1] = busy_now() - b0;

    unsigned long x = 12;
    b0 = busy_now();
    start();
    for (long i = 0; i < nrand; i++) {
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        off_t off = (off_t)((x >> 33) % (FILE_MIB * MiB / 4096)) * 4096;
        bad |= pread(fd, buf, 4096, off) != 4096;
    }
    stop();
    busy[2] = busy_now() - b0;
    close(fd);

    printf("SBREAK {\"ios\": [%d, %d, %ld], \"busy\": [%lld, %lld, %lld], \"ok\": %s}\n",
           FILE_MIB, FILE_MIB, nrand, busy[0], busy[1], busy[2], bad ? "false" : "true");
    return bad;
}
