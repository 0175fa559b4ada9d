/* The kernel-memory pool of a host test: n pages of the C heap, filled
 * with junk (so that the kernel's zeroing is tested) and handed to
 * kmem_init at the fake physical address phys; pool_teardown (a cmocka
 * teardown) frees it.  Include after the kernel's kmem.c. */
#ifndef HOST_POOL_H
#define HOST_POOL_H
#include <string.h>

static char *pool;

static void pool_init(word phys, word npages)
{
    free(pool);
    pool = aligned_alloc(PAGE_SIZE, npages * PAGE_SIZE);
    assert_non_null(pool);
    memset(pool, 0x5a, npages * PAGE_SIZE);
    kmem_init(pool, phys, npages);
}

static int pool_teardown(void **state)
{
    (void)state;
    free(pool);
    pool = NULL;
    return 0;
}
#endif
