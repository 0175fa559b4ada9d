/* Capability slots and tables.  See cap.h for the invariants. */
#include "cap.h"
#include "kmem.h"
#include "task.h"
#include "thread.h"
#include "ipc.h"
#include "irq.h"
#ifndef UK_HOST_STUBS_DEFINED
#include "log.h"
#endif

struct cap *cap_slot(struct cspace *cs, word idx)
{
    if (idx == 0 || idx >= cs->nslots)
        return NULL;
    return &cs->slots[idx];
}

struct cap *cap_lookup(struct cspace *cs, word idx, u8 type, u8 rights, int *err)
{
    struct cap *c = cap_slot(cs, idx);
    if (!c || c->type == UK_CAP_NULL) {
        *err = UK_E_CAP;
        return NULL;
    }
    if (type != UK_CAP_NULL && c->type != type) {
        *err = UK_E_CAP_TYPE;
        return NULL;
    }
    if ((c->rights & rights) != rights) {
        *err = UK_E_RIGHTS;
        return NULL;
    }
    if (c->obj && c->obj->dying) {       /* being destroyed: OBJ_DESTROY only */
        *err = UK_E_DESTROYED;
        return NULL;
    }
    return c;
}

/* REPLY caps come first in their object's list (a thread's saved reply
 * rights: one at a time, they cannot be copied), every other cap after
 * them, so that finding a thread's REPLY caps (cap_clear_type, the REPLY
 * hook) costs nothing however many THREAD caps name it (docs/ABI.md
 * §9.10: no work in proportion to copies a user made). */
static void link_cap(struct cap *c)
{
    struct kobj *o = c->obj;
    if (!o)
        return;
    struct cap *after = NULL;
    if (c->type != UK_CAP_REPLY)
        for (struct cap *x = o->caps; x && x->type == UK_CAP_REPLY; x = x->next)
            after = x;
    c->prev = after;
    c->next = after ? after->next : o->caps;
    if (c->next)
        c->next->prev = c;
    if (after)
        after->next = c;
    else
        o->caps = c;
}

void cap_install(struct cap *dst, u8 type, u8 rights, struct kobj *obj, word badge)
{
    *dst = (struct cap){ .type = type, .rights = rights, .obj = obj, .badge = badge };
    link_cap(dst);
}

void cap_copy(struct cap *dst, const struct cap *src, u8 rights, word badge)
{
    *dst = *src;
    dst->rights = src->rights & rights;
    if (badge && !src->badge &&
        (src->type == UK_CAP_ENDPOINT || src->type == UK_CAP_NOTIFICATION))
        dst->badge = badge;
    link_cap(dst);
}

/* Unlink without the type hooks (the object is going away anyway). */
static void unlink_cap(struct cap *c)
{
    if (c->obj) {
        if (c->prev)
            c->prev->next = c->next;
        else
            c->obj->caps = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    *c = (struct cap){ 0 };
}

void cap_delete(struct cap *c)
{
    u8 type = c->type;
    struct kobj *o = c->obj;
    if (type == UK_CAP_NULL)
        return;
    unlink_cap(c);
    if (type == UK_CAP_REPLY)           /* a one-shot reply right dropped */
        reply_cap_deleted(container_of(o, struct thread, hdr));
    else if (type == UK_CAP_IRQ && o->caps == NULL)
        irq_teardown(container_of(o, struct irq_holder, hdr));
}

void cap_clear_type(struct kobj *obj, u8 type)
{
    if (type == UK_CAP_REPLY) {          /* all at the head (link_cap) */
        while (obj->caps && obj->caps->type == UK_CAP_REPLY)
            unlink_cap(obj->caps);
        return;
    }
    struct cap *c = obj->caps;
    while (c) {
        struct cap *next = c->next;
        if (c->type == type)
            unlink_cap(c);
        c = next;
    }
}

void cap_clear_all(struct kobj *obj)
{
    while (obj->caps)
        unlink_cap(obj->caps);
}

bool cap_clear_some(struct kobj *obj, word *work)
{
    while (obj->caps) {
        if (*work < DESTROY_COST_CAP)
            return false;
        *work -= DESTROY_COST_CAP;
        unlink_cap(obj->caps);
    }
    return true;
}

int cspace_init(struct cspace *cs, struct task *charge_to, u32 nslots)
{
    if (nslots < 2 || nslots > UK_MAX_CAP_SLOTS)
        return UK_E_INVAL;
    cs->slots = kmem_alloc(&charge_to->quota, nslots * sizeof(struct cap));
    if (!cs->slots)
        return UK_E_NOMEM;
    cs->nslots = nslots;
    return UK_OK;
}

bool cspace_destroy_some(struct cspace *cs, struct task *charged, u32 *next, word *work)
{
    if (!cs->slots)
        return true;
    for (u32 i = *next > 1 ? *next : 1; i < cs->nslots; i++) {
        if (*work < DESTROY_COST_SLOT) {
            *next = i;
            return false;
        }
        *work -= DESTROY_COST_SLOT;
        cap_delete(&cs->slots[i]);
    }
    kmem_free(&charged->quota, cs->slots, cs->nslots * sizeof(struct cap));
    cs->slots = NULL;
    cs->nslots = 0;
    *next = 0;
    return true;
}

void cspace_destroy(struct cspace *cs, struct task *charged)
{
    u32 next = 1;
    word work = ~(word)0;
    cspace_destroy_some(cs, charged, &next, &work);
}
