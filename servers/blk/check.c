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
