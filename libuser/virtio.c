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

long virtio_legacy_queue0(struct virtio_dev *v, void *mem, uk_word_t bytes)
{
    reg_out(v, VIRTIO_PCI_QUEUE_SEL, 2, 0);
    unsigned qsize = (unsigned)reg_in(v, VIRTIO_PCI_QUEUE_NUM, 2);
    uk_word_t need = virtq_bytes(qsize);
    if (qsize < VIRTQ_MAX_CHAIN || (uk_word_t)mem % UK_PAGE_SIZE || need > bytes)
        goto fail;
    uk_word_t phys = virt_to_phys(mem);
    for (uk_word_t off = 0; off < need; off += UK_PAGE_SIZE)
        if (phys == ~0ul || virt_to_phys((char *)mem + off) != phys + off)
            goto fail;
    memset(mem, 0, need);
    v->qsize = qsize;
    v->desc = mem;
    v->avail = (struct virtq_avail *)((char *)mem + 16ul * qsize);
    v->used = (struct virtq_used *)((char *)mem + align_up(16ul * qsize + 6 + 2ul * qsize,
                                                           VIRTQ_ALIGN));
    v->last_used = 0;
    reg_out(v, VIRTIO_PCI_QUEUE_PFN, 4, phys >> 12);
    reg_out(v, VIRTIO_PCI_STATUS, 1,
            VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
    return UK_OK;
fail:
    reg_out(v, VIRTIO_PCI_STATUS, 1, VIRTIO_STATUS_FAILED);
    return UK_E_INVAL;
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

long virtq_submit(struct virtio_dev *v, const struct virtq_buf *bufs, unsigned n)
{
    return virtq_submit_at(v, 0, bufs, n);
}

long virtq_submit_at(struct virtio_dev *v, unsigned first, const struct virtq_buf *bufs,
                     unsigned n)
{
    if (n == 0 || n > VIRTQ_MAX_CHAIN || !v->qsize || first > v->qsize - n)
        return UK_E_INVAL;
    for (unsigned i = 0; i < n; i++) {
        struct virtq_desc *d = &v->desc[first + i];
        d->addr = bufs[i].phys;
        d->len = bufs[i].len;
        d->flags = (unsigned short)((i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
                                    (bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0));
        d->next = (unsigned short)(i + 1 < n ? first + i + 1 : 0);
    }
    unsigned short idx = v->avail->idx;
    v->avail->ring[idx % v->qsize] = (unsigned short)first;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* ring entry before the index */
    v->avail->idx = (unsigned short)(idx + 1);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* index before the notify */
    return reg_out(v, VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
}

int virtq_take_used(struct virtio_dev *v, unsigned *len)
{
    unsigned id;
    return virtq_take_used_id(v, &id, len);
}

int virtq_take_used_id(struct virtio_dev *v, unsigned *id, unsigned *len)
{
    if (v->used->idx == v->last_used)
        return 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    *id = v->used->ring[v->last_used % v->qsize].id;
    *len = v->used->ring[v->last_used % v->qsize].len;
    v->last_used++;
    return 1;
}

unsigned virtio_isr(struct virtio_dev *v)
{
    return (unsigned)reg_in(v, VIRTIO_PCI_ISR, 1);
}
