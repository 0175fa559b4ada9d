/*
 * Pages of guest RAM (uk_guest_info: ram_base/ram_size is ours to use,
 * mapped read/write/execute in our task).  A bump pointer plus a free list
 * threaded through freed pages.  The last page (below an initrd, if any)
 * is kept for a boot counter: the vmm-server does not clear RAM on a
 * reboot, so `reboot-once` can tell its second boot from its first (and
 * `echo` knows whether it has echoed a line before).
 */
#include "toy.h"

#define BOOT_MAGIC 0x746f79626f6f74ul   /* "toyboot" */

struct boot_mark { uk_word_t magic, boots, echo_lines; };

static uk_word_t next, end;
static void *free_list;
static struct boot_mark *mark;

void mem_init(void)
{
    uk_word_t top = gi->ram_base + gi->ram_size;
    if (gi->initrd_size && gi->initrd_base < top)
        top = gi->initrd_base & ~(UK_PAGE_SIZE - 1);
    mark = (struct boot_mark *)(top - UK_PAGE_SIZE);
    next = gi->ram_base;
    end = top - UK_PAGE_SIZE;
    free_list = 0;
}

void *page_alloc(void)
{
    void *p = free_list;
    if (p) {
        free_list = *(void **)p;
    } else {
        if (next >= end)
            return 0;
        p = (void *)next;
        next += UK_PAGE_SIZE;
    }
    memset(p, 0, UK_PAGE_SIZE);
    return p;
}

void page_free(void *p)
{
    *(void **)p = free_list;
    free_list = p;
}

unsigned mem_boot_count(void)
{
    if (mark->magic != BOOT_MAGIC) {
        mark->magic = BOOT_MAGIC;
        mark->boots = 0;
        mark->echo_lines = 0;
    }
    return (unsigned)++mark->boots;
}

unsigned long *mem_echo_lines(void)
{
    return &mark->echo_lines;
}
