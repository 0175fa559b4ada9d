/*
 * Object lifetime.  Destruction goes in parts, each at most
 * DESTROY_PART_WORK units of work (object.h), so one OBJ_DESTROY never
 * keeps the kernel busy longer than about one UNMAP part: syscall.c's
 * sys_obj_destroy returns to user level between parts and goes on
 * (docs/ABI.md §9.10).  All the state of an unfinished destruction is in
 * the objects themselves (kobj.dying, the task's teardown_* fields, what is
 * left in their lists), so any later OBJ_DESTROY of the object, or of its
 * owner, goes on with it, and two threads may both push it on.
 *
 * A task owns tasks that own tasks, as deep as TASK_MAX_DEPTH, and the
 * kernel stack is small: each step looks for the innermost work from the
 * top, without recursion.  A task being destroyed first destroys the
 * threads that run in it (so nothing runs in an address space being taken
 * apart), then what it owns, then the vCPUs running it as a process go
 * back to their guest kernels, then its own address space, capability table
 * and the caps naming it, the vCPUs again, then itself.  Objects other than tasks own
 * nothing: begun (torn down: unusable, off every queue), their waiters
 * woken, the caps naming them emptied, freed.  From the first step on
 * every cap naming a dying object refuses all calls but OBJ_DESTROY
 * (UK_E_DESTROYED, cap.c).
 */
#include "object.h"
#include "task.h"
#include "thread.h"
#include "ipc.h"
#include "irq.h"
#include "vcpu.h"
#include "vspace.h"
#include "log.h"

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

/* An object that owns nothing (not a task), one step further. */
static bool destroy_leaf_some(struct kobj *o, word *work)
{
    if (o->dying == 0) {                 /* begin: unusable from here on */
        o->dying = 1;
        destroy_charge(work, DESTROY_COST_OBJECT);
        switch (o->type) {
        case UK_CAP_THREAD:       thread_teardown(container_of(o, struct thread, hdr)); break;
        case UK_CAP_ENDPOINT:     endpoint_dying((struct endpoint *)o); break;
        case UK_CAP_NOTIFICATION: notification_dying((struct notification *)o); break;
        case UK_CAP_IRQ:          irq_holder_dying((struct irq_holder *)o); break;
        default: panic("destroy_leaf_some: type %d", o->type);
        }
    }
    if (o->dying == 1) {                 /* its waiters go, then it is torn down */
        if (o->type == UK_CAP_ENDPOINT && !endpoint_drain_some((struct endpoint *)o, work))
            return false;
        if (o->type == UK_CAP_NOTIFICATION &&
            !notification_drain_some((struct notification *)o, work))
            return false;
        o->dying = 2;
    }
    if (!cap_clear_some(o, work))
        return false;
    if (o->type == UK_CAP_IRQ) {         /* a static holder: free again for IRQ_GET */
        irq_teardown((struct irq_holder *)o);
        return true;
    }
    if (o->type == UK_CAP_THREAD)
        thread_unlink(container_of(o, struct thread, hdr));
    destroy_charge(work, DESTROY_COST_OBJECT);
    unlink_owned(o);
    kmem_free(o->owner ? &o->owner->quota : NULL, object_base(o), o->charge);
    return true;
}

/* A task that runs no thread and owns nothing any more, one step further:
 * its address space, its capability table, the caps naming it, itself. */
static bool destroy_task_some(struct task *t, word *work)
{
    switch (t->teardown_phase) {
    case TEARDOWN_VCPUS:                 /* vCPUs running it back to their kernels */
        if (!vcpu_task_dying_some(t, work))
            return false;
        t->teardown_phase = TEARDOWN_VSPACE;
        /* fall through */
    case TEARDOWN_VSPACE:
        if (!vspace_destroy_some(t, work))
            return false;
        t->teardown_phase = TEARDOWN_CSPACE;
        /* fall through */
    case TEARDOWN_CSPACE:
        if (!cspace_destroy_some(&t->cspace, t, &t->teardown_slot, work))
            return false;
        t->teardown_phase = TEARDOWN_CAPS;
        /* fall through */
    case TEARDOWN_CAPS:
        if (!cap_clear_some(&t->hdr, work))
            return false;
        t->teardown_phase = TEARDOWN_VCPUS_AGAIN;
        /* fall through */
    default:                             /* again: a vCPU may have resumed it before
                                            the last cap naming it went */
        if (!vcpu_task_dying_some(t, work))
            return false;
    }
    destroy_charge(work, DESTROY_COST_OBJECT);
    task_teardown(t);
    unlink_owned(&t->hdr);
    kmem_free(t->hdr.owner ? &t->hdr.owner->quota : NULL, t, t->hdr.charge);
    return true;
}

bool kobj_destroy_some(struct kobj *root, word *work)
{
    for (;;) {
        struct kobj *o = root;
        while (o->type == UK_CAP_TASK) { /* down to the innermost work */
            struct task *t = (struct task *)o;
            if (!o->dying) {
                destroy_charge(work, DESTROY_COST_OBJECT);
                task_begin(t);
            }
            struct kobj *inner = t->threads ? &t->threads->hdr : t->owned;
            if (!inner)
                break;
            o = inner;
        }
        bool gone = o->type == UK_CAP_TASK ? destroy_task_some((struct task *)o, work)
                                           : destroy_leaf_some(o, work);
        if (gone && o == root)
            return true;
        if (!gone || *work == 0)
            return false;
    }
}

void kobj_destroy(struct kobj *o)
{
    word work = ~(word)0;
    kobj_destroy_some(o, &work);
}
