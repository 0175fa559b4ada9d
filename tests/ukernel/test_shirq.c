/*
 * Shared interrupt lines (docs/ABI.md IRQ_GET): several holders of one
 * level-triggered line, each signalled on every interrupt; the line stays
 * masked until every bound holder has acked, and a holder that goes away
 * (destroyed, or its notification destroyed) while it owes an ack does not
 * keep it masked.  The interrupt source is a real level one: QEMU's
 * virtio-blk-pci (tools/test/run-tests gives this suite one disk), whose
 * INTx stays asserted until its ISR register is read.  The test root task
 * holds the PCI configuration ports (the suite's root task is the only
 * task that runs here).
 */
#include "ktest.h"
#include <user/pci.h>
#include <user/virtio.h>

#define SELF UK_SLOT_SELF_TASK
#define MS(n) uk_timeout_us((n) * 1000ul)
#define BLK_T_IN 0u

static uk_word_t sh_used(void)
{
    uk_word_t used = 0;
    uk_kmem_info(SELF, &used, 0);
    return used;
}

static struct {
    struct virtio_dev v;
    struct uk_pci_dev pci;
    uk_word_t io;
    char *page;              /* request header, status, data */
} D;

/* One read of sector 0 on the device: the interrupt follows when done. */
static void submit_read(void)
{
    unsigned *hdr = (unsigned *)D.page;
    hdr[0] = BLK_T_IN;
    hdr[1] = 0;
    *(uk_word_t *)(D.page + 8) = 0;
    D.page[16] = (char)0xff;
    uk_word_t phys = virt_to_phys(D.page);
    struct virtq_buf bufs[3] = {
        { phys, 16, 0 }, { phys + 512, 512, 1 }, { phys + 16, 1, 1 },
    };
    KT_EQ(virtq_submit(&D.v, bufs, 3), UK_OK);
}

/* Takes the interrupt on notification n: UK_OK or the wait's error. */
static long wait_irq(uk_word_t n, uk_word_t ms)
{
    uk_word_t bits = 0;
    return uk_wait(n, ms ? MS(ms) : UK_TIMEOUT_ZERO, &bits);
}

/* One read through the device: its interrupt seen by holder a's
 * notification na (and by nb's too, if nb is not 0), the request taken
 * back and the device's ISR read (which lowers the line), then a's ack. */
static void read_and_ack(uk_word_t a, uk_word_t na, uk_word_t nb)
{
    unsigned len = 0;
    submit_read();
    KT_EQ(wait_irq(na, 2000), UK_OK);
    if (nb)
        KT_EQ(wait_irq(nb, 0), UK_OK);
    KT_EQ(virtq_take_used(&D.v, &len), 1);
    virtio_isr(&D.v);
    KT_EQ(uk_irq_ack(a), UK_OK);
}

static int device_setup(void)
{
    uk_word_t cfg = uk_slot_alloc();
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, UK_PCI_CONFIG_ADDR, UK_PCI_CONFIG_PORTS, cfg), UK_OK);
    unsigned n = pci_find(cfg, UK_PCI_VENDOR_VIRTIO, UK_PCI_DEVICE_VIRTIO_BLK, &D.pci, 1);
    KT_EQ(n, 1);
    if (n != 1) {
        uk_cap_delete(SELF, cfg);
        return 0;
    }
    KT_CHECK(D.pci.bar_is_io & 1);
    KT_CHECK(D.pci.bar_size[0] >= VIRTIO_PCI_LEGACY_BAR_MIN);
    KT_CHECK(D.pci.irq < 16);
    pci_enable(cfg, &D.pci);
    uk_cap_delete(SELF, cfg);
    D.io = uk_slot_alloc();
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, D.pci.bar[0], D.pci.bar_size[0], D.io), UK_OK);
    unsigned got = 0;
    KT_EQ(virtio_legacy_begin(&D.v, D.io, D.pci.bar[0], 0, &got), UK_OK);
    void *ring = uk_pages_alloc(4);
    D.page = uk_pages_alloc(1);
    KT_EQ(virtio_legacy_queue0(&D.v, ring, 4 * UK_PAGE_SIZE), UK_OK);
    return D.v.q[0].size != 0;
}

KT_TEST(irq_shared_level_line_two_holders)
{
    if (!device_setup())
        return;
    uk_word_t line = D.pci.irq;
    printf("    virtio-blk at %02x:%02x.%x, I/O %lx+%lx, IRQ %lu, queue %u\n", D.pci.bus,
           D.pci.dev, D.pci.fn, D.pci.bar[0], D.pci.bar_size[0], line, D.v.q[0].size);
    uk_word_t before = sh_used();
    uk_word_t a = uk_slot_alloc(), b = uk_slot_alloc(), x = uk_slot_alloc();
    uk_word_t na = kt_notification(), nb = kt_notification();
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, line, a), UK_OK);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, line, b), UK_OK);   /* level: shared */
    uk_word_t type = 0, rights = 0, arg = 0;
    KT_EQ(uk_cap_info(b, &type, &rights, &arg), UK_OK);
    KT_EQ(arg, line);
    KT_EQ(uk_irq_bind(a, na), UK_OK);
    KT_EQ(uk_irq_bind(b, nb), UK_OK);

    /* 1. both are told; one ack is not enough */
    submit_read();
    KT_EQ(wait_irq(na, 2000), UK_OK);
    KT_EQ(wait_irq(nb, 0), UK_OK);
    unsigned len = 0;
    KT_EQ(virtq_take_used(&D.v, &len), 1);
    KT_EQ((unsigned char)D.page[16], 0);              /* VIRTIO_BLK_S_OK */
    KT_EQ(uk_irq_ack(a), UK_OK);                       /* the ISR not read: still asserted */
    KT_EQ(wait_irq(na, 30), UK_E_TIMEOUT);             /* masked: b owes its ack */
    /* 2. b acks without quieting the device: the level line fires again, to both */
    KT_EQ(uk_irq_ack(b), UK_OK);
    KT_EQ(wait_irq(na, 2000), UK_OK);
    KT_EQ(wait_irq(nb, 0), UK_OK);
    /* 3. the device quieted, both ack (b first this time): no more interrupts */
    KT_CHECK(virtio_isr(&D.v) & VIRTIO_ISR_QUEUE);
    KT_EQ(uk_irq_ack(b), UK_OK);
    KT_EQ(uk_irq_ack(a), UK_OK);
    KT_EQ(wait_irq(na, 30), UK_E_TIMEOUT);
    KT_EQ(wait_irq(nb, 0), UK_E_TIMEOUT);

    /* 4. a holder destroyed while it owes an ack does not keep the line masked */
    read_and_ack(a, na, nb);
    kt_destroy(b);                                     /* owed its ack */
    read_and_ack(a, na, 0);                            /* the line was unmasked */

    /* 5. the same when the holder's notification is destroyed instead */
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, line, b), UK_OK);
    KT_EQ(uk_irq_bind(b, nb), UK_OK);
    read_and_ack(a, na, nb);
    kt_destroy(nb);                                    /* unbinds b, which owed */
    KT_EQ(uk_irq_ack(b), UK_E_STATE);
    read_and_ack(a, na, 0);
    /* 6. a holder that is issued but not bound does not count */
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, line, x), UK_OK);
    read_and_ack(a, na, 0);
    kt_destroy(x);
    kt_destroy(b);

    /* 7. a line has at most four holders at once; copies do not count */
    uk_word_t h[4] = { a, uk_slot_alloc(), uk_slot_alloc(), uk_slot_alloc() };
    for (unsigned i = 1; i < 4; i++)
        KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, line, h[i]), UK_OK);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, line, x), UK_E_BUSY);
    KT_EQ(kt_cap_type(x), UK_CAP_NULL);
    KT_EQ(uk_cap_copy(h[3], SELF, x, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_delete(SELF, h[3]), UK_OK);          /* the copy still holds it */
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, line, h[3]), UK_E_BUSY);
    KT_EQ(uk_cap_delete(SELF, x), UK_OK);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, line, h[3]), UK_OK);
    for (unsigned i = 0; i < 4; i++)
        kt_destroy(h[i]);

    virtio_legacy_reset(D.io, D.pci.bar[0]);
    uk_cap_delete(SELF, D.io);
    kt_destroy(na);
    KT_EQ(sh_used(), before);
}

KT_TEST(irq_edge_line_has_one_holder)
{
    uk_word_t a = uk_slot_alloc(), b = uk_slot_alloc();
    /* IRQ 3 (COM2): edge-triggered under QEMU's MADT, so not shared */
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 3, a), UK_OK);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 3, b), UK_E_BUSY);
    KT_EQ(kt_cap_type(b), UK_CAP_NULL);
    kt_destroy(a);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 3, b), UK_OK);
    kt_destroy(b);
}
