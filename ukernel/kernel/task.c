/* Tasks: creation charges the owner for the task object and either sets
 * the new task's whole quota aside in the owner's (classic) or, shared,
 * makes the new quota a sub-account of the owner's that is charged as the
 * task uses memory (kmem.h); destruction gives everything back. */
#include "task.h"
#include "thread.h"
#include "vspace.h"
#include "vcpu.h"
#include "kmem.h"
#include "log.h"

struct task *root_task;
static word next_task_id;

struct task *task_create(struct task *parent, word quota, u32 nslots, bool shared, int *err)
{
    struct quota *pq = parent ? &parent->quota : NULL;
    word charge = kmem_charge(sizeof(struct task));
    word reserve = shared ? 0 : quota;
    if (parent && parent->depth >= TASK_MAX_DEPTH) {
        *err = UK_E_INVAL;
        return NULL;
    }
    if (shared && !parent) {
        *err = UK_E_INVAL;
        return NULL;
    }
    if (pq && (quota_room(pq) < charge || reserve > quota_room(pq) - charge)) {
        *err = UK_E_NOMEM;
        return NULL;
    }
    struct task *t = kmem_alloc(pq, sizeof *t);
    if (!t) {
        *err = UK_E_NOMEM;
        return NULL;
    }
    t->quota.limit = quota;
    t->quota.parent = shared ? pq : NULL;
    t->id = next_task_id++;
    t->depth = parent ? parent->depth + 1 : 0;
    *err = cspace_init(&t->cspace, t, nslots);
    if (*err == UK_OK) {
        *err = vspace_init(t);
        if (*err != UK_OK)
            cspace_destroy(&t->cspace, t);
    }
    if (*err != UK_OK) {
        kmem_free(pq, t, sizeof *t);
        return NULL;
    }
    if (pq && !quota_charge(pq, reserve))   /* fits: checked above */
        panic("task_create: quota changed under us");
    t->quota_given = reserve;
    kobj_link(&t->hdr, parent, UK_CAP_TASK, sizeof *t);
    return t;
}

void task_begin(struct task *t)
{
    t->hdr.dying = 1;
    t->teardown_phase = TEARDOWN_VCPUS;  /* vCPUs running it go back first */
    t->teardown_va = 0;
    t->teardown_slot = 1;
}

/* Called once the task owns nothing and runs no thread, and its address
 * space, table and the caps naming it are gone (object.c). */
void task_teardown(struct task *t)
{
    vspace_free_top(t);                  /* no vCPU runs it (TEARDOWN_VCPUS_AGAIN) */
    if (t->quota.used != 0)
        panic("task %lu: %lu bytes of kernel memory still charged", t->id, t->quota.used);
    if (t->hdr.owner)
        quota_uncharge(&t->hdr.owner->quota, t->quota_given);
    if (t == root_task)
        root_task = NULL;
}
