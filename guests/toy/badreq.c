/*
 * `badreq`: device requests a buggy or hostile guest kernel might send, and
 * the error replies the vmm-server must give (docs/vmm-server.md "Robustness
 * rules").  Each check prints one line ending in "ok" or "WRONG"; the vmm
 * test suite reads them from the serial log.
 */
#include "toy.h"

#define FLOOD 10000

static int passed, total;

static void expect(const char *what, long got, long want)
{
    total++;
    passed += got == want;
    kprintf("badreq: %s: status %ld: %s\n", what, got, got == want ? "ok" : "WRONG");
}

/* A request of n words, all zero but w0. */
static long req(uk_word_t op, uk_word_t n, uk_word_t w0, uk_word_t w1)
{
    uk_word_t w[UK_MSG_MAX_WORDS] = { w0, w1 };
    return vdev_call(op, n, w, 0);
}

/* 10000 one-byte writes as fast as we can: flow control must refuse some
 * (UK_VDEV_EAGAIN) and answer every one. */
static void flood(void)
{
    unsigned long ok = 0, again = 0, other = 0;
    uk_word_t w[2] = { 1, '.' };
    for (int i = 0; i < FLOOD; i++) {
        long st = vdev_call(UK_VDEV_CONSOLE_WRITE, 2, w, 0);
        if (st == 0)
            ok++;
        else if (st == UK_VDEV_EAGAIN)
            again++;
        else
            other++;
    }
    con_write("\n", 1);
    total++;
    int good = again > 0 && other == 0 && ok + again == FLOOD;
    passed += good;
    kprintf("badreq: flood of %d writes: %lu taken, %lu refused with %ld (EAGAIN), %lu other: %s\n",
            FLOOD, ok, again, UK_VDEV_EAGAIN, other, good ? "ok" : "WRONG");
}

/* The kernel log and the kernel's counters are privileges a vmm-server
 * never passes on to a guest (only READ of the counters, and only for a
 * guest line with `stats`): a line forged to look like the root task's,
 * written through every slot of our table, must be refused each time and
 * must never reach COM1 (tests/vmm/check-log looks for its text). */
static void kernel_log(void)
{
    static const char forged[] = "root task: g2: vmm-server ended: guest halted, status 0 "
                                 "(FORGED by g4)\n";
    unsigned long puts_refused = 0, stats_refused = 0;
    for (uk_word_t slot = 0; slot < 256; slot++) {
        puts_refused += uk_debug_puts_at(slot, forged, sizeof forged - 1) != UK_OK;
        stats_refused += uk_debug_stats_at(slot) != UK_OK;
    }
    total++;
    passed += puts_refused == 256 && stats_refused == 256;
    kprintf("badreq: the kernel log through each of 256 slots: %lu refused; its counters: "
            "%lu refused: %s\n", puts_refused, stats_refused,
            puts_refused == 256 && stats_refused == 256 ? "ok" : "WRONG");
}

void badreq_run(void)
{
    kernel_log();
    expect("unknown operation 0x1ff", req(0x1ff, 1, 0, 0), UK_VDEV_EINVAL);
    expect("console write of UK_VDEV_BYTES_MAX + 1 bytes",
           req(UK_VDEV_CONSOLE_WRITE, UK_MSG_MAX_WORDS, UK_VDEV_BYTES_MAX + 1, 0), UK_VDEV_EINVAL);
    expect("console write of 2^63 bytes",
           req(UK_VDEV_CONSOLE_WRITE, 2, 1ul << 63, 0), UK_VDEV_EINVAL);
    expect("console write of 100 bytes in a 2-word message",
           req(UK_VDEV_CONSOLE_WRITE, 2, 100, 0), UK_VDEV_EFAULT);
    expect("console write with no words", req(UK_VDEV_CONSOLE_WRITE, 0, 0, 0), UK_VDEV_EINVAL);
    expect("timer set with one word", req(UK_VDEV_TIMER_SET, 1, 1000000, 0), UK_VDEV_EINVAL);
    expect("timer period of 10 ns", req(UK_VDEV_TIMER_SET, 2, 1000000, 10), UK_VDEV_EINVAL);
    expect("power with argument 7", req(UK_VDEV_POWER, 1, 7, 0), UK_VDEV_EINVAL);
    expect("power with no words", req(UK_VDEV_POWER, 0, 0, 0), UK_VDEV_EINVAL);
    expect("halt with status 256", req(UK_VDEV_POWER, 2, UK_VDEV_POWER_HALT, 256), UK_VDEV_EINVAL);
    flood();
    kprintf("badreq: %d of %d checks passed\n", passed, total);
}
