/*
 * Virtio over PCI, the legacy interface (virtio 0.9.5 / the "legacy"
 * chapter of virtio 1.x): the registers in I/O BAR0, reached through an
 * I/O-port cap, and split virtqueues in memory the caller provides
 * (physically contiguous; physical addresses learnt with UK_SYS_MEM_INFO).
 * The caller owns the descriptor table: a chain is put at a descriptor
 * index of its choosing (virtq_add) and comes back from the used ring by
 * that index (virtq_get_used), so a driver may keep many chains in flight
 * (the network server: one descriptor per frame buffer).  The block
 * server's one request at a time is the short form: virtio_legacy_queue0,
 * virtq_submit (a chain from descriptor 0) and virtq_take_used.
 * docs/storage.md, docs/network.md.
 */
#ifndef UK_USER_VIRTIO_H
#define UK_USER_VIRTIO_H

#include <uk/abi.h>

/* Legacy registers, offsets from BAR0 */
#define VIRTIO_PCI_HOST_FEATURES  0x00u  /* 32 */
#define VIRTIO_PCI_GUEST_FEATURES 0x04u  /* 32 */
#define VIRTIO_PCI_QUEUE_PFN      0x08u  /* 32: physical address >> 12 */
#define VIRTIO_PCI_QUEUE_NUM      0x0cu  /* 16: queue size (read only) */
#define VIRTIO_PCI_QUEUE_SEL      0x0eu  /* 16 */
#define VIRTIO_PCI_QUEUE_NOTIFY   0x10u  /* 16 */
#define VIRTIO_PCI_STATUS         0x12u  /* 8: 0 resets the device */
#define VIRTIO_PCI_ISR            0x13u  /* 8: reading clears it and lowers INTx */
#define VIRTIO_PCI_CONFIG         0x14u  /* device config (MSI-X not enabled) */
#define VIRTIO_PCI_LEGACY_BAR_MIN 0x20u  /* fewer ports than this: not usable */

#define VIRTIO_STATUS_ACK         0x01u
#define VIRTIO_STATUS_DRIVER      0x02u
#define VIRTIO_STATUS_DRIVER_OK   0x04u
#define VIRTIO_STATUS_FAILED      0x80u

#define VIRTIO_ISR_QUEUE          0x01u
#define VIRTIO_ISR_CONFIG         0x02u

#define VIRTQ_DESC_F_NEXT   1u
#define VIRTQ_DESC_F_WRITE  2u   /* the device writes this buffer */
#define VIRTQ_ALIGN         4096u
#define VIRTQ_MAX_CHAIN     24u  /* descriptors one request may use */

struct virtq_desc  { uk_word_t addr; unsigned len; unsigned short flags, next; };
struct virtq_avail { unsigned short flags, idx, ring[]; };
struct virtq_used_elem { unsigned id, len; };
struct virtq_used  { unsigned short flags, idx; struct virtq_used_elem ring[]; };

/* One buffer of a request: physical address, length, device writes it. */
struct virtq_buf { uk_word_t phys; unsigned len; int device_writes; };

#define VIRTIO_MAX_QUEUES   2u   /* virtio-net: receive (0), transmit (1) */

struct virtq {
    unsigned size;           /* entries, as the device says (0: not set up) */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    volatile struct virtq_used *used;
    unsigned short last_used;
};

struct virtio_dev {
    uk_word_t io;            /* I/O-port cap covering BAR0 */
    uk_word_t base;          /* BAR0's first port */
    struct virtq q[VIRTIO_MAX_QUEUES];
};

/* The bytes a legacy queue of qsize entries needs (its memory must be
 * 4 KiB-aligned and physically contiguous). */
uk_word_t virtq_bytes(unsigned qsize);
/* Reset, ACKNOWLEDGE, DRIVER, then features: the device's AND `wanted`
 * (written back, returned in *got).  0 or a UK_E_* error (port access). */
long virtio_legacy_begin(struct virtio_dev *v, uk_word_t io, uk_word_t base, unsigned wanted,
                         unsigned *got);
/* Queue `index` in mem (bytes long): size read from the device; UK_E_INVAL
 * (and status FAILED) if it has fewer than min_size entries, does not fit,
 * or mem is not physically contiguous. */
long virtio_legacy_queue(struct virtio_dev *v, unsigned index, void *mem, uk_word_t bytes,
                         unsigned min_size);
/* Every queue set up: DRIVER_OK, the device may start. */
long virtio_legacy_driver_ok(struct virtio_dev *v);
/* Queue 0 (at least VIRTQ_MAX_CHAIN entries), then DRIVER_OK. */
long virtio_legacy_queue0(struct virtio_dev *v, void *mem, uk_word_t bytes);
/* Device status 0: the device stops all DMA and forgets the queue. */
void virtio_legacy_reset(uk_word_t io, uk_word_t base);
uk_word_t virtio_config_read(struct virtio_dev *v, unsigned off, unsigned width);
/* The chain bufs[0..n-1] in descriptors head..head+n-1 of queue q, made
 * available (not notified).  UK_E_INVAL if it does not fit the table. */
long virtq_add(struct virtio_dev *v, unsigned q, unsigned head, const struct virtq_buf *bufs,
               unsigned n);
/* Tells the device queue q has new available chains. */
long virtq_notify(struct virtio_dev *v, unsigned q);
/* 1, the chain's head descriptor and the length the device wrote, for the
 * next chain the device has returned on queue q; 0 if none. */
int virtq_get_used(struct virtio_dev *v, unsigned q, unsigned *head, unsigned *len);
/* Queue 0: the chain bufs[0..n-1] from descriptor 0, made available and notified. */
long virtq_submit(struct virtio_dev *v, const struct virtq_buf *bufs, unsigned n);
/* Queue 0: 1 and the used entry's written length if the device has
 * returned the chain; 0 if not yet. */
int virtq_take_used(struct virtio_dev *v, unsigned *len);
/* Reads (and so clears) the ISR: the device's INTx goes low. */
unsigned virtio_isr(struct virtio_dev *v);
/* Physical address of one of our bytes (UK_SYS_MEM_INFO); ~0 if unmapped. */
uk_word_t virt_to_phys(const void *p);

#endif
