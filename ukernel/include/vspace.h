/*
 * Address spaces and the mapping database.  Every user page mapping is a
 * node in a tree: the root task's boot mappings of free memory are the
 * roots, and a map from task A to task B makes B's node a child of A's.
 * Unmapping a page removes its node and everything derived from it, so
 * memory handed out can always be taken back.  Rights only shrink going
 * down a tree.
 */
#ifndef UK_VSPACE_H
#define UK_VSPACE_H

#include "types.h"

struct task;

struct mapping {
    struct mapping *parent;       /* NULL: a boot mapping of the root task */
    struct mapping *child;        /* first derived mapping */
    struct mapping *sibling;      /* next child of parent */
    struct mapping *sibling_prev; /* previous one, NULL for the first: O(1) unlink */
    struct task *task;
    word va;                      /* page address in task; low bits: rights now,
                                     rights granted, depth (vspace.c) */
};

int  vspace_init(struct task *t);
/* A task's destruction (object.c): unmaps its user half and frees its
 * tables from t->teardown_va on, while *work lasts (object.h's costs);
 * true once all of it is gone.  Then vspace_free_top frees the PML4. */
bool vspace_destroy_some(struct task *t, word *work);
void vspace_free_top(struct task *t);
void vspace_destroy(struct task *t);   /* both, with no limit */

/* Boot: map physical page pa into t at va (a root of the mapping tree). */
int  vspace_map_boot(struct task *t, word va, u64 pa, unsigned rights);
/* Boot: free memory for the root task, mapped read/write but granted all
 * rights, so the root can PROTECT it executable (to load programs). */
int  vspace_map_boot_free(struct task *t, word va, u64 pa);
/* Rights are UK_MAP_* as user level gave them (any other bit: UK_E_INVAL);
 * write or execute imply read. */
int  vspace_map(struct task *src, word sva, struct task *dst, word dva,
                word npages, word rights);
/* The first `part` pages of that MAP (the whole range checked as for
 * vspace_map, the pages themselves only up to `part`): MAP's preemption
 * points (syscall.c).  *mapped: how many it mapped, part, or fewer if
 * replacing pages dropped UK_PREEMPT_PAGES mappings (derived ones
 * included) first: the call goes on from there. */
int  vspace_map_some(struct task *src, word sva, struct task *dst, word dva,
                     word npages, word rights, word part, word *mapped);
int  vspace_unmap(struct task *t, word va, word npages);
int  vspace_protect(struct task *t, word va, word npages, word rights);
/* The same, stopping after `budget` mapped pages (0: no limit) with *next =
 * the address to go on from (the range's end when done): the system calls'
 * preemption points (syscall.c). */
int  vspace_unmap_some(struct task *t, word va, word npages, word budget, word *next);
int  vspace_protect_some(struct task *t, word va, word npages, word rights, word budget,
                         word *next);
/* Physical address and rights of t's page at va; UK_E_NOT_MAPPED if none. */
int  vspace_lookup(struct task *t, word va, u64 *pa, unsigned *rights);

/* A kernel pointer to [va, va+len) of t's memory if it lies in one page
 * mapped with at least `need` rights; NULL otherwise.  Never faults. */
void *user_ptr(struct task *t, word va, word len, unsigned need);
/* Copies between user memory and the kernel; UK_E_ADDR if not mapped. */
int  copy_from_user(struct task *t, void *dst, word va, word len);
int  copy_to_user(struct task *t, word va, const void *src, word len);

/* Load t's address space (counts the switch). */
void vspace_activate(struct task *t);
extern struct task *active_vspace;

#endif
