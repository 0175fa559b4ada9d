/* Fixed-priority round-robin scheduling: 256 levels, a bitmap of non-empty
 * levels, FIFO within a level.  The running thread is not in the queue. */
#ifndef UK_SCHED_H
#define UK_SCHED_H

#include "types.h"

struct thread;

#define SCHED_LEVELS     256
#define SCHED_TIMESLICE  5        /* ticks */

struct runqueue {
    struct thread *head[SCHED_LEVELS];   /* circular doubly linked */
    u64 bitmap[SCHED_LEVELS / 64];
};

void sched_enqueue(struct runqueue *rq, struct thread *t);     /* at the tail */
void sched_enqueue_front(struct runqueue *rq, struct thread *t);
void sched_dequeue(struct runqueue *rq, struct thread *t);
struct thread *sched_peek(struct runqueue *rq);                /* highest, or NULL */
int  sched_highest_prio(struct runqueue *rq);                  /* -1 if empty */

extern struct runqueue runqueue;

/* Makes t runnable (enqueues it). */
void sched_wake(struct thread *t);
/* Chooses the next thread and switches to it (current may stay). */
void schedule(void);
/* Switches the CPU to t: address space, TLS bases, FPU trap. */
void switch_to(struct thread *t);
/* Timer tick: account the time slice, expire timeouts. */
void sched_tick(void);

#endif
