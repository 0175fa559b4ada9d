/*
 * The steps of a vCPU's round trip that the fast paths (fastpath.c) and the
 * slow path (vcpu.c) both take, written once (vcpu.c tells the story).
 * Inline: the fast paths are counted in instructions (bench vcpu.syscall,
 * docs/ukernel-performance.md).
 *
 * While a vCPU runs a process, the process task is thread->as (and
 * vcpu_in_process says so); thread->regs, TLS bases included, stay the
 * guest kernel's; the process's TLS bases are in the MSRs (loaded_fs_base
 * and loaded_kernel_gs say so), and in vcpu->user_fs/user_gs once an
 * interrupt has taken it off the CPU (vcpu.c, vcpu_user_trap).
 */
#ifndef UK_VCPU_PATH_H
#define UK_VCPU_PATH_H

#include "vcpu.h"
#include "thread.h"
#include "task.h"
#include "stats.h"
#include "arch/switch.h"
#include "arch/cpu.h"

static inline bool vcpu_in_process(const struct thread *t)
{
    return t->as != t->task;             /* a process is never the vCPU's own task */
}

/* The process's registers may be run: rip and the TLS bases are user
 * addresses (iretq and wrmsr fault in the kernel on others). */
static inline bool vcpu_user_addrs_ok(const struct uk_vcpu_state *s)
{
    return s->user.rip < UK_USER_MAP_TOP && s->user.fs_base < UK_USER_MAP_TOP &&
           s->user.gs_base < UK_USER_MAP_TOP;
}

/* Event bits wait in the state page.  One plain read: `pending` is
 * volatile for the guest's loops, and GCC loads a volatile into a register
 * before comparing it (one instruction more on the resume). */
static inline bool vcpu_events_pending(const struct uk_vcpu_state *s)
{
    return *(const uk_word_t *)&s->pending != 0;
}

/* The exit's record in the state page: why, and events off (entry.asm's
 * vcpu_process_entry stores the same for a process's syscall). */
static inline void vcpu_note_exit(struct uk_vcpu_state *s, word reason)
{
    s->exit_reason = reason;
    s->irq_enabled = 0;
    s->exits++;
}

/* Back from a process into the guest kernel's task (its address space is
 * loaded by the caller, or by the switch to t; vcpu_process_entry does the
 * same for a process's syscall). */
static inline void vcpu_leave_process(struct thread *t)
{
    t->as = t->task;
    t->syscall_fn = vcpu_kernel_entry;
}

/* Runs process p from state->user, checked by vcpu_user_addrs_ok; t is
 * current, in its guest kernel's address space.  Never returns (the last
 * step of its caller: vcpu_to_user is reached by a jump). */
static inline __attribute__((always_inline))
void vcpu_run_process(struct thread *t, struct uk_vcpu_state *s, struct task *p)
{
    word fs = s->user.fs_base, gs = s->user.gs_base;
    t->vcpu_in_upcall = false;           /* running a process abandons a saved frame */
    t->as = p;
    t->syscall_fn = vcpu_process_entry;
    arch_switch_vspace(p);               /* p is not the guest kernel's task: not loaded */
    arch_load_fs(fs);                    /* the MSRs keep fs and gs for vcpu_user_trap */
    arch_load_process_gs(gs);            /* (the guest may rewrite the state page) */
    return vcpu_to_user(rflags_for_user(s->user.rflags), &s->user);
}

#endif
