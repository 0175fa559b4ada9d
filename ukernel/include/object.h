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
    u8 dying;                       /* being destroyed: refuse new uses */
    struct task *owner;             /* charged task; NULL: the kernel's own */
    struct kobj *owned_next;        /* in owner->owned, most recent first */
    struct kobj *owned_prev;
    struct cap *caps;               /* every capability naming this object */
    word charge;                    /* bytes charged to owner at creation */
};

/* Records a new object (allocated with `charge` bytes from owner's quota)
 * in owner's owned list. */
void kobj_link(struct kobj *o, struct task *owner, u8 type, word charge);
/* Destroys any object: empties its caps, runs the type's teardown, frees. */
void kobj_destroy(struct kobj *o);

#endif
