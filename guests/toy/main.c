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

static int word_is(const char *p, const char *w, unsigned long n)
{
    return !strncmp(p, w, n) && (p[n] == ' ' || p[n] == 0 || w[n - 1] == '=');
}

static unsigned long number(const char *p)
{
    unsigned long v = 0;
    while (*p >= '0' && *p <= '9')
        v = v * 10 + (unsigned long)(*p++ - '0');
    return v;
}

static void parse(const char *c)
{
    for (const char *p = c; *p; ) {
        if (word_is(p, "halt", 4))
            opts.halt = 1;
        else if (word_is(p, "reboot-once", 11))
            opts.reboots = 1;
        else if (word_is(p, "reboots=", 8))
            opts.reboots = number(p + 8);
        else if (word_is(p, "badreq", 6))
            opts.badreq = 1;
        else if (word_is(p, "kfault", 6))
            opts.kfault = 1;
        else if (word_is(p, "echo", 4))
            opts.echo = 1;
        else if (word_is(p, "work=", 5))
            opts.work = number(p + 5);
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    if (opts.work > 1000)
        opts.work = 1000;
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
        power(UK_VDEV_POWER_REBOOT);
    }
    if (opts.halt || opts.reboots) {
        if (opts.echo && !*mem_echo_lines()) {
            kprintf("echo: waiting for a line of input before powering off\n");
            while (!*mem_echo_lines())
                idle_wait(~0ul);
        }
        kprintf("powering off\n");
        power(UK_VDEV_POWER_HALT);
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
        power(UK_VDEV_POWER_HALT);
    }
    vcpu = (struct uk_vcpu_state *)gi->vcpu_state;
    parse(gi->cmdline);
    mem_init();
    boot = mem_boot_count();
    kprintf("toy guest kernel %s: boot %u, %lu KiB free RAM, %lu KiB kernel memory, "
            "cmdline \"%s\"\n", gi->name, boot, gi->ram_size >> 10, gi->kmem_quota >> 10,
            gi->cmdline);
    check_clock();
    if (gi->initrd_size)
        show_initrd();
    if (opts.badreq)
        badreq_run();
    if (opts.kfault) {
        kprintf("kfault: touching 0x300000000000, which nobody mapped\n");
        *(volatile unsigned long *)0x300000000000ul = 1;
        kprintf("kfault: still running: WRONG\n");
    }
    long st = timer_set(TOY_TICK_NS, TOY_TICK_NS);
    if (st)
        kprintf("timer: status %ld\n", st);
    run_processes(gi->tsc_hz / 1000 * 30, opts.work);   /* 30 ms a round */
}
