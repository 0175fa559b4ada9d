/*
 * C stubs for every system call (numbers and layouts in uk/abi.h).  Each
 * returns the error code; outputs go through pointers or a struct uk_msg.
 */
#ifndef UK_SYSCALL_H
#define UK_SYSCALL_H

#include <uk/abi.h>

/* All registers a system call returns. */
struct uk_ret {
    long err;           /* rax */
    uk_word_t r[6];     /* rdi, rsi, rdx, r10, r8, r9 */
};

static inline struct uk_ret uk_sys(uk_word_t nr, uk_word_t a0, uk_word_t a1, uk_word_t a2,
                                   uk_word_t a3, uk_word_t a4, uk_word_t a5)
{
    register uk_word_t rax __asm__("rax") = nr;
    register uk_word_t rdi __asm__("rdi") = a0;
    register uk_word_t rsi __asm__("rsi") = a1;
    register uk_word_t rdx __asm__("rdx") = a2;
    register uk_word_t r10 __asm__("r10") = a3;
    register uk_word_t r8 __asm__("r8") = a4;
    register uk_word_t r9 __asm__("r9") = a5;
    __asm__ volatile("syscall"
                     : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
                     :: "rcx", "r11", "memory");
    return (struct uk_ret){ (long)rax, { rdi, rsi, rdx, r10, r8, r9 } };
}

/* An IPC message: info (uk_msginfo), the badge that came with it, and the
 * register words.  Longer messages put words 4.. in the IPC buffer. */
struct uk_msg {
    uk_word_t info;
    uk_word_t badge;
    uk_word_t w[UK_MSG_REG_WORDS];
};

/* Word i of a message: words 0-3 travel in m's registers, words 4.. in the
 * IPC buffer b at the same index (docs/ABI.md §3). */
static inline uk_word_t uk_msg_word(const struct uk_msg *m, const struct uk_ipc_buffer *b,
                                    uk_word_t i)
{
    return i < UK_MSG_REG_WORDS ? m->w[i] : b->msg[i];
}
static inline void uk_msg_set_word(struct uk_msg *m, struct uk_ipc_buffer *b, uk_word_t i,
                                   uk_word_t v)
{
    if (i < UK_MSG_REG_WORDS)
        m->w[i] = v;
    else
        b->msg[i] = v;
}
/* Words 0..n-1 of a message from w[] (n <= UK_MSG_MAX_WORDS). */
static inline void uk_msg_set_words(struct uk_msg *m, struct uk_ipc_buffer *b,
                                    const uk_word_t *w, uk_word_t n)
{
    for (uk_word_t i = 0; i < n; i++)
        uk_msg_set_word(m, b, i, w[i]);
}

static inline long uk_ipc(uk_word_t nr, uk_word_t cap, struct uk_msg *m)
{
    struct uk_ret r = uk_sys(nr, cap, m->info, m->w[0], m->w[1], m->w[2], m->w[3]);
    m->badge = r.r[0];
    m->info = r.r[1];
    m->w[0] = r.r[2];
    m->w[1] = r.r[3];
    m->w[2] = r.r[4];
    m->w[3] = r.r[5];
    return r.err;
}

static inline long uk_call(uk_word_t ep, struct uk_msg *m)       { return uk_ipc(UK_SYS_CALL, ep, m); }
static inline long uk_send(uk_word_t ep, struct uk_msg *m)       { return uk_ipc(UK_SYS_SEND, ep, m); }
static inline long uk_recv(uk_word_t ep, struct uk_msg *m)       { return uk_ipc(UK_SYS_RECV, ep, m); }
static inline long uk_reply(struct uk_msg *m)                    { return uk_ipc(UK_SYS_REPLY, 0, m); }
static inline long uk_reply_recv(uk_word_t ep, struct uk_msg *m) { return uk_ipc(UK_SYS_REPLY_RECV, ep, m); }

static inline long uk_null(void)          { return uk_sys(UK_SYS_NULL, 0, 0, 0, 0, 0, 0).err; }
static inline long uk_yield(void)         { return uk_sys(UK_SYS_YIELD, 0, 0, 0, 0, 0, 0).err; }
static inline long uk_signal(uk_word_t n) { return uk_sys(UK_SYS_SIGNAL, n, 0, 0, 0, 0, 0).err; }
static inline long uk_reply_save(uk_word_t slot) { return uk_sys(UK_SYS_REPLY_SAVE, slot, 0, 0, 0, 0, 0).err; }

/* Waits on a notification (timeout encoded as in abi.h); *bits gets the word. */
static inline long uk_wait(uk_word_t n, uk_word_t timeout, uk_word_t *bits)
{
    struct uk_ret r = uk_sys(UK_SYS_RECV, n, uk_msginfo(0, 0, timeout), 0, 0, 0, 0);
    if (bits)
        *bits = r.r[0];
    return r.err;
}

/* A call to a server whose reply's word 0 is a status (the device and
 * server protocols): that status, the reply's register words in out (if
 * not NULL), or uk_ipc_failed() if the IPC itself failed. */
static inline long uk_call_status(uk_word_t cap, struct uk_msg *m,
                                  uk_word_t out[UK_MSG_REG_WORDS])
{
    long err = uk_call(cap, m);
    if (err)
        return uk_ipc_failed(err);
    if (out)
        for (unsigned i = 0; i < UK_MSG_REG_WORDS; i++)
            out[i] = m->w[i];
    return (long)m->w[0];
}

static inline long uk_endpoint_create(uk_word_t slot) { return uk_sys(UK_SYS_ENDPOINT_CREATE, slot, 0, 0, 0, 0, 0).err; }
static inline long uk_notif_create(uk_word_t slot)    { return uk_sys(UK_SYS_NOTIF_CREATE, slot, 0, 0, 0, 0, 0).err; }
static inline long uk_task_create(uk_word_t slot, uk_word_t quota, uk_word_t nslots)
{
    return uk_sys(UK_SYS_TASK_CREATE, slot, quota, nslots, 0, 0, 0).err;
}
/* A task whose quota is a sub-account of `owner`'s (0: ours), charged as it
 * uses memory, at most `limit` bytes; owned by `owner` (UK_TASK_SHARED). */
static inline long uk_task_create_shared(uk_word_t slot, uk_word_t limit, uk_word_t nslots,
                                         uk_word_t owner)
{
    return uk_sys(UK_SYS_TASK_CREATE, slot, limit, nslots | UK_TASK_SHARED, owner, 0, 0).err;
}
static inline long uk_thread_create(uk_word_t slot, uk_word_t task)
{
    return uk_sys(UK_SYS_THREAD_CREATE, slot, task, 0, 0, 0, 0).err;
}
static inline long uk_obj_destroy(uk_word_t cap) { return uk_sys(UK_SYS_OBJ_DESTROY, cap, 0, 0, 0, 0, 0).err; }
static inline long uk_cap_copy(uk_word_t src, uk_word_t task, uk_word_t dst, uk_word_t rights, uk_word_t badge)
{
    return uk_sys(UK_SYS_CAP_COPY, src, task, dst, rights, badge, 0).err;
}
static inline long uk_cap_delete(uk_word_t task, uk_word_t slot)
{
    return uk_sys(UK_SYS_CAP_DELETE, task, slot, 0, 0, 0, 0).err;
}
static inline long uk_cap_info(uk_word_t slot, uk_word_t *type, uk_word_t *rights, uk_word_t *badge)
{
    struct uk_ret r = uk_sys(UK_SYS_CAP_INFO, slot, 0, 0, 0, 0, 0);
    if (type) *type = r.r[0];
    if (rights) *rights = r.r[1];
    if (badge) *badge = r.r[2];
    return r.err;
}
static inline long uk_thread_config(uk_word_t th, uk_word_t prio, uk_word_t fault_ep, uk_word_t ipcbuf)
{
    return uk_sys(UK_SYS_THREAD_CONFIG, th, prio, fault_ep, ipcbuf, 0, 0).err;
}
static inline long uk_thread_start(uk_word_t th, uk_word_t rip, uk_word_t rsp, uk_word_t arg)
{
    return uk_sys(UK_SYS_THREAD_START, th, rip, rsp, arg, 0, 0).err;
}
static inline long uk_thread_suspend(uk_word_t th) { return uk_sys(UK_SYS_THREAD_SUSPEND, th, 0, 0, 0, 0, 0).err; }
static inline long uk_thread_resume(uk_word_t th)  { return uk_sys(UK_SYS_THREAD_RESUME, th, 0, 0, 0, 0, 0).err; }
static inline long uk_thread_read_regs(uk_word_t th)  { return uk_sys(UK_SYS_THREAD_READ_REGS, th, 0, 0, 0, 0, 0).err; }
static inline long uk_thread_write_regs(uk_word_t th) { return uk_sys(UK_SYS_THREAD_WRITE_REGS, th, 0, 0, 0, 0, 0).err; }
static inline long uk_set_tls(uk_word_t fs, uk_word_t gs) { return uk_sys(UK_SYS_THREAD_SET_TLS, fs, gs, 0, 0, 0, 0).err; }
static inline long uk_notif_bind(uk_word_t n, uk_word_t th) { return uk_sys(UK_SYS_NOTIF_BIND, n, th, 0, 0, 0, 0).err; }

static inline long uk_map(uk_word_t task, uk_word_t src, uk_word_t dst, uk_word_t npages, uk_word_t rights)
{
    return uk_sys(UK_SYS_MAP, task, src, dst, npages, rights, 0).err;
}
static inline long uk_unmap(uk_word_t task, uk_word_t va, uk_word_t npages)
{
    return uk_sys(UK_SYS_UNMAP, task, va, npages, 0, 0, 0).err;
}
static inline long uk_protect(uk_word_t task, uk_word_t va, uk_word_t npages, uk_word_t rights)
{
    return uk_sys(UK_SYS_PROTECT, task, va, npages, rights, 0, 0).err;
}
static inline long uk_mem_info(uk_word_t va, uk_word_t *phys, uk_word_t *rights)
{
    struct uk_ret r = uk_sys(UK_SYS_MEM_INFO, va, 0, 0, 0, 0, 0);
    if (phys) *phys = r.r[0];
    if (rights) *rights = r.r[1];
    return r.err;
}
static inline long uk_kmem_info(uk_word_t task, uk_word_t *used, uk_word_t *quota)
{
    struct uk_ret r = uk_sys(UK_SYS_KMEM_INFO, task, 0, 0, 0, 0, 0);
    if (used) *used = r.r[0];
    if (quota) *quota = r.r[1];
    return r.err;
}
/* What `task` may still be charged: its own room and its owners' (shared). */
static inline long uk_kmem_room(uk_word_t task, uk_word_t *room)
{
    struct uk_ret r = uk_sys(UK_SYS_KMEM_INFO, task, 0, 0, 0, 0, 0);
    if (room) *room = r.r[2];
    return r.err;
}

static inline long uk_irq_get(uk_word_t ctl, uk_word_t irq, uk_word_t slot)
{
    return uk_sys(UK_SYS_IRQ_GET, ctl, irq, slot, 0, 0, 0).err;
}
static inline long uk_irq_bind(uk_word_t irq, uk_word_t notif) { return uk_sys(UK_SYS_IRQ_BIND, irq, notif, 0, 0, 0, 0).err; }
static inline long uk_irq_ack(uk_word_t irq) { return uk_sys(UK_SYS_IRQ_ACK, irq, 0, 0, 0, 0, 0).err; }
static inline long uk_ioport_issue(uk_word_t cap, uk_word_t port, uk_word_t count, uk_word_t slot)
{
    return uk_sys(UK_SYS_IOPORT_ISSUE, cap, port, count, slot, 0, 0).err;
}
static inline long uk_inb(uk_word_t cap, uk_word_t port, uk_word_t *v)
{
    struct uk_ret r = uk_sys(UK_SYS_IOPORT_IN, cap, port, 1, 0, 0, 0);
    *v = r.r[0];
    return r.err;
}
static inline long uk_in(uk_word_t cap, uk_word_t port, uk_word_t width, uk_word_t *v)
{
    struct uk_ret r = uk_sys(UK_SYS_IOPORT_IN, cap, port, width, 0, 0, 0);
    *v = r.r[0];
    return r.err;
}
static inline long uk_out(uk_word_t cap, uk_word_t port, uk_word_t width, uk_word_t v)
{
    return uk_sys(UK_SYS_IOPORT_OUT, cap, port, width, v, 0, 0).err;
}
/* vCPUs (struct uk_vcpu_state in abi.h) */
static inline long uk_vcpu_config(uk_word_t th, uk_word_t state_va, uk_word_t flags)
{
    return uk_sys(UK_SYS_VCPU_CONFIG, th, state_va, flags, 0, 0, 0).err;
}
/* Does not return on success (the next exit enters state->entry_ip). */
static inline long uk_vcpu_resume(uk_word_t task, uk_word_t map_src, uk_word_t map_dst, uk_word_t map_rights)
{
    return uk_sys(UK_SYS_VCPU_RESUME, task, map_src, map_dst, map_rights, 0, 0).err;
}

/* A guest kernel's way back to a process: XRSTOR the process's FPU area
 * (64-byte aligned; rfbm = the state page's xsave_features) and RESUME in
 * one go, so no compiled code can touch the FPU in between.  Returns only
 * on error, like uk_vcpu_resume. */
static inline long uk_vcpu_resume_fpu(const void *area, uk_word_t rfbm, uk_word_t task,
                                      uk_word_t map_src, uk_word_t map_dst, uk_word_t map_rights)
{
    uk_word_t lo = (unsigned)rfbm, hi = rfbm >> 32;
    register uk_word_t rdi __asm__("rdi") = task;
    register uk_word_t rsi __asm__("rsi") = map_src;
    register uk_word_t r10 __asm__("r10") = map_rights;
    long ret;
    __asm__ volatile("mov %k[lo], %%eax\n\t"
                     "mov %k[hi], %%edx\n\t"
                     "xrstor64 (%[area])\n\t"
                     "mov %[dst], %%rdx\n\t"
                     "mov %[nr], %%eax\n\t"
                     "syscall"
                     : "=&a"(ret), "+r"(rdi), "+r"(rsi), "+r"(r10)
                     : [area] "r"(area), [lo] "r"(lo), [hi] "r"(hi), [dst] "r"(map_dst),
                       [nr] "i"(UK_SYS_VCPU_RESUME)
                     : "rdx", "rcx", "r11", "r8", "r9", "memory");
    return ret;
}

/* The kernel log and counters, through the debug cap in `slot`; the plain
 * forms use the usual slot (UK_SLOT_DEBUG). */
static inline long uk_debug_puts_at(uk_word_t slot, const char *s, uk_word_t len)
{
    return uk_sys(UK_SYS_DEBUG_PUTS, slot, (uk_word_t)s, len, 0, 0, 0).err;
}
static inline long uk_debug_stats_at(uk_word_t slot)
{
    return uk_sys(UK_SYS_DEBUG_STATS, slot, 0, 0, 0, 0, 0).err;
}
static inline long uk_debug_puts(const char *s, uk_word_t len)
{
    return uk_debug_puts_at(UK_SLOT_DEBUG, s, len);
}
static inline long uk_debug_stats(void) { return uk_debug_stats_at(UK_SLOT_DEBUG); }

static inline unsigned long uk_rdtsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long)hi << 32) | lo;
}

#endif
