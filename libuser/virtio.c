/* Virtio legacy PCI transport and one split virtqueue (user/virtio.h). */
#include <user/rt.h>
#include <user/virtio.h>

static uk_word_t reg_in(struct virtio_dev *v, unsigned off, unsigned width)
{
    uk_word_t x = 0;
    uk_in(v->io, v->base + off, width, &x);
    return x;
}

static long reg_out(struct virtio_dev *v, unsigned off, unsigned width, uk_word_t x)
{
    return uk_out(v->io, v->base + off, width, x);
}

uk_word_t virt_to_phys(const void *p)
{
    uk_word_t phys = 0, rights = 0;
    if (uk_mem_info((uk_word_t)p, &phys, &rights) != UK_OK)
        return ~0ul;
    return phys;
}

static uk_word_t align_up(uk_word_t x, uk_word_t a) { return (x + a - 1) & ~(a - 1); }

uk_word_t virtq_bytes(unsigned qsize)
{
    uk_word_t avail_end = 16ul * qsize + 6 + 2ul * qsize;
    return align_up(avail_end, VIRTQ_ALIGN) + 6 + 8ul * qsize;
}

long virtio_legacy_begin(struct virtio_dev *v, uk_word_t io, uk_word_t base, unsigned wanted,
                         unsigned *got)
{
    memset(v, 0, sizeof *v);
    v->io = io;
    v->base = base;
    long err = reg_out(v, VIRTIO_PCI_STATUS, 1, 0);
    if (err)
        return err;
    reg_out(v, VIRTIO_PCI_STATUS, 1, VIRTIO_STATUS_ACK);
    reg_out(v, VIRTIO_PCI_STATUS, 1, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
    unsigned f = (unsigned)reg_in(v, VIRTIO_PCI_HOST_FEATURES, 4) & wanted;
    reg_out(v, VIRTIO_PCI_GUEST_FEATURES, 4, f);
    *got = f;
    return UK_OK;
}

long virtio_legacy_queue(struct virtio_dev *v, unsigned index, void *mem, uk_word_t bytes,
                         unsigned min_size)
{
    if (index >= VIRTIO_MAX_QUEUES)
        return UK_E_INVAL;
    reg_out(v, VIRTIO_PCI_QUEUE_SEL, 2, index);
    unsigned qsize = (unsigned)reg_in(v, VIRTIO_PCI_QUEUE_NUM, 2);
    uk_word_t need = virtq_bytes(qsize);
    if (qsize < min_size || qsize == 0 || (uk_word_t)mem % UK_PAGE_SIZE || need > bytes)
        goto fail;
    uk_word_t phys = virt_to_phys(mem);
    for (uk_word_t off = 0; off < need; off += UK_PAGE_SIZE)
        if (phys == ~0ul || virt_to_phys((char *)mem + off) != phys + off)
            goto fail;
    memset(mem, 0, need);
    struct virtq *q = &v->q[index];
    q->size = qsize;
    q->desc = mem;
    q->avail = (struct virtq_avail *)((char *)mem + 16ul * qsize);
    q->used = (struct virtq_used *)((char *)mem + align_up(16ul * qsize + 6 + 2ul * qsize,
                                                           VIRTQ_ALIGN));
    q->last_used = 0;
    reg_out(v, VIRTIO_PCI_QUEUE_PFN, 4, phys >> 12);
    return UK_OK;
fail:
    reg_out(v, VIRTIO_PCI_STATUS, 1, VIRTIO_STATUS_FAILED);
    return UK_E_INVAL;
}

long virtio_legacy_driver_ok(struct virtio_dev *v)
{
    return reg_out(v, VIRTIO_PCI_STATUS, 1,
                   VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
}

long virtio_legacy_queue0(struct virtio_dev *v, void *mem, uk_word_t bytes)
{
    long err = virtio_legacy_queue(v, 0, mem, bytes, VIRTQ_MAX_CHAIN);
    return err ? err : virtio_legacy_driver_ok(v);
}

void virtio_legacy_reset(uk_word_t io, uk_word_t base)
{
    uk_out(io, base + VIRTIO_PCI_STATUS, 1, 0);
}

uk_word_t virtio_config_read(struct virtio_dev *v, unsigned off, unsigned width)
{
    if (width == 8)
        return reg_in(v, VIRTIO_PCI_CONFIG + off, 4) |
               reg_in(v, VIRTIO_PCI_CONFIG + off + 4, 4) << 32;
    return reg_in(v, VIRTIO_PCI_CONFIG + off, width);
}

long virtq_add(struct virtio_dev *v, unsigned qi, unsigned head, const struct virtq_buf *bufs,
               unsigned n)
{
    struct virtq *q = qi < VIRTIO_MAX_QUEUES ? &v->q[qi] : 0;
    if (!q || !q->size || n == 0 || n > VIRTQ_MAX_CHAIN || head >= q->size ||
        n > q->size - head)
        return UK_E_INVAL;
    for (unsigned i = 0; i < n; i++) {
        struct virtq_desc *d = &q->desc[head + i];
        d->addr = bufs[i].phys;
        d->len = bufs[i].len;
        d->flags = (unsigned short)((i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
                                    (bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0));
        d->next = (unsigned short)(i + 1 < n ? head + i + 1 : 0);
    }
    unsigned short idx = q->avail->idx;
    q->avail->ring[idx % q->size] = (unsigned short)head;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* descriptors and ring entry before the index */
    q->avail->idx = (unsigned short)(idx + 1);
    return UK_OK;
}

long virtq_notify(struct virtio_dev *v, unsigned q)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* index before the notify */
    return reg_out(v, VIRTIO_PCI_QUEUE_NOTIFY, 2, q);
}

int virtq_get_used(struct virtio_dev *v, unsigned qi, unsigned *head, unsigned *len)
{
    struct virtq *q = &v->q[qi];
    if (!q->size || q->used->idx == q->last_used)
        return 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* the index before the entry */
    volatile struct virtq_used_elem *e = &q->used->ring[q->last_used % q->size];
    *head = e->id;
    *len = e->len;
    q->last_used++;
    return 1;
}

long virtq_submit(struct virtio_dev *v, const struct virtq_buf *bufs, unsigned n)
{
    long err = virtq_add(v, 0, 0, bufs, n);
    return err ? err : virtq_notify(v, 0);
}

int virtq_take_used(struct virtio_dev *v, unsigned *len)
{
    unsigned head;
    return virtq_get_used(v, 0, &head, len);
}

unsigned virtio_isr(struct virtio_dev *v)
{
    return (unsigned)reg_in(v, VIRTIO_PCI_ISR, 1);
}
