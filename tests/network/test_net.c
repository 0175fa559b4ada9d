/*
 * The network server (servers/net/) as its clients see it: the root task's
 * own start-up code (roottask/net.c, pcidev.c) starts it from the
 * `net-server` module on the virtio-net device tests/network/run attaches
 * (QEMU's user network, restrict=on); client tasks, each with its port,
 * MAC, window and notification, talk to slirp's gateway through the uplink
 * and to each other through the switch; malformed frames are refused and
 * counted while another pair's exchange goes on; a full receive ring drops
 * (counted) instead of blocking; a port's link goes down and up; a client
 * reconnects and keeps its ring.  After each test the server is stopped,
 * the NIC is quiet and kernel memory is back where it was.
 */
#include "ktest.h"
#include "../../roottask/root.h"
#include <uk/net.h>
#include <uk/blk.h>
#include <user/pci.h>
#include <user/virtio.h>

#define SELF UK_SLOT_SELF_TASK
#define CLIENT_EP     8ul                 /* in each client's table */
#define CLIENT_NOTIF  9ul                 /* its notification: READ */
#define CLIENT_BLK    10ul                /* a block client's endpoint cap */
#define BLK_WIN       0x38000000ul        /* its block window */
#define BLK_PAGES     16ul
#define WIN           0x30000000ul        /* its window, in its address space */
#define WINDOW_PAGES  24ul                /* >= UK_NET_WINDOW_MIN (18 pages) */
#define ETH_TEST      0x88b5u             /* "local experimental" EtherType */
#define GUEST_IP      0x0f02000aul        /* 10.0.2.15, as bytes in memory order */
#define GATEWAY_IP    0x0202000aul        /* 10.0.2.2: slirp */

/* --- the client side (runs in client tasks sharing this image) ------------ */

static long call(uk_word_t op, unsigned len, uk_word_t w0, uk_word_t w1, uk_word_t out[4])
{
    struct uk_msg m = { .info = uk_msginfo(op, len, uk_timeout_us(20000000)), .w = { w0, w1 } };
    return uk_call_status(CLIENT_EP, &m, out);
}

static long send_at(uk_word_t off, uk_word_t len) { return call(UK_NET_OP_SEND, 2, off, len, 0); }

static long send_frame(const unsigned char *f, unsigned len)
{
    memcpy((void *)(WIN + UK_NET_TX_AREA), f, len);
    return send_at(UK_NET_TX_AREA, len);
}

static void put_mac(unsigned char *p, uk_word_t mac)
{
    for (int i = 0; i < 6; i++)
        p[i] = (unsigned char)(mac >> (8 * i));
}

static uk_word_t get_mac(const unsigned char *p)
{
    uk_word_t m = 0;
    for (int i = 5; i >= 0; i--)
        m = m << 8 | p[i];
    return m;
}

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }
static unsigned get16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

/* TSC ticks per microsecond, set by the root task (the boot-info page,
 * where kt_us_to_tsc finds it, is not mapped in the clients). */
static uk_word_t tsc_per_us;

/* The next frame of our ring into buf (its length), or -1 after `us`. */
static long recv_frame(unsigned char *buf, uk_word_t us)
{
    struct uk_net_ring *r = (struct uk_net_ring *)WIN;
    uk_word_t end = uk_rdtsc() + us * tsc_per_us;
    while (r->head == r->tail) {
        uk_word_t now = uk_rdtsc();
        if (now >= end)
            return -1;
        uk_wait(CLIENT_NOTIF, uk_timeout_us((end - now) / tsc_per_us + 1), 0);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    unsigned slot = (unsigned)(r->tail % UK_NET_RX_SLOTS), len = r->len[slot];
    if (len > UK_NET_SLOT_BYTES)
        return -2;
    memcpy(buf, (const void *)(WIN + UK_NET_RX_DATA + slot * UK_NET_SLOT_BYTES), len);
    r->tail++;
    return len;
}

/* What a client thread found: filled by it. */
struct result {
    volatile long done;
    long errors, first_bad, first_value;
    long steps;
    uk_word_t mac, gw_mac, value;
};
static struct result res[UK_NET_MAX_CLIENTS + 1];

static void expect(struct result *r, long step, long got, long want)
{
    r->steps++;
    if (got != want) {
        if (!r->errors) {
            r->first_bad = step;
            r->first_value = got;
        }
        r->errors++;
    }
}

static uk_word_t my_mac(struct result *r)
{
    uk_word_t out[4] = { 0 };
    expect(r, 1, call(UK_NET_OP_INFO, 0, 0, 0, out), UK_NET_OK);
    expect(r, 2, (long)out[2], (long)(WINDOW_PAGES * UK_PAGE_SIZE));
    expect(r, 3, (long)(out[3] & UK_NET_F_LINK_UP), UK_NET_F_LINK_UP);
    r->mac = out[1];
    return out[1];
}

static unsigned ip_sum(const unsigned char *p, unsigned n)
{
    unsigned long s = 0;
    for (unsigned i = 0; i + 1 < n; i += 2)
        s += get16(p + i);
    if (n & 1)
        s += (unsigned)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (unsigned)~s & 0xffff;
}

/* An ICMP echo request from us to the gateway: id 0x554b, sequence seq,
 * 56 bytes of pattern; its length. */
static unsigned make_echo(unsigned char *f, uk_word_t gw, uk_word_t mac, unsigned seq)
{
    unsigned len = 14 + 20 + 8 + 56;
    memset(f, 0, len);
    put_mac(f, gw);
    put_mac(f + 6, mac);
    put16(f + 12, 0x0800);
    unsigned char *ip = f + 14, *icmp = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, 20 + 8 + 56);
    put16(ip + 4, seq);
    ip[8] = 64;
    ip[9] = 1;
    memcpy(ip + 12, &(unsigned){ GUEST_IP }, 4);
    memcpy(ip + 16, &(unsigned){ GATEWAY_IP }, 4);
    put16(ip + 10, ip_sum(ip, 20));
    icmp[0] = 8;
    put16(icmp + 4, 0x554b);
    put16(icmp + 6, seq);
    for (unsigned i = 0; i < 56; i++)
        icmp[8 + i] = (unsigned char)(i * 7 + seq);
    put16(icmp + 2, ip_sum(icmp, 8 + 56));
    return len;
}

/* Client: ARP for slirp's gateway, then `count` ICMP echoes to it (arg:
 * our number, count << 8; 0: one), each answered with its own sequence
 * number and payload (value: echoes answered). */
static void client_gateway(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, count = arg >> 8 ? arg >> 8 : 1;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char f[UK_NET_FRAME_MAX], in[UK_NET_SLOT_BYTES];
    uk_word_t gw = 0;
    for (int tries = 0; tries < 5 && !gw; tries++) {
        memset(f, 0, 60);
        put_mac(f, UK_NET_MAC_MASK);
        put_mac(f + 6, mac);
        put16(f + 12, 0x0806);
        put16(f + 14, 1);                 /* Ethernet */
        put16(f + 16, 0x0800);            /* IPv4 */
        f[18] = 6;
        f[19] = 4;
        put16(f + 20, 1);                 /* request */
        put_mac(f + 22, mac);
        memcpy(f + 28, &(unsigned){ GUEST_IP }, 4);
        memcpy(f + 38, &(unsigned){ GATEWAY_IP }, 4);
        expect(r, 10, send_frame(f, 60), UK_NET_OK);
        long n;
        while ((n = recv_frame(in, 2000000)) >= 0)
            if (n >= 42 && get16(in + 12) == 0x0806 && get16(in + 20) == 2 &&
                !memcmp(in + 28, &(unsigned){ GATEWAY_IP }, 4) && get_mac(in) == mac) {
                gw = get_mac(in + 22);
                break;
            }
    }
    r->gw_mac = gw;
    expect(r, 11, gw != 0, 1);
    for (unsigned seq = 1; gw && seq <= count; seq++) {
        unsigned len = make_echo(f, gw, mac, seq);
        int replied = 0;
        for (int tries = 0; tries < 3 && !replied; tries++) {
            expect(r, 20, send_frame(f, len), UK_NET_OK);
            long n;
            while (!replied && (n = recv_frame(in, 3000000)) >= 0) {
                const unsigned char *rip = in + 14, *ricmp = rip + 20;
                if (n >= (long)len && get16(in + 12) == 0x0800 && rip[9] == 1 &&
                    ricmp[0] == 0 && get16(ricmp + 4) == 0x554b && get16(ricmp + 6) == seq &&
                    !memcmp(rip + 12, &(unsigned){ GATEWAY_IP }, 4) &&
                    !memcmp(ricmp + 8, f + 14 + 20 + 8, 56) && get_mac(in) == mac &&
                    get_mac(in + 6) == gw)
                    replied = 1;
            }
        }
        expect(r, 21, replied, 1);
        r->value += (uk_word_t)replied;
    }
    r->done = 1;
}

/* Test frames between clients: EtherType ETH_TEST, then seq (4 bytes), then
 * a pattern of seq; lengths vary from 60 to the largest. */
#define EXCHANGES 120u
static unsigned test_len(unsigned seq) { return 60 + (seq * 397u) % (UK_NET_FRAME_MAX - 59); }

static void make_test_frame(unsigned char *f, uk_word_t to, uk_word_t from, unsigned seq)
{
    unsigned len = test_len(seq);
    put_mac(f, to);
    put_mac(f + 6, from);
    put16(f + 12, ETH_TEST);
    memcpy(f + 14, &seq, 4);
    for (unsigned i = 18; i < len; i++)
        f[i] = (unsigned char)(seq * 31 + i);
}

static volatile uk_word_t peer_mac[UK_NET_MAX_CLIENTS + 1];

/* Client: EXCHANGES test frames to the peer (arg: peer's number in bits
 * 8.., ours below), each echoed back and checked, then an END frame. */
static void client_pinger(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char f[UK_NET_FRAME_MAX], in[UK_NET_SLOT_BYTES];
    for (unsigned seq = 0; seq < EXCHANGES; seq++) {
        make_test_frame(f, peer_mac[peer], mac, seq);
        expect(r, 100 + seq, send_frame(f, test_len(seq)), UK_NET_OK);
        long n = recv_frame(in, 5000000);
        /* the echo: the same bytes but the addresses swapped */
        make_test_frame(f, mac, peer_mac[peer], seq);
        expect(r, 1000 + seq, n, test_len(seq));
        expect(r, 2000 + seq, n > 0 && !memcmp(in, f, (unsigned long)n), 1);
    }
    make_test_frame(f, peer_mac[peer], mac, ~0u);
    expect(r, 3000, send_frame(f, 60), UK_NET_OK);
    r->done = 1;
}

/* Client: echoes every test frame back to its sender until END. */
static void client_echoer(uk_word_t c)
{
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char in[UK_NET_SLOT_BYTES];
    for (;;) {
        long n = recv_frame(in, 10000000);
        if (n < 0) {
            expect(r, 10, n, 0);          /* no END came */
            break;
        }
        unsigned seq;
        memcpy(&seq, in + 14, 4);
        if (n < 18 || get16(in + 12) != ETH_TEST) {
            expect(r, 11, 0, 1);          /* nothing else may reach us */
            continue;
        }
        if (seq == ~0u)
            break;
        uk_word_t from = get_mac(in + 6);
        put_mac(in, from);
        put_mac(in + 6, mac);
        expect(r, 12, send_frame(in, (unsigned)n), UK_NET_OK);
        r->value++;                       /* frames echoed */
    }
    r->done = 1;
}

#define BAD_ROUNDS 10u
/* Client: malformed frames and requests, each refused with its status. */
static void client_bad(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, victim = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r), win = WINDOW_PAGES * UK_PAGE_SIZE, out[4];
    unsigned char f[UK_NET_FRAME_MAX + 16];
    for (unsigned round = 0; round < BAD_ROUNDS; round++) {
        /* a frame claiming to come from another client */
        make_test_frame(f, mac, peer_mac[victim], 7);
        put_mac(f, peer_mac[victim]);
        expect(r, 10, send_frame(f, 100), UK_NET_EACCES);
        /* a broadcast with a multicast source */
        put_mac(f, UK_NET_MAC_MASK);
        put_mac(f + 6, mac | 1);
        expect(r, 11, send_frame(f, 60), UK_NET_EACCES);
        expect(r, 12, send_at(UK_NET_TX_AREA, 0), UK_NET_EINVAL);                  /* empty */
        expect(r, 13, send_at(UK_NET_TX_AREA, UK_NET_ETH_HDR - 1), UK_NET_EINVAL); /* runt */
        expect(r, 14, send_at(UK_NET_TX_AREA, UK_NET_FRAME_MAX + 1), UK_NET_EMSGSIZE);
        expect(r, 15, send_at(0, 1ul << 40), UK_NET_EMSGSIZE);
        expect(r, 16, send_at(win, 60), UK_NET_EFAULT);          /* outside the window */
        expect(r, 17, send_at(win - 30, 60), UK_NET_EFAULT);     /* straddles its end */
        expect(r, 18, send_at(~0ul - 10, 60), UK_NET_EFAULT);    /* offset + length wraps */
        expect(r, 19, call(99, 2, 0, 60, 0), UK_NET_EINVAL);     /* no such operation */
        expect(r, 20, call(UK_NET_OP_SEND, 1, UK_NET_TX_AREA, 0, 0), UK_NET_EINVAL); /* words */
        expect(r, 21, call(UK_NET_OP_STATS, 1, UK_NET_C_COUNT, 0, 0), UK_NET_EINVAL);
        expect(r, 22, call(UK_NET_CTL_LINK, 2, victim, 0, 0), UK_NET_EPERM);        /* root's */
        expect(r, 23, call(UK_NET_CTL_REMOVE_CLIENT, 1, victim, 0, 0), UK_NET_EPERM);
        uk_yield();
    }
    /* its own counters, as it sees them */
    expect(r, 30, call(UK_NET_OP_STATS, 1, UK_NET_C_DROP_SPOOF, 0, out), UK_NET_OK);
    expect(r, 31, (long)out[1], 2 * BAD_ROUNDS);            /* spoof */
    expect(r, 32, (long)out[2], 2 * BAD_ROUNDS);            /* short */
    expect(r, 33, (long)out[3], 2 * BAD_ROUNDS);            /* long */
    r->done = 1;
}

/* A SEND that tolerates the server going away and coming back: retried
 * while the IPC fails (no endpoint, or a destroyed one), for up to 30 s. */
static long send_retrying(const unsigned char *f, unsigned len, long *failures)
{
    for (int i = 0; i < 30000; i++) {
        long st = send_frame(f, len);
        if (!uk_is_ipc_failure(st))
            return st;
        (*failures)++;
        uk_wait(CLIENT_NOTIF, uk_timeout_us(1000), 0);
    }
    return UK_NET_EIO;
}

/* Client: EXCHANGES test frames to the peer through a server that may be
 * restarted meanwhile: a frame whose echo does not come within 300 ms is
 * sent again (frames in flight in the old server are lost, as on a wire),
 * echoes of earlier frames are skipped; value: frames done so far;
 * first_value: IPC failures seen. */
static void client_pinger_retrying(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = UK_NET_CLIENT_MAC(c);
    unsigned char f[UK_NET_FRAME_MAX], want[UK_NET_FRAME_MAX], in[UK_NET_SLOT_BYTES];
    long failures = 0;
    for (unsigned seq = 0; seq < EXCHANGES; seq++) {
        make_test_frame(want, mac, peer_mac[peer], seq);
        int got = 0;
        for (int tries = 0; tries < 50 && !got; tries++) {
            make_test_frame(f, peer_mac[peer], mac, seq);
            if (send_retrying(f, test_len(seq), &failures) != UK_NET_OK)
                break;
            long n;
            while (!got && (n = recv_frame(in, 300000)) >= 0) {
                unsigned s;
                memcpy(&s, in + 14, 4);
                if (s == seq)
                    got = n == test_len(seq) && !memcmp(in, want, (unsigned long)n);
            }
        }
        expect(r, 100 + seq, got, 1);
        r->value = seq + 1;
    }
    make_test_frame(f, peer_mac[peer], mac, ~0u);
    expect(r, 3000, send_retrying(f, 60, &failures), UK_NET_OK);
    r->first_value = failures;
    r->done = 1;
}

/* Client: echoes test frames back until END, through restarts (value:
 * frames echoed). */
static void client_echoer_retrying(uk_word_t c)
{
    struct result *r = &res[c];
    uk_word_t mac = UK_NET_CLIENT_MAC(c);
    unsigned char in[UK_NET_SLOT_BYTES];
    long failures = 0;
    for (;;) {
        long n = recv_frame(in, 20000000);
        if (n < 0) {
            expect(r, 10, n, 0);          /* no END came */
            break;
        }
        unsigned seq;
        memcpy(&seq, in + 14, 4);
        if (n < 18 || get16(in + 12) != ETH_TEST) {
            expect(r, 11, 0, 1);
            continue;
        }
        if (seq == ~0u)
            break;
        uk_word_t from = get_mac(in + 6);
        put_mac(in, from);
        put_mac(in + 6, mac);
        expect(r, 12, send_retrying(in, (unsigned)n, &failures), UK_NET_OK);
        r->value++;
    }
    r->done = 1;
}

/* Client: n frames to the peer, as fast as it goes (arg as client_pinger);
 * value: how many the switch took. */
#define BURST (UK_NET_RX_SLOTS + 8u)
static void client_burst(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char f[UK_NET_FRAME_MAX];
    for (unsigned seq = 0; seq < BURST; seq++) {
        make_test_frame(f, peer_mac[peer], mac, seq);
        r->value += send_frame(f, test_len(seq)) == UK_NET_OK;
    }
    r->done = 1;
}

/* Client: takes what is in its ring now, checks it is seq 0.. in order;
 * value: how many. */
static void client_drain(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char f[UK_NET_FRAME_MAX], in[UK_NET_SLOT_BYTES];
    long n;
    while ((n = recv_frame(in, 300000)) >= 0) {
        make_test_frame(f, mac, peer_mac[peer], (unsigned)r->value);
        expect(r, 10 + (long)r->value, n == test_len((unsigned)r->value) &&
               !memcmp(in, f, (unsigned long)n), 1);
        r->value++;
    }
    r->done = 1;
}

/* Client: one frame to the peer: its status in value. */
static void client_one(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    unsigned char f[UK_NET_FRAME_MAX];
    make_test_frame(f, peer_mac[peer], UK_NET_CLIENT_MAC(c), 5);
    r->value = (uk_word_t)send_frame(f, test_len(5));
    r->done = 1;
}

/* --- the root side ---------------------------------------------------------- */

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

static void client_make(struct client *cl, uk_word_t n)
{
    memset(cl, 0, sizeof *cl);
    cl->n = n;
    cl->fault = kt_endpoint();
    cl->notif = kt_notification();
    KT_EQ(uk_task_new(256ul << 10, 16, 1, &cl->task), UK_OK);
    KT_EQ(uk_cap_copy(cl->notif, cl->task, CLIENT_NOTIF, UK_R_READ, 0), UK_OK);
    cl->window = net_add_client(n, cl->task, WIN, WINDOW_PAGES, CLIENT_EP, cl->notif, 1);
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
    int module = find_module(kt_bi, "net-server");
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
    KT_EQ(net_restart(kt_bi, module, ep), 1);
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

/* Client: a block-server client on the disk that shares the NIC's line:
 * 40 rounds of 32 sectors written, read back elsewhere in the window and
 * compared (value: rounds done). */
static void client_disk(uk_word_t c)
{
    struct result *r = &res[c];
    unsigned char *w = (unsigned char *)BLK_WIN;
    for (unsigned round = 0; round < 40; round++) {
        for (unsigned i = 0; i < 32 * UK_BLK_SECTOR; i++)
            w[i] = (unsigned char)(round * 13 + i / 7);
        struct uk_msg m = { .info = uk_msginfo(UK_BLK_OP_WRITE, 3, uk_timeout_us(20000000)),
                            .w = { round % 64 * 32, 32, 0 } };
        expect(r, 10, uk_call_status(CLIENT_BLK, &m, 0), UK_BLK_OK);
        memset(w + 32 * UK_BLK_SECTOR, 0, 32 * UK_BLK_SECTOR);
        m = (struct uk_msg){ .info = uk_msginfo(UK_BLK_OP_READ, 3, uk_timeout_us(20000000)),
                             .w = { round % 64 * 32, 32, 32 * UK_BLK_SECTOR } };
        expect(r, 11, uk_call_status(CLIENT_BLK, &m, 0), UK_BLK_OK);
        expect(r, 12, !memcmp(w, w + 32 * UK_BLK_SECTOR, 32 * UK_BLK_SECTOR), 1);
        r->value = round + 1;
    }
    r->done = 1;
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
