/*
 * Capabilities and per-task capability tables.  A slot holds the type,
 * rights, a badge and the object; a slot names its object, nothing else
 * does.  All slots that name one object are linked so destroying the
 * object can clear them (cap_clear_all).
 */
#ifndef UK_CAP_H
#define UK_CAP_H

#include "types.h"
#include "object.h"

struct cap {
    u8 type;               /* enum uk_cap_type; UK_CAP_NULL: empty */
    u8 rights;             /* UK_R_* */
    u16 extra;             /* IOPORT: number of ports - 1 */
    u32 arg;               /* IOPORT: first port; IRQ: line */
    word badge;            /* ENDPOINT/NOTIFICATION: given to the receiver */
    struct kobj *obj;      /* NULL for IRQ_CONTROL and IOPORT */
    struct cap *next;      /* other caps naming obj */
    struct cap *prev;
};

struct cspace {
    struct cap *slots;     /* nslots entries; slot 0 stays empty */
    u32 nslots;
};

/* Slot `idx` if in range and of type `type` (UK_CAP_NULL: any non-empty),
 * with all of `rights`, naming an object not being destroyed
 * (UK_E_DESTROYED: OBJ_DESTROY alone goes on with such a cap); otherwise
 * NULL and *err set to the UK_E_* reason. */
struct cap *cap_lookup(struct cspace *cs, word idx, u8 type, u8 rights, int *err);
/* The slot itself if idx is in range (may be empty), else NULL. */
struct cap *cap_slot(struct cspace *cs, word idx);

/* Fills empty slot dst as a copy of src with rights masked and (if badge is
 * non-zero and src is unbadged) a new badge. */
void cap_copy(struct cap *dst, const struct cap *src, u8 rights, word badge);
/* Fills empty slot dst naming obj. */
void cap_install(struct cap *dst, u8 type, u8 rights, struct kobj *obj, word badge);
/* Empties a slot (and runs type hooks such as one-shot reply cleanup). */
void cap_delete(struct cap *c);
/* Empties every slot of one type naming obj (no hooks run); for REPLY
 * caps, which come first in the list (cap.c), without walking the rest. */
void cap_clear_type(struct kobj *obj, u8 type);
/* Empties every slot naming obj. */
void cap_clear_all(struct kobj *obj);
/* The same while *work lasts (DESTROY_COST_CAP each); true when none is left. */
bool cap_clear_some(struct kobj *obj, word *work);

int  cspace_init(struct cspace *cs, struct task *charge_to, u32 nslots);
void cspace_destroy(struct cspace *cs, struct task *charged);
/* cspace_destroy in parts: slots from *next on while *work lasts
 * (DESTROY_COST_SLOT each); true once the table is freed. */
bool cspace_destroy_some(struct cspace *cs, struct task *charged, u32 *next, word *work);

#endif
