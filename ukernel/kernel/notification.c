/*
 * Notifications: a word of bits.  A signal ORs the cap's badge in (an
 * unbadged cap signals bit 0) and never blocks; a wait takes all bits at
 * once.  A notification bound to a thread also ends that thread's receive
 * on an endpoint, which is how a server waits for requests and interrupts
 * together.
 */
#include "ipc.h"
#include "tqueue.h"
#include "thread.h"
#include "sched.h"
#include "irq.h"
#include "vcpu.h"
#include "log.h"

static void deliver(struct thread *t, word bits, word flags)
{
    t->regs.rax = UK_OK;
    t->regs.rdi = bits;
    t->regs.rsi = uk_msginfo_out(0, 0, flags);
}

void notif_signal(struct notification *n, word badge)
{
    word bits = n->bits | (badge ? badge : 1);
    struct thread *t = n->waiters;
    if (n->bound && n->bound->vcpu) {    /* a vCPU's events: its pending word */
        n->bits = 0;
        vcpu_event(n->bound, bits);
    } else if (t) {
        thread_cancel_wait(t);
        n->bits = 0;
        deliver(t, bits, 0);
        sched_wake(t);
    } else if (n->bound && n->bound->state == TS_RECV) {
        t = n->bound;
        thread_cancel_wait(t);
        n->bits = 0;
        deliver(t, bits, UK_MSGF_NOTIFY);
        sched_wake(t);
    } else {
        n->bits = bits;
    }
}

void notif_wait(struct notification *n, word info)
{
    struct thread *self = current;
    if (n->bits) {
        deliver(self, n->bits, 0);
        n->bits = 0;
        return;
    }
    if (self->vcpu_state && self->vcpu_state->pending) {
        deliver(self, 0, UK_MSGF_NOTIFY);   /* a vCPU with events pending does not
                                               sleep: they came before it blocked */
        return;
    }
    word timeout = uk_msg_timeout(info);
    if (timeout == UK_TIMEOUT_ZERO) {
        self->regs.rax = UK_E_TIMEOUT;
        return;
    }
    self->state = TS_NOTIF;
    self->wait_notif = n;
    tq_append(&n->waiters, self);
    timeout_arm(self, timeout);
}

bool notif_deliver_bound(struct thread *t)
{
    struct notification *n = t->bound;
    if (t->vcpu_state && t->vcpu_state->pending) {   /* as in notif_wait */
        deliver(t, 0, UK_MSGF_NOTIFY);
        return true;
    }
    if (!n->bits)
        return false;
    deliver(t, n->bits, UK_MSGF_NOTIFY);
    n->bits = 0;
    return true;
}

/* Dying (object.c): no thread, vCPU or IRQ line sees it any more; its
 * caps refuse every call (cap_lookup), so no thread waits on it anew. */
void notification_dying(struct notification *n)
{
    if (n->bound)
        n->bound->bound = NULL;
    n->bound = NULL;
    irq_unbind_notification(n);          /* 24 lines x IRQ_HOLDERS: a constant */
}

bool notification_drain_some(struct notification *n, word *work)
{
    while (n->waiters) {
        if (*work < DESTROY_COST_WAITER)
            return false;
        *work -= DESTROY_COST_WAITER;
        ipc_abort(n->waiters, UK_E_DESTROYED);
    }
    return true;
}
