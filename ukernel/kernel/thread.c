/* Threads: creation, start, suspension and teardown. */
#include "thread.h"
#include "task.h"
#include "sched.h"
#include "ipc.h"
#include "vcpu.h"
#include "tqueue.h"
#include "kmem.h"
#include "lib.h"
#include "log.h"
#include "vspace.h"
#include "arch/arch.h"
#include "arch/cpu.h"

struct thread *current;
struct thread *entry_thread;
struct thread idle_thread;       /* stands in for `current` while halted */
struct thread gone_thread;       /* stands in for a destroyed entry_thread */
static word next_thread_id;

struct thread *thread_create(struct task *owner, struct task *in, u8 prio, int *err)
{
    struct quota *q = owner ? &owner->quota : NULL;
    word size = sizeof(struct thread);
    struct thread *t = kmem_alloc(q, size);
    if (!t) {
        *err = UK_E_NOMEM;
        return NULL;
    }
    t->fpu = kmem_alloc(q, xsave_size);
    if (!t->fpu) {
        kmem_free(q, t, size);
        *err = UK_E_NOMEM;
        return NULL;
    }
    fpu_area_init(t->fpu);               /* kmem_alloc zeroed it */
    kobj_link(&t->hdr, owner, UK_CAP_THREAD, size);
    t->task = in;
    t->as = in;
    t->syscall_fn = syscall_common;
    t->task_next = in->threads;
    if (in->threads)
        in->threads->task_prev = t;
    in->threads = t;
    t->state = TS_INACTIVE;
    t->regs_kind = REGS_FULL;
    t->regs.rflags = RFLAGS_IF | RFLAGS_RESERVED1;
    t->prio = prio;
    t->id = next_thread_id++;
    *err = UK_OK;
    return t;
}

/* Takes t out of every queue and partnership it is in. */
void thread_cancel_wait(struct thread *t)
{
    switch (t->state) {
    case TS_SEND:
    case TS_RECV:
        ep_queue_remove(t->wait_ep, t);
        break;
    case TS_NOTIF:
        tq_remove(&t->wait_notif->waiters, t);
        t->wait_notif = NULL;
        break;
    case TS_REPLY:
        if (t->replier)
            t->replier->reply_to = NULL;
        t->replier = NULL;
        cap_clear_type(&t->hdr, UK_CAP_REPLY);   /* saved reply rights die too
                                                    (at the list's head: cap.c) */
        break;
    case TS_RUNNABLE:
        if (t != current)
            sched_dequeue(&runqueue, t);
        break;
    }
    timeout_cancel(t);
}

void thread_suspend(struct thread *t)
{
    if (t->state >= TS_SEND && t->state <= TS_NOTIF && !t->fault_label)
        t->regs.rax = UK_E_CANCELLED;    /* its blocked call ends, when resumed */
    thread_cancel_wait(t);
    t->fault_label = 0;                  /* a pending fault is forgotten */
    t->state = TS_INACTIVE;
}

void thread_resume(struct thread *t)
{
    t->fault_label = 0;
    if (t != current)
        sched_wake(t);
    else
        t->state = TS_RUNNABLE;
}

void thread_start(struct thread *t, word rip, word rsp, word arg)
{
    thread_cancel_wait(t);
    vcpu_abandon_process(t);
    t->fault_label = 0;
    t->regs.rip = rip;
    t->regs.rsp = rsp;
    t->regs.rdi = arg;
    t->regs.rflags = RFLAGS_IF | RFLAGS_RESERVED1;
    t->regs_kind = REGS_FULL;
    if (t != current)
        sched_wake(t);
    else
        t->state = TS_RUNNABLE;
}


int thread_set_regs(struct thread *t, const struct uk_regs *r)
{
    if (r->rip >= UK_USER_MAP_TOP || r->fs_base >= UK_USER_MAP_TOP ||
        r->gs_base >= UK_USER_MAP_TOP)
        return UK_E_ADDR;
    vcpu_abandon_process(t);             /* a vCPU's process state is dropped */
    word vector = t->regs.vector, error = t->regs.error, cr2 = t->regs.cr2;
    t->regs = *r;
    t->regs.vector = vector;
    t->regs.error = error;
    t->regs.cr2 = cr2;
    t->regs.rflags = rflags_for_user(r->rflags);
    t->regs_kind = REGS_FULL;
    if (t == current)
        arch_set_tls(t->regs.fs_base, t->regs.gs_base);
    return UK_OK;
}

void thread_teardown(struct thread *t)
{
    thread_cancel_wait(t);
    if (t->reply_to) {                   /* our caller would wait forever */
        struct thread *caller = t->reply_to;
        t->reply_to = NULL;
        caller->replier = NULL;
        ipc_abort(caller, UK_E_DESTROYED);
    }
    if (t->bound)
        t->bound->bound = NULL;
    vcpu_teardown(t);
    cap_delete(&t->fault_ep);
    fpu_release(t);
    kmem_free(t->hdr.owner ? &t->hdr.owner->quota : NULL, t->fpu, xsave_size);
    t->fpu = NULL;
    t->state = TS_INACTIVE;
    if (t == entry_thread)
        entry_thread = &gone_thread;     /* the exit path saves registers here */
    if (t == current)
        current = &idle_thread;          /* schedule() picks someone else */
}

/* Its task's list keeps it until it is freed: a task being destroyed
 * finishes every thread in it before it goes on (object.c). */
void thread_unlink(struct thread *t)
{
    if (t->task_prev)
        t->task_prev->task_next = t->task_next;
    else
        t->task->threads = t->task_next;
    if (t->task_next)
        t->task_next->task_prev = t->task_prev;
}

void thread_block_current(void)
{
    schedule();
}
