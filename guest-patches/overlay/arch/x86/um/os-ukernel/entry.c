/*
 * The vCPU entry: every exit of a process and every upcall enters here
 * (uk_vcpu_state.entry_ip), on the entry stack, with rdi = the state page
 * and the virtual interrupt flag off (docs/vcpu.md).
 *
 *  - a process exit (SYSCALL, EXCEPTION, PAGE_FAULT, EVENT): save the
 *    process's FPU state into its regs->fp (ukvm_fp_area) before any C runs,
 *    then long-jump back into userspace() on the kernel stack it resumed
 *    from (process.c).  The guest kernel itself never uses the FPU.
 *  - UPCALL or KERNEL_FAULT (the guest kernel was interrupted): leave the
 *    entry stack for the interrupted kernel stack, below its red zone, and
 *    run ukvm_upcall() there (signal.c); it returns with RESUME(0).
 * Both leave the entry stack before anything can enable interrupts again,
 * so the next entry finds it free.
 */
#include <stddef.h>
#include <uk/abi.h>

/*
 * The stub is written inside a C function only so that its asm may take the
 * state page's offsets and exit numbers as operands (%c[...]) from
 * struct uk_vcpu_state and enum uk_vcpu_exit (uk/abi.h): top-level asm has
 * no operands.  ukvm_entry_stub itself is never called; the asm defines
 * ukvm_entry in a section of its own.
 */
static void __attribute__((used)) ukvm_entry_stub(void)
{
	__asm__ volatile(
	".pushsection .text.unlikely.ukvm_entry, \"ax\", @progbits\n"
	".globl ukvm_entry\n"
	"ukvm_entry:\n"
	"	mov %c[exit_reason](%%rdi), %%rax\n"
	"	cmp %[exit_upcall], %%rax\n"
	"	je 1f\n"				/* -> 1: an upcall */
	"	cmp %[exit_kernel_fault], %%rax\n"
	"	je 1f\n"				/* -> 1: the guest kernel faulted */
	/* a process exit: XSAVE with the state page's feature mask */
	"	mov ukvm_fp_area(%%rip), %%rcx\n"
	"	mov %c[features](%%rdi), %%eax\n"
	"	mov %c[features]+4(%%rdi), %%edx\n"
	"	xsave64 (%%rcx)\n"
	"	lea ukvm_resume_jmp(%%rip), %%rdi\n"
	"	mov $1, %%esi\n"
	"	call kernel_longjmp\n"
	"	ud2\n"
	/* an upcall: onto the interrupted stack, 128 bytes of red zone below */
	"1:	mov %c[saved_rsp](%%rdi), %%rsp\n"
	"	sub $128, %%rsp\n"
	"	and $-16, %%rsp\n"
	"	call ukvm_upcall\n"
	"	ud2\n"
	".popsection\n"
	:: [exit_reason] "i" (offsetof(struct uk_vcpu_state, exit_reason)),
	   [features] "i" (offsetof(struct uk_vcpu_state, xsave_features)),
	   [saved_rsp] "i" (offsetof(struct uk_vcpu_state, saved) +
			    offsetof(struct uk_regs, rsp)),
	   [exit_upcall] "i" (UK_VCPU_EXIT_UPCALL),
	   [exit_kernel_fault] "i" (UK_VCPU_EXIT_KERNEL_FAULT));
}
