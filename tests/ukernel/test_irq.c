/*
 * Devices at user level: a driver task for the CMOS RTC (ports 0x70-0x71,
 * IRQ 8) gets interrupts as notifications; IRQ and I/O-port caps cover
 * exactly what they name.  And the timer: a thread that never blocks is
 * preempted, threads of equal priority take turns.
 *
 * Never touch port 0xf4 here: a write there ends QEMU.
 */
#include "ktest.h"

#define SELF UK_SLOT_SELF_TASK
#define MS(n) uk_timeout_us((n) * 1000ul)

#define RTC_INDEX 0x70
#define RTC_DATA  0x71
#define RTC_NMI_OFF 0x80
#define RTC_A 0x0a
#define RTC_B 0x0b
#define RTC_C 0x0c
#define RTC_D 0x0d
#define RTC_B_PIE 0x40
#define RTC_C_PF  0x40
#define RTC_IRQ 8

/* What CAP_INFO says of an IOPORT cap (abi.h) */
#define IO_RANGE(first, count) ((uk_word_t)(first) | ((uk_word_t)(count) << 32))

static uk_word_t iq_used(void)
{
    uk_word_t used = 0;
    uk_kmem_info(SELF, &used, 0);
    return used;
}

/* --- the RTC driver --------------------------------------------------------- */

/* Slots in the driver task's table. */
#define DRV_IO    2
#define DRV_IRQ   3
#define DRV_NOTIF 4
#define RTC_WANT  8

static volatile long rtc_irqs, rtc_timeouts, rtc_err, rtc_err_where, rtc_done, rtc_bits_bad,
    rtc_a_seen, rtc_b_seen;

static uk_word_t rtc_read(uk_word_t reg)
{
    uk_word_t v = 0;
    long e1 = uk_out(DRV_IO, RTC_INDEX, 1, RTC_NMI_OFF | reg);
    long e2 = uk_inb(DRV_IO, RTC_DATA, &v);
    if ((e1 || e2) && !rtc_err) {
        rtc_err = e1 ? e1 : e2;
        rtc_err_where = 1;
    }
    return v & 0xff;
}

static void rtc_write(uk_word_t reg, uk_word_t val)
{
    long e1 = uk_out(DRV_IO, RTC_INDEX, 1, RTC_NMI_OFF | reg);
    long e2 = uk_out(DRV_IO, RTC_DATA, 1, val);
    if ((e1 || e2) && !rtc_err) {
        rtc_err = e1 ? e1 : e2;
        rtc_err_where = 2;
    }
}

static void rtc_driver(uk_word_t unused)
{
    (void)unused;
    long err;
    uk_word_t a = rtc_read(RTC_A), b = rtc_read(RTC_B);
    rtc_a_seen = (long)a;
    rtc_b_seen = (long)b;
    rtc_read(RTC_C);                                   /* drop stale flags */
    if ((err = uk_irq_bind(DRV_IRQ, DRV_NOTIF)) != UK_OK) {
        rtc_err = err;
        rtc_err_where = 3;
        rtc_done = 1;
        return;
    }
    rtc_write(RTC_A, 0x20 | 0x06);                     /* 32.768 kHz divider, 1024 Hz */
    rtc_write(RTC_B, (b | RTC_B_PIE) & 0xff);
    for (int i = 0; i < 100 && rtc_irqs < RTC_WANT && !rtc_err; i++) {
        uk_word_t bits = 0;
        err = uk_wait(DRV_NOTIF, MS(200), &bits);
        if (err == UK_E_TIMEOUT) {
            rtc_timeouts++;
            continue;
        }
        if (err != UK_OK) {
            rtc_err = err;
            rtc_err_where = 4;
            break;
        }
        if (bits != 1)
            rtc_bits_bad++;
        uk_word_t c = rtc_read(RTC_C);                 /* acknowledges the device */
        if (c & RTC_C_PF)
            rtc_irqs++;
        if ((err = uk_irq_ack(DRV_IRQ)) != UK_OK) {
            rtc_err = err;
            rtc_err_where = 5;
        }
    }
    rtc_write(RTC_B, b & ~(uk_word_t)RTC_B_PIE & 0xff);
    rtc_write(RTC_A, a);
    rtc_read(RTC_C);
    uk_out(DRV_IO, RTC_INDEX, 1, RTC_D);               /* NMIs back on */
    rtc_done = 1;
}

KT_TEST(irq_rtc_driver_task_gets_periodic_interrupts)
{
    uk_word_t before = iq_used();
    uk_word_t io = uk_slot_alloc(), irq = uk_slot_alloc(), n = kt_notification(), drv = 0;
    uk_word_t fault = kt_endpoint();
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, RTC_INDEX, 2, io), UK_OK);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, RTC_IRQ, irq), UK_OK);
    uk_word_t type = 0, rights = 0, arg = 0;
    KT_EQ(uk_cap_info(irq, &type, &rights, &arg), UK_OK);
    KT_EQ(type, UK_CAP_IRQ);
    KT_EQ(arg, RTC_IRQ);
    KT_EQ(uk_irq_ack(irq), UK_E_STATE);                /* nothing bound yet */
    /* the driver task holds just what it needs */
    KT_EQ(uk_task_new(512ul << 10, 8, 1, &drv), UK_OK);
    KT_EQ(uk_cap_copy(io, drv, DRV_IO, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_copy(irq, drv, DRV_IRQ, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_copy(n, drv, DRV_NOTIF, UK_R_ALL, 0), UK_OK);
    rtc_irqs = rtc_timeouts = rtc_err = rtc_err_where = rtc_done = rtc_bits_bad = 0;
    struct uk_spawned t;
    KT_EQ(uk_spawn(drv, rtc_driver, 0, 200, fault, &t), UK_OK);
    uk_word_t end = uk_rdtsc() + kt_us_to_tsc(20000000);
    while (!rtc_done && uk_rdtsc() < end) {
        struct uk_msg m = { .info = uk_msginfo(0, 0, MS(5)) };
        if (uk_recv(fault, &m) == UK_OK) {
            printf("    driver fault: label %lx addr %lx rip %lx\n", uk_msg_label(m.info), m.w[0], m.w[2]);
            KT_CHECK(0);
            break;
        }
    }
    KT_EQ(rtc_done, 1);
    KT_EQ(rtc_err, UK_OK);
    if (rtc_err)
        printf("    driver error at %ld\n", rtc_err_where);
    KT_CHECK(rtc_irqs >= 5);
    KT_EQ(rtc_bits_bad, 0);
    printf("    rtc: %ld interrupts, %ld timeouts, register A %lx B %lx\n",
           rtc_irqs, rtc_timeouts, rtc_a_seen, rtc_b_seen);
    /* interrupts are off again at the device */
    uk_word_t v = 0;
    KT_EQ(uk_out(io, RTC_INDEX, 1, RTC_NMI_OFF | RTC_B), UK_OK);
    KT_EQ(uk_inb(io, RTC_DATA, &v), UK_OK);
    KT_EQ(v & RTC_B_PIE, 0);
    KT_EQ(uk_out(io, RTC_INDEX, 1, RTC_D), UK_OK);
    /* the driver task goes; the root's IRQ cap still holds the line */
    kt_destroy(t.thread);
    KT_EQ(uk_obj_destroy(drv), UK_OK);
    uk_cap_delete(SELF, drv);
    uk_word_t again = uk_slot_alloc();
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, RTC_IRQ, again), UK_E_BUSY);
    kt_destroy(n);                                     /* unbinds */
    KT_EQ(uk_irq_ack(irq), UK_E_STATE);
    kt_destroy(irq);                                   /* frees the line */
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, RTC_IRQ, again), UK_OK);
    kt_destroy(again);
    uk_cap_delete(SELF, io);
    kt_destroy(fault);
    KT_EQ(iq_used(), before);
}

KT_TEST(irq_get_busy_range_and_reuse)
{
    /* IRQ 3 (COM2) is edge-triggered: one holder (shared level lines: test_shirq.c) */
    uk_word_t a = uk_slot_alloc(), b = uk_slot_alloc(), c = uk_slot_alloc();
    uk_word_t ep = kt_endpoint(), n = kt_notification();
    uk_word_t before = iq_used();
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 3, a), UK_OK);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 3, b), UK_E_BUSY);
    KT_EQ(kt_cap_type(b), UK_CAP_NULL);
    const uk_word_t bad[] = { 24, 200, 255, 256, 0xffffffff, 1ul << 32, (1ul << 32) + 10, ~0ul };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, bad[i], b), UK_E_RANGE);
    KT_EQ(kt_cap_type(b), UK_CAP_NULL);
    KT_EQ(uk_irq_get(ep, 3, b), UK_E_CAP_TYPE);
    /* a copy holds the line as long as any cap does */
    KT_EQ(uk_cap_copy(a, SELF, c, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_delete(SELF, a), UK_OK);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 3, b), UK_E_BUSY);
    KT_EQ(uk_cap_delete(SELF, c), UK_OK);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 3, b), UK_OK);
    /* binding needs CONTROL on the IRQ and WRITE on the notification */
    uk_word_t irq_ro = uk_slot_alloc(), n_ro = uk_slot_alloc();
    KT_EQ(uk_cap_copy(b, SELF, irq_ro, UK_R_READ | UK_R_WRITE, 0), UK_OK);
    KT_EQ(uk_cap_copy(n, SELF, n_ro, UK_R_READ, 0), UK_OK);
    KT_EQ(uk_irq_bind(irq_ro, n), UK_E_RIGHTS);
    KT_EQ(uk_irq_bind(b, n_ro), UK_E_RIGHTS);
    KT_EQ(uk_irq_bind(b, ep), UK_E_CAP_TYPE);
    KT_EQ(uk_irq_ack(b), UK_E_STATE);
    KT_EQ(uk_irq_bind(b, n), UK_OK);
    KT_EQ(uk_irq_ack(b), UK_OK);
    /* destroying the IRQ object frees the line and empties every cap */
    KT_EQ(uk_obj_destroy(b), UK_OK);
    KT_EQ(kt_cap_type(b), UK_CAP_NULL);
    KT_EQ(kt_cap_type(irq_ro), UK_CAP_NULL);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 3, a), UK_OK);
    /* the highest line exists */
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 23, c), UK_OK);
    kt_destroy(c);
    kt_destroy(a);
    uk_cap_delete(SELF, n_ro);
    KT_EQ(iq_used(), before);
    kt_destroy(n);
    kt_destroy(ep);
}

KT_TEST(ioport_cap_covers_exactly_its_range)
{
    uk_word_t io = uk_slot_alloc(), sub = uk_slot_alloc(), x = uk_slot_alloc(), v = 0;
    uk_word_t type, rights, range;
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, RTC_INDEX, 2, io), UK_OK);
    KT_EQ(uk_cap_info(io, &type, &rights, &range), UK_OK);
    KT_EQ(type, UK_CAP_IOPORT);
    KT_EQ(range, IO_RANGE(RTC_INDEX, 2));
    /* inside */
    KT_EQ(uk_out(io, RTC_INDEX, 1, RTC_D), UK_OK);
    KT_EQ(uk_inb(io, RTC_DATA, &v), UK_OK);
    KT_EQ(uk_in(io, RTC_INDEX, 2, &v), UK_OK);          /* both ports at once */
    /* outside: below, above, far away, past 16 bits */
    KT_EQ(uk_inb(io, 0x6f, &v), UK_E_RANGE);
    KT_EQ(uk_inb(io, 0x72, &v), UK_E_RANGE);
    KT_EQ(uk_inb(io, 0x60, &v), UK_E_RANGE);
    KT_EQ(uk_inb(io, 0x10070, &v), UK_E_RANGE);
    KT_EQ(uk_inb(io, ~0ul, &v), UK_E_RANGE);
    KT_EQ(uk_out(io, 0x72, 1, 0), UK_E_RANGE);
    KT_EQ(uk_out(io, 0x6f, 1, 0), UK_E_RANGE);
    /* wider than what is left of the range */
    KT_EQ(uk_in(io, RTC_DATA, 2, &v), UK_E_RANGE);
    KT_EQ(uk_in(io, RTC_INDEX, 4, &v), UK_E_RANGE);
    KT_EQ(uk_out(io, RTC_DATA, 2, 0), UK_E_RANGE);
    KT_EQ(uk_out(io, RTC_INDEX, 4, 0), UK_E_RANGE);
    /* sub-ranges: only inside the parent */
    KT_EQ(uk_ioport_issue(io, RTC_INDEX, 3, x), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(io, 0x6f, 2, x), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(io, RTC_DATA, 2, x), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(io, RTC_INDEX, 0, x), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(io, RTC_INDEX, 0x10000, x), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(io, RTC_INDEX, ~0ul, x), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(io, RTC_INDEX - 1ul, 3, x), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0xffff, 2, x), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0x10000, 1, x), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0, 0x10001, x), UK_E_RANGE);
    KT_EQ(kt_cap_type(x), UK_CAP_NULL);
    KT_EQ(uk_ioport_issue(io, RTC_DATA, 1, sub), UK_OK);
    KT_EQ(uk_cap_info(sub, &type, &rights, &range), UK_OK);
    KT_EQ(range, IO_RANGE(RTC_DATA, 1));
    KT_EQ(uk_inb(sub, RTC_DATA, &v), UK_OK);
    KT_EQ(uk_inb(sub, RTC_INDEX, &v), UK_E_RANGE);
    KT_EQ(uk_out(sub, RTC_INDEX, 1, RTC_D), UK_E_RANGE);
    KT_EQ(uk_ioport_issue(sub, RTC_INDEX, 2, x), UK_E_RANGE);   /* no growing back */
    /* a copy covers the same ports */
    KT_EQ(uk_cap_copy(sub, SELF, x, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_info(x, &type, &rights, &range), UK_OK);
    KT_EQ(range, IO_RANGE(RTC_DATA, 1));
    KT_EQ(uk_inb(x, RTC_INDEX, &v), UK_E_RANGE);
    /* the whole space, and its last port */
    KT_EQ(uk_cap_info(UK_SLOT_IOPORT_ALL, &type, &rights, &range), UK_OK);
    KT_EQ(range, IO_RANGE(0, 0x10000));
    uk_word_t last = uk_slot_alloc();
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0xffff, 1, last), UK_OK);
    KT_EQ(uk_cap_info(last, &type, &rights, &range), UK_OK);
    KT_EQ(range, IO_RANGE(0xffff, 1));
    KT_EQ(uk_in(last, 0xffff, 2, &v), UK_E_RANGE);
    KT_EQ(uk_in(last, 0xfffe, 1, &v), UK_E_RANGE);
    uk_cap_delete(SELF, last);
    uk_cap_delete(SELF, x);
    uk_cap_delete(SELF, sub);
    uk_cap_delete(SELF, io);
}

/* --- the timer --------------------------------------------------------------- */

static volatile long sp_count[3], sp_second_ran;

static void sp_spinner(uk_word_t i)
{
    for (;;)
        sp_count[i]++;
}

static void sp_second(uk_word_t unused)
{
    (void)unused;
    sp_second_ran = 1;
}

KT_TEST(sched_spinner_is_preempted)
{
    uk_word_t before = iq_used();
    struct uk_spawned spin, second;
    sp_count[0] = sp_count[1] = sp_second_ran = 0;
    /* all three at 255: only the timer can take the CPU from the spinner */
    KT_EQ(uk_spawn(SELF, sp_spinner, 0, 255, 0, &spin), UK_OK);
    KT_EQ(uk_spawn(SELF, sp_second, 0, 255, 0, &second), UK_OK);
    uk_word_t t0 = uk_rdtsc();
    KT_EQ(kt_wait_flag(&sp_second_ran, 5000000), 1);
    KT_CHECK(sp_count[0] > 0);
    KT_CHECK(kt_tsc_to_us(uk_rdtsc() - t0) < 1000000);
    /* the root gets its turns too while the spinner runs */
    long c0 = sp_count[0];
    for (int i = 0; i < 5; i++)
        uk_yield();
    KT_CHECK(sp_count[0] > c0);
    kt_destroy(spin.thread);
    kt_destroy(second.thread);
    /* once destroyed it does not run */
    c0 = sp_count[0];
    volatile long never = 0;
    kt_wait_flag(&never, 20000);
    KT_EQ(sp_count[0], c0);
    KT_EQ(iq_used(), before);
}

KT_TEST(sched_equal_priority_round_robin)
{
    uk_word_t before = iq_used();
    struct uk_spawned s0, s1;
    sp_count[0] = sp_count[1] = 0;
    KT_EQ(uk_spawn(SELF, sp_spinner, 0, 100, 0, &s0), UK_OK);
    KT_EQ(uk_spawn(SELF, sp_spinner, 1, 100, 0, &s1), UK_OK);
    volatile long never = 0;
    kt_wait_flag(&never, 40000);                      /* the root blocks */
    long a0 = sp_count[0], a1 = sp_count[1];
    KT_CHECK(a0 > 0);
    KT_CHECK(a1 > 0);
    kt_wait_flag(&never, 40000);
    long b0 = sp_count[0], b1 = sp_count[1];
    KT_CHECK(b0 > a0);
    KT_CHECK(b1 > a1);
    /* fair within a factor: each had several 5 ms slices */
    KT_CHECK(b0 - a0 > (b1 - a1) / 8);
    KT_CHECK(b1 - a1 > (b0 - a0) / 8);
    /* a lower-priority spinner gets nothing while these two run */
    struct uk_spawned low;
    sp_count[2] = 0;
    KT_EQ(uk_spawn(SELF, sp_spinner, 2, 50, 0, &low), UK_OK);
    kt_wait_flag(&never, 20000);
    KT_EQ(sp_count[2], 0);
    KT_CHECK(sp_count[0] > b0 && sp_count[1] > b1);
    kt_destroy(low.thread);
    kt_destroy(s0.thread);
    kt_destroy(s1.thread);
    KT_EQ(iq_used(), before);
}
