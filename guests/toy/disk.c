/*
 * `disk`: the guest's disk through its vmm-server (uk/abi.h
 * UK_VDEV_BLOCK_*, docs/storage.md).  Fills DISK_FIRST.. with text that
 * names the guest and the sector ("<name> sector <s> " repeated), in two
 * requests, flushes, reads it back into other pages and compares; then
 * sends requests the disk must refuse.  Each check prints one line ending
 * in "ok" or "WRONG"; tests/storage/run reads them from the serial log and
 * the written sectors from the disk image.
 */
#include "toy.h"

#define DISK_FIRST   64ul
#define DISK_COUNT   32ul     /* sectors, in two requests of 16 */
#define PER_REQUEST  16ul
#define SECTOR       512ul

static void expect(const char *what, long got, long want)
{
    kprintf("disk: %s: status %ld: %s\n", what, got, got == want ? "ok" : "WRONG");
}

static long io(uk_word_t op, uk_word_t sector, uk_word_t count, uk_word_t buf)
{
    uk_word_t w[3] = { sector, count, buf };
    return vdev_call(op, 3, w, 0);
}

/* n pages of RAM, contiguous (the bump allocator gives them so at start). */
static unsigned char *pages(unsigned n)
{
    unsigned char *first = page_alloc();
    for (unsigned i = 1; i < n; i++)
        if ((unsigned char *)page_alloc() != first + i * UK_PAGE_SIZE)
            return 0;
    return first;
}

static void fill_sector(unsigned char *p, uk_word_t s)
{
    char text[64];
    int n = snprintf(text, sizeof text, "%s sector %lu ", gi->name, s);
    for (unsigned long i = 0; i < SECTOR; i++)
        p[i] = (unsigned char)text[i % (unsigned long)n];
}

void disk_run(void)
{
    uk_word_t out[4] = { 0 };
    long st = vdev_call(UK_VDEV_BLOCK_INFO, 0, 0, out);
    if (st == UK_VDEV_ENODEV) {
        kprintf("disk: none (status %ld)\n", st);
        return;
    }
    if (st) {
        expect("info", st, 0);
        return;
    }
    uk_word_t sectors = out[1], max = out[3];
    kprintf("disk: %lu sectors (%lu KiB), at most %lu a request\n", sectors, sectors / 2, max);
    unsigned n = (unsigned)(PER_REQUEST * SECTOR / UK_PAGE_SIZE);
    unsigned char *wbuf = pages(n), *rbuf = pages(n);
    if (!wbuf || !rbuf) {
        kprintf("disk: no contiguous pages for the buffers: WRONG\n");
        return;
    }
    int same = 1;
    for (uk_word_t s = DISK_FIRST; s < DISK_FIRST + DISK_COUNT; s += PER_REQUEST) {
        for (uk_word_t k = 0; k < PER_REQUEST; k++)
            fill_sector(wbuf + k * SECTOR, s + k);
        expect("write", io(UK_VDEV_BLOCK_WRITE, s, PER_REQUEST, (uk_word_t)wbuf), 0);
    }
    expect("flush", vdev_call(UK_VDEV_BLOCK_FLUSH, 0, 0, 0), 0);
    for (uk_word_t s = DISK_FIRST; s < DISK_FIRST + DISK_COUNT; s += PER_REQUEST) {
        memset(rbuf, 0, PER_REQUEST * SECTOR);
        expect("read", io(UK_VDEV_BLOCK_READ, s, PER_REQUEST, (uk_word_t)rbuf), 0);
        for (uk_word_t k = 0; k < PER_REQUEST; k++) {
            fill_sector(wbuf, s + k);
            same &= !memcmp(rbuf + k * SECTOR, wbuf, SECTOR);
        }
    }
    kprintf("disk: sectors %lu..%lu read back as written: %s\n", DISK_FIRST,
            DISK_FIRST + DISK_COUNT - 1, same ? "ok" : "WRONG");
    /* what the disk must refuse */
    expect("past the end", io(UK_VDEV_BLOCK_READ, sectors, 1, (uk_word_t)rbuf), UK_VDEV_ERANGE);
    expect("sector + count wraps", io(UK_VDEV_BLOCK_WRITE, ~0ul, 2, (uk_word_t)wbuf),
           UK_VDEV_ERANGE);
    expect("no sectors", io(UK_VDEV_BLOCK_READ, 0, 0, (uk_word_t)rbuf), UK_VDEV_EINVAL);
    expect("too many sectors", io(UK_VDEV_BLOCK_READ, 0, max + 1, (uk_word_t)rbuf),
           UK_VDEV_EINVAL);
    expect("buffer outside RAM", io(UK_VDEV_BLOCK_READ, 0, 1, 0x1000), UK_VDEV_EFAULT);
    expect("buffer past RAM's end",
           io(UK_VDEV_BLOCK_READ, 0, 2, gi->ram_base + gi->ram_size - SECTOR), UK_VDEV_EFAULT);
    expect("buffer address wraps", io(UK_VDEV_BLOCK_WRITE, 0, 2, ~0ul - 100), UK_VDEV_EFAULT);
    expect("words missing", vdev_call(UK_VDEV_BLOCK_READ, 2, (uk_word_t[]){ 0, 1 }, 0),
           UK_VDEV_EINVAL);
}

#define TICK_FIRST  128ul     /* diskio's sectors: TICK_FIRST.. cycling through TICK_SPAN */
#define TICK_SPAN   64ul
#define TICK_LOST   (-2l)     /* an acknowledged write of the last cycle is not on the disk */

/* Sector s's text in cycle `gen` of disk_tick. */
static void fill_tick(unsigned char *p, uk_word_t s, uk_word_t gen)
{
    char text[64];
    int n = snprintf(text, sizeof text, "%s sector %lu cycle %lu ", gi->name, s, gen);
    for (unsigned long i = 0; i < SECTOR; i++)
        p[i] = (unsigned char)text[i % (unsigned long)n];
}

/* One round trip: sector s of this cycle written and read back; from the
 * second cycle on, first read what the last cycle wrote there and was
 * acknowledged: a block server that crashed or was restarted meanwhile
 * must not have lost it (TICK_LOST). */
long disk_tick(void)
{
    static unsigned char *buf;
    static uk_word_t n;
    if (!buf && !(buf = pages(1)))
        return -1;
    uk_word_t s = TICK_FIRST + n % TICK_SPAN, gen = n / TICK_SPAN;
    long st;
    int lost = 0;
    if (gen) {
        fill_tick(buf, s, gen - 1);
        memset(buf + SECTOR, 0, SECTOR);
        if ((st = io(UK_VDEV_BLOCK_READ, s, 1, (uk_word_t)(buf + SECTOR))))
            return st;
        if (memcmp(buf, buf + SECTOR, SECTOR)) {
            fill_tick(buf, s, gen);   /* this cycle's, written but its answer lost
                                         (a failed earlier try): not a loss */
            lost = memcmp(buf, buf + SECTOR, SECTOR) != 0;
        }
    }
    /* written even after a loss: said once (TICK_LOST), then the cycle
     * goes on from a sector that holds what it should */
    fill_tick(buf, s, gen);
    if ((st = io(UK_VDEV_BLOCK_WRITE, s, 1, (uk_word_t)buf)))
        return st;
    n++;                      /* acknowledged: the next cycle checks it */
    memset(buf + SECTOR, 0, SECTOR);
    if ((st = io(UK_VDEV_BLOCK_READ, s, 1, (uk_word_t)(buf + SECTOR))))
        return st;
    return memcmp(buf, buf + SECTOR, SECTOR) ? -1 : lost ? TICK_LOST : 0;
}
