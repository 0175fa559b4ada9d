/*
 * The block server's checks of a client's READ or WRITE (uk/blk.h), alone
 * or in a batch: all of them, before the device sees anything; and the
 * descriptors of its data.  No system calls, so the host fuzzer (tests/fuzz-host/fuzz_blkreq.c)
 * runs them as they are.
 */
#ifndef BLK_CHECK_H
#define BLK_CHECK_H

#include <uk/blk.h>
#include <user/virtio.h>

/* What a request is checked against: its client's disk and window. */
struct blk_target {
    int live;                 /* the disk is in service */
    uk_word_t sectors;        /* its size */
    unsigned flags;           /* UK_BLK_F_* */
    uk_word_t window_bytes;   /* the client's window */
};

/* count sectors from `sector`, to or from the window at byte `off`:
 * UK_BLK_OK or the status to answer with (EINVAL, EIO, ERANGE, EFAULT,
 * EROFS, checked in that order).  Overflow-safe: no sum is formed before
 * its parts are known to be small. */
long blk_check_io(const struct blk_target *t, int write, uk_word_t sector, uk_word_t count,
                  uk_word_t off);

/* UK_BLK_OP_BATCH: k requests in a message of len words: UK_BLK_OK, or
 * UK_BLK_EINVAL (k not 1..UK_BLK_BATCH_MAX, or len not 1 + k words each). */
long blk_check_batch(uk_word_t k, uk_word_t len);

/* One request of a batch, from its UK_BLK_BATCH_WORDS words (op, maybe |
 * UK_BLK_OP_RAM, | sectors << 8, first sector, window or RAM offset).  op_ok: it is a READ or a WRITE
 * (else its status is UK_BLK_EINVAL); then blk_check_io checks the rest,
 * as for a READ or WRITE of its own. */
struct blk_batch_req {
    int op_ok, write;
    int ram;                  /* UK_BLK_OP_RAM: off is in the client's RAM */
    uk_word_t sector, count, off;
};
void blk_batch_decode(uk_word_t w0, uk_word_t w1, uk_word_t w2, struct blk_batch_req *q);

/* The data of a checked request, bytes at va (in the client's window), as
 * descriptors after bufs[0] (the header): one per physically contiguous
 * run, as phys_of (virt_to_phys) finds the pages; the device writes them
 * for a READ.  *nb (1 on entry) grows by their number; at least one
 * descriptor is left for the status.  UK_BLK_OK, UK_BLK_EFAULT if a page
 * is not mapped (the root unmapped part of the window), UK_BLK_EINVAL if
 * there are too many runs (cannot happen with 64 KiB: 17 pages). */
long blk_data_chain(uk_word_t va, uk_word_t bytes, int write, uk_word_t (*phys_of)(uk_word_t),
                    struct virtq_buf *bufs, unsigned *nb);

#endif
