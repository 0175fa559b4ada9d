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
#define RETRY_US    1000ul                    /* between tries while the server is gone */
#define RETRIES_MAX 5000u                     /* then (5 s) the disk fails: EIO */

static int nap_ready;            /* SLOT_BLK_NAP made (a notification nobody signals) */
static unsigned long outages;    /* times the server went away under us */

/* The server is gone or not yet back: its endpoint destroyed while we
 * waited (UK_E_DESTROYED), or our slot empty or not yet an endpoint (the
 * root task is replacing it: roottask/blk.c blk_restart).  A timeout is
 * not: a server that hangs for 30 s with nobody to restart it fails the
 * request. */
static int server_gone(long err)
{
    return err == UK_E_DESTROYED || err == UK_E_CAP || err == UK_E_CAP_TYPE;
}

static void nap(void)
{
    if (!nap_ready)
        nap_ready = uk_notif_create(SLOT_BLK_NAP) == UK_OK;
    if (nap_ready)
        uk_wait(SLOT_BLK_NAP, uk_timeout_us(RETRY_US), 0);
    else
        uk_yield();
}

long blk_call_retrying(struct uk_msg *m)
{
    uk_word_t info = m->info, len = uk_msg_len(info), w[UK_MSG_MAX_WORDS];
    for (uk_word_t i = 0; i < len; i++)  /* a retry sends it again as it was */
        w[i] = uk_msg_word(m, uk_ipc_buf, i);
    uk_word_t t0 = 0;
    for (unsigned tries = 0;; tries++) {
        m->info = info;
        for (uk_word_t i = 0; i < len; i++)
            uk_msg_set_word(m, uk_ipc_buf, i, w[i]);
        long err = uk_call(UK_VMM_SLOT_BLK, m);
        if (!err && tries) {             /* the words of m are the reply's: save them */
            uk_word_t r[UK_MSG_MAX_WORDS], rlen = uk_msg_len(m->info);
            for (uk_word_t i = 0; i < rlen; i++)
                r[i] = uk_msg_word(m, uk_ipc_buf, i);
            uk_word_t t = uk_rdtsc();   /* t= as the experiments' lines have it */
            vmm_say("disk: the block server is back: request retried %u times over %lu "
                    "instructions (outage %lu) t=%lu", tries, t - t0, outages,
                    t - vmm.vi->boot_tsc);
            for (uk_word_t i = 0; i < rlen; i++)
                uk_msg_set_word(m, uk_ipc_buf, i, r[i]);
        }
        if (!err || !server_gone(err) || tries == RETRIES_MAX) {
            if (err)
                vmm_say("disk: the block server does not answer (error %ld)", err);
            return err;
        }
        if (!tries) {
            t0 = uk_rdtsc();
            outages++;
        }
        nap();
    }
}

/* The block server is not trusted to answer well: a status that is none
 * of uk/blk.h's, too few words, a disk whose size changed is rejected (an
 * I/O error for the guest, never passed on). */
static uk_word_t known_sectors;  /* from the first INFO */
static unsigned long rejected;

int blk_status_ok(long st)
{
    return st == UK_BLK_OK || st == UK_BLK_EPERM || st == UK_BLK_EIO || st == UK_BLK_EFAULT ||
           st == UK_BLK_EINVAL || st == UK_BLK_EROFS || st == UK_BLK_ERANGE;
}

long blk_reject(const char *why, long what)
{
    /* said for the first 8, then every 64th: a wrong server must not flood
     * the console through us; the count and t= for tools/experiments/run */
    if (++rejected <= 8 || rejected % 64 == 0)
        vmm_say("disk: the block server's answer rejected (%s: %ld): I/O error, %lu so far "
                "t=%lu", why, what, rejected, uk_rdtsc() - vmm.vi->boot_tsc);
    return UK_VDEV_EIO;
}

long blk_call(uk_word_t op, unsigned len, uk_word_t w0, uk_word_t w1, uk_word_t w2,
              uk_word_t out[4])
{
    struct uk_msg m = { .info = uk_msginfo(op, len, BLK_TIMEOUT), .w = { w0, w1, w2 } };
    if (blk_call_retrying(&m))
        return UK_VDEV_EIO;
    uk_word_t words = uk_msg_len(m.info);
    if (words < (op == UK_BLK_OP_INFO ? 4u : 1u))
        return blk_reject("too few words", (long)words);
    if (!blk_status_ok((long)m.w[0]))
        return blk_reject("no such status", (long)m.w[0]);
    if (op == UK_BLK_OP_INFO && m.w[0] == UK_BLK_OK) {
        if (known_sectors && m.w[1] != known_sectors)
            return blk_reject("the disk's size changed", (long)m.w[1]);
        if (m.w[2] != UK_VMM_BLK_WINDOW_PAGES * UK_PAGE_SIZE ||
            m.w[3] & ~(uk_word_t)(UK_BLK_F_RO | UK_BLK_F_FLUSH | UK_BLK_F_RAM))
            return blk_reject("a window or flags not ours", (long)m.w[2]);
        known_sectors = m.w[1];
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
