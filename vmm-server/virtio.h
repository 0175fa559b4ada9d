/*
 * The virtio back-end core (virtio.c) and what a device back-end gives it
 * (block.c's disk; a network back-end next).  The core owns the transport:
 * the device list in the guest's info page, features, config reads, the
 * split virtqueues in guest RAM (every descriptor checked before use), the
 * used ring and the per-queue interrupt event.  A back-end only turns
 * checked chains into work.  All of it runs on the main thread.
 */
#ifndef VMM_VIRTIO_H
#define VMM_VIRTIO_H

#include "vmm.h"

/* One descriptor of a chain, checked: p is our address of its bytes, or
 * NULL when they are not all in guest RAM (then the chain is bad). */
struct vio_seg {
    unsigned char *p;
    unsigned int len;
    int writable;                       /* UK_VRING_DESC_F_WRITE: device-writable */
};

/* Why a chain is bad (vio_chain.bad); 0: every descriptor checked out. */
enum vio_bad {
    VIO_BAD_NONE = 0,
    VIO_BAD_ADDR,          /* a descriptor's bytes not in guest RAM (or wrapping) */
    VIO_BAD_INDEX,         /* a head or next index >= the queue's size */
    VIO_BAD_LOOP,          /* a descriptor seen twice: the walk stopped there */
    VIO_BAD_INDIRECT,      /* VRING_DESC_F_INDIRECT: never offered */
};

struct vio_chain {
    unsigned int head;                  /* what goes back in the used ring */
    unsigned int nseg;                  /* segments walked (<= the queue size) */
    enum vio_bad bad;
    struct vio_seg seg[UK_VIRTIO_QUEUE_MAX];
};

struct vio_dev;
struct vio_backend {
    const char *name;                   /* for messages: "disk" */
    uk_word_t type;                     /* UK_VIRTIO_ID_* */
    uk_word_t queues;                   /* 1..UK_VIRTIO_MAX_QUEUES */
    uk_word_t (*features)(struct vio_dev *d);   /* what the device offers */
    /* bytes [off, off + len) of its config space (len 1..8), or -1: outside */
    long (*config)(struct vio_dev *d, uk_word_t off, uk_word_t len, uk_word_t *val);
    /* the driver notified queue q: take its chains (vio_next), finish them
     * (vio_done) now or later, then vio_interrupt */
    void (*notify)(struct vio_dev *d, unsigned q);
    void (*reset)(struct vio_dev *d);   /* forget anything held (may be NULL) */
};

/* A device the next boot's guest gets; its number, or -1 (table full). */
int vio_add(const struct vio_backend *be, void *priv);
void *vio_priv(struct vio_dev *d);
struct vio_dev *vio_dev(int n);                     /* device n of vio_add, or NULL */
uk_word_t vio_driver_features(struct vio_dev *d);   /* what the driver took */

/* The next chain the driver made available on queue q: 1 and *c filled
 * (maybe bad: the back-end answers it with an error), 0 if there is none,
 * or if this pass has taken as many as the queue holds (a pass ends at
 * vio_interrupt; what is left waits for the next notify). */
int vio_next(struct vio_dev *d, unsigned q, struct vio_chain *c);
/* The device is done with chain `head`, having written `written` bytes. */
void vio_done(struct vio_dev *d, unsigned q, unsigned int head, unsigned int written);
/* Raise queue q's event if chains were done since the last one (and the
 * driver did not turn interrupts off); ends a pass over the queue. */
void vio_interrupt(struct vio_dev *d, unsigned q);

/* For vmm.h's callers: the guest's UK_VDEV_VIRTIO_* requests (status; reply
 * words 1-3 in out[1..3]), and a new boot (queues off, info page filled). */
long virtio_request(uk_word_t op, uk_word_t len, const struct uk_msg *m, uk_word_t out[4]);
void virtio_boot(struct uk_guest_info *gi);
int virtio_kicked(void);      /* queues were notified: serve them after the reply */
void virtio_serve(void);

#endif
