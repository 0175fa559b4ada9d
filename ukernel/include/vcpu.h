/*
 * vCPUs: threads that run a guest kernel and, through it, guest processes
 * in other address spaces (abi.h, struct uk_vcpu_state, tells the story
 * from the guest's side).  Kernel side: the state page is kernel memory
 * mapped into the vCPU's task; thread->as says whether the thread runs a
 * process now (vcpu_path.h, vcpu_in_process); thread->vcpu_in_upcall
 * whether state->saved holds a frame.
 */
#ifndef UK_VCPU_H
#define UK_VCPU_H

#include "types.h"
#include "thread.h"

struct task;

/* A place in the list of all vCPUs (vcpu.c): a vCPU's, or a dying task's
 * marker (thread NULL), which its destruction moves along the list in
 * parts (vcpu_task_dying_some); prev NULL: not in the list. */
struct vcpu_link {
    struct vcpu_link *prev, *next;
    struct thread *thread;        /* the vCPU, or NULL for a marker */
};

struct vcpu {
    u64 state_phys;               /* the state page (thread->vcpu_state) */
    word flags;                   /* UK_VCPU_F_* */
    /* While it is preempted in a process, the process's TLS bases, as the
     * resume checked and loaded them (vcpu_user_trap takes them from the
     * MSRs: while a process runs they are nowhere else the guest cannot
     * rewrite); thread->regs keeps the guest kernel's. */
    word user_fs;                 /* the process's fs base (MSR_FS_BASE) */
    word user_gs;                 /* the process's gs base (MSR_KERNEL_GS) */
    struct vcpu_link all;         /* in the list of all vCPUs (vcpu.c), for a
                                     process task's teardown; taken out in O(1) */
};

int  vcpu_config(struct thread *t, struct task *charge, word state_va, word flags);
void vcpu_teardown(struct thread *t);
/* UK_SYS_VCPU_RESUME, the slow path: everything the fast path
 * (fastpath.c, vcpu_fastpath_resume) does not serve, and a RESUME from a
 * thread that is no vCPU. */
void vcpu_resume(word task_idx, word map_src, word map_dst, word map_rights);
/* The fast path (fastpath.c), from entry.asm: a vCPU's RESUME. */
void vcpu_fastpath_resume(word task_idx, word map_src, word map_dst, word map_rights);

/* entry.asm: a vCPU's syscall_fn in its guest kernel, and while it runs a
 * process (see the story in vcpu.c) */
syscall_entry_t vcpu_kernel_entry, vcpu_process_entry;
/* entry.asm: the fast resume's way to vcpu_resume (the rest of a syscall
 * entry), with vcpu_resume's arguments. */
void vcpu_resume_slow(word task_idx, word map_src, word map_dst, word map_rights);
/* entry.asm, never returning (not declared noreturn, so that the C
 * reaches it by a jump, not a call): run the process from regs (checked)
 * with rflags (safe) and swapgs. */
void vcpu_to_user(word rflags, const struct uk_regs *regs);
/* From entry.asm on the way back into a process it was interrupted in:
 * its TLS bases into MSR_FS_BASE and MSR_KERNEL_GS (swapgs follows). */
void vcpu_process_tls(void);
/* A trap while the vCPU runs a process; true if handled as an exit. */
bool vcpu_user_trap(struct thread *t);
/* A fault of the guest kernel itself; true if delivered as an exit. */
bool vcpu_kernel_fault(struct thread *t, word vector, word addr, word access);
/* Event bits for a vCPU (from a notification bound to it). */
void vcpu_event(struct thread *t, word bits);
/* Its registers are being set from outside (start, write): a vCPU that was
 * running a process is back in its own task, the process's state dropped. */
void vcpu_abandon_process(struct thread *t);
/* A process task is going away: vCPUs running it return to their kernels.
 * In parts (charged to *work: DESTROY_COST_VCPU a vCPU passed, DESTROY_COST_WAITER
 * one sent back): the
 * task's marker walks the list of all vCPUs; true once it reached the end. */
bool vcpu_task_dying_some(struct task *process, word *work);

#endif
