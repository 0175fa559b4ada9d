/* What the generic kernel asks of the x86 layer. */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include "types.h"

struct thread;

void cpu_init(void);
/* Thread t's system call runs again (number nr, its argument registers as
 * the caller left them in t->regs) when t next returns to user mode. */
void arch_syscall_restart(struct thread *t, word nr);
void arch_set_tls(word fs_base, word gs_base);   /* for the running thread */
extern word xsave_size;
extern u64 xsave_features;

/* interrupt controllers and timer (apic.c) */
#define IRQ_VECTOR_BASE 32       /* ISA/IOAPIC line n -> vector 32 + n */
#define IRQ_LINES       24
#define PIC_VECTOR_BASE 0xe0     /* the unused 8259s, remapped here (apic.c) */
#define VECTOR_TIMER    0xf0
#define VECTOR_SPURIOUS 0xff
void apic_init(word acpi_rsdp_phys);
unsigned irq_pin(unsigned line);  /* IOAPIC input of an IRQ line */
bool irq_is_level(unsigned line);
void irq_mask(unsigned line);
void irq_unmask(unsigned line);
void apic_eoi(void);
void pic_eoi(unsigned vector);
void timer_init(void);           /* calibrates the TSC, starts the tick */
void timer_rearm(void);          /* after each tick */
extern u64 tsc_hz;
extern u64 tick_tsc;             /* TSC ticks per scheduler tick */
#define TICK_HZ 1000

/* paging (paging.c) */
void paging_init(word max_phys);
extern u64 kernel_pml4_phys;
extern u64 *kernel_pml4;

/* FPU (fpu.c) */
/* An XSAVE area, zeroed, into the FPU's initial state: header zero (so
 * XRSTOR loads the initial x87/SSE/AVX state), the default MXCSR at its
 * architectural place in the legacy region. */
static inline void fpu_area_init(void *area)
{
    *(u32 *)((u8 *)area + 24) = 0x1f80;
}
void fpu_trap(void);
void fpu_switch(struct thread *next);
void fpu_release(struct thread *t);

#endif
