/* Descriptor tables, the syscall MSRs and the FPU: the CPU state the kernel
 * sets once at boot. */
#include "arch/cpu.h"
#include "arch/arch.h"
#include "log.h"
#include "backtrace.h"

struct tss {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
} __attribute__((packed));

struct idt_entry {
    u16 off_lo, sel;
    u8 ist, flags;
    u16 off_mid;
    u32 off_hi, zero;
} __attribute__((packed));

static u64 gdt[7] = {
    0,
    0x00209a0000000000,   /* 0x08 kernel code */
    0x0000920000000000,   /* 0x10 kernel data */
    0x0000f20000000000,   /* GDT_UDATA (sysret: STAR.base + 8) */
    0x0020fa0000000000,   /* GDT_UCODE (sysret: STAR.base + 16) */
    0, 0,                 /* 0x28 TSS (16 bytes) */
};
static struct tss tss __attribute__((aligned(16)));
static struct idt_entry idt[256] __attribute__((aligned(16)));
static u8 ist_stack[4096 * 2] __attribute__((aligned(16)));

/* The one kernel stack (see entry.asm); TSS.rsp0 points at its top. */
u8 kstack[16384] __attribute__((aligned(16)));
extern u8 kstack_top[];
__asm__(".globl kstack_top\n.set kstack_top, kstack + 16384");

/* The stacks kernel code runs on, for the backtrace unwinder (backtrace.h):
 * the kernel stack, the NMI / double-fault stack, and boot.asm's until the
 * first exit to user level. */
bool arch_stack_bounds(word sp, word *lo, word *hi)
{
    extern u8 boot_stack[], boot_stack_top[];
    const struct { u8 *lo, *hi; } stacks[] = {
        { kstack, kstack_top },
        { ist_stack, ist_stack + sizeof ist_stack },
        { boot_stack, boot_stack_top },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(stacks); i++)
        if (sp >= (word)stacks[i].lo && sp < (word)stacks[i].hi) {
            *lo = (word)stacks[i].lo;
            *hi = (word)stacks[i].hi;
            return true;
        }
    return false;
}

extern const u64 trap_stubs[256];
extern void syscall_entry(void);

word xsave_size;        /* bytes of an XSAVE area for the enabled features */
u64 xsave_features;     /* XCR0 */

static void set_gate(int vec, u64 handler, u8 ist, u8 dpl)
{
    idt[vec] = (struct idt_entry){
        .off_lo = (u16)handler, .sel = GDT_KCODE, .ist = ist,
        .flags = (u8)(0x8e | (dpl << 5)),   /* present, interrupt gate */
        .off_mid = (u16)(handler >> 16), .off_hi = (u32)(handler >> 32),
    };
}

static void fpu_init(void)
{
    u32 a, b, c, d;
    u64 cr0 = read_cr0();
    cr0 &= ~(1ul << 2);                 /* EM off: FPU present */
    cr0 |= (1ul << 1) | (1ul << 5);     /* MP, NE */
    write_cr0(cr0);
    u64 cr4 = read_cr4() | (1ul << 9) | (1ul << 10);   /* OSFXSR, OSXMMEXCPT */
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 26)))
        panic("CPU without XSAVE");
    cr4 |= 1ul << 18;                   /* OSXSAVE */
    write_cr4(cr4);
    cpuid(0xd, 0, &a, &b, &c, &d);
    /* x87, SSE, AVX, and AVX-512 if present; AMX would need a permission
     * scheme first, so it stays off. */
    u64 supported = ((u64)d << 32) | a;
    xsave_features = supported & (0x7 | 0xe0);
    xsetbv(0, xsave_features);
    cpuid(0xd, 0, &a, &b, &c, &d);
    xsave_size = b;                      /* size for what XCR0 enables now */
    stts();                              /* first FPU use traps (#NM) */
}

void cpu_init(void)
{
    u64 base = (u64)&tss;
    tss.rsp[0] = (u64)kstack_top;
    tss.ist[0] = (u64)(ist_stack + sizeof ist_stack);
    tss.iomap_base = sizeof tss;        /* no I/O bitmap: ring 3 has no ports */
    gdt[5] = (sizeof tss - 1) | ((base & 0xffffff) << 16) | (0x89ul << 40) |
             (((base >> 24) & 0xff) << 56);
    gdt[6] = base >> 32;

    struct { u16 limit; u64 base; } __attribute__((packed)) gdtr = { sizeof gdt - 1, (u64)gdt };
    __asm__ volatile("lgdt %0\n"
                     "mov %1, %%ds\n mov %1, %%es\n mov %1, %%ss\n"
                     "pushq %2\n lea 1f(%%rip), %%rax\n pushq %%rax\n lretq\n1:\n"
                     :: "m"(gdtr), "r"((u64)GDT_KDATA), "i"(GDT_KCODE) : "rax", "memory");
    __asm__ volatile("ltr %w0" :: "r"(GDT_TSS));

    for (int v = 0; v < 256; v++)
        set_gate(v, trap_stubs[v], 0, 0);
    set_gate(2, trap_stubs[2], 1, 0);    /* NMI and double fault on their own stack */
    set_gate(8, trap_stubs[8], 1, 0);
    set_gate(3, trap_stubs[3], 0, 3);    /* int3 usable from user (debugging) */
    struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { sizeof idt - 1, (u64)idt };
    __asm__ volatile("lidt %0" :: "m"(idtr));

    /* syscall: CS GDT_KCODE, SS GDT_KCODE + 8 = GDT_KDATA; sysret: SS
     * GDT_KDATA + 8 = GDT_UDATA, CS GDT_KDATA + 16 = GDT_UCODE (| 3 each) */
    _Static_assert(GDT_KDATA == GDT_KCODE + 8 && GDT_UDATA == GDT_KDATA + 8 &&
                   GDT_UCODE == GDT_KDATA + 16, "the order syscall and sysret need");
    wrmsr(MSR_STAR, ((u64)GDT_KDATA << 48) | ((u64)GDT_KCODE << 32));
    wrmsr(MSR_LSTAR, (u64)syscall_entry);
    wrmsr(MSR_SFMASK, 0x47700);          /* clear IF TF DF AC NT on entry */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1); /* SCE */
    wrmsr(MSR_KERNEL_GS, 0);             /* loaded_kernel_gs (switch.h) */
    fpu_init();
}

noreturn void arch_exit_emulator(int status)
{
    outl(0xf4, (u32)status);             /* isa-debug-exit: QEMU exits */
    for (;;)
        __asm__ volatile("cli; hlt");
}

word loaded_fs_base, loaded_gs_base, loaded_kernel_gs;

void arch_set_tls(word fs_base, word gs_base)
{
    loaded_fs_base = fs_base;
    loaded_gs_base = gs_base;
    wrmsr(MSR_FS_BASE, fs_base);
    wrmsr(MSR_GS_BASE, gs_base);
}
