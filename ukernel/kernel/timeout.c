/* IPC timeouts: threads with a deadline, in a list sorted by TSC deadline,
 * checked on every timer tick (so the resolution is one tick). */
#include "ipc.h"
#include "thread.h"
#include "sched.h"
#include "arch/arch.h"
#include "arch/cpu.h"

static struct thread *timeouts;

void timeout_arm(struct thread *t, word encoded)
{
    if (encoded == UK_TIMEOUT_INFINITE || encoded == UK_TIMEOUT_ZERO)
        return;
    u64 us = uk_timeout_decode(encoded);
    t->deadline = rdtsc() + us * (tsc_hz / 1000000);
    struct thread **p = &timeouts, *prev = NULL;
    while (*p && (*p)->deadline <= t->deadline) {
        prev = *p;
        p = &(*p)->tq_next;
    }
    t->tq_next = *p;
    t->tq_prev = prev;
    if (*p)
        (*p)->tq_prev = t;
    *p = t;
}

void timeout_cancel(struct thread *t)
{
    if (!t->deadline)
        return;
    if (t->tq_prev)
        t->tq_prev->tq_next = t->tq_next;
    else
        timeouts = t->tq_next;
    if (t->tq_next)
        t->tq_next->tq_prev = t->tq_prev;
    t->tq_next = t->tq_prev = NULL;
    t->deadline = 0;
}

void timeout_expire(u64 now)
{
    while (timeouts && timeouts->deadline <= now) {
        struct thread *t = timeouts;
        timeout_cancel(t);
        ipc_abort(t, UK_E_TIMEOUT);
    }
}
