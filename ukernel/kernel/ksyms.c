/*
 * The kernel's own symbol table, for naming backtrace frames.  Not written
 * by hand: the kernel is linked once with an empty table, tools/build/mkksyms
 * lists that link's functions (nm) as an assembler file, and the kernel is
 * linked again with it.  The table lies after .text (linker.ld), so the
 * second link moves no function; the Makefile checks that by making the
 * table again from the final kernel and comparing.
 */
#include "backtrace.h"

extern const u64 ksym_count;
extern const u64 ksym_addr[];          /* sorted */
extern const u32 ksym_name[];          /* offsets into ksym_strings */
extern const char ksym_strings[];
extern const char __text_start[], __text_end[];

const char *ksym_lookup(word addr, word *offset)
{
    if (addr < (word)__text_start || addr >= (word)__text_end || ksym_count == 0 ||
        addr < ksym_addr[0])
        return NULL;
    word lo = 0, hi = ksym_count;            /* the last entry <= addr */
    while (hi - lo > 1) {
        word mid = lo + (hi - lo) / 2;
        if (ksym_addr[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    *offset = addr - ksym_addr[lo];
    return &ksym_strings[ksym_name[lo]];
}
