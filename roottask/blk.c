/*
 * The block server (servers/blk/, docs/storage.md): started from the boot
 * module `blk-server` in a task of its own, with its caps in the
 * UK_BLK_SLOT_* slots.  PCI has one owner, us: we enumerate configuration
 * space (libuser/pci.c, ports 0xcf8-0xcff, which no other task gets), and
 * for each virtio-blk device (1af4:1001, legacy/transitional, I/O BAR0)
 * hand the server only what that device needs: an I/O-port cap for BAR0,
 * its own holder of the device's IRQ line (the disks share INTx lines; so
 * may other drivers), DMA pages for its virtqueue, and its configuration
 * (struct uk_pci_dev) in the server's info page (pcidev.c).  Bus mastering
 * is turned on by us; the server cannot touch configuration space.
 *
 * DMA: there is no IOMMU, so the server (through its devices) can write any
 * physical memory; it is trusted with that.  What we can do is not hand
 * its DMA frames or the clients' windows to anyone else while a device
 * might still write them: when the server ends (fault or blk_stop) every
 * device is reset and its bus mastering turned off before anything else,
 * and the pages themselves are never given back (uk_pages_alloc does not
 * free).
 */
#include "root.h"
#include <uk/blk.h>
#include <user/loader.h>
#include <user/pci.h>
#include <user/virtio.h>

#define BLK_KMEM      (1ul << 20)          /* page tables for its windows; no objects */
#define CALL_TIMEOUT  uk_timeout_us(10000000)

static struct {
    int live;
    uk_word_t task, thread, ep, notif, fault_ep, cfg;
    uk_word_t ndisks;
    struct uk_pci_dev pci[UK_BLK_MAX_DISKS];
    uk_word_t io[UK_BLK_MAX_DISKS], irq[UK_BLK_MAX_DISKS];
    uk_word_t window_pages[UK_BLK_MAX_CLIENTS + 1];
} B;
static struct uk_loaded loaded;

static void say(const char *what, long err)
{
    printf("root task: blk-server: %s (error %ld)\n", what, err);
}

/* A control request (badge 0): its status (uk_ipc_failed() if the IPC failed). */
long blk_control(uk_word_t op, uk_word_t w0, uk_word_t w1, uk_word_t w2, uk_word_t reply[4])
{
    if (!B.live)
        return UK_BLK_EIO;
    struct uk_msg m = { .info = uk_msginfo(op, 3, CALL_TIMEOUT), .w = { w0, w1, w2 } };
    return uk_call_status(B.ep, &m, reply);
}

/* Slot s of the server's table gets a copy of our slot `src`. */
static long give(uk_word_t src, uk_word_t slot, uk_word_t rights, uk_word_t badge)
{
    return uk_cap_copy(src, B.task, slot, rights, badge);
}

/* Disk d's caps into the server, or none of them (an error). */
static long give_disk(unsigned d)
{
    const struct uk_pci_dev *p = &B.pci[d];
    uk_word_t base = UK_BLK_SLOT_DISK0 + 4u * d;
    long err = pcidev_claim_virtio(B.cfg, p, &B.io[d], &B.irq[d]);
    if (err == UK_E_INVAL) {
        printf("root task: blk-server: virtio-blk %02x:%02x.%x has no legacy I/O BAR0 or no "
               "IRQ line: not given\n", p->bus, p->dev, p->fn);
        return err;
    }
    if (err || (err = give(B.io[d], base + UK_BLK_DISK_IO, UK_R_ALL, 0)) ||
        (err = give(B.irq[d], base + UK_BLK_DISK_IRQ, UK_R_ALL, 0)) ||
        (err = give(B.notif, base + UK_BLK_DISK_IRQ_NOTIF, UK_R_WRITE, 1ul << d))) {
        for (uk_word_t i = 0; i < 3; i++)
            uk_cap_delete(B.task, base + i);
        pcidev_release_virtio(B.cfg, p, &B.io[d], &B.irq[d]);
    }
    return err;
}

int blk_start(const struct uk_bootinfo *bi, int module, uk_word_t root_ep)
{
    const struct uk_boot_module *mod = &bi->modules[module];
    struct uk_pci_dev found[UK_BLK_MAX_DISKS];
    long err;

    memset(&B, 0, sizeof B);
    if ((err = pcidev_config_ports(&B.cfg))) {
        say("no PCI configuration ports", err);
        return 0;
    }
    unsigned n = pci_find(B.cfg, UK_PCI_VENDOR_VIRTIO, UK_PCI_DEVICE_VIRTIO_BLK, found,
                          UK_BLK_MAX_DISKS);
    if (n == 0) {
        printf("root task: blk-server: no virtio-blk device on the PCI bus: not started\n");
        uk_cap_delete(UK_SLOT_SELF_TASK, B.cfg);
        return 0;
    }
    if ((err = uk_task_new(BLK_KMEM, UK_BLK_SLOTS, 0, &B.task))) {
        say("no task", err);
        return 0;
    }
    if ((err = uk_load_elf(B.task, (const void *)(UK_PHYS_WINDOW + mod->phys), mod->size,
                           &loaded))) {
        printf("root task: blk-server: %s (error %ld)\n", loaded.error, err);
        goto fail;
    }
    B.ep = uk_slot_alloc();
    B.notif = uk_slot_alloc();
    B.fault_ep = uk_slot_alloc();
    /* it reports its disks and failures on the kernel log, as the console server does */
    if ((err = give(UK_SLOT_DEBUG, UK_SLOT_DEBUG, UK_R_WRITE, 0)))
        say("no kernel log for it", err);
    if ((err = uk_endpoint_create(B.ep)) || (err = give(B.ep, UK_BLK_SLOT_EP, UK_R_READ, 0)) ||
        (err = uk_notif_create(B.notif)) ||
        (err = give(B.notif, UK_BLK_SLOT_NOTIF, UK_R_READ, 0))) {
        say("its endpoint and notification", err);
        goto fail;
    }
    /* the info page and each disk's DMA pages */
    struct uk_blk_info *info = uk_pages_alloc(1);
    char *dma = uk_pages_alloc(UK_BLK_DMA_PAGES * (uk_word_t)n);
    if (!info || !dma) {
        say("no memory for its info and DMA pages", UK_E_NOMEM);
        goto fail;
    }
    info->magic = UK_BLK_INFO_MAGIC;
    for (unsigned i = 0; i < n; i++) {
        B.pci[B.ndisks] = found[i];
        if ((err = give_disk((unsigned)B.ndisks))) {
            if (err != UK_E_INVAL)
                say("a disk's caps", err);
            continue;
        }
        info->disk[B.ndisks++] = found[i];
    }
    info->ndisks = B.ndisks;
    if ((err = uk_map_range(B.task, (uk_word_t)info, UK_BLK_INFO_VADDR, 1, UK_MAP_READ)) ||
        (err = uk_map_range(B.task, (uk_word_t)dma, UK_BLK_DMA_VADDR,
                            UK_BLK_DMA_PAGES * B.ndisks, UK_MAP_READ | UK_MAP_WRITE))) {
        say("its pages not mapped", err);
        goto fail;
    }
    if ((err = uk_cap_copy(root_ep, UK_SLOT_SELF_TASK, B.fault_ep, UK_R_WRITE, BLK_BADGE)) ||
        (err = uk_start_program(B.task, &loaded, BLK_PRIO, B.fault_ep, 0, &B.thread))) {
        say("not started", err);
        goto fail;
    }
    B.live = 1;
    for (unsigned d = 0; d < B.ndisks; d++)
        printf("root task: blk-server: disk %u is virtio-blk %02x:%02x.%x (I/O %lx+%lu, "
               "IRQ %u)\n", d, B.pci[d].bus, B.pci[d].dev, B.pci[d].fn, B.pci[d].bar[0],
               B.pci[d].bar_size[0], B.pci[d].irq);
    return (int)B.ndisks;
fail:
    B.live = 1;                          /* blk_stop undoes what was done */
    blk_stop();
    return 0;
}

void *blk_add_client(uk_word_t n, uk_word_t disk, uk_word_t task, uk_word_t va,
                     uk_word_t pages, uk_word_t slot)
{
    if (!B.live || n < 1 || n > UK_BLK_MAX_CLIENTS || pages * UK_PAGE_SIZE > UK_BLK_WINDOW_MAX)
        return 0;
    char *win = uk_pages_alloc(pages);
    long err, st;
    if (!win)
        return 0;
    uk_word_t rw = UK_MAP_READ | UK_MAP_WRITE;
    if ((err = uk_map_range(task, (uk_word_t)win, va, pages, rw)) ||
        (err = uk_map_range(B.task, (uk_word_t)win, UK_BLK_WINDOW(n), pages, rw))) {
        say("a client's window not mapped", err);
        return 0;
    }
    B.window_pages[n] = pages;
    if ((st = blk_control(UK_BLK_CTL_ADD_CLIENT, n, disk, pages * UK_PAGE_SIZE, 0)) != UK_BLK_OK) {
        printf("root task: blk-server: client %lu refused (status %ld)\n", n, st);
        blk_remove_client(n);
        return 0;
    }
    if ((err = uk_cap_copy(B.ep, task, slot, UK_R_WRITE, n))) {
        say("a client's endpoint cap", err);
        blk_remove_client(n);
        return 0;
    }
    return win;
}

/* Zero copy (docs/storage.md "Zero copy or bounce"): the guest's RAM, our
 * one allocation of `pages` at `ram` (the physical window: ram - UK_PHYS_WINDOW
 * is its physical address, checked at both ends), registered with the
 * block server for client n's DMA; the server never maps it.  Refused or
 * not contiguous: the client bounces through its window, as before. */
void blk_give_ram(uk_word_t n, const char *name, void *ram, uk_word_t pages)
{
    uk_word_t phys = (uk_word_t)ram - UK_PHYS_WINDOW, first = 0, last = 0, rights = 0;
    uk_word_t last_va = (uk_word_t)ram + (pages - 1) * UK_PAGE_SIZE;
    if (!B.live || !pages || uk_mem_info((uk_word_t)ram, &first, &rights) ||
        uk_mem_info(last_va, &last, &rights) || first != phys ||
        last != phys + (pages - 1) * UK_PAGE_SIZE) {
        printf("root task: %s: its RAM is not one physical run: its disk bounces\n", name);
        return;
    }
    long st = blk_control(UK_BLK_CTL_SET_RAM, n, phys, pages * UK_PAGE_SIZE, 0);
    if (st != UK_BLK_OK)
        printf("root task: %s: the block server refused its RAM (status %ld): its disk "
               "bounces\n", name, st);
}

void blk_remove_client(uk_word_t n)
{
    if (!B.live || n < 1 || n > UK_BLK_MAX_CLIENTS || !B.window_pages[n])
        return;
    blk_control(UK_BLK_CTL_REMOVE_CLIENT, n, 0, 0, 0);
    uk_unmap(B.task, UK_BLK_WINDOW(n), B.window_pages[n]);
    B.window_pages[n] = 0;
}

/* The server ends: its devices stop DMA before anything else happens, then
 * its caps and objects go; the lines it held are released (a holder that
 * owed an ack no longer keeps a shared line masked). */
void blk_stop(void)
{
    if (!B.live)
        return;
    B.live = 0;
    if (B.task)
        uk_obj_destroy(B.task);
    for (unsigned d = 0; d < B.ndisks; d++)
        pcidev_release_virtio(B.cfg, &B.pci[d], &B.io[d], &B.irq[d]);
    if (B.notif)
        uk_obj_destroy(B.notif);
    if (B.ep)
        uk_obj_destroy(B.ep);            /* clients' calls fail at once */
    uk_cap_delete(UK_SLOT_SELF_TASK, B.fault_ep);
    uk_cap_delete(UK_SLOT_SELF_TASK, B.cfg);
    B.task = B.ep = B.notif = 0;
}

int blk_fault(uk_word_t badge, const struct uk_msg *m)
{
    if (badge != BLK_BADGE || !B.live)
        return 0;
    printf("root task: blk-server faulted (%s 0x%lx); its devices reset, destroyed\n",
           uk_msg_label(m->info) == UK_FAULT_PAGE ? "page fault at" : "exception", m->w[0]);
    blk_stop();
    return 1;
}

uk_word_t blk_thread(void)
{
    return B.live ? B.thread : 0;
}
