/*
 * Synchronous IPC, the slow path: everything the fast path (fastpath.c)
 * declines.  The story of a call: the caller finds a receiver waiting (or
 * queues on the endpoint until one comes); the message words go straight
 * into the receiver's saved registers; the caller moves to TS_REPLY and the
 * receiver holds its one-shot reply right (reply_to) until it replies,
 * saves the right into a cap, or goes away.  Faults ride the same path with
 * a message the kernel builds (fault_label != 0).
 */
#include "ipc.h"
#include "tqueue.h"
#include "thread.h"
#include "task.h"
#include "sched.h"
#include "vspace.h"
#include "stats.h"
#include "lib.h"
#include "log.h"


static void set_result(struct thread *t, int err)
{
    t->regs.rax = (word)err;
}

/* --- endpoint queues (circular, FIFO) ------------------------------------ */

void ep_queue_append(struct endpoint *ep, struct thread *t)
{
    t->wait_ep = ep;
    tq_append(&ep->queue, t);
}

void ep_queue_remove(struct endpoint *ep, struct thread *t)
{
    if (tq_remove(&ep->queue, t))
        ep->queue_kind = ep->hdr.dying ? EPQ_SEND : EPQ_EMPTY;   /* endpoint_dying */
    t->wait_ep = NULL;
}

/* --- message transfer ---------------------------------------------------- */

/* The words the sender offers: a fault message, or its saved registers. */
static void sender_words(struct thread *s, word out[UK_MSG_REG_WORDS], word *info)
{
    if (s->fault_label == UK_FAULT_PAGE) {
        for (unsigned i = 0; i < UK_MSG_REG_WORDS; i++)
            out[i] = s->fault_words[i];
        *info = uk_msginfo(UK_FAULT_PAGE, UK_MSG_REG_WORDS, 0);
    } else if (s->fault_label == UK_FAULT_EXCEPTION) {
        const word *r = (const word *)&s->regs;
        for (unsigned i = 0; i < UK_MSG_REG_WORDS; i++)
            out[i] = r[i];
        *info = uk_msginfo(UK_FAULT_EXCEPTION, UK_REGS_WORDS, 0);
    } else {
        out[0] = s->regs.rdx;
        out[1] = s->regs.r10;
        out[2] = s->regs.r8;
        out[3] = s->regs.r9;
        *info = s->regs.rsi;
    }
}

/* Words 4.. of the sender's message, as a kernel pointer (NULL: none). */
static const word *sender_long_words(struct thread *s)
{
    if (s->fault_label == UK_FAULT_EXCEPTION)
        return (const word *)&s->regs;
    struct uk_ipc_buffer *b = s->ipc_buffer ?
        user_ptr(s->task, s->ipc_buffer, PAGE_SIZE, UK_MAP_READ) : NULL;
    return b ? b->msg : NULL;
}

/* Delivers a message to `to` (blocked in a receive or waiting for a
 * reply).  Words beyond the registers go buffer to buffer; if either
 * buffer is missing the message is cut to the register words. */
static void transfer(struct thread *from, const word w[UK_MSG_REG_WORDS], word info,
                     word badge, struct thread *to)
{
    word len = uk_msg_len(info);
    word flags = from && from->fault_label ? UK_MSGF_FAULT : 0;
    if (len > UK_MSG_REG_WORDS) {
        const word *src = from ? sender_long_words(from) : NULL;
        struct uk_ipc_buffer *dst = to->ipc_buffer ?
            user_ptr(to->task, to->ipc_buffer, PAGE_SIZE, UK_MAP_WRITE) : NULL;
        if (src && dst)
            memcpy(&dst->msg[UK_MSG_REG_WORDS], &src[UK_MSG_REG_WORDS],
                   (len - UK_MSG_REG_WORDS) * sizeof(word));
        else
            len = UK_MSG_REG_WORDS;
    }
    to->regs.rax = UK_OK;
    to->regs.rdi = badge;
    to->regs.rsi = uk_msginfo_out(uk_msg_label(info), len, flags);
    to->regs.rdx = w[0];
    to->regs.r10 = w[1];
    to->regs.r8 = w[2];
    to->regs.r9 = w[3];
}

/* The current thread's message is in `m`; park it in its registers so a
 * receiver that comes later finds it (sender_words). */
static void park_message(struct thread *t, const struct ipc_msg *m)
{
    t->regs.rsi = m->info;
    t->regs.rdx = m->w[0];
    t->regs.r10 = m->w[1];
    t->regs.r8 = m->w[2];
    t->regs.r9 = m->w[3];
}

/* Checks a message the current thread wants to send. */
static int check_message(struct thread *self, const struct ipc_msg *m)
{
    word len = uk_msg_len(m->info);
    if (len > UK_MSG_MAX_WORDS)
        return UK_E_MSG_LEN;
    if (len > UK_MSG_REG_WORDS &&
        !(self->ipc_buffer && user_ptr(self->task, self->ipc_buffer, PAGE_SIZE, UK_MAP_READ)))
        return UK_E_ADDR;
    return UK_OK;
}

/* A caller t waits for `server`'s reply; drop any older reply right. */
static void take_reply_right(struct thread *server, struct thread *t)
{
    if (server->reply_to)
        ipc_abort(server->reply_to, UK_E_NO_REPLY);
    t->state = TS_REPLY;
    t->replier = server;
    server->reply_to = t;
}

/* --- send and call -------------------------------------------------------- */

void ipc_send(word cap_idx, struct ipc_msg *m, bool call)
{
    struct thread *self = current;
    int err;
    struct cap *c = cap_lookup(&self->task->cspace, cap_idx, UK_CAP_NULL, 0, &err);
    if (!c)
        return set_result(self, err);
    if (c->type == UK_CAP_REPLY && !call)
        return set_result(self, ipc_send_reply_cap(c, m));
    if (c->type != UK_CAP_ENDPOINT)
        return set_result(self, UK_E_CAP_TYPE);
    if (!(c->rights & UK_R_WRITE))
        return set_result(self, UK_E_RIGHTS);
    if ((err = check_message(self, m)) != UK_OK)
        return set_result(self, err);

    struct endpoint *ep = (struct endpoint *)c->obj;
    word timeout = uk_msg_timeout(m->info);
    park_message(self, m);
    self->fault_label = 0;
    if (ep->queue_kind == EPQ_RECV) {
        struct thread *dst = ep->queue;
        ep_queue_remove(ep, dst);
        timeout_cancel(dst);
        transfer(self, m->w, uk_msg_label_len(m->info), c->badge, dst);
        sched_wake(dst);
        if (call) {
            take_reply_right(dst, self);
            if (timeout != UK_TIMEOUT_ZERO)
                timeout_arm(self, timeout);
        } else {
            set_result(self, UK_OK);
        }
        return;
    }
    if (timeout == UK_TIMEOUT_ZERO)
        return set_result(self, UK_E_TIMEOUT);
    self->state = TS_SEND;
    self->call_kind = call ? SEND_CALL : SEND_PLAIN;
    self->send_badge = c->badge;
    ep->queue_kind = EPQ_SEND;
    ep_queue_append(ep, self);
    timeout_arm(self, timeout);
}

/* The kernel makes faulting thread t call its fault endpoint. */
void ipc_send_fault(struct thread *t, word label, const word *words, word len)
{
    struct cap *c = &t->fault_ep;
    for (word i = 0; i < UK_MSG_REG_WORDS; i++)
        t->fault_words[i] = i < len ? words[i] : 0;
    if (c->type != UK_CAP_ENDPOINT || !(c->rights & UK_R_WRITE) || c->obj->dying) {
        if (log_ration()) {
            kprintf("ukernel: thread %lu (task %lu) %s at rip %lx, no handler: stopped\n",
                    t->id, t->task->id, label == UK_FAULT_PAGE ? "page fault" : "exception",
                    t->regs.rip);
            kprintf("  vector %lu error %lx addr %lx rsp %lx\n", t->regs.vector,
                    t->regs.error, t->regs.cr2, t->regs.rsp);
        }
        thread_cancel_wait(t);
        t->state = TS_STOPPED;
        return;
    }
    struct endpoint *ep = (struct endpoint *)c->obj;
    t->fault_label = (u16)label;
    if (ep->queue_kind == EPQ_RECV) {
        struct thread *dst = ep->queue;
        word w[UK_MSG_REG_WORDS], info;
        ep_queue_remove(ep, dst);
        timeout_cancel(dst);
        sender_words(t, w, &info);
        transfer(t, w, info, c->badge, dst);
        sched_wake(dst);
        take_reply_right(dst, t);
        return;
    }
    t->state = TS_SEND;
    t->call_kind = SEND_CALL;
    t->send_badge = c->badge;
    ep->queue_kind = EPQ_SEND;
    ep_queue_append(ep, t);
}

/* --- receive ---------------------------------------------------------------- */

void ipc_recv(word cap_idx, word info)
{
    struct thread *self = current;
    int err;
    struct cap *c = cap_lookup(&self->task->cspace, cap_idx, UK_CAP_NULL, UK_R_READ, &err);
    if (!c)
        return set_result(self, err);
    if (c->type == UK_CAP_NOTIFICATION)
        return notif_wait((struct notification *)c->obj, info);
    if (c->type != UK_CAP_ENDPOINT)
        return set_result(self, UK_E_CAP_TYPE);
    if (self->reply_to)                      /* an unsaved reply right lapses */
        ipc_abort(self->reply_to, UK_E_NO_REPLY);
    if (self->bound && notif_deliver_bound(self))
        return;

    struct endpoint *ep = (struct endpoint *)c->obj;
    if (ep->queue_kind == EPQ_SEND) {
        struct thread *src = ep->queue;
        word w[UK_MSG_REG_WORDS], minfo;
        ep_queue_remove(ep, src);
        sender_words(src, w, &minfo);
        transfer(src, w, uk_msg_label_len(minfo), src->send_badge, self);
        if (src->call_kind == SEND_CALL) {
            take_reply_right(self, src);     /* its call timeout runs on */
        } else {
            timeout_cancel(src);
            set_result(src, UK_OK);
            sched_wake(src);
        }
        return;
    }
    word timeout = uk_msg_timeout(info);
    if (timeout == UK_TIMEOUT_ZERO)
        return set_result(self, UK_E_TIMEOUT);
    self->state = TS_RECV;
    ep->queue_kind = EPQ_RECV;
    ep_queue_append(ep, self);
    timeout_arm(self, timeout);
}

/* --- reply ------------------------------------------------------------------ */

/* Ends a fault: the handler's answer decides how the thread goes on. */
static int finish_fault(struct thread *server, struct thread *t, struct ipc_msg *m)
{
    word label = uk_msg_label(m->info), len = uk_msg_len(m->info);
    word kind = t->fault_label;
    int err = UK_OK;
    t->fault_label = 0;
    if (label == UK_FAULT_REPLY_STOP) {
        t->state = TS_STOPPED;
        return UK_OK;
    }
    if (kind == UK_FAULT_PAGE && label == UK_FAULT_REPLY_MAP) {
        /* one MAP part at most: a reply cannot go on after a preemption
         * point (docs/ABI.md §9.10); more pages: MAP them */
        err = m->w[2] > UK_PREEMPT_PAGES ? UK_E_INVAL :
              vspace_map(server->task, m->w[0], t->task, m->w[1], m->w[2], m->w[3]);
    } else if (kind == UK_FAULT_EXCEPTION && label == UK_FAULT_REPLY_REGS &&
               len >= UK_REGS_WORDS - 3) {
        struct uk_ipc_buffer *b = server->ipc_buffer ?
            user_ptr(server->task, server->ipc_buffer, PAGE_SIZE, UK_MAP_READ) : NULL;
        if (!b) {
            err = UK_E_ADDR;
        } else {
            struct uk_regs r;
            memcpy(&r, b->msg, sizeof r);
            r.rax = m->w[0]; r.rbx = m->w[1]; r.rcx = m->w[2]; r.rdx = m->w[3];
            err = thread_set_regs(t, &r);
        }
    }
    sched_wake(t);
    return err;
}

/* Replies to caller t on behalf of the current thread. */
static int reply_to_caller(struct thread *t, struct ipc_msg *m)
{
    struct thread *self = current;
    int err = check_message(self, m);
    if (err != UK_OK)
        return err;
    timeout_cancel(t);
    if (t->fault_label)
        return finish_fault(self, t, m);
    transfer(self, m->w, uk_msg_label_len(m->info), 0, t);
    sched_wake(t);
    return UK_OK;
}

void ipc_reply(struct ipc_msg *m)
{
    struct thread *self = current, *t = self->reply_to;
    if (!t)
        return set_result(self, UK_E_NO_REPLY);
    int err = check_message(self, m);
    if (err != UK_OK)
        return set_result(self, err);
    self->reply_to = NULL;
    t->replier = NULL;
    set_result(self, reply_to_caller(t, m));
}

void ipc_reply_recv(word cap_idx, struct ipc_msg *m)
{
    struct thread *self = current;
    if (self->reply_to) {
        ipc_reply(m);
        if (self->regs.rax != UK_OK)
            return;                       /* the reply failed: say so, no receive */
    }
    ipc_recv(cap_idx, m->info);
}

int ipc_reply_save(word slot)
{
    struct thread *self = current, *t = self->reply_to;
    struct cap *c = cap_slot(&self->task->cspace, slot);
    if (!c)
        return UK_E_CAP;
    if (c->type != UK_CAP_NULL)
        return UK_E_BUSY;
    if (!t)
        return UK_E_NO_REPLY;
    self->reply_to = NULL;
    t->replier = NULL;
    cap_install(c, UK_CAP_REPLY, UK_R_WRITE, &t->hdr, 0);
    return UK_OK;
}

int ipc_send_reply_cap(struct cap *c, struct ipc_msg *m)
{
    struct thread *t = container_of(c->obj, struct thread, hdr);
    int err = check_message(current, m);
    if (err != UK_OK)
        return err;
    cap_clear_type(&t->hdr, UK_CAP_REPLY);   /* one shot: every copy is spent */
    return reply_to_caller(t, m);
}

void reply_cap_deleted(struct thread *caller)
{
    bool saved_elsewhere = caller->hdr.caps &&                 /* REPLY caps come */
                           caller->hdr.caps->type == UK_CAP_REPLY;   /* first: cap.c */
    if (!saved_elsewhere && caller->state == TS_REPLY && !caller->replier)
        ipc_abort(caller, UK_E_NO_REPLY);
}

/* --- aborts and teardown ------------------------------------------------------ */

void ipc_abort(struct thread *t, int err)
{
    thread_cancel_wait(t);
    if (t->fault_label) {                   /* nobody will handle its fault */
        if (log_ration())
            kprintf("ukernel: thread %lu: fault handler gone, thread stopped\n", t->id);
        t->fault_label = 0;
        t->state = TS_STOPPED;
        return;
    }
    set_result(t, err);
    sched_wake(t);
}

/* Dying (object.c): the slow paths refuse its caps (cap_lookup), and it
 * says "senders queued" from now on, whatever its queue holds, so that
 * neither fast path (fastpath.c: a call needs EPQ_RECV, a reply-recv
 * blocks only where it is not EPQ_SEND) touches it either; the fault path
 * finds no handler in it.  So no thread joins its queue any more. */
void endpoint_dying(struct endpoint *ep)
{
    ep->queue_kind = EPQ_SEND;
}

bool endpoint_drain_some(struct endpoint *ep, word *work)
{
    while (ep->queue) {
        if (*work < DESTROY_COST_WAITER)
            return false;
        *work -= DESTROY_COST_WAITER;
        ipc_abort(ep->queue, UK_E_DESTROYED);
    }
    return true;
}
