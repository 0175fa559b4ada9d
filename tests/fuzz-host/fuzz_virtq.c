/*
 * The vmm-server's virtio back-end core (vmm-server/virtio.c): the guest's
 * driver is untrusted and chooses the queue's size and ring addresses (the
 * UK_VDEV_VIRTIO_QUEUE request) and everything in its RAM: descriptors,
 * the avail ring and its index.  The input gives all of it; the guest's
 * RAM is an exact-size heap buffer (ASan sees any access past it).
 * Checked, against the rules written out here on their own:
 *  - the QUEUE request is refused with EINVAL exactly when the queue number
 *    or size is wrong (not a power of two, over UK_VIRTIO_QUEUE_MAX) or a
 *    ring is misaligned, with EFAULT exactly when a ring is not wholly in
 *    guest RAM, and accepted otherwise;
 *  - every chain vio_next hands out is the walk of the descriptor table
 *    done here: the same head, segments (our address, length, direction),
 *    and the same verdict (an index past the queue, a loop, an indirect
 *    descriptor, bytes outside RAM or wrapping); a chain has at most the
 *    queue's size of segments, and a good one only segments wholly in RAM
 *    (their bytes are read: ASan);
 *  - the device never takes more chains in one pass than the queue holds
 *    (an avail index run ahead by more than the queue's size is a broken
 *    driver: the queue is turned off, not walked 65,535 times);
 *  - vio_done puts each chain in the used ring and sets the used index to
 *    its own count, one more than before.
 */
#include "fuzz.h"
#define main vmm_main          /* rt.h declares the program's main(bootinfo) */
#include "../../vmm-server/vmm.h"
#undef main

/* What virtio.c would get from the rest of the vmm-server and the kernel. */
static unsigned char *ram;
static uk_word_t ram_bytes;
static struct uk_ipc_buffer *ipc;
static unsigned notified;
#undef uk_ipc_buf
#define uk_ipc_buf ipc
static long fake_cap_delete(uk_word_t task, uk_word_t slot)
{
    (void)task, (void)slot;
    return 0;
}
static long fake_cap_copy(uk_word_t src, uk_word_t task, uk_word_t dst, uk_word_t rights,
                          uk_word_t badge)
{
    (void)src, (void)task, (void)dst, (void)rights, (void)badge;
    return 0;
}
static long fake_signal(uk_word_t slot)
{
    (void)slot;
    notified++;
    return 0;
}
#define uk_cap_delete fake_cap_delete
#define uk_cap_copy fake_cap_copy
#define uk_signal fake_signal
void vmm_say(const char *fmt, ...) { (void)fmt; }
#include "../../vmm-server/vdev.c"
unsigned char *guest_bytes(uk_word_t g, uk_word_t bytes)
{
    uk_word_t off = vdev_ram_offset(g, bytes, ram_bytes);
    return off == ~0ul ? 0 : ram + off;
}
#include "../../vmm-server/virtio.c"

/* One device of two queues whose notify checks the chains. */
static uk_word_t no_features(struct vio_dev *d) { (void)d; return 0; }
static long no_config(struct vio_dev *d, uk_word_t off, uk_word_t len, uk_word_t *v)
{
    (void)d, (void)off, (void)len, (void)v;
    return -1;
}
static void check_queue(struct vio_dev *d, unsigned qi);
static const struct vio_backend test_be = {
    "fuzz", 2, 2, no_features, no_config, check_queue, 0,
};

static struct vio_chain chain;
static uk_word_t bus_to_guest;
static uk_word_t desc_bus;
static unsigned num;
static unsigned chains_seen;
static struct input *cur;

/* Our address of guest bus bytes, by the rule: all of [bus, bus+len) in RAM. */
static unsigned char *expect_bytes(uk_word_t bus, uk_word_t len)
{
    unsigned __int128 g = (unsigned __int128)bus + bus_to_guest;
    if (g >> 64 || g < GUEST_RAM_VA || g + len > GUEST_RAM_VA + (unsigned __int128)ram_bytes)
        return 0;
    return ram + (uk_word_t)(g - GUEST_RAM_VA);
}

/* The walk vio_next must have done, on the table as it is now. */
static void check_chain(const struct vio_chain *c)
{
    const struct uk_vring_desc *desc = (const struct uk_vring_desc *)expect_bytes(desc_bus, 0);
    unsigned char seen[UK_VIRTIO_QUEUE_MAX] = { 0 };
    unsigned n = 0;
    enum vio_bad bad = VIO_BAD_NONE;
    for (unsigned i = c->head;;) {
        if (i >= num) { bad = VIO_BAD_INDEX; break; }
        if (seen[i]) { bad = VIO_BAD_LOOP; break; }
        seen[i] = 1;
        CHECK(n < num);
        const struct vio_seg *s = &c->seg[n++];
        unsigned char *p = expect_bytes(desc[i].addr, desc[i].len);
        int indirect = !!(desc[i].flags & UK_VRING_DESC_F_INDIRECT);
        CHECK(s->len == desc[i].len);
        CHECK(s->writable == !!(desc[i].flags & UK_VRING_DESC_F_WRITE));
        CHECK(s->p == (indirect ? 0 : p));
        if (indirect)
            bad = VIO_BAD_INDIRECT;
        else if (!p && bad == VIO_BAD_NONE)
            bad = VIO_BAD_ADDR;
        if (!(desc[i].flags & UK_VRING_DESC_F_NEXT))
            break;
        i = desc[i].next;
    }
    CHECK(c->nseg == n && n <= num);
    CHECK(c->bad == bad);
    if (c->bad != VIO_BAD_NONE)
        return;
    unsigned char sink = 0;
    for (unsigned k = 0; k < c->nseg; k++) {
        const struct vio_seg *s = &c->seg[k];
        CHECK(s->p >= ram && s->p + s->len <= ram + ram_bytes);
        for (unsigned b = 0; b < s->len; b += 61)
            sink ^= s->p[b];
        if (s->len)
            sink ^= s->p[s->len - 1];
    }
    __asm__ volatile("" :: "r"(sink));               /* the reads are kept */
}

static void check_queue(struct vio_dev *d, unsigned qi)
{
    struct vio_queue *q = &d->q[qi];
    unsigned taken = 0;
    while (vio_next(d, qi, &chain)) {
        CHECK(++taken <= num);                       /* never more than the queue holds */
        CHECK(chain.head < 65536);
        check_chain(&chain);
        chains_seen++;
        if (!q->num)
            break;
        /* (the guest may lay its rings over each other: the used index is
         * the device's own count, whatever the guest wrote there) */
        unsigned short before = q->next_used;
        vio_done(d, qi, chain.head, (unsigned)take(cur, 2));
        CHECK(q->used->idx == (unsigned short)(before + 1) && q->next_used == q->used->idx);
        CHECK(q->used->ring[before % q->num].id == chain.head);
    }
    vio_interrupt(d, qi);
}

/* The QUEUE request's status by the rule. */
static long expected_status(uk_word_t qi, uk_word_t n, uk_word_t desc, uk_word_t avail,
                            uk_word_t used)
{
    if (qi >= 2)
        return UK_VDEV_EINVAL;
    if (n == 0)
        return 0;
    if (n > UK_VIRTIO_QUEUE_MAX || (n & (n - 1)) || desc % 16 || avail % 2 || used % 4)
        return UK_VDEV_EINVAL;
    if (!expect_bytes(desc, n * 16) || !expect_bytes(avail, 4 + n * 2 + 2) ||
        !expect_bytes(used, 4 + n * 8 + 2))
        return UK_VDEV_EFAULT;
    return 0;
}

/* A bus address: mostly inside RAM and aligned, sometimes anything. */
static uk_word_t bus_addr(struct input *in)
{
    uk_word_t kind = take(in, 1);
    if (kind < 0xc0)
        return (take(in, 2) % (ram_bytes / 16)) * 16 + GUEST_RAM_VA - bus_to_guest;
    if (kind < 0xe0)
        return take(in, 4);
    return ~0ul - take(in, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int dev = -1;
    struct input in = { data, size };
    cur = &in;
    if (dev < 0)
        dev = vio_add(&test_be, 0);
    struct vio_dev *d = vio_dev(dev);
    CHECK(d);
    ram_bytes = (1 + take(&in, 1) % 16) * UK_PAGE_SIZE;     /* 4..64 KiB */
    ram = malloc(ram_bytes);
    ipc = calloc(1, sizeof *ipc);
    uk_word_t bt = take(&in, 1);
    bus_to_guest = bt < 0xe0 ? GUEST_RAM_VA : take(&in, 8); /* as Linux's driver: bus 0 = RAM */
    uk_word_t sel = take(&in, 1);
    uk_word_t qi = sel < 0xf0 ? sel % 2 : take(&in, 8);
    uk_word_t n = take(&in, 1) < 0xe0 ? 1u << (take(&in, 1) % 9) : take(&in, 2);
    uk_word_t desc = bus_addr(&in), avail = bus_addr(&in), used = bus_addr(&in);
    /* chains the driver makes available after the queue is set: mostly a
     * few, sometimes any 16-bit run (a broken driver) */
    uk_word_t ahead = take(&in, 1) < 0xf0 ? take(&in, 1) % 9 : take(&in, 2);
    /* the rest of the input is the guest's RAM (zero after the input ends) */
    memset(ram, 0, ram_bytes);
    for (uk_word_t i = 0; i < ram_bytes && in.n; i++)
        ram[i] = (unsigned char)take(&in, 1);

    struct uk_msg m = { .info = uk_msginfo(UK_VDEV_VIRTIO_QUEUE, 7, 0) };
    m.w[0] = (uk_word_t)dev;
    m.w[1] = qi;
    m.w[2] = n;
    m.w[3] = desc;
    ipc->msg[4] = avail;
    ipc->msg[5] = used;
    ipc->msg[6] = bus_to_guest;
    uk_word_t out[4] = { 0 };
    long st = virtio_request(UK_VDEV_VIRTIO_QUEUE, 7, &m, out);
    CHECK(st == expected_status(qi, n, desc, avail, used));
    if (st == 0 && n) {
        num = (unsigned)n;
        desc_bus = desc;
        chains_seen = 0;
        struct uk_vring_avail *av = (struct uk_vring_avail *)expect_bytes(avail, 4);
        av->idx = (unsigned short)(av->idx + ahead);
        struct uk_msg k = { .info = uk_msginfo(UK_VDEV_VIRTIO_NOTIFY, 2, 0) };
        k.w[0] = (uk_word_t)dev;
        k.w[1] = qi;
        CHECK(virtio_request(UK_VDEV_VIRTIO_NOTIFY, 2, &k, out) == 0);
        CHECK(virtio_kicked());
        virtio_serve();
        CHECK(!virtio_kicked());
        /* a correct driver's chains are all taken, a broken one's none
         * (when its rings lie apart: else the used ring rewrites the avail
         * index as the device goes, the guest's own doing) */
        uk_word_t a_end = avail + 6 + 2 * n, u_end = used + 6 + 8 * n;
        if (a_end <= used || u_end <= avail)
            CHECK(chains_seen == (ahead <= n ? ahead : 0));
        else
            CHECK(chains_seen <= 65536);
    }
    struct uk_msg r = { .info = uk_msginfo(UK_VDEV_VIRTIO_RESET, 1, 0) };
    r.w[0] = (uk_word_t)dev;
    CHECK(virtio_request(UK_VDEV_VIRTIO_RESET, 1, &r, out) == 0);
    free(ipc);
    free(ram);
    return 0;
}
