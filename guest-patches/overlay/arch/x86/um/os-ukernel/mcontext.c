/*
 * Host signal contexts do not exist here: faults of the guest kernel come
 * as a struct uk_regs frame (signal.c builds uml_pt_regs from it).
 */
#include <sysdep/ptrace.h>

void get_regs_from_mc(struct uml_pt_regs *regs, void *mc)
{
	(void)regs;
	(void)mc;
}
