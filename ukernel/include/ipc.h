/* Endpoints (synchronous IPC) and notifications (asynchronous bits). */
#ifndef UK_IPC_H
#define UK_IPC_H

#include "object.h"

struct thread;

/* An endpoint's queue holds only senders or only receivers. */
enum ep_queue_kind { EPQ_EMPTY = 0, EPQ_SEND, EPQ_RECV };

struct endpoint {
    struct kobj hdr;
    u8 queue_kind;
    struct thread *queue;        /* circular, FIFO; head is next served */
};

struct notification {
    struct kobj hdr;
    word bits;                   /* signalled, not yet taken */
    struct thread *waiters;      /* circular queue of TS_NOTIF threads */
    struct thread *bound;        /* thread whose endpoint receives also see us */
};

/* An IPC as the caller asked for it: message words 0-3 travel here. */
struct ipc_msg {
    word info;                   /* uk_msginfo */
    word w[UK_MSG_REG_WORDS];
};

void ep_queue_append(struct endpoint *ep, struct thread *t);
void ep_queue_remove(struct endpoint *ep, struct thread *t);

/* System calls (the current thread is the caller). */
void ipc_send(word cap, struct ipc_msg *m, bool call);
void ipc_recv(word cap, word info);
void ipc_reply(struct ipc_msg *m);
void ipc_reply_recv(word cap, struct ipc_msg *m);
int  ipc_reply_save(word slot);
int  ipc_send_reply_cap(struct cap *c, struct ipc_msg *m);

/* Kernel-made messages: the current thread faults to its handler. */
void ipc_send_fault(struct thread *t, word label, const word *words, word len);

/* Wakes a thread blocked in IPC with an error in rax. */
void ipc_abort(struct thread *t, int err);
/* Teardown hooks. */
/* Destruction (object.c): dying makes it unusable at once; drain wakes its
 * waiters with UK_E_DESTROYED while *work lasts (DESTROY_COST_WAITER
 * each), true when none is left. */
void endpoint_dying(struct endpoint *ep);
bool endpoint_drain_some(struct endpoint *ep, word *work);
void notification_dying(struct notification *n);
bool notification_drain_some(struct notification *n, word *work);
void reply_cap_deleted(struct thread *caller);

void notif_signal(struct notification *n, word bits);
void notif_wait(struct notification *n, word info);
/* If t (about to receive on an endpoint) has bound bits pending, delivers
 * them and returns true. */
bool notif_deliver_bound(struct thread *t);

/* System-call dispatch: the fast first stage (fastpath.c) and the rest. */
void syscall_dispatch(word rdi, word rsi, word rdx, word r10, word r8, word r9, word nr);
void syscall_slow(word rdi, word rsi, word rdx, word r10, word r8, word r9, word nr);

/* Timeouts */
void timeout_arm(struct thread *t, word encoded);
void timeout_cancel(struct thread *t);
void timeout_expire(u64 now);

#endif
