/* The block server's request checks (check.h): no system calls. */
#include "check.h"

long blk_check_io(const struct blk_target *t, int write, uk_word_t sector, uk_word_t count,
                  uk_word_t off)
{
    if (count == 0 || count > UK_BLK_MAX_SECTORS)
        return UK_BLK_EINVAL;
    if (!t->live)
        return UK_BLK_EIO;
    if (sector >= t->sectors || count > t->sectors - sector)
        return UK_BLK_ERANGE;
    uk_word_t bytes = count * UK_BLK_SECTOR;
    if (off > t->window_bytes || bytes > t->window_bytes - off)
        return UK_BLK_EFAULT;
    if (write && (t->flags & UK_BLK_F_RO))
        return UK_BLK_EROFS;
    return UK_BLK_OK;
}

long blk_data_chain(uk_word_t va, uk_word_t bytes, int write, uk_word_t (*phys_of)(uk_word_t),
                    struct virtq_buf *bufs, unsigned *nb)
{
    while (bytes) {
        uk_word_t chunk = UK_PAGE_SIZE - va % UK_PAGE_SIZE;
        if (chunk > bytes)
            chunk = bytes;
        uk_word_t phys = phys_of(va);
        if (phys == ~0ul)
            return UK_BLK_EFAULT;          /* the root unmapped part of the window */
        struct virtq_buf *last = &bufs[*nb - 1];
        if (*nb > 1 && last->phys + last->len == phys)
            last->len += (unsigned)chunk;
        else if (*nb == VIRTQ_MAX_CHAIN - 1)
            return UK_BLK_EINVAL;          /* cannot happen with 64 KiB: 17 pages */
        else
            bufs[(*nb)++] = (struct virtq_buf){ phys, (unsigned)chunk, !write };
        va += chunk;
        bytes -= chunk;
    }
    return UK_BLK_OK;
}

long blk_check_batch(uk_word_t k, uk_word_t len)
{
    if (k < 1 || k > UK_BLK_BATCH_MAX || len != 1 + k * UK_BLK_BATCH_WORDS)
        return UK_BLK_EINVAL;
    return UK_BLK_OK;
}

void blk_batch_decode(uk_word_t w0, uk_word_t w1, uk_word_t w2, struct blk_batch_req *q)
{
    uk_word_t op = w0 & 0xff & ~UK_BLK_OP_RAM;
    q->ram = (w0 & UK_BLK_OP_RAM) != 0;
    q->op_ok = op == UK_BLK_OP_READ || op == UK_BLK_OP_WRITE;
    q->write = op == UK_BLK_OP_WRITE;
    q->count = w0 >> 8;
    q->sector = w1;
    q->off = w2;
}
