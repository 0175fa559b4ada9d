/*
 * The root task: gets every resource at boot, runs its IPC self-test, then
 * starts one vmm-server per guest described by the boot modules and waits
 * for them to end (docs/vmm.md).
 *
 *   main.c     banner, IPC self-test, the wait loop
 *   modules.c  boot-module command lines: `vmm-server`, `guest ...`
 *   launch.c   one vmm-server: its task, memory, modules, info page, thread
 *   rtc.c      the CMOS real-time clock (wall-clock time for the guests)
 */
#ifndef ROOT_H
#define ROOT_H

#include <uk/rt.h>
#include <uk/spawn.h>

#define ROOT_MAX_GUESTS UK_BOOT_MAX_MODULES

/* A guest, from a module command line:
 *   guest [name=N] [mem=MiB] [kmem=KiB] [initrd=MODULE] [-- kernel command line]
 * MODULE is the first word of another module's command line. */
struct guest_desc {
    char name[32];
    uk_word_t mem_mib;        /* guest RAM (default 64) */
    uk_word_t kmem_kib;       /* the guest kernel's kernel-memory quota (0: from mem) */
    int kernel;               /* index into bi->modules */
    int initrd;               /* index into bi->modules, or -1 */
    char cmdline[1024];
};

/* modules.c: the vmm-server module's index (-1: none) and the guests, in
 * boot order; bad guest lines are reported and skipped. */
int find_modules(const struct uk_bootinfo *bi, struct guest_desc *g, int *nguests);

/* launch.c: starts guest g's vmm-server; 0 or an error (reported). */
long launch_vmm(const struct uk_bootinfo *bi, int vmm_module, uk_word_t index,
                const struct guest_desc *g, uk_word_t root_ep);
/* The vmm-server with this badge has ended (or faulted): report, destroy. */
int vmm_ended(uk_word_t badge, const struct uk_msg *m);

/* rtc.c: nanoseconds since 1970 now, and the TSC when it was read. */
uk_word_t rtc_now_ns(uk_word_t *tsc);

#endif
