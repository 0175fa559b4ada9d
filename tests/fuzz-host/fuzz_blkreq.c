/*
 * The block server's checks of a client's READ or WRITE
 * (servers/blk/check.c): the client (a vmm-server, on behalf of its
 * untrusted guest) chooses the sector, the count and the offset in its
 * window; the disk's size and flags and the window's size are the
 * server's.  Checked against the statuses uk/blk.h documents, written out
 * here with 128-bit arithmetic: the status is exactly the expected one
 * (EINVAL, EIO, ERANGE, EFAULT, EROFS, in that order), and an accepted
 * request lies inside the disk and inside the window, moves at most
 * UK_BLK_MAX_SECTORS (64 KiB: the vmm-server's bounce window) and writes
 * only to a writable disk.  Then its data descriptors (blk_data_chain),
 * with the window's pages at physical frames the input chooses (runs of
 * contiguous frames, scattered ones, unmapped ones): refused with EFAULT
 * exactly when a page of the data is unmapped; else the descriptors
 * after the header, in order, are exactly the data's bytes at their
 * physical addresses, none empty, two neighbours never contiguous (they
 * would be one), the device writing them exactly for a READ, and one
 * descriptor is left for the status (the chain fits VIRTQ_MAX_CHAIN).
 * Then a batch's words (blk_check_batch, blk_batch_decode): its size
 * refused exactly when it is wrong, each request's words read back as
 * uk/blk.h lays them out (its checks are blk_check_io's, above).
 */
#include "fuzz.h"
#include "../../servers/blk/check.c"

/* Edge values are likelier than uniform words to find a wrong comparison. */
static uk_word_t value(struct input *in, uk_word_t near)
{
    uk_word_t kind = take(in, 1) % 6, v = take(in, 8);
    switch (kind) {
    case 0: return v % 4;
    case 1: return near + v % 8 - 4;                 /* around the limit */
    case 2: return ~0ul - v % 8;
    case 3: return near + 1 ? v % (near + 1) : v;
    case 4: return (uk_word_t)1 << (v % 64);
    default: return v;
    }
}

/* The window's pages: physical frames (~0: unmapped), drawn from the input. */
#define WINDOW_PAGES_MAX (UK_BLK_MAX_SECTORS * UK_BLK_SECTOR / UK_PAGE_SIZE + 1)
static uk_word_t window_base, first_page, frame[WINDOW_PAGES_MAX];

static uk_word_t phys_of(uk_word_t va)
{
    uk_word_t p = (va - window_base) / UK_PAGE_SIZE - first_page;
    CHECK(va >= window_base && p < WINDOW_PAGES_MAX);    /* only the data's pages */
    return frame[p] == ~0ul ? ~0ul : frame[p] + va % UK_PAGE_SIZE;
}

static void check_chain(struct input *in, int write, uk_word_t count, uk_word_t off)
{
    uk_word_t client = 1 + take(in, 1) % UK_BLK_MAX_CLIENTS;
    window_base = UK_BLK_WINDOW(client);
    first_page = off / UK_PAGE_SIZE;
    uk_word_t bytes = count * UK_BLK_SECTOR;
    uk_word_t pages = (off + bytes - 1) / UK_PAGE_SIZE - first_page + 1;
    int unmapped = 0;
    for (uk_word_t p = 0; p < WINDOW_PAGES_MAX; p++) {
        uk_word_t how = take(in, 1) % 8;
        if (how == 0) {
            frame[p] = ~0ul;
            unmapped |= p < pages;
        } else if (how < 5 && p > 0 && frame[p - 1] != ~0ul) {
            frame[p] = frame[p - 1] + UK_PAGE_SIZE;       /* contiguous */
        } else {
            frame[p] = (take(in, 4) % (1ul << 24)) * UK_PAGE_SIZE;
        }
    }
    struct virtq_buf bufs[VIRTQ_MAX_CHAIN];
    memset(bufs, 0x5a, sizeof bufs);
    bufs[0] = (struct virtq_buf){ 0x1000, 16, 0 };        /* the header */
    unsigned nb = 1;
    long st = blk_data_chain(window_base + off, bytes, write, phys_of, bufs, &nb);
    CHECK(st == (unmapped ? UK_BLK_EFAULT : UK_BLK_OK));
    if (st != UK_BLK_OK)
        return;
    CHECK(nb >= 2 && nb <= VIRTQ_MAX_CHAIN - 1);
    CHECK(bufs[0].phys == 0x1000 && bufs[0].len == 16 && !bufs[0].device_writes);
    uk_word_t at = off;                                   /* window offset of the next byte */
    for (unsigned i = 1; i < nb; i++) {
        CHECK(bufs[i].len > 0 && bufs[i].device_writes == !write);
        CHECK(i == 1 || bufs[i - 1].phys + bufs[i - 1].len != bufs[i].phys);
        for (uk_word_t k = 0; k < bufs[i].len; k += UK_PAGE_SIZE - (at + k) % UK_PAGE_SIZE)
            CHECK(bufs[i].phys + k == frame[(at + k) / UK_PAGE_SIZE - first_page] +
                                          (at + k) % UK_PAGE_SIZE);
        at += bufs[i].len;
    }
    CHECK(at == off + bytes);
}

/* A batch (UK_BLK_OP_BATCH) from the rest of the input: its count and
 * length refused exactly when uk/blk.h says, and each request decoded
 * from its words as a READ or WRITE of its own (anything else: EINVAL). */
static void check_batch(struct input *in)
{
    uk_word_t k = value(in, UK_BLK_BATCH_MAX);
    uk_word_t len = take(in, 1) & 1 ? 1 + (k % 16) * UK_BLK_BATCH_WORDS : take(in, 1);
    long st = blk_check_batch(k, len);
    CHECK(st == (k >= 1 && k <= UK_BLK_BATCH_MAX && len == 1 + k * UK_BLK_BATCH_WORDS
                 ? UK_BLK_OK : UK_BLK_EINVAL));
    if (st != UK_BLK_OK)
        return;
    for (uk_word_t j = 0; j < k; j++) {
        uk_word_t w0 = take(in, 1) % 8 ? (take(in, 1) % 6) | value(in, UK_BLK_MAX_SECTORS) << 8
                                       : take(in, 8);
        uk_word_t w1 = take(in, 8), w2 = take(in, 8);
        struct blk_batch_req q;
        blk_batch_decode(w0, w1, w2, &q);
        uk_word_t op = w0 & 0xff & ~UK_BLK_OP_RAM;
        CHECK(q.ram == ((w0 & UK_BLK_OP_RAM) != 0));
        CHECK(q.op_ok == (op == UK_BLK_OP_READ || op == UK_BLK_OP_WRITE));
        CHECK(!q.op_ok || q.write == (op == UK_BLK_OP_WRITE));
        CHECK(q.count == w0 >> 8 && q.sector == w1 && q.off == w2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    struct blk_target t;
    uk_word_t bits = take(&in, 1);
    t.live = bits & 1;
    t.flags = (bits >> 1) & (UK_BLK_F_RO | UK_BLK_F_FLUSH);
    int write = (bits >> 3) & 1;
    t.sectors = value(&in, 1ul << 21);
    t.window_bytes = (1 + take(&in, 2) % (UK_BLK_WINDOW_MAX / UK_PAGE_SIZE)) * UK_PAGE_SIZE;
    uk_word_t sector = value(&in, t.sectors);
    uk_word_t count = value(&in, UK_BLK_MAX_SECTORS);
    uk_word_t off = value(&in, t.window_bytes);

    long st = blk_check_io(&t, write, sector, count, off);

    unsigned __int128 bytes = (unsigned __int128)count * UK_BLK_SECTOR;
    long want = count == 0 || count > UK_BLK_MAX_SECTORS ? UK_BLK_EINVAL
              : !t.live ? UK_BLK_EIO
              : (unsigned __int128)sector + count > t.sectors ? UK_BLK_ERANGE
              : (unsigned __int128)off + bytes > t.window_bytes ? UK_BLK_EFAULT
              : write && (t.flags & UK_BLK_F_RO) ? UK_BLK_EROFS : UK_BLK_OK;
    CHECK(st == want);
    if (st == UK_BLK_OK) {
        CHECK(t.live && count >= 1 && bytes <= UK_BLK_MAX_SECTORS * UK_BLK_SECTOR);
        CHECK(sector < t.sectors && sector + count <= t.sectors && sector + count > sector);
        CHECK(off < t.window_bytes && off + bytes <= t.window_bytes);
        CHECK(!write || !(t.flags & UK_BLK_F_RO));
        check_chain(&in, write, count, off);
    }
    check_batch(&in);
    return 0;
}
