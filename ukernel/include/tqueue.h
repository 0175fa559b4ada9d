/*
 * Circular, doubly linked FIFO queues of threads through q_next/q_prev:
 * each run-queue level, each endpoint's senders or receivers, each
 * notification's waiters.  *head is the first thread (next served) or NULL.
 * A thread is in at most one such queue (its state says which); outside
 * a queue its links mean nothing and are not cleared.
 */
#ifndef UK_TQUEUE_H
#define UK_TQUEUE_H

#include "thread.h"

/* Adds t at the tail; returns true if the queue was empty. */
static inline bool tq_append(struct thread **head, struct thread *t)
{
    struct thread *h = *head;
    if (!h) {
        t->q_next = t->q_prev = t;
        *head = t;
        return true;
    }
    t->q_next = h;
    t->q_prev = h->q_prev;
    t->q_prev->q_next = t;
    h->q_prev = t;
    return false;
}

/* Takes t out; returns true if the queue is now empty. */
static inline bool tq_remove(struct thread **head, struct thread *t)
{
    bool empty = t->q_next == t;
    if (empty) {
        *head = NULL;
    } else {
        t->q_prev->q_next = t->q_next;
        t->q_next->q_prev = t->q_prev;
        if (*head == t)
            *head = t->q_next;
    }
    return empty;
}

/* Takes the first thread out (the queue must not be empty); returns true
 * if the queue is now empty.  The IPC paths always serve the head. */
static inline bool tq_pop(struct thread **head)
{
    struct thread *t = *head;
    if (t->q_next == t) {
        *head = NULL;
        return true;
    }
    t->q_prev->q_next = t->q_next;
    t->q_next->q_prev = t->q_prev;
    *head = t->q_next;
    return false;
}

#endif
