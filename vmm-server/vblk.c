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
 * Several in flight: reads and writes are cut into pieces of at most
 * UK_BLK_MAX_SECTORS (64 KiB) that go to the block server as one
 * UK_BLK_OP_BATCH (up to UK_BLK_BATCH_MAX pieces, in the 512 KiB window
 * together), which puts them on the device together: so consecutive small
 * requests share a batch, and a 1 MiB request is two batches of eight
 * pieces rather than sixteen calls one after the other.  A chain's pieces
 * may span batches; a chain is finished when its last piece is back.
 * Anything else (a flush, an id, a bad chain) ends the batch and is served
 * alone, in order.
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
    uk_word_t queued;                 /* bytes of it put into pieces so far */
    unsigned seg;                     /* the copy cursor in its data (write: */
    uk_word_t seg_off;                /*   copied in; read: copied out) */
    int failed;                       /* a piece came back with an error */
    int zero_copy;                    /* its pieces name guest RAM (UK_BLK_OP_RAM) */
};
static struct vreq vreqs[UK_BLK_BATCH_MAX + 1];

/* A piece of a chain's data in the batch being gathered. */
struct piece {
    unsigned chain;                   /* its index in chains[] / vreqs[] */
    uk_word_t sector, bytes, off;     /* off: in the window, or in guest RAM (zero copy) */
};
static struct piece pieces[UK_BLK_BATCH_MAX];

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
    if ((r->hdr.type == UK_VIRTIO_BLK_T_IN || r->hdr.type == UK_VIRTIO_BLK_T_OUT) &&
        (r->hdr.sector > disk_sectors || r->bytes / UK_BLK_SECTOR > disk_sectors - r->hdr.sector)) {
        /* past the disk's end: refused whole, before any piece goes out (a
         * later piece's sector must not wrap round to the disk's start);
         * unreported, as the block server's ERANGE is */
        *status = UK_VIRTIO_BLK_S_IOERR;
        return -1;
    }
    return 0;
}

/* Serves one checked chain that is not a read or a write (a flush, an
 * id) alone; its status; *written = data bytes written into the chain. */
static unsigned char vblk_serve(const struct vio_chain *c, const struct vreq *r,
                                uk_word_t *written)
{
    struct cursor k = { c, 1, 0 };
    switch (r->hdr.type) {
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

/* The batch being gathered: pieces[0..npieces-1] in the window's first
 * WINDOW_BYTES - room bytes, of the open chains chains[0..nchains-1]
 * (reads and writes, in order; all but the last cut completely). */
static unsigned npieces, nchains;
static uk_word_t room = WINDOW_BYTES;

/* The next n bytes of chain j's data to (in) or from the window at win. */
static void chain_copy(unsigned j, unsigned char *win, uk_word_t n, int in)
{
    struct vreq *r = &vreqs[j];
    struct cursor k = { &chains[j], r->seg, r->seg_off };
    cursor_copy(&k, win, n, in);
    r->seg = k.seg;
    r->seg_off = k.off;
}

/* The gathered pieces as one UK_BLK_OP_BATCH: on the device together.
 * Then reads are copied out, every open chain all of whose pieces are back
 * is finished, and one still being cut moves to chains[0]. */
static void run_batch(struct vio_dev *d, unsigned q)
{
    unsigned char *win = (unsigned char *)UK_VMM_BLK_WINDOW;
    unsigned k = npieces;
    struct uk_msg m = { .info = uk_msginfo(UK_BLK_OP_BATCH, 1 + k * UK_BLK_BATCH_WORDS,
                                           uk_timeout_us(30000000)) };
    uk_msg_set_word(&m, uk_ipc_buf, 0, k);
    for (unsigned j = 0; j < k; j++) {
        const struct piece *p = &pieces[j];
        int write = vreqs[p->chain].hdr.type == UK_VIRTIO_BLK_T_OUT;
        uk_msg_set_word(&m, uk_ipc_buf, 1 + j * UK_BLK_BATCH_WORDS,
                        (write ? UK_BLK_OP_WRITE : UK_BLK_OP_READ) |
                        (vreqs[p->chain].zero_copy ? UK_BLK_OP_RAM : 0) |
                        (p->bytes / UK_BLK_SECTOR) << 8);
        uk_msg_set_word(&m, uk_ipc_buf, 2 + j * UK_BLK_BATCH_WORDS, p->sector);
        uk_msg_set_word(&m, uk_ipc_buf, 3 + j * UK_BLK_BATCH_WORDS, p->off);
    }
    long err = uk_call(UK_VMM_SLOT_BLK, &m);
    long sts[UK_BLK_BATCH_MAX];
    for (unsigned j = 0; j < k; j++)   /* now: printing reuses the IPC buffer */
        sts[j] = err ? UK_VDEV_EIO : m.w[0] ? (long)m.w[0]
                                           : (long)uk_msg_word(&m, uk_ipc_buf, 1 + j);
    if (err)
        vmm_say("disk: the block server does not answer (error %ld)", err);
    if (k > largest_batch) {
        largest_batch = k;
        if (k >= 2)
            vmm_say("disk: %u block requests on the device at once", k);
    }
    for (unsigned j = 0; j < k; j++) {    /* in order: each chain's cursor moves on */
        const struct piece *p = &pieces[j];
        struct vreq *r = &vreqs[p->chain];
        if (sts[j])
            r->failed = 1;
        else if (r->hdr.type == UK_VIRTIO_BLK_T_IN && !r->failed && !r->zero_copy)
            chain_copy(p->chain, win + p->off, p->bytes, 1);
    }
    unsigned open = 0;
    for (unsigned j = 0; j < nchains; j++) {
        struct vreq *r = &vreqs[j];
        if (r->queued < r->bytes) {       /* the last one, still being cut */
            if (j) {
                chains[0] = chains[j];
                vreqs[0] = *r;
            }
            open = 1;
            continue;
        }
        finish(d, q, &chains[j], r->failed ? UK_VIRTIO_BLK_S_IOERR : UK_VIRTIO_BLK_S_OK,
               !r->failed && r->hdr.type == UK_VIRTIO_BLK_T_IN ? r->bytes : 0);
    }
    nchains = open;
    npieces = 0;
    room = WINDOW_BYTES;
}

/* Chain j (a checked read or write, chains[j] with j == nchains) joins the
 * batch: cut into pieces of at most UK_BLK_MAX_SECTORS and what is left of
 * the window, a write's data copied in as each piece is made; a full batch
 * goes out on the way. */
/* Zero copy for chain c: the block server has our guest's RAM
 * (UK_BLK_F_RAM) and every data segment is whole sectors, so each can be
 * a block request of its own at its offset in guest RAM. */
static int can_zero_copy(const struct vio_chain *c)
{
    if (!(disk_flags & UK_BLK_F_RAM))
        return 0;
    for (unsigned int i = 1; i < c->nseg; i++)
        if (seg_data_len(c, i) % UK_BLK_SECTOR)
            return 0;
    return 1;
}

/* Zero copy: chain cj's next piece, at most UK_BLK_MAX_SECTORS of its
 * current segment, named by its offset in guest RAM (vio_next checked the
 * segment inside guest RAM; the block server checks it against the RAM the
 * root gave it). */
static void add_ram_piece(unsigned cj)
{
    struct vreq *r = &vreqs[cj];
    const struct vio_chain *c = &chains[cj];
    while (seg_data_len(c, r->seg) == r->seg_off) {   /* empty ones: skipped */
        r->seg++;
        r->seg_off = 0;
    }
    uk_word_t n = seg_data_len(c, r->seg) - r->seg_off;
    if (n > UK_BLK_MAX_SECTORS * UK_BLK_SECTOR)
        n = UK_BLK_MAX_SECTORS * UK_BLK_SECTOR;
    uk_word_t off = (uk_word_t)(c->seg[r->seg].p + r->seg_off - (unsigned char *)vmm.vi->mem_base);
    pieces[npieces++] = (struct piece){ cj, r->hdr.sector + r->queued / UK_BLK_SECTOR, n, off };
    r->seg_off += n;
    r->queued += n;
}

static void add_rw(struct vio_dev *d, unsigned q, unsigned j)
{
    unsigned char *win = (unsigned char *)UK_VMM_BLK_WINDOW;
    struct vreq *r = &vreqs[j];
    r->queued = 0;
    r->seg = 1;
    r->seg_off = 0;
    r->failed = 0;
    r->zero_copy = can_zero_copy(&chains[j]);
    nchains = j + 1;
    while (vreqs[nchains - 1].zero_copy && vreqs[nchains - 1].queued < vreqs[nchains - 1].bytes) {
        if (npieces == UK_BLK_BATCH_MAX)
            run_batch(d, q);                 /* this chain is then chains[0] */
        add_ram_piece(nchains - 1);
    }
    while (vreqs[nchains - 1].queued < vreqs[nchains - 1].bytes) {
        if (npieces == UK_BLK_BATCH_MAX || room == 0)
            run_batch(d, q);                 /* this chain is then chains[0] */
        unsigned cj = nchains - 1;
        r = &vreqs[cj];
        uk_word_t n = r->bytes - r->queued;
        if (n > UK_BLK_MAX_SECTORS * UK_BLK_SECTOR)
            n = UK_BLK_MAX_SECTORS * UK_BLK_SECTOR;
        if (n > room)
            n = room;                        /* whole sectors: room and bytes are */
        struct piece *p = &pieces[npieces++];
        *p = (struct piece){ cj, r->hdr.sector + r->queued / UK_BLK_SECTOR, n, WINDOW_BYTES - room };
        if (r->hdr.type == UK_VIRTIO_BLK_T_OUT)
            chain_copy(cj, win + p->off, n, 0);
        r->queued += n;
        room -= n;
    }
}

static void vblk_notify(struct vio_dev *d, unsigned q)
{
    while (vio_next(d, q, &chains[nchains])) {
        unsigned j = nchains;
        struct vio_chain *c = &chains[j];
        struct vreq *r = &vreqs[j];
        unsigned char st;
        if (vblk_check(c, r, &st)) {
            if (npieces)
                run_batch(d, q);             /* in order: those before it first; */
            finish(d, q, c, st, 0);          /* chains[j] is untouched by it */
            continue;
        }
        if (r->hdr.type == UK_VIRTIO_BLK_T_IN || r->hdr.type == UK_VIRTIO_BLK_T_OUT) {
            add_rw(d, q, j);
            continue;
        }
        if (npieces)
            run_batch(d, q);
        uk_word_t written = 0;
        st = vblk_serve(c, r, &written);
        finish(d, q, c, st, written);
    }
    if (npieces)
        run_batch(d, q);
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
