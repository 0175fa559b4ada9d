/*
 * Threads.  The saved user registers come first so the entry code can use
 * the thread pointer as a pointer to them (entry.asm takes the offsets
 * from asm-offsets.c, which checks that).
 */
#ifndef UK_THREAD_H
#define UK_THREAD_H

#include "object.h"
#include "cap.h"

struct task;
struct endpoint;
struct notification;
struct vcpu;

/* How the thread leaves the kernel next, so the exit path (entry.asm)
 * restores the right set.  Every exit path resets it to REGS_SYSCALL: the
 * syscall entry does not store it, a trap sets REGS_FULL. */
enum regs_kind {
    REGS_SYSCALL = 0,    /* entered by syscall: rbx rbp r12-r15 saved only at a
                            switch; results in rax rdi rsi rdx r10 r8 r9 */
    REGS_FULL = 1,       /* all registers valid (trap, or written by a handler) */
    REGS_VCPU_USER = 2,  /* vCPU interrupted in its process: as REGS_FULL, and
                            the way back swaps in the process's gs (vcpu.c) */
    REGS_VCPU_ENTRY = 3, /* vCPU: enter the guest kernel at regs.rip/rsp, rdi */
};

/* Where a thread's `syscall` instruction goes on (entry.asm), with rsp =
 * the thread: an assembly label, not a C function. */
typedef void syscall_entry_t(void);
extern syscall_entry_t syscall_common;   /* the usual: rip, rflags, rsp kept, then C */

enum thread_state {
    TS_INACTIVE = 0,   /* created, not started; or suspended */
    TS_RUNNABLE,       /* current, or in the run queue */
    TS_SEND,           /* blocked sending (or calling) on wait_ep */
    TS_RECV,           /* blocked receiving on wait_ep */
    TS_REPLY,          /* sent a call (or a fault), waiting for the reply */
    TS_NOTIF,          /* blocked waiting on wait_notif */
    TS_STOPPED,        /* faulted with no handler; only suspend/start/destroy */
};

struct thread {
    struct uk_regs regs;          /* must stay first: see entry.asm */
    u8 regs_kind;                 /* enum regs_kind */
    u8 state;                     /* enum thread_state */
    u8 prio;                      /* 0 (lowest) .. 255 */
    u8 call_kind;                 /* waiting-send flavour: SEND_* below */
    u16 fault_label;              /* UK_FAULT_* while faulting to a handler, else 0 */
    /* A vCPU's upcall frame (vcpu.c; here, not in struct vcpu, because every
     * resume of a process clears it: no load of thread->vcpu for it) */
    bool vcpu_in_upcall;          /* state->saved holds an interrupted frame */
    bool vcpu_saved_irq;          /* irq_enabled when that frame was interrupted */
    syscall_entry_t *syscall_fn;  /* where its syscall instruction goes (entry.asm):
                                     syscall_common, or a vCPU's entries */
    struct uk_vcpu_state *vcpu_state; /* vCPU state page (kernel address), or NULL */
    word vcpu_state_va;           /* where its task sees the state page (rdi at
                                     every entry of its guest kernel) */
    struct kobj hdr;
    struct task *task;            /* its task: capabilities, home address space */
    struct task *as;              /* address space it runs in now: task, or the
                                     process task a vCPU has resumed */
    struct vcpu *vcpu;            /* vCPU bookkeeping, or NULL (vcpu.c) */
    struct thread *task_next;     /* in task->threads */
    struct thread *task_prev;

    struct thread *q_next;        /* run queue, or an endpoint queue */
    struct thread *q_prev;
    struct endpoint *wait_ep;     /* in its queue when TS_SEND / TS_RECV */
    struct notification *wait_notif;
    u64 deadline;                 /* TSC of the IPC timeout; 0: none */
    struct thread *tq_next;       /* in the timeout list, by deadline */
    struct thread *tq_prev;

    word send_badge;              /* while TS_SEND: badge of the cap used */
    struct thread *reply_to;      /* caller whose one-shot reply right we hold */
    struct thread *replier;       /* while TS_REPLY: who holds our reply right
                                     (NULL when saved in a REPLY cap) */
    struct cap fault_ep;          /* the thread's own copy of its fault endpoint */
    word ipc_buffer;              /* user address of its IPC buffer page, or 0 */
    struct notification *bound;   /* bound notification, or NULL */
    word timeslice;               /* ticks left in this slice */
    void *fpu;                    /* XSAVE area */
    bool fpu_eager;               /* a vCPU: its FPU registers loaded whenever it runs (fpu.c) */
    word fault_words[UK_MSG_REG_WORDS]; /* page-fault message while faulting */
    word id;                      /* for the log */
};

#define SEND_PLAIN 0
#define SEND_CALL  1

extern struct thread *current;        /* the running thread (never NULL after boot) */
/* Who entered by syscall (see entry.asm): never NULL after a syscall entry;
 * a destroyed one is replaced by gone_thread. */
extern struct thread *entry_thread;
extern struct thread gone_thread;
extern struct thread idle_thread;

/* A new, inactive thread running in `in`, charged to owner, at priority prio. */
struct thread *thread_create(struct task *owner, struct task *in, u8 prio, int *err);
/* Destruction (object.c): teardown makes it inert (off every queue, its
 * caller answered, its vCPU and FPU state gone); unlink takes it out of
 * its task's list just before it is freed. */
void thread_teardown(struct thread *t);
void thread_unlink(struct thread *t);
void thread_start(struct thread *t, word rip, word rsp, word arg);
void thread_suspend(struct thread *t);
/* Makes an inactive or stopped thread run on from its saved registers. */
void thread_resume(struct thread *t);
/* Takes t off whatever it is blocked on, as if never blocked. */
void thread_cancel_wait(struct thread *t);
/* Sets user registers (sanitised: user rip/rsp, safe rflags); UK_E_ADDR if
 * rip or a base is not a user address. */
int thread_set_regs(struct thread *t, const struct uk_regs *r);
/* Blocks the current thread (state already set); picks who runs next. */
void thread_block_current(void);

#endif
