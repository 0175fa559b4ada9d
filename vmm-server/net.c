/*
 * The guest's NIC (docs/network.md "A vmm-server as a client"): a
 * virtio-net back-end over the virtio core (virtio.c), and a client of the
 * network server on port guest_index.  The root task mapped our window at
 * UK_VMM_NET_WINDOW here and into the server (uk/net.h): its receive ring
 * at offset 0, our frames to send at UK_NET_TX_AREA.
 *
 *   transmit   each chain of the guest's tx queue (checked by virtio.c: every
 *              descriptor inside guest RAM) is gathered into the window
 *              after its virtio-net header and sent with UK_NET_OP_SEND;
 *              the switch checks the frame (length, source MAC) and counts
 *              what it refuses; the chain goes back to the used ring either
 *              way.
 *   receive    the server copies frames into our ring and signals
 *              UK_VMM_INPUT_NET on our input notification (bound to the
 *              main thread: main.c); we move them into the receive buffers
 *              the guest posted, each after a zeroed header, and raise the
 *              rx queue's event.  With no buffer posted, frames wait in the
 *              ring (32); when it is full the switch drops and counts them,
 *              never waiting for us; the guest's next rx NOTIFY drains it.
 *
 * So the network server never sees guest RAM, only the window: one copy
 * each way here.  Malformed chains (bad descriptors, a device-writable
 * buffer to send, too short for the header, more than the window's send
 * area) are not sent: each is counted, the first few reported.
 */
#include "virtio.h"
#include <uk/net.h>

#define NET_TIMEOUT      uk_timeout_us(5000000)
#define TX_AREA_BYTES    (UK_VMM_NET_WINDOW_PAGES * UK_PAGE_SIZE - UK_NET_TX_AREA)
#define BAD_SHOWN        8u      /* then only counted: no console flood through us */

_Static_assert(UK_VMM_NET_WINDOW_PAGES * UK_PAGE_SIZE >= UK_NET_WINDOW_MIN,
               "the vmm-server's network window is smaller than uk/net.h asks");
_Static_assert(TX_AREA_BYTES >= UK_NET_FRAME_MAX, "no room for a frame to send");

static struct vio_chain chain;   /* one at a time (4 KiB: not on the stack) */
static int dev = -1;             /* our virtio device number */
static uk_word_t mac;            /* UK_NET_OP_INFO's: the port's */
static uk_word_t rx_tail;        /* our copy of ring->tail: we alone write it */

static struct {                  /* main thread only */
    unsigned long tx_sent, tx_refused, tx_bad, rx_frames, rx_bad_buf, rx_bad_len;
} st;

static unsigned char *win(void) { return (unsigned char *)UK_VMM_NET_WINDOW; }
static struct uk_net_ring *ring(void) { return (struct uk_net_ring *)UK_VMM_NET_WINDOW; }

static long net_call(uk_word_t op, unsigned len, uk_word_t w0, uk_word_t w1, uk_word_t out[4])
{
    struct uk_msg m = { .info = uk_msginfo(op, len, NET_TIMEOUT), .w = { w0, w1 } };
    long err = uk_call(UK_VMM_SLOT_NET, &m);
    if (err)
        return uk_ipc_failed(err);
    if (out)
        for (int i = 0; i < 4; i++)
            out[i] = m.w[i];
    return (long)m.w[0];
}

static void bad(unsigned long *counter, const char *what, const char *why)
{
    ++*counter;
    if (st.tx_bad + st.rx_bad_buf + st.rx_bad_len <= BAD_SHOWN)
        vmm_say("net: %s refused (%s): dropped", what, why);
}

/* The header the driver put before each frame: 12 bytes (VERSION_1 or
 * MRG_RXBUF, which we do not offer), else 10. */
static unsigned hdr_len(struct vio_dev *d)
{
    return vio_driver_features(d) & UK_VIRTIO_F_VERSION_1 ? sizeof(struct uk_virtio_net_hdr)
                                                          : sizeof(struct uk_virtio_net_hdr) - 2;
}

static uk_word_t vnet_features(struct vio_dev *d)
{
    (void)d;
    return UK_VIRTIO_F_VERSION_1 | UK_VIRTIO_NET_F_MAC;
}

static long vnet_config(struct vio_dev *d, uk_word_t off, uk_word_t len, uk_word_t *val)
{
    (void)d;
    unsigned char cfg[UK_VIRTIO_NET_CFG_SIZE] = { 0 };
    memcpy(cfg + UK_VIRTIO_NET_CFG_MAC, &mac, 6);      /* first octet in bits 0-7 */
    if (off > sizeof cfg || len > sizeof cfg - off)
        return -1;
    *val = 0;
    memcpy(val, cfg + off, len);
    return 0;
}

static const char *const bad_why[] = {
    [VIO_BAD_ADDR] = "a descriptor outside guest RAM",
    [VIO_BAD_INDEX] = "a descriptor index past the queue",
    [VIO_BAD_LOOP] = "a descriptor chain loop",
    [VIO_BAD_INDIRECT] = "an indirect descriptor",
};

/* One tx chain: its frame into the window, UK_NET_OP_SEND. */
static void tx_one(struct vio_dev *d, const struct vio_chain *c)
{
    if (c->bad) {
        bad(&st.tx_bad, "a frame to send", bad_why[c->bad]);
        return;
    }
    uk_word_t total = 0, h = hdr_len(d);
    for (unsigned i = 0; i < c->nseg; i++) {
        if (c->seg[i].writable && c->seg[i].len) {
            bad(&st.tx_bad, "a frame to send", "a device-writable buffer");
            return;
        }
        total += c->seg[i].len;                      /* < 256 * 4 GiB: no wrap */
    }
    if (total < h || total - h > TX_AREA_BYTES) {
        bad(&st.tx_bad, "a frame to send", total < h ? "shorter than its header"
                                                     : "longer than the window's send area");
        return;
    }
    /* gather the bytes after the header; the switch checks the frame */
    unsigned char *out = win() + UK_NET_TX_AREA;
    uk_word_t skip = h, n = 0;
    for (unsigned i = 0; i < c->nseg; i++) {
        uk_word_t len = c->seg[i].len, s = skip < len ? skip : len;
        skip -= s;
        memcpy(out + n, c->seg[i].p + s, len - s);
        n += len - s;
    }
    long status = net_call(UK_NET_OP_SEND, 2, UK_NET_TX_AREA, n, 0);
    if (status == UK_NET_OK)
        st.tx_sent++;
    else
        st.tx_refused++;    /* counted by the switch (or the server is gone: frame lost) */
}

/* n bytes into the chain's writable segments from byte `off` of them on
 * (the caller checked they fit). */
static void chain_write(const struct vio_chain *c, uk_word_t off, const unsigned char *src,
                        uk_word_t n)
{
    for (unsigned i = 0; n && i < c->nseg; i++) {
        uk_word_t len = c->seg[i].len;
        if (off >= len) {
            off -= len;
            continue;
        }
        uk_word_t t = len - off < n ? len - off : n;
        memcpy(c->seg[i].p + off, src, t);
        src += t;
        n -= t;
        off = 0;
    }
}

/* Frames from our ring into the guest's receive buffers, while both last. */
static void rx_pump(struct vio_dev *d)
{
    struct uk_net_ring *r = ring();
    uk_word_t h = hdr_len(d);
    int moved = 0;
    while (rx_tail != r->head) {
        __atomic_thread_fence(__ATOMIC_ACQUIRE);     /* len and bytes after head */
        unsigned slot = (unsigned)(rx_tail % UK_NET_RX_SLOTS);
        uk_word_t len = r->len[slot];
        const unsigned char *frame = win() + UK_NET_RX_DATA + slot * UK_NET_SLOT_BYTES;
        if (len > UK_NET_SLOT_BYTES || len > UK_NET_FRAME_MAX) {   /* not the server's way */
            bad(&st.rx_bad_len, "a frame in our ring", "longer than a slot or the MTU");
            r->tail = ++rx_tail;
            continue;
        }
        if (!vio_next(d, UK_VIRTIO_NET_Q_RX, &chain))
            break;                                   /* no buffer: it waits in the ring */
        uk_word_t room = 0;
        int ok = !chain.bad;
        for (unsigned i = 0; ok && i < chain.nseg; i++) {
            ok = chain.seg[i].writable;
            room += chain.seg[i].len;
        }
        if (!ok || room < h + len) {                 /* the frame waits for the next one */
            bad(&st.rx_bad_buf, "a receive buffer", chain.bad ? bad_why[chain.bad]
                                                  : !ok ? "a device-readable descriptor"
                                                        : "smaller than a frame");
            vio_done(d, UK_VIRTIO_NET_Q_RX, chain.head, 0);
            moved = 1;
            continue;
        }
        struct uk_virtio_net_hdr hdr = { .num_buffers = 1 };
        chain_write(&chain, 0, (const unsigned char *)&hdr, h);
        chain_write(&chain, h, frame, len);
        vio_done(d, UK_VIRTIO_NET_Q_RX, chain.head, (unsigned int)(h + len));
        r->tail = ++rx_tail;                         /* after we copied it out */
        st.rx_frames++;
        moved = 1;
    }
    if (moved)
        vio_interrupt(d, UK_VIRTIO_NET_Q_RX);
}

static void vnet_notify(struct vio_dev *d, unsigned q)
{
    if (q == UK_VIRTIO_NET_Q_TX) {
        while (vio_next(d, q, &chain)) {
            tx_one(d, &chain);
            vio_done(d, q, chain.head, 0);
        }
        vio_interrupt(d, q);
    }
    rx_pump(d);      /* new receive buffers (rx), or frames that came meanwhile */
}

void net_rx_ready(void)
{
    struct vio_dev *d = vio_dev(dev);
    if (d)
        rx_pump(d);
}

static const struct vio_backend vnet_backend = {
    .name = "net",
    .type = UK_VIRTIO_ID_NET,
    .queues = 2,
    .features = vnet_features,
    .config = vnet_config,
    .notify = vnet_notify,
};

void net_summary(void)
{
    vmm_say("net: %lu frames sent, %lu refused by the switch, %lu malformed not sent; %lu "
            "received, %lu receive buffers refused, %lu bad ring entries", st.tx_sent,
            st.tx_refused, st.tx_bad, st.rx_frames, st.rx_bad_buf, st.rx_bad_len);
}

void net_init(void)
{
    uk_word_t type = 0, rights = 0, badge = 0, r[4] = { 0 };
    if (uk_cap_info(UK_VMM_SLOT_NET, &type, &rights, &badge) || type != UK_CAP_ENDPOINT)
        return;
    long status = net_call(UK_NET_OP_INFO, 0, 0, 0, r);
    if (status) {
        vmm_say("net: the network server refuses us (status %ld)", status);
        return;
    }
    mac = r[1] & UK_NET_MAC_MASK;
    rx_tail = ring()->head;          /* what came before we ran is not this boot's */
    ring()->tail = rx_tail;
    if ((dev = vio_add(&vnet_backend, 0)) < 0) {
        vmm_say("net: no virtio device slot left");
        return;
    }
    vmm.net = 1;
    const unsigned char *b = (const unsigned char *)&mac;
    vmm_say("net: port %lu of the network server, MAC %02x:%02x:%02x:%02x:%02x:%02x",
            badge, b[0], b[1], b[2], b[3], b[4], b[5]);
}
