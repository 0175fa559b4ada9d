/*
 * The guest's virtual timer (UK_VDEV_TIMER_SET): a thread of ours that
 * sleeps with IPC timeouts (1 ms resolution, the microkernel's tick) and
 * signals the guest's event notification (badge UK_VDEV_EVENT_TIMER) at
 * each expiry; the bits arrive in the vCPU's state.pending.
 *
 * The main thread publishes the settings under a sequence counter (odd
 * while it writes) and wakes the timer thread, which copies them out
 * whole and keeps its own deadline.  An expiry that comes late (the thread
 * was not scheduled) is one event, not a burst: the next deadline is the
 * first period boundary after now.
 */
#include "vmm.h"

#define TIMER_STACK 8192u

static volatile uk_word_t seq;
static uk_word_t pub_first, pub_period;            /* TSC: delay, period; first 0: off */
static unsigned char stack[TIMER_STACK] __attribute__((aligned(16)));
static struct uk_ipc_buffer ipc_buf __attribute__((aligned(UK_PAGE_SIZE)));

static const uk_word_t NS = 1000000000ul;

uk_word_t ns_to_tsc(uk_word_t ns)
{
    uk_word_t hz = vmm.vi->tsc_hz, s = ns / NS;
    if (s > ~0ul / 4 / hz)
        return ~0ul / 4;                 /* a century or so: far enough */
    return s * hz + (ns % NS) * hz / NS; /* (ns % NS) * hz < 1e9 * 2^34: fits */
}

uk_word_t tsc_to_ns(uk_word_t tsc)
{
    uk_word_t hz = vmm.vi->tsc_hz;
    return tsc / hz * NS + tsc % hz * NS / hz;
}

static uk_word_t tsc_to_us_up(uk_word_t tsc)
{
    uk_word_t hz = vmm.vi->tsc_hz;
    return tsc / hz * 1000000ul + (tsc % hz * 1000000ul + hz - 1) / hz;
}

void timer_set(uk_word_t first_ns, uk_word_t period_ns)
{
    __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST);
    pub_first = first_ns ? ns_to_tsc(first_ns) : 0;
    if (first_ns && !pub_first)
        pub_first = 1;
    pub_period = ns_to_tsc(period_ns);
    __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST);
    uk_signal(SLOT_TIMER_WAKE);
}

static void timer_thread(void)
{
    uk_word_t seen = ~0ul, next = 0, period = 0;
    uk_ipc_buffer_init(&ipc_buf);
    for (;;) {
        uk_word_t s = seq;
        if (s != seen) {                 /* new settings: take them whole */
            if (s & 1) {
                uk_wait(SLOT_TIMER_WAKE, uk_timeout_us(1000), 0);
                continue;
            }
            uk_word_t first = pub_first, per = pub_period;
            if (seq != s)
                continue;
            seen = s;
            next = first ? uk_rdtsc() + first : 0;
            period = per;
        }
        if (!next) {
            uk_wait(SLOT_TIMER_WAKE, UK_TIMEOUT_INFINITE, 0);
            continue;
        }
        uk_word_t now = uk_rdtsc();
        if (now < next) {
            uk_wait(SLOT_TIMER_WAKE, uk_timeout_us(tsc_to_us_up(next - now)), 0);
            continue;
        }
        uk_signal(SLOT_TIMER_EV);        /* fails harmlessly while no guest runs */
        if (!period)
            next = 0;
        else if ((next += period) <= now)
            next = now + period - (now - next) % period;   /* missed: skip ahead */
    }
}

__asm__(".text\n"
        "timer_entry:\n"
        "  and $-16, %rsp\n"
        "  call timer_thread_c\n"
        "  ud2\n");
void timer_thread_c(void);
__attribute__((used)) void timer_thread_c(void) { timer_thread(); }
extern char timer_entry[];

long timer_init(void)
{
    long err;
    /* at our own priority (VMM_PRIO): above the guest, so expiries are on time */
    if ((err = uk_notif_create(SLOT_TIMER_WAKE)) ||
        (err = uk_thread_create(SLOT_TIMER_TH, UK_SLOT_SELF_TASK)) ||
        (err = uk_thread_config(SLOT_TIMER_TH, VMM_PRIO, 0, (uk_word_t)&ipc_buf)))
        return err;
    return uk_thread_start(SLOT_TIMER_TH, (uk_word_t)timer_entry,
                           (uk_word_t)(stack + TIMER_STACK), 0);
}
