/*
 * The network server (servers/net/) as its clients see it: the root task's
 * own start-up code (roottask/net.c, pcidev.c) starts it from the
 * `net-server` module on the virtio-net device tests/network/run attaches
 * (QEMU's user network, restrict=on); client tasks, each with its port,
 * MAC, window and notification, talk to slirp's gateway through the uplink
 * and to each other through the switch; malformed frames are refused and
 * counted while another pair's exchange goes on; a full receive ring drops
 * (counted) instead of blocking; a port's link goes down and up; a client
 * reconnects and keeps its ring; the server is restarted under two
 * clients; the NIC and the block server's disk share an interrupt line.
 * After each test the server is stopped, the NIC is quiet and kernel
 * memory is back where it was.  The clients' code: clients.c.
 */
#include "ktest.h"
#include "../../roottask/root.h"
#include <uk/net.h>
#include <uk/blk.h>
#include <user/pci.h>
#include <user/virtio.h>
#include "network.h"

#define SELF UK_SLOT_SELF_TASK

struct client {
    uk_word_t n, task, fault, notif;
    struct uk_spawned t;
    unsigned char *window;               /* our view of it */
};

static uk_word_t kmem_start;

static uk_word_t kmem_used(void)
{
    uk_word_t used = 0;
    uk_kmem_info(SELF, &used, 0);
    return used;
}

static uk_word_t stat(uk_word_t port, uk_word_t counter)
{
    uk_word_t r[4] = { 0 };
    KT_EQ(net_control(UK_NET_CTL_STATS, port, counter, 0, r), UK_NET_OK);
    return r[1];
}

/* Server i's counter of port `port` (a peer port: UK_NET_PEER_PORT(j)). */
static uk_word_t stat_of(int i, uk_word_t port, uk_word_t counter)
{
    uk_word_t r[4] = { 0 };
    if (port >= UK_NET_PORTS)
        KT_EQ(net_control_of(i, UK_NET_CTL_PEER_STATS, port - UK_NET_PORTS, counter, 0, r),
              UK_NET_OK);
    else
        KT_EQ(net_control_of(i, UK_NET_CTL_STATS, port, counter, 0, r), UK_NET_OK);
    return r[1];
}

static int server_up(void)
{
    kmem_start = kmem_used();
    tsc_per_us = kt_us_to_tsc(1);
    int module = find_module(kt_bi, "net-server");
    KT_CHECK(module >= 0);
    uk_word_t ep = kt_endpoint();         /* its faults: none expected */
    int up = module >= 0 ? net_start(kt_bi, module, ep) : 0;
    KT_EQ(up, 1);
    uk_word_t r[4] = { 0 };
    KT_EQ(net_control(UK_NET_CTL_NIC_INFO, 0, 0, 0, r), UK_NET_OK);
    KT_EQ(r[1], 0x563412005452ul);       /* QEMU's default: 52:54:00:12:34:56 */
    kt_destroy(ep);
    return up;
}

static void client_make_on(struct client *cl, uk_word_t n, int nic);

static void client_make(struct client *cl, uk_word_t n)
{
    client_make_on(cl, n, 0);
}

/* Client n on the network server of NIC `nic`. */
static void client_make_on(struct client *cl, uk_word_t n, int nic)
{
    memset(cl, 0, sizeof *cl);
    cl->n = n;
    cl->fault = kt_endpoint();
    cl->notif = kt_notification();
    KT_EQ(uk_task_new(256ul << 10, 16, 1, &cl->task), UK_OK);
    KT_EQ(uk_cap_copy(cl->notif, cl->task, CLIENT_NOTIF, UK_R_READ, 0), UK_OK);
    cl->window = net_add_client(n, nic, cl->task, WIN, WINDOW_PAGES, CLIENT_EP, cl->notif, 1);
    KT_CHECK(cl->window != 0);
    res[n] = (struct result){ 0 };
    peer_mac[n] = UK_NET_CLIENT_MAC(n);
}

static void client_run(struct client *cl, void (*fn)(uk_word_t), uk_word_t arg)
{
    res[cl->n].done = 0;
    if (cl->t.thread)
        kt_destroy(cl->t.thread);
    KT_EQ(uk_spawn(cl->task, fn, arg, 150, cl->fault, &cl->t), UK_OK);
}

static void client_wait(struct client *cl)
{
    KT_EQ(kt_wait_flag(&res[cl->n].done, 120000000), 1);
    struct result *r = &res[cl->n];
    printf("    client %lu: %ld steps, %ld not as expected", cl->n, r->steps, r->errors);
    if (r->errors)
        printf(" (first: step %ld, value %ld)", r->first_bad, r->first_value);
    printf("\n");
    KT_EQ(r->errors, 0);
}

static void client_end(struct client *cl)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_ZERO) };
    if (uk_recv(cl->fault, &m) == UK_OK) {
        printf("    client %lu faulted: label %lx addr %lx\n", cl->n, uk_msg_label(m.info), m.w[0]);
        KT_CHECK(0);
    }
    kt_destroy(cl->t.thread);
    cl->t.thread = 0;
    net_remove_client(cl->n);
    kt_destroy(cl->task);
    kt_destroy(cl->fault);
    kt_destroy(cl->notif);
}

/* After net_stop: the NIC reset (virtio status 0: no queues, no DMA), its
 * bus mastering off, its IRQ line's holders all released. */
static void server_down(void)
{
    net_stop();
    KT_EQ(net_control(UK_NET_CTL_NIC_INFO, 0, 0, 0, 0), UK_NET_EIO);   /* gone */
    uk_word_t cfg = uk_slot_alloc(), io = uk_slot_alloc();
    struct uk_pci_dev d;
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, UK_PCI_CONFIG_ADDR, UK_PCI_CONFIG_PORTS, cfg), UK_OK);
    KT_EQ(pci_find(cfg, UK_PCI_VENDOR_VIRTIO, UK_PCI_DEVICE_VIRTIO_NET, &d, 1), 1);
    uk_word_t cmd = pci_read(cfg, d.bus, d.dev, d.fn, UK_PCI_COMMAND, 2), st = ~0ul;
    KT_EQ(cmd & UK_PCI_CMD_MASTER, 0);
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, d.bar[0], d.bar_size[0], io), UK_OK);
    KT_EQ(uk_in(io, d.bar[0] + VIRTIO_PCI_STATUS, 1, &st), UK_OK);
    KT_EQ(st, 0);
    uk_cap_delete(SELF, io);
    uk_cap_delete(SELF, cfg);
    uk_word_t h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = uk_slot_alloc();
        KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, d.irq, h[i]), UK_OK);
    }
    for (int i = 0; i < 4; i++)
        kt_destroy(h[i]);
    KT_EQ(kmem_used(), kmem_start);
}

KT_TEST(net_control_requests_are_checked)
{
    if (!server_up()) {
        net_stop();
        return;
    }
    uk_word_t w = WINDOW_PAGES * UK_PAGE_SIZE, mac = UK_NET_CLIENT_MAC(3);
    KT_EQ(net_control(UK_NET_CTL_ADD_CLIENT, 0, mac, w, 0), UK_NET_EINVAL);
    KT_EQ(net_control(UK_NET_CTL_ADD_CLIENT, UK_NET_MAX_CLIENTS + 1, mac, w, 0), UK_NET_EINVAL);
    KT_EQ(net_control(UK_NET_CTL_ADD_CLIENT, 3, mac | 1, w, 0), UK_NET_EINVAL);   /* multicast */
    KT_EQ(net_control(UK_NET_CTL_ADD_CLIENT, 3, 0, w, 0), UK_NET_EINVAL);
    KT_EQ(net_control(UK_NET_CTL_ADD_CLIENT, 3, mac, UK_NET_WINDOW_MIN - UK_PAGE_SIZE, 0),
          UK_NET_EINVAL);
    KT_EQ(net_control(UK_NET_CTL_ADD_CLIENT, 3, mac, UK_NET_WINDOW_MAX + UK_PAGE_SIZE, 0),
          UK_NET_EINVAL);
    KT_EQ(net_control(UK_NET_CTL_ADD_CLIENT, 3, mac, w, 0), UK_NET_EFAULT);      /* unmapped */
    KT_EQ(net_control(UK_NET_CTL_LINK, UK_NET_PORTS, 1, 0, 0), UK_NET_EINVAL);
    KT_EQ(net_control(UK_NET_CTL_LINK, 3, 0, 0, 0), UK_NET_EINVAL);              /* no client */
    KT_EQ(net_control(UK_NET_CTL_STATS, 0, UK_NET_C_COUNT, 0, 0), UK_NET_EINVAL);
    KT_EQ(net_control(UK_NET_CTL_REMOVE_CLIENT, 3, 0, 0, 0), UK_NET_EINVAL);
    KT_EQ(net_control(0x1ff, 0, 0, 0, 0), UK_NET_EINVAL);
    /* two clients cannot share a MAC */
    struct client c1;
    client_make(&c1, 1);
    KT_EQ(net_control(UK_NET_CTL_ADD_CLIENT, 2, UK_NET_CLIENT_MAC(1), w, 0), UK_NET_EINVAL);
    client_end(&c1);
    server_down();
}

KT_TEST(net_gateway_answers_arp_and_ping)
{
    if (!server_up()) {
        net_stop();
        return;
    }
    struct client c1;
    client_make(&c1, 1);
    client_run(&c1, client_gateway, 1 | 3 << 8);
    client_wait(&c1);
    KT_EQ(res[1].value, 3);
    printf("    gateway 10.0.2.2 is %012lx (bytes reversed)\n", res[1].gw_mac);
    KT_EQ(res[1].gw_mac, 0x0202000a5552ul);   /* slirp's: 52:55:0a:00:02:02 */
    KT_CHECK(stat(0, UK_NET_C_OUT_FRAMES) >= 4);   /* ARP and echoes out, answers in */
    KT_CHECK(stat(0, UK_NET_C_IN_FRAMES) >= 4);
    KT_CHECK(stat(1, UK_NET_C_OUT_FRAMES) >= 4);
    client_end(&c1);
    server_down();
}

KT_TEST(net_two_clients_exchange_while_a_third_misbehaves)
{
    if (!server_up()) {
        net_stop();
        return;
    }
    struct client c1, c2, c3;
    client_make(&c1, 1);
    client_make(&c2, 2);
    client_make(&c3, 3);
    uk_word_t uplink_out = stat(0, UK_NET_C_OUT_FRAMES);
    client_run(&c3, client_echoer, 3);
    client_run(&c2, client_pinger, 2 | 3 << 8);
    client_run(&c1, client_bad, 1 | 2 << 8);
    client_wait(&c1);
    client_wait(&c2);
    client_wait(&c3);
    KT_EQ(res[3].value, EXCHANGES);
    KT_EQ(stat(0, UK_NET_C_OUT_FRAMES), uplink_out);     /* nothing went to the uplink */
    KT_EQ(stat(1, UK_NET_C_IN_FRAMES), 0);
    KT_EQ(stat(1, UK_NET_C_OUT_FRAMES), 0);
    KT_EQ(stat(1, UK_NET_C_DROP_SPOOF), 2 * BAD_ROUNDS);
    KT_EQ(stat(1, UK_NET_C_DROP_SHORT), 2 * BAD_ROUNDS);
    KT_EQ(stat(1, UK_NET_C_DROP_LONG), 2 * BAD_ROUNDS);
    KT_EQ(stat(1, UK_NET_C_DROP_FAULT), 3 * BAD_ROUNDS);
    KT_EQ(stat(2, UK_NET_C_IN_FRAMES), EXCHANGES + 1);   /* and END */
    KT_EQ(stat(2, UK_NET_C_OUT_FRAMES), EXCHANGES);
    KT_EQ(stat(3, UK_NET_C_IN_FRAMES), EXCHANGES);
    KT_EQ(stat(3, UK_NET_C_OUT_FRAMES), EXCHANGES + 1);
    uk_word_t bytes = 0;
    for (unsigned s = 0; s < EXCHANGES; s++)
        bytes += test_len(s);
    KT_EQ(stat(3, UK_NET_C_OUT_BYTES), bytes + 60);
    for (unsigned p = 2; p <= 3; p++)
        for (unsigned k = UK_NET_C_DROP_SPOOF; k < UK_NET_C_COUNT; k++)
            KT_EQ(stat(p, k), 0);
    client_end(&c1);
    client_end(&c2);
    client_end(&c3);
    server_down();
}

KT_TEST(net_full_ring_drops_link_down_and_reconnect)
{
    if (!server_up()) {
        net_stop();
        return;
    }
    struct client c1, c2;
    client_make(&c1, 1);
    client_make(&c2, 2);
    /* a burst into a ring nobody empties: RX_SLOTS kept, the rest dropped */
    client_run(&c1, client_burst, 1 | 2 << 8);
    client_wait(&c1);
    KT_EQ(res[1].value, BURST);                        /* the switch took every one */
    KT_EQ(stat(2, UK_NET_C_OUT_FRAMES), UK_NET_RX_SLOTS);
    KT_EQ(stat(2, UK_NET_C_DROP_FULL), BURST - UK_NET_RX_SLOTS);
    client_run(&c2, client_drain, 2 | 1 << 8);
    client_wait(&c2);
    KT_EQ(res[2].value, UK_NET_RX_SLOTS);              /* the first ones, in order */
    /* a tail that makes no sense: the ring counts as full, nothing breaks */
    struct uk_net_ring *ring2 = (struct uk_net_ring *)c2.window;
    uk_word_t head = ring2->head;
    ring2->tail = head + 1000;
    client_run(&c1, client_one, 1 | 2 << 8);
    client_wait(&c1);
    KT_EQ(res[1].value, UK_NET_OK);
    KT_EQ(stat(2, UK_NET_C_DROP_FULL), BURST - UK_NET_RX_SLOTS + 1);
    KT_EQ(ring2->head, head);
    ring2->tail = head;
    /* link down: refused from the port, dropped towards it, both counted */
    KT_EQ(net_control(UK_NET_CTL_LINK, 1, 0, 0, 0), UK_NET_OK);
    client_run(&c1, client_one, 1 | 2 << 8);
    client_wait(&c1);
    KT_EQ(res[1].value, (uk_word_t)UK_NET_ENETDOWN);
    client_run(&c2, client_one, 2 | 1 << 8);
    client_wait(&c2);
    KT_EQ(res[2].value, UK_NET_OK);
    KT_EQ(stat(1, UK_NET_C_DROP_DOWN), 2);
    KT_EQ(net_control(UK_NET_CTL_LINK, 1, 1, 0, 0), UK_NET_OK);
    client_run(&c1, client_one, 1 | 2 << 8);
    client_wait(&c1);
    KT_EQ(res[1].value, UK_NET_OK);
    KT_EQ(ring2->head, head + 1);
    /* a reconnect (the server's view of a restart): the port removed and
     * added again on the same window keeps the ring where it was */
    KT_EQ(net_control(UK_NET_CTL_REMOVE_CLIENT, 2, 0, 0, 0), UK_NET_OK);
    client_run(&c1, client_one, 1 | 2 << 8);           /* port 2 gone: flooded, */
    client_wait(&c1);                                    /* but to no client */
    KT_EQ(ring2->head, head + 1);
    KT_EQ(net_control(UK_NET_CTL_ADD_CLIENT, 2, UK_NET_CLIENT_MAC(2),
                      WINDOW_PAGES * UK_PAGE_SIZE, 0), UK_NET_OK);
    KT_EQ(stat(2, UK_NET_C_OUT_FRAMES), 0);            /* counters are the server's */
    client_run(&c1, client_one, 1 | 2 << 8);
    client_wait(&c1);
    KT_EQ(ring2->head, head + 2);
    KT_EQ(ring2->len[(head + 1) % UK_NET_RX_SLOTS], test_len(5));
    client_end(&c1);
    client_end(&c2);
    server_down();
}

KT_TEST(net_restart_under_two_clients)
{
    if (!server_up()) {
        net_stop();
        return;
    }
    struct client c2, c3;
    client_make(&c2, 2);
    client_make(&c3, 3);
    client_run(&c3, client_echoer_retrying, 3);
    client_run(&c2, client_pinger_retrying, 2 | 3 << 8);
    /* a third of the way in, the server goes and a new one comes */
    uk_word_t end = uk_rdtsc() + kt_us_to_tsc(60000000);
    while (res[2].value < EXCHANGES / 3 && uk_rdtsc() < end)
        kt_sleep_us(1000);
    KT_CHECK(res[2].value >= EXCHANGES / 3 && res[2].value < EXCHANGES);
    uk_word_t before = res[2].value;
    uk_word_t ep = kt_endpoint();
    KT_EQ(net_restart(kt_bi, 0, ep), 2);               /* both clients reconnected */
    client_wait(&c2);
    client_wait(&c3);
    printf("    restarted after %lu of %u exchanges; client 2 saw %ld failed calls\n", before,
           EXCHANGES, res[2].first_value);
    KT_EQ(res[2].value, EXCHANGES);                    /* every one echoed, byte-exact */
    KT_CHECK(res[3].value >= EXCHANGES);               /* (some twice: resent) */
    /* the new server counts from 0: only what came after the restart */
    KT_CHECK(stat(2, UK_NET_C_IN_FRAMES) <= EXCHANGES - before + 50);
    KT_CHECK(stat(2, UK_NET_C_IN_FRAMES) >= EXCHANGES - before);
    KT_EQ(stat(0, UK_NET_C_OUT_FRAMES), 0);            /* nothing to the uplink */
    client_end(&c2);
    client_end(&c3);
    kt_destroy(ep);
    server_down();
}

/* Two servers, a NIC each (tests/network/run gives this image NET=2):
 * client 2 on NIC 0's server, client 3 on NIC 1's.  Their exchange goes
 * through the servers' peer rings and never out of a NIC; a third of the
 * way in, NIC 1's server is restarted: the exchange finishes byte-exact,
 * and NIC 0's server, never restarted, counted all of it. */
KT_TEST(net_two_servers_link_their_clients)
{
    if (!server_up()) {
        net_stop();
        return;
    }
    uk_word_t ep = kt_endpoint();
    KT_EQ(net_start(kt_bi, find_module(kt_bi, "net-server"), ep), 1);   /* NIC 1's */
    KT_EQ(net_servers(), 2);
    struct client c2, c3;
    client_make_on(&c2, 2, 0);
    client_make_on(&c3, 3, 1);
    uk_word_t up0 = stat_of(0, UK_NET_UPLINK, UK_NET_C_OUT_FRAMES);
    client_run(&c3, client_echoer_retrying, 3);
    client_run(&c2, client_pinger_retrying, 2 | 3 << 8);
    uk_word_t end = uk_rdtsc() + kt_us_to_tsc(60000000);
    while (res[2].value < EXCHANGES / 3 && uk_rdtsc() < end)
        kt_sleep_us(1000);
    KT_CHECK(res[2].value >= EXCHANGES / 3 && res[2].value < EXCHANGES);
    uk_word_t before = res[2].value;
    KT_EQ(net_restart(kt_bi, 1, ep), 1);                /* client 3 reconnected */
    client_wait(&c2);
    client_wait(&c3);
    uk_word_t peer_out = stat_of(0, UK_NET_PEER_PORT(1), UK_NET_C_OUT_FRAMES);
    uk_word_t peer_in = stat_of(0, UK_NET_PEER_PORT(1), UK_NET_C_IN_FRAMES);
    printf("    NIC 1's server restarted after %lu of %u exchanges; NIC 0's server's peer "
           "port: %lu frames out, %lu in\n", before, EXCHANGES, peer_out, peer_in);
    KT_EQ(res[2].value, EXCHANGES);                    /* every one echoed, byte-exact */
    KT_EQ(stat_of(0, UK_NET_UPLINK, UK_NET_C_OUT_FRAMES), up0);   /* neither NIC sent */
    KT_EQ(stat_of(1, UK_NET_UPLINK, UK_NET_C_OUT_FRAMES), 0);
    KT_CHECK(stat_of(0, 2, UK_NET_C_IN_FRAMES) >= EXCHANGES + 1);   /* all of it, and END */
    KT_CHECK(peer_out >= EXCHANGES + 1);               /* through the ring to NIC 1's */
    KT_CHECK(peer_in >= EXCHANGES);                    /* and the echoes back */
    KT_EQ(stat_of(0, UK_NET_PEER_PORT(1), UK_NET_C_DROP_SPOOF), 0);
    client_end(&c2);
    client_end(&c3);
    kt_destroy(ep);
    server_down();
}

/* Restarts give back every capability slot they take (the supervisor's
 * restart=net, again and again: ~500 used to exhaust the root task's
 * table): RESTARTS restarts under two clients, then the same count of our
 * slots in use as after the first, and the clients still exchange through
 * the last server. */
#define RESTARTS 600
KT_TEST(net_restarts_give_back_their_slots)
{
    if (!server_up()) {
        net_stop();
        return;
    }
    struct client c2, c3;
    client_make(&c2, 2);
    client_make(&c3, 3);
    uk_word_t ep = kt_endpoint();
    KT_EQ(net_restart(kt_bi, 0, ep), 2);
    uk_word_t used = uk_slots_used(), pages = uk_pages_left();
    int ok = 0;
    for (int i = 1; i < RESTARTS; i++)
        ok += net_restart(kt_bi, 0, ep) == 2;
    printf("    %d restarts: %d with both clients back; our slots in use %lu after the first, "
           "%lu after the last; pool pages left %lu, %lu\n", RESTARTS, ok + 1, used,
           uk_slots_used(), pages, uk_pages_left());
    KT_EQ(ok, RESTARTS - 1);
    KT_EQ(uk_slots_used(), used);
    KT_EQ(uk_pages_left(), pages);                     /* its pages reused, none taken */
    client_run(&c3, client_echoer_retrying, 3);
    client_run(&c2, client_pinger_retrying, 2 | 3 << 8);
    client_wait(&c2);
    client_wait(&c3);
    KT_EQ(res[2].value, EXCHANGES);
    client_end(&c2);
    client_end(&c3);
    kt_destroy(ep);
    server_down();
}

/* The NIC and the disk on one interrupt line (IRQ 11: tools/run/qemu-run
 * puts the NIC in slot 4, the disk in slot 7), each server holding it
 * once: echoes to the gateway (the NIC interrupts for each frame in and
 * out) and disk requests at the same time, both finish. */
KT_TEST(net_and_blk_servers_share_a_line)
{
    if (!server_up()) {
        net_stop();
        return;
    }
    int module = find_module(kt_bi, "blk-server");
    uk_word_t ep = kt_endpoint();
    KT_CHECK(module >= 0);
    KT_EQ(module >= 0 ? blk_start(kt_bi, module, ep) : 0, 1);
    uk_word_t cfg = uk_slot_alloc();
    struct uk_pci_dev nic, disk;
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, UK_PCI_CONFIG_ADDR, UK_PCI_CONFIG_PORTS, cfg), UK_OK);
    KT_EQ(pci_find(cfg, UK_PCI_VENDOR_VIRTIO, UK_PCI_DEVICE_VIRTIO_NET, &nic, 1), 1);
    KT_EQ(pci_find(cfg, UK_PCI_VENDOR_VIRTIO, UK_PCI_DEVICE_VIRTIO_BLK, &disk, 1), 1);
    uk_cap_delete(SELF, cfg);
    printf("    NIC on IRQ %u, disk on IRQ %u\n", nic.irq, disk.irq);
    KT_EQ(nic.irq, disk.irq);
    struct client c1, c2;
    client_make(&c2, 2);
    memset(&c1, 0, sizeof c1);
    c1.n = 1;
    c1.fault = kt_endpoint();
    KT_EQ(uk_task_new(256ul << 10, 16, 1, &c1.task), UK_OK);
    KT_CHECK(blk_add_client(1, 0, c1.task, BLK_WIN, BLK_PAGES, CLIENT_BLK) != 0);
    res[1] = (struct result){ 0 };
    client_run(&c2, client_gateway, 2 | 30 << 8);
    client_run(&c1, client_disk, 1);
    client_wait(&c1);
    client_wait(&c2);
    KT_EQ(res[1].value, 40);
    KT_EQ(res[2].value, 30);
    kt_destroy(c1.t.thread);
    blk_remove_client(1);
    kt_destroy(c1.task);
    kt_destroy(c1.fault);
    client_end(&c2);
    blk_stop();
    kt_destroy(ep);
    server_down();
}

/* Random SENDs from one client: each answered with a status the protocol
 * names, and the counters add up: every SEND is counted once at its port
 * (taken, or refused for one reason), every taken frame once at the peer's
 * (delivered or dropped for a full ring); nothing reached the uplink. */
KT_TEST(net_random_sends_are_answered_and_counted)
{
    if (!server_up()) {
        net_stop();
        return;
    }
    struct client c1, c2;
    client_make(&c1, 1);
    client_make(&c2, 2);
    client_run(&c1, client_fuzz, 1 | 2 << 8);
    client_wait(&c1);
    uk_word_t in = stat(1, UK_NET_C_IN_FRAMES), refused = 0;
    for (unsigned k = UK_NET_C_DROP_SPOOF; k <= UK_NET_C_DROP_FAULT; k++)
        refused += stat(1, k);
    printf("    %u SENDs: %lu taken, %lu spoofed, %lu short, %lu long, %lu outside\n",
           FUZZ_SENDS, in, stat(1, UK_NET_C_DROP_SPOOF), stat(1, UK_NET_C_DROP_SHORT),
           stat(1, UK_NET_C_DROP_LONG), stat(1, UK_NET_C_DROP_FAULT));
    KT_EQ(in, res[1].value);
    KT_EQ(in + refused, FUZZ_SENDS);
    KT_CHECK(in > 0 && stat(1, UK_NET_C_DROP_SPOOF) > 0 && stat(1, UK_NET_C_DROP_SHORT) > 0 &&
             stat(1, UK_NET_C_DROP_LONG) > 0 && stat(1, UK_NET_C_DROP_FAULT) > 0);
    KT_EQ(stat(2, UK_NET_C_OUT_FRAMES), in < UK_NET_RX_SLOTS ? in : UK_NET_RX_SLOTS);
    KT_EQ(stat(2, UK_NET_C_OUT_FRAMES) + stat(2, UK_NET_C_DROP_FULL), in);
    KT_EQ(stat(0, UK_NET_C_OUT_FRAMES), 0);
    client_end(&c1);
    client_end(&c2);
    server_down();
}
