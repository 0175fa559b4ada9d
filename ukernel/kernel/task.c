/* Tasks: creation charges the creator for the task object and reserves
 * the new task's whole quota in the creator's; destruction gives both back. */
#include "task.h"
#include "thread.h"
#include "vspace.h"
#include "vcpu.h"
#include "kmem.h"
#include "log.h"

struct task *root_task;
static word next_task_id;

struct task *task_create(struct task *parent, word quota, u32 nslots, int *err)
{
    struct quota *pq = parent ? &parent->quota : NULL;
    word charge = kmem_charge(sizeof(struct task));
    if (parent && parent->depth >= TASK_MAX_DEPTH) {
        *err = UK_E_INVAL;
        return NULL;
    }
    if (pq && (pq->used + charge > pq->limit || quota > pq->limit - pq->used - charge)) {
        *err = UK_E_NOMEM;
        return NULL;
    }
    struct task *t = kmem_alloc(pq, sizeof *t);
    if (!t) {
        *err = UK_E_NOMEM;
        return NULL;
    }
    t->quota.limit = quota;
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
    if (pq)
        pq->used += quota;
    t->quota_given = quota;
    kobj_link(&t->hdr, parent, UK_CAP_TASK, sizeof *t);
    return t;
}

/* Called once the task owns nothing and runs no thread (object.c). */
void task_teardown(struct task *t)
{
    vcpu_task_dying(t);                  /* vCPUs running it go back to their kernels */
    cspace_destroy(&t->cspace, t);
    vspace_destroy(t);
    if (t->quota.used != 0)
        panic("task %lu: %lu bytes of kernel memory still charged", t->id, t->quota.used);
    if (t->hdr.owner)
        t->hdr.owner->quota.used -= t->quota_given;
    if (t == root_task)
        root_task = NULL;
}
