/* What an x86 exception means, for the generic kernel (vcpu.c) and trap.c:
 * the vectors and the page-fault error code behind helpers. */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include "types.h"

#define VEC_NM   7               /* device not available: the lazy FPU switch */
#define VEC_PF   14              /* page fault: cr2 holds the address */
#define VEC_FIRST_INTERRUPT 32   /* below: exceptions; from here: interrupts */

/* Page-fault error code bits */
#define PF_ERR_PRESENT (1ul << 0)   /* the page was mapped: rights were lacking */
#define PF_ERR_WRITE   (1ul << 1)
#define PF_ERR_FETCH   (1ul << 4)   /* an instruction fetch */

static inline bool trap_is_page_fault(word vector) { return vector == VEC_PF; }

/* Not the running code's doing: an interrupt, or #NM, which is the
 * kernel's own (the lazy FPU switch, fpu.c). */
static inline bool trap_is_external(word vector)
{
    return vector >= VEC_FIRST_INTERRUPT || vector == VEC_NM;
}

/* A user-mode page fault's access, as UK_ACCESS_* (fault messages, vCPU
 * exits), from its error code. */
static inline word page_fault_access(word error)
{
    return UK_ACCESS_USER | ((error & PF_ERR_WRITE) ? UK_ACCESS_WRITE : UK_ACCESS_READ) |
           ((error & PF_ERR_FETCH) ? UK_ACCESS_EXEC : 0) |
           ((error & PF_ERR_PRESENT) ? UK_ACCESS_PRESENT : 0);
}

#endif
