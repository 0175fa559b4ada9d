/*
 * The toy guest kernel's start (toy.h).  libipc's _start calls main with
 * rdi = our struct uk_guest_info (the pointer type in rt.h is only a
 * convention); our main thread is the vCPU, configured by the vmm-server.
 */
#include "toy.h"

const struct uk_guest_info *gi;
struct uk_vcpu_state *vcpu;
struct toy_opts opts = { .work = 3 };
static unsigned boot;            /* 1 on a cold boot, 2 after the first reboot, ... */

static char bad_word[128];      /* what parse() found wrong (empty: nothing) */

/* The word at p (n characters) as a string, cut at 63 (kprintf has no %.*s). */
static const char *word_str(const char *p, unsigned long n, char buf[64])
{
    n = n < 63 ? n : 63;
    memcpy(buf, p, n);
    buf[n] = 0;
    return buf;
}

/* Is the word at p (n characters) w, or, for w ending in '=', w followed by a value? */
static int word_is(const char *p, unsigned long n, const char *w)
{
    unsigned long k = strlen(w);
    return w[k - 1] == '=' ? n > k - 1 && !strncmp(p, w, k) : n == k && !strncmp(p, w, k);
}

/* The decimal value of `name=N` (the word at p, n characters): 0..max, or
 * -1 with bad_word set. */
static long value(const char *p, unsigned long n, unsigned long max)
{
    unsigned long eq = 0, v = 0;
    while (p[eq] != '=')
        eq++;
    int ok = n - eq - 1 >= 1 && n - eq - 1 <= 9;
    for (unsigned long i = eq + 1; ok && i < n; i++) {
        ok = p[i] >= '0' && p[i] <= '9';
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (ok && v <= max)
        return (long)v;
    char w[64];
    if (!bad_word[0])
        snprintf(bad_word, sizeof bad_word, "%s: want a number 0..%lu", word_str(p, n, w), max);
    return -1;
}

static void parse(const char *c)
{
    long v;
    char w[64];
    for (const char *p = c;; ) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        unsigned long n = 0;
        while (p[n] && p[n] != ' ')
            n++;
        if (word_is(p, n, "halt"))
            opts.halt = 1;
        else if (word_is(p, n, "halt=")) {
            opts.halt = 1;
            opts.status = (v = value(p, n, UK_VDEV_POWER_STATUS_MAX)) < 0 ? 0 : (unsigned long)v;
        } else if (word_is(p, n, "reboot-once"))
            opts.reboots = 1;
        else if (word_is(p, n, "reboots="))
            opts.reboots = (v = value(p, n, 1000)) < 0 ? 0 : (unsigned long)v;
        else if (word_is(p, n, "badreq"))
            opts.badreq = 1;
        else if (word_is(p, n, "disk"))
            opts.disk = 1;
        else if (word_is(p, n, "vdisk"))
            opts.vdisk = 1;
        else if (word_is(p, n, "vnet"))
            opts.vnet = 1;
        else if (word_is(p, n, "kfault"))
            opts.kfault = 1;
        else if (word_is(p, n, "echo"))
            opts.echo = 1;
        else if (word_is(p, n, "panic-at="))
            opts.panic_at = (v = value(p, n, 100000000)) < 0 ? 0 : (unsigned long)v;
        else if (word_is(p, n, "exhaust-at="))
            opts.exhaust_at = (v = value(p, n, 100000000)) < 0 ? 0 : (unsigned long)v;
        else if (word_is(p, n, "progress"))
            opts.progress = 1;
        else if (word_is(p, n, "diskio"))
            opts.diskio = 1;
        else if (word_is(p, n, "nopower"))
            opts.nopower = 1;
        else if (word_is(p, n, "work="))
            opts.work = (v = value(p, n, 1000)) < 0 ? 0 : (unsigned long)v;
        else                             /* say so: a typo would otherwise do nothing */
            kprintf("cmdline: unknown word \"%s\" ignored\n", word_str(p, n, w));
        p += n;
    }
}

/* The TSC at the microkernel's first instruction (uk_guest_info.boot_tsc):
 * under tcg-icount the difference counts instructions since it started. */
static void show_boot_mark(void)
{
    uk_word_t now = uk_rdtsc(), mark = gi->boot_tsc;
    kprintf("instructions since microkernel start: %lu (TSC %lu at its first instruction, "
            "%lu now): %s\n", now - mark, mark, now, mark > 0 && mark < now ? "ok" : "WRONG");
}

/* The wall clock from the vmm-server; checked against 2020-01-01. */
static void check_clock(void)
{
    uk_word_t out[4] = { 0 };
    long st = vdev_call(UK_VDEV_CLOCK_GET, 0, 0, out);
    uk_word_t secs = out[1] / 1000000000ul;
    kprintf("clock: status %ld, %lu s since 1970 at TSC %lu, %lu Hz: %s\n", st, secs, out[2],
            out[3], st == 0 && secs > 1577836800ul && out[3] == gi->tsc_hz ? "ok" : "WRONG");
    st = vdev_call(UK_VDEV_CONSOLE_READ, 1, (uk_word_t[]){ 16 }, out);
    kprintf("console read: status %ld, %lu bytes\n", st, out[1]);
    if (st == 0 && out[1] && opts.echo)  /* typed before we were up: not lost */
        echo_bytes((const unsigned char *)&out[2], out[1] < 16 ? out[1] : 16);
    echo_poll(out[1] >= 16);
}

static void show_initrd(void)
{
    const char *p = (const char *)gi->initrd_base;
    char first[81];
    unsigned long n = 0;
    while (n < gi->initrd_size && n < 80 && p[n] != '\n') {
        first[n] = p[n];
        n++;
    }
    first[n] = 0;
    kprintf("initrd: %lu bytes at 0x%lx, first line \"%s\"\n", gi->initrd_size, gi->initrd_base,
            first);
}

/* After the last process has ended (on the entry stack: nothing returns). */
void processes_done(void)
{
    timer_set(0, 0);
    kprintf("all processes done: %lu timer ticks, %lu preemptions, %lu system calls, "
            "%lu page faults, %lu idle waits\n", stats.ticks, stats.preempts, stats.syscalls,
            stats.faults, stats.idle_waits);
    if (boot <= opts.reboots) {
        kprintf("rebooting\n");
        power(UK_VDEV_POWER_REBOOT, 0);
    }
    if (opts.halt || opts.reboots) {
        if (opts.echo && !*mem_echo_lines()) {
            kprintf("echo: waiting for a line of input before powering off\n");
            while (!*mem_echo_lines())
                idle_wait(~0ul);
        }
        kprintf("powering off (status %lu)\n", opts.status);
        power(UK_VDEV_POWER_HALT, opts.status);
    }
    kprintf("idle\n");
    for (;;)
        idle_wait(~0ul);
}

int main(const struct uk_bootinfo *arg)
{
    gi = (const struct uk_guest_info *)arg;
    if (gi->magic != UK_GUEST_INFO_MAGIC) {
        kprintf("toy: bad guest info at %p; powering off\n", (const void *)gi);
        power(UK_VDEV_POWER_HALT, TOY_STATUS_FAILED);
    }
    vcpu = (struct uk_vcpu_state *)gi->vcpu_state;
    entry_init();
    mem_init();
    boot = mem_boot_count();
    kprintf("toy guest kernel %s: boot %u, %lu KiB free RAM, %lu KiB kernel memory, "
            "cmdline \"%s\"\n", gi->name, boot, gi->ram_size >> 10, gi->kmem_quota >> 10,
            gi->cmdline);
    parse(gi->cmdline);
    if (bad_word[0]) {
        kprintf("cmdline: %s; powering off (status %d)\n", bad_word, TOY_STATUS_USAGE);
        power(UK_VDEV_POWER_HALT, TOY_STATUS_USAGE);
    }
    show_boot_mark();
    check_clock();
    if (gi->initrd_size)
        show_initrd();
    if (opts.badreq)
        badreq_run();
    if (opts.disk)
        disk_run();
    if (opts.vdisk)
        vdisk_run();
    if (opts.vnet)
        vnet_run();
    if (opts.kfault)
        kfault_run();
    long st = timer_set(TOY_TICK_NS, TOY_TICK_NS);
    if (st)
        kprintf("timer: status %ld\n", st);
    run_processes(gi->tsc_hz / 1000 * 30, opts.work);   /* 30 ms a round */
}
