/*
 * Exceptions and interrupts (from entry.asm).  From user level: a page
 * fault goes to the thread's pager, any other exception to its exception
 * handler, both as IPC on its fault endpoint; device interrupts become
 * notifications; the timer drives the scheduler.  From the kernel, only
 * interrupts while idle are expected; anything else is a kernel bug.
 */
#include "thread.h"
#include "task.h"
#include "sched.h"
#include "ipc.h"
#include "irq.h"
#include "vcpu.h"
#include "vcpu_path.h"
#include "stats.h"
#include "log.h"
#include "backtrace.h"
#include "arch/arch.h"
#include "arch/cpu.h"
#include "arch/trap.h"

static void device_interrupt(word vector)
{
    if (vector == VECTOR_TIMER) {
        timer_rearm();
        apic_eoi();
        sched_tick();
    } else if (vector >= IRQ_VECTOR_BASE && vector < IRQ_VECTOR_BASE + IRQ_LINES) {
        irq_deliver((unsigned)(vector - IRQ_VECTOR_BASE));
        apic_eoi();
    } else if (vector >= PIC_VECTOR_BASE && vector < PIC_VECTOR_BASE + 16) {
        pic_eoi((unsigned)vector);       /* someone unmasked the 8259: ignore it */
    } else if (vector != VECTOR_SPURIOUS) {
        apic_eoi();
    }
}

void trap_dispatch(struct thread *t)
{
    word vector = t->regs.vector;
    if (trap_is_page_fault(vector))
        t->regs.cr2 = read_cr2();
    if (t->vcpu && vcpu_in_process(t) && vcpu_user_trap(t)) {
        /* the process's exception or page fault: an exit to its guest kernel */
    } else if (vector >= VEC_FIRST_INTERRUPT) {
        device_interrupt(vector);
    } else if (vector == VEC_NM) {
        fpu_trap();
    } else if (vector == VEC_PF) {
        word w[4] = {
            t->regs.cr2,
            page_fault_access(t->regs.error),
            t->regs.rip,
            t->fault_ep.badge,          /* abi.h: w3 = the thread's fault badge */
        };
        if (!t->vcpu || !vcpu_kernel_fault(t, vector, w[0], w[1]))
            ipc_send_fault(t, UK_FAULT_PAGE, w, 4);
    } else {
        t->regs.cr2 = 0;                 /* only page faults have an address */
        if (!t->vcpu || !vcpu_kernel_fault(t, vector, 0, 0))
            ipc_send_fault(t, UK_FAULT_EXCEPTION, NULL, 0);
    }
    schedule();
}

struct kframe {
    word r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    word vector, error, rip, cs, rflags, rsp, ss;
};

void kernel_trap_dispatch(struct kframe *f)
{
    if (f->vector >= VEC_FIRST_INTERRUPT) {
        kstats.kernel_entries++;
        device_interrupt(f->vector);
        return;
    }
    kprintf("\nukernel: exception %lu in the kernel, error %lx\n", f->vector, f->error);
    kprintf("  rip %lx rsp %lx rflags %lx cr2 %lx\n", f->rip, f->rsp, f->rflags, read_cr2());
    kprintf("  rax %lx rbx %lx rcx %lx rdx %lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("  rsi %lx rdi %lx rbp %lx r8 %lx\n", f->rsi, f->rdi, f->rbp, f->r8);
    kprintf("  current thread %lu\n", current ? current->id : 0);
    backtrace_print(&(struct unwind_start){ f->rip, f->rsp, f->rbp });   /* the faulting code */
    panic("kernel fault");
}

/* `syscall` is two bytes (0f 05): the saved rip goes back onto it, and
 * rax, which the exit path loads from the thread, carries the number. */
void arch_syscall_restart(struct thread *t, word nr)
{
    t->regs.rip -= 2;
    t->regs.rax = nr;
}
