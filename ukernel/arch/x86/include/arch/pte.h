/* x86-64 page-table entry bits and the four-level walk geometry. */
#ifndef ARCH_PTE_H
#define ARCH_PTE_H

#include "types.h"

#define PTE_P     (1ul << 0)
#define PTE_W     (1ul << 1)
#define PTE_U     (1ul << 2)
#define PTE_PWT   (1ul << 3)
#define PTE_PCD   (1ul << 4)
#define PTE_PS    (1ul << 7)     /* 2 MiB / 1 GiB page */
#define PTE_G     (1ul << 8)
#define PTE_NX    (1ul << 63)
#define PTE_ADDR  0x000ffffffffff000ul

static inline unsigned pt_index(word va, int level)   /* level 3 = PML4 */
{
    return (va >> (12 + 9 * level)) & 511;
}

#endif
