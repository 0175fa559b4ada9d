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

struct thread;
struct task;

struct vcpu {
    u64 state_phys;               /* the state page (thread->vcpu_state) */
    word state_va;                /* where it is mapped in thread->task */
    word flags;                   /* UK_VCPU_F_* */
    bool in_user;                 /* running (or preempted in) a process */
    bool in_upcall;               /* state->saved holds an interrupted frame */
    bool saved_irq;               /* irq_enabled when that frame was interrupted */
    struct task *process;         /* the process task while in_user */
    word kernel_fs, kernel_gs;    /* the guest kernel's TLS while a process runs */
    struct thread *next;          /* all vCPUs, for a process task's teardown */
};

int  vcpu_config(struct thread *t, struct task *charge, word state_va, word flags);
void vcpu_teardown(struct thread *t);
void vcpu_resume(word task_idx, word map_src, word map_dst, word map_rights);
/* A vCPU thread's syscall_fn: its guest kernel's system calls. */
void vcpu_kernel_syscall(word rdi, word rsi, word rdx, word r10, word r8, word r9, word nr);
/* entry.asm: a process's syscall_fn, then vcpu_syscall_exit (noreturn) */
void vcpu_syscall_entry(word rdi, word rsi, word rdx, word r10, word r8, word r9, word nr);
noreturn void vcpu_syscall_exit(void);
/* entry.asm: enter the guest kernel / run the process; never return */
noreturn void vcpu_to_kernel(word rip, word rsp, word rdi);
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
