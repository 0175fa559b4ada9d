/*
 * Kernel memory: a pool of physical pages set aside at boot, from which
 * every kernel object (TCBs, page tables, capability tables, endpoints,
 * mapping records) is carved, charged against the quota of the task that
 * asked for it.  Running out of quota or pool is an error the caller
 * returns to user level (UK_E_NOMEM); the kernel never waits or panics.
 *
 * Sizes up to PAGE_SIZE come from size classes (32 .. 4096 bytes, powers
 * of two) carved from pool pages; an empty slab page goes back to the pool,
 * so free_pages() returns to its old value once everything is freed.
 * Larger sizes take contiguous whole pages.  The quota is charged the
 * rounded size (class size, or whole pages).
 */
#ifndef UK_KMEM_H
#define UK_KMEM_H

#include "types.h"

/* A quota may draw on another: a task created with UK_TASK_SHARED has no
 * memory set aside for it; each charge to it is made, at that moment, to
 * its own quota and to every quota up its parent chain, and must fit in
 * all of them (the chain is fixed at creation; each parent outlives its
 * children because it belongs to a task that owns theirs). */
struct quota {
    word used;             /* bytes charged, rounded as above */
    word limit;            /* bytes allowed */
    struct quota *parent;  /* NULL: memory set aside at creation (classic) */
};

/* Charges n bytes to q and every quota up its chain if all can take
 * them; false (nothing charged) otherwise.  NULL q: the kernel's own. */
bool  quota_charge(struct quota *q, word n);
/* Gives back n bytes charged with quota_charge (panics on underflow). */
void  quota_uncharge(struct quota *q, word n);
/* Bytes q could still be charged: the least room left along its chain. */
word  quota_room(const struct quota *q);

/* The pool: npages pages at kernel address base, physical phys_base. */
void  kmem_init(void *base, u64 phys_base, word npages);

/* Zeroed memory of size bytes (aligned to min(size class, PAGE_SIZE)),
 * charged to q; NULL if the quota or the pool cannot cover it. */
void *kmem_alloc(struct quota *q, word size);
/* Give back memory from kmem_alloc with the same size; uncharges q. */
void  kmem_free(struct quota *q, void *p, word size);
/* Bytes that kmem_alloc(q, size) charges. */
word  kmem_charge(word size);

word  kmem_free_pages(void);    /* pool pages holding no object */
word  kmem_bytes_used(void);    /* sum of charges of live objects */
u64   kmem_phys(const void *p); /* physical address of pool memory */
void *kmem_virt(u64 phys);      /* inverse; NULL if not in the pool */

#endif
