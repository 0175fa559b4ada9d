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
 * Several servers: each `blk-server` module line starts one (blk_start_all),
 * `blk-server disk=N` with PCI disk N only, a bare `blk-server` with every
 * disk no other server has: one server for all guests (the shared
 * topology of docs/experiments.md) or one per disk and so per guest (the
 * per-guest one).  A disk has one driver.  Server i's faults come with badge
 * BLK_BADGE + i; a guest's `disk=N` names the PCI disk, whichever server
 * drives it.
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

/* A client as we keep it: enough to connect it to a new server after a
 * restart (its window is its own: the same pages, at the same address). */
struct blk_client {
    uk_word_t task, va, slot, disk;      /* its task, window address, endpoint slot; disk:
                                            the server's number for it */
    char *window;                        /* our view of its window's pages */
    uk_word_t window_pages;              /* 0: no such client */
    uk_word_t ram_phys, ram_bytes;       /* its RAM for zero copy (blk_give_ram), or 0 */
};

struct blk_server {                      /* ours (the root task's main thread) */
    int live, module;
    char name[8];                        /* "blk", "blk2", ...: the supervisor's too */
    uk_word_t task, thread, ep, notif, fault_ep, cfg;
    uk_word_t ndisks;
    struct uk_pci_dev pci[UK_BLK_MAX_DISKS];
    unsigned global[UK_BLK_MAX_DISKS];   /* its disk d is PCI disk global[d] */
    uk_word_t io[UK_BLK_MAX_DISKS], irq[UK_BLK_MAX_DISKS];
    struct blk_client client[UK_BLK_MAX_CLIENTS + 1];
    struct uk_loaded img;                /* its program: our view of its segments (blk_flip) */
};
static struct blk_server srv[BLK_MAX_SERVERS];
static int nsrv;                         /* slots ever used */
static struct uk_loaded loaded;
/* Each server slot's pages, allocated once and reused by a restarted
 * server: stop() resets every device (its DMA ends) before a new server is
 * started on them, and uk_pages_alloc does not free, so nothing else ever
 * lands in them.  Client n's window likewise, reused by the next client n
 * of the slot (a restarted vmm-server: launch.c) once the last is removed
 * (the server answers REMOVE_CLIENT between requests: none of the old
 * client's is in flight then). */
static struct {
    struct uk_blk_info *info;
    char *dma;
    unsigned disks;
    struct uk_kept_pages img;            /* the server's program image */
    struct uk_kept_pages stack;          /* its stack and IPC buffer */
    struct uk_kept_pages window[UK_BLK_MAX_CLIENTS + 1];
} kept_pages[BLK_MAX_SERVERS];

static void say(const struct blk_server *s, const char *what, long err)
{
    printf("root task: blk-server %s: %s (error %ld)\n", s->name, what, err);
}

static long control_to(struct blk_server *s, uk_word_t timeout, uk_word_t op, uk_word_t w0,
                       uk_word_t w1, uk_word_t w2, uk_word_t reply[4])
{
    if (!s->live)
        return UK_BLK_EIO;
    struct uk_msg m = { .info = uk_msginfo(op, 3, timeout), .w = { w0, w1, w2 } };
    return uk_call_status(s->ep, &m, reply);
}

static long control(struct blk_server *s, uk_word_t op, uk_word_t w0, uk_word_t w1,
                    uk_word_t w2, uk_word_t reply[4])
{
    return control_to(s, CALL_TIMEOUT, op, w0, w1, w2, reply);
}

/* A control request (badge 0) to the first server: its status
 * (uk_ipc_failed() if the IPC failed). */
long blk_control(uk_word_t op, uk_word_t w0, uk_word_t w1, uk_word_t w2, uk_word_t reply[4])
{
    return control(&srv[0], op, w0, w1, w2, reply);
}

static struct blk_server *server(int i)
{
    return i >= 0 && i < nsrv && srv[i].live ? &srv[i] : 0;
}

/* The supervisor's heartbeat: a request the server answers without its
 * devices (disk 0's info); UK_E_TIMEOUT if it did not answer in time. */
long blk_ping(int i, uk_word_t timeout)
{
    struct blk_server *s = server(i);
    if (!s)
        return UK_E_INVAL;
    struct uk_msg m = { .info = uk_msginfo(UK_BLK_CTL_DISK_INFO, 3, timeout) };
    return uk_call(s->ep, &m);           /* any answer: it is alive */
}

/* Slot `slot` of the server's table gets a copy of our slot `src`. */
static long give(struct blk_server *s, uk_word_t src, uk_word_t slot, uk_word_t rights,
                 uk_word_t badge)
{
    return uk_cap_copy(src, s->task, slot, rights, badge);
}

/* Disk d's caps into the server, or none of them (an error). */
static long give_disk(struct blk_server *s, unsigned d)
{
    const struct uk_pci_dev *p = &s->pci[d];
    uk_word_t base = UK_BLK_SLOT_DISK0 + 4u * d;
    long err = pcidev_claim_virtio(s->cfg, p, &s->io[d], &s->irq[d]);
    if (err == UK_E_INVAL) {
        printf("root task: blk-server %s: virtio-blk %02x:%02x.%x has no legacy I/O BAR0 or "
               "no IRQ line: not given\n", s->name, p->bus, p->dev, p->fn);
        return err;
    }
    if (err || (err = give(s, s->io[d], base + UK_BLK_DISK_IO, UK_R_ALL, 0)) ||
        (err = give(s, s->irq[d], base + UK_BLK_DISK_IRQ, UK_R_ALL, 0)) ||
        (err = give(s, s->notif, base + UK_BLK_DISK_IRQ_NOTIF, UK_R_WRITE, 1ul << d))) {
        for (uk_word_t i = 0; i < 3; i++)
            uk_cap_delete(s->task, base + i);
        pcidev_release_virtio(s->cfg, p, &s->io[d], &s->irq[d]);
    }
    return err;
}

/* Is PCI disk g driven by a live server other than s? */
static int driven_elsewhere(const struct blk_server *s, unsigned g)
{
    for (int i = 0; i < nsrv; i++)
        if (&srv[i] != s && srv[i].live)
            for (unsigned d = 0; d < srv[i].ndisks; d++)
                if (srv[i].global[d] == g)
                    return 1;
    return 0;
}

/* `disk=N` of the module line: N, or -1 (every disk), -2 (a bad word). */
static int disk_word(const struct uk_bootinfo *bi, int module)
{
    const char *p = cmdline_of(bi, module) + word_len(cmdline_of(bi, module));
    int disk = -1;
    for (;;) {
        while (*p == ' ')
            p++;
        uk_word_t n = word_len(p);
        if (!n)
            return disk;
        if (n == 6 && !strncmp(p, "disk=", 5) && p[5] >= '0' &&
            p[5] < '0' + (int)UK_BLK_MAX_DISKS)
            disk = p[5] - '0';
        else
            return -2;
        p += n;
    }
}

static void stop(struct blk_server *s);

/* Server slot s started from module `module`; how many disks it drives. */
static int start(struct blk_server *s, int slot, const struct uk_bootinfo *bi, int module,
                 uk_word_t root_ep)
{
    const struct uk_boot_module *mod = &bi->modules[module];
    struct uk_pci_dev found[UK_BLK_MAX_DISKS];
    long err;

    memset(s, 0, sizeof *s);
    s->module = module;
    snprintf(s->name, sizeof s->name, slot ? "blk%d" : "blk", slot + 1);
    int want = disk_word(bi, module);
    if (want == -2) {
        printf("root task: blk-server: module \"%s\": want `blk-server [disk=0..%u]`: not "
               "started\n", cmdline_of(bi, module), UK_BLK_MAX_DISKS - 1);
        return 0;
    }
    if ((err = pcidev_config_ports(&s->cfg))) {
        say(s, "no PCI configuration ports", err);
        return 0;
    }
    unsigned n = pci_find(s->cfg, UK_PCI_VENDOR_VIRTIO, UK_PCI_DEVICE_VIRTIO_BLK, found,
                          UK_BLK_MAX_DISKS);
    unsigned mine[UK_BLK_MAX_DISKS], k = 0;
    for (unsigned g = 0; g < n; g++)
        if ((want < 0 || (unsigned)want == g) && !driven_elsewhere(s, g))
            mine[k++] = g;
    if (k == 0) {
        printf("root task: blk-server %s: no virtio-blk device %s: not started\n", s->name,
               n ? "left for it" : "on the PCI bus");
        uk_cap_delete(UK_SLOT_SELF_TASK, s->cfg);
        return 0;
    }
    if ((err = uk_task_new(BLK_KMEM, UK_BLK_SLOTS_MAX, 0, &s->task))) {
        say(s, "no task", err);
        return 0;
    }
    if ((err = uk_load_elf_with(s->task, (const void *)(UK_PHYS_WINDOW + mod->phys), mod->size,
                                UK_PAGE_SIZE, UK_PHYS_WINDOW, uk_kept_pages,
                                &kept_pages[slot].img, &loaded))) {
        printf("root task: blk-server %s: %s (error %ld)\n", s->name, loaded.error, err);
        goto fail;
    }
    s->ep = uk_slot_alloc();
    s->notif = uk_slot_alloc();
    s->fault_ep = uk_slot_alloc();
    /* it reports its disks and failures on the kernel log, as the console server does */
    if ((err = give(s, UK_SLOT_DEBUG, UK_SLOT_DEBUG, UK_R_WRITE, 0)))
        say(s, "no kernel log for it", err);
    if ((err = uk_endpoint_create(s->ep)) ||
        (err = give(s, s->ep, UK_BLK_SLOT_EP, UK_R_READ, 0)) ||
        (err = uk_notif_create(s->notif)) ||
        (err = give(s, s->notif, UK_BLK_SLOT_NOTIF, UK_R_READ, 0))) {
        say(s, "its endpoint and notification", err);
        goto fail;
    }
    /* the info page and each disk's DMA pages (a restart: the same ones,
     * their devices reset by stop()) */
    typeof(kept_pages[0]) *kp = &kept_pages[slot];
    if (!kp->info)
        kp->info = uk_pages_alloc(1);
    if (k > kp->disks && (kp->dma = uk_pages_alloc(UK_BLK_DMA_PAGES * (uk_word_t)k)))
        kp->disks = k;
    struct uk_blk_info *info = kp->info;
    char *dma = kp->dma;
    if (!info || !dma || k > kp->disks) {
        say(s, "no memory for its info and DMA pages", UK_E_NOMEM);
        goto fail;
    }
    memset(info, 0, UK_PAGE_SIZE);
    memset(dma, 0, UK_BLK_DMA_PAGES * UK_PAGE_SIZE * (uk_word_t)k);
    info->magic = UK_BLK_INFO_MAGIC;
    info->tsc_hz = bi->tsc_hz;
    for (unsigned i = 0; i < k; i++) {
        s->pci[s->ndisks] = found[mine[i]];
        s->global[s->ndisks] = mine[i];
        if ((err = give_disk(s, (unsigned)s->ndisks))) {
            if (err != UK_E_INVAL)
                say(s, "a disk's caps", err);
            continue;
        }
        info->disk[s->ndisks++] = found[mine[i]];
    }
    info->ndisks = s->ndisks;
    if ((err = uk_map_range(s->task, (uk_word_t)info, UK_BLK_INFO_VADDR, 1, UK_MAP_READ)) ||
        (err = uk_map_range(s->task, (uk_word_t)dma, UK_BLK_DMA_VADDR,
                            UK_BLK_DMA_PAGES * s->ndisks, UK_MAP_READ | UK_MAP_WRITE))) {
        say(s, "its pages not mapped", err);
        goto fail;
    }
    void *stack = uk_kept_pages(&kp->stack, UK_PROGRAM_STACK_PAGES + 1);
    if (!stack) {
        say(s, "no pages for its stack", UK_E_NOMEM);
        goto fail;
    }
    if ((err = uk_cap_copy(root_ep, UK_SLOT_SELF_TASK, s->fault_ep, UK_R_WRITE,
                           BLK_BADGE + (uk_word_t)slot)) ||
        (err = uk_start_program_on(s->task, &loaded, BLK_PRIO, s->fault_ep, 0, stack,
                                   &s->thread))) {
        say(s, "not started", err);
        goto fail;
    }
    s->live = 1;
    s->img = loaded;
    for (unsigned d = 0; d < s->ndisks; d++)
        printf("root task: blk-server %s: disk %u is virtio-blk %02x:%02x.%x (I/O %lx+%lu, "
               "IRQ %u)\n", s->name, s->global[d], s->pci[d].bus, s->pci[d].dev,
               s->pci[d].fn, s->pci[d].bar[0], s->pci[d].bar_size[0], s->pci[d].irq);
    return (int)s->ndisks;
fail:
    s->live = 1;                         /* stop() undoes what was done */
    stop(s);
    return 0;
}

/* A server from module `module` in the first free slot: its disks. */
int blk_start(const struct uk_bootinfo *bi, int module, uk_word_t root_ep)
{
    int i = 0;
    while (i < BLK_MAX_SERVERS && srv[i].live)
        i++;
    if (i == BLK_MAX_SERVERS) {
        printf("root task: blk-server: more than %d: \"%s\" not started\n", BLK_MAX_SERVERS,
               cmdline_of(bi, module));
        return 0;
    }
    if (i >= nsrv)
        nsrv = i + 1;
    return start(&srv[i], i, bi, module, root_ep);
}

int blk_start_all(const struct uk_bootinfo *bi, uk_word_t root_ep)
{
    int started = 0;
    for (uk_word_t i = 0; i < bi->nmodules && i < UK_BOOT_MAX_MODULES; i++) {
        const char *cmd = cmdline_of(bi, (int)i);
        if (word_len(cmd) == 10 && !strncmp(cmd, "blk-server", 10))
            started += blk_start(bi, (int)i, root_ep) > 0;
    }
    return started;
}

/* Client n (its record filled) on server s: its window mapped into the
 * server, added, and its endpoint cap (the old server's, if any) replaced
 * in the same slot. */
static int connect_client(struct blk_server *s, uk_word_t n)
{
    struct blk_client *c = &s->client[n];
    long err, st;
    if ((err = uk_map_range(s->task, (uk_word_t)c->window, UK_BLK_WINDOW(n), c->window_pages,
                            UK_MAP_READ | UK_MAP_WRITE))) {
        say(s, "a client's window not mapped", err);
        return 0;
    }
    if ((st = control(s, UK_BLK_CTL_ADD_CLIENT, n, c->disk, c->window_pages * UK_PAGE_SIZE,
                      0)) != UK_BLK_OK) {
        printf("root task: blk-server %s: client %lu refused (status %ld)\n", s->name, n, st);
        return 0;
    }
    /* a restarted server learns the client's RAM again: the client goes on
     * naming offsets in it (UK_BLK_OP_RAM), which a server without it refuses */
    if (c->ram_bytes && (st = control(s, UK_BLK_CTL_SET_RAM, n, c->ram_phys, c->ram_bytes,
                                      0)) != UK_BLK_OK) {
        printf("root task: blk-server %s: client %lu's RAM refused (status %ld): it bounces\n",
               s->name, n, st);
        c->ram_bytes = 0;
    }
    uk_cap_delete(c->task, c->slot);     /* the old server's, if any */
    if ((err = uk_cap_copy(s->ep, c->task, c->slot, UK_R_WRITE, n))) {
        say(s, "a client's endpoint cap", err);
        return 0;
    }
    return 1;
}

static void remove_client(struct blk_server *s, uk_word_t n)
{
    control(s, UK_BLK_CTL_REMOVE_CLIENT, n, 0, 0, 0);
    uk_cap_delete(s->client[n].task, s->client[n].slot);   /* its calls fail from now */
    uk_unmap(s->task, UK_BLK_WINDOW(n), s->client[n].window_pages);
    /* the client's view too (if its task is still there): its pages go to
     * the next client n */
    uk_unmap(s->client[n].task, s->client[n].va, s->client[n].window_pages);
    s->client[n].window_pages = 0;
}

void *blk_add_client(uk_word_t n, uk_word_t disk, uk_word_t task, uk_word_t va,
                     uk_word_t pages, uk_word_t slot)
{
    struct blk_server *s = 0;
    uk_word_t local = 0;
    for (int i = 0; i < nsrv && !s; i++)
        for (unsigned d = 0; srv[i].live && d < srv[i].ndisks; d++)
            if (srv[i].global[d] == disk) {
                s = &srv[i];
                local = d;
            }
    if (!s || n < 1 || n > UK_BLK_MAX_CLIENTS || s->client[n].window_pages ||
        pages * UK_PAGE_SIZE > UK_BLK_WINDOW_MAX)
        return 0;
    char *win = uk_kept_pages(&kept_pages[s - srv].window[n], pages);
    long err;
    if (!win)
        return 0;
    memset(win, 0, pages * UK_PAGE_SIZE);   /* nothing of the last client n */
    if ((err = uk_map_range(task, (uk_word_t)win, va, pages, UK_MAP_READ | UK_MAP_WRITE))) {
        say(s, "a client's window not mapped", err);
        return 0;
    }
    s->client[n] = (struct blk_client){ .task = task, .va = va, .slot = slot, .disk = local,
                                        .window = win, .window_pages = pages };
    if (!connect_client(s, n)) {
        remove_client(s, n);
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
    struct blk_server *s = 0;
    for (int i = 0; i < nsrv && !s && n >= 1 && n <= UK_BLK_MAX_CLIENTS; i++)
        if (srv[i].live && srv[i].client[n].window_pages)
            s = &srv[i];                 /* the server of its disk (blk_add_client) */
    if (!s || !pages || uk_mem_info((uk_word_t)ram, &first, &rights) ||
        uk_mem_info(last_va, &last, &rights) || first != phys ||
        last != phys + (pages - 1) * UK_PAGE_SIZE) {
        printf("root task: %s: its RAM is not one physical run: its disk bounces\n", name);
        return;
    }
    long st = control(s, UK_BLK_CTL_SET_RAM, n, phys, pages * UK_PAGE_SIZE, 0);
    if (st != UK_BLK_OK) {
        printf("root task: %s: the block server refused its RAM (status %ld): its disk "
               "bounces\n", name, st);
        return;
    }
    s->client[n].ram_phys = phys;
    s->client[n].ram_bytes = pages * UK_PAGE_SIZE;
}

void blk_remove_client(uk_word_t n)
{
    if (n < 1 || n > UK_BLK_MAX_CLIENTS)
        return;
    for (int i = 0; i < nsrv; i++)
        if (srv[i].live && srv[i].client[n].window_pages)
            remove_client(&srv[i], n);
}

/* The server ends: its devices stop DMA before anything else happens, then
 * its caps and objects go; the lines it held are released (a holder that
 * owed an ack no longer keeps a shared line masked). */
static void stop(struct blk_server *s)
{
    if (!s->live)
        return;
    s->live = 0;
    if (s->task)
        uk_obj_destroy(s->task);
    for (unsigned d = 0; d < s->ndisks; d++)
        pcidev_release_virtio(s->cfg, &s->pci[d], &s->io[d], &s->irq[d]);
    if (s->notif)
        uk_obj_destroy(s->notif);
    if (s->ep)
        uk_obj_destroy(s->ep);           /* clients' calls fail at once */
    uk_cap_delete(UK_SLOT_SELF_TASK, s->fault_ep);
    uk_cap_delete(UK_SLOT_SELF_TASK, s->cfg);
    /* the slots back: a campaign of restarts (the supervisor's swifi=)
     * ran the root task out of its capability table after ~400 */
    uk_word_t slots[] = { s->task, s->thread, s->notif, s->ep, s->fault_ep, s->cfg };
    for (unsigned k = 0; k < sizeof slots / sizeof *slots; k++)
        if (slots[k])
            uk_slot_free(slots[k]);
    memset(s->client, 0, sizeof s->client);
    s->task = s->thread = s->ep = s->notif = s->fault_ep = s->cfg = 0;
}

void blk_stop(void)
{
    for (int i = 0; i < nsrv; i++)
        stop(&srv[i]);
}

/* MINIX-3 style: server i stopped (its devices reset before anything
 * else), a new one started from the same module on the same devices and
 * DMA pages, and every client connected again on the window it kept; a
 * client sees failed calls meanwhile (the endpoint gone, then replaced)
 * and retries them (vmm-server/block.c).  How many came back, or -1 if no
 * server runs. */
int blk_restart(const struct uk_bootinfo *bi, int i, uk_word_t root_ep)
{
    if (i < 0 || i >= nsrv)
        return -1;
    struct blk_server *s = &srv[i];
    struct blk_client kept[UK_BLK_MAX_CLIENTS + 1];
    int module = s->module;
    memcpy(kept, s->client, sizeof kept);
    stop(s);
    if (!start(s, i, bi, module, root_ep))
        return -1;
    int n = 0;
    for (uk_word_t c = 1; c <= UK_BLK_MAX_CLIENTS; c++) {
        if (!kept[c].window_pages)
            continue;
        s->client[c] = kept[c];
        if (connect_client(s, c))
            n++;
        else
            remove_client(s, c);
    }
    printf("root task: blk-server %s: restarted, %d client(s) reconnected\n", s->name, n);
    return n;
}

int blk_fault(uk_word_t badge, const struct uk_msg *m)
{
    struct blk_server *s = badge >= BLK_BADGE ? server((int)(badge - BLK_BADGE)) : 0;
    if (!s)
        return 0;
    printf("root task: blk-server %s faulted (%s 0x%lx); its devices reset, destroyed\n",
           s->name, uk_msg_label(m->info) == UK_FAULT_PAGE ? "page fault at" : "exception",
           m->w[0]);
    stop(s);
    return 1;
}

uk_word_t blk_thread(int i)
{
    struct blk_server *s = server(i);
    return s ? s->thread : 0;
}

long blk_inject(int i, uk_word_t mode, uk_word_t arg, uk_word_t *did)
{
    struct blk_server *s = server(i);
    uk_word_t r[4] = { 0 };
    long st = s ? control(s, UK_BLK_CTL_FAULT, mode, arg, 0, r) : UK_BLK_EIO;
    if (did)
        *did = r[1];
    return st;
}

/* --- software-implemented fault injection (the supervisor's `swifi=`) --- */

int blk_flip(int i, int code, uk_word_t rnd, uk_word_t *where)
{
    struct blk_server *s = server(i);
    return s ? image_flip(&s->img, code, rnd, where) : 0;
}

/* Is page-aligned physical page p one the server may give its devices? */
static int dma_allowed(const void *ctx, uk_word_t p)
{
    const struct blk_server *s = ctx;
    int slot = (int)(s - srv);
    uk_word_t lo = virt_to_phys(kept_pages[slot].dma);
    if (p >= lo && p < lo + UK_BLK_DMA_PAGES * UK_PAGE_SIZE * s->ndisks)
        return 1;
    for (uk_word_t n = 1; n <= UK_BLK_MAX_CLIENTS; n++) {
        const struct blk_client *c = &s->client[n];
        for (uk_word_t k = 0; k < c->window_pages; k++)
            if (virt_to_phys(c->window + k * UK_PAGE_SIZE) == p)
                return 1;
        if (c->window_pages && p - c->ram_phys < c->ram_bytes)
            return 1;                    /* its RAM, given for zero copy */
    }
    return 0;
}

int blk_dma_escape(int i, uk_word_t *addr)
{
    struct blk_server *s = server(i);
    if (!s || !kept_pages[i].dma)
        return 0;
    for (unsigned d = 0; d < s->ndisks; d++)
        /* queue 0's descriptor table heads disk d's DMA pages (libuser/virtio.c) */
        if (desc_escape(kept_pages[i].dma + d * UK_BLK_DMA_PAGES * UK_PAGE_SIZE, 256,
                        dma_allowed, s, addr))
            return 1;
    return 0;
}

int blk_servers(void)
{
    return nsrv;
}
