/*
 * Registers.  A process's registers live in arch/um's uml_pt_regs and,
 * while it runs, in the vCPU state page (process.c copies them at each
 * resume and exit); its FPU/SSE/AVX state is saved by XSAVE straight into
 * regs->fp at each exit (entry.c) and restored by XRSTOR at each resume.
 * So the ptrace-style calls of registers.h have nothing to fetch.
 */
#include <errno.h>
#include <string.h>
#include <longjmp.h>
#include <registers.h>
#include <sysdep/ptrace.h>
#include <sysdep/ptrace_user.h>
#include "../../../um/os-ukernel/ukvm.h"

int have_xstate_support = 1;     /* regs->fp is in XSAVE (standard) format */
static unsigned int mxcsr_mask = 0xffbf;
extern struct uml_pt_regs *ukvm_regs;

#define FP_BYTES (FP_SIZE * sizeof(unsigned long))

void ukvm_fp_init(void)
{
	unsigned char area[512] __attribute__((aligned(64)));
	memset(area, 0, sizeof area);
	__asm__ volatile("fxsave64 %0" : "=m"(area));
	unsigned int mask;
	memcpy(&mask, area + 28, 4);
	if (mask)
		mxcsr_mask = mask;
}

/* XRSTOR faults on a malformed header or MXCSR: a process can write both
 * through sigreturn, so every area is made valid before it is loaded. */
void ukvm_fp_sanitize(unsigned long *fp)
{
	unsigned char *a = (unsigned char *)fp;
	unsigned long bv, comp, *rest = (unsigned long *)(a + 528);
	unsigned int mxcsr;

	memcpy(&mxcsr, a + 24, 4);
	if (mxcsr & ~mxcsr_mask) {
		mxcsr &= mxcsr_mask;
		memcpy(a + 24, &mxcsr, 4);
	}
	memcpy(&bv, a + 512, 8);
	memcpy(&comp, a + 520, 8);
	if ((bv & ~ukvm_vcpu->xsave_features) || comp) {
		bv &= ukvm_vcpu->xsave_features;
		comp = 0;
		memcpy(a + 512, &bv, 8);
		memcpy(a + 520, &comp, 8);
	}
	for (int i = 0; i < 6; i++)
		rest[i] = 0;
}

int save_registers(int pid, struct uml_pt_regs *regs)
{
	(void)pid;
	(void)regs;
	return 0;
}

/* arch_prctl (syscalls_64.c) names the registers it is about to change
 * here, then calls os_arch_prctl (prctl.c) on them. */
int restore_pid_registers(int pid, struct uml_pt_regs *regs)
{
	(void)pid;
	ukvm_regs = regs;
	return 0;
}

int init_pid_registers(int pid)
{
	(void)pid;
	return 0;
}

/* A new process's registers: all zero but the flags; FPU in its initial
 * state (an XSAVE header of zeros) with the default MXCSR. */
void get_safe_registers(unsigned long *regs, unsigned long *fp_regs)
{
	memset(regs, 0, MAX_REG_NR * sizeof(unsigned long));
	regs[HOST_EFLAGS] = 0x202;
	if (fp_regs) {
		unsigned int mxcsr = 0x1f80;
		memset(fp_regs, 0, FP_BYTES);
		memcpy((char *)fp_regs + 24, &mxcsr, 4);
	}
}

int save_i387_registers(int pid, unsigned long *fp_regs) { (void)pid; (void)fp_regs; return 0; }
int save_fp_registers(int pid, unsigned long *fp_regs) { (void)pid; (void)fp_regs; return 0; }
int restore_i387_registers(int pid, unsigned long *fp_regs) { (void)pid; (void)fp_regs; return 0; }
int restore_fp_registers(int pid, unsigned long *fp_regs) { (void)pid; (void)fp_regs; return 0; }
int save_fpx_registers(int pid, unsigned long *fp_regs) { (void)pid; (void)fp_regs; return 0; }
int restore_fpx_registers(int pid, unsigned long *fp_regs) { (void)pid; (void)fp_regs; return 0; }
int get_fp_registers(int pid, unsigned long *regs) { (void)pid; (void)regs; return 0; }
int put_fp_registers(int pid, unsigned long *regs) { (void)pid; (void)regs; return 0; }
void arch_init_registers(int pid) { (void)pid; }

unsigned long get_thread_reg(int reg, jmp_buf *buf)
{
	switch (reg) {
	case HOST_IP:
		return buf[0]->__rip;
	case HOST_SP:
		return buf[0]->__rsp;
	case HOST_BP:
		return buf[0]->__rbp;
	default:
		return 0;
	}
}
