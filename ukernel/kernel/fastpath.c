/*
 * The IPC fast path: call, and reply-and-receive, in the common case where
 * the partner is already waiting and the message fits in registers.  It
 * switches straight to the partner without the scheduler.  Each check
 * below either holds or sends the call to the slow path (endpoint.c)
 * with nothing changed; the commit part after the checks cannot fail.
 *
 * Why no scheduler: at syscall entry no runnable thread outranks the
 * caller (schedule() runs after every wake-up), so a partner of at least
 * the caller's priority is a correct choice to run next.
 */
#include "ipc.h"
#include "tqueue.h"
#include "vcpu.h"
#include "vcpu_path.h"
#include "thread.h"
#include "task.h"
#include "sched.h"
#include "stats.h"
#include "arch/switch.h"

/* Length within the registers and an infinite timeout.  (A macro: as an
 * inline function GCC 12 spends a register and 3 instructions more on
 * reply-recv.) */
#define FAST_INFO_OK(info) \
    (uk_msg_timeout_is(info, UK_TIMEOUT_INFINITE) && uk_msg_len(info) <= UK_MSG_REG_WORDS)

static inline void deliver_regs(struct thread *to, word badge, const struct ipc_msg *m)
{
    to->regs.rax = UK_OK;
    to->regs.rdi = badge;
    to->regs.rsi = uk_msg_label_len(m->info);          /* no timeout, no flags */
    to->regs.rdx = m->w[0];
    to->regs.r10 = m->w[1];
    to->regs.r8 = m->w[2];
    to->regs.r9 = m->w[3];
}

static inline bool fastpath_call(word cap_idx, const struct ipc_msg *m)
{
    struct thread *self = current;
    struct cspace *cs = &self->task->cspace;

    if (unlikely(!FAST_INFO_OK(m->info)))                /* short message, no timeout */
        return false;
    if (unlikely(cap_idx >= cs->nslots))                 /* slot exists */
        return false;
    struct cap *c = &cs->slots[cap_idx];
    if (unlikely(c->type != UK_CAP_ENDPOINT || !(c->rights & UK_R_WRITE)))
        return false;                                    /* an endpoint we may send to */
    struct endpoint *ep = (struct endpoint *)c->obj;
    if (unlikely(ep->queue_kind != EPQ_RECV))            /* a receiver waits */
        return false;
    struct thread *dst = ep->queue;
    if (unlikely(dst->prio < self->prio))                /* it may run before everyone */
        return false;
    if (unlikely(dst->deadline != 0))                    /* its receive has no timeout */
        return false;
    if (unlikely(dst->fpu_eager && dst != fpu_owner))    /* no vCPU FPU state to load */
        return false;

    /* commit: dequeue the receiver, give it our reply right, run it */
    if (tq_pop(&ep->queue))
        ep->queue_kind = EPQ_EMPTY;
    /* dst->wait_ep is stale from here: it means something only in TS_SEND
     * and TS_RECV; self->fault_label is 0, as for any thread in a syscall */
    self->state = TS_REPLY;
    self->replier = dst;
    dst->reply_to = self;
    dst->state = TS_RUNNABLE;
    deliver_regs(dst, c->badge, m);
    kstats.ipc_fastpath++;
    arch_switch_to(dst);
    return true;
}

static inline bool fastpath_reply_recv(word cap_idx, const struct ipc_msg *m)
{
    struct thread *self = current;
    struct cspace *cs = &self->task->cspace;
    struct thread *caller = self->reply_to;

    if (unlikely(!FAST_INFO_OK(m->info)))                /* short message, no timeout */
        return false;
    if (unlikely(!caller))                               /* someone waits for our reply */
        return false;
    if (unlikely(caller->fault_label || caller->deadline))
        return false;                                    /* a plain call without timeout */
    if (unlikely(caller->prio < self->prio))             /* it may run before everyone */
        return false;
    if (unlikely(caller->fpu_eager && caller != fpu_owner))
        return false;                                    /* no vCPU FPU state to load */
    if (unlikely(cap_idx >= cs->nslots))                 /* slot exists */
        return false;
    struct cap *c = &cs->slots[cap_idx];
    if (unlikely(c->type != UK_CAP_ENDPOINT || !(c->rights & UK_R_READ)))
        return false;                                    /* an endpoint we may receive on */
    struct endpoint *ep = (struct endpoint *)c->obj;
    if (unlikely(ep->queue_kind == EPQ_SEND))            /* no sender waits: we block */
        return false;
    if (unlikely(self->bound && (self->bound->bits ||    /* no notification pending */
                                 (self->vcpu_state && self->vcpu_state->pending))))
        return false;                                    /* (nor vCPU events) */

    /* commit: answer the caller, queue ourselves as a receiver, run it
     * (caller->replier goes stale: it means something only in TS_REPLY) */
    self->reply_to = NULL;
    caller->state = TS_RUNNABLE;
    deliver_regs(caller, 0, m);
    self->state = TS_RECV;
    self->wait_ep = ep;
    if (tq_append(&ep->queue, self))
        ep->queue_kind = EPQ_RECV;
    kstats.ipc_fastpath++;
    arch_switch_to(caller);
    return true;
}

/*
 * The vCPU fast path: the guest kernel's RESUME of a process (vcpu.c tells
 * the story), from entry.asm's vcpu_kernel_entry without the usual syscall
 * entry.  Each check either holds or sends the call to the slow path
 * (vcpu_resume_slow: the rest of a syscall entry, then vcpu.c's
 * vcpu_resume) with nothing changed; the commit, vcpu_path.h's
 * vcpu_run_process, is the slow path's too and cannot fail.  Nothing of the
 * guest kernel's registers is kept: every exit enters it afresh.
 */
void vcpu_fastpath_resume(word task_idx, word map_src, word map_dst, word map_rights)
{
    struct thread *self = current;
    struct cspace *cs = &self->task->cspace;

    kstats.kernel_entries++;                             /* (fast or slow) */
    if (unlikely(map_rights || task_idx == 0))           /* no mapping rides along, */
        return vcpu_resume_slow(task_idx, map_src, map_dst, map_rights);
                                                         /* not an upcall's return */
    if (unlikely(task_idx >= cs->nslots))                /* slot exists */
        goto slow;
    struct cap *c = &cs->slots[task_idx];
    if (unlikely(c->type != UK_CAP_TASK))                /* a task */
        goto slow;
    if (unlikely(!(c->rights & UK_R_CONTROL)))           /* that we may run */
        goto slow;
    struct task *p = (struct task *)c->obj;
    if (unlikely(p == self->task))                       /* not the guest kernel's own */
        goto slow;
    struct uk_vcpu_state *s = self->vcpu_state;
    if (unlikely((s->user.rip | s->user.fs_base | s->user.gs_base) >= UK_USER_MAP_TOP))
        goto slow;                                       /* rip, TLS bases: user addresses
                                                            (or'd: a few valid sets go slow) */
    if (unlikely(vcpu_events_pending(s)))                /* no events to take first */
        goto slow;
    return vcpu_run_process(self, s, p);                 /* commit (vcpu_path.h) */
slow:                                                    /* (nothing rides along) */
    return vcpu_resume_slow(task_idx, 0, 0, 0);
}

/* Call and reply-recv: the fast path, or the slow one. */
noinline
static void sys_call(word rdi, word rsi, word rdx, word r10, word r8, word r9)
{
    struct ipc_msg m = { rsi, { rdx, r10, r8, r9 } };
    if (!fastpath_call(rdi, &m))
        syscall_slow(rdi, rsi, rdx, r10, r8, r9, UK_SYS_CALL);
}

noinline
static void sys_reply_recv(word rdi, word rsi, word rdx, word r10, word r8, word r9)
{
    struct ipc_msg m = { rsi, { rdx, r10, r8, r9 } };
    if (!fastpath_reply_recv(rdi, &m))
        syscall_slow(rdi, rsi, rdx, r10, r8, r9, UK_SYS_REPLY_RECV);
}

/*
 * The first C code of every system call (from entry.asm): a leaf that
 * answers the null call itself and sends call, reply-recv and the vCPU
 * resume to their own paths by tail calls, so none of them pays for what
 * the others need.
 */
void syscall_dispatch(word rdi, word rsi, word rdx, word r10, word r8, word r9, word nr)
{
    if (nr == UK_SYS_NULL) {
        current->regs.rax = UK_OK;
        return;
    }
    if (nr == UK_SYS_CALL)
        return sys_call(rdi, rsi, rdx, r10, r8, r9);
    if (nr == UK_SYS_REPLY_RECV)
        return sys_reply_recv(rdi, rsi, rdx, r10, r8, r9);
    if (nr == UK_SYS_VCPU_RESUME)          /* wakes no one: no scheduling after it */
        return vcpu_resume(rdi, rsi, rdx, r10);
    syscall_slow(rdi, rsi, rdx, r10, r8, r9, nr);
}
