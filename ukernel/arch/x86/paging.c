/*
 * The kernel half of every address space: all physical memory at
 * PHYSMAP_BASE (2 MiB pages, no-execute) and the kernel image at
 * KERNEL_BASE.  Built once at boot; every task's PML4 copies entries
 * 256-511, so the kernel half is shared and never changes afterwards.
 */
#include "arch/cpu.h"
#include "arch/pte.h"
#include "arch/arch.h"
#include "log.h"

#define MAX_PHYS_GIB 64

static u64 pml4[512] __attribute__((aligned(PAGE_SIZE)));
static u64 physmap_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static u64 physmap_pd[MAX_PHYS_GIB][512] __attribute__((aligned(PAGE_SIZE)));
static u64 image_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static u64 image_pd[512] __attribute__((aligned(PAGE_SIZE)));

u64 *kernel_pml4 = pml4;
u64 kernel_pml4_phys;

void paging_init(word max_phys)
{
    word gib = ALIGN_UP(max_phys, 1ul << 30) >> 30;
    if (gib < 4)
        gib = 4;                         /* the MMIO hole below 4 GiB */
    if (gib > MAX_PHYS_GIB) {
        kprintf("paging: only the first %d GiB of memory are used\n", MAX_PHYS_GIB);
        gib = MAX_PHYS_GIB;
    }
    for (word g = 0; g < gib; g++) {
        for (word i = 0; i < 512; i++) {
            u64 pa = (g << 30) | (i << 21);
            u64 attr = PTE_P | PTE_W | PTE_PS | PTE_G | PTE_NX;
            if (pa >= 0xc0000000ul && pa < 0x100000000ul)
                attr |= PTE_PCD | PTE_PWT;   /* device memory: uncached */
            physmap_pd[g][i] = pa | attr;
        }
        physmap_pdpt[g] = virt_to_phys(physmap_pd[g]) | PTE_P | PTE_W;
    }
    for (word i = 0; i < 512; i++)
        image_pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS | PTE_G;
    image_pdpt[510] = virt_to_phys(image_pd) | PTE_P | PTE_W;
    pml4[pt_index(PHYSMAP_BASE, 3)] = virt_to_phys(physmap_pdpt) | PTE_P | PTE_W;
    pml4[511] = virt_to_phys(image_pdpt) | PTE_P | PTE_W;

    write_cr4(read_cr4() | (1ul << 7));  /* PGE: kernel entries survive cr3 writes */
    kernel_pml4_phys = virt_to_phys(pml4);
    write_cr3(kernel_pml4_phys);
}
