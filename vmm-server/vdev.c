/* The guest's device requests, decoded and checked (vdev.h): no system calls. */
#include "vdev.h"
#include <uk/blk.h>

uk_word_t vdev_reply_words(uk_word_t op)
{
    switch (op) {
    case UK_VDEV_CONSOLE_WRITE:
    case UK_VDEV_CONSOLE_READ:
        return 2;
    case UK_VDEV_CLOCK_GET:
    case UK_VDEV_BLOCK_INFO:
        return 4;
    default:
        return 1;
    }
}

/* The guest's buffer [g, g + bytes): its offset in RAM (guest addresses
 * from GUEST_RAM_VA), or ~0 if not all inside.  No sum can wrap. */
static uk_word_t ram_offset(uk_word_t g, uk_word_t bytes, uk_word_t ram)
{
    if (g < GUEST_RAM_VA || g - GUEST_RAM_VA > ram || bytes > ram - (g - GUEST_RAM_VA))
        return ~0ul;
    return g - GUEST_RAM_VA;
}

long vdev_decode(const struct uk_msg *m, const struct uk_ipc_buffer *b,
                 const struct vdev_limits *lim, struct vdev_req *r)
{
    uk_word_t len = uk_msg_len(m->info), op = uk_msg_label(m->info);
    r->op = op;
    switch (op) {
    case UK_VDEV_CONSOLE_WRITE: {
        uk_word_t n = m->w[0];
        if (len < 1 || n > UK_VDEV_BYTES_MAX)
            return UK_VDEV_EINVAL;
        if (len < 1 + (n + 7) / 8)                 /* fewer words than bytes said */
            return UK_VDEV_EFAULT;
        for (uk_word_t i = 0; i < (n + 7) / 8; i++) {
            uk_word_t w = uk_msg_word(m, b, 1 + i);
            __builtin_memcpy(r->bytes + i * 8, &w, n - i * 8 < 8 ? n - i * 8 : 8);
        }
        r->count = n;
        return 0;
    }
    case UK_VDEV_CONSOLE_READ:
        if (len < 1)
            return UK_VDEV_EINVAL;
        r->count = m->w[0] < UK_VDEV_BYTES_MAX ? m->w[0] : UK_VDEV_BYTES_MAX;
        return 0;
    case UK_VDEV_TIMER_SET:
        r->first_ns = m->w[0];
        r->period_ns = m->w[1];
        if (len < 2 || (r->period_ns && r->period_ns < MIN_PERIOD_NS))
            return UK_VDEV_EINVAL;
        return 0;
    case UK_VDEV_CLOCK_GET:
        return 0;
    case UK_VDEV_POWER:
        r->how = m->w[0];
        r->status = len >= 2 ? m->w[1] : 0;
        if (len < 1 || (r->how != UK_VDEV_POWER_HALT && r->how != UK_VDEV_POWER_REBOOT) ||
            (r->how == UK_VDEV_POWER_HALT && r->status > UK_VDEV_POWER_STATUS_MAX))
            return UK_VDEV_EINVAL;
        return 0;
    case UK_VDEV_BLOCK_INFO:
    case UK_VDEV_BLOCK_FLUSH:
        return lim->disk ? 0 : UK_VDEV_ENODEV;
    case UK_VDEV_BLOCK_READ:
    case UK_VDEV_BLOCK_WRITE:
        if (!lim->disk)
            return UK_VDEV_ENODEV;
        r->sector = m->w[0];
        r->count = m->w[1];
        if (len < 3 || r->count == 0 || r->count > UK_BLK_MAX_SECTORS)
            return UK_VDEV_EINVAL;
        r->ram_off = ram_offset(m->w[2], r->count * UK_BLK_SECTOR, lim->ram_bytes);
        return r->ram_off == ~0ul ? UK_VDEV_EFAULT : 0;
    default:
        return UK_VDEV_EINVAL;
    }
}
