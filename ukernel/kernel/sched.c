/*
 * Fixed-priority round robin.  Invariant: the running thread (`current`)
 * is never in the run queue; every other TS_RUNNABLE thread is, exactly once.
 */
#include "sched.h"
#include "thread.h"
#include "tqueue.h"
#include "task.h"
#include "vspace.h"
#include "ipc.h"
#include "stats.h"
#ifndef UK_HOST_TEST
#include "arch/arch.h"
#include "arch/cpu.h"
#include "arch/switch.h"
#endif

struct runqueue runqueue;

void sched_enqueue(struct runqueue *rq, struct thread *t)
{
    if (tq_append(&rq->head[t->prio], t))
        rq->bitmap[t->prio / 64] |= 1ul << (t->prio % 64);
}

void sched_enqueue_front(struct runqueue *rq, struct thread *t)
{
    sched_enqueue(rq, t);
    rq->head[t->prio] = t;
}

void sched_dequeue(struct runqueue *rq, struct thread *t)
{
    if (tq_remove(&rq->head[t->prio], t))
        rq->bitmap[t->prio / 64] &= ~(1ul << (t->prio % 64));
}

int sched_highest_prio(struct runqueue *rq)
{
    for (int i = SCHED_LEVELS / 64 - 1; i >= 0; i--)
        if (rq->bitmap[i])
            return i * 64 + 63 - __builtin_clzl(rq->bitmap[i]);
    return -1;
}

struct thread *sched_peek(struct runqueue *rq)
{
    int p = sched_highest_prio(rq);
    return p < 0 ? NULL : rq->head[p];
}

#ifndef UK_HOST_TEST
void sched_wake(struct thread *t)
{
    t->state = TS_RUNNABLE;
    sched_enqueue(&runqueue, t);
}

void switch_to(struct thread *t)
{
    if (unlikely(t->fpu_eager && t != fpu_owner))
        fpu_switch(t);                       /* a vCPU: its FPU registers first (fpu.c) */
    arch_switch_to(t);
}

void schedule(void)
{
    struct thread *cur = current;
    if (cur->state == TS_RUNNABLE && cur != &idle_thread) {
        int hp = sched_highest_prio(&runqueue);
        if (hp < cur->prio || (hp == cur->prio && cur->timeslice > 0))
            return;                          /* keeps the CPU */
        if (cur->timeslice > 0)
            sched_enqueue_front(&runqueue, cur);   /* preempted: goes first */
        else
            sched_enqueue(&runqueue, cur);         /* slice used up: goes last */
    }
    struct thread *next;
    while (!(next = sched_peek(&runqueue))) {
        current = &idle_thread;              /* ticks while idle count here */
        u64 t0 = rdtsc();
        halt_until_interrupt();
        kstats.idle_tsc += rdtsc() - t0;     /* under -icount: time, not instructions */
    }
    sched_dequeue(&runqueue, next);
    if (next->timeslice == 0)
        next->timeslice = SCHED_TIMESLICE;
    switch_to(next);
}

void sched_tick(void)
{
    kstats.timer_ticks++;
    timeout_expire(rdtsc());
    if (current != &idle_thread && current->timeslice > 0)
        current->timeslice--;
}
#endif
