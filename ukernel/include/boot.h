/* What the boot loader told us, in a loader-neutral form (arch fills it). */
#ifndef UK_BOOT_H
#define UK_BOOT_H

#include "types.h"

#define BOOT_MAX_RANGES 64

struct boot_range { u64 start, end; };          /* [start, end) */
struct boot_module { u64 start, end; const char *cmdline; };

struct boot_params {
    struct boot_range ram[BOOT_MAX_RANGES];     /* usable RAM */
    unsigned nram;
    struct boot_range reserved[BOOT_MAX_RANGES]; /* in RAM but taken */
    unsigned nreserved;
    struct boot_module modules[UK_BOOT_MAX_MODULES + 1];
    unsigned nmodules;
    const char *cmdline;
    u64 acpi_rsdp;                              /* physical, 0 if none */
};

/* arch: reads the loader's information (before paging_init) */
void boot_parse(word magic, word info_phys, struct boot_params *bp);
/* arch: the TSC at the kernel's start (boot.asm), for the root's boot info */
extern u64 boot_tsc;
/* generic: builds the root task and runs it */
noreturn void boot_root_task(struct boot_params *bp);

#endif
