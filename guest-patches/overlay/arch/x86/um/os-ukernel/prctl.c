/*
 * arch_prctl's host half: on a Linux host it changes the ptraced child's
 * fs/gs base; here the bases are part of the process's registers
 * (regs->gp[HOST_FS_BASE], loaded from the state page at each resume).
 */
#include <errno.h>
#include <asm/prctl.h>
#include <sysdep/ptrace.h>
#include <sysdep/ptrace_user.h>
#include <uk/abi.h>

extern struct uml_pt_regs *ukvm_regs;

int os_arch_prctl(int pid, int option, unsigned long *arg2)
{
	(void)pid;
	if (!ukvm_regs)
		return -EINVAL;
	switch (option) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if ((unsigned long)arg2 >= UK_USER_MAP_TOP)   /* as the microkernel checks */
			return -EPERM;
		ukvm_regs->gp[option == ARCH_SET_FS ? HOST_FS_BASE : HOST_GS_BASE] =
			(unsigned long)arg2;
		return 0;
	case ARCH_GET_FS:
		*arg2 = ukvm_regs->gp[HOST_FS_BASE];
		return 0;
	case ARCH_GET_GS:
		*arg2 = ukvm_regs->gp[HOST_GS_BASE];
		return 0;
	default:
		return -EINVAL;
	}
}
