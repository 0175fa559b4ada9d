/*
 * vCPUs: threads that run a guest kernel and, through it, guest processes
 * in other address spaces (abi.h, struct uk_vcpu_state, tells the story
 * from the guest's side).  Kernel side: the state page is kernel memory
 * mapped into the vCPU's task; `in_user` says whether the thread runs a
 * process now; `in_upcall` whether state->saved holds a frame.
 */
#ifndef UK_VCPU_H
#define UK_VCPU_H

#include "types.h"
#include "thread.h"

struct task;

struct vcpu {
    u64 state_phys;               /* the state page (thread->vcpu_state) */
    word state_va;                /* where it is mapped in thread->task */
    word flags;                   /* UK_VCPU_F_* */
    bool in_user;                 /* running (or preempted in) a process */
    bool in_upcall;               /* state->saved holds an interrupted frame
                                     (entry.asm clears both in one store) */
    bool saved_irq;               /* irq_enabled when that frame was interrupted */
    /* While in_user: the process task is thread->as; thread->regs.fs_base is
     * the process's fs base, thread->regs.gs_base still the guest kernel's. */
    word kernel_fs;               /* the guest kernel's fs base */
    word user_gs;                 /* the process's gs base (MSR_KERNEL_GS) */
    struct thread *next;          /* all vCPUs, for a process task's teardown */
};

int  vcpu_config(struct thread *t, struct task *charge, word state_va, word flags);
void vcpu_teardown(struct thread *t);
/* UK_SYS_VCPU_RESUME in C: everything entry.asm's vcpu_kernel_entry does
 * not serve itself (and a RESUME from a thread that is no vCPU). */
void vcpu_resume(word task_idx, word map_src, word map_dst, word map_rights);
/* entry.asm: a vCPU's syscall_fn in its guest kernel, and while it runs a
 * process (see the story in vcpu.c) */
syscall_entry_t vcpu_kernel_entry, vcpu_process_entry;
/* From entry.asm on the way back into a process: its gs base into
 * MSR_KERNEL_GS (swapgs follows). */
void vcpu_process_tls(void);
/* entry.asm: enter the guest kernel / run the process; never return */
noreturn void vcpu_to_user(const struct uk_regs *regs);
/* A trap while the vCPU runs a process; true if handled as an exit. */
bool vcpu_user_trap(struct thread *t);
/* A fault of the guest kernel itself; true if delivered as an exit. */
bool vcpu_kernel_fault(struct thread *t, word vector, word addr, word access);
/* Event bits for a vCPU (from a notification bound to it). */
void vcpu_event(struct thread *t, word bits);
/* Its registers are being set from outside (start, write): a vCPU that was
 * running a process is back in its own task, the process's state dropped. */
void vcpu_abandon_process(struct thread *t);
/* A process task is going away: vCPUs running it return to their kernels. */
void vcpu_task_dying(struct task *process);

#endif
