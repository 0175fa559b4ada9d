/* Switching the CPU to another thread: inline, because the IPC fast path
 * does it on every call. */
#ifndef ARCH_SWITCH_H
#define ARCH_SWITCH_H

#include "thread.h"
#include "task.h"
#include "vspace.h"
#include "stats.h"
#include "arch/cpu.h"
#include "arch/arch.h"

extern struct thread *fpu_owner;
extern bool fpu_ts_set;
extern word loaded_fs_base, loaded_gs_base;   /* what the MSRs hold now */
extern word loaded_kernel_gs;                 /* MSR_KERNEL_GS: a vCPU process's gs
                                                 base, swapped in (entry.asm) */

/* Switches to another address space than the loaded one. */
static inline __attribute__((always_inline)) void arch_switch_vspace(struct task *task)
{
    active_vspace = task;
    kstats.as_switches++;
    write_cr3(task->pml4_phys);
}

/* Loads fs_base into MSR_FS_BASE if it is not there. */
static inline __attribute__((always_inline)) void arch_load_fs(word fs_base)
{
    if (unlikely(fs_base != loaded_fs_base)) {
        loaded_fs_base = fs_base;
        wrmsr(MSR_FS_BASE, fs_base);
    }
}

/* Loads t's address space (t->as) and TLS bases, if not loaded already. */
static inline __attribute__((always_inline)) void arch_load_space(struct thread *t)
{
    struct task *task = t->as;
    if (task != active_vspace)                   /* another address space */
        arch_switch_vspace(task);
    arch_load_fs(t->regs.fs_base);
    if (unlikely(t->regs.gs_base != loaded_gs_base)) {
        loaded_gs_base = t->regs.gs_base;
        wrmsr(MSR_GS_BASE, loaded_gs_base);
    }
}

/* A vCPU's process is to run: its gs base into MSR_KERNEL_GS, where the
 * swapgs on the way out (entry.asm) takes it from. */
static inline __attribute__((always_inline)) void arch_load_process_gs(word gs_base)
{
    if (gs_base != loaded_kernel_gs) {
        loaded_kernel_gs = gs_base;
        wrmsr(MSR_KERNEL_GS, gs_base);
    }
}

/* A trap from a vCPU's process entered the kernel with the process's gs
 * base loaded (entry.asm does not swap on traps): the kernel's view back,
 * the process's base into MSR_KERNEL_GS (where loaded_kernel_gs says). */
static inline void arch_kernel_gs_after_process(void)
{
    __asm__ volatile("swapgs" ::: "memory");
}

/* Switches to next, whose FPU registers are loaded already if it is a vCPU
 * (fpu_eager): the scheduler's switch_to sees to that, and the IPC fast
 * path leaves such a switch to it. */
static inline void arch_switch_to(struct thread *next)
{
    arch_load_space(next);
    bool want_ts = next != fpu_owner;            /* FPU trap unless it owns it */
    if (unlikely(want_ts != fpu_ts_set)) {
        if (want_ts)
            stts();
        else
            clts();
        fpu_ts_set = want_ts;
    }
    current = next;
}

#endif
