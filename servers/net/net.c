/*
 * The network server (docs/network.md): drives one virtio-net device (the
 * uplink) from user level, through its legacy I/O BAR (an I/O-port cap),
 * its two virtqueues and frame buffers in the DMA pages the root mapped at
 * UK_NET_DMA_VADDR (physical addresses from UK_SYS_MEM_INFO), and its
 * interrupt (our own holder of its PCI line, shared with other drivers:
 * reading the ISR tells whether it was the NIC and quiets it); and runs an
 * Ethernet switch between the uplink (port 0) and its clients (ports
 * 1..UK_NET_MAX_CLIENTS, uk/net.h).
 *
 * The switch: a client port's address is the MAC the root assigned it, a
 * static entry (a frame from the port with another source MAC is dropped,
 * so there is nothing to learn there); addresses behind the uplink are
 * learnt from the frames it receives (LEARN_MAX entries, the least recently
 * seen replaced).  A unicast frame to a known address goes to that port
 * only (so frames between two clients never reach the uplink); broadcast,
 * multicast and unknown unicast go to every other port whose link is up.
 * Every frame is checked when it enters (length, source MAC, for a client
 * the window) and copied before the check, so a client cannot change it
 * afterwards.  A frame for a client is copied into the receive ring in the
 * client's window, or dropped and counted if the ring is full: nothing here
 * ever waits for a client.  A frame for the uplink goes into a free
 * transmit buffer, or is dropped and counted if all TX_BUFS are in flight.
 *
 * One thread: requests are served in order; the NIC's interrupt
 * notification is bound to the thread, so interrupts that come while it
 * waits on the endpoint are served there (received frames switched,
 * transmitted buffers taken back).
 */
#include <user/rt.h>
#include <user/virtio.h>
#include <uk/net.h>

#define EP    UK_NET_SLOT_EP
#define NOTIF UK_NET_SLOT_NOTIF

#define RXQ 0u
#define TXQ 1u
#define NET_HDR     10u            /* struct virtio_net_hdr (legacy, no mergeable buffers) */
#define BUF_BYTES   2048u          /* a frame buffer: header and frame */
#define QUEUE_PAGES 4u             /* a legacy queue of 256 entries takes 3 */
#define RX_BUFS     32u            /* posted receive buffers, descriptor i = buffer i */
#define TX_BUFS     16u            /* transmit buffers, descriptor i = buffer i */
/* the DMA pages: rx queue, tx queue, rx buffers, tx buffers */
#define RXQ_OFF     0ul
#define TXQ_OFF     (QUEUE_PAGES * UK_PAGE_SIZE)
#define RXBUF_OFF   (2ul * QUEUE_PAGES * UK_PAGE_SIZE)
#define TXBUF_OFF   (RXBUF_OFF + RX_BUFS * BUF_BYTES)
_Static_assert(TXBUF_OFF + TX_BUFS * BUF_BYTES <= UK_NET_DMA_PAGES * UK_PAGE_SIZE,
               "the NIC's buffers do not fit its DMA pages");
_Static_assert(NET_HDR + UK_NET_FRAME_MAX <= BUF_BYTES && UK_NET_FRAME_MAX <= UK_NET_SLOT_BYTES,
               "a frame does not fit a buffer");

#define VIRTIO_NET_F_MAC 5u        /* config bytes 0-5: the device's MAC */
#define LEARN_MAX        64u

struct port {
    int live;                      /* a client (port 0: the NIC is in service) */
    int up;                        /* its link: the root's choice */
    uk_word_t mac;                 /* a client's assigned MAC */
    uk_word_t window;              /* a client's window, bytes */
    uk_word_t head;                /* frames put into its ring (the ring's head is a copy) */
    int wake;                      /* frames put in since we last signalled it */
    uk_word_t c[UK_NET_C_COUNT];
};

static const struct uk_net_info *info = (const void *)UK_NET_INFO_VADDR;
static struct port ports[UK_NET_PORTS];
static struct { uk_word_t mac, seen; } learnt[LEARN_MAX];   /* behind the uplink */
static uk_word_t clock;
static struct virtio_dev nic;
static unsigned char *const dma = (unsigned char *)UK_NET_DMA_VADDR;
static uk_word_t dma_phys, nic_mac;
static unsigned tx_busy;           /* bit i: tx buffer i is the device's */
static unsigned char frame[BUF_BYTES];   /* a client's frame, copied before it is checked */

static uk_word_t mac_at(const unsigned char *p)
{
    uk_word_t m = 0;
    for (int i = 5; i >= 0; i--)
        m = m << 8 | p[i];
    return m;
}

static int is_group(uk_word_t mac) { return mac & 1; }   /* broadcast or multicast */

static int client_with(uk_word_t mac)
{
    for (unsigned p = 1; p < UK_NET_PORTS; p++)
        if (ports[p].live && ports[p].mac == mac)
            return (int)p;
    return -1;
}

static void learn(uk_word_t mac)
{
    unsigned oldest = 0;
    clock++;
    for (unsigned i = 0; i < LEARN_MAX; i++) {
        if (learnt[i].seen && learnt[i].mac == mac) {
            learnt[i].seen = clock;
            return;
        }
        if (learnt[i].seen < learnt[oldest].seen)
            oldest = i;
    }
    learnt[oldest].mac = mac;
    learnt[oldest].seen = clock;
}

/* The port behind a unicast address, -1 if unknown. */
static int lookup(uk_word_t mac)
{
    int p = client_with(mac);
    if (p >= 0)
        return p;
    for (unsigned i = 0; i < LEARN_MAX; i++)
        if (learnt[i].seen && learnt[i].mac == mac)
            return UK_NET_UPLINK;
    return -1;
}

/* Takes back the transmit buffers the device has finished with. */
static void reap_tx(void)
{
    unsigned head, len;
    while (virtq_get_used(&nic, TXQ, &head, &len))
        if (head < TX_BUFS)
            tx_busy &= ~(1u << head);
}

static void out_uplink(const unsigned char *f, unsigned len)
{
    struct port *o = &ports[UK_NET_UPLINK];
    reap_tx();
    unsigned i = 0;
    while (i < TX_BUFS && (tx_busy & (1u << i)))
        i++;
    if (i == TX_BUFS) {
        o->c[UK_NET_C_DROP_FULL]++;
        return;
    }
    unsigned char *buf = dma + TXBUF_OFF + i * BUF_BYTES;
    memset(buf, 0, NET_HDR);
    memcpy(buf + NET_HDR, f, len);
    struct virtq_buf b = { dma_phys + TXBUF_OFF + i * BUF_BYTES, NET_HDR + len, 0 };
    if (virtq_add(&nic, TXQ, i, &b, 1) != UK_OK || virtq_notify(&nic, TXQ) != UK_OK) {
        o->c[UK_NET_C_DROP_FULL]++;
        return;
    }
    tx_busy |= 1u << i;
    o->c[UK_NET_C_OUT_FRAMES]++;
    o->c[UK_NET_C_OUT_BYTES] += len;
}

/* Into client p's receive ring, in its window. */
static void out_client(unsigned p, const unsigned char *f, unsigned len)
{
    struct port *o = &ports[p];
    struct uk_net_ring *r = (struct uk_net_ring *)UK_NET_WINDOW(p);
    uk_word_t tail = r->tail;      /* the client's word: any value must be harmless */
    if (o->head - tail >= UK_NET_RX_SLOTS) {
        o->c[UK_NET_C_DROP_FULL]++;
        return;
    }
    unsigned slot = (unsigned)(o->head % UK_NET_RX_SLOTS);
    memcpy((unsigned char *)r + UK_NET_RX_DATA + slot * UK_NET_SLOT_BYTES, f, len);
    r->len[slot] = len;
    __atomic_thread_fence(__ATOMIC_RELEASE);   /* the frame before the head */
    r->head = ++o->head;
    o->c[UK_NET_C_OUT_FRAMES]++;
    o->c[UK_NET_C_OUT_BYTES] += len;
    o->wake = 1;
}

static void out(unsigned p, const unsigned char *f, unsigned len)
{
    if (!ports[p].up) {
        ports[p].c[UK_NET_C_DROP_DOWN]++;
        return;
    }
    if (p == UK_NET_UPLINK)
        out_uplink(f, len);
    else
        out_client(p, f, len);
}

/* The checks every frame gets on entering from port src (a status). */
static long check_in(unsigned src, uk_word_t len)
{
    struct port *s = &ports[src];
    if (!s->up) {
        s->c[UK_NET_C_DROP_DOWN]++;
        return UK_NET_ENETDOWN;
    }
    if (len < UK_NET_ETH_HDR) {
        s->c[UK_NET_C_DROP_SHORT]++;
        return UK_NET_EINVAL;
    }
    if (len > UK_NET_FRAME_MAX) {
        s->c[UK_NET_C_DROP_LONG]++;
        return UK_NET_EMSGSIZE;
    }
    return UK_NET_OK;
}

/* A checked-length frame from port src through the switch (a status). */
static long switch_frame(unsigned src, const unsigned char *f, unsigned len)
{
    struct port *s = &ports[src];
    uk_word_t dst = mac_at(f), from = mac_at(f + 6);
    if (src != UK_NET_UPLINK ? from != s->mac : (is_group(from) || client_with(from) >= 0)) {
        s->c[UK_NET_C_DROP_SPOOF]++;
        return UK_NET_EACCES;
    }
    s->c[UK_NET_C_IN_FRAMES]++;
    s->c[UK_NET_C_IN_BYTES] += len;
    if (src == UK_NET_UPLINK)
        learn(from);
    int to = is_group(dst) ? -1 : lookup(dst);
    if (to >= 0) {
        if ((unsigned)to != src)
            out((unsigned)to, f, len);
        return UK_NET_OK;
    }
    for (unsigned p = 0; p < UK_NET_PORTS; p++)
        if (p != src && ports[p].live)
            out(p, f, len);
    return UK_NET_OK;
}

static void wake_clients(void)
{
    for (unsigned p = 1; p < UK_NET_PORTS; p++)
        if (ports[p].wake) {
            ports[p].wake = 0;
            uk_signal(UK_NET_SLOT_CLIENT0 + p);
        }
}

static void post_rx(unsigned i)
{
    struct virtq_buf b = { dma_phys + RXBUF_OFF + i * BUF_BYTES, BUF_BYTES, 1 };
    virtq_add(&nic, RXQ, i, &b, 1);
}

/* Frames the NIC received: through the switch, their buffers posted again. */
static void poll_rx(void)
{
    unsigned head, len, n = 0;
    while (virtq_get_used(&nic, RXQ, &head, &len)) {
        if (head >= RX_BUFS)
            continue;                      /* not ours: a device bug */
        unsigned flen = len > NET_HDR ? len - NET_HDR : 0;
        const unsigned char *f = dma + RXBUF_OFF + head * BUF_BYTES + NET_HDR;
        if (check_in(UK_NET_UPLINK, flen) == UK_NET_OK)
            switch_frame(UK_NET_UPLINK, f, flen);
        post_rx(head);
        n++;
    }
    if (n)
        virtq_notify(&nic, RXQ);
}

static void service_interrupt(uk_word_t bits)
{
    if (!(bits & 1))
        return;
    if (ports[UK_NET_UPLINK].live) {
        virtio_isr(&nic);                  /* quiets the NIC (the line is shared) */
        poll_rx();
        reap_tx();
    }
    uk_irq_ack(UK_NET_SLOT_NIC_IRQ);
}

/* SEND from client n: every check before the frame goes anywhere. */
static long client_send(unsigned n, uk_word_t off, uk_word_t len)
{
    struct port *s = &ports[n];
    long st = check_in(n, len);
    if (st != UK_NET_OK)
        return st;
    if (off > s->window || len > s->window - off) {
        s->c[UK_NET_C_DROP_FAULT]++;
        return UK_NET_EFAULT;
    }
    uk_word_t va = UK_NET_WINDOW(n) + off;
    if (virt_to_phys((const void *)va) == ~0ul ||
        virt_to_phys((const void *)(va + len - 1)) == ~0ul) {
        s->c[UK_NET_C_DROP_FAULT]++;       /* the root unmapped part of the window */
        return UK_NET_EFAULT;
    }
    memcpy(frame, (const void *)va, len);
    return switch_frame(n, frame, (unsigned)len);
}

static void counters(const struct port *p, uk_word_t first, struct uk_msg *r)
{
    for (unsigned i = 0; i < 3; i++)
        r->w[1 + i] = first + i < UK_NET_C_COUNT ? p->c[first + i] : 0;
}

/* The root's requests (badge 0). */
static long control(uk_word_t op, const struct uk_msg *m, struct uk_msg *r)
{
    uk_word_t n = m->w[0];
    switch (op) {
    case UK_NET_CTL_ADD_CLIENT: {
        uk_word_t mac = m->w[1], bytes = m->w[2];
        if (n < 1 || n > UK_NET_MAX_CLIENTS || ports[n].live || mac == 0 ||
            mac & ~UK_NET_MAC_MASK || is_group(mac) || client_with(mac) >= 0 ||
            bytes % UK_PAGE_SIZE || bytes < UK_NET_WINDOW_MIN || bytes > UK_NET_WINDOW_MAX)
            return UK_NET_EINVAL;
        for (uk_word_t off = 0; off < bytes; off += UK_PAGE_SIZE)
            if (virt_to_phys((const void *)(UK_NET_WINDOW(n) + off)) == ~0ul)
                return UK_NET_EFAULT;      /* the root must map the window first */
        const struct uk_net_ring *ring = (const void *)UK_NET_WINDOW(n);
        ports[n] = (struct port){ .live = 1, .up = 1, .mac = mac, .window = bytes,
                                  .head = ring->head };   /* a reconnect keeps its ring */
        return UK_NET_OK;
    }
    case UK_NET_CTL_REMOVE_CLIENT:
        if (n < 1 || n > UK_NET_MAX_CLIENTS || !ports[n].live)
            return UK_NET_EINVAL;
        ports[n].live = 0;
        ports[n].wake = 0;
        return UK_NET_OK;
    case UK_NET_CTL_LINK:
        if (n >= UK_NET_PORTS || (n != UK_NET_UPLINK && !ports[n].live) || m->w[1] > 1)
            return UK_NET_EINVAL;
        ports[n].up = (int)m->w[1];
        return UK_NET_OK;
    case UK_NET_CTL_STATS:
        if (n >= UK_NET_PORTS || m->w[1] >= UK_NET_C_COUNT)
            return UK_NET_EINVAL;
        counters(&ports[n], m->w[1], r);
        return UK_NET_OK;
    case UK_NET_CTL_NIC_INFO:
        r->w[1] = nic_mac;
        r->w[2] = RX_BUFS;
        r->w[3] = TX_BUFS;
        return ports[UK_NET_UPLINK].live ? UK_NET_OK : UK_NET_EIO;
    default:
        return UK_NET_EINVAL;
    }
}

/* One request: the reply's words in r (w0 = status). */
static void handle(const struct uk_msg *m, struct uk_msg *r)
{
    uk_word_t op = uk_msg_label(m->info), len = uk_msg_len(m->info), n = m->badge;
    unsigned words = 1;
    long st;
    r->w[1] = r->w[2] = r->w[3] = 0;
    if (n == 0) {
        st = control(op, m, r);
        words = 4;
    } else if (n > UK_NET_MAX_CLIENTS || !ports[n].live || op >= UK_NET_CTL_ADD_CLIENT) {
        st = UK_NET_EPERM;
    } else if (op == UK_NET_OP_INFO) {
        r->w[1] = ports[n].mac;
        r->w[2] = ports[n].window;
        r->w[3] = ports[n].up ? UK_NET_F_LINK_UP : 0;
        words = 4;
        st = UK_NET_OK;
    } else if (op == UK_NET_OP_SEND && len == 2) {
        st = client_send((unsigned)n, m->w[0], m->w[1]);
    } else if (op == UK_NET_OP_STATS && len == 1 && m->w[0] < UK_NET_C_COUNT) {
        counters(&ports[n], m->w[0], r);
        words = 4;
        st = UK_NET_OK;
    } else {
        st = UK_NET_EINVAL;
    }
    wake_clients();
    r->w[0] = (uk_word_t)st;
    r->info = uk_msginfo(0, words, UK_TIMEOUT_INFINITE);
}

static int nic_init(void)
{
    const struct uk_pci_dev *p = &info->nic;
    unsigned got = 0;
    long err;
    if ((err = virtio_legacy_begin(&nic, UK_NET_SLOT_NIC_IO, p->bar[0], 1u << VIRTIO_NET_F_MAC,
                                   &got))) {
        printf("net-server: the NIC's registers cannot be reached (error %ld)\n", err);
        return 0;
    }
    if (virtio_legacy_queue(&nic, RXQ, dma + RXQ_OFF, QUEUE_PAGES * UK_PAGE_SIZE, RX_BUFS) ||
        virtio_legacy_queue(&nic, TXQ, dma + TXQ_OFF, QUEUE_PAGES * UK_PAGE_SIZE, TX_BUFS)) {
        printf("net-server: the NIC's queues do not fit our DMA pages\n");
        virtio_legacy_reset(nic.io, nic.base);
        return 0;
    }
    dma_phys = virt_to_phys(dma);
    for (unsigned i = 0; got & (1u << VIRTIO_NET_F_MAC) && i < 6; i++)
        nic_mac |= virtio_config_read(&nic, i, 1) << (8 * i);
    if ((err = uk_irq_bind(UK_NET_SLOT_NIC_IRQ, UK_NET_SLOT_NIC_IRQ_NOTIF))) {
        printf("net-server: IRQ %u not bound (error %ld)\n", p->irq, err);
        virtio_legacy_reset(nic.io, nic.base);
        return 0;
    }
    for (unsigned i = 0; i < RX_BUFS; i++)
        post_rx(i);
    virtio_legacy_driver_ok(&nic);
    virtq_notify(&nic, RXQ);
    printf("net-server: uplink virtio-net %02x:%02x.%x, MAC %02lx:%02lx:%02lx:%02lx:%02lx:%02lx, "
           "I/O %lx, IRQ %u, queues %u/%u, %u rx and %u tx buffers\n", p->bus, p->dev, p->fn,
           nic_mac & 0xff, nic_mac >> 8 & 0xff, nic_mac >> 16 & 0xff, nic_mac >> 24 & 0xff,
           nic_mac >> 32 & 0xff, nic_mac >> 40 & 0xff, p->bar[0], p->irq, nic.q[RXQ].size,
           nic.q[TXQ].size, RX_BUFS, TX_BUFS);
    return 1;
}

int main(const struct uk_bootinfo *unused)
{
    (void)unused;
    if (info->magic != UK_NET_INFO_MAGIC) {
        printf("net-server: no usable info page\n");
        return 1;
    }
    ports[UK_NET_UPLINK].live = nic_init();
    ports[UK_NET_UPLINK].up = 1;
    long err = uk_notif_bind(NOTIF, UK_SLOT_SELF_THREAD);
    if (err)
        printf("net-server: interrupt notification not bound (error %ld)\n", err);
    printf("net-server: switch ready, uplink %s, up to %u clients\n",
           ports[UK_NET_UPLINK].live ? "in service" : "OUT OF SERVICE", UK_NET_MAX_CLIENTS);

    struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE) };
    err = uk_recv(EP, &m);
    for (;;) {
        if (err == UK_OK && (uk_msg_flags(m.info) & UK_MSGF_NOTIFY)) {
            service_interrupt(m.badge);    /* not a message: nobody to answer */
            wake_clients();
            err = 1;
        }
        if (err != UK_OK) {
            m.info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE);
            err = uk_recv(EP, &m);
            continue;
        }
        struct uk_msg r;
        handle(&m, &r);
        m = r;
        err = uk_reply_recv(EP, &m);
    }
}
