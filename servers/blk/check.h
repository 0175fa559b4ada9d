/*
 * The block server's checks of a client's READ or WRITE (uk/blk.h): all
 * of them, before the device sees anything.  No system calls, so the host
 * fuzzer (tests/fuzz-host/fuzz_blkreq.c) runs them as they are.
 */
#ifndef BLK_CHECK_H
#define BLK_CHECK_H

#include <uk/blk.h>

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

#endif
