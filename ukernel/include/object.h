/*
 * Every kernel object starts with a struct kobj.  An object is charged to
 * the task that created it (its owner) and lives until it is destroyed
 * explicitly (UK_SYS_OBJ_DESTROY with a cap holding UK_R_DESTROY) or its
 * owner is destroyed.  Destroying an object empties every capability that
 * names it (the caps list), so no slot can ever point at freed memory.
 */
#ifndef UK_OBJECT_H
#define UK_OBJECT_H

#include "types.h"

struct task;
struct cap;

struct kobj {
    u8 type;                        /* enum uk_cap_type */
    u8 dying;                       /* being destroyed (object.c): 1 begun,
                                       2 torn down (a leaf: caps and memory left);
                                       every use but OBJ_DESTROY refused */
    struct task *owner;             /* charged task; NULL: the kernel's own */
    struct kobj *owned_next;        /* in owner->owned, most recent first */
    struct kobj *owned_prev;
    struct cap *caps;               /* every capability naming this object */
    word charge;                    /* bytes charged to owner at creation */
};

/* Records a new object (allocated with `charge` bytes from owner's quota)
 * in owner's owned list. */
void kobj_link(struct kobj *o, struct task *owner, u8 type, word charge);
/*
 * Destruction goes in parts (docs/ABI.md §9.10): each part does at most
 * DESTROY_PART_WORK units of work, then OBJ_DESTROY returns to user level
 * and goes on.  A unit is roughly an empty page-table entry passed (7 to
 * 13 instructions under tcg-icount: a mapping dropped came out at about
 * 165, a cap emptied 26, a slot 35), so that a part is at most some
 * 320,000 instructions, about a MAP part.  bench_longest's
 * longest.destroy.* rows and ABI.md §9.10 give what a part measures.
 */
#define DESTROY_COST_ENTRY   1     /* a page-table entry passed */
#define DESTROY_COST_MAPPING 24    /* a mapping unmapped (derived ones included) */
#define DESTROY_COST_TABLE   16    /* a page table freed */
#define DESTROY_COST_LEAF_SCAN 128 /* a leaf table's 512 entries looked at */
#define DESTROY_COST_SLOT    3     /* a capability slot of the task's table emptied */
#define DESTROY_COST_CAP     2     /* a capability naming the object emptied */
#define DESTROY_COST_WAITER  16    /* a thread blocked on the object woken */
#define DESTROY_COST_VCPU    1     /* a vCPU passed looking for those running a dying task */
#define DESTROY_COST_OBJECT  64    /* an object begun (a thread's teardown) or freed */
#define DESTROY_PART_WORK    ((word)DESTROY_COST_MAPPING * UK_PREEMPT_PAGES)

/* A part's work spent: cost units off *work, down to 0 (the part ends). */
static inline void destroy_charge(word *work, word cost)
{
    *work = *work > cost ? *work - cost : 0;
}

/* Goes on destroying o (begins it if it is not dying yet): objects it owns
 * first, innermost first, while *work lasts; true once o is gone. */
bool kobj_destroy_some(struct kobj *o, word *work);
/* All of it in one go. */
void kobj_destroy(struct kobj *o);

#endif
