/*
 * The system-call fuzzer (suite `fuzz`, docs/testing.md): what the root
 * (fuzz.c) and the hostile threads (hostile.c) share.  The hostile tasks
 * map this program's image, so these globals are one copy for all of them;
 * the hostile side never writes anything but its own context and the
 * counters.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include "ktest.h"

#define FZ_TASKS          3      /* hostile tasks per round */
#define FZ_THREADS        3      /* threads in each; thread 0 is a vCPU */
#define FZ_SLOTS          32     /* each hostile task's cap table */
#define FZ_STACK_PAGES    4
#define FZ_LAST_CALLS     32     /* calls each thread remembers, for a report */
#define FZ_KEEP_MAX       (2 + FZ_TASKS * (FZ_THREADS * 2 + 2))

/* The hostile tasks' tables, filled by the root before a round. */
enum {
    FZ_SLOT_SELF = 1,            /* its own task: READ|WRITE|CONTROL */
    FZ_SLOT_THREAD0 = 2,         /* its threads 0..FZ_THREADS-1 (itself among them) */
    FZ_SLOT_EP = 5,              /* the endpoint all hostile tasks share (badged) */
    FZ_SLOT_EP_PLAIN = 6,        /* the same endpoint, unbadged */
    FZ_SLOT_NOTIF = 7,           /* a notification all share */
    FZ_SLOT_IRQ_CONTROL = 8,
    FZ_SLOT_IRQ = 9,             /* one IRQ line no device uses */
    FZ_SLOT_PORT80 = 10,         /* I/O port 0x80 only */
    FZ_SLOT_NEIGHBOUR = 11,      /* the next hostile task: READ|WRITE|CONTROL */
    FZ_SLOT_PROCESS = 12,        /* a process task for its vCPU to run */
    FZ_SLOT_NEIGHBOUR_THREAD = 13, /* a thread of the next hostile task */
    FZ_SLOT_FIRST_FREE = 14,
};

/* The vCPU of hostile task t has its state page here (in task t). */
#define FZ_STATE_VA(t)    (0x0000500000000000ul + (uk_word_t)(t) * 0x10000ul)

struct fz_thread {
    uk_word_t rng;
    uk_word_t task, index;
    struct uk_ipc_buffer *buf;   /* its IPC buffer (its gs base may be junk) */
    struct uk_vcpu_state *state; /* thread 0: its vCPU state page; else 0 */
    uk_word_t entry_sp;          /* thread 0: where every vCPU exit enters */
    uk_word_t resuming;          /* a VCPU_RESUME is in flight */
    volatile uk_word_t calls;    /* calls it made (the root restarts a stuck thread) */
    uk_word_t last[FZ_LAST_CALLS][8];  /* its last calls: nr, args, result (ring) */
};

extern struct fz_thread fz_threads[FZ_TASKS][FZ_THREADS];
/* [first, end) ranges no hostile call may unmap, remap or alias writably:
 * the image, every thread's stack and IPC buffer, the vCPU entry stacks
 * and state pages. */
extern uk_word_t fz_keep[FZ_KEEP_MAX][2];
extern unsigned fz_nkeep;
/* Per system call (index UK_SYS_COUNT: numbers past the last): calls made
 * and calls that returned UK_OK (VCPU_RESUME: that entered the process). */
extern volatile uk_word_t fz_calls[UK_SYS_COUNT + 1], fz_ok[UK_SYS_COUNT + 1];
extern volatile uk_word_t fz_total;        /* all calls, for progress */
extern volatile uk_word_t fz_errors[UK_E_COUNT + 1];  /* by result (UK_E_COUNT: others) */
extern volatile uk_word_t fz_wrong;        /* NULL or YIELD that returned an error */

void fz_thread_main(struct fz_thread *c) __attribute__((noreturn));
void fz_vcpu_entry_stub(void);             /* where a vCPU exit enters */
extern char fz_process_code[];             /* what a process runs (syscall, ud2) */

#endif
