/*
 * vCPUs (vcpu.h, abi.h "The vCPU state page").
 *
 * The story of a guest process's system call, the path this file is
 * shaped around (bench: vcpu.syscall, docs/ukernel-performance.md):
 *   1. The guest kernel calls UK_SYS_VCPU_RESUME(process task).  Its
 *      syscall_fn, vcpu_kernel_entry (entry.asm), keeps rip and rflags and
 *      calls the fast path, fastpath.c's vcpu_fastpath_resume: a short list
 *      of checks, then vcpu_path.h's vcpu_run_process (the commit: the
 *      process's address space and TLS bases, syscall_fn =
 *      vcpu_process_entry) and out by iretq from state->user with swapgs
 *      (entry.asm vcpu_to_user); nothing of the guest kernel's registers is
 *      kept.  Anything it does not serve (a mapping riding along, an
 *      upcall's return, events pending, an error) goes to vcpu_resume
 *      below, which ends in the same vcpu_run_process.
 *   2. The process executes `syscall`.  vcpu_process_entry (entry.asm)
 *      stores its registers into state->user, records the exit and puts the
 *      thread back in its guest kernel (the stores of vcpu_note_exit and
 *      vcpu_leave_process; nothing to decide but whether fs must be
 *      loaded) and enters the guest kernel by sysret: rip = entry_ip, rsp =
 *      entry_sp, rdi = the state page.
 * TLS: while a process runs, MSR_GS_BASE holds its gs base and
 * MSR_KERNEL_GS the guest kernel's, so each direction is one swapgs.  The
 * kernel itself always sees the usual view (thread->regs.gs_base loaded,
 * the guest kernel's for a vCPU, and the process's in MSR_KERNEL_GS as
 * loaded_kernel_gs says): every entry from a process swaps back first
 * (vcpu_process_entry, vcpu_user_trap), every way into one swaps last
 * (vcpu_to_user, and for a vCPU interrupted in its process, REGS_VCPU_USER
 * in exit_to_user).  thread->regs.fs_base stays the guest kernel's; the
 * process's fs base is loaded with wrmsr when it differs from what
 * MSR_FS_BASE holds (vcpu_run_process, vcpu_process_tls), and the guest
 * kernel's back the same way (vcpu_process_entry, or arch_load_space).
 * Exits from traps and events take the general way instead: the thread is
 * marked REGS_VCPU_ENTRY and exit_to_user enters the guest kernel.
 * Nothing of the guest kernel's own registers is kept across a resume:
 * every exit enters it afresh, as an exception would.
 */
#include "vcpu.h"
#include "vcpu_path.h"
#include "thread.h"
#include "object.h"
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
#include "arch/trap.h"
#include "arch/cpu.h"

/* All vCPUs, a ring through this head (struct vcpu_link): a vCPU goes in at
 * vcpu_config and out at vcpu_teardown in O(1), and a dying task's marker
 * moves through it in parts (vcpu_task_dying_some) undisturbed by either. */
static struct vcpu_link all_vcpus = { &all_vcpus, &all_vcpus, NULL };

static void link_after(struct vcpu_link *at, struct vcpu_link *l)
{
    l->prev = at;
    l->next = at->next;
    at->next->prev = l;
    at->next = l;
}

static void unlink(struct vcpu_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = NULL;
}

int vcpu_config(struct thread *t, struct task *charge, word state_va, word flags)
{
    if (t->vcpu)
        return UK_E_BUSY;
    if (state_va & ~PAGE_MASK || state_va >= UK_USER_MAP_TOP)
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
    t->vcpu_state_va = state_va;
    v->flags = flags;
    v->all.thread = t;
    link_after(&all_vcpus, &v->all);
    t->vcpu = v;
    t->vcpu_state = s;
    t->syscall_fn = vcpu_kernel_entry;
    t->fpu_eager = true;         /* its guest XSAVEs and XRSTORs processes (fpu.c) */
    return UK_OK;
}

void vcpu_teardown(struct thread *t)
{
    struct vcpu *v = t->vcpu;
    if (!v)
        return;
    unlink(&v->all);
    /* take back the state page from wherever the guest still maps it */
    u64 pa;
    unsigned rights;
    if (vspace_lookup(t->task, t->vcpu_state_va, &pa, &rights) == UK_OK &&
        (pa & PAGE_MASK) == v->state_phys)
        vspace_unmap(t->task, t->vcpu_state_va, 1);
    struct quota *q = t->hdr.owner ? &t->hdr.owner->quota : NULL;
    kmem_free(q, t->vcpu_state, PAGE_SIZE);
    kmem_free(q, v, sizeof *v);
    t->vcpu = NULL;
    t->vcpu_state = NULL;
    t->as = t->task;
    t->syscall_fn = syscall_common;
}

/* Makes t enter its guest kernel at entry_ip on its way out of the kernel
 * (now if it is current, or when it next runs; entry.asm's
 * sysret_to_guest_kernel makes sure entry_ip is a user address). */
static void enter_kernel(struct thread *t, word reason)
{
    struct uk_vcpu_state *s = t->vcpu_state;
    vcpu_note_exit(s, reason);
    t->regs.rip = s->entry_ip;
    t->regs.rsp = s->entry_sp;
    t->regs.rdi = t->vcpu_state_va;
    t->regs_kind = REGS_VCPU_ENTRY;
    if (t == current)
        arch_load_space(t);              /* its own address space and TLS now */
}

/* The way back into a process it was interrupted in (entry.asm,
 * REGS_VCPU_USER): another vCPU's process may have had MSR_KERNEL_GS. */
void vcpu_process_tls(void)
{
    struct vcpu *v = current->vcpu;
    arch_load_fs(v->user_fs);            /* a switch loaded the guest kernel's */
    arch_load_process_gs(v->user_gs);
}

/* Moves a process's full register set (saved by a trap, or left by a
 * preemption) into the state page; its TLS bases are not in t->regs and
 * stay in state->user as the resume found them (as after a syscall). */
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
    arch_kernel_gs_after_process();      /* first: the kernel's view of gs (entry.asm) */
    if (trap_is_external(vector)) {      /* interrupts and #NM: not the process's doing */
        struct vcpu *v = t->vcpu;
        v->user_fs = loaded_fs_base;     /* its TLS bases, as vcpu_run_process loaded */
        v->user_gs = loaded_kernel_gs;   /* them, for vcpu_process_tls (a switch may
                                            load others before it goes on) */
        t->regs_kind = REGS_VCPU_USER;   /* it goes on in the process later */
        return false;
    }
    save_user_regs(t);
    vcpu_leave_process(t);
    if (trap_is_page_fault(vector)) {
        s->exit_addr = t->regs.cr2;
        s->exit_access = page_fault_access(t->regs.error);
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
    if (!(v->flags & UK_VCPU_F_KERNEL_FAULTS) || t->vcpu_in_upcall)
        return false;                    /* nested: its fault endpoint decides */
    memcpy(&s->saved, &t->regs, sizeof s->saved);
    s->saved.vector = vector;
    s->exit_addr = addr;
    s->exit_access = access;
    t->vcpu_saved_irq = s->irq_enabled != 0;  /* restored by RESUME(0) */
    t->vcpu_in_upcall = true;
    enter_kernel(t, UK_VCPU_EXIT_KERNEL_FAULT);
    return true;
}

void vcpu_event(struct thread *t, word bits)
{
    struct uk_vcpu_state *s = t->vcpu_state;
    s->pending |= bits;
    switch (t->state) {
    case TS_RECV:
    case TS_NOTIF:                       /* idle in the kernel: wake it, it looks */
        thread_cancel_wait(t);
        t->regs.rax = UK_OK;
        t->regs.rdi = 0;
        t->regs.rsi = uk_msginfo_out(0, 0, UK_MSGF_NOTIFY);
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
    if (vcpu_in_process(t)) {
        save_user_regs(t);
        vcpu_leave_process(t);
        enter_kernel(t, UK_VCPU_EXIT_EVENT);
    } else if (s->irq_enabled && !t->vcpu_in_upcall) {
        memcpy(&s->saved, &t->regs, sizeof s->saved);
        t->vcpu_saved_irq = true;
        t->vcpu_in_upcall = true;
        enter_kernel(t, UK_VCPU_EXIT_UPCALL);
    }
}

void vcpu_abandon_process(struct thread *t)
{
    if (t->vcpu && vcpu_in_process(t))
        vcpu_leave_process(t);
}

bool vcpu_task_dying_some(struct task *process, word *work)
{
    struct vcpu_link *m = &process->teardown_vcpus;
    if (!m->prev)                        /* a walk begins: from the head */
        link_after(&all_vcpus, m);
    while (*work) {
        struct vcpu_link *l = m->next;
        if (l == &all_vcpus) {           /* at the end */
            unlink(m);
            return true;
        }
        unlink(m);                       /* step over l */
        link_after(l, m);
        *work = *work > DESTROY_COST_VCPU ? *work - DESTROY_COST_VCPU : 0;
        struct thread *t = l->thread;    /* (NULL: another task's marker) */
        if (!t || !vcpu_in_process(t) || t->as != process)
            continue;
        save_user_regs(t);
        vcpu_leave_process(t);
        enter_kernel(t, UK_VCPU_EXIT_EVENT);
        *work = *work > DESTROY_COST_WAITER ? *work - DESTROY_COST_WAITER : 0;
    }
    return false;
}

/* UK_SYS_VCPU_RESUME whenever vcpu_fastpath_resume does not serve it: the
 * return from an upcall, a resume with a mapping riding along, events
 * pending, and every error. */
void vcpu_resume(word task_idx, word map_src, word map_dst, word map_rights)
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
        if (!t->vcpu_in_upcall) {
            t->regs.rax = UK_E_STATE;
            return;
        }
        if (s->pending && t->vcpu_saved_irq) { /* more events: straight back in */
            enter_kernel(t, UK_VCPU_EXIT_UPCALL);
            return;
        }
        struct uk_regs r = s->saved;
        err = thread_set_regs(t, &r);    /* checked, and its TLS loaded */
        if (err) {
            t->regs.rax = (word)err;
            return;
        }
        t->vcpu_in_upcall = false;
        s->irq_enabled = t->vcpu_saved_irq;   /* as it was when interrupted */
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
    if (!vcpu_user_addrs_ok(s)) {
        t->regs.rax = UK_E_ADDR;         /* checked before anything changes */
        return;
    }
    if (map_rights && (err = vspace_map(t->task, map_src, p, map_dst, 1, map_rights))) {
        t->regs.rax = (word)err;
        return;
    }
    if (s->pending) {                    /* events first: the process does not run */
        t->vcpu_in_upcall = false;            /* (a resume abandons a saved frame) */
        enter_kernel(t, UK_VCPU_EXIT_EVENT);
        return;
    }
    vcpu_run_process(t, s, p);
}
