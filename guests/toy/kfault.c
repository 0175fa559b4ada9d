/*
 * `kfault`: the guest kernel stores to an address nobody mapped.  Without
 * `kfaults` on its guest line the fault goes to the vmm-server, which
 * reports it and stops us.  With it (UK_VCPU_F_KERNEL_FAULTS) the vCPU
 * enters us with exit UK_VCPU_EXIT_KERNEL_FAULT and our frame in
 * state.saved: we recognise the one instruction that may fault and resume
 * at its fixup, the way Linux's exception tables recover a faulting
 * uaccess.  Any other fault of ours is a bug: reported, and we power off.
 */
#include "toy.h"
#include <user/spawn.h>      /* uk_slot_alloc */

#define KFAULT_ADDR 0x300000000000ul

/* toy_kfault_store(p): stores 1 at p; returns 0, or 1 if the store faulted
 * and kfault_entry sent us on at the fixup.  A function of its own, so the
 * compiler keeps nothing in caller-saved registers across the fault. */
__asm__(".text\n"
        ".globl toy_kfault_store\n"
        "toy_kfault_store:\n"
        "  xor %eax, %eax\n"
        "toy_kfault_ip:\n"
        "  movq $1, (%rdi)\n"
        "  ret\n"
        "toy_kfault_fixup:\n"
        "  mov $1, %eax\n"
        "  ret\n");
int toy_kfault_store(volatile unsigned long *p);
extern const char toy_kfault_ip[], toy_kfault_fixup[];

static int seen;                 /* kfault_entry saw the fault */

void kfault_run(void)
{
    kprintf("kfault: touching 0x%lx, which nobody mapped\n", KFAULT_ADDR);
    int faulted = toy_kfault_store((volatile unsigned long *)KFAULT_ADDR);
    kprintf("kfault: %s\n", !faulted ? "the store did not fault: WRONG"
                            : seen ? "the guest kernel went on after its own fault: ok"
                                   : "back at the fixup, fault not seen: WRONG");
}

void kfault_entry(struct uk_vcpu_state *s)
{
    const struct uk_regs *f = &s->saved;
    if (f->rip == (uk_word_t)toy_kfault_ip && !seen) {
        seen = 1;
        kprintf("kfault: the guest kernel sees its own fault: page fault at 0x%lx (%s) at "
                "rip 0x%lx; going on at the fixup\n", s->exit_addr,
                s->exit_access & UK_ACCESS_WRITE ? "write" : "read", f->rip);
        s->saved.rip = (uk_word_t)toy_kfault_fixup;
        long err = uk_vcpu_resume(0, 0, 0, 0);          /* back to the saved frame */
        kprintf("kfault: return to the fixup failed: error %ld; powering off\n", err);
        power(UK_VDEV_POWER_HALT, TOY_STATUS_FAILED);
    }
    kprintf("guest kernel fault (seen by the guest kernel): vector %lu, address 0x%lx, rip "
            "0x%lx; powering off\n", f->vector, s->exit_addr, f->rip);
    power(UK_VDEV_POWER_HALT, UK_VMM_STATUS_GUEST_FAULT);
}

void kfault_panic_check(void)
{
    static uk_word_t started;            /* our first tick's time */
    uk_word_t ms = gi->tsc_hz / 1000, t = uk_rdtsc() - gi->boot_tsc;
    if (!started)
        started = t;
    if (started >= opts.panic_at * ms) { /* started after it: a restarted guest */
        opts.panic_at = 0;
        return;
    }
    if (t < opts.panic_at * ms)
        return;
    kprintf("panic-at: the guest kernel faults now (t=%lu)\n", t);
    *(volatile unsigned long *)KFAULT_ADDR = 1;
    kprintf("panic-at: the store did not fault: WRONG\n");
    opts.panic_at = 0;
}

/* `exhaust-at=MS`: at the first tick from MS on, the guest kernel uses up
 * what the microkernel lets it have: notifications into fresh slots until
 * its capability table or its kernel-memory quota runs out, then (in a
 * slot kept for it) a child task holding as much of the quota as it can get.
 * Its processes go on: running them needs nothing new from the kernel.  A
 * resource-exhaustion fault of docs/liability.md; nobody else may notice. */
void exhaust_check(void)
{
    static uk_word_t started;
    uk_word_t ms = gi->tsc_hz / 1000, t = uk_rdtsc() - gi->boot_tsc;
    if (!started)
        started = t;
    if (started >= opts.exhaust_at * ms) {   /* a restarted guest: not again */
        opts.exhaust_at = 0;
        return;
    }
    if (t < opts.exhaust_at * ms)
        return;
    opts.exhaust_at = 0;
    uk_word_t made = 0, task_slot = uk_slot_alloc();   /* kept for the task */
    long err;
    while ((err = uk_notif_create(uk_slot_alloc())) == UK_OK)
        made++;
    long slots_err = err;
    uk_word_t got = 0;
    for (uk_word_t q = 1ul << 32; q >= UK_PAGE_SIZE && !got; q /= 2)
        if (uk_task_create(task_slot, q, 1) == UK_OK)
            got = q;
    uk_word_t used = 0, limit = 0;
    uk_kmem_info(UK_SLOT_SELF_TASK, &used, &limit);
    kprintf("exhaust-at: %lu notifications (then error %ld), a task holding %lu KiB; "
            "kernel memory %lu of %lu KiB used (t=%lu)\n", made, slots_err, got >> 10,
            used >> 10, limit >> 10, t);
}
