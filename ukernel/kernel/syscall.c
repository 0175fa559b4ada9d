/*
 * The system calls' handlers, and syscall_slow, which picks one for
 * every call the first stage of dispatch (syscall_dispatch in fastpath.c,
 * from entry.asm) does not answer on a fast path.  Each handler checks
 * its arguments completely before changing anything (UNMAP and PROTECT:
 * each part, below), and reports through
 * the caller's saved rax; the exit path loads results from the thread
 * that runs next.  Arguments keep their register names in comments
 * (abi.h).
 */
#include "thread.h"
#include "task.h"
#include "sched.h"
#include "ipc.h"
#include "irq.h"
#include "vspace.h"
#include "vcpu.h"
#include "kmem.h"
#include "stats.h"
#include "lib.h"
#include "log.h"
#include "arch/arch.h"
#include "arch/cpu.h"

struct uk_stats kstats;

static inline struct cspace *my_caps(void) { return &current->task->cspace; }

#define RET(err) do { current->regs.rax = (word)(err); return; } while (0)

/* A free slot of the caller's own table, or an error. */
static struct cap *free_slot(word idx, int *err)
{
    struct cap *c = cap_slot(my_caps(), idx);
    if (!c)
        *err = UK_E_CAP;
    else if (c->type != UK_CAP_NULL)
        *err = UK_E_BUSY;
    return c && c->type == UK_CAP_NULL ? c : NULL;
}

static struct task *task_cap(word idx, u8 rights, int *err)
{
    struct cap *c = cap_lookup(my_caps(), idx, UK_CAP_TASK, rights, err);
    return c ? (struct task *)c->obj : NULL;
}

static struct thread *thread_cap(word idx, u8 rights, int *err)
{
    struct cap *c = cap_lookup(my_caps(), idx, UK_CAP_THREAD, rights, err);
    return c ? container_of(c->obj, struct thread, hdr) : NULL;
}

static struct uk_ipc_buffer *my_ipc_buffer(void)
{
    struct thread *t = current;
    return t->ipc_buffer ? user_ptr(t->task, t->ipc_buffer, PAGE_SIZE, UK_MAP_WRITE) : NULL;
}

/* --- objects ---------------------------------------------------------------- */

static void sys_small_object_create(word slot, u8 type)
{
    int err;
    struct cap *dst = free_slot(slot, &err);
    if (!dst)
        RET(err);
    word size = type == UK_CAP_ENDPOINT ? sizeof(struct endpoint) : sizeof(struct notification);
    struct kobj *o = kmem_alloc(&current->task->quota, size);
    if (!o)
        RET(UK_E_NOMEM);
    kobj_link(o, current->task, type, size);
    cap_install(dst, type, UK_R_ALL, o, 0);
    RET(UK_OK);
}

static void sys_task_create(word slot, word quota, word slots_flags, word owner_idx)
{
    int err;
    struct cap *dst = free_slot(slot, &err);
    if (!dst)
        RET(err);
    word nslots = slots_flags & UK_TASK_SLOTS_MASK;
    if (nslots < 2 || nslots > UK_MAX_CAP_SLOTS || (slots_flags & ~(UK_TASK_SLOTS_MASK | UK_TASK_SHARED)))
        RET(UK_E_INVAL);
    struct task *owner = current->task;
    if (owner_idx && !(owner = task_cap(owner_idx, UK_R_CONTROL, &err)))
        RET(err);
    if (owner->hdr.dying)
        RET(UK_E_STATE);
    struct task *t = task_create(owner, quota, (u32)nslots, (slots_flags & UK_TASK_SHARED) != 0, &err);
    if (!t)
        RET(err);
    cap_install(dst, UK_CAP_TASK, UK_R_ALL, &t->hdr, 0);
    RET(UK_OK);
}

static void sys_thread_create(word slot, word task_idx)
{
    int err;
    struct cap *dst = free_slot(slot, &err);
    if (!dst)
        RET(err);
    struct task *in = task_cap(task_idx, UK_R_CONTROL, &err);
    if (!in)
        RET(err);
    /* it starts at its creator's priority or 100, whichever is lower */
    u8 prio = current->prio < 100 ? current->prio : 100;
    struct thread *t = thread_create(current->task, in, prio, &err);
    if (!t)
        RET(err);
    cap_install(dst, UK_CAP_THREAD, UK_R_ALL, &t->hdr, 0);
    RET(UK_OK);
}

/* Whether destroying o would destroy the caller itself: o is the calling
 * thread, or a task that owns it or that it runs in (at any depth; depth is
 * bounded by TASK_MAX_DEPTH). */
static bool destroys_caller(struct kobj *o)
{
    struct thread *me = current;
    if (o == &me->hdr)
        return true;
    if (o->type != UK_CAP_TASK)
        return false;
    for (struct task *a = me->hdr.owner; a; a = a->hdr.owner)
        if (&a->hdr == o)
            return true;
    for (struct task *a = me->task; a; a = a->hdr.owner)
        if (&a->hdr == o)
            return true;
    return false;
}

/*
 * OBJ_DESTROY is a preemption point (docs/ABI.md §9.10): it does a part of
 * at most DESTROY_PART_WORK (object.h), then goes on after a return to user
 * level, its rsi set to UK_DESTROY_GOING_ON.  The object is dying from the
 * first part on: every other use of it is refused; any OBJ_DESTROY naming
 * it goes on with it.  Going on, an empty slot, or one naming an object not
 * dying (the slot refilled), means another call finished it: done.  Except
 * that a caller destroying itself (its thread, or a task it belongs to or
 * runs in) cannot come back for the rest: that is done in one go.
 */
static void sys_obj_destroy(word idx, word going_on)
{
    struct cap *c = cap_slot(my_caps(), idx);
    bool again = going_on == UK_DESTROY_GOING_ON;
    if (!c || c->type == UK_CAP_NULL)
        RET(again ? UK_OK : UK_E_CAP);
    if (!(c->rights & UK_R_DESTROY))
        RET(again ? UK_OK : UK_E_RIGHTS);
    if (!c->obj)
        RET(again ? UK_OK : UK_E_CAP_TYPE);
    if (again && !c->obj->dying)
        RET(UK_OK);
    struct thread *self = current;
    word work = destroys_caller(c->obj) ? ~(word)0 : DESTROY_PART_WORK;
    u64 t0 = rdtsc();
    bool done = kobj_destroy_some(c->obj, &work);
    u64 took = rdtsc() - t0;
    if (took > kstats.destroy_part_max)
        kstats.destroy_part_max = took;
    if (done) {
        if (current == self)          /* we may have destroyed ourselves */
            RET(UK_OK);
        return;
    }
    current->regs.rdi = idx;
    current->regs.rsi = UK_DESTROY_GOING_ON;
    kstats.preemptions++;
    arch_syscall_restart(current, UK_SYS_OBJ_DESTROY);
}

static void sys_cap_copy(word src_idx, word task_idx, word dst_idx, word rights, word badge)
{
    int err;
    struct cap *src = cap_lookup(my_caps(), src_idx, UK_CAP_NULL, 0, &err);
    if (!src)
        RET(err);
    if (src->type == UK_CAP_REPLY)
        RET(UK_E_CAP_TYPE);                    /* one-shot: cannot be copied */
    struct task *t = task_cap(task_idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    struct cap *dst = cap_slot(&t->cspace, dst_idx);
    if (!dst)
        RET(UK_E_CAP);
    if (dst->type != UK_CAP_NULL)
        RET(UK_E_BUSY);
    cap_copy(dst, src, (u8)rights, badge);
    RET(UK_OK);
}

static void sys_cap_delete(word task_idx, word slot)
{
    int err;
    struct task *t = task_cap(task_idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    struct cap *c = cap_slot(&t->cspace, slot);
    if (!c)
        RET(UK_E_CAP);
    cap_delete(c);
    RET(UK_OK);
}

static void sys_cap_info(word slot)
{
    struct cap *c = cap_slot(my_caps(), slot);
    if (!c)
        RET(UK_E_CAP);
    current->regs.rdi = c->type;
    current->regs.rsi = c->rights;
    current->regs.rdx = c->type == UK_CAP_IOPORT ? c->arg | ((c->extra + 1ul) << 32)
                      : c->type == UK_CAP_IRQ ? c->arg : c->badge;
    RET(UK_OK);
}

/* --- threads ----------------------------------------------------------------- */

static void sys_thread_config(word idx, word prio, word fault_idx, word ipc_buffer)
{
    int err;
    struct thread *t = thread_cap(idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    if (prio > 255 || prio > current->prio)
        RET(UK_E_INVAL);                 /* no one gets above its creator */
    if (ipc_buffer & ~PAGE_MASK || ipc_buffer >= UK_USER_MAP_TOP)
        RET(UK_E_ADDR);
    struct cap *fault = NULL;
    if (fault_idx) {
        fault = cap_lookup(my_caps(), fault_idx, UK_CAP_ENDPOINT, UK_R_WRITE, &err);
        if (!fault)
            RET(err);
    }
    if (t->state == TS_RUNNABLE && t != current && t->prio != prio) {
        sched_dequeue(&runqueue, t);
        t->prio = (u8)prio;
        sched_enqueue(&runqueue, t);
    } else {
        t->prio = (u8)prio;
    }
    cap_delete(&t->fault_ep);
    if (fault)
        cap_copy(&t->fault_ep, fault, UK_R_ALL, 0);
    t->ipc_buffer = ipc_buffer;
    RET(UK_OK);
}

static void sys_thread_start(word idx, word rip, word rsp, word arg)
{
    int err;
    struct thread *t = thread_cap(idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    if (rip >= UK_USER_MAP_TOP || rsp > UK_USER_MAP_TOP)
        RET(UK_E_ADDR);
    if (t == current)
        RET(UK_E_STATE);
    thread_start(t, rip, rsp, arg);
    RET(UK_OK);
}

static void sys_thread_suspend(word idx)
{
    int err = UK_OK;
    struct thread *t = idx == 0 ? current : thread_cap(idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    if (t == current) {
        t->regs.rax = UK_OK;             /* seen when it is started again... */
        thread_suspend(t);               /* ...though start sets new registers */
        return;
    }
    thread_suspend(t);
    RET(UK_OK);
}

static void sys_thread_resume(word idx)
{
    int err;
    struct thread *t = thread_cap(idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    if (t->state != TS_INACTIVE && t->state != TS_STOPPED)
        RET(UK_E_STATE);
    thread_resume(t);
    RET(UK_OK);
}

static void sys_thread_regs(word idx, bool write)
{
    int err;
    struct thread *t = thread_cap(idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    struct uk_ipc_buffer *b = my_ipc_buffer();
    if (!b)
        RET(UK_E_ADDR);
    if (!write) {
        memcpy(b->data, &t->regs, sizeof t->regs);
        RET(UK_OK);
    }
    if (t->state != TS_INACTIVE && t->state != TS_STOPPED)
        RET(UK_E_STATE);
    struct uk_regs r;
    memcpy(&r, b->data, sizeof r);
    RET(thread_set_regs(t, &r));
}

static void sys_set_tls(word fs, word gs)
{
    if (fs >= UK_USER_MAP_TOP || gs >= UK_USER_MAP_TOP)
        RET(UK_E_ADDR);
    current->regs.fs_base = fs;
    current->regs.gs_base = gs;
    arch_set_tls(fs, gs);
    RET(UK_OK);
}

static void sys_notif_bind(word nidx, word tidx)
{
    int err;
    struct cap *nc = cap_lookup(my_caps(), nidx, UK_CAP_NOTIFICATION, UK_R_READ, &err);
    if (!nc)
        RET(err);
    struct notification *n = (struct notification *)nc->obj;
    if (tidx == 0) {
        if (n->bound)
            n->bound->bound = NULL;
        n->bound = NULL;
        RET(UK_OK);
    }
    struct thread *t = thread_cap(tidx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    if (n->bound || t->bound)
        RET(UK_E_BUSY);
    n->bound = t;
    t->bound = n;
    if (n->bits && (t->vcpu || t->state == TS_RECV)) {  /* bits already waiting: deliver */
        word bits = n->bits;
        n->bits = 0;
        notif_signal(n, bits);
    }
    RET(UK_OK);
}

/* --- memory -------------------------------------------------------------------- */

/*
 * MAP, UNMAP and PROTECT are preemption points: after UK_PREEMPT_PAGES (mapped) pages
 * the call is made to start again from where it stopped (its registers
 * rewritten to the rest of the range, its rip back on its `syscall`), so
 * the kernel returns to user level in between, where a pending interrupt
 * is taken and the scheduler may run someone else.  The caller sees one
 * call with one result; its argument registers are clobbered, as by any
 * call (docs/ABI.md §1.1).  This bounds the time the kernel runs with
 * interrupts off for one request (docs/ABI.md §9.10).
 */
/* MAP in parts of UK_PREEMPT_PAGES: each part checks the cap and the whole
 * rest of the call (ranges, rights, overlap), then its own source pages,
 * before it changes anything; an error in a later part leaves the earlier
 * parts mapped, as for UNMAP and PROTECT. */
static void sys_map(word task_idx, word sva, word dva, word npages, word rights)
{
    int err;
    struct task *dst = task_cap(task_idx, UK_R_CONTROL, &err);
    if (!dst)
        RET(err);
    word part = npages < UK_PREEMPT_PAGES ? npages : UK_PREEMPT_PAGES;
    if ((err = vspace_map_some(current->task, sva, dst, dva, npages, rights, part, &part)))
        RET(err);
    if (part == npages)
        RET(UK_OK);
    current->regs.rdi = task_idx;
    current->regs.rsi = sva + part * PAGE_SIZE;
    current->regs.rdx = dva + part * PAGE_SIZE;
    current->regs.r10 = npages - part;
    current->regs.r8 = rights;
    kstats.preemptions++;
    arch_syscall_restart(current, UK_SYS_MAP);
}

/* The end of one part of call nr over [va, va + npages pages): done if the
 * part reached the range's end, else the call goes on from `next`. */
static void done_or_go_on(word nr, word task_idx, word va, word npages, word next, word rights)
{
    word end = va + npages * PAGE_SIZE;
    if (next == end)
        RET(UK_OK);
    current->regs.rdi = task_idx;
    current->regs.rsi = next;
    current->regs.rdx = (end - next) / PAGE_SIZE;
    current->regs.r10 = rights;
    kstats.preemptions++;
    arch_syscall_restart(current, nr);
}

static void sys_unmap(word task_idx, word va, word npages)
{
    int err;
    word next;
    struct task *t = task_cap(task_idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    if ((err = vspace_unmap_some(t, va, npages, UK_PREEMPT_PAGES, &next)))
        RET(err);
    done_or_go_on(UK_SYS_UNMAP, task_idx, va, npages, next, 0);
}

static void sys_protect(word task_idx, word va, word npages, word rights)
{
    int err;
    word next;
    struct task *t = task_cap(task_idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    if ((err = vspace_protect_some(t, va, npages, rights, UK_PREEMPT_PAGES, &next)))
        RET(err);
    done_or_go_on(UK_SYS_PROTECT, task_idx, va, npages, next, rights);
}

static void sys_mem_info(word va)
{
    u64 pa;
    unsigned rights;
    int err = vspace_lookup(current->task, va, &pa, &rights);
    if (err)
        RET(err);
    current->regs.rdi = pa;
    current->regs.rsi = rights;
    RET(UK_OK);
}

static void sys_kmem_info(word task_idx)
{
    int err;
    struct task *t = task_cap(task_idx, 0, &err);
    if (!t)
        RET(err);
    current->regs.rdi = t->quota.used;
    current->regs.rsi = t->quota.limit;
    current->regs.rdx = quota_room(&t->quota);
    RET(UK_OK);
}

/* --- devices -------------------------------------------------------------------- */

static void sys_irq_get(word ctl_idx, word line, word slot)
{
    int err;
    if (!cap_lookup(my_caps(), ctl_idx, UK_CAP_IRQ_CONTROL, 0, &err))
        RET(err);
    if (line >= IRQ_LINES)
        RET(UK_E_RANGE);
    struct cap *dst = free_slot(slot, &err);
    if (!dst)
        RET(err);
    struct irq_holder *h = irq_holder_get(line, &err);
    if (!h)
        RET(err);
    cap_install(dst, UK_CAP_IRQ, UK_R_ALL, &h->hdr, 0);
    dst->arg = (u32)line;
    RET(UK_OK);
}

static void sys_irq_bind(word irq_idx, word notif_idx)
{
    int err;
    struct cap *ic = cap_lookup(my_caps(), irq_idx, UK_CAP_IRQ, UK_R_CONTROL, &err);
    if (!ic)
        RET(err);
    struct cap *nc = cap_lookup(my_caps(), notif_idx, UK_CAP_NOTIFICATION, UK_R_WRITE, &err);
    if (!nc)
        RET(err);
    irq_holder_bind(container_of(ic->obj, struct irq_holder, hdr),
                    (struct notification *)nc->obj, nc->badge);
    RET(UK_OK);
}

static void sys_irq_ack(word irq_idx)
{
    int err;
    struct cap *ic = cap_lookup(my_caps(), irq_idx, UK_CAP_IRQ, 0, &err);
    if (!ic)
        RET(err);
    RET(irq_holder_ack(container_of(ic->obj, struct irq_holder, hdr)));
}

static struct cap *ioport_cap(word idx, word port, word count, int *err)
{
    struct cap *c = cap_lookup(my_caps(), idx, UK_CAP_IOPORT, 0, err);
    if (!c)
        return NULL;
    word first = c->arg, n = c->extra + 1ul;
    if (port > 0xffff || count == 0 || count > 0x10000 || port < first ||
        port + count > first + n) {
        *err = UK_E_RANGE;
        return NULL;
    }
    return c;
}

static void sys_ioport_issue(word idx, word port, word count, word slot)
{
    int err;
    if (!ioport_cap(idx, port, count, &err))
        RET(err);
    if (count > 0x10000)
        RET(UK_E_RANGE);
    struct cap *dst = free_slot(slot, &err);
    if (!dst)
        RET(err);
    *dst = (struct cap){ .type = UK_CAP_IOPORT, .rights = UK_R_ALL,
                         .arg = (u32)port, .extra = (u16)(count - 1) };
    RET(UK_OK);
}

static void sys_ioport_io(word idx, word port, word width, word value, bool out)
{
    int err;
    if (width != 1 && width != 2 && width != 4)
        RET(UK_E_INVAL);
    if (!ioport_cap(idx, port, width, &err))
        RET(err);
    if (out) {
        if (width == 1) outb((u16)port, (u8)value);
        else if (width == 2) outw((u16)port, (u16)value);
        else outl((u16)port, (u32)value);
    } else {
        current->regs.rdi = width == 1 ? inb((u16)port) : width == 2 ? inw((u16)port) : inl((u16)port);
    }
    RET(UK_OK);
}

/* --- vCPUs --------------------------------------------------------------------------- */

static void sys_vcpu_config(word idx, word state_va, word flags)
{
    int err;
    struct thread *t = thread_cap(idx, UK_R_CONTROL, &err);
    if (!t)
        RET(err);
    RET(vcpu_config(t, t->hdr.owner, state_va, flags));   /* charged as its thread */
}

/* --- debugging -------------------------------------------------------------------- */

/* The kernel log and the global counters are a privilege (UK_CAP_DEBUG):
 * without it a guest could write lines that look like the root task's or
 * another guest's, escape sequences, or a flood, past every filter the
 * vmm-server and console server apply, and read what other guests do. */
static void sys_debug_puts(word cap_idx, word va, word len)
{
    int err;
    char buf[UK_DEBUG_PUTS_MAX];
    if (!cap_lookup(my_caps(), cap_idx, UK_CAP_DEBUG, UK_R_WRITE, &err))
        RET(err);
    if (len > UK_DEBUG_PUTS_MAX)
        RET(UK_E_INVAL);
    if (va + len < va || copy_from_user(current->task, buf, va, len))
        RET(UK_E_ADDR);                  /* all of it readable, or nothing printed */
    log_write(buf, len);
    RET(UK_OK);
}

static void sys_debug_stats(word cap_idx)
{
    int err;
    if (!cap_lookup(my_caps(), cap_idx, UK_CAP_DEBUG, UK_R_READ, &err))
        RET(err);
    struct uk_ipc_buffer *b = my_ipc_buffer();
    if (!b)
        RET(UK_E_ADDR);
    kstats.free_frames = kmem_free_pages();
    kstats.kmem_bytes_used = kmem_bytes_used();
    kstats.caller_kmem_used = current->task->quota.used;
    kstats.caller_kmem_quota = current->task->quota.limit;
    memcpy(b->data, &kstats, sizeof kstats);
    RET(UK_OK);
}

/* --- dispatch ------------------------------------------------------------------------ */

/* Everything the first stage (syscall_dispatch in fastpath.c) passes on. */
noinline
void syscall_slow(word rdi, word rsi, word rdx, word r10, word r8, word r9, word nr)
{
    struct ipc_msg m = { rsi, { rdx, r10, r8, r9 } };
    switch (nr) {
    case UK_SYS_NULL:
        current->regs.rax = UK_OK;
        return;
    case UK_SYS_CALL:
        kstats.ipc_slowpath++;
        ipc_send(rdi, &m, true);
        break;
    case UK_SYS_REPLY_RECV:
        kstats.ipc_slowpath++;
        ipc_reply_recv(rdi, &m);
        break;
    case UK_SYS_SEND:       kstats.ipc_slowpath++; ipc_send(rdi, &m, false); break;
    case UK_SYS_RECV:       kstats.ipc_slowpath++; ipc_recv(rdi, rsi); break;
    case UK_SYS_REPLY:      kstats.ipc_slowpath++; ipc_reply(&m); break;
    case UK_SYS_SIGNAL: {
        int err;
        struct cap *c = cap_lookup(my_caps(), rdi, UK_CAP_NOTIFICATION, UK_R_WRITE, &err);
        if (c)
            notif_signal((struct notification *)c->obj, c->badge);
        current->regs.rax = c ? UK_OK : (word)err;
        break;
    }
    case UK_SYS_REPLY_SAVE: current->regs.rax = (word)ipc_reply_save(rdi); break;
    case UK_SYS_YIELD:
        current->timeslice = 0;
        current->regs.rax = UK_OK;
        break;
    case UK_SYS_ENDPOINT_CREATE:   sys_small_object_create(rdi, UK_CAP_ENDPOINT); break;
    case UK_SYS_NOTIF_CREATE:      sys_small_object_create(rdi, UK_CAP_NOTIFICATION); break;
    case UK_SYS_TASK_CREATE:       sys_task_create(rdi, rsi, rdx, r10); break;
    case UK_SYS_THREAD_CREATE:     sys_thread_create(rdi, rsi); break;
    case UK_SYS_OBJ_DESTROY:       sys_obj_destroy(rdi, rsi); break;
    case UK_SYS_CAP_COPY:          sys_cap_copy(rdi, rsi, rdx, r10, r8); break;
    case UK_SYS_CAP_DELETE:        sys_cap_delete(rdi, rsi); break;
    case UK_SYS_CAP_INFO:          sys_cap_info(rdi); break;
    case UK_SYS_THREAD_CONFIG:     sys_thread_config(rdi, rsi, rdx, r10); break;
    case UK_SYS_THREAD_START:      sys_thread_start(rdi, rsi, rdx, r10); break;
    case UK_SYS_THREAD_SUSPEND:    sys_thread_suspend(rdi); break;
    case UK_SYS_THREAD_RESUME:     sys_thread_resume(rdi); break;
    case UK_SYS_THREAD_READ_REGS:  sys_thread_regs(rdi, false); break;
    case UK_SYS_THREAD_WRITE_REGS: sys_thread_regs(rdi, true); break;
    case UK_SYS_THREAD_SET_TLS:    sys_set_tls(rdi, rsi); break;
    case UK_SYS_NOTIF_BIND:        sys_notif_bind(rdi, rsi); break;
    case UK_SYS_MAP:               sys_map(rdi, rsi, rdx, r10, r8); break;
    case UK_SYS_UNMAP:             sys_unmap(rdi, rsi, rdx); break;
    case UK_SYS_PROTECT:           sys_protect(rdi, rsi, rdx, r10); break;
    case UK_SYS_MEM_INFO:          sys_mem_info(rdi); break;
    case UK_SYS_KMEM_INFO:         sys_kmem_info(rdi); break;
    case UK_SYS_IRQ_GET:           sys_irq_get(rdi, rsi, rdx); break;
    case UK_SYS_IRQ_BIND:          sys_irq_bind(rdi, rsi); break;
    case UK_SYS_IRQ_ACK:           sys_irq_ack(rdi); break;
    case UK_SYS_IOPORT_ISSUE:      sys_ioport_issue(rdi, rsi, rdx, r10); break;
    case UK_SYS_IOPORT_IN:         sys_ioport_io(rdi, rsi, rdx, 0, false); break;
    case UK_SYS_IOPORT_OUT:        sys_ioport_io(rdi, rsi, rdx, r10, true); break;
    case UK_SYS_VCPU_CONFIG:       sys_vcpu_config(rdi, rsi, rdx); break;
    case UK_SYS_DEBUG_PUTS:        sys_debug_puts(rdi, rsi, rdx); break;
    case UK_SYS_DEBUG_STATS:       sys_debug_stats(rdi); break;
    default:
        current->regs.rax = UK_E_NOSYS;
        return;
    }
    schedule();
}
