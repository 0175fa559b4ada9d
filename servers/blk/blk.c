/*
 * The block server (docs/storage.md): drives the virtio-blk devices the
 * root task handed it ("disks") from user level, through each device's
 * legacy I/O BAR (an I/O-port cap), its virtqueue in the DMA pages the root
 * mapped at UK_BLK_DMA_VADDR (physical addresses from UK_SYS_MEM_INFO), and
 * its interrupt (its own holder of the PCI line, which the disks share:
 * every holder is signalled on each interrupt, the ISR read tells and
 * quiets the device).  Clients reach it by IPC (uk/blk.h), each bound by
 * the root to one disk and one memory window.
 *
 * One thread, one call at a time: a request is checked, put on its disk's
 * queue, and answered when the device has returned it; meanwhile other
 * callers wait on the endpoint.  A batch (UK_BLK_OP_BATCH) puts up to
 * UK_BLK_BATCH_MAX checked requests on the queue together, each in its own
 * slot (descriptors, header, status byte), so the device has several in
 * flight, and is answered when all are back.  The interrupt notification is bound
 * to the thread, so interrupts that come while it waits on the endpoint
 * (another disk's, or a stale one) are acknowledged there and never leave
 * the shared line masked.  A device that does not answer within
 * WAITS_MAX * WAIT_US (5 s) is reset (which ends its DMA) and out of service.
 */
#include <user/rt.h>
#include <user/virtio.h>
#include <uk/blk.h>
#include "check.h"

#define EP    UK_BLK_SLOT_EP
#define NOTIF UK_BLK_SLOT_NOTIF
#define DISK_SLOT(d, what) (UK_BLK_SLOT_DISK0 + 4u * (d) + (what))

/* virtio-blk (legacy) */
#define VIRTIO_BLK_F_RO     5u
#define VIRTIO_BLK_F_FLUSH  9u          /* "WCE" in legacy: it has a write cache */
#define VIRTIO_BLK_T_IN     0u
#define VIRTIO_BLK_T_OUT    1u
#define VIRTIO_BLK_T_FLUSH  4u
#define VIRTIO_BLK_S_OK     0u
#define VIRTIO_BLK_CAPACITY 0u          /* config: u64, 512-byte sectors */

#define WAIT_US       100000ul     /* one wait for the device */
#define WAITS_MAX     50u          /* without an answer: the device is dead (5 s) */
/* Slot j of a disk (j < UK_BLK_BATCH_MAX): descriptors from SLOT_DESC(j)
 * of queue 0, its header and status byte in the disk's last DMA page. */
#define SLOT_DESC(j)   ((j) * VIRTQ_MAX_CHAIN)
#define HDR_OFF(j)     ((j) * 32u)
#define STATUS_OFF(j)  (512u + (j))

struct disk {
    int live;
    struct virtio_dev v;
    uk_word_t sectors;
    unsigned flags;                     /* UK_BLK_F_* */
    unsigned char *req;                 /* its last DMA page: request header, status */
    uk_word_t req_phys;
    uk_word_t requests, errors;
};

struct client {
    int live;
    unsigned disk;
    uk_word_t window_bytes;
    uk_word_t ram_phys, ram_bytes;      /* UK_BLK_CTL_SET_RAM (0 bytes: none) */
};

static const struct uk_blk_info *info = (const void *)UK_BLK_INFO_VADDR;
static struct disk disks[UK_BLK_MAX_DISKS];
static struct client clients[UK_BLK_MAX_CLIENTS + 1];   /* [n], n = badge */
static uk_word_t ndisks;

/* Quiets and acknowledges every disk whose bit is set. */
static void service_interrupts(uk_word_t bits)
{
    for (unsigned d = 0; d < ndisks; d++)
        if (bits & (1ul << d)) {
            if (disks[d].live)
                virtio_isr(&disks[d].v);
            uk_irq_ack(DISK_SLOT(d, UK_BLK_DISK_IRQ));
        }
}

static void disk_fail(unsigned d, const char *why)
{
    printf("blk-server: disk %u: %s: reset, out of service\n", d, why);
    virtio_legacy_reset(disks[d].v.io, disks[d].v.base);   /* no more DMA from it */
    disks[d].live = 0;
}

/* One request prepared in a slot: its chain. */
struct prepared {
    struct virtq_buf bufs[VIRTQ_MAX_CHAIN];
    unsigned n;
};

/* Runs the chains of slots 0..nslots-1 (those with st[j] == UK_BLK_OK;
 * the others are already answered) on disk d together, to their end; each
 * gets its UK_BLK_* status in st[j]. */
static void run(unsigned d, const struct prepared *p, unsigned nslots, long st[])
{
    struct disk *k = &disks[d];
    int done[UK_BLK_BATCH_MAX] = { 0 };
    unsigned left = 0;
    for (unsigned j = 0; j < nslots; j++) {
        if (st[j] != UK_BLK_OK)
            continue;
        k->req[STATUS_OFF(j)] = 0xff;
        if (virtq_add(&k->v, 0, SLOT_DESC(j), p[j].bufs, p[j].n) != UK_OK) {
            disk_fail(d, "its registers cannot be written");
            break;
        }
        k->requests++;
        left++;
    }
    /* one notification for the whole batch (an I/O-port write each) */
    if (left && k->live && virtq_notify(&k->v, 0) != UK_OK)
        disk_fail(d, "its registers cannot be written");
    unsigned id = 0, len = 0, waits = 0;
    while (left && k->live) {
        if (virtq_get_used(&k->v, 0, &id, &len)) {
            unsigned j = id / VIRTQ_MAX_CHAIN;
            if (id % VIRTQ_MAX_CHAIN == 0 && j < nslots && st[j] == UK_BLK_OK && !done[j]) {
                done[j] = 1;
                left--;
            }
            continue;
        }
        uk_word_t bits = 0;
        long err = uk_wait(NOTIF, uk_timeout_us(WAIT_US), &bits);
        if (err == UK_OK) {
            service_interrupts(bits);
            continue;
        }
        if (err != UK_E_TIMEOUT || ++waits == WAITS_MAX)
            disk_fail(d, "the device does not answer");
    }
    for (unsigned j = 0; j < nslots; j++) {
        if (st[j] != UK_BLK_OK)
            continue;
        if (!done[j]) {
            st[j] = UK_BLK_EIO;            /* the device failed: reset, no more DMA */
        } else if (k->req[STATUS_OFF(j)] != VIRTIO_BLK_S_OK) {
            k->errors++;
            st[j] = UK_BLK_EIO;
        }
    }
}

static void put_header(struct disk *k, unsigned j, unsigned type, uk_word_t sector)
{
    unsigned *h = (unsigned *)(k->req + HDR_OFF(j));
    h[0] = type;
    h[1] = 0;
    *(uk_word_t *)(k->req + HDR_OFF(j) + 8) = sector;
}

/* The window's physical pages, taken once when the root adds the client
 * (it maps the window first; ADD_CLIENT checks every page) and used for
 * every request after: asking the microkernel (UK_SYS_MEM_INFO) for each
 * page of each request cost 16 system calls per 64 KiB, the largest share
 * of a MiB's instructions after the copy (docs/storage.md).  The window
 * cannot change under a live client: the root removes the client
 * (REMOVE_CLIENT) before it unmaps the window (roottask/blk.c), and a page
 * past the cached ones is still asked for. */
#define PHYS_CACHED_PAGES 256u          /* 1 MiB of a window (the vmm-servers' 512 KiB) */
static uk_word_t window_page_phys[UK_BLK_MAX_CLIENTS + 1][PHYS_CACHED_PAGES];
/* Pages from this one on that are physically contiguous with it (cached
 * pages only): a request inside one run is one descriptor, without
 * blk_data_chain's walk page by page (the root's windows are one run). */
static unsigned short window_run_pages[UK_BLK_MAX_CLIENTS + 1][PHYS_CACHED_PAGES];

static uk_word_t window_phys(uk_word_t va)
{
    uk_word_t rel = va - UK_BLK_WINDOW(1), n = 1 + rel / UK_BLK_WINDOW_MAX;
    uk_word_t page = rel % UK_BLK_WINDOW_MAX / UK_PAGE_SIZE;
    if (n <= UK_BLK_MAX_CLIENTS && clients[n].live && page < PHYS_CACHED_PAGES &&
        page < clients[n].window_bytes / UK_PAGE_SIZE)
        return window_page_phys[n][page] + va % UK_PAGE_SIZE;
    return virt_to_phys((const void *)va);
}

/* READ / WRITE for client c (number n), checked (check.c: every check
 * before the device sees anything) and prepared in slot j. */
static long prepare_io(uk_word_t n, unsigned j, int write, uk_word_t sector, uk_word_t count,
                       uk_word_t off, int ram, struct prepared *p)
{
    struct client *c = &clients[n];
    struct disk *k = &disks[c->disk];
    /* an offset in the client's RAM is checked against the RAM as one in
     * its window is against the window (EFAULT past it, overflow-safely) */
    struct blk_target t = { k->live, k->sectors, k->flags, ram ? c->ram_bytes : c->window_bytes };
    long st = blk_check_io(&t, write, sector, count, off);
    if (st != UK_BLK_OK)
        return st;
    unsigned nb = 0;
    put_header(k, j, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector);
    p->bufs[nb++] = (struct virtq_buf){ k->req_phys + HDR_OFF(j), 16, 0 };
    if (ram) {                          /* physically contiguous: one descriptor */
        p->bufs[nb++] = (struct virtq_buf){ c->ram_phys + off, count * UK_BLK_SECTOR, !write };
        p->bufs[nb++] = (struct virtq_buf){ k->req_phys + STATUS_OFF(j), 1, 1 };
        p->n = nb;
        return UK_BLK_OK;
    }
    /* the data, one descriptor per physically contiguous run of the window
     * (checked above: off and the length lie inside it) */
    uk_word_t page = off / UK_PAGE_SIZE, bytes = count * UK_BLK_SECTOR;
    if (page < PHYS_CACHED_PAGES && page < c->window_bytes / UK_PAGE_SIZE &&
        off % UK_PAGE_SIZE + bytes <= (uk_word_t)window_run_pages[n][page] * UK_PAGE_SIZE)
        p->bufs[nb++] = (struct virtq_buf){ window_page_phys[n][page] + off % UK_PAGE_SIZE,
                                            (unsigned)bytes, !write };
    else if ((st = blk_data_chain(UK_BLK_WINDOW(n) + off, bytes, write, window_phys,
                                  p->bufs, &nb)) != UK_BLK_OK)
        return st;
    p->bufs[nb++] = (struct virtq_buf){ k->req_phys + STATUS_OFF(j), 1, 1 };
    p->n = nb;
    return UK_BLK_OK;
}

static struct prepared slots[UK_BLK_BATCH_MAX];

static long do_io(uk_word_t n, int write, uk_word_t sector, uk_word_t count, uk_word_t off)
{
    long st = prepare_io(n, 0, write, sector, count, off, 0, &slots[0]);
    if (st == UK_BLK_OK)
        run(clients[n].disk, slots, 1, &st);
    return st;
}

/* UK_BLK_OP_BATCH: the requests' statuses in st[0..k-1]; the batch's
 * (the words checked by check.c). */
static long do_batch(uk_word_t n, const struct uk_msg *m, uk_word_t len, long st[],
                     uk_word_t *k_out)
{
    uk_word_t k = m->w[0];
    *k_out = 0;
    if (blk_check_batch(k, len) != UK_BLK_OK)
        return UK_BLK_EINVAL;
    for (unsigned j = 0; j < k; j++) {
        struct blk_batch_req q;
        blk_batch_decode(uk_msg_word(m, uk_ipc_buf, 1 + j * UK_BLK_BATCH_WORDS),
                         uk_msg_word(m, uk_ipc_buf, 2 + j * UK_BLK_BATCH_WORDS),
                         uk_msg_word(m, uk_ipc_buf, 3 + j * UK_BLK_BATCH_WORDS), &q);
        st[j] = q.op_ok ? prepare_io(n, j, q.write, q.sector, q.count, q.off, q.ram, &slots[j])
                        : UK_BLK_EINVAL;
    }
    run(clients[n].disk, slots, (unsigned)k, st);
    *k_out = k;
    return UK_BLK_OK;
}

static long do_flush(uk_word_t n)
{
    struct disk *k = &disks[clients[n].disk];
    if (!k->live)
        return UK_BLK_EIO;
    if (!(k->flags & UK_BLK_F_FLUSH))
        return UK_BLK_OK;                  /* no write cache: writes are stable */
    put_header(k, 0, VIRTIO_BLK_T_FLUSH, 0);
    slots[0] = (struct prepared){ .n = 2, .bufs = {
        { k->req_phys + HDR_OFF(0), 16, 0 }, { k->req_phys + STATUS_OFF(0), 1, 1 } } };
    long st = UK_BLK_OK;
    run(clients[n].disk, slots, 1, &st);
    return st;
}

/* The root's requests (badge 0). */
static long control(uk_word_t op, const struct uk_msg *m, struct uk_msg *r)
{
    uk_word_t n = m->w[0];
    switch (op) {
    case UK_BLK_CTL_ADD_CLIENT: {
        uk_word_t d = m->w[1], bytes = m->w[2];
        if (n < 1 || n > UK_BLK_MAX_CLIENTS || clients[n].live || d >= ndisks ||
            !disks[d].live || bytes == 0 || bytes % UK_PAGE_SIZE || bytes > UK_BLK_WINDOW_MAX)
            return UK_BLK_EINVAL;
        for (uk_word_t off = 0; off < bytes; off += UK_PAGE_SIZE) {
            uk_word_t phys = virt_to_phys((const void *)(UK_BLK_WINDOW(n) + off));
            if (phys == ~0ul)
                return UK_BLK_EFAULT;      /* the root must map the window first */
            if (off / UK_PAGE_SIZE < PHYS_CACHED_PAGES)
                window_page_phys[n][off / UK_PAGE_SIZE] = phys;
        }
        uk_word_t cached = bytes / UK_PAGE_SIZE < PHYS_CACHED_PAGES ? bytes / UK_PAGE_SIZE
                                                                   : PHYS_CACHED_PAGES;
        for (uk_word_t p = cached; p-- > 0;)
            window_run_pages[n][p] = (unsigned short)(
                p + 1 < cached && window_page_phys[n][p + 1] == window_page_phys[n][p] + UK_PAGE_SIZE
                ? window_run_pages[n][p + 1] + 1 : 1);
        clients[n] = (struct client){ 1, (unsigned)d, bytes, 0, 0 };
        return UK_BLK_OK;
    }
    case UK_BLK_CTL_SET_RAM: {
        uk_word_t phys = m->w[1], bytes = m->w[2];
        if (n < 1 || n > UK_BLK_MAX_CLIENTS || !clients[n].live || phys % UK_PAGE_SIZE ||
            bytes % UK_PAGE_SIZE || phys > ~0ul - bytes)
            return UK_BLK_EINVAL;
        clients[n].ram_phys = bytes ? phys : 0;
        clients[n].ram_bytes = bytes;
        return UK_BLK_OK;
    }
    case UK_BLK_CTL_REMOVE_CLIENT:
        if (n < 1 || n > UK_BLK_MAX_CLIENTS || !clients[n].live)
            return UK_BLK_EINVAL;
        clients[n].live = 0;
        return UK_BLK_OK;
    case UK_BLK_CTL_DISK_INFO:
        if (n >= ndisks)
            return UK_BLK_EINVAL;
        r->w[1] = disks[n].live ? disks[n].sectors : 0;
        r->w[2] = disks[n].flags;
        r->w[3] = disks[n].requests;
        return disks[n].live ? UK_BLK_OK : UK_BLK_EIO;
    default:
        return UK_BLK_EINVAL;
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
    } else if (n > UK_BLK_MAX_CLIENTS || !clients[n].live || op >= UK_BLK_CTL_ADD_CLIENT) {
        st = UK_BLK_EPERM;
    } else if (op == UK_BLK_OP_INFO) {
        struct disk *k = &disks[clients[n].disk];
        r->w[1] = k->sectors;
        r->w[2] = clients[n].window_bytes;
        r->w[3] = k->flags | (clients[n].ram_bytes ? UK_BLK_F_RAM : 0);
        words = 4;
        st = k->live ? UK_BLK_OK : UK_BLK_EIO;
    } else if ((op == UK_BLK_OP_READ || op == UK_BLK_OP_WRITE) && len == 3) {
        st = do_io(n, op == UK_BLK_OP_WRITE, m->w[0], m->w[1], m->w[2]);
    } else if (op == UK_BLK_OP_FLUSH) {
        st = do_flush(n);
    } else if (op == UK_BLK_OP_BATCH) {
        long sts[UK_BLK_BATCH_MAX];
        uk_word_t k = 0;
        st = do_batch(n, m, len, sts, &k);
        for (uk_word_t j = 0; j < k; j++)   /* words 1..k (past 3: the IPC buffer) */
            uk_msg_set_word(r, uk_ipc_buf, 1 + j, (uk_word_t)sts[j]);
        words = 1 + (unsigned)k;
    } else {
        st = UK_BLK_EINVAL;
    }
    r->w[0] = (uk_word_t)st;
    r->info = uk_msginfo(0, words, UK_TIMEOUT_INFINITE);
}

static int disk_init(unsigned d)
{
    struct disk *k = &disks[d];
    const struct uk_pci_dev *p = &info->disk[d];
    unsigned got = 0;
    char *dma = (char *)(UK_BLK_DMA_VADDR + (uk_word_t)d * UK_BLK_DMA_PAGES * UK_PAGE_SIZE);
    long err;
    if ((err = virtio_legacy_begin(&k->v, DISK_SLOT(d, UK_BLK_DISK_IO), p->bar[0],
                                   1u << VIRTIO_BLK_F_RO | 1u << VIRTIO_BLK_F_FLUSH, &got))) {
        printf("blk-server: disk %u: its registers cannot be reached (error %ld)\n", d, err);
        return 0;
    }
    if ((err = virtio_legacy_queue0(&k->v, dma, (UK_BLK_DMA_PAGES - 1) * UK_PAGE_SIZE))) {
        printf("blk-server: disk %u: its queue does not fit our DMA pages\n", d);
        return 0;
    }
    k->req = (unsigned char *)dma + (UK_BLK_DMA_PAGES - 1) * UK_PAGE_SIZE;
    k->req_phys = virt_to_phys(k->req);
    k->sectors = virtio_config_read(&k->v, VIRTIO_BLK_CAPACITY, 8);
    k->flags = (got & 1u << VIRTIO_BLK_F_RO ? UK_BLK_F_RO : 0) |
               (got & 1u << VIRTIO_BLK_F_FLUSH ? UK_BLK_F_FLUSH : 0);
    if ((err = uk_irq_bind(DISK_SLOT(d, UK_BLK_DISK_IRQ), DISK_SLOT(d, UK_BLK_DISK_IRQ_NOTIF)))) {
        printf("blk-server: disk %u: IRQ %u not bound (error %ld)\n", d, p->irq, err);
        virtio_legacy_reset(k->v.io, k->v.base);
        return 0;
    }
    k->live = 1;
    printf("blk-server: disk %u: virtio-blk %02x:%02x.%x, %lu sectors (%lu KiB)%s%s, "
           "I/O %lx, IRQ %u, queue %u\n", d, p->bus, p->dev, p->fn, k->sectors,
           k->sectors / 2, k->flags & UK_BLK_F_RO ? ", read-only" : "",
           k->flags & UK_BLK_F_FLUSH ? ", write cache" : "", p->bar[0], p->irq, k->v.q[0].size);
    return 1;
}

int main(const struct uk_bootinfo *unused)
{
    (void)unused;
    if (info->magic != UK_BLK_INFO_MAGIC || info->ndisks > UK_BLK_MAX_DISKS) {
        printf("blk-server: no usable info page\n");
        return 1;
    }
    ndisks = info->ndisks;
    unsigned live = 0;
    for (unsigned d = 0; d < ndisks; d++)
        live += (unsigned)disk_init(d);
    long err = uk_notif_bind(NOTIF, UK_SLOT_SELF_THREAD);
    if (err)
        printf("blk-server: interrupt notification not bound (error %ld)\n", err);
    printf("blk-server: %u of %lu disks in service\n", live, ndisks);

    struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE) };
    err = uk_recv(EP, &m);
    for (;;) {
        if (err == UK_OK && (uk_msg_flags(m.info) & UK_MSGF_NOTIFY)) {
            service_interrupts(m.badge);   /* not a message: nobody to answer */
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
