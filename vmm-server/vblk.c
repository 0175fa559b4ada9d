/*
 * The guest's disk as a virtio-blk device: a back-end of virtio.c (which
 * walks and checks the chains) that turns chains into block-server
 * requests (uk/blk.h) through the window block.c uses too
 * (docs/storage.md "The Linux side").
 *
 * A chain is a header (uk_virtio_blk_hdr, device-readable, in the first
 * descriptor), data descriptors, and the status byte, the last byte of the
 * last descriptor (device-writable).  Every chain gets a status: a
 * malformed one UK_VIRTIO_BLK_S_IOERR (if it has a writable status byte at
 * all), and goes back to the used ring.
 *
 * Several in flight: consecutive reads and writes whose data fit the 64 KiB
 * window together (up to UK_BLK_BATCH_MAX) go to the block server as one
 * UK_BLK_OP_BATCH, which puts them on the device together.  Anything else
 * (a flush, an id, a request bigger than what is left of the window, a bad
 * chain) ends the batch and is served alone, in order; a request bigger
 * than the window moves 64 KiB per block-server request.
 */
#include "virtio.h"
#include <uk/blk.h>

#define WINDOW_BYTES (UK_VMM_BLK_WINDOW_PAGES * UK_PAGE_SIZE)
#define BAD_CHAINS_SHOWN 8      /* then they are only counted: a hostile guest
                                   must not flood the console through us */

static uk_word_t disk_sectors, disk_flags;    /* from the block server's INFO */
static struct vio_chain chains[UK_BLK_BATCH_MAX + 1];   /* a batch and the next
                                                           (4 KiB each: not on the stack) */
static unsigned long bad_chains;
static unsigned largest_batch;  /* said once each time it grows (at most 7 lines) */

/* A chain found good: what it asks. */
struct vreq {
    struct uk_virtio_blk_hdr hdr;     /* read once from the guest */
    uk_word_t bytes;                  /* its data (not the status byte) */
    uk_word_t off;                    /* in the window, when batched */
};
static struct vreq vreqs[UK_BLK_BATCH_MAX + 1];

static uk_word_t vblk_features(struct vio_dev *d)
{
    (void)d;
    return UK_VIRTIO_F_VERSION_1 | UK_VIRTIO_BLK_F_SEG_MAX | UK_VIRTIO_BLK_F_BLK_SIZE |
           UK_VIRTIO_BLK_F_FLUSH | (disk_flags & UK_BLK_F_RO ? UK_VIRTIO_BLK_F_RO : 0);
}

static long vblk_config(struct vio_dev *d, uk_word_t off, uk_word_t len, uk_word_t *val)
{
    (void)d;
    unsigned char cfg[UK_VIRTIO_BLK_CFG_SIZE] = { 0 };
    unsigned int seg_max = UK_VIRTIO_QUEUE_MAX - 2, blk_size = UK_BLK_SECTOR;  /* + header,
                                                                                  status */
    memcpy(cfg + UK_VIRTIO_BLK_CFG_CAPACITY, &disk_sectors, 8);
    memcpy(cfg + UK_VIRTIO_BLK_CFG_SEG_MAX, &seg_max, 4);
    memcpy(cfg + UK_VIRTIO_BLK_CFG_BLK_SIZE, &blk_size, 4);
    if (off > sizeof cfg || len > sizeof cfg - off)
        return -1;
    *val = 0;
    memcpy(val, cfg + off, len);
    return 0;
}

/* Walks the data bytes of a chain in order: descriptors 1..nseg-1, the last
 * one without its final byte (the status). */
struct cursor {
    const struct vio_chain *c;
    unsigned int seg;           /* current descriptor */
    uk_word_t off;              /* bytes of it done */
};

static uk_word_t seg_data_len(const struct vio_chain *c, unsigned int i)
{
    /* the last one has len >= 1: vblk_check made sure before any use */
    return i + 1 == c->nseg ? c->seg[i].len - 1u : c->seg[i].len;
}

/* Copies n bytes between the window and the chain's data (to the chain if
 * `in`, a read); the caller checked the total. */
static void cursor_copy(struct cursor *k, unsigned char *win, uk_word_t n, int in)
{
    while (n) {
        uk_word_t left = seg_data_len(k->c, k->seg) - k->off;
        if (!left) {
            k->seg++;
            k->off = 0;
            continue;
        }
        uk_word_t t = left < n ? left : n;
        unsigned char *p = k->c->seg[k->seg].p + k->off;
        if (in)
            memcpy(p, win, t);
        else
            memcpy(win, p, t);
        win += t;
        k->off += t;
        n -= t;
    }
}

static unsigned char refuse(const char *why)
{
    if (++bad_chains <= BAD_CHAINS_SHOWN)
        vmm_say("disk: virtio request refused (%s): I/O error", why);
    return UK_VIRTIO_BLK_S_IOERR;
}

/* Checks a chain's shape: 0 and *r filled, or the status to answer it with. */
static int vblk_check(const struct vio_chain *c, struct vreq *r, unsigned char *status)
{
    static const char *const bad_why[] = {
        [VIO_BAD_ADDR] = "a descriptor outside guest RAM",
        [VIO_BAD_INDEX] = "a descriptor index past the queue",
        [VIO_BAD_LOOP] = "a descriptor chain loop",
        [VIO_BAD_INDIRECT] = "an indirect descriptor",
    };
    if (c->bad) {
        *status = refuse(bad_why[c->bad]);
        return -1;
    }
    const struct vio_seg *h = &c->seg[0];
    if (c->nseg < 2 || h->writable || h->len < sizeof(struct uk_virtio_blk_hdr)) {
        *status = refuse("no device-readable header");
        return -1;
    }
    const struct vio_seg *last = &c->seg[c->nseg - 1];
    if (!last->writable || last->len < 1) {   /* seg_data_len needs the status byte */
        *status = refuse("no device-writable status byte");
        return -1;
    }
    memcpy(&r->hdr, h->p, sizeof r->hdr);      /* read once */
    int want_write = r->hdr.type == UK_VIRTIO_BLK_T_IN || r->hdr.type == UK_VIRTIO_BLK_T_GET_ID;
    r->bytes = 0;
    for (unsigned int i = 1; i < c->nseg; i++) {
        if (c->seg[i].writable != want_write && seg_data_len(c, i)) {
            *status = refuse(want_write ? "read into a device-readable buffer"
                                        : "write from a device-writable buffer");
            return -1;
        }
        r->bytes += seg_data_len(c, i);          /* < 256 * 4 GiB: no wrap */
    }
    if ((r->hdr.type == UK_VIRTIO_BLK_T_IN || r->hdr.type == UK_VIRTIO_BLK_T_OUT) &&
        (r->bytes == 0 || r->bytes % UK_BLK_SECTOR)) {
        *status = refuse("a length that is not whole sectors");
        return -1;
    }
    return 0;
}

/* Serves one checked chain alone; its status; *written = data bytes
 * written into the chain (a read's, an id's). */
static unsigned char vblk_serve(const struct vio_chain *c, const struct vreq *r,
                                uk_word_t *written)
{
    struct cursor k = { c, 1, 0 };
    unsigned char *win = (unsigned char *)UK_VMM_BLK_WINDOW;
    switch (r->hdr.type) {
    case UK_VIRTIO_BLK_T_IN:
    case UK_VIRTIO_BLK_T_OUT: {
        uk_word_t sector = r->hdr.sector;
        for (uk_word_t done = 0; done < r->bytes;) {
            uk_word_t n = r->bytes - done < WINDOW_BYTES ? r->bytes - done : WINDOW_BYTES;
            long st;
            if (r->hdr.type == UK_VIRTIO_BLK_T_OUT) {
                cursor_copy(&k, win, n, 0);
                st = blk_call(UK_BLK_OP_WRITE, 3, sector, n / UK_BLK_SECTOR, 0, 0);
            } else {
                st = blk_call(UK_BLK_OP_READ, 3, sector, n / UK_BLK_SECTOR, 0, 0);
                if (st == 0) {
                    cursor_copy(&k, win, n, 1);
                    *written += n;
                }
            }
            if (st)
                return UK_VIRTIO_BLK_S_IOERR;      /* the server's ERANGE, EIO ... */
            sector += n / UK_BLK_SECTOR;
            done += n;
        }
        return UK_VIRTIO_BLK_S_OK;
    }
    case UK_VIRTIO_BLK_T_FLUSH:
        return blk_call(UK_BLK_OP_FLUSH, 0, 0, 0, 0, 0) ? UK_VIRTIO_BLK_S_IOERR
                                                        : UK_VIRTIO_BLK_S_OK;
    case UK_VIRTIO_BLK_T_GET_ID: {
        char id[UK_VIRTIO_BLK_ID_BYTES] = "ukvm-";
        memcpy(id + 5, vmm.name, sizeof id - 5);
        uk_word_t n = r->bytes < sizeof id ? r->bytes : sizeof id;
        cursor_copy(&k, (unsigned char *)id, n, 1);
        *written = n;
        return UK_VIRTIO_BLK_S_OK;
    }
    default:
        return UK_VIRTIO_BLK_S_UNSUPP;
    }
}

/* Writes the chain's status byte (if it has one) and returns it to the
 * used ring. */
static void finish(struct vio_dev *d, unsigned q, const struct vio_chain *c, unsigned char st,
                   uk_word_t written)
{
    const struct vio_seg *last = c->nseg ? &c->seg[c->nseg - 1] : 0;
    if (last && last->p && last->writable && last->len >= 1) {
        last->p[last->len - 1] = st;
        written += 1;
    }
    vio_done(d, q, c->head, (unsigned int)written);
}

/* Chains 0..k-1 (checked reads and writes, their data at vreqs[j].off in
 * the window) as one UK_BLK_OP_BATCH: on the device together. */
static void run_batch(struct vio_dev *d, unsigned q, unsigned k)
{
    unsigned char *win = (unsigned char *)UK_VMM_BLK_WINDOW;
    struct uk_msg m = { .info = uk_msginfo(UK_BLK_OP_BATCH, 1 + k * UK_BLK_BATCH_WORDS,
                                           uk_timeout_us(30000000)) };
    uk_msg_set_word(&m, uk_ipc_buf, 0, k);
    for (unsigned j = 0; j < k; j++) {
        const struct vreq *r = &vreqs[j];
        int write = r->hdr.type == UK_VIRTIO_BLK_T_OUT;
        if (write) {
            struct cursor c = { &chains[j], 1, 0 };
            cursor_copy(&c, win + r->off, r->bytes, 0);
        }
        uk_msg_set_word(&m, uk_ipc_buf, 1 + j * UK_BLK_BATCH_WORDS,
                        (write ? UK_BLK_OP_WRITE : UK_BLK_OP_READ) |
                        (r->bytes / UK_BLK_SECTOR) << 8);
        uk_msg_set_word(&m, uk_ipc_buf, 2 + j * UK_BLK_BATCH_WORDS, r->hdr.sector);
        uk_msg_set_word(&m, uk_ipc_buf, 3 + j * UK_BLK_BATCH_WORDS, r->off);
    }
    long err = blk_call_retrying(&m);
    long sts[UK_BLK_BATCH_MAX];
    uk_word_t words = err ? 0 : uk_msg_len(m.info);
    for (unsigned j = 0; j < k; j++)   /* now: printing reuses the IPC buffer */
        sts[j] = err ? UK_VDEV_EIO : m.w[0] || words < 1 + k
                                         ? (long)m.w[0]
                                         : (long)uk_msg_word(&m, uk_ipc_buf, 1 + j);
    /* a malformed answer is an I/O error, never passed on (block.c) */
    if (!err && words < (m.w[0] ? 1u : 1u + k))
        for (unsigned j = 0, once = 0; j < k; j++)
            sts[j] = once++ ? UK_VDEV_EIO : blk_reject("too few words", (long)words);
    else
        for (unsigned j = 0; j < k; j++)
            if (!blk_status_ok(sts[j]))
                sts[j] = blk_reject("no such status", sts[j]);
    if (k > largest_batch) {
        largest_batch = k;
        if (k >= 2)
            vmm_say("disk: %u virtio requests on the device at once", k);
    }
    for (unsigned j = 0; j < k; j++) {
        const struct vreq *r = &vreqs[j];
        long st = sts[j];
        uk_word_t written = 0;
        if (st == 0 && r->hdr.type == UK_VIRTIO_BLK_T_IN) {
            struct cursor c = { &chains[j], 1, 0 };
            cursor_copy(&c, win + r->off, r->bytes, 1);
            written = r->bytes;
        }
        finish(d, q, &chains[j], st ? UK_VIRTIO_BLK_S_IOERR : UK_VIRTIO_BLK_S_OK, written);
    }
}

static void vblk_notify(struct vio_dev *d, unsigned q)
{
    unsigned k = 0;             /* chains in the batch being gathered */
    uk_word_t room = WINDOW_BYTES;
    while (vio_next(d, q, &chains[k])) {
        struct vio_chain *c = &chains[k];
        struct vreq *r = &vreqs[k];
        unsigned char st;
        if (vblk_check(c, r, &st)) {
            if (k)
                run_batch(d, q, k);        /* in order: those before it first */
            finish(d, q, c, st, 0);
            k = 0;
            room = WINDOW_BYTES;
            continue;
        }
        int rw = r->hdr.type == UK_VIRTIO_BLK_T_IN || r->hdr.type == UK_VIRTIO_BLK_T_OUT;
        if (rw && r->bytes <= room) {
            r->off = WINDOW_BYTES - room;
            room -= r->bytes;
            if (++k == UK_BLK_BATCH_MAX) {
                run_batch(d, q, k);
                k = 0;
                room = WINDOW_BYTES;
            }
            continue;
        }
        if (k)
            run_batch(d, q, k);            /* chains[k] is untouched by it */
        uk_word_t written = 0;
        st = vblk_serve(c, r, &written);
        finish(d, q, c, st, written);
        k = 0;
        room = WINDOW_BYTES;
    }
    if (k)
        run_batch(d, q, k);
    vio_interrupt(d, q);
}

static const struct vio_backend vblk_backend = {
    .name = "disk",
    .type = UK_VIRTIO_ID_BLOCK,
    .queues = 1,
    .features = vblk_features,
    .config = vblk_config,
    .notify = vblk_notify,
};

void vblk_add(uk_word_t sectors, uk_word_t flags)
{
    disk_sectors = sectors;
    disk_flags = flags;
    if (vio_add(&vblk_backend, 0) < 0)
        vmm_say("disk: no virtio device slot left");
}
