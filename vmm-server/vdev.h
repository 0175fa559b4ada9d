/*
 * Decoding a guest's device request (uk/abi.h "Virtual devices"): every
 * check that needs nothing but the message, done before anything is acted
 * on.  No system calls and no globals, so the host fuzzer
 * (tests/fuzz-host/fuzz_vdev.c) runs it as it is; devices.c and block.c
 * act on what it decoded.
 */
#ifndef VMM_VDEV_H
#define VMM_VDEV_H

#include <uk/syscall.h>

#define GUEST_RAM_VA     0x100000000ul /* guest RAM in the guest kernel's task */
#define MIN_PERIOD_NS    1000000ul     /* the microkernel's tick: nothing finer is real */

/* What the request is checked against. */
struct vdev_limits {
    uk_word_t ram_bytes;      /* the guest's RAM: block buffers must lie inside */
    int disk;                 /* the guest has a disk (else block requests: ENODEV) */
};

/* A request that passed: its operation (the label) and arguments. */
struct vdev_req {
    uk_word_t op;
    uk_word_t count;          /* CONSOLE_WRITE: bytes (in bytes[]); CONSOLE_READ: at most
                                 this many (<= UK_VDEV_BYTES_MAX); BLOCK_*: sectors */
    uk_word_t first_ns, period_ns;   /* TIMER_SET */
    uk_word_t how, status;    /* POWER */
    uk_word_t sector;         /* BLOCK_READ/WRITE: first sector, */
    uk_word_t ram_off;        /* the buffer: offset into guest RAM; count * UK_BLK_SECTOR
                                 bytes there are inside it */
    unsigned char bytes[UK_VDEV_BYTES_MAX];
};

/* The request in m (words 4.. in b), from the guest (the caller checked
 * the badge): 0 and r filled, or the UK_VDEV_E* status to answer with;
 * r->op is set either way. */
long vdev_decode(const struct uk_msg *m, const struct uk_ipc_buffer *b,
                 const struct vdev_limits *lim, struct vdev_req *r);
/* How many words the reply to a request with this label has, refused or not
 * (a guest driver reads that many). */
uk_word_t vdev_reply_words(uk_word_t op);

#endif
