/*
 * The network server (servers/net/, docs/network.md): started from the boot
 * module `net-server` in a task of its own, with its caps in the
 * UK_NET_SLOT_* slots.  We keep PCI configuration space (pcidev.c) and hand
 * it the first virtio-net device (1af4:1000, legacy/transitional, I/O
 * BAR0) only: an I/O-port cap for BAR0, its own holder of the NIC's IRQ
 * line (shared with whatever else sits on it), DMA pages for the NIC's
 * virtqueues and frame buffers, and the NIC's description in its info page.
 *
 * Clients are ports: client n gets MAC UK_NET_CLIENT_MAC(n), a window of
 * pages we allocate and map into it and into the server, a send-only
 * endpoint cap badged n, and the server gets a cap to signal the client.
 * We keep, per client, what a restarted server would need again (the
 * window's pages, the MAC, the notification): docs/network.md.
 *
 * DMA: the server (through its NIC) can write any physical memory, as the
 * block server can; when it ends the NIC is reset and its bus mastering
 * turned off before anything else, and the DMA pages and windows are never
 * given back (uk_pages_alloc does not free).
 */
#include "root.h"
#include <uk/net.h>
#include <user/loader.h>
#include <user/pci.h>
#include <user/virtio.h>

#define NET_KMEM      (1ul << 20)          /* page tables for its windows; no objects */
#define CALL_TIMEOUT  uk_timeout_us(10000000)

static struct {
    int live;
    uk_word_t task, thread, ep, notif, fault_ep, cfg;
    struct uk_pci_dev pci;
    uk_word_t io, irq;
    struct net_client {                    /* what a client is, kept here: what a
                                              restarted server needs again */
        uk_word_t window_pages;            /* 0: no client n */
        char *window;                      /* its pages (our view) */
        uk_word_t task, ep_slot;           /* its task, the slot of its endpoint cap */
        uk_word_t notif, notif_badge;      /* the notification the server signals */
    } client[UK_NET_MAX_CLIENTS + 1];
} N;
static struct uk_loaded loaded;
/* The info page and the NIC's DMA pages, allocated once and reused by a
 * restarted server (net_stop resets the NIC first; uk_pages_alloc does not
 * free, so a campaign of restarts would otherwise take 41 fresh pages each). */
static struct uk_net_info *kept_info;
static char *kept_dma;

static void say(const char *what, long err)
{
    printf("root task: net-server: %s (error %ld)\n", what, err);
}

long net_control(uk_word_t op, uk_word_t w0, uk_word_t w1, uk_word_t w2, uk_word_t reply[4])
{
    if (!N.live)
        return UK_NET_EIO;
    struct uk_msg m = { .info = uk_msginfo(op, 3, CALL_TIMEOUT), .w = { w0, w1, w2 } };
    return uk_call_status(N.ep, &m, reply);
}

static long give(uk_word_t src, uk_word_t slot, uk_word_t rights, uk_word_t badge)
{
    return uk_cap_copy(src, N.task, slot, rights, badge);
}

/* The NIC's caps into the server, or none of them (an error). */
static long give_nic(void)
{
    const struct uk_pci_dev *p = &N.pci;
    long err = pcidev_claim_virtio(N.cfg, p, &N.io, &N.irq);
    if (err == UK_E_INVAL) {
        printf("root task: net-server: virtio-net %02x:%02x.%x has no legacy I/O BAR0 or no "
               "IRQ line: not given\n", p->bus, p->dev, p->fn);
        return err;
    }
    if (err || (err = give(N.io, UK_NET_SLOT_NIC_IO, UK_R_ALL, 0)) ||
        (err = give(N.irq, UK_NET_SLOT_NIC_IRQ, UK_R_ALL, 0)) ||
        (err = give(N.notif, UK_NET_SLOT_NIC_IRQ_NOTIF, UK_R_WRITE, 1))) {
        for (uk_word_t s = UK_NET_SLOT_NIC_IO; s <= UK_NET_SLOT_NIC_IRQ_NOTIF; s++)
            uk_cap_delete(N.task, s);
        pcidev_release_virtio(N.cfg, p, &N.io, &N.irq);
    }
    return err;
}

int net_start(const struct uk_bootinfo *bi, int module, uk_word_t root_ep)
{
    const struct uk_boot_module *mod = &bi->modules[module];
    struct uk_pci_dev found[2];
    long err;

    memset(&N, 0, sizeof N);
    if ((err = pcidev_config_ports(&N.cfg))) {
        say("no PCI configuration ports", err);
        return 0;
    }
    unsigned n = pci_find(N.cfg, UK_PCI_VENDOR_VIRTIO, UK_PCI_DEVICE_VIRTIO_NET, found, 2);
    if (n == 0) {
        printf("root task: net-server: no virtio-net device on the PCI bus: not started\n");
        uk_cap_delete(UK_SLOT_SELF_TASK, N.cfg);
        return 0;
    }
    if (n > 1)
        printf("root task: net-server: more than one virtio-net device: the first is the "
               "uplink, the others stay unused\n");
    N.pci = found[0];
    if ((err = uk_task_new(NET_KMEM, UK_NET_SLOTS, 0, &N.task))) {
        say("no task", err);
        return 0;
    }
    if ((err = uk_load_elf(N.task, (const void *)(UK_PHYS_WINDOW + mod->phys), mod->size,
                           &loaded))) {
        printf("root task: net-server: %s (error %ld)\n", loaded.error, err);
        goto fail;
    }
    N.ep = uk_slot_alloc();
    N.notif = uk_slot_alloc();
    N.fault_ep = uk_slot_alloc();
    if ((err = give(UK_SLOT_DEBUG, UK_SLOT_DEBUG, UK_R_WRITE, 0)))
        say("no kernel log for it", err);
    if ((err = uk_endpoint_create(N.ep)) || (err = give(N.ep, UK_NET_SLOT_EP, UK_R_READ, 0)) ||
        (err = uk_notif_create(N.notif)) ||
        (err = give(N.notif, UK_NET_SLOT_NOTIF, UK_R_READ, 0))) {
        say("its endpoint and notification", err);
        goto fail;
    }
    if (!kept_info)
        kept_info = uk_pages_alloc(1);
    if (!kept_dma)
        kept_dma = uk_pages_alloc(UK_NET_DMA_PAGES);
    struct uk_net_info *info = kept_info;
    char *dma = kept_dma;
    if (!info || !dma) {
        say("no memory for its info and DMA pages", UK_E_NOMEM);
        goto fail;
    }
    if ((err = give_nic())) {
        if (err != UK_E_INVAL)
            say("the NIC's caps", err);
        goto fail;
    }
    memset(info, 0, UK_PAGE_SIZE);
    memset(dma, 0, UK_NET_DMA_PAGES * UK_PAGE_SIZE);
    info->magic = UK_NET_INFO_MAGIC;
    info->nic = N.pci;
    if ((err = uk_map_range(N.task, (uk_word_t)info, UK_NET_INFO_VADDR, 1, UK_MAP_READ)) ||
        (err = uk_map_range(N.task, (uk_word_t)dma, UK_NET_DMA_VADDR, UK_NET_DMA_PAGES,
                            UK_MAP_READ | UK_MAP_WRITE))) {
        say("its pages not mapped", err);
        goto fail;
    }
    if ((err = uk_cap_copy(root_ep, UK_SLOT_SELF_TASK, N.fault_ep, UK_R_WRITE, NET_BADGE)) ||
        (err = uk_start_program(N.task, &loaded, NET_PRIO, N.fault_ep, 0, &N.thread))) {
        say("not started", err);
        goto fail;
    }
    N.live = 1;
    printf("root task: net-server: uplink is virtio-net %02x:%02x.%x (I/O %lx+%lu, IRQ %u)\n",
           N.pci.bus, N.pci.dev, N.pci.fn, N.pci.bar[0], N.pci.bar_size[0], N.pci.irq);
    return 1;
fail:
    N.live = 1;                          /* net_stop undoes what was done */
    net_stop();
    return 0;
}

/* Client n (kept in N.client[n], its window mapped in it) joins the
 * running server: its window mapped there, the server's cap to its
 * notification, CTL_ADD_CLIENT, a fresh endpoint cap in its ep_slot. */
static int connect_client(uk_word_t n)
{
    struct net_client *c = &N.client[n];
    long err, st;
    if ((err = uk_map_range(N.task, (uk_word_t)c->window, UK_NET_WINDOW(n), c->window_pages,
                            UK_MAP_READ | UK_MAP_WRITE))) {
        say("a client's window not mapped", err);
        return 0;
    }
    if ((err = uk_cap_copy(c->notif, N.task, UK_NET_SLOT_CLIENT0 + n, UK_R_WRITE,
                           c->notif_badge))) {
        say("a client's notification", err);
        return 0;
    }
    if ((st = net_control(UK_NET_CTL_ADD_CLIENT, n, UK_NET_CLIENT_MAC(n),
                          c->window_pages * UK_PAGE_SIZE, 0)) != UK_NET_OK) {
        printf("root task: net-server: client %lu refused (status %ld)\n", n, st);
        return 0;
    }
    uk_cap_delete(c->task, c->ep_slot);  /* the old server's, if any */
    if ((err = uk_cap_copy(N.ep, c->task, c->ep_slot, UK_R_WRITE, n))) {
        say("a client's endpoint cap", err);
        return 0;
    }
    return 1;
}

void *net_add_client(uk_word_t n, uk_word_t task, uk_word_t va, uk_word_t pages,
                     uk_word_t ep_slot, uk_word_t notif, uk_word_t notif_badge)
{
    if (!N.live || n < 1 || n > UK_NET_MAX_CLIENTS || N.client[n].window_pages ||
        pages * UK_PAGE_SIZE > UK_NET_WINDOW_MAX || pages * UK_PAGE_SIZE < UK_NET_WINDOW_MIN)
        return 0;
    char *win = uk_pages_alloc(pages);
    long err;
    if (!win)
        return 0;
    if ((err = uk_map_range(task, (uk_word_t)win, va, pages, UK_MAP_READ | UK_MAP_WRITE))) {
        say("a client's window not mapped", err);
        return 0;
    }
    N.client[n] = (struct net_client){ pages, win, task, ep_slot, notif, notif_badge };
    if (!connect_client(n)) {
        net_remove_client(n);
        return 0;
    }
    return win;
}

int net_restart(const struct uk_bootinfo *bi, int module, uk_word_t root_ep)
{
    struct net_client kept[UK_NET_MAX_CLIENTS + 1];
    memcpy(kept, N.client, sizeof kept);
    net_stop();
    if (!net_start(bi, module, root_ep))
        return 0;
    int n = 0;
    for (uk_word_t i = 1; i <= UK_NET_MAX_CLIENTS; i++) {
        if (!kept[i].window_pages)
            continue;
        N.client[i] = kept[i];
        if (connect_client(i))
            n++;
        else
            net_remove_client(i);
    }
    printf("root task: net-server: restarted, %d client(s) reconnected\n", n);
    return 1;
}

/* Port `port`'s counters (all UK_NET_C_COUNT), 0 if the server answered. */
static long port_counters(uk_word_t port, uk_word_t c[UK_NET_C_COUNT])
{
    for (uk_word_t first = 0; first < UK_NET_C_COUNT; first += 3) {
        uk_word_t r[4];
        long st = net_control(UK_NET_CTL_STATS, port, first, 0, r);
        if (st != UK_NET_OK)
            return st;
        for (uk_word_t k = 0; k < 3 && first + k < UK_NET_C_COUNT; k++)
            c[first + k] = r[1 + k];
    }
    return 0;
}

void net_report(uk_word_t n, const char *name)
{
    uk_word_t c[UK_NET_C_COUNT], u[UK_NET_C_COUNT];
    if (!N.live || n < 1 || n > UK_NET_MAX_CLIENTS || !N.client[n].window_pages ||
        port_counters(n, c) || port_counters(UK_NET_UPLINK, u))
        return;
    printf("root task: %s: network port %lu: in %lu frames %lu bytes, out %lu frames %lu "
           "bytes, dropped spoof %lu short %lu long %lu fault %lu full %lu down %lu; uplink: "
           "in %lu frames, out %lu frames\n", name, n, c[UK_NET_C_IN_FRAMES],
           c[UK_NET_C_IN_BYTES], c[UK_NET_C_OUT_FRAMES], c[UK_NET_C_OUT_BYTES],
           c[UK_NET_C_DROP_SPOOF], c[UK_NET_C_DROP_SHORT], c[UK_NET_C_DROP_LONG],
           c[UK_NET_C_DROP_FAULT], c[UK_NET_C_DROP_FULL], c[UK_NET_C_DROP_DOWN],
           u[UK_NET_C_IN_FRAMES], u[UK_NET_C_OUT_FRAMES]);
}

void net_remove_client(uk_word_t n)
{
    if (!N.live || n < 1 || n > UK_NET_MAX_CLIENTS || !N.client[n].window_pages)
        return;
    net_control(UK_NET_CTL_REMOVE_CLIENT, n, 0, 0, 0);
    uk_cap_delete(N.client[n].task, N.client[n].ep_slot);   /* its calls fail from now */
    uk_cap_delete(N.task, UK_NET_SLOT_CLIENT0 + n);
    uk_unmap(N.task, UK_NET_WINDOW(n), N.client[n].window_pages);
    N.client[n].window_pages = 0;
}

/* The server ends: its NIC stops DMA before anything else happens, then
 * its caps and objects go. */
void net_stop(void)
{
    if (!N.live)
        return;
    N.live = 0;
    if (N.task)
        uk_obj_destroy(N.task);
    pcidev_release_virtio(N.cfg, &N.pci, &N.io, &N.irq);
    if (N.notif)
        uk_obj_destroy(N.notif);
    if (N.ep)
        uk_obj_destroy(N.ep);            /* clients' calls fail at once */
    uk_cap_delete(UK_SLOT_SELF_TASK, N.fault_ep);
    uk_cap_delete(UK_SLOT_SELF_TASK, N.cfg);
    memset(N.client, 0, sizeof N.client);
    /* the slots back, as blk.c does: restarts again and again (swifi=net) */
    uk_word_t slots[] = { N.task, N.thread, N.ep, N.notif, N.fault_ep, N.cfg };
    for (unsigned k = 0; k < sizeof slots / sizeof *slots; k++)
        if (slots[k])
            uk_slot_free(slots[k]);
    N.task = N.thread = N.ep = N.notif = N.fault_ep = N.cfg = 0;
}

int net_fault(uk_word_t badge, const struct uk_msg *m)
{
    if (badge != NET_BADGE || !N.live)
        return 0;
    printf("root task: net-server faulted (%s 0x%lx); its NIC reset, destroyed\n",
           uk_msg_label(m->info) == UK_FAULT_PAGE ? "page fault at" : "exception", m->w[0]);
    net_stop();
    return 1;
}

uk_word_t net_thread(void)
{
    return N.live ? N.thread : 0;
}

long net_ping(uk_word_t timeout)
{
    if (!N.live)
        return UK_E_INVAL;
    struct uk_msg m = { .info = uk_msginfo(UK_NET_CTL_NIC_INFO, 0, timeout) };
    return uk_call(N.ep, &m);            /* any answer: it is alive */
}

/* --- the supervisor's bit flips (supervise.c swifi=net, flip.c) --- */

const struct uk_loaded *net_image(void)
{
    return N.live ? &loaded : 0;
}

static int nic_dma_allowed(const void *ctx, uk_word_t p)
{
    (void)ctx;
    uk_word_t lo = virt_to_phys(kept_dma);
    return p >= lo && p < lo + UK_NET_DMA_PAGES * UK_PAGE_SIZE;
}

int net_dma_escape(uk_word_t *addr)
{
    if (!N.live || !kept_dma)
        return 0;
    /* servers/net/nic.c: the receive queue at the DMA pages' start, the
     * transmit queue 4 pages on, each headed by its 256 descriptors */
    return desc_escape(kept_dma, 256, nic_dma_allowed, 0, addr) ||
           desc_escape(kept_dma + 4 * UK_PAGE_SIZE, 256, nic_dma_allowed, 0, addr);
}
