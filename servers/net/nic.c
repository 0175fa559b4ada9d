/*
 * The network server's NIC (net.h): one virtio-net device through its
 * legacy I/O BAR, a receive queue (0) of NIC_RX_BUFS posted buffers and a
 * transmit queue (1) of NIC_TX_BUFS, all in the DMA pages the root mapped at
 * UK_NET_DMA_VADDR; descriptor i is buffer i, so a used entry names its
 * buffer.  A buffer is a 10-byte virtio_net_hdr (legacy, no mergeable
 * buffers: all zero on transmit) and the frame.
 */
#include <user/rt.h>
#include <user/virtio.h>
#include "net.h"

#define RXQ 0u
#define TXQ 1u
#define NET_HDR     10u            /* struct virtio_net_hdr (legacy, no mergeable buffers) */
#define BUF_BYTES   2048u          /* a frame buffer: header and frame */
#define QUEUE_PAGES 4u             /* a legacy queue of 256 entries takes 3 */
/* the DMA pages: rx queue, tx queue, rx buffers, tx buffers */
#define RXQ_OFF     0ul
#define TXQ_OFF     (QUEUE_PAGES * UK_PAGE_SIZE)
#define RXBUF_OFF   (2ul * QUEUE_PAGES * UK_PAGE_SIZE)
#define TXBUF_OFF   (RXBUF_OFF + NIC_RX_BUFS * BUF_BYTES)
_Static_assert(TXBUF_OFF + NIC_TX_BUFS * BUF_BYTES <= UK_NET_DMA_PAGES * UK_PAGE_SIZE,
               "the NIC's buffers do not fit its DMA pages");
_Static_assert(NET_HDR + UK_NET_FRAME_MAX <= BUF_BYTES, "a frame does not fit a buffer");

#define VIRTIO_NET_F_MAC 5u        /* config bytes 0-5: the device's MAC */

uk_word_t nic_mac;
static struct virtio_dev nic;
static unsigned char *const dma = (unsigned char *)UK_NET_DMA_VADDR;
static uk_word_t dma_phys;
static unsigned tx_busy;           /* bit i: tx buffer i is the device's */

/* Takes back the transmit buffers the device has finished with. */
static void reap_tx(void)
{
    unsigned head, len;
    while (virtq_get_used(&nic, TXQ, &head, &len))
        if (head < NIC_TX_BUFS)
            tx_busy &= ~(1u << head);
}

void nic_transmit(const unsigned char *f, unsigned len)
{
    struct port *o = &ports[UK_NET_UPLINK];
    reap_tx();
    unsigned i = 0;
    while (i < NIC_TX_BUFS && (tx_busy & (1u << i)))
        i++;
    if (i == NIC_TX_BUFS) {
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
        if (head >= NIC_RX_BUFS)
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

void nic_interrupt(void)
{
    virtio_isr(&nic);                      /* quiets the NIC (the line is shared) */
    poll_rx();
    reap_tx();
}

int nic_init(const struct uk_pci_dev *p)
{
    unsigned got = 0;
    long err;
    if ((err = virtio_legacy_begin(&nic, UK_NET_SLOT_NIC_IO, p->bar[0], 1u << VIRTIO_NET_F_MAC,
                                   &got))) {
        printf("net-server: the NIC's registers cannot be reached (error %ld)\n", err);
        return 0;
    }
    if (virtio_legacy_queue(&nic, RXQ, dma + RXQ_OFF, QUEUE_PAGES * UK_PAGE_SIZE, NIC_RX_BUFS) ||
        virtio_legacy_queue(&nic, TXQ, dma + TXQ_OFF, QUEUE_PAGES * UK_PAGE_SIZE, NIC_TX_BUFS)) {
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
    for (unsigned i = 0; i < NIC_RX_BUFS; i++)
        post_rx(i);
    virtio_legacy_driver_ok(&nic);
    virtq_notify(&nic, RXQ);
    printf("net-server: uplink virtio-net %02x:%02x.%x, MAC %02lx:%02lx:%02lx:%02lx:%02lx:%02lx, "
           "I/O %lx, IRQ %u, queues %u/%u, %u rx and %u tx buffers\n", p->bus, p->dev, p->fn,
           nic_mac & 0xff, nic_mac >> 8 & 0xff, nic_mac >> 16 & 0xff, nic_mac >> 24 & 0xff,
           nic_mac >> 32 & 0xff, nic_mac >> 40 & 0xff, p->bar[0], p->irq, nic.q[RXQ].size,
           nic.q[TXQ].size, NIC_RX_BUFS, NIC_TX_BUFS);
    return 1;
}
