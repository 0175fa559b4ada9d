/* Tasks: an address space, a capability table and a kernel-memory quota. */
#ifndef UK_TASK_H
#define UK_TASK_H

#include "object.h"
#include "cap.h"
#include "kmem.h"
#include "vcpu.h"

struct thread;

struct task {
    struct kobj hdr;
    u64 *pml4;                 /* top-level page table (kernel half shared) */
    u64 pml4_phys;
    struct cspace cspace;
    struct quota quota;        /* kernel memory charged to this task */
    struct kobj *owned;        /* objects charged to this task */
    struct thread *threads;    /* threads running in this address space */
    word id;                   /* for the log only */
    u8 depth;                  /* root 0; creation refused past TASK_MAX_DEPTH */
    word quota_given;          /* reserved in the owner's quota for ours */
    /* while being destroyed (object.c; hdr.dying): how far it got */
    u8 teardown_phase;         /* TEARDOWN_*, once it runs no thread and owns nothing */
    u32 teardown_slot;         /* TEARDOWN_CSPACE: next slot to empty */
    word teardown_va;          /* TEARDOWN_VSPACE: next address (vspace.c) */
    struct vcpu_link teardown_vcpus; /* TEARDOWN_VCPUS*: its marker in the list
                                        of all vCPUs (vcpu.c) */
};

/* In this order (object.c, destroy_task_some): vCPUs running it sent back,
 * then its address space, table, the caps naming it, and the vCPUs sent back
 * again (one may have resumed it before the last cap naming it went). */
enum { TEARDOWN_VCPUS = 0, TEARDOWN_VSPACE, TEARDOWN_CSPACE, TEARDOWN_CAPS,
       TEARDOWN_VCPUS_AGAIN };

#define TASK_MAX_DEPTH 32

extern struct task *root_task;

/* parent: the owner, charged for the task object.  Classic (!shared):
 * quota bytes set aside in the parent's quota now; shared: the new quota is
 * a sub-account of the parent's with limit `quota`, charged as used. */
struct task *task_create(struct task *parent, word quota, u32 nslots, bool shared, int *err);
/* Its destruction's first step (object.c): dying. */
void task_begin(struct task *t);
/* Its last step, once its address space, table and caps are gone. */
void task_teardown(struct task *t);

#endif
