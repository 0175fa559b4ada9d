/*
 * Object lifetime.  Destruction is iterative: a task owns tasks that own
 * tasks, as deep as quotas allow, and the kernel stack is small.  A task
 * being destroyed stays on the worklist until everything it owns is gone,
 * then it goes itself.  Objects other than tasks own nothing, so they are
 * torn down the moment they are reached.
 */
#include "object.h"
#include "task.h"
#include "thread.h"
#include "ipc.h"
#include "irq.h"
#include "log.h"

static struct kobj *worklist[64];   /* tasks being emptied, innermost last */
static int depth;

void kobj_link(struct kobj *o, struct task *owner, u8 type, word charge)
{
    o->type = type;
    o->owner = owner;
    o->charge = charge;
    o->owned_prev = NULL;
    o->owned_next = owner ? owner->owned : NULL;
    if (owner) {
        if (owner->owned)
            owner->owned->owned_prev = o;
        owner->owned = o;
    }
}

static void unlink_owned(struct kobj *o)
{
    if (!o->owner)
        return;
    if (o->owned_prev)
        o->owned_prev->owned_next = o->owned_next;
    else
        o->owner->owned = o->owned_next;
    if (o->owned_next)
        o->owned_next->owned_prev = o->owned_prev;
}

static void *object_base(struct kobj *o)
{
    if (o->type == UK_CAP_THREAD)
        return container_of(o, struct thread, hdr);
    return o;    /* every other object starts with its kobj */
}

/* Tears down and frees an object that owns nothing (not a task). */
static void destroy_leaf(struct kobj *o)
{
    o->dying = 1;
    cap_clear_all(o);
    switch (o->type) {
    case UK_CAP_THREAD:       thread_teardown(container_of(o, struct thread, hdr)); break;
    case UK_CAP_ENDPOINT:     endpoint_teardown((struct endpoint *)o); break;
    case UK_CAP_NOTIFICATION: notification_teardown((struct notification *)o); break;
    case UK_CAP_IRQ:          irq_teardown((struct irq_holder *)o); o->dying = 0; return;
    default: panic("destroy_leaf: type %d", o->type);
    }
    unlink_owned(o);
    kmem_free(o->owner ? &o->owner->quota : NULL, object_base(o), o->charge);
}

static void destroy_task_step(struct task *t)
{
    struct kobj *o = t->owned;
    if (o && o->type == UK_CAP_TASK) {
        if (depth == (int)ARRAY_SIZE(worklist))
            panic("task nesting deeper than %d", (int)ARRAY_SIZE(worklist));
        o->dying = 1;
        cap_clear_all(o);
        worklist[depth++] = o;
        return;
    }
    if (o) {
        destroy_leaf(o);
        return;
    }
    while (t->threads)                  /* threads of others running in t */
        destroy_leaf(&t->threads->hdr);
    task_teardown(t);
    depth--;
    unlink_owned(&t->hdr);
    kmem_free(t->hdr.owner ? &t->hdr.owner->quota : NULL, t, t->hdr.charge);
}

void kobj_destroy(struct kobj *o)
{
    if (o->dying)
        return;
    if (o->type != UK_CAP_TASK) {
        destroy_leaf(o);
        return;
    }
    o->dying = 1;
    cap_clear_all(o);
    int base = depth;
    worklist[depth++] = o;
    while (depth > base)
        destroy_task_step((struct task *)worklist[depth - 1]);
}
