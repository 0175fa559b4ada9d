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
 * only to a writable disk.
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
    }
    return 0;
}
