/*
 * vCPUs (vcpu.h, abi.h "The vCPU state page").
 *
 * The story of a guest process's system call, the path this file is
 * shaped around (bench: vcpu.syscall):
 *   1. The guest kernel calls UK_SYS_VCPU_RESUME(process task); its
 *      syscall_fn (vcpu_kernel_syscall) sends it straight to vcpu_resume,
 *      whose checks pass, and run_process switches to the process's address
 *      space and TLS, points syscall_fn at vcpu_syscall_entry and leaves
 *      through entry.asm's iret code loading state->user.
 *   2. The process executes `syscall`.  The entry stub saves rip, rflags,
 *      rsp as for any thread and calls syscall_fn: vcpu_syscall_entry
 *      (entry.asm) stores every other register into state->user, and
 *      vcpu_syscall_exit copies those three, switches back and enters the
 *      guest kernel by sysret: rip = entry_ip, rsp = entry_sp, rdi = the
 *      state page.
 * Exits from traps and events take the general way instead: the thread is
 * marked REGS_VCPU_ENTRY and exit_to_user enters the guest kernel.
 * Nothing of the guest kernel's own registers is kept across a resume:
 * every exit enters it afresh, as an exception would.
 */
#include "vcpu.h"
#include "thread.h"
#include "task.h"
#include "sched.h"
#include "ipc.h"
#include "vspace.h"
#include "kmem.h"
#include "stats.h"
#include "lib.h"
#include "log.h"
#include "arch/arch.h"
#include "arch/switch.h"

static struct thread *vcpus;          /* all vCPU threads, via vcpu->next */

#define RFLAGS_IF 0x200ul

int vcpu_config(struct thread *t, struct task *charge, word state_va, word flags)
{
    if (t->vcpu)
        return UK_E_BUSY;
    if (state_va & ~PAGE_MASK || state_va >= USER_MAP_TOP)
        return UK_E_ADDR;
    if (flags & ~(word)UK_VCPU_F_KERNEL_FAULTS)
        return UK_E_INVAL;
    u64 pa;
    unsigned rights;
    if (vspace_lookup(t->task, state_va, &pa, &rights) == UK_OK)
        return UK_E_BUSY;                     /* something is mapped there */
    /* charged to the thread's owner, which vcpu_teardown refunds */
    struct quota *q = charge ? &charge->quota : NULL;
    struct vcpu *v = kmem_alloc(q, sizeof *v);
    struct uk_vcpu_state *s = kmem_alloc(q, PAGE_SIZE);
    if (!v || !s) {
        if (v) kmem_free(q, v, sizeof *v);
        if (s) kmem_free(q, s, PAGE_SIZE);
        return UK_E_NOMEM;
    }
    int err = vspace_map_boot(t->task, state_va, kmem_phys(s), UK_MAP_READ | UK_MAP_WRITE);
    if (err) {
        kmem_free(q, v, sizeof *v);
        kmem_free(q, s, PAGE_SIZE);
        return err;
    }
    s->xsave_size = xsave_size;
    s->xsave_features = xsave_features;
    v->state_phys = kmem_phys(s);
    v->state_va = state_va;
    v->flags = flags;
    v->next = vcpus;
    vcpus = t;
    t->vcpu = v;
    t->vcpu_state = s;
    t->syscall_fn = vcpu_kernel_syscall;
    return UK_OK;
}

void vcpu_teardown(struct thread *t)
{
    struct vcpu *v = t->vcpu;
    if (!v)
        return;
    for (struct thread **p = &vcpus; *p; p = &(*p)->vcpu->next)
        if (*p == t) {
            *p = v->next;
            break;
        }
    /* take back the state page from wherever the guest still maps it */
    u64 pa;
    unsigned rights;
    if (vspace_lookup(t->task, v->state_va, &pa, &rights) == UK_OK &&
        (pa & PAGE_MASK) == v->state_phys)
        vspace_unmap(t->task, v->state_va, 1);
    struct quota *q = t->hdr.owner ? &t->hdr.owner->quota : NULL;
    kmem_free(q, t->vcpu_state, PAGE_SIZE);
    kmem_free(q, v, sizeof *v);
    t->vcpu = NULL;
    t->vcpu_state = NULL;
    t->as = t->task;
}

/* Leaves user mode for the guest kernel's address space and TLS. */
static void leave_process(struct thread *t)
{
    struct vcpu *v = t->vcpu;
    struct uk_vcpu_state *s = t->vcpu_state;
    s->user.fs_base = t->regs.fs_base;
    s->user.gs_base = t->regs.gs_base;
    t->regs.fs_base = v->kernel_fs;
    t->regs.gs_base = v->kernel_gs;
    v->in_user = false;
    t->as = t->task;
    t->syscall_fn = vcpu_kernel_syscall;
}

/* Makes t enter its guest kernel at entry_ip on its way out of the kernel
 * (now if it is current, or when it next runs). */
static void enter_kernel(struct thread *t, word reason)
{
    struct uk_vcpu_state *s = t->vcpu_state;
    s->exit_reason = reason;
    s->irq_enabled = 0;
    s->exits++;
    /* sysret to a non-canonical rip faults in ring 0 on Intel CPUs, on the
     * guest's stack: an entry point outside user space enters at the
     * never-mapped last user page instead, so the thread faults in user mode */
    t->regs.rip = s->entry_ip < USER_MAP_TOP ? s->entry_ip : USER_MAP_TOP;
    t->regs.rsp = s->entry_sp;
    t->regs.rdi = t->vcpu->state_va;
    t->regs_kind = REGS_VCPU_ENTRY;
    if (t == current)
        arch_switch_to(t, t);            /* its own address space and TLS now */
}

/* Step 2 of the story: the process ran `syscall`.  entry.asm
 * (vcpu_syscall_entry) has put its registers in state->user, all but rip,
 * rflags and rsp, which the syscall entry left in the thread.  The
 * process's TLS bases stay in state->user: it cannot change them itself. */
noreturn void vcpu_syscall_exit(void)
{
    struct thread *t = current;
    struct vcpu *v = t->vcpu;
    struct uk_vcpu_state *s = t->vcpu_state;
    s->user.rip = t->regs.rip;
    s->user.rsp = t->regs.rsp;
    s->user.rflags = t->regs.rflags;
    s->exit_reason = UK_VCPU_EXIT_SYSCALL;
    s->irq_enabled = 0;
    s->exits++;
    v->in_user = false;
    t->regs.fs_base = v->kernel_fs;
    t->regs.gs_base = v->kernel_gs;
    t->as = t->task;
    t->syscall_fn = vcpu_kernel_syscall;
    arch_load_space(t);
    /* sysret to a non-canonical rip faults in ring 0 on Intel CPUs: see enter_kernel */
    vcpu_to_kernel(s->entry_ip < USER_MAP_TOP ? s->entry_ip : USER_MAP_TOP,
                   s->entry_sp, v->state_va);
}

/* A vCPU's system calls while its guest kernel runs: resume first. */
void vcpu_kernel_syscall(word rdi, word rsi, word rdx, word r10, word r8, word r9, word nr)
{
    if (nr == UK_SYS_VCPU_RESUME)
        return vcpu_resume(rdi, rsi, rdx, r10);
    syscall_dispatch(rdi, rsi, rdx, r10, r8, r9, nr);
}

/* Moves a process's full register set (saved by a trap, or left by a
 * preemption) into the state page. */
static void save_user_regs(struct thread *t)
{
    struct uk_vcpu_state *s = t->vcpu_state;
    word fs = s->user.fs_base, gs = s->user.gs_base;
    memcpy(&s->user, &t->regs, sizeof s->user);
    s->user.fs_base = fs;
    s->user.gs_base = gs;
}

bool vcpu_user_trap(struct thread *t)
{
    struct uk_vcpu_state *s = t->vcpu_state;
    word vector = t->regs.vector;
    if (vector >= 32 || vector == 7)
        return false;                    /* interrupts and #NM: not the process's doing */
    save_user_regs(t);
    leave_process(t);
    if (vector == 14) {
        word err = t->regs.error;
        s->exit_addr = t->regs.cr2;
        s->exit_access = UK_ACCESS_USER | ((err & 2) ? UK_ACCESS_WRITE : UK_ACCESS_READ) |
                         ((err & 16) ? UK_ACCESS_EXEC : 0) | ((err & 1) ? UK_ACCESS_PRESENT : 0);
        s->user.cr2 = t->regs.cr2;
        enter_kernel(t, UK_VCPU_EXIT_PAGE_FAULT);
    } else {
        s->user.cr2 = 0;
        enter_kernel(t, UK_VCPU_EXIT_EXCEPTION);
    }
    return true;
}

bool vcpu_kernel_fault(struct thread *t, word vector, word addr, word access)
{
    struct vcpu *v = t->vcpu;
    struct uk_vcpu_state *s = t->vcpu_state;
    if (!(v->flags & UK_VCPU_F_KERNEL_FAULTS) || v->in_upcall)
        return false;                    /* nested: its fault endpoint decides */
    memcpy(&s->saved, &t->regs, sizeof s->saved);
    s->saved.vector = vector;
    s->exit_addr = addr;
    s->exit_access = access;
    v->saved_irq = s->irq_enabled != 0;  /* restored by RESUME(0) */
    v->in_upcall = true;
    enter_kernel(t, UK_VCPU_EXIT_KERNEL_FAULT);
    return true;
}

void vcpu_event(struct thread *t, word bits)
{
    struct vcpu *v = t->vcpu;
    struct uk_vcpu_state *s = t->vcpu_state;
    s->pending |= bits;
    switch (t->state) {
    case TS_RECV:
    case TS_NOTIF:                       /* idle in the kernel: wake it, it looks */
        thread_cancel_wait(t);
        t->regs.rax = UK_OK;
        t->regs.rdi = 0;
        t->regs.rsi = (word)UK_MSGF_NOTIFY << 24;
        sched_wake(t);
        return;
    case TS_RUNNABLE:
        break;
    default:
        return;                          /* blocked in a call: it sees pending later */
    }
    /* Redirect a thread whose registers are saved: one preempted, trapped,
     * or switched away in a syscall (its rcx and r11 are clobbered then, as
     * the syscall ABI allows).  A vCPU in the middle of its own system call
     * (it signalled itself) finds the bits in `pending`. */
    if (t == entry_thread)               /* its syscall is still in progress */
        return;
    if (t->regs_kind == REGS_VCPU_ENTRY)
        return;                          /* on its way in already */
    if (v->in_user) {
        save_user_regs(t);
        leave_process(t);
        enter_kernel(t, UK_VCPU_EXIT_EVENT);
    } else if (s->irq_enabled && !v->in_upcall) {
        memcpy(&s->saved, &t->regs, sizeof s->saved);
        v->saved_irq = true;
        v->in_upcall = true;
        enter_kernel(t, UK_VCPU_EXIT_UPCALL);
    }
}

void vcpu_abandon_process(struct thread *t)
{
    if (t->vcpu && t->vcpu->in_user)
        leave_process(t);
}

void vcpu_task_dying(struct task *process)
{
    for (struct thread *t = vcpus; t; t = t->vcpu->next) {
        if (!t->vcpu->in_user || t->vcpu->process != process)
            continue;
        save_user_regs(t);
        leave_process(t);
        enter_kernel(t, UK_VCPU_EXIT_EVENT);
    }
}

/* Step 1 of the story: run the process (never returns). */
static noreturn void run_process(struct thread *t, struct uk_vcpu_state *s, struct task *p)
{
    struct vcpu *v = t->vcpu;
    s->user.rflags = (s->user.rflags & UK_RFLAGS_USER) | RFLAGS_IF | 2;
    v->in_upcall = false;
    v->in_user = true;
    v->process = p;
    v->kernel_fs = t->regs.fs_base;
    v->kernel_gs = t->regs.gs_base;
    t->regs.fs_base = s->user.fs_base;
    t->regs.gs_base = s->user.gs_base;
    t->as = p;
    t->syscall_fn = vcpu_syscall_entry;
    arch_load_space(t);
    vcpu_to_user(&s->user);
}

/* Everything but a plain resume of a process: the return from an upcall,
 * a resume with a mapping riding along, and every error. */
static noinline void resume_slow(word task_idx, word map_src, word map_dst, word map_rights)
{
    struct thread *t = current;
    struct vcpu *v = t->vcpu;
    struct uk_vcpu_state *s = t->vcpu_state;
    int err;
    if (!v) {
        t->regs.rax = UK_E_STATE;
        return;
    }
    if (task_idx == 0) {                 /* return to the interrupted guest kernel */
        if (!v->in_upcall) {
            t->regs.rax = UK_E_STATE;
            return;
        }
        if (s->pending && v->saved_irq) { /* more events: straight back in */
            enter_kernel(t, UK_VCPU_EXIT_UPCALL);
            return;
        }
        struct uk_regs r = s->saved;
        err = thread_set_regs(t, &r);    /* checked, and its TLS loaded */
        if (err) {
            t->regs.rax = (word)err;
            return;
        }
        v->in_upcall = false;
        s->irq_enabled = v->saved_irq;   /* as it was when interrupted */
        entry_thread = &gone_thread;     /* the live registers are not its own */
        return;
    }
    struct cap *c = cap_lookup(&t->task->cspace, task_idx, UK_CAP_TASK, UK_R_CONTROL, &err);
    if (!c) {
        t->regs.rax = (word)err;
        return;
    }
    struct task *p = (struct task *)c->obj;
    if (p == t->task) {
        t->regs.rax = UK_E_INVAL;        /* a process needs an address space of its own */
        return;
    }
    if ((s->user.rip | s->user.fs_base | s->user.gs_base) >= USER_MAP_TOP) {
        t->regs.rax = UK_E_ADDR;         /* checked before anything changes */
        return;
    }
    if (map_rights && (err = vspace_map(t->task, map_src, p, map_dst, 1, map_rights))) {
        t->regs.rax = (word)err;
        return;
    }
    v->in_upcall = false;                /* running a process abandons a saved frame */
    if (s->pending) {                    /* events first: the process does not run */
        enter_kernel(t, UK_VCPU_EXIT_EVENT);
        return;
    }
    run_process(t, s, p);
}

/* UK_SYS_VCPU_RESUME, from the vCPU thread in its guest kernel; the checks
 * of a plain resume, each sending the call to resume_slow if it fails. */
void vcpu_resume(word task_idx, word map_src, word map_dst, word map_rights)
{
    struct thread *t = current;
    struct uk_vcpu_state *s = t->vcpu_state;
    struct cspace *cs = &t->task->cspace;
    if (unlikely(!s || map_rights || task_idx - 1 >= cs->nslots - 1))
        return resume_slow(task_idx, map_src, map_dst, map_rights); /* not a vCPU, a mapping, slot */
    struct cap *c = &cs->slots[task_idx];
    if (unlikely(c->type != UK_CAP_TASK || !(c->rights & UK_R_CONTROL) ||
                 c->obj == &t->task->hdr))                  /* another task we control */
        return resume_slow(task_idx, map_src, map_dst, map_rights);
    if (unlikely(((s->user.rip | s->user.fs_base | s->user.gs_base) >= USER_MAP_TOP) |
                 (s->pending != 0)))                         /* user addresses, no events */
        return resume_slow(task_idx, map_src, map_dst, map_rights);
    run_process(t, s, (struct task *)c->obj);
}
