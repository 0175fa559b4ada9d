/*
 * `vnet`: the guest's NIC (the guest line's `net`) as a virtio-net device
 * (vmm-server/net.c, docs/network.md), driven as a virtio-net driver does
 * it -- a receive queue with buffers posted, a transmit queue, each frame
 * after a 12-byte virtio-net header -- to ask slirp's gateway 10.0.2.2 for
 * its MAC by ARP; then misused as a hostile guest would: frames to send
 * whose descriptors leave guest RAM, wrap, loop, are device-writable or
 * indirect, are shorter than the header or longer than the vmm-server
 * takes; frames the switch must refuse (length 0, 13 bytes, 1515 bytes, a
 * spoofed source MAC); receive buffers that are read-only, outside RAM or
 * too small.  Every chain must come back in the used ring (nothing left
 * hanging), a good exchange must still work after them, and the root's
 * report of our port (tests/network/run) must show only the two good
 * frames taken and each refused frame counted.  One line per check, "ok"
 * or "WRONG".
 */
#include "toy.h"

#define QSIZE    16u
#define HDR      12u                 /* struct uk_virtio_net_hdr, VERSION_1 */
#define ARP_LEN  42u

struct vq {
    volatile struct uk_vring_desc *desc;
    volatile struct uk_vring_avail *avail;
    volatile struct uk_vring_used *used;
    unsigned short avail_idx, used_seen;
};
static struct vq rxq, txq;
static uk_word_t dev;
static unsigned char mac[6];

static void expect(const char *what, int good)
{
    kprintf("vnet: %s: %s\n", what, good ? "ok" : "WRONG");
}

static long vcall(uk_word_t op, uk_word_t n, uk_word_t a, uk_word_t b, uk_word_t out[4])
{
    uk_word_t w[3] = { dev, a, b };
    return vdev_call(op, n, w, out);
}

static void set_desc(struct vq *q, unsigned i, uk_word_t addr, unsigned len, unsigned flags,
                     unsigned next)
{
    q->desc[i].addr = addr;
    q->desc[i].len = len;
    q->desc[i].flags = (unsigned short)flags;
    q->desc[i].next = (unsigned short)next;
}

static void make_avail(struct vq *q, unsigned head)
{
    q->avail->ring[q->avail_idx % QSIZE] = (unsigned short)head;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    q->avail->idx = ++q->avail_idx;
}

static long notify(unsigned qi)
{
    uk_word_t w[2] = { dev, qi };
    return vdev_call(UK_VDEV_VIRTIO_NOTIFY, 2, w, 0);
}

/* Waits (at most about 5 s) until queue q's used ring has `n` entries we
 * have not seen; 1 if it has. */
static int wait_used(struct vq *q, unsigned n)
{
    for (int i = 0; (unsigned short)(q->used->idx - q->used_seen) < n && i < 500; i++)
        idle_wait(10000);
    take_ticks();
    return (unsigned short)(q->used->idx - q->used_seen) >= n;
}

/* The next used entry of q: its id and length (-1: none). */
static long next_used(struct vq *q, unsigned *id)
{
    if (q->used->idx == q->used_seen)
        return -1;
    volatile struct uk_vring_used_elem *e = &q->used->ring[q->used_seen % QSIZE];
    q->used_seen++;
    *id = e->id;
    return e->len;
}

/* An ARP request for 10.0.2.2 from 10.0.2.15 and `src`, after a zero header. */
static void arp_request(unsigned char *p, const unsigned char *src)
{
    static const unsigned char ip_me[4] = { 10, 0, 2, 15 }, ip_gw[4] = { 10, 0, 2, 2 };
    memset(p, 0, HDR + ARP_LEN);
    unsigned char *f = p + HDR;
    memset(f, 0xff, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08, f[13] = 0x06;                          /* ARP */
    f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0;       /* Ethernet, IPv4 */
    f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;          /* request */
    memcpy(f + 22, src, 6);
    memcpy(f + 28, ip_me, 4);
    memcpy(f + 38, ip_gw, 4);
}

/* Sends one frame of `len` bytes (header included) from p as one
 * descriptor; 1 if the chain came back. */
static int send(const unsigned char *p, unsigned len)
{
    set_desc(&txq, 0, (uk_word_t)p, len, 0, 0);
    make_avail(&txq, 0);
    unsigned id;
    return !notify(UK_VIRTIO_NET_Q_TX) && wait_used(&txq, 1) && next_used(&txq, &id) == 0 &&
           id == 0;
}

/* Posts receive buffer i (0, 1: 2 KiB at buf + i * 2048) as descriptor i. */
static void post_rx(unsigned char *buf, unsigned i)
{
    set_desc(&rxq, i, (uk_word_t)buf + i * 2048, 2048, UK_VRING_DESC_F_WRITE, 0);
    make_avail(&rxq, i);
}

/* Waits for a frame in a receive buffer: slirp's ARP reply, checked. */
static int arp_reply(unsigned char *buf, const char *what)
{
    unsigned id = 0;
    long n = -1;
    static const unsigned char gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
    if (wait_used(&rxq, 1))
        n = next_used(&rxq, &id);
    const unsigned char *f = buf + (id < 2 ? id : 0) * 2048 + HDR;
    int ok = n >= HDR + ARP_LEN && id < 2 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 &&
             !memcmp(f, mac, 6) && !memcmp(f + 22, gw_mac, 6);
    char line[96];
    snprintf(line, sizeof line, "%s: the gateway's ARP reply (%ld bytes, buffer %u)", what, n, id);
    expect(line, ok);
    if (ok)
        post_rx(buf, id);             /* give the buffer back */
    return ok;
}

static int find_nic(void)
{
    for (uk_word_t i = 0; i < gi->virtio_count && i < UK_VIRTIO_MAX_DEVS; i++)
        if (gi->virtio[i].type == UK_VIRTIO_ID_NET) {
            dev = i;
            return 1;
        }
    return 0;
}

static int queue(struct vq *q, unsigned qi, unsigned char *ring)
{
    q->desc = (void *)ring;
    q->avail = (void *)(ring + 1024);
    q->used = (void *)(ring + 2048);
    uk_word_t w[7] = { dev, qi, QSIZE, (uk_word_t)q->desc, (uk_word_t)q->avail,
                       (uk_word_t)q->used, 0 };
    return vdev_call(UK_VDEV_VIRTIO_QUEUE, 7, w, 0) == 0;
}

/* Frames to send that the vmm-server must refuse: each returned, none sent. */
static void bad_tx(unsigned char *frame)
{
    uk_word_t ram_end = gi->ram_base + gi->ram_size;
    struct { const char *what; uk_word_t addr; unsigned len; unsigned flags; } bad[] = {
        { "data outside guest RAM", 0x1000, 60, 0 },
        { "data running past RAM's end", ram_end - 30, 60, 0 },
        { "a length that overflows", (uk_word_t)frame, 0xfffff000u, 0 },
        { "an address that wraps", ~0ul - 20, 60, 0 },
        { "a device-writable buffer", (uk_word_t)frame, HDR + ARP_LEN, UK_VRING_DESC_F_WRITE },
        { "an indirect descriptor", (uk_word_t)frame, 64, UK_VRING_DESC_F_INDIRECT },
        { "shorter than its header", (uk_word_t)frame, HDR - 2, 0 },
        { "longer than the vmm-server's send area (3 pages)", (uk_word_t)frame, 3 * 4096, 0 },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* the header in its own descriptor, the bad one after it */
        set_desc(&txq, 0, (uk_word_t)frame, HDR, UK_VRING_DESC_F_NEXT, 1);
        set_desc(&txq, 1, bad[i].addr, bad[i].len, bad[i].flags, 0);
        if (i >= 6)                                  /* these two: one descriptor */
            set_desc(&txq, 0, bad[i].addr, bad[i].len, 0, 0);
        make_avail(&txq, 0);
        unsigned id = 99;
        long n = !notify(UK_VIRTIO_NET_Q_TX) && wait_used(&txq, 1) ? next_used(&txq, &id) : -2;
        char what[96];
        snprintf(what, sizeof what, "to send, %s: returned (used %ld)", bad[i].what, n);
        expect(what, n == 0 && id == 0);
    }
    /* a loop, and a next index past the queue */
    set_desc(&txq, 0, (uk_word_t)frame, HDR, UK_VRING_DESC_F_NEXT, 1);
    set_desc(&txq, 1, (uk_word_t)frame + HDR, ARP_LEN, UK_VRING_DESC_F_NEXT, 0);
    make_avail(&txq, 0);
    unsigned id = 99;
    long n = !notify(UK_VIRTIO_NET_Q_TX) && wait_used(&txq, 1) ? next_used(&txq, &id) : -2;
    expect("to send, a descriptor chain loop: returned", n == 0 && id == 0);
    set_desc(&txq, 0, (uk_word_t)frame, HDR, UK_VRING_DESC_F_NEXT, 77);
    make_avail(&txq, 0);
    n = !notify(UK_VIRTIO_NET_Q_TX) && wait_used(&txq, 1) ? next_used(&txq, &id) : -2;
    expect("to send, a next index past the queue: returned", n == 0 && id == 0);
}

/* Frames the switch refuses (counted at our port: tests/network/run). */
static void refused_tx(unsigned char *frame)
{
    static const unsigned char other[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x02 };
    arp_request(frame, other);
    expect("a spoofed source MAC (g2's): returned", send(frame, HDR + ARP_LEN));
    arp_request(frame, mac);
    expect("an empty frame (the header only): returned", send(frame, HDR));
    expect("a frame of 13 bytes: returned", send(frame, HDR + 13));
    expect("a frame of 1515 bytes: returned", send(frame, HDR + 1515));
}

void vnet_run(void)
{
    if (!find_nic()) {
        kprintf("vnet: none (%lu virtio devices)\n", gi->virtio_count);
        return;
    }
    uk_word_t out[4] = { 0 };
    long st = vcall(UK_VDEV_VIRTIO_FEATURES, 1, 0, 0, out);
    uk_word_t features = out[1];
    kprintf("vnet: device %lu, features 0x%lx\n", dev, features);
    expect("features offered: version 1, MAC",
           st == 0 && (features & UK_VIRTIO_F_VERSION_1) && (features & UK_VIRTIO_NET_F_MAC));
    expect("features taken", vcall(UK_VDEV_VIRTIO_SET_FEATURES, 2, features, 0, 0) == 0);
    st = vcall(UK_VDEV_VIRTIO_CONFIG, 3, UK_VIRTIO_NET_CFG_MAC, 8, out);
    memcpy(mac, &out[1], 6);
    kprintf("vnet: MAC %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4],
            mac[5]);
    expect("its MAC is the root task's for guest 1 (52:54:00:12:34:01)",
           st == 0 && mac[0] == 0x52 && mac[1] == 0x54 && mac[2] == 0 && mac[3] == 0x12 &&
           mac[4] == 0x34 && mac[5] == 1);
    expect("config past its end refused",
           vcall(UK_VDEV_VIRTIO_CONFIG, 3, UK_VIRTIO_NET_CFG_SIZE, 4, 0) == UK_VDEV_ERANGE);

    unsigned char *rring = page_alloc(), *tring = page_alloc(), *frame = page_alloc();
    unsigned char *rxbuf = page_alloc();
    if (!rring || !tring || !frame || !rxbuf) {
        kprintf("vnet: no pages: WRONG\n");
        return;
    }
    expect("queues set", queue(&rxq, UK_VIRTIO_NET_Q_RX, rring) &&
                         queue(&txq, UK_VIRTIO_NET_Q_TX, tring));

    /* hostile receive buffers first: a read-only one, one outside RAM, one
     * too small; each must come back empty, the frame going to the next */
    set_desc(&rxq, 4, (uk_word_t)rxbuf, 2048, 0, 0);
    make_avail(&rxq, 4);
    set_desc(&rxq, 5, 0x3000, 2048, UK_VRING_DESC_F_WRITE, 0);
    make_avail(&rxq, 5);
    set_desc(&rxq, 6, (uk_word_t)rxbuf, 20, UK_VRING_DESC_F_WRITE, 0);
    make_avail(&rxq, 6);
    for (unsigned i = 0; i < 2; i++)
        post_rx(rxbuf, i);
    notify(UK_VIRTIO_NET_Q_RX);

    int event = 0;
    uk_word_t bit = UK_VDEV_EVENT_VIRTIO(dev, UK_VIRTIO_NET_Q_RX);
    virtio_events &= ~bit;
    arp_request(frame, mac);
    expect("an ARP request sent", send(frame, HDR + ARP_LEN));
    int bad_back = wait_used(&rxq, 3);
    for (unsigned k = 0; k < 3; k++) {
        unsigned id = 99;
        long n = next_used(&rxq, &id);
        static const char *const what[] = { "a read-only receive buffer",
                                            "a receive buffer outside guest RAM",
                                            "a receive buffer of 20 bytes" };
        char line[96];
        snprintf(line, sizeof line, "%s: returned empty (used %ld)", what[k], n);
        expect(line, bad_back && n == 0 && id == 4 + k);
    }
    arp_reply(rxbuf, "the exchange");
    event = !!(virtio_events & bit);
    expect("the receive queue's event came", event);

    bad_tx(frame);
    refused_tx(frame);

    arp_request(frame, mac);
    expect("after them, an ARP request sent", send(frame, HDR + ARP_LEN));
    arp_reply(rxbuf, "after them");
    expect("reset", vcall(UK_VDEV_VIRTIO_RESET, 1, 0, 0, 0) == 0);
}
