/*
 * `vdisk`: the guest's disk as a virtio-blk device (uk/abi.h
 * UK_VDEV_VIRTIO_*, docs/storage.md "The Linux side"), driven the way a
 * virtio driver does it -- one split virtqueue in our RAM, chains, a
 * notify, the used ring, the queue's event -- and then misused the way a
 * hostile guest would: chains whose descriptors leave guest RAM, run past
 * its end, loop, name an index past the queue, are indirect, or whose
 * header is device-writable.  Each must come back in the used ring with
 * an I/O error status (or none, when the chain has no status byte), and a
 * good request after them must still work.  Each check prints one line
 * ending "ok" or "WRONG" (tests/storage/run counts them).
 *
 * Bus addresses are our guest addresses (the queue's w6, the guest address
 * of bus address 0, is 0).
 */
#include "toy.h"

#define QSIZE    16u
#define SECTOR   512u
#define VSECTOR  100ul          /* the sectors we write: 100 and 101 */
#define NOTSET   0xeeu          /* a status byte the device did not write */

static volatile struct uk_vring_desc *desc;
static volatile struct uk_vring_avail *avail;
static volatile struct uk_vring_used *used;
static unsigned short avail_idx, used_seen;
static uk_word_t dev;

struct req {                    /* header and status, in one page of ours */
    struct uk_virtio_blk_hdr hdr;
    unsigned char status;
};

static void expect(const char *what, int good)
{
    kprintf("vdisk: %s: %s\n", what, good ? "ok" : "WRONG");
}

static long vcall(uk_word_t op, uk_word_t n, uk_word_t a, uk_word_t b, uk_word_t out[4])
{
    uk_word_t w[3] = { dev, a, b };
    return vdev_call(op, n, w, out);
}

static void set_desc(unsigned i, uk_word_t addr, unsigned len, unsigned flags, unsigned next)
{
    desc[i].addr = addr;
    desc[i].len = len;
    desc[i].flags = (unsigned short)flags;
    desc[i].next = (unsigned short)next;
}

/* Makes chain `head` available, notifies, waits for the used ring, and
 * returns its used entry's length (-1: not returned, or another chain came
 * back).  *event: the queue's event bit was raised. */
static long run_chain(unsigned head, int *event)
{
    avail->ring[avail_idx % QSIZE] = (unsigned short)head;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    avail->idx = ++avail_idx;
    uk_word_t w[2] = { dev, 0 };
    uk_word_t bit = UK_VDEV_EVENT_VIRTIO(dev, 0);
    virtio_events &= ~bit;
    long st = vdev_call(UK_VDEV_VIRTIO_NOTIFY, 2, w, 0);
    /* the vmm-server serves the chain after its reply: wait for the used
     * ring (at most about 5 s; the event wakes us) */
    for (int i = 0; !st && used->idx == used_seen && i < 500; i++)
        idle_wait(10000);
    take_ticks();
    if (event)
        *event = !!(virtio_events & bit);
    if (st || used->idx != (unsigned short)(used_seen + 1))
        return -1;
    volatile struct uk_vring_used_elem *e = &used->ring[used_seen % QSIZE];
    used_seen++;
    return e->id == head ? (long)e->len : -1;
}

/* A request: header (desc 0), data descriptors (1..), status (last). */
static long request(struct req *r, unsigned type, uk_word_t sector, unsigned char *data,
                    unsigned len, int *event)
{
    r->hdr = (struct uk_virtio_blk_hdr){ .type = type, .sector = sector };
    r->status = NOTSET;
    unsigned wr = type == UK_VIRTIO_BLK_T_IN || type == UK_VIRTIO_BLK_T_GET_ID
                      ? UK_VRING_DESC_F_WRITE : 0;
    set_desc(0, (uk_word_t)&r->hdr, sizeof r->hdr, UK_VRING_DESC_F_NEXT, 1);
    /* the data in two descriptors, as a scatter list would have it */
    unsigned first = len / 2;
    set_desc(1, (uk_word_t)data, first, wr | UK_VRING_DESC_F_NEXT, 2);
    set_desc(2, (uk_word_t)data + first, len - first, wr | UK_VRING_DESC_F_NEXT, 3);
    set_desc(3, (uk_word_t)&r->status, 1, UK_VRING_DESC_F_WRITE, 0);
    return run_chain(0, event);
}

static int find_disk(void)
{
    for (uk_word_t i = 0; i < gi->virtio_count && i < UK_VIRTIO_MAX_DEVS; i++)
        if (gi->virtio[i].type == UK_VIRTIO_ID_BLOCK) {
            dev = i;
            return 1;
        }
    return 0;
}

static void fill(unsigned char *p, unsigned n)
{
    char text[48];
    int k = snprintf(text, sizeof text, "%s virtio sector ", gi->name);
    for (unsigned i = 0; i < n; i++)
        p[i] = (unsigned char)text[i % (unsigned)k];
}

/* Four writes in one notify (chains at descriptors 0, 4, 8, 12, each
 * header, two data descriptors, status), then four reads of them, again
 * in one: the vmm-server passes them to the block server as one batch, on
 * the device together.  r[0..3]: their headers and status bytes. */
#define NCHAINS 4u
static int run_chains(struct req *r, unsigned type, unsigned char *data)
{
    unsigned wr = type == UK_VIRTIO_BLK_T_IN ? UK_VRING_DESC_F_WRITE : 0;
    for (unsigned j = 0; j < NCHAINS; j++) {
        unsigned d = 4 * j;
        r[j].hdr = (struct uk_virtio_blk_hdr){ .type = type, .sector = VSECTOR + 8 + 2 * j };
        r[j].status = NOTSET;
        set_desc(d, (uk_word_t)&r[j].hdr, sizeof r[j].hdr, UK_VRING_DESC_F_NEXT, d + 1);
        set_desc(d + 1, (uk_word_t)data + j * 1024, 300, wr | UK_VRING_DESC_F_NEXT, d + 2);
        set_desc(d + 2, (uk_word_t)data + j * 1024 + 300, 724, wr | UK_VRING_DESC_F_NEXT, d + 3);
        set_desc(d + 3, (uk_word_t)&r[j].status, 1, UK_VRING_DESC_F_WRITE, 0);
        avail->ring[(avail_idx + j) % QSIZE] = (unsigned short)d;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    avail_idx = (unsigned short)(avail_idx + NCHAINS);
    avail->idx = avail_idx;
    uk_word_t w[2] = { dev, 0 };
    if (vdev_call(UK_VDEV_VIRTIO_NOTIFY, 2, w, 0))
        return 0;
    for (int i = 0; used->idx != (unsigned short)(used_seen + NCHAINS) && i < 500; i++)
        idle_wait(10000);
    int good = used->idx == (unsigned short)(used_seen + NCHAINS);
    unsigned seen = 0;
    for (unsigned j = 0; good && j < NCHAINS; j++) {
        volatile struct uk_vring_used_elem *e = &used->ring[(used_seen + j) % QSIZE];
        unsigned want_len = type == UK_VIRTIO_BLK_T_IN ? 1025 : 1;
        good &= e->id % 4 == 0 && e->id < 4 * NCHAINS && e->len == want_len;
        seen |= 1u << (e->id / 4);
    }
    used_seen = (unsigned short)(used_seen + NCHAINS);
    for (unsigned j = 0; j < NCHAINS; j++)
        good &= r[j].status == UK_VIRTIO_BLK_S_OK;
    return good && seen == (1u << NCHAINS) - 1;
}

static void several_chains(struct req *r0, unsigned char *buf, unsigned char *back)
{
    struct req *r = (struct req *)page_alloc();
    if (!r) {
        kprintf("vdisk: no page: WRONG\n");
        return;
    }
    (void)r0;
    fill(buf, NCHAINS * 1024);
    expect("four writes in one notify", run_chains(r, UK_VIRTIO_BLK_T_OUT, buf));
    memset(back, 0, NCHAINS * 1024);
    expect("four reads in one notify, as written",
           run_chains(r, UK_VIRTIO_BLK_T_IN, back) && !memcmp(buf, back, NCHAINS * 1024));
    fill(buf, 2 * SECTOR);            /* what the checks after expect there */
}

/* The hostile chains: each gets IOERR, or (no status byte) none. */
static void bad_chains(struct req *r, unsigned char *buf)
{
    uk_word_t ram_end = gi->ram_base + gi->ram_size;
    struct { const char *what; uk_word_t addr; unsigned len; } bad_data[] = {
        { "data outside guest RAM", 0x1000, SECTOR },
        { "data running past RAM's end", ram_end - SECTOR, 2 * SECTOR },
        { "a length that overflows", (uk_word_t)buf, 0xfffff000u },
        { "an address that wraps", ~0ul - 100, SECTOR },
    };
    for (unsigned i = 0; i < sizeof bad_data / sizeof bad_data[0]; i++) {
        r->hdr = (struct uk_virtio_blk_hdr){ .type = UK_VIRTIO_BLK_T_OUT, .sector = VSECTOR };
        r->status = NOTSET;
        set_desc(0, (uk_word_t)&r->hdr, sizeof r->hdr, UK_VRING_DESC_F_NEXT, 1);
        set_desc(1, bad_data[i].addr, bad_data[i].len, UK_VRING_DESC_F_NEXT, 2);
        set_desc(2, (uk_word_t)&r->status, 1, UK_VRING_DESC_F_WRITE, 0);
        long n = run_chain(0, 0);
        char what[80];
        snprintf(what, sizeof what, "%s: I/O error (used %ld)", bad_data[i].what, n);
        expect(what, n == 1 && r->status == UK_VIRTIO_BLK_S_IOERR);
    }

    /* a loop: header -> status -> header ... */
    r->status = NOTSET;
    set_desc(0, (uk_word_t)&r->hdr, sizeof r->hdr, UK_VRING_DESC_F_NEXT, 1);
    set_desc(1, (uk_word_t)&r->status, 1, UK_VRING_DESC_F_WRITE | UK_VRING_DESC_F_NEXT, 0);
    long n = run_chain(0, 0);
    expect("a descriptor chain loop: I/O error", n == 1 && r->status == UK_VIRTIO_BLK_S_IOERR);

    /* a header the device may write (not device-readable) */
    r->status = NOTSET;
    set_desc(0, (uk_word_t)&r->hdr, sizeof r->hdr,
             UK_VRING_DESC_F_WRITE | UK_VRING_DESC_F_NEXT, 1);
    set_desc(1, (uk_word_t)buf, SECTOR, UK_VRING_DESC_F_NEXT, 2);
    set_desc(2, (uk_word_t)&r->status, 1, UK_VRING_DESC_F_WRITE, 0);
    n = run_chain(0, 0);
    expect("a header not device-readable: I/O error",
           n == 1 && r->status == UK_VIRTIO_BLK_S_IOERR);

    /* an indirect descriptor (not offered) */
    r->status = NOTSET;
    set_desc(0, (uk_word_t)&r->hdr, sizeof r->hdr, UK_VRING_DESC_F_NEXT, 1);
    set_desc(1, (uk_word_t)buf, 64, UK_VRING_DESC_F_INDIRECT | UK_VRING_DESC_F_NEXT, 2);
    set_desc(2, (uk_word_t)&r->status, 1, UK_VRING_DESC_F_WRITE, 0);
    n = run_chain(0, 0);
    expect("an indirect descriptor: I/O error", n == 1 && r->status == UK_VIRTIO_BLK_S_IOERR);

    /* a read whose status descriptor is empty: nothing may be written,
     * neither a status nor data (an empty last descriptor once made the
     * data length wrap to 4 GiB) */
    unsigned char *scratch = page_alloc();
    int untouched = scratch != 0;
    if (scratch) {
        memset(scratch, 0x5a, UK_PAGE_SIZE);
        r->hdr = (struct uk_virtio_blk_hdr){ .type = UK_VIRTIO_BLK_T_IN, .sector = VSECTOR };
        set_desc(0, (uk_word_t)&r->hdr, sizeof r->hdr, UK_VRING_DESC_F_NEXT, 1);
        set_desc(1, (uk_word_t)scratch, 1, UK_VRING_DESC_F_WRITE | UK_VRING_DESC_F_NEXT, 2);
        set_desc(2, (uk_word_t)scratch + 1, 0, UK_VRING_DESC_F_WRITE, 0);
        n = run_chain(0, 0);
        for (unsigned i = 0; i < UK_PAGE_SIZE; i++)
            untouched &= scratch[i] == 0x5a;
    }
    expect("an empty status descriptor: returned, nothing written", n == 0 && untouched);

    /* next index past the queue: no status byte; still returned, length 0 */
    r->status = NOTSET;
    set_desc(0, (uk_word_t)&r->hdr, sizeof r->hdr, UK_VRING_DESC_F_NEXT, 99);
    n = run_chain(0, 0);
    expect("a next index past the queue: returned without a status",
           n == 0 && r->status == NOTSET);
    /* a head index past the queue */
    n = run_chain(QSIZE + 3, 0);
    expect("a head index past the queue: returned", n == 0);

    /* sectors past the disk's end, a length that is not whole sectors */
    uk_word_t cap = 0;
    uk_word_t out[4] = { 0 };
    if (vcall(UK_VDEV_VIRTIO_CONFIG, 3, UK_VIRTIO_BLK_CFG_CAPACITY, 8, out) == 0)
        cap = out[1];
    n = request(r, UK_VIRTIO_BLK_T_OUT, cap - 1, buf, 2 * SECTOR, 0);
    expect("sectors past the end: I/O error", n == 1 && r->status == UK_VIRTIO_BLK_S_IOERR);
    n = request(r, UK_VIRTIO_BLK_T_IN, 0, buf, SECTOR + 1, 0);
    expect("not whole sectors: I/O error", n == 1 && r->status == UK_VIRTIO_BLK_S_IOERR);
    n = request(r, 77, 0, buf, SECTOR, 0);
    expect("an unknown request type: unsupported",
           n == 1 && r->status == UK_VIRTIO_BLK_S_UNSUPP);
}

void vdisk_run(void)
{
    if (!find_disk()) {
        kprintf("vdisk: none (%lu virtio devices)\n", gi->virtio_count);
        return;
    }
    uk_word_t out[4] = { 0 };
    long st = vcall(UK_VDEV_VIRTIO_FEATURES, 1, 0, 0, out);
    uk_word_t features = out[1];
    kprintf("vdisk: device %lu, features 0x%lx\n", dev, features);
    expect("features offered: version 1, flush",
           st == 0 && (features & UK_VIRTIO_F_VERSION_1) && (features & UK_VIRTIO_BLK_F_FLUSH));
    expect("features not offered are refused",
           vcall(UK_VDEV_VIRTIO_SET_FEATURES, 2, features | (1ul << 28), 0, 0) == UK_VDEV_EINVAL);
    expect("features taken", vcall(UK_VDEV_VIRTIO_SET_FEATURES, 2, features, 0, 0) == 0);
    st = vcall(UK_VDEV_VIRTIO_CONFIG, 3, UK_VIRTIO_BLK_CFG_CAPACITY, 8, out);
    kprintf("vdisk: capacity %lu sectors\n", out[1]);
    expect("capacity read", st == 0 && out[1] > VSECTOR + 2);
    expect("config past its end refused",
           vcall(UK_VDEV_VIRTIO_CONFIG, 3, UK_VIRTIO_BLK_CFG_SIZE, 4, 0) == UK_VDEV_ERANGE);

    unsigned char *ring = page_alloc(), *buf = page_alloc(), *back = page_alloc();
    struct req *r = page_alloc();
    if (!ring || !buf || !back || !r) {
        kprintf("vdisk: no pages: WRONG\n");
        return;
    }
    desc = (void *)ring;
    avail = (void *)(ring + 1024);
    used = (void *)(ring + 2048);
    uk_word_t q[7] = { dev, 0, QSIZE, (uk_word_t)desc, (uk_word_t)avail, (uk_word_t)used, 0 };
    expect("a ring outside guest RAM is refused",
           vdev_call(UK_VDEV_VIRTIO_QUEUE, 7, (uk_word_t[7]){ dev, 0, QSIZE, 0x2000,
                     (uk_word_t)avail, (uk_word_t)used, 0 }, 0) == UK_VDEV_EFAULT);
    expect("a queue size not a power of 2 is refused",
           vdev_call(UK_VDEV_VIRTIO_QUEUE, 7, (uk_word_t[7]){ dev, 0, 12, (uk_word_t)desc,
                     (uk_word_t)avail, (uk_word_t)used, 0 }, 0) == UK_VDEV_EINVAL);
    expect("queue set", vdev_call(UK_VDEV_VIRTIO_QUEUE, 7, q, 0) == 0);
    expect("notify of a queue it does not have is refused",
           vcall(UK_VDEV_VIRTIO_NOTIFY, 2, 3, 0, 0) == UK_VDEV_EINVAL);
    expect("a device that does not exist is refused",
           vdev_call(UK_VDEV_VIRTIO_NOTIFY, 2, (uk_word_t[2]){ 7, 0 }, 0) == UK_VDEV_ENODEV);

    int event = 0;
    fill(buf, 2 * SECTOR);
    long n = request(r, UK_VIRTIO_BLK_T_OUT, VSECTOR, buf, 2 * SECTOR, &event);
    expect("write of 2 sectors", n == 1 && r->status == UK_VIRTIO_BLK_S_OK);
    expect("the queue's event came", event);
    n = request(r, UK_VIRTIO_BLK_T_FLUSH, 0, buf, 0, 0);
    /* (a flush with two empty data descriptors: whole sectors do not matter) */
    expect("flush", n == 1 && r->status == UK_VIRTIO_BLK_S_OK);
    memset(back, 0, 2 * SECTOR);
    n = request(r, UK_VIRTIO_BLK_T_IN, VSECTOR, back, 2 * SECTOR, 0);
    expect("read back as written",
           n == 2 * SECTOR + 1 && r->status == UK_VIRTIO_BLK_S_OK && !memcmp(buf, back, 2 * SECTOR));
    memset(back, 0, 64);
    n = request(r, UK_VIRTIO_BLK_T_GET_ID, 0, back, 20, 0);
    expect("its id names the guest", n == 21 && r->status == UK_VIRTIO_BLK_S_OK &&
           !memcmp(back, "ukvm-", 5) && !memcmp(back + 5, gi->name, strlen(gi->name)));

    several_chains(r, buf, back);
    bad_chains(r, buf);

    memset(back, 0, 2 * SECTOR);
    n = request(r, UK_VIRTIO_BLK_T_IN, VSECTOR, back, 2 * SECTOR, 0);
    expect("after them, a good read still works",
           n == 2 * SECTOR + 1 && r->status == UK_VIRTIO_BLK_S_OK && !memcmp(buf, back, 2 * SECTOR));
    expect("reset", vcall(UK_VDEV_VIRTIO_RESET, 1, 0, 0, 0) == 0);
    avail->ring[avail_idx % QSIZE] = 0;
    avail->idx = ++avail_idx;
    vcall(UK_VDEV_VIRTIO_NOTIFY, 2, 0, 0, 0);
    idle_wait(50000);
    expect("after the reset the old queue is not served", used->idx == used_seen);
}
