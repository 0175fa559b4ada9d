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
 * With several servers (a NIC each) a server also has a peer port per
 * other server, a ring each way in pages the root keeps (switch.c,
 * UK_NET_CTL_ADD_PEER, UK_NET_CTL_REMOTE); a peer signals our notification
 * with its bit (UK_NET_PEER_BIT) when it wrote.
 *
 * The files: nic.c (the virtio-net driver), switch.c (ports, forwarding,
 * receive rings), this one (requests, control, the main loop).
 *
 * One thread: requests are served in order; the NIC's interrupt
 * notification is bound to the thread, so interrupts that come while it
 * waits on the endpoint are served there (received frames switched,
 * transmitted buffers taken back).
 */
#include <user/rt.h>
#include <user/virtio.h>
#include "net.h"

#define EP    UK_NET_SLOT_EP
#define NOTIF UK_NET_SLOT_NOTIF

static const struct uk_net_info *info = (const void *)UK_NET_INFO_VADDR;
static unsigned char frame[UK_NET_FRAME_MAX];   /* a client's frame, copied before it is checked */

static void service_interrupt(uk_word_t bits)
{
    if (bits & ~1ul)                       /* a peer wrote: look at every peer's ring */
        for (unsigned j = 0; j < UK_NET_MAX_SERVERS; j++)
            peer_receive(j);
    if (!(bits & 1))
        return;
    if (ports[UK_NET_UPLINK].live)
        nic_interrupt();
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
    case UK_NET_CTL_ADD_PEER: {           /* a new peer, or one of us restarted */
        if (n >= UK_NET_MAX_SERVERS)
            return UK_NET_EINVAL;
        for (uk_word_t off = 0; off < UK_NET_PEER_RING_PAGES * UK_PAGE_SIZE; off += UK_PAGE_SIZE)
            if (virt_to_phys((const void *)(UK_NET_PEER_OUT(n) + off)) == ~0ul ||
                virt_to_phys((const void *)(UK_NET_PEER_IN(n) + off)) == ~0ul)
                return UK_NET_EFAULT;
        const struct uk_net_ring *o = (const void *)UK_NET_PEER_OUT(n),
                                 *i = (const void *)UK_NET_PEER_IN(n);
        struct port *p = &ports[UK_NET_PEER_PORT(n)];
        if (!p->live)
            *p = (struct port){ .live = 1, .up = 1 };
        p->head = o->head;                 /* both rings where they are */
        p->tail = i->tail;
        peer_receive((unsigned)n);         /* what it wrote while we were away */
        return UK_NET_OK;
    }
    case UK_NET_CTL_PEER_STATS:
        if (n >= UK_NET_MAX_SERVERS || m->w[1] >= UK_NET_C_COUNT)
            return UK_NET_EINVAL;
        counters(&ports[UK_NET_PEER_PORT(n)], m->w[1], r);
        return UK_NET_OK;
    case UK_NET_CTL_REMOTE:
        if (n >= UK_NET_MAX_SERVERS || m->w[2] > 1)
            return UK_NET_EINVAL;
        return set_remote((unsigned)n, m->w[1], (int)m->w[2]);
    case UK_NET_CTL_NIC_INFO:
        r->w[1] = nic_mac;
        r->w[2] = NIC_RX_BUFS;
        r->w[3] = NIC_TX_BUFS;
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

int main(const struct uk_bootinfo *unused)
{
    (void)unused;
    if (info->magic != UK_NET_INFO_MAGIC) {
        printf("net-server: no usable info page\n");
        return 1;
    }
    ports[UK_NET_UPLINK].live = nic_init(&info->nic);
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
