/*
 * The network servers (servers/net/, docs/network.md): each started from a
 * boot module `net-server [nic=N]` in a task of its own, with its caps in
 * the UK_NET_SLOT_* slots.  We keep PCI configuration space (pcidev.c) and
 * hand each server one virtio-net device (1af4:1000, legacy/transitional,
 * I/O BAR0): `nic=N` the Nth on the bus, a bare `net-server` the first no
 * other server drives.  It gets an I/O-port cap for BAR0, its own holder of
 * the NIC's IRQ line (shared with whatever else sits on it), DMA pages for
 * the NIC's virtqueues and frame buffers, and the NIC's description in its
 * info page.  One server for all guests (the shared topology of
 * docs/experiments.md) or one per NIC and so per guest (the per-guest one).
 * Server i's faults come with badge NET_BADGE + i; the supervisor calls it
 * "net", "net2", ... (name[]).
 *
 * Clients are ports: client n (a guest's index) gets MAC
 * UK_NET_CLIENT_MAC(n), a window of pages we allocate and map into it and
 * into the server of its NIC, a send-only endpoint cap badged n, and the
 * server gets a cap to signal the client.  We keep, per client, what a
 * restarted server would need again (the window's pages, the MAC, the
 * notification): docs/network.md.
 *
 * Peers: every two servers are linked by two rings (one each way, pages we
 * allocate once and keep, so they outlive either server) and a cap to each
 * other's notification, and each knows the others' clients' MACs (static
 * entries, UK_NET_CTL_REMOTE): frames between guests of different servers
 * go through the rings and never through a NIC (docs/network.md "Several
 * network servers").  A restarted server is linked again to every live one
 * and told their clients; the other ends only get their cap to its new
 * notification (their entries for its clients stay: the same MACs).
 *
 * DMA: a server (through its NIC) can write any physical memory, as the
 * block server can; when it ends the NIC is reset and its bus mastering
 * turned off before anything else, and its DMA pages and the windows are
 * never given to anyone else (uk_pages_alloc does not free; a restarted
 * server gets the same DMA and info pages again).  Every capability slot a
 * start takes is given back when the server ends (uk_slot_free): restarts
 * do not use up our table.
 */
#include "root.h"
#include <uk/net.h>
#include <user/loader.h>
#include <user/pci.h>
#include <user/virtio.h>                   /* virt_to_phys */

#define NET_KMEM      (1ul << 20)          /* page tables for its windows; no objects */
#define CALL_TIMEOUT  uk_timeout_us(10000000)
#define MAX_NICS      ((int)UK_NET_MAX_SERVERS)   /* a server per NIC at most */
_Static_assert(NET_MAX_SERVERS == UK_NET_MAX_SERVERS, "roottask and uk/net.h disagree");

struct net_client {                        /* what a client is, kept here: what a
                                              restarted server needs again */
    uk_word_t window_pages;                /* 0: no client n */
    char *window;                          /* its pages (our view) */
    uk_word_t task, ep_slot;               /* its task, the slot of its endpoint cap */
    uk_word_t notif, notif_badge;          /* the notification the server signals */
    uk_word_t va;                          /* its window's address in its task */
};

struct net_server {                        /* ours (the root task's main thread) */
    int live, module;
    char name[8];                          /* "net", "net2", ...: the supervisor's too */
    int nic;                               /* its NIC: the nic-th virtio-net on the bus */
    uk_word_t task, thread, ep, notif, fault_ep, cfg;
    struct uk_pci_dev pci;
    uk_word_t io, irq;
    int peered[NET_MAX_SERVERS];           /* peer j's rings mapped into this task */
    struct uk_kept_pages img;              /* its program's image, kept for a restart */
    struct uk_kept_pages stack;            /* its stack and IPC buffer, kept likewise */
    struct net_client client[UK_NET_MAX_CLIENTS + 1];
    struct uk_loaded loaded;               /* its image as last loaded (flip.c flips it) */
};
static struct net_server srv[NET_MAX_SERVERS];
static int nsrv;                           /* slots ever used */
/* Each server slot's info page and DMA pages, allocated once and reused by
 * a restarted server (its NIC reset first); the peer rings, ring[i][j]
 * from server i to server j, likewise. */
static struct {
    struct uk_net_info *info;
    char *dma;
    struct uk_kept_pages window[UK_NET_MAX_CLIENTS + 1];   /* client n's, reused by the
                                            next client n once the last is removed */
} kept_pages[NET_MAX_SERVERS];
static char *ring[NET_MAX_SERVERS][NET_MAX_SERVERS];

static void say(const struct net_server *s, const char *what, long err)
{
    printf("root task: net-server %s: %s (error %ld)\n", s->name, what, err);
}

static struct net_server *server(int i)
{
    return i >= 0 && i < nsrv && srv[i].live ? &srv[i] : 0;
}

/* The live server with client n, or 0. */
static struct net_server *server_of(uk_word_t n)
{
    for (int i = 0; i < nsrv && n >= 1 && n <= UK_NET_MAX_CLIENTS; i++)
        if (srv[i].live && srv[i].client[n].window_pages)
            return &srv[i];
    return 0;
}

static long control(struct net_server *s, uk_word_t op, uk_word_t w0, uk_word_t w1,
                    uk_word_t w2, uk_word_t reply[4])
{
    if (!s || !s->live)
        return UK_NET_EIO;
    struct uk_msg m = { .info = uk_msginfo(op, 3, CALL_TIMEOUT), .w = { w0, w1, w2 } };
    return uk_call_status(s->ep, &m, reply);
}

long net_control(uk_word_t op, uk_word_t w0, uk_word_t w1, uk_word_t w2, uk_word_t reply[4])
{
    return control(server(0), op, w0, w1, w2, reply);
}

long net_control_of(int i, uk_word_t op, uk_word_t w0, uk_word_t w1, uk_word_t w2,
                    uk_word_t reply[4])
{
    return control(server(i), op, w0, w1, w2, reply);
}

long net_link(uk_word_t n, int up)
{
    return control(server_of(n), UK_NET_CTL_LINK, n, (uk_word_t)!!up, 0, 0);
}

static long give(struct net_server *s, uk_word_t src, uk_word_t slot, uk_word_t rights,
                 uk_word_t badge)
{
    return uk_cap_copy(src, s->task, slot, rights, badge);
}

/* The NIC's caps into the server, or none of them (an error). */
static long give_nic(struct net_server *s)
{
    const struct uk_pci_dev *p = &s->pci;
    long err = pcidev_claim_virtio(s->cfg, p, &s->io, &s->irq);
    if (err == UK_E_INVAL) {
        printf("root task: net-server %s: virtio-net %02x:%02x.%x has no legacy I/O BAR0 or no "
               "IRQ line: not given\n", s->name, p->bus, p->dev, p->fn);
        return err;
    }
    if (err || (err = give(s, s->io, UK_NET_SLOT_NIC_IO, UK_R_ALL, 0)) ||
        (err = give(s, s->irq, UK_NET_SLOT_NIC_IRQ, UK_R_ALL, 0)) ||
        (err = give(s, s->notif, UK_NET_SLOT_NIC_IRQ_NOTIF, UK_R_WRITE, 1))) {
        for (uk_word_t k = UK_NET_SLOT_NIC_IO; k <= UK_NET_SLOT_NIC_IRQ_NOTIF; k++)
            uk_cap_delete(s->task, k);
        pcidev_release_virtio(s->cfg, p, &s->io, &s->irq);
    }
    return err;
}

/* `nic=N` of the module line: N, or -1 (the first NIC left), -2 (a bad word). */
static int nic_word(const struct uk_bootinfo *bi, int module)
{
    const char *p = cmdline_of(bi, module) + word_len(cmdline_of(bi, module));
    int nic = -1;
    for (;;) {
        while (*p == ' ')
            p++;
        uk_word_t n = word_len(p);
        if (!n)
            return nic;
        if (n == 5 && !strncmp(p, "nic=", 4) && p[4] >= '0' && p[4] < '0' + MAX_NICS)
            nic = p[4] - '0';
        else
            return -2;
        p += n;
    }
}

static int nic_taken(const struct net_server *s, int nic)
{
    for (int i = 0; i < nsrv; i++)
        if (&srv[i] != s && srv[i].live && srv[i].nic == nic)
            return 1;
    return 0;
}

/* Server a's end of its link with server b: b's rings mapped into a (once
 * per a's task), a's cap to b's notification (b's current one) badged with
 * a's number, and CTL_ADD_PEER.  1 if linked. */
static int link_end(struct net_server *a, int ia, struct net_server *b, int ib)
{
    long err, st;
    for (int k = 0; k < 2; k++) {
        char **r = k ? &ring[ib][ia] : &ring[ia][ib];
        if (!*r && !(*r = uk_pages_alloc(UK_NET_PEER_RING_PAGES))) {
            say(a, "no memory for a peer ring", UK_E_NOMEM);
            return 0;
        }
    }
    if (!a->peered[ib]) {
        if ((err = uk_map_range(a->task, (uk_word_t)ring[ia][ib], UK_NET_PEER_OUT((uk_word_t)ib),
                                UK_NET_PEER_RING_PAGES, UK_MAP_READ | UK_MAP_WRITE)) ||
            (err = uk_map_range(a->task, (uk_word_t)ring[ib][ia], UK_NET_PEER_IN((uk_word_t)ib),
                                UK_NET_PEER_RING_PAGES, UK_MAP_READ | UK_MAP_WRITE))) {
            say(a, "a peer's rings not mapped", err);
            return 0;
        }
        a->peered[ib] = 1;
    }
    uk_cap_delete(a->task, UK_NET_SLOT_PEER0 + (uk_word_t)ib);   /* b's old notification */
    if ((err = give(a, b->notif, UK_NET_SLOT_PEER0 + (uk_word_t)ib, UK_R_WRITE,
                    UK_NET_PEER_BIT((uk_word_t)ia)))) {
        say(a, "a peer's notification", err);
        return 0;
    }
    if ((st = control(a, UK_NET_CTL_ADD_PEER, (uk_word_t)ib, 0, 0, 0)) != UK_NET_OK) {
        printf("root task: net-server %s: peer %s refused (status %ld)\n", a->name, b->name, st);
        return 0;
    }
    return 1;
}

/* Server slot i (just started) and every other live server linked both ways. */
static void link_peers(int i)
{
    for (int j = 0; j < nsrv; j++)
        if (j != i && srv[j].live && link_end(&srv[i], i, &srv[j], j) &&
            link_end(&srv[j], j, &srv[i], i))
            printf("root task: net-server %s: linked with %s\n", srv[i].name, srv[j].name);
}

/* Every other live server told that client n's MAC is behind peer s
 * (add) or no more (UK_NET_CTL_REMOTE). */
static void announce(struct net_server *s, uk_word_t n, int add)
{
    for (int j = 0; j < nsrv; j++)
        if (&srv[j] != s && srv[j].live)
            control(&srv[j], UK_NET_CTL_REMOTE, (uk_word_t)(s - srv), UK_NET_CLIENT_MAC(n),
                    (uk_word_t)add, 0);
}

/* Server slot i (just started) told of every other live server's clients. */
static void learn_remotes(int i)
{
    for (int j = 0; j < nsrv; j++)
        for (uk_word_t n = 1; j != i && srv[j].live && n <= UK_NET_MAX_CLIENTS; n++)
            if (srv[j].client[n].window_pages)
                control(&srv[i], UK_NET_CTL_REMOTE, (uk_word_t)j, UK_NET_CLIENT_MAC(n), 1, 0);
}

static void stop(struct net_server *s);

/* Server slot `slot` started from module `module`; 1 if it runs. */
static int start(struct net_server *s, int slot, const struct uk_bootinfo *bi, int module,
                 uk_word_t root_ep)
{
    const struct uk_boot_module *mod = &bi->modules[module];
    struct uk_pci_dev found[MAX_NICS];
    long err;

    struct uk_kept_pages img = s->img, stack = s->stack;   /* kept across restarts */
    memset(s, 0, sizeof *s);
    s->img = img;
    s->stack = stack;
    s->module = module;
    snprintf(s->name, sizeof s->name, slot ? "net%d" : "net", slot + 1);
    int want = nic_word(bi, module);
    if (want == -2) {
        printf("root task: net-server: module \"%s\": want `net-server [nic=0..%d]`: not "
               "started\n", cmdline_of(bi, module), MAX_NICS - 1);
        return 0;
    }
    if ((err = pcidev_config_ports(&s->cfg))) {
        say(s, "no PCI configuration ports", err);
        uk_slot_free(s->cfg);
        s->cfg = 0;
        return 0;
    }
    unsigned n = pci_find(s->cfg, UK_PCI_VENDOR_VIRTIO, UK_PCI_DEVICE_VIRTIO_NET, found, MAX_NICS);
    s->nic = -1;
    for (unsigned g = 0; g < n && s->nic < 0; g++)
        if ((want < 0 || (unsigned)want == g) && !nic_taken(s, (int)g))
            s->nic = (int)g;
    if (s->nic < 0) {
        printf("root task: net-server %s: no virtio-net device %s: not started\n", s->name,
               n ? "left for it" : "on the PCI bus");
        uk_slot_free(s->cfg);
        s->cfg = 0;
        return 0;
    }
    s->pci = found[s->nic];
    if ((err = uk_task_new(NET_KMEM, UK_NET_SLOTS, 0, &s->task))) {
        say(s, "no task", err);
        s->live = 1;
        stop(s);
        return 0;
    }
    s->live = 1;                           /* from here on stop() undoes what was done */
    if ((err = uk_load_elf_with(s->task, (const void *)(UK_PHYS_WINDOW + mod->phys), mod->size,
                                UK_PAGE_SIZE, UK_PHYS_WINDOW, uk_kept_pages, &s->img, &s->loaded))) {
        printf("root task: net-server %s: %s (error %ld)\n", s->name, s->loaded.error,
               err);
        goto fail;
    }
    s->ep = uk_slot_alloc();
    s->notif = uk_slot_alloc();
    s->fault_ep = uk_slot_alloc();
    if ((err = give(s, UK_SLOT_DEBUG, UK_SLOT_DEBUG, UK_R_WRITE, 0)))
        say(s, "no kernel log for it", err);
    if ((err = uk_endpoint_create(s->ep)) || (err = give(s, s->ep, UK_NET_SLOT_EP, UK_R_READ, 0)) ||
        (err = uk_notif_create(s->notif)) ||
        (err = give(s, s->notif, UK_NET_SLOT_NOTIF, UK_R_READ, 0))) {
        say(s, "its endpoint and notification", err);
        goto fail;
    }
    if (!kept_pages[slot].info)
        kept_pages[slot].info = uk_pages_alloc(1);
    if (!kept_pages[slot].dma)
        kept_pages[slot].dma = uk_pages_alloc(UK_NET_DMA_PAGES);
    struct uk_net_info *info = kept_pages[slot].info;
    char *dma = kept_pages[slot].dma;
    if (!info || !dma) {
        say(s, "no memory for its info and DMA pages", UK_E_NOMEM);
        goto fail;
    }
    memset(info, 0, UK_PAGE_SIZE);
    memset(dma, 0, UK_NET_DMA_PAGES * UK_PAGE_SIZE);
    if ((err = give_nic(s))) {
        if (err != UK_E_INVAL)
            say(s, "the NIC's caps", err);
        goto fail;
    }
    info->magic = UK_NET_INFO_MAGIC;
    info->nic = s->pci;
    if ((err = uk_map_range(s->task, (uk_word_t)info, UK_NET_INFO_VADDR, 1, UK_MAP_READ)) ||
        (err = uk_map_range(s->task, (uk_word_t)dma, UK_NET_DMA_VADDR, UK_NET_DMA_PAGES,
                            UK_MAP_READ | UK_MAP_WRITE))) {
        say(s, "its pages not mapped", err);
        goto fail;
    }
    void *stack_pages = uk_kept_pages(&s->stack, UK_PROGRAM_STACK_PAGES + 1);
    if (!stack_pages) {
        say(s, "no pages for its stack", UK_E_NOMEM);
        goto fail;
    }
    if ((err = uk_cap_copy(root_ep, UK_SLOT_SELF_TASK, s->fault_ep, UK_R_WRITE,
                           NET_BADGE + (uk_word_t)slot)) ||
        (err = uk_start_program_on(s->task, &s->loaded, NET_PRIO, s->fault_ep, 0,
                                   stack_pages, &s->thread))) {
        say(s, "not started", err);
        goto fail;
    }
    printf("root task: net-server %s: uplink is virtio-net %02x:%02x.%x (NIC %d, I/O %lx+%lu, "
           "IRQ %u)\n", s->name, s->pci.bus, s->pci.dev, s->pci.fn, s->nic, s->pci.bar[0],
           s->pci.bar_size[0], s->pci.irq);
    link_peers(slot);
    learn_remotes(slot);
    return 1;
fail:
    stop(s);
    return 0;
}

int net_start(const struct uk_bootinfo *bi, int module, uk_word_t root_ep)
{
    int i = 0;
    while (i < NET_MAX_SERVERS && srv[i].live)
        i++;
    if (i == NET_MAX_SERVERS) {
        printf("root task: net-server: more than %d: \"%s\" not started\n", NET_MAX_SERVERS,
               cmdline_of(bi, module));
        return 0;
    }
    if (i >= nsrv)
        nsrv = i + 1;
    return start(&srv[i], i, bi, module, root_ep);
}

int net_start_all(const struct uk_bootinfo *bi, uk_word_t root_ep)
{
    int started = 0;
    for (uk_word_t i = 0; i < bi->nmodules && i < UK_BOOT_MAX_MODULES; i++) {
        const char *cmd = cmdline_of(bi, (int)i);
        if (word_len(cmd) == 10 && !strncmp(cmd, "net-server", 10))
            started += net_start(bi, (int)i, root_ep);
    }
    return started;
}

/* Client n (kept in s->client[n], its window mapped in it) joins the
 * running server s: its window mapped there, the server's cap to its
 * notification, CTL_ADD_CLIENT, a fresh endpoint cap in its ep_slot. */
static int connect_client(struct net_server *s, uk_word_t n)
{
    struct net_client *c = &s->client[n];
    long err, st;
    if ((err = uk_map_range(s->task, (uk_word_t)c->window, UK_NET_WINDOW(n), c->window_pages,
                            UK_MAP_READ | UK_MAP_WRITE))) {
        say(s, "a client's window not mapped", err);
        return 0;
    }
    if ((err = uk_cap_copy(c->notif, s->task, UK_NET_SLOT_CLIENT0 + n, UK_R_WRITE,
                           c->notif_badge))) {
        say(s, "a client's notification", err);
        return 0;
    }
    if ((st = control(s, UK_NET_CTL_ADD_CLIENT, n, UK_NET_CLIENT_MAC(n),
                      c->window_pages * UK_PAGE_SIZE, 0)) != UK_NET_OK) {
        printf("root task: net-server %s: client %lu refused (status %ld)\n", s->name, n, st);
        return 0;
    }
    uk_cap_delete(c->task, c->ep_slot);    /* the old server's, if any */
    if ((err = uk_cap_copy(s->ep, c->task, c->ep_slot, UK_R_WRITE, n))) {
        say(s, "a client's endpoint cap", err);
        return 0;
    }
    return 1;
}

static void remove_client(struct net_server *s, uk_word_t n)
{
    control(s, UK_NET_CTL_REMOVE_CLIENT, n, 0, 0, 0);
    announce(s, n, 0);
    uk_cap_delete(s->client[n].task, s->client[n].ep_slot);   /* its calls fail from now */
    uk_cap_delete(s->task, UK_NET_SLOT_CLIENT0 + n);
    uk_unmap(s->task, UK_NET_WINDOW(n), s->client[n].window_pages);
    /* the client's view too (if its task is still there): its pages go to
     * the next client n */
    uk_unmap(s->client[n].task, s->client[n].va, s->client[n].window_pages);
    s->client[n].window_pages = 0;
}

void *net_add_client(uk_word_t n, int nic, uk_word_t task, uk_word_t va, uk_word_t pages,
                     uk_word_t ep_slot, uk_word_t notif, uk_word_t notif_badge)
{
    struct net_server *s = 0;
    for (int i = 0; i < nsrv && !s; i++)
        if (srv[i].live && srv[i].nic == nic)
            s = &srv[i];
    if (!s || n < 1 || n > UK_NET_MAX_CLIENTS || server_of(n) ||
        pages * UK_PAGE_SIZE > UK_NET_WINDOW_MAX || pages * UK_PAGE_SIZE < UK_NET_WINDOW_MIN)
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
    s->client[n] = (struct net_client){ pages, win, task, ep_slot, notif, notif_badge, va };
    if (!connect_client(s, n)) {
        remove_client(s, n);
        return 0;
    }
    announce(s, n, 1);
    return win;
}

/* Port `port`'s counters (all UK_NET_C_COUNT) on server s, 0 if it answered. */
static long port_counters(struct net_server *s, uk_word_t port, uk_word_t c[UK_NET_C_COUNT])
{
    for (uk_word_t first = 0; first < UK_NET_C_COUNT; first += 3) {
        uk_word_t r[4];
        long st = control(s, UK_NET_CTL_STATS, port, first, 0, r);
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
    struct net_server *s = server_of(n);
    if (!s || port_counters(s, n, c) || port_counters(s, UK_NET_UPLINK, u))
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
    struct net_server *s = server_of(n);
    if (s)
        remove_client(s, n);
}

/* The server ends: its NIC stops DMA before anything else happens, then
 * its caps and objects go, and every slot it took comes back to us. */
static void stop(struct net_server *s)
{
    if (!s->live)
        return;
    s->live = 0;
    if (s->task)
        uk_obj_destroy(s->task);
    pcidev_release_virtio(s->cfg, &s->pci, &s->io, &s->irq);
    if (s->notif)
        uk_obj_destroy(s->notif);
    if (s->ep)
        uk_obj_destroy(s->ep);             /* clients' calls fail at once */
    uk_word_t slots[] = { s->task, s->thread, s->notif, s->ep, s->fault_ep, s->cfg };
    for (unsigned k = 0; k < sizeof slots / sizeof *slots; k++)
        if (slots[k])
            uk_slot_free(slots[k]);        /* each cap deleted, the slot ours again */
    memset(s->client, 0, sizeof s->client);
    memset(s->peered, 0, sizeof s->peered);   /* a new task maps the rings again */
    s->task = s->thread = s->ep = s->notif = s->fault_ep = s->cfg = 0;
}

void net_stop(void)
{
    for (int i = 0; i < nsrv; i++)
        stop(&srv[i]);
}

/* MINIX-3 style: server i stopped (its NIC reset before anything else), a
 * new one started from the same module on the same NIC and pages, linked
 * to its peers again, and every client connected again on the window and
 * ring it kept.  How many clients came back, or -1 if it does not run. */
int net_restart(const struct uk_bootinfo *bi, int i, uk_word_t root_ep)
{
    if (i < 0 || i >= nsrv)
        return -1;
    struct net_server *s = &srv[i];
    struct net_client kept[UK_NET_MAX_CLIENTS + 1];
    int module = s->module;
    memcpy(kept, s->client, sizeof kept);
    stop(s);
    if (!start(s, i, bi, module, root_ep))
        return -1;
    int n = 0;
    for (uk_word_t c = 1; c <= UK_NET_MAX_CLIENTS; c++) {
        if (!kept[c].window_pages)
            continue;
        s->client[c] = kept[c];
        if (connect_client(s, c))
            n++;
        else
            remove_client(s, c);
    }
    printf("root task: net-server %s: restarted, %d client(s) reconnected\n", s->name, n);
    return n;
}

int net_fault(uk_word_t badge, const struct uk_msg *m)
{
    struct net_server *s = badge >= NET_BADGE ? server((int)(badge - NET_BADGE)) : 0;
    if (!s)
        return 0;
    printf("root task: net-server %s faulted (%s 0x%lx); its NIC reset, destroyed\n", s->name,
           uk_msg_label(m->info) == UK_FAULT_PAGE ? "page fault at" : "exception", m->w[0]);
    stop(s);
    return 1;
}

uk_word_t net_thread(int i)
{
    struct net_server *s = server(i);
    return s ? s->thread : 0;
}

long net_ping(int i, uk_word_t timeout)
{
    struct net_server *s = server(i);
    if (!s)
        return UK_E_INVAL;
    struct uk_msg m = { .info = uk_msginfo(UK_NET_CTL_NIC_INFO, 0, timeout) };
    return uk_call(s->ep, &m);             /* any answer: it is alive */
}

int net_servers(void)
{
    return nsrv;
}

/* --- the supervisor's bit flips (supervise.c swifi=net, flip.c) --- */

int net_nic(int i)
{
    struct net_server *s = server(i);
    return s ? s->nic : -1;
}

const struct uk_loaded *net_image(int i)
{
    struct net_server *s = server(i);
    return s ? &s->loaded : 0;
}

static int nic_dma_allowed(const void *ctx, uk_word_t p)
{
    const char *dma = ctx;
    uk_word_t lo = virt_to_phys(dma);
    return p >= lo && p < lo + UK_NET_DMA_PAGES * UK_PAGE_SIZE;
}

int net_dma_escape(int i, uk_word_t *addr)
{
    const char *dma = server(i) ? kept_pages[i].dma : 0;
    if (!dma)
        return 0;
    /* servers/net/nic.c: the receive queue at the DMA pages' start, the
     * transmit queue 4 pages on, each headed by its 256 descriptors */
    return desc_escape(dma, 256, nic_dma_allowed, dma, addr) ||
           desc_escape(dma + 4 * UK_PAGE_SIZE, 256, nic_dma_allowed, dma, addr);
}
