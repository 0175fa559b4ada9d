/*
 * The virtio back-end core (virtio.h; uk/abi.h UK_VDEV_VIRTIO_*;
 * docs/storage.md "The Linux side").  The guest's driver puts split
 * virtqueues in its RAM and tells us where; we read them in our own mapping
 * of that RAM.  The guest is not trusted: the ring addresses are checked
 * when set, each descriptor when it is used, and every value that comes
 * from guest memory is read once (volatile) into our own variables before
 * it is checked and used, so the guest cannot change it in between.  A
 * chain is bounded by the queue's size and a descriptor seen twice ends it
 * (a loop); the back-end answers a bad chain with an error status, and the
 * chain still goes to the used ring, so the driver is never left waiting.
 * A NOTIFY only marks its queue: main.c replies, then virtio_serve() runs
 * the back-ends, so the guest's vCPU runs while they wait for their servers.
 */
#include "virtio.h"

struct vio_queue {                     /* main thread only */
    unsigned int num;                  /* entries; 0: off */
    uk_word_t bus_to_guest;            /* guest address of bus address 0 */
    volatile struct uk_vring_desc *desc;     /* our addresses of its rings */
    volatile struct uk_vring_avail *avail;
    volatile struct uk_vring_used *used;
    unsigned short next_avail;         /* the avail entry we take next */
    unsigned short next_used;          /* the used entry we write next */
    unsigned int taken;                /* chains taken since the last vio_interrupt: a
                                          pass takes at most num (the guest may lay the
                                          used ring over the avail index, so that each
                                          chain we finish makes another available) */
    int done_since_interrupt;
};

struct vio_dev {
    const struct vio_backend *be;      /* set once by vio_add */
    void *priv;
    uk_word_t driver_features;         /* 0 after a reset */
    unsigned kicked;                   /* bit q: queue q notified, not yet served */
    struct vio_queue q[UK_VIRTIO_MAX_QUEUES];
};

static struct vio_dev devs[UK_VIRTIO_MAX_DEVS];
static unsigned ndevs;

int vio_add(const struct vio_backend *be, void *priv)
{
    if (ndevs == UK_VIRTIO_MAX_DEVS || be->queues < 1 || be->queues > UK_VIRTIO_MAX_QUEUES)
        return -1;
    devs[ndevs].be = be;
    devs[ndevs].priv = priv;
    return (int)ndevs++;
}

void *vio_priv(struct vio_dev *d) { return d->priv; }
struct vio_dev *vio_dev(int n) { return n >= 0 && (unsigned)n < ndevs ? &devs[n] : 0; }
uk_word_t vio_driver_features(struct vio_dev *d) { return d->driver_features; }

/* Our address of guest bytes [bus, bus + bytes) named by bus address, or
 * NULL (guest_bytes: guest.c, vdev.c's check). */
static void *bus_bytes(const struct vio_queue *q, uk_word_t bus, uk_word_t bytes)
{
    uk_word_t g = bus + q->bus_to_guest;
    if (g < bus)                                   /* wrapped */
        return 0;
    return guest_bytes(g, bytes);
}

static void queue_off(struct vio_dev *d, unsigned qi)
{
    d->q[qi] = (struct vio_queue){ 0 };
    uk_cap_delete(UK_SLOT_SELF_TASK, SLOT_VIRTIO_EV0 + (unsigned)(d - devs) * UK_VIRTIO_MAX_QUEUES + qi);
}

static void dev_reset(struct vio_dev *d)
{
    for (unsigned qi = 0; qi < UK_VIRTIO_MAX_QUEUES; qi++)
        queue_off(d, qi);
    d->driver_features = 0;
    d->kicked = 0;
    if (d->be->reset)
        d->be->reset(d);
}

void virtio_boot(struct uk_guest_info *gi)
{
    gi->virtio_count = ndevs;
    for (unsigned i = 0; i < ndevs; i++) {
        dev_reset(&devs[i]);
        gi->virtio[i].type = devs[i].be->type;
        gi->virtio[i].queues = devs[i].be->queues;
    }
}

int vio_next(struct vio_dev *d, unsigned qi, struct vio_chain *c)
{
    struct vio_queue *q = &d->q[qi];
    if (!q->num || q->taken >= q->num)
        return 0;
    unsigned short idx = q->avail->idx;            /* read once */
    if (idx == q->next_avail)
        return 0;
    /* A driver never has more chains outstanding than the queue holds
     * (virtio 1.x 2.7.13); an index run further ahead is a broken driver,
     * and walking up to 65,535 chains for it would only waste our time: the
     * queue goes off until the driver sets it again (or resets). */
    if ((unsigned short)(idx - q->next_avail) > q->num) {
        vmm_say("virtio: device %u queue %u: avail index %u is %u ahead of %u entries: queue off",
                (unsigned)(d - devs), qi, idx, (unsigned short)(idx - q->next_avail), q->num);
        queue_off(d, qi);
        return 0;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);       /* the entry after the index */
    unsigned int head = q->avail->ring[q->next_avail % q->num];
    q->next_avail++;
    q->taken++;

    unsigned char seen[UK_VIRTIO_QUEUE_MAX / 8] = { 0 };
    c->head = head;
    c->nseg = 0;
    c->bad = VIO_BAD_NONE;
    for (unsigned int i = head;;) {
        if (i >= q->num) {
            c->bad = VIO_BAD_INDEX;
            break;
        }
        if (seen[i / 8] & (1u << (i % 8))) {
            c->bad = VIO_BAD_LOOP;
            break;
        }
        seen[i / 8] |= 1u << (i % 8);
        uk_word_t addr = q->desc[i].addr;          /* each field read once */
        unsigned int len = q->desc[i].len;
        unsigned int flags = q->desc[i].flags, next = q->desc[i].next;
        struct vio_seg *s = &c->seg[c->nseg++];    /* nseg <= num: seen[] */
        s->len = len;
        s->writable = !!(flags & UK_VRING_DESC_F_WRITE);
        s->p = bus_bytes(q, addr, len);
        if (flags & UK_VRING_DESC_F_INDIRECT) {
            s->p = 0;
            c->bad = VIO_BAD_INDIRECT;
        } else if (!s->p && !c->bad) {
            c->bad = VIO_BAD_ADDR;
        }
        if (!(flags & UK_VRING_DESC_F_NEXT))
            break;
        i = next;
    }
    return 1;
}

void vio_done(struct vio_dev *d, unsigned qi, unsigned int head, unsigned int written)
{
    struct vio_queue *q = &d->q[qi];
    if (!q->num)                                   /* reset meanwhile: forget it */
        return;
    volatile struct uk_vring_used_elem *e = &q->used->ring[q->next_used % q->num];
    e->id = head;
    e->len = written;
    __atomic_thread_fence(__ATOMIC_RELEASE);       /* the entry before the index */
    q->used->idx = ++q->next_used;
    q->done_since_interrupt = 1;
}

void vio_interrupt(struct vio_dev *d, unsigned qi)
{
    struct vio_queue *q = &d->q[qi];
    q->taken = 0;                                  /* the pass ends here */
    if (!q->num || !q->done_since_interrupt)
        return;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);       /* used idx before the flags */
    if (q->avail->flags & UK_VRING_AVAIL_F_NO_INTERRUPT)
        return;
    q->done_since_interrupt = 0;
    uk_signal(SLOT_VIRTIO_EV0 + (unsigned)(d - devs) * UK_VIRTIO_MAX_QUEUES + qi);
}

/* UK_VDEV_VIRTIO_QUEUE: checked, then the queue is (re)started at index 0. */
static long queue_set(struct vio_dev *d, uk_word_t len, const struct uk_msg *m)
{
    if (len < 7)
        return UK_VDEV_EINVAL;
    uk_word_t qi = m->w[1], num = m->w[2];
    if (qi >= d->be->queues)
        return UK_VDEV_EINVAL;
    queue_off(d, qi);
    if (num == 0)
        return 0;
    if (num > UK_VIRTIO_QUEUE_MAX || (num & (num - 1)))
        return UK_VDEV_EINVAL;
    struct vio_queue q = { .num = (unsigned int)num,
                           .bus_to_guest = uk_msg_word(m, uk_ipc_buf, 6) };
    uk_word_t desc = m->w[3], avail = uk_msg_word(m, uk_ipc_buf, 4),
              used = uk_msg_word(m, uk_ipc_buf, 5);
    /* natural alignment (virtio 1.x 2.7), so that no field straddles */
    if (desc % 16 || avail % 2 || used % 4)
        return UK_VDEV_EINVAL;
    q.desc = bus_bytes(&q, desc, num * sizeof(struct uk_vring_desc));
    q.avail = bus_bytes(&q, avail, sizeof(struct uk_vring_avail) + num * 2 + 2);
    q.used = bus_bytes(&q, used, sizeof(struct uk_vring_used) +
                                 num * sizeof(struct uk_vring_used_elem) + 2);
    if (!q.desc || !q.avail || !q.used)
        return UK_VDEV_EFAULT;
    unsigned dev = (unsigned)(d - devs);
    long err = uk_cap_copy(SLOT_EVENTS, UK_SLOT_SELF_TASK,
                           SLOT_VIRTIO_EV0 + dev * UK_VIRTIO_MAX_QUEUES + (unsigned)qi,
                           UK_R_WRITE, UK_VDEV_EVENT_VIRTIO(dev, qi));
    if (err) {
        vmm_say("virtio: cannot make the event of device %u queue %lu (error %ld)", dev, qi, err);
        return UK_VDEV_EIO;
    }
    /* the driver starts both indices at 0; what the rings hold now is its own */
    q.next_avail = q.avail->idx;
    q.next_used = q.used->idx;
    d->q[qi] = q;
    return 0;
}

long virtio_request(uk_word_t op, uk_word_t len, const struct uk_msg *m, uk_word_t out[4])
{
    if (len < 1 || m->w[0] >= ndevs)
        return UK_VDEV_ENODEV;
    struct vio_dev *d = &devs[m->w[0]];
    switch (op) {
    case UK_VDEV_VIRTIO_FEATURES:
        out[1] = d->be->features(d);
        return 0;
    case UK_VDEV_VIRTIO_SET_FEATURES:
        if (len < 2 || (m->w[1] & ~d->be->features(d)))
            return UK_VDEV_EINVAL;
        d->driver_features = m->w[1];
        return 0;
    case UK_VDEV_VIRTIO_CONFIG: {
        uk_word_t n = len >= 3 ? m->w[2] : 0;
        if (n != 1 && n != 2 && n != 4 && n != 8)
            return UK_VDEV_EINVAL;
        uk_word_t v = 0;
        if (d->be->config(d, m->w[1], n, &v))
            return UK_VDEV_ERANGE;
        out[1] = v;
        return 0;
    }
    case UK_VDEV_VIRTIO_QUEUE:
        return queue_set(d, len, m);
    case UK_VDEV_VIRTIO_NOTIFY:           /* served after the reply: virtio_serve */
        if (len < 2 || m->w[1] >= d->be->queues)
            return UK_VDEV_EINVAL;
        if (d->q[m->w[1]].num)
            d->kicked |= 1u << m->w[1];
        return 0;
    case UK_VDEV_VIRTIO_RESET:
        dev_reset(d);
        return 0;
    default:
        return UK_VDEV_EINVAL;
    }
}

/* Notified queues are served after the reply to the NOTIFY (main.c), so
 * the guest's vCPU runs while we wait for the block server; a NOTIFY that
 * comes meanwhile waits on our endpoint, and its queue is served then. */
int virtio_kicked(void)
{
    for (unsigned i = 0; i < ndevs; i++)
        if (devs[i].kicked)
            return 1;
    return 0;
}

void virtio_serve(void)
{
    for (unsigned i = 0; i < ndevs; i++)
        while (devs[i].kicked) {
            unsigned q = (unsigned)__builtin_ctz(devs[i].kicked);
            devs[i].kicked &= ~(1u << q);
            devs[i].be->notify(&devs[i], q);
        }
}
