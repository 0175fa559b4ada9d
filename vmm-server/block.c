/*
 * The guest's disk (uk/abi.h UK_VDEV_BLOCK_*, docs/storage.md): its
 * requests forwarded to the block server, through the window the root
 * task mapped at UK_VMM_BLK_WINDOW here and into the block server.  The
 * guest names its buffer by guest address; we check it lies in its RAM and
 * copy between it and the window (a bounce: the block server sees the
 * window, never the guest's RAM).  The block server checks the sectors
 * against the guest's disk itself; its statuses are the UK_VDEV_E* values
 * (both are negative errno numbers), passed on as they are.  While a
 * request runs we wait for it: the guest's vCPU waits for our reply anyway;
 * the timer thread goes on.
 *
 * The same disk is also a virtio-blk device (the second half of this
 * file), for a guest with a virtio driver (Linux's virtio_blk on
 * arch/um/drivers/virtio_ukvm.c): virtio.c walks and checks the chains,
 * we turn each into block-server requests through the same window.
 */
#include "virtio.h"
#include <uk/blk.h>

#define BLK_TIMEOUT uk_timeout_us(30000000)   /* the block server gives up on a device
                                                 after 5 s; this is for the server itself */

static long blk_call(uk_word_t op, unsigned len, uk_word_t w0, uk_word_t w1, uk_word_t w2,
                     uk_word_t out[4])
{
    struct uk_msg m = { .info = uk_msginfo(op, len, BLK_TIMEOUT), .w = { w0, w1, w2 } };
    long err = uk_call(UK_VMM_SLOT_BLK, &m);
    if (err) {
        vmm_say("disk: the block server does not answer (error %ld)", err);
        return UK_VDEV_EIO;
    }
    if (out)
        for (int i = 0; i < 4; i++)
            out[i] = m.w[i];
    return (long)m.w[0];
}

static uk_word_t disk_sectors, disk_flags;   /* from the block server's INFO */
static void virtio_disk_add(void);

void block_init(void)
{
    uk_word_t type = 0, rights = 0, badge = 0, r[4] = { 0 };
    if (uk_cap_info(UK_VMM_SLOT_BLK, &type, &rights, &badge) || type != UK_CAP_ENDPOINT)
        return;
    long st = blk_call(UK_BLK_OP_INFO, 0, 0, 0, 0, r);
    if (st) {
        vmm_say("disk: the block server refuses us (status %ld)", st);
        return;
    }
    vmm.disk = 1;
    disk_sectors = r[1];
    disk_flags = r[2];
    vmm_say("disk: %lu sectors (%lu KiB) through the block server", r[1], r[1] / 2);
    virtio_disk_add();
}

/* The guest's bytes [g, g + bytes) in our view of its RAM, or NULL. */
unsigned char *guest_bytes(uk_word_t g, uk_word_t bytes)
{
    uk_word_t ram = vmm.ram_pages * UK_PAGE_SIZE;
    if (g < GUEST_RAM_VA || g - GUEST_RAM_VA > ram || bytes > ram - (g - GUEST_RAM_VA))
        return 0;
    return (unsigned char *)(vmm.vi->mem_base + (g - GUEST_RAM_VA));
}

long block_request(uk_word_t op, uk_word_t len, const struct uk_msg *m, uk_word_t out[4])
{
    unsigned char *win = (unsigned char *)UK_VMM_BLK_WINDOW;
    if (!vmm.disk)
        return UK_VDEV_ENODEV;
    switch (op) {
    case UK_VDEV_BLOCK_INFO: {
        long st = blk_call(UK_BLK_OP_INFO, 0, 0, 0, 0, out);
        out[3] = UK_BLK_MAX_SECTORS;
        return st;
    }
    case UK_VDEV_BLOCK_FLUSH:
        return blk_call(UK_BLK_OP_FLUSH, 0, 0, 0, 0, 0);
    case UK_VDEV_BLOCK_READ:
    case UK_VDEV_BLOCK_WRITE: {
        uk_word_t sector = m->w[0], count = m->w[1];
        if (len < 3 || count == 0 || count > UK_BLK_MAX_SECTORS)
            return UK_VDEV_EINVAL;
        uk_word_t bytes = count * UK_BLK_SECTOR;
        unsigned char *buf = guest_bytes(m->w[2], bytes);
        if (!buf)
            return UK_VDEV_EFAULT;
        if (op == UK_VDEV_BLOCK_WRITE) {
            memcpy(win, buf, bytes);
            return blk_call(UK_BLK_OP_WRITE, 3, sector, count, 0, 0);
        }
        long st = blk_call(UK_BLK_OP_READ, 3, sector, count, 0, 0);
        if (st == 0)
            memcpy(buf, win, bytes);
        return st;
    }
    default:
        return UK_VDEV_EINVAL;
    }
}

/* --- the virtio-blk back-end ------------------------------------------------
 * A chain (checked by virtio.c) is: a header (uk_virtio_blk_hdr,
 * device-readable, in the first descriptor), data descriptors, and the
 * status byte, the last byte of the last descriptor (device-writable).
 * Data moves through the window 64 KiB at a time, so descriptors of any
 * size and alignment work; the block server checks the sectors.  Every
 * chain gets a status: a malformed one UK_VIRTIO_BLK_S_IOERR (if it has a
 * writable status byte at all), and goes back to the used ring. */
#define WINDOW_BYTES (UK_VMM_BLK_WINDOW_PAGES * UK_PAGE_SIZE)
#define BAD_CHAINS_SHOWN 8      /* then they are only counted: a hostile guest
                                   must not flood the console through us */

static struct vio_chain chain;  /* one at a time (4 KiB: not on the stack) */
static unsigned long bad_chains;

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
    /* the last one has len >= 1: vblk_serve checked it before any use */
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

static void bad_chain(const char *why)
{
    if (++bad_chains <= BAD_CHAINS_SHOWN)
        vmm_say("disk: virtio request refused (%s): I/O error", why);
}

/* Serves one chain; its status; *written = bytes written into the chain's
 * data (a read's). */
static unsigned char vblk_serve(const struct vio_chain *c, uk_word_t *written)
{
    static const char *const bad_why[] = {
        [VIO_BAD_ADDR] = "a descriptor outside guest RAM",
        [VIO_BAD_INDEX] = "a descriptor index past the queue",
        [VIO_BAD_LOOP] = "a descriptor chain loop",
        [VIO_BAD_INDIRECT] = "an indirect descriptor",
    };
    *written = 0;
    if (c->bad) {
        bad_chain(bad_why[c->bad]);
        return UK_VIRTIO_BLK_S_IOERR;
    }
    const struct vio_seg *h = &c->seg[0], *last = &c->seg[c->nseg - 1];
    if (c->nseg < 2 || h->writable || h->len < sizeof(struct uk_virtio_blk_hdr)) {
        bad_chain("no device-readable header");
        return UK_VIRTIO_BLK_S_IOERR;
    }
    if (!last->writable || last->len < 1) {   /* seg_data_len needs the status byte */
        bad_chain("no device-writable status byte");
        return UK_VIRTIO_BLK_S_IOERR;
    }
    struct uk_virtio_blk_hdr hdr;
    memcpy(&hdr, h->p, sizeof hdr);                /* read once */

    uk_word_t total = 0;
    int want_write = hdr.type == UK_VIRTIO_BLK_T_IN || hdr.type == UK_VIRTIO_BLK_T_GET_ID;
    for (unsigned int i = 1; i < c->nseg; i++) {
        if (c->seg[i].writable != want_write && seg_data_len(c, i)) {
            bad_chain(want_write ? "read into a device-readable buffer"
                                 : "write from a device-writable buffer");
            return UK_VIRTIO_BLK_S_IOERR;
        }
        total += seg_data_len(c, i);               /* < 256 * 4 GiB: no wrap */
    }

    struct cursor k = { c, 1, 0 };
    unsigned char *win = (unsigned char *)UK_VMM_BLK_WINDOW;
    switch (hdr.type) {
    case UK_VIRTIO_BLK_T_IN:
    case UK_VIRTIO_BLK_T_OUT: {
        if (total == 0 || total % UK_BLK_SECTOR) {
            bad_chain("a length that is not whole sectors");
            return UK_VIRTIO_BLK_S_IOERR;
        }
        uk_word_t sector = hdr.sector;
        for (uk_word_t done = 0; done < total;) {
            uk_word_t n = total - done < WINDOW_BYTES ? total - done : WINDOW_BYTES;
            long st;
            if (hdr.type == UK_VIRTIO_BLK_T_OUT) {
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
        memcpy(id + 5, vmm.name, sizeof id - 5 < sizeof vmm.name ? sizeof id - 5 : sizeof vmm.name);
        uk_word_t n = total < sizeof id ? total : sizeof id;
        cursor_copy(&k, (unsigned char *)id, n, 1);
        *written = n;
        return UK_VIRTIO_BLK_S_OK;
    }
    default:
        return UK_VIRTIO_BLK_S_UNSUPP;
    }
}

static void vblk_notify(struct vio_dev *d, unsigned q)
{
    while (vio_next(d, q, &chain)) {
        uk_word_t written = 0;
        unsigned char st = vblk_serve(&chain, &written);
        const struct vio_seg *last = chain.nseg ? &chain.seg[chain.nseg - 1] : 0;
        /* the status byte, if the chain has a place for it */
        if (last && last->p && last->writable && last->len >= 1) {
            last->p[last->len - 1] = st;
            written += 1;
        }
        vio_done(d, q, chain.head, (unsigned int)written);
    }
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

static void virtio_disk_add(void)
{
    if (vio_add(&vblk_backend, 0) < 0)
        vmm_say("disk: no virtio device slot left");
}
