/*
 * sysbreak: the guest program of tools/bench/syscall-breakdown.  It runs N
 * getppid() system calls between the two markers of the insn-profile QEMU
 * plugin (tools/bench/insn-profile/plugin.c), which counts every instruction the
 * machine executes in between -- the process, the microkernel, the guest
 * kernel -- per address; the script then sorts them by symbol.
 *
 *   sysbreak [N]      N calls (default: $sysbreak_calls, else 1000)
 *
 * The call is getppid(), or with $sysbreak_op (the kernel command line's
 * sysbreak_op=): stat_rodata, stat() of /bin/sysbreak with the path in
 * .rodata; stat_stack, the same path copied into a stack array (lbench's
 * rows of those names); fork_exit_touch_16m, fork() with 16 MiB of
 * anonymous memory written before the window, the child exits at once,
 * the parent waits (lbench's row: where a fork's cost per page goes).
 *
 * Run as the initramfs's init (rdinit=/bin/sysbreak; the kernel hands
 * sysbreak_calls=N from its command line over as the environment variable);
 * as PID 1 it powers the guest off when done.  It prints one line:
 *   SYSBREAK {"calls":N,"tsc":T[,"events":{"kernel_entries":E,...}]}
 * T: the TSC ticks from just before START to just after STOP, which under
 * QEMU's -icount shift=0 are the instructions the plugin should count (a
 * check of the plugin).  events: the microkernel's counters (/proc/ukvm, if
 * this guest kernel has it) over the same span, less what reading them
 * costs.
 * Linked at 0x10000000 (Makefile) so its addresses are not those of the
 * microkernel's user programs (below it: LINK_BASE_*): the plugin counts by
 * address, whatever the address space.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The plugin's markers, as bytes: the plugin recognises exactly these. */
#define MARK_START() __asm__ volatile(".byte 0x66, 0x87, 0xdb" ::: "memory")  /* xchg %bx,%bx */
#define MARK_STOP()  __asm__ volatile(".byte 0x66, 0x87, 0xc9" ::: "memory")  /* xchg %cx,%cx */

#define WARMUP 200      /* calls before the window: first-touch faults, caches */

static const char *const counters[] = { "kernel_entries", "as_switches", "tlb_flushes",
                                        "timer_ticks", "ipc_fastpath", "ipc_slowpath",
                                        "fpu_switches" };
#define NCOUNTERS (sizeof counters / sizeof counters[0])

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi) :: "rcx", "memory");
    return (uint64_t)hi << 32 | lo;
}

/* The microkernel's counters from /proc/ukvm ("name value" lines); 0 if
 * the guest kernel has no such file. */
static int read_counters(int64_t *v)
{
    char buf[1024], name[64];
    long long x;
    FILE *f = fopen("/proc/ukvm", "r");
    if (!f)
        return 0;
    memset(v, 0, NCOUNTERS * sizeof *v);
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "%63s %lld", name, &x) == 2)
            for (size_t i = 0; i < NCOUNTERS; i++)
                if (!strcmp(name, counters[i]))
                    v[i] = x;
    fclose(f);
    return 1;
}

static const char rodata_path[] = "/bin/sysbreak";

static long fork_exit(void)
{
    long pid = syscall(SYS_fork);
    if (pid == 0)
        syscall(SYS_exit_group, 0);
    if (pid < 0 || syscall(SYS_wait4, pid, NULL, 0, NULL) != pid)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *arg = argc > 1 ? argv[1] : getenv("sysbreak_calls");
    const char *op_name = getenv("sysbreak_op");
    int op = !op_name || !strcmp(op_name, "getppid") ? 0
           : !strcmp(op_name, "stat_rodata") ? 1 : !strcmp(op_name, "stat_stack") ? 2
           : !strcmp(op_name, "fork_exit_touch_16m") ? 3 : -1;
    char stack_path[sizeof rodata_path];
    struct stat st;
    memcpy(stack_path, rodata_path, sizeof stack_path);
    const char *path = op == 2 ? stack_path : rodata_path;
    if (op < 0) {
        fprintf(stderr, "sysbreak: unknown sysbreak_op '%s'\n", op_name);
        return 2;
    }
    long n = arg ? strtol(arg, NULL, 10) : 1000;
    if (n <= 0) {
        fprintf(stderr, "sysbreak: bad call count '%s'\n", arg);
        return 2;
    }
    mount("proc", "/proc", "proc", 0, NULL);   /* as init; fails harmlessly otherwise */

    if (op == 3) {          /* the parent's 16 MiB, written: present pages */
        size_t len = 16ul << 20;
        char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            fprintf(stderr, "sysbreak: mmap failed\n");
            return 1;
        }
        for (size_t o = 0; o < len; o += 4096)
            m[o] = 1;
    }
#define CALL() (op == 3 ? fork_exit() : op ? syscall(SYS_stat, path, &st) : syscall(SYS_getppid))
    for (int i = 0; i < (op == 3 ? 2 : WARMUP); i++)
        if (CALL() < 0)
            fprintf(stderr, "sysbreak: %s failed\n", op == 3 ? "fork" : op ? "stat" : "getppid");
    /* two reads back to back: what one read adds to the counters (after a
     * first one, whose page faults and allocations the others do not have) */
    int64_t e0[NCOUNTERS], e1[NCOUNTERS], e2[NCOUNTERS];
    int events = read_counters(e0) && read_counters(e0) && read_counters(e1);

    uint64_t t0 = tsc();
    MARK_START();
    for (long i = 0; i < n; i++)
        CALL();
    MARK_STOP();
    uint64_t t1 = tsc();

    events = events && read_counters(e2);
    printf("SYSBREAK {\"calls\":%ld,\"tsc\":%llu", n, (unsigned long long)(t1 - t0));
    if (events) {
        printf(",\"events\":{");
        for (size_t i = 0; i < NCOUNTERS; i++)
            printf("%s\"%s\":%lld", i ? "," : "", counters[i],
                   (long long)((e2[i] - e1[i]) - (e1[i] - e0[i])));
        printf("}");
    }
    printf("}\n");
    fflush(stdout);

    if (getpid() == 1) {
        sync();
        reboot(RB_POWER_OFF);   /* init must not return: that would panic */
    }
    return 0;
}
