/*
 * A toy guest kernel on the vCPU interface (a test fixture, not a
 * product): toyguest.c is the guest kernel and its processes,
 * test_toyguest.c the root side and the tests.
 *
 * The guest kernel runs as a vCPU thread in a task that shares the test
 * image (uk_task_new(share_image = 1)), so the root configures it and reads
 * its results through the global `toy`.  Its processes live in tasks of
 * their own and get nothing but what the guest maps for them: pages of the
 * `toyproc` code section (read + execute), a data page and stack pages
 * (read + write, from the guest's page pool), all on demand.
 *
 * The toy system-call ABI (rax = number, rdi/rsi/rdx = arguments, rax =
 * result; numbers borrowed from Linux, so some equal microkernel ones):
 */
#ifndef TOYGUEST_H
#define TOYGUEST_H

#include <uk/abi.h>

#define TOY_SYS_WRITE   1     /* (buf, len) -> len, or -TOY_EFAULT */
#define TOY_SYS_YIELD   24    /* () -> 0: the other process runs */
#define TOY_SYS_SLEEP   35    /* (ticks) -> 0: blocked for that many timer events */
#define TOY_SYS_GETPID  39    /* () -> pid (1..) */
#define TOY_SYS_EXIT    60    /* (code): does not return */
#define TOY_SYS_REPORT  500   /* (key < 8, value) -> 0: for the tests */
#define TOY_SYS_PREEMPTS 501  /* () -> how often the guest has preempted the caller
                                 (Linux's ru_nivcsw): for the tests */
#define TOY_EFAULT      14
#define TOY_ENOSYS      38

/* Addresses: in the guest kernel's task ... */
#define TOY_STATE_VA    0x0000500000000000ul   /* the vCPU state page */
#define TOY_KFAULT_VA   0x0000510000000000ul   /* touched unmapped (kernel-fault test) */
#define TOY_BAD_ENTRY   UK_USER_HALF_END   /* not canonical */
/* ... and in each process's task */
#define TOY_DATA_VA     0x0000600000000000ul   /* one data page */
#define TOY_STACK_TOP   0x0000700000000000ul   /* stack pages below this */
#define TOY_STACK_PAGES 16

/* Capability slots in the guest kernel's table */
#define TOY_SLOT_VNOTIF 12    /* the notification bound to its vCPU thread */
#define TOY_SLOT_SELF   13    /* its own task (kernel-fault test) */
#define TOY_SLOT_EP     14    /* an endpoint nobody sends to (idle test) */
#define TOY_SLOT_PROC0  16    /* process task i at TOY_SLOT_PROC0 + i */

#define TOY_MAX_PROCS   4
#define TOY_POOL_MAX    64

enum toy_mode {
    TOY_MODE_PROCESSES = 1,  /* run the configured processes until all end */
    TOY_MODE_MASK,           /* toggle irq_enabled until all `target` bits came */
    TOY_MODE_UPCALL,         /* irq_enabled = 1 busy loop until `target` upcalls */
    TOY_MODE_KFAULT,         /* touch TOY_KFAULT_VA, map it from the fault exit */
    TOY_MODE_IDLE_PENDING,   /* wait on the vCPU's notification with bits pending */
    TOY_MODE_BAD_ENTRY,      /* entry_ip not a user address, then a kernel fault */
};

enum toy_status {
    TOY_RUNNING = 0,
    TOY_EXITED,              /* exit(code) */
    TOY_KILLED_EXCEPTION,    /* vector in `vector` */
    TOY_KILLED_FAULT,        /* bad page fault: fault_addr, fault_access */
    TOY_KILLED_BUDGET,       /* preempted `budget` times */
    TOY_GONE,                /* its task was destroyed (resume: UK_E_CAP) */
};

/* Process entry points (toyguest.c, section toyproc); arg in rdi. */
typedef void toy_proc_fn(unsigned long arg);
toy_proc_fn toyp_hello, toyp_yielder, toyp_memory, toyp_div0, toyp_ud2, toyp_worker,
    toyp_spin, toyp_progress, toyp_fpu, toyp_read_kernel, toyp_read_state, toyp_ukcalls,
    toyp_sleeper;
#define TOY_ARG_AVX (1ul << 32)   /* toyp_fpu: the guest ORs this in if AVX is usable */

struct toy_proc_cfg {
    toy_proc_fn *fn;
    unsigned long arg;
    unsigned long budget;     /* kill after this many preemptions (0: never) */
    int fpu_arg;              /* OR TOY_ARG_AVX into arg when AVX is usable */
};

struct toy_proc_result {
    volatile long status;     /* enum toy_status */
    long exit_code;
    unsigned long vector, fault_addr, fault_access;
    unsigned long syscalls, preempts, code_faults, stack_faults, data_faults;
    long report[8];
    unsigned long unknown_nr[8], nunknown;
};

struct toy_shared {
    /* set by the root before the guest starts */
    int mode;
    int nprocs;
    struct toy_proc_cfg proc[TOY_MAX_PROCS];
    unsigned long pool, npool;        /* page pool, mapped in the guest at `pool` */
    unsigned long entry_stack_top;
    unsigned long target;             /* MASK: bit mask; UPCALL: count */
    volatile long abort;              /* root gave up waiting: stop loops */
    /* results */
    volatile long done;               /* 1: finished; < 0: guest kernel error */
    struct toy_proc_result res[TOY_MAX_PROCS];
    char out[2048];                   /* every write, as printed: "[pid N] text" */
    unsigned long outlen;
    char wtrace[256];                 /* written bytes only, in order */
    unsigned long wtlen;
    unsigned long ticks;              /* takes of event bits (processes mode) */
    unsigned long idle_waits, idle_notify;
    unsigned long bare_events;        /* EXIT_EVENTs with no bits pending */
    unsigned long avx, xsave_size, xsave_features;
    /* MASK / UPCALL */
    volatile unsigned long rx_bits, dup_bits, nbits;
    volatile unsigned long takes_masked, takes_enabled, takes_upcall, toggles;
    volatile unsigned long upcalls, frames_in_loop, frame_errors, reg_errors, loop_iters;
    unsigned long leaks;              /* upcall entries with another thread's registers */
    /* KFAULT */
    unsigned long kfaults, kfault_addr, kfault_access, kfault_vector;
    unsigned long kfault_value, kfault_alias, kfault_irq_after;
    /* IDLE_PENDING */
    long idle_err[2];                 /* [0] notification wait, [1] endpoint receive */
    unsigned long idle_flags[2], idle_tsc[2];
};
extern struct toy_shared toy;

/* What another thread holds in rbx, rbp, r12-r15 (TIMER_LEAKY in the
 * tests): never to be seen by the guest kernel on entry. */
#define TOY_LEAK_PAT(k) (0x1eac0000deadbe00ul + (k))

/* The guest kernel's first code (spawn it in the guest task; arg unused). */
void toy_guest_main(unsigned long arg);
/* Its exit entry point, for state->entry_ip (set by toy_guest_main). */
extern char toy_entry_stub[];

#endif
