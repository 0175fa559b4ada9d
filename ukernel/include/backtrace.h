/*
 * Kernel backtraces, for panics and faults in the kernel (docs/debugging.md).
 * The unwinder (arch/x86/unwind.c) follows the kernel's own DWARF call-frame
 * tables (.eh_frame), so no frame pointers are needed and nothing runs on
 * any other path; each frame is named from the kernel's symbol table
 * (kernel/ksyms.c, written into the image by a second link: tools/build/mkksyms).
 */
#ifndef UK_BACKTRACE_H
#define UK_BACKTRACE_H

#include "types.h"

/* Where to start: an instruction address and the stack and frame pointers
 * there (a trap frame's, or the caller's own: backtrace_here). */
struct unwind_start {
    word pc, sp, bp;
};

/* Prints "  #n name+0xoff (address)" for pc and each caller found. */
void backtrace_print(const struct unwind_start *s);
/* The same from the caller of backtrace_here. */
void backtrace_here(void);

/* The kernel function holding addr and addr's offset in it, or NULL. */
const char *ksym_lookup(word addr, word *offset);

/* arch: the kernel stack holding sp, as [*lo, *hi); false if none does */
bool arch_stack_bounds(word sp, word *lo, word *hi);

#endif
