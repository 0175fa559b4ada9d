/*
 * The vmm-server's decoding of a guest's device requests
 * (vmm-server/vdev.c): the guest kernel is untrusted and chooses every
 * word of the message, its length and its label.  The input gives the
 * label (one of the device operations, or any word), the length (0..255:
 * the length field's range, though the kernel delivers at most
 * UK_MSG_MAX_WORDS), the message words, the guest's RAM size and whether
 * it has a disk.  Checked against the ABI (uk/abi.h "Virtual devices"),
 * written out here on its own: a request is accepted exactly when the
 * ABI says so, and refused with the status the ABI gives; an accepted one
 * is what the guest sent:
 *  - CONSOLE_WRITE: at most UK_VDEV_BYTES_MAX bytes, all in words the
 *    message has, and the bytes are those words' bytes;
 *  - CONSOLE_READ: at most UK_VDEV_BYTES_MAX;
 *  - TIMER_SET: a period of 0 or at least the tick;
 *  - POWER: halt with a status 0..255, or reboot;
 *  - BLOCK_READ/WRITE: 1..UK_BLK_MAX_SECTORS sectors (so within the
 *    512 KiB window, UK_VMM_BLK_WINDOW_PAGES), and the buffer lies inside
 *    the guest's RAM;
 *  - nothing is read past the message's words (ASan: the IPC buffer is
 *    an exact-size heap copy).
 */
#include "fuzz.h"
#include "../../vmm-server/vdev.c"

static const uk_word_t ops[] = {
    UK_VDEV_CONSOLE_WRITE, UK_VDEV_CONSOLE_READ, UK_VDEV_TIMER_SET, UK_VDEV_CLOCK_GET,
    UK_VDEV_POWER, UK_VDEV_BLOCK_INFO, UK_VDEV_BLOCK_READ, UK_VDEV_BLOCK_WRITE,
    UK_VDEV_BLOCK_FLUSH,
};

/* What the ABI says the status is. */
static long expected(uk_word_t op, uk_word_t len, const uk_word_t *w, uk_word_t ram, int disk)
{
    switch (op) {
    case UK_VDEV_CONSOLE_WRITE:
        if (len < 1 || w[0] > UK_VDEV_BYTES_MAX)
            return UK_VDEV_EINVAL;
        return len < 1 + (w[0] + 7) / 8 ? UK_VDEV_EFAULT : 0;
    case UK_VDEV_CONSOLE_READ:
        return len < 1 ? UK_VDEV_EINVAL : 0;
    case UK_VDEV_TIMER_SET:
        return len < 2 || (w[1] != 0 && w[1] < 1000000) ? UK_VDEV_EINVAL : 0;
    case UK_VDEV_CLOCK_GET:
        return 0;
    case UK_VDEV_POWER:
        if (len < 1)
            return UK_VDEV_EINVAL;
        if (w[0] == UK_VDEV_POWER_REBOOT)
            return 0;
        return w[0] == UK_VDEV_POWER_HALT && (len < 2 || w[1] <= 255) ? 0 : UK_VDEV_EINVAL;
    case UK_VDEV_BLOCK_INFO:
    case UK_VDEV_BLOCK_FLUSH:
        return disk ? 0 : UK_VDEV_ENODEV;
    case UK_VDEV_BLOCK_READ:
    case UK_VDEV_BLOCK_WRITE: {
        if (!disk)
            return UK_VDEV_ENODEV;
        if (len < 3 || w[1] == 0 || w[1] > UK_BLK_MAX_SECTORS)
            return UK_VDEV_EINVAL;
        unsigned __int128 start = w[2], end = start + (unsigned __int128)w[1] * 512;
        return start >= 0x100000000ul && end <= 0x100000000ul + (unsigned __int128)ram ? 0
                                                                                    : UK_VDEV_EFAULT;
    }
    default:
        return UK_VDEV_EINVAL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    uk_word_t sel = take(&in, 1);
    uk_word_t op = sel < 0xf0 ? ops[sel % (sizeof ops / sizeof ops[0])] : take(&in, 8);
    uk_word_t len = take(&in, 1);
    struct vdev_limits lim;
    lim.ram_bytes = take(&in, 3) * UK_PAGE_SIZE;          /* up to 64 GiB */
    lim.disk = (int)(take(&in, 1) & 1);
    /* words: small values are likelier to matter (counts, addresses near RAM) */
    uk_word_t w[UK_MSG_MAX_WORDS] = { 0 };
    for (unsigned i = 0; i < UK_MSG_MAX_WORDS && i < len && in.n; i++) {
        uk_word_t kind = take(&in, 1);
        w[i] = kind < 0x40 ? take(&in, 2) : kind < 0x80 ? 0x100000000ul + take(&in, 4) * 8
               : take(&in, 8);
    }
    struct uk_msg m = { .info = uk_msginfo(op, len, 0), .badge = 0x6775 };
    for (unsigned i = 0; i < UK_MSG_REG_WORDS; i++)
        m.w[i] = w[i];
    /* the IPC buffer holds words 4..len-1 and nothing after: reading more
     * than the message has is caught here (ASan) */
    size_t buf_bytes = offsetof(struct uk_ipc_buffer, msg) +
                       (len > UK_MSG_MAX_WORDS ? UK_MSG_MAX_WORDS : len) * sizeof(uk_word_t);
    struct uk_ipc_buffer *b = malloc(buf_bytes);
    memset(b, 0, buf_bytes);
    for (unsigned i = UK_MSG_REG_WORDS; i < len && i < UK_MSG_MAX_WORDS; i++)
        b->msg[i] = w[i];

    struct vdev_req r;
    memset(&r, 0xa5, sizeof r);
    long st = vdev_decode(&m, b, &lim, &r);
    free(b);
    uk_word_t len8 = uk_msg_len(m.info);
    op = uk_msg_label(m.info);                          /* the label field's bits */
    CHECK(r.op == op);
    CHECK(st == expected(op, len8, w, lim.ram_bytes, lim.disk));
    /* the reply's length, refused or not, as a guest driver reads it */
    uk_word_t words = op == UK_VDEV_CONSOLE_WRITE || op == UK_VDEV_CONSOLE_READ ? 2
                    : op == UK_VDEV_CLOCK_GET || op == UK_VDEV_BLOCK_INFO ? 4 : 1;
    CHECK(vdev_reply_words(op) == words);
    if (st)
        return 0;
    switch (op) {
    case UK_VDEV_CONSOLE_WRITE:
        CHECK(r.count == w[0] && r.count <= UK_VDEV_BYTES_MAX);
        for (uk_word_t k = 0; k < r.count; k++)
            CHECK(r.bytes[k] == (unsigned char)(w[1 + k / 8] >> (8 * (k % 8))));
        break;
    case UK_VDEV_CONSOLE_READ:
        CHECK(r.count <= UK_VDEV_BYTES_MAX && r.count == (w[0] < 496 ? w[0] : 496));
        break;
    case UK_VDEV_TIMER_SET:
        CHECK(r.first_ns == w[0] && r.period_ns == w[1]);
        CHECK(r.period_ns == 0 || r.period_ns >= MIN_PERIOD_NS);
        break;
    case UK_VDEV_POWER:
        CHECK(r.how == w[0] && r.status == (len8 >= 2 ? w[1] : 0));
        CHECK(r.how == UK_VDEV_POWER_REBOOT || r.status <= UK_VDEV_POWER_STATUS_MAX);
        break;
    case UK_VDEV_BLOCK_READ:
    case UK_VDEV_BLOCK_WRITE:
        CHECK(lim.disk && r.sector == w[0] && r.count == w[1]);
        CHECK(r.count >= 1 && r.count * UK_BLK_SECTOR <= UK_VMM_BLK_WINDOW_PAGES * UK_PAGE_SIZE);
        CHECK(r.ram_off == w[2] - GUEST_RAM_VA);
        CHECK((unsigned __int128)r.ram_off + r.count * UK_BLK_SECTOR <= lim.ram_bytes);
        break;
    case UK_VDEV_BLOCK_INFO:
    case UK_VDEV_BLOCK_FLUSH:
        CHECK(lim.disk);
        break;
    case UK_VDEV_CLOCK_GET:
        break;
    default:
        CHECK(!"an unknown operation was accepted");
    }
    return 0;
}
