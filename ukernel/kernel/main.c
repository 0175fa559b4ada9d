/*
 * Boot: from the loader's memory map to the root task running.
 *
 *   RAM - (low 1 MiB, kernel image, loader info, modules) = free memory.
 *   A contiguous piece of it becomes the kernel pool (kmem); the root task's
 *   image, stack, IPC buffer and boot-info page come from the rest; what is
 *   left is mapped into the root task at UK_PHYS_WINDOW + phys as the roots
 *   of the mapping database, and listed in the boot-info page.
 */
#include "boot.h"
#include "task.h"
#include "thread.h"
#include "sched.h"
#include "vspace.h"
#include "kmem.h"
#include "irq.h"
#include "stats.h"
#include "lib.h"
#include "log.h"
#include "arch/arch.h"
#include "arch/cpu.h"
#include <common/elf.h>

#define KERNEL_VERSION  "ukvm-ukernel 0.1"
#define POOL_MIN        (16ul << 20)
#define POOL_MAX        (256ul << 20)
#define ROOT_STACK_TOP  UK_ROOT_STACK_TOP
#define ROOT_STACK_SIZE (256ul << 10)
#define ROOT_IPC_BUFFER UK_ROOT_IPC_BUFFER

static struct boot_params bp;
static struct boot_range free_mem[BOOT_MAX_RANGES * 2];
static unsigned nfree;

extern void exit_to_user(void);

/* free_mem = RAM minus reserved, page-aligned. */
static void compute_free_memory(void)
{
    for (unsigned i = 0; i < bp.nram; i++) {
        struct boot_range pieces[BOOT_MAX_RANGES * 2];
        unsigned n = 1;
        pieces[0] = (struct boot_range){ ALIGN_UP(bp.ram[i].start, PAGE_SIZE),
                                         ALIGN_DOWN(bp.ram[i].end, PAGE_SIZE) };
        for (unsigned r = 0; r < bp.nreserved; r++) {
            u64 rs = ALIGN_DOWN(bp.reserved[r].start, PAGE_SIZE);
            u64 re = ALIGN_UP(bp.reserved[r].end, PAGE_SIZE);
            for (unsigned k = 0; k < n; k++) {
                struct boot_range *p = &pieces[k];
                if (re <= p->start || rs >= p->end)
                    continue;
                if (rs > p->start && re < p->end && n < ARRAY_SIZE(pieces))
                    pieces[n++] = (struct boot_range){ re, p->end };
                if (rs > p->start)
                    p->end = rs;
                else
                    p->start = re;
            }
        }
        for (unsigned k = 0; k < n; k++)
            if (pieces[k].end > pieces[k].start && nfree < ARRAY_SIZE(free_mem))
                free_mem[nfree++] = pieces[k];
    }
}

/* A page of free memory for boot-time use (taken from the lowest range). */
static u64 steal_page(void)
{
    for (unsigned i = 0; i < nfree; i++)
        if (free_mem[i].end > free_mem[i].start) {
            u64 p = free_mem[i].start;
            free_mem[i].start += PAGE_SIZE;
            memset(phys_to_virt(p), 0, PAGE_SIZE);
            return p;
        }
    panic("out of memory at boot");
}

static void setup_pool(void)
{
    u64 total = 0;
    unsigned best = 0;
    for (unsigned i = 0; i < nfree; i++) {
        total += free_mem[i].end - free_mem[i].start;
        if (free_mem[i].end - free_mem[i].start > free_mem[best].end - free_mem[best].start)
            best = i;
    }
    u64 size = ALIGN_DOWN(total / 8, PAGE_SIZE);
    if (size < POOL_MIN) size = POOL_MIN;
    if (size > POOL_MAX) size = POOL_MAX;
    if (free_mem[best].end - free_mem[best].start < size + (4ul << 20))
        panic("not enough memory for the kernel pool (%lu KiB)", size >> 10);
    free_mem[best].end -= size;
    kmem_init(phys_to_virt(free_mem[best].end), free_mem[best].end, size / PAGE_SIZE);
    kprintf("memory: %lu MiB free, kernel pool %lu MiB\n", total >> 20, size >> 20);
}

static void map_root_page(struct task *root, word va, u64 pa, unsigned rights)
{
    int err = rights == UK_MAP_RWX ? vspace_map_boot_free(root, va, pa)
                                   : vspace_map_boot(root, va, pa, rights);
    if (err != UK_OK)
        panic("root task: out of kernel memory mapping %lx", va);
}

/* Loads the root task's ELF; returns its entry point. */
static word load_root_elf(struct task *root, const struct boot_module *m)
{
    struct uk_elf_image img;
    const void *data = phys_to_virt(m->start);
    int err = uk_elf_check(data, m->end - m->start, PAGE_SIZE, UK_PHYS_WINDOW, &img);
    if (err)
        panic("root task module '%s': %s", m->cmdline, uk_elf_strerror(err));
    for (unsigned s = 0; s < img.nsegments; s++) {
        const struct uk_elf_segment *seg = &img.seg[s];
        for (word va = ALIGN_DOWN(seg->vaddr, PAGE_SIZE); va < seg->vaddr + seg->memsz; va += PAGE_SIZE) {
            u64 pa = steal_page();
            u8 *page = phys_to_virt(pa);
            /* the file bytes that fall into this page */
            word lo = va < seg->vaddr ? seg->vaddr : va;
            word hi = va + PAGE_SIZE;
            if (hi > seg->vaddr + seg->filesz)
                hi = seg->vaddr + seg->filesz;
            if (hi > lo)
                memcpy(page + (lo - va), (const u8 *)data + seg->offset + (lo - seg->vaddr), hi - lo);
            map_root_page(root, va, pa, seg->flags | UK_MAP_READ);
        }
    }
    return img.entry;
}

static word add_string(struct uk_bootinfo *bi, word *used, const char *s)
{
    word at = *used, n = 0;
    while (s[n])
        n++;
    if (at + n + 1 > UK_BOOT_STRINGS)
        return UK_BOOT_STRINGS - 1;        /* the final NUL: an empty string */
    memcpy(bi->strings + at, s, n + 1);
    *used += n + 1;
    return at;
}

noreturn void boot_root_task(struct boot_params *params)
{
    (void)params;
    if (bp.nmodules == 0)
        panic("no boot modules: the first module must be the root task");
    int err;
    word reserve = 256ul << 10;            /* slack for slab fragmentation */
    word quota = kmem_free_pages() * PAGE_SIZE - reserve;
    struct task *root = task_create(NULL, quota, UK_ROOT_CAP_SLOTS, false, &err);
    if (!root)
        panic("cannot create the root task (%d)", err);
    root_task = root;

    word entry = load_root_elf(root, &bp.modules[0]);
    for (word va = ROOT_STACK_TOP - ROOT_STACK_SIZE; va < ROOT_STACK_TOP; va += PAGE_SIZE)
        map_root_page(root, va, steal_page(), UK_MAP_READ | UK_MAP_WRITE);
    map_root_page(root, ROOT_IPC_BUFFER, steal_page(), UK_MAP_READ | UK_MAP_WRITE);

    u64 bi_phys = steal_page();
    struct uk_bootinfo *bi = phys_to_virt(bi_phys);
    word sused = 0;
    bi->magic = UK_BOOTINFO_MAGIC;
    bi->abi_version = UK_ABI_VERSION;
    memcpy(bi->kernel_version, KERNEL_VERSION, sizeof KERNEL_VERSION);
    bi->tsc_hz = tsc_hz;
    bi->boot_tsc = boot_tsc;
    bi->root_cmdline = add_string(bi, &sused, bp.modules[0].cmdline);
    for (unsigned i = 1; i < bp.nmodules && i <= UK_BOOT_MAX_MODULES; i++) {
        struct uk_boot_module *m = &bi->modules[bi->nmodules++];
        m->phys = bp.modules[i].start;
        m->size = bp.modules[i].end - bp.modules[i].start;
        m->cmdline = add_string(bi, &sused, bp.modules[i].cmdline);
        for (u64 pa = ALIGN_DOWN(m->phys, PAGE_SIZE); pa < m->phys + m->size; pa += PAGE_SIZE)
            map_root_page(root, UK_PHYS_WINDOW + pa, pa, UK_MAP_RWX);   /* RW, may become X */
    }
    map_root_page(root, UK_BOOTINFO_VADDR, bi_phys, UK_MAP_READ);

    /* everything left: the root task's to hand out */
    for (unsigned i = 0; i < nfree; i++) {
        if (free_mem[i].end <= free_mem[i].start)
            continue;
        if (bi->nranges < UK_BOOT_MAX_RANGES)
            bi->ranges[bi->nranges++] = (struct uk_boot_range){
                free_mem[i].start, free_mem[i].end - free_mem[i].start };
        else
            continue;                        /* not listed: not given */
        for (u64 pa = free_mem[i].start; pa < free_mem[i].end; pa += PAGE_SIZE)
            map_root_page(root, UK_PHYS_WINDOW + pa, pa, UK_MAP_RWX);   /* RW, may become X */
    }

    struct thread *t = thread_create(root, root, 255, &err);
    if (!t)
        panic("cannot create the root thread (%d)", err);
    t->ipc_buffer = ROOT_IPC_BUFFER;
    cap_install(&root->cspace.slots[UK_SLOT_SELF_TASK], UK_CAP_TASK,
                UK_R_READ | UK_R_WRITE | UK_R_CONTROL, &root->hdr, 0);
    cap_install(&root->cspace.slots[UK_SLOT_SELF_THREAD], UK_CAP_THREAD, UK_R_ALL, &t->hdr, 0);
    cap_install(&root->cspace.slots[UK_SLOT_IRQ_CONTROL], UK_CAP_IRQ_CONTROL, UK_R_ALL, NULL, 0);
    cap_install(&root->cspace.slots[UK_SLOT_DEBUG], UK_CAP_DEBUG, UK_R_ALL, NULL, 0);
    root->cspace.slots[UK_SLOT_IOPORT_ALL] = (struct cap){
        .type = UK_CAP_IOPORT, .rights = UK_R_ALL, .arg = 0, .extra = 0xffff };
    bi->root_kmem_quota = root->quota.limit - root->quota.used;
    kprintf("root task: entry %lx, %lu KiB kernel memory used, %lu KiB quota left\n",
            entry, root->quota.used >> 10, bi->root_kmem_quota >> 10);

    thread_start(t, entry, ROOT_STACK_TOP - 8, UK_BOOTINFO_VADDR);
    current = &idle_thread;
    entry_thread = &gone_thread;
    schedule();
    exit_to_user();
    panic("exit_to_user returned");
}

/* Whether the kernel's command line (the boot loader's: never a user
 * task's) holds the word w. */
static bool cmdline_has(const char *w)
{
    for (const char *p = bp.cmdline; *p;) {
        while (*p == ' ')
            p++;
        word n = 0;
        while (w[n] && p[n] == w[n])
            n++;
        if (!w[n] && (p[n] == ' ' || !p[n]))
            return true;
        while (*p && *p != ' ')
            p++;
    }
    return false;
}

/* `test-kernel-fault` on the kernel command line (the debug suite's image,
 * tests/debug/run): a fault in kernel code two calls below kmain, so the
 * suite sees the panic's backtrace name them.  The address is read from a
 * volatile so the compiler cannot see the fault coming; non-canonical, so
 * it faults (#GP) whatever is mapped. */
static word *volatile test_fault_address = (word *)0x8000000000000000ul;
noinline static void test_fault_touch(void)
{
    *test_fault_address = 1;
}
noinline static void test_fault_start(void)
{
    test_fault_touch();
    __asm__ volatile("" ::: "memory");   /* a call, not a tail jump: its frame stays */
}

noreturn void kmain(word magic, word info)
{
    serial_init();
    kprintf("\n%s: booting\n", KERNEL_VERSION);
    boot_parse(magic, info, &bp);
    word max_phys = 0;
    for (unsigned i = 0; i < bp.nram; i++)
        if (bp.ram[i].end > max_phys)
            max_phys = bp.ram[i].end;
    paging_init(max_phys);
    cpu_init();
    compute_free_memory();
    setup_pool();
    apic_init(bp.acpi_rsdp);
    irq_init();
    timer_init();
    if (cmdline_has("test-kernel-fault"))
        test_fault_start();
    boot_root_task(&bp);
}
