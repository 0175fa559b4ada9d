/* x86-64 instructions the generic kernel needs, as inline functions. */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include "types.h"

/* The one definition of each (asm-offsets.c passes them on to boot.asm,
 * entry.asm and linker.ld). */
#define KERNEL_BASE   0xffffffff80000000ul  /* kernel image: phys + this */
#define PHYSMAP_BASE  0xffff800000000000ul  /* all physical memory: phys + this */

/* GDT selectors (cpu.c).  sysret takes SS = STAR[63:48] + 8 and CS = that
 * + 16, so user data comes right before user code. */
#define GDT_KCODE 0x08
#define GDT_KDATA 0x10
#define GDT_UDATA 0x18
#define GDT_UCODE 0x20
#define GDT_TSS   0x28
#define USER_CS   (GDT_UCODE | 3)
#define USER_SS   (GDT_UDATA | 3)

/* rflags: what the kernel always sets for user code */
#define RFLAGS_RESERVED1 0x2ul              /* always 1 */
#define RFLAGS_IF        0x200ul
/* A user rflags value as the CPU may load it: only UK_RFLAGS_USER bits
 * kept, interrupts on. */
static inline word rflags_for_user(word rflags)
{
    return (rflags & UK_RFLAGS_USER) | RFLAGS_IF | RFLAGS_RESERVED1;
}

#ifndef UK_HOST_TEST
static inline void *phys_to_virt(u64 p) { return (void *)(p + PHYSMAP_BASE); }
static inline u64 virt_to_phys(const void *v)
{
    word a = (word)v;
    return a >= KERNEL_BASE ? a - KERNEL_BASE : a - PHYSMAP_BASE;
}
#else
/* Host unit tests have no physical map: a test that uses these defines them
 * (e.g. over kmem_virt/kmem_phys and its own fake physical memory). */
void *phys_to_virt(u64 p);
u64 virt_to_phys(const void *v);
#endif

#define MSR_EFER          0xc0000080u
#define MSR_STAR          0xc0000081u
#define MSR_LSTAR         0xc0000082u
#define MSR_SFMASK        0xc0000084u
#define MSR_FS_BASE       0xc0000100u
#define MSR_GS_BASE       0xc0000101u
#define MSR_KERNEL_GS     0xc0000102u
#define MSR_TSC_DEADLINE  0x6e0u
#define MSR_APIC_BASE     0x1bu

#ifndef UK_HOST_TEST
static inline void outb(u16 port, u8 v)  { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8  inb(u16 port) { u8 v;  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline u64 read_cr0(void) { u64 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u64 read_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u64 read_cr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u64 read_cr4(void) { u64 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u64 v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr3(u64 v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void write_cr4(u64 v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline void invlpg(word va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline void clts(void) { __asm__ volatile("clts"); }
static inline void stts(void) { write_cr0(read_cr0() | 8); }
static inline void halt_until_interrupt(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
static inline void xsetbv(u32 idx, u64 v)
{
    __asm__ volatile("xsetbv" :: "c"(idx), "a"((u32)v), "d"((u32)(v >> 32)));
}
#endif /* UK_HOST_TEST */

#endif
