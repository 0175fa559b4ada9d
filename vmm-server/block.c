/*
 * The guest's disk (uk/abi.h UK_VDEV_BLOCK_*, docs/storage.md): its
 * requests forwarded to the block server, through the window the root
 * task mapped at UK_VMM_BLK_WINDOW here and into the block server.  The
 * guest names its buffer by guest address; vdev.c checks it lies in its RAM; we
 * copy between it and the window (a bounce: the block server sees the
 * window, never the guest's RAM).  The block server checks the sectors
 * against the guest's disk itself; its statuses are the UK_VDEV_E* values
 * (both are negative errno numbers), passed on as they are.  While a
 * request runs we wait for it: the guest's vCPU waits for our reply anyway;
 * the timer thread goes on.
 *
 * The same disk is also a virtio-blk device (vblk.c), for a guest with a
 * virtio driver (Linux's virtio_blk on arch/um/drivers/virtio_ukvm.c).
 */
#include "vmm.h"
#include <uk/blk.h>

#define BLK_TIMEOUT uk_timeout_us(30000000)   /* the block server gives up on a device
                                                 after 5 s; this is for the server itself */

long blk_call(uk_word_t op, unsigned len, uk_word_t w0, uk_word_t w1, uk_word_t w2,
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
    vmm_say("disk: %lu sectors (%lu KiB) through the block server", r[1], r[1] / 2);
    vblk_add(r[1], r[3]);        /* sectors, UK_BLK_F_* */
}

/* r: checked by vdev_decode (a disk; count 1..UK_BLK_MAX_SECTORS; the
 * buffer inside the guest's RAM). */
long block_request(const struct vdev_req *r, uk_word_t out[4])
{
    unsigned char *win = (unsigned char *)UK_VMM_BLK_WINDOW;
    switch (r->op) {
    case UK_VDEV_BLOCK_INFO: {
        long st = blk_call(UK_BLK_OP_INFO, 0, 0, 0, 0, out);
        out[3] = UK_BLK_MAX_SECTORS;
        return st;
    }
    case UK_VDEV_BLOCK_FLUSH:
        return blk_call(UK_BLK_OP_FLUSH, 0, 0, 0, 0, 0);
    case UK_VDEV_BLOCK_READ:
    case UK_VDEV_BLOCK_WRITE: {
        uk_word_t bytes = r->count * UK_BLK_SECTOR;
        unsigned char *buf = (unsigned char *)vmm.vi->mem_base + r->ram_off;
        if (r->op == UK_VDEV_BLOCK_WRITE) {
            memcpy(win, buf, bytes);
            return blk_call(UK_BLK_OP_WRITE, 3, r->sector, r->count, 0, 0);
        }
        long st = blk_call(UK_BLK_OP_READ, 3, r->sector, r->count, 0, 0);
        if (st == 0)
            memcpy(buf, win, bytes);
        return st;
    }
    default:
        return UK_VDEV_EINVAL;
    }
}
