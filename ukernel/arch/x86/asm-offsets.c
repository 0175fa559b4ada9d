/*
 * Every number the assembly needs, taken from the C structures and headers
 * (as Linux's asm-offsets): compiled with -S only, never linked.  Each
 * DEFINE leaves a marker line "->NAME value" in the assembler output, which
 * the Makefile turns into build/k/asm-offsets.inc (%define NAME value, for
 * NASM); LD_DEFINE's "=>NAME value" lines become build/k/asm-offsets.ld
 * (NAME = value;, for the linker script).  Add a name here, never a number
 * in entry.asm, boot.asm or linker.ld.
 */
#include "thread.h"
#include "task.h"
#include "vcpu.h"
#include "stats.h"
#include "vspace.h"
#include "arch/cpu.h"

#define DEFINE(name, value) \
    __asm__ volatile("\n.ascii \"->" #name " %0\"" :: "i"((word)(value)))
#define LD_DEFINE(name, value) \
    __asm__ volatile("\n.ascii \"=>" #name " %0\"" :: "i"((word)(value)))
#define REG(name, field) DEFINE(R_##name, __builtin_offsetof(struct uk_regs, field))
#define OFF(type, field) __builtin_offsetof(struct type, field)

/* The entry code addresses a thread's registers through the thread pointer
 * and a process's through the state page's: both at offset 0. */
_Static_assert(OFF(thread, regs) == 0, "struct thread: regs first");
_Static_assert(OFF(uk_vcpu_state, user) == 0, "struct uk_vcpu_state: user first");
_Static_assert(OFF(uk_stats, kernel_entries) == 0, "struct uk_stats: kernel_entries first");

void asm_offsets(void);
void asm_offsets(void)
{
    /* struct uk_regs: a thread's registers, and a process's (state->user) */
    REG(RAX, rax); REG(RBX, rbx); REG(RCX, rcx); REG(RDX, rdx);
    REG(RSI, rsi); REG(RDI, rdi); REG(RBP, rbp); REG(RSP, rsp);
    REG(R8, r8);   REG(R9, r9);   REG(R10, r10); REG(R11, r11);
    REG(R12, r12); REG(R13, r13); REG(R14, r14); REG(R15, r15);
    REG(RIP, rip); REG(RFLAGS, rflags); REG(FS_BASE, fs_base); REG(GS_BASE, gs_base);
    REG(VECTOR, vector); REG(ERROR, error);

    /* struct thread */
    DEFINE(T_KIND, OFF(thread, regs_kind));
    DEFINE(T_SYSCALL_FN, OFF(thread, syscall_fn));
    DEFINE(T_VCPU_STATE, OFF(thread, vcpu_state));
    DEFINE(T_VCPU_STATE_VA, OFF(thread, vcpu_state_va));
    DEFINE(T_TASK, OFF(thread, task));
    DEFINE(T_AS, OFF(thread, as));
    DEFINE(KIND_SYSCALL, REGS_SYSCALL);
    DEFINE(KIND_FULL, REGS_FULL);
    DEFINE(KIND_VCPU_USER, REGS_VCPU_USER);
    DEFINE(KIND_VCPU_ENTRY, REGS_VCPU_ENTRY);

    /* struct task, the state page (struct uk_vcpu_state) */
    DEFINE(TASK_PML4_PHYS, OFF(task, pml4_phys));
    DEFINE(S_EXIT_REASON, OFF(uk_vcpu_state, exit_reason));
    DEFINE(S_ENTRY_IP, OFF(uk_vcpu_state, entry_ip));
    DEFINE(S_ENTRY_SP, OFF(uk_vcpu_state, entry_sp));
    DEFINE(S_IRQ_ENABLED, OFF(uk_vcpu_state, irq_enabled));
    DEFINE(S_EXITS, OFF(uk_vcpu_state, exits));

    /* struct uk_stats (kstats) */
    DEFINE(KSTATS_KERNEL_ENTRIES, OFF(uk_stats, kernel_entries));
    DEFINE(KSTATS_AS_SWITCHES, OFF(uk_stats, as_switches));

    /* the ABI and the CPU */
    DEFINE(SYS_VCPU_RESUME, UK_SYS_VCPU_RESUME);
    DEFINE(EXIT_SYSCALL, UK_VCPU_EXIT_SYSCALL);
    DEFINE(USER_MAP_TOP, UK_USER_MAP_TOP);
    DEFINE(MSR_FS_BASE, MSR_FS_BASE);
    DEFINE(USER_CS, USER_CS);
    DEFINE(USER_SS, USER_SS);
    DEFINE(RFLAGS_ENTRY, RFLAGS_IF | RFLAGS_RESERVED1);
    DEFINE(KERNEL_BASE, KERNEL_BASE);
    LD_DEFINE(KERNEL_BASE, KERNEL_BASE);
    DEFINE(PAGE_SIZE, PAGE_SIZE);
    LD_DEFINE(PAGE_SIZE, PAGE_SIZE);
}
