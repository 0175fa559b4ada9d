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

#define OFF_SAVED_RSP 240      /* offsetof(struct uk_vcpu_state, saved.rsp) */
#define OFF_EXIT_REASON 368
#define OFF_XSAVE_FEATURES 432
_Static_assert(offsetof(struct uk_vcpu_state, saved) + offsetof(struct uk_regs, rsp) ==
	       OFF_SAVED_RSP, "state page layout");
_Static_assert(offsetof(struct uk_vcpu_state, exit_reason) == OFF_EXIT_REASON,
	       "state page layout");
_Static_assert(offsetof(struct uk_vcpu_state, xsave_features) == OFF_XSAVE_FEATURES,
	       "state page layout");
_Static_assert(UK_VCPU_EXIT_UPCALL == 5 && UK_VCPU_EXIT_KERNEL_FAULT == 6, "exit numbers");

__asm__(".text\n"
	".globl ukvm_entry\n"
	"ukvm_entry:\n"
	"	mov 368(%rdi), %rax\n"
	"	cmp $5, %rax\n"
	"	je 1f\n"
	"	cmp $6, %rax\n"
	"	je 1f\n"
	/* a process exit: XSAVE with the state page's feature mask */
	"	mov ukvm_fp_area(%rip), %rcx\n"
	"	mov 432(%rdi), %eax\n"
	"	mov 436(%rdi), %edx\n"
	"	xsave64 (%rcx)\n"
	"	lea ukvm_resume_jmp(%rip), %rdi\n"
	"	mov $1, %esi\n"
	"	call kernel_longjmp\n"
	"	ud2\n"
	/* an upcall: onto the interrupted stack, 128 bytes of red zone below */
	"1:	mov 240(%rdi), %rsp\n"
	"	sub $128, %rsp\n"
	"	and $-16, %rsp\n"
	"	call ukvm_upcall\n"
	"	ud2\n");
