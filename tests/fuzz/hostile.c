/*
 * The hostile side of the fuzzer: a thread of a hostile task calls random
 * system calls for ever, each argument either a random word (biased to
 * edge values) or a plausible one for its place: a slot of its table (of
 * the right type or not, empty, out of range), an address (its own pages,
 * pages near them, kernel, non-canonical), a page count, rights, a message
 * info with a zero or finite timeout (rarely infinite), an I/O port, an IRQ
 * line, a priority.  Thread 0 of each task is a vCPU: a successful
 * VCPU_RESUME runs its process, and the process's exit enters
 * fz_vcpu_entry_stub, which goes on with the loop.
 *
 * What keeps the fuzzer itself alive (the kernel must survive anything;
 * the fuzzer must survive long enough to try): no MAP, UNMAP, PROTECT,
 * IPC-buffer or state-page address over the ranges in fz_keep, and no
 * writable alias of them (fault replies that map included); THREAD_START and
 * WRITE_REGS never point a thread
 * into the image; the calling thread never suspends itself by slot 0 and
 * never deletes its own task cap.  Threads of a sibling may still be
 * suspended, restarted elsewhere or reconfigured: they fault, and the round
 * goes on without them.  The fuzz code never uses its gs base
 * (THREAD_SET_TLS is fuzzed too): it keeps its IPC buffer in its context.
 */
#include "fuzz.h"

extern char __image_start[], __image_end[];

struct fz_thread fz_threads[FZ_TASKS][FZ_THREADS];
uk_word_t fz_keep[FZ_KEEP_MAX][2];
unsigned fz_nkeep;
volatile uk_word_t fz_calls[UK_SYS_COUNT + 1], fz_ok[UK_SYS_COUNT + 1];
volatile uk_word_t fz_total;
volatile uk_word_t fz_errors[UK_E_COUNT + 1];
volatile uk_word_t fz_wrong;

/* The process a vCPU runs: two system calls (two exits), then an invalid
 * opcode (an exception exit); it writes no memory. */
__asm__(".text\n.balign 64\n.globl fz_process_code\nfz_process_code:\n"
        "  syscall\n  syscall\n  mov (%rsp), %rax\n  ud2\n  jmp fz_process_code\n");

/* Every vCPU exit (and the return to state.saved) enters here with rdi =
 * the state page and rsp = entry_sp (16-byte aligned). */
void fz_vcpu_entry(struct uk_vcpu_state *s) __attribute__((noreturn, used));
__asm__(".text\n.globl fz_vcpu_entry_stub\nfz_vcpu_entry_stub:\n  call fz_vcpu_entry\n  ud2\n");

static const uk_word_t fz_special[] = {
    0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 4095, 4096, 4097,
    0xffff, 0x10000, 0x10001, 0x40000, 0x40001, 0x7fffffff, 0x80000000, 0xffffffff,
    0x100000000ul, 0x10000000aul, UK_USER_MAP_TOP, 0x000007fffffff000ul,
    0x00007ffffffffffful, UK_USER_HALF_END, 0xffff800000000000ul,
    0xffffffff80000000ul, 0xffffffff80100000ul, 0x8000000000000000ul,
    0x7ffffffffffffffful, ~0ul, ~0ul - 1, ~0ul << 12,
};
#define NSPECIAL (sizeof fz_special / sizeof fz_special[0])

static uk_word_t fz_rand(struct fz_thread *c)
{
    uk_word_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return c->rng = x;
}

/* Any word, biased towards small numbers and edge values. */
static uk_word_t fz_word(struct fz_thread *c)
{
    uk_word_t r = fz_rand(c);
    switch (r & 7) {
    case 0: case 1: return (r >> 8) % 40;                   /* slots, counts, widths */
    case 2: case 3: return fz_special[(r >> 8) % NSPECIAL];
    case 4: return ((r >> 8) & 0x7ffffff) << 12;            /* a page of user space */
    case 5: return (r >> 8) & 0xffff;                       /* ports, priorities, timeouts */
    default: return fz_rand(c);
    }
}

enum fz_kind {
    K_WORD, K_SLOT, K_ADDR, K_PAGES, K_MRIGHTS, K_CRIGHTS, K_INFO, K_PORT, K_WIDTH,
    K_IRQ, K_PRIO, K_QUOTA, K_NSLOTS, K_LEN, K_BADGE,
};

/* What each argument of each system call plausibly is. */
static const unsigned char fz_kinds[UK_SYS_COUNT][6] = {
    [UK_SYS_CALL]          = { K_SLOT, K_INFO, K_WORD, K_WORD, K_WORD, K_WORD },
    [UK_SYS_REPLY_RECV]    = { K_SLOT, K_INFO, K_WORD, K_WORD, K_WORD, K_WORD },
    [UK_SYS_SEND]          = { K_SLOT, K_INFO, K_WORD, K_WORD, K_WORD, K_WORD },
    [UK_SYS_RECV]          = { K_SLOT, K_INFO },
    [UK_SYS_REPLY]         = { K_SLOT, K_INFO, K_WORD, K_WORD, K_WORD, K_WORD },
    [UK_SYS_SIGNAL]        = { K_SLOT },
    [UK_SYS_REPLY_SAVE]    = { K_SLOT },
    [UK_SYS_ENDPOINT_CREATE] = { K_SLOT },
    [UK_SYS_NOTIF_CREATE]  = { K_SLOT },
    [UK_SYS_TASK_CREATE]   = { K_SLOT, K_QUOTA, K_NSLOTS },
    [UK_SYS_THREAD_CREATE] = { K_SLOT, K_SLOT },
    [UK_SYS_OBJ_DESTROY]   = { K_SLOT },
    [UK_SYS_CAP_COPY]      = { K_SLOT, K_SLOT, K_SLOT, K_CRIGHTS, K_BADGE },
    [UK_SYS_CAP_DELETE]    = { K_SLOT, K_SLOT },
    [UK_SYS_CAP_INFO]      = { K_SLOT },
    [UK_SYS_THREAD_CONFIG] = { K_SLOT, K_PRIO, K_SLOT, K_ADDR },
    [UK_SYS_THREAD_START]  = { K_SLOT, K_ADDR, K_ADDR, K_WORD },
    [UK_SYS_THREAD_SUSPEND] = { K_SLOT },
    [UK_SYS_THREAD_RESUME] = { K_SLOT },
    [UK_SYS_THREAD_READ_REGS] = { K_SLOT },
    [UK_SYS_THREAD_WRITE_REGS] = { K_SLOT },
    [UK_SYS_THREAD_SET_TLS] = { K_ADDR, K_ADDR },
    [UK_SYS_NOTIF_BIND]    = { K_SLOT, K_SLOT },
    [UK_SYS_MAP]           = { K_SLOT, K_ADDR, K_ADDR, K_PAGES, K_MRIGHTS },
    [UK_SYS_UNMAP]         = { K_SLOT, K_ADDR, K_PAGES },
    [UK_SYS_PROTECT]       = { K_SLOT, K_ADDR, K_PAGES, K_MRIGHTS },
    [UK_SYS_MEM_INFO]      = { K_ADDR },
    [UK_SYS_KMEM_INFO]     = { K_SLOT },
    [UK_SYS_IRQ_GET]       = { K_SLOT, K_IRQ, K_SLOT },
    [UK_SYS_IRQ_BIND]      = { K_SLOT, K_SLOT },
    [UK_SYS_IRQ_ACK]       = { K_SLOT },
    [UK_SYS_IOPORT_ISSUE]  = { K_SLOT, K_PORT, K_WIDTH, K_SLOT },
    [UK_SYS_IOPORT_IN]     = { K_SLOT, K_PORT, K_WIDTH },
    [UK_SYS_IOPORT_OUT]    = { K_SLOT, K_PORT, K_WIDTH, K_WORD },
    [UK_SYS_VCPU_CONFIG]   = { K_SLOT, K_ADDR, K_WORD },
    [UK_SYS_VCPU_RESUME]   = { K_SLOT, K_ADDR, K_ADDR, K_MRIGHTS },
    [UK_SYS_DEBUG_PUTS]    = { K_SLOT, K_ADDR, K_LEN },
    [UK_SYS_DEBUG_STATS]   = { K_SLOT },
};

/* A slot of the right type for argument 0 / 1, taken half the time. */
static const unsigned char fz_pref[UK_SYS_COUNT][2] = {
    [UK_SYS_CALL] = { FZ_SLOT_EP }, [UK_SYS_SEND] = { FZ_SLOT_EP_PLAIN },
    [UK_SYS_RECV] = { FZ_SLOT_EP_PLAIN }, [UK_SYS_REPLY_RECV] = { FZ_SLOT_EP_PLAIN },
    [UK_SYS_SIGNAL] = { FZ_SLOT_NOTIF },
    [UK_SYS_NOTIF_BIND] = { FZ_SLOT_NOTIF, FZ_SLOT_THREAD0 },
    [UK_SYS_IRQ_GET] = { FZ_SLOT_IRQ_CONTROL }, [UK_SYS_IRQ_BIND] = { FZ_SLOT_IRQ, FZ_SLOT_NOTIF },
    [UK_SYS_IRQ_ACK] = { FZ_SLOT_IRQ },
    [UK_SYS_IOPORT_ISSUE] = { FZ_SLOT_PORT80 }, [UK_SYS_IOPORT_IN] = { FZ_SLOT_PORT80 },
    [UK_SYS_IOPORT_OUT] = { FZ_SLOT_PORT80 },
    [UK_SYS_MAP] = { FZ_SLOT_NEIGHBOUR }, [UK_SYS_CAP_COPY] = { 0, FZ_SLOT_SELF },
    [UK_SYS_THREAD_CREATE] = { 0, FZ_SLOT_SELF },
};

static uk_word_t fz_timeout(struct fz_thread *c)
{
    uk_word_t r = fz_rand(c);
    switch (r & 15) {
    case 0: return UK_TIMEOUT_INFINITE;                      /* the fast paths */
    case 1: case 2: case 3: case 4: case 5: return UK_TIMEOUT_ZERO;
    case 6: return 0x0800;                                   /* finite, 0 us */
    default: return uk_timeout_us((r >> 8) % 2000 + 1);      /* up to 2 ms */
    }
}

/* A page-aligned address: its own pages, next to them, or none of its. */
static uk_word_t fz_addr(struct fz_thread *c)
{
    uk_word_t r = fz_rand(c);
    uk_word_t k = (r >> 8) % fz_nkeep;
    uk_word_t pages = (fz_keep[k][1] - fz_keep[k][0]) / 4096;
    switch (r & 15) {
    case 0: case 1: case 2: case 3: case 4: case 5:          /* one of its own pages */
        return fz_keep[k][0] + ((r >> 20) % pages) * 4096;
    case 6: case 7: case 8:                                  /* just around them */
        return fz_keep[k][((r >> 20) & 1)] + (((r >> 24) % 9) - 4) * 4096;
    case 9: return 0xffffffff80000000ul + ((r >> 8) & 0xfff) * 4096;   /* kernel */
    case 10: return UK_USER_HALF_END + ((r >> 8) & 0xfff) * 4096;  /* non-canonical */
    case 11: return UK_USER_MAP_TOP - ((r >> 8) & 3) * 4096;      /* the top */
    case 12: return FZ_STATE_VA((r >> 8) % (FZ_TASKS + 1));
    case 13: return (r >> 8) & 0xfff;                        /* unaligned, low */
    default: return ((r >> 8) & 0x3ffff) << 12;             /* below 1 GiB */
    }
}

static uk_word_t fz_arg(struct fz_thread *c, unsigned kind)
{
    uk_word_t r = fz_rand(c);
    if ((r & 7) == 0)
        return fz_word(c);
    r >>= 3;
    switch (kind) {
    case K_SLOT:
        if ((r & 15) == 0)
            return fz_special[(r >> 4) % 12] + ((r >> 8) & 1 ? FZ_SLOTS - 1 : 0);
        return (r & 3) ? 1 + (r >> 4) % (FZ_SLOT_FIRST_FREE + 4) : (r >> 4) % FZ_SLOTS;
    case K_ADDR: return fz_addr(c);
    case K_PAGES: {
        static const uk_word_t n[] = { 0, 1, 1, 1, 2, 3, 4, 16, UK_MAP_MAX_PAGES,
                                       UK_MAP_MAX_PAGES + 1, 1ul << 40 };
        return n[r % (sizeof n / sizeof n[0])];
    }
    case K_MRIGHTS: return (r & 31) == 0 ? (r | 8) : (r >> 5) & 7;
    case K_CRIGHTS: return (r & 15) == 0 ? ~0ul : (r >> 4) & 15;
    case K_BADGE: return (r & 1) ? 0 : (r >> 1) & 0xff;
    case K_INFO: {
        uk_word_t len = (r & 7) == 0 ? (r >> 3) % 70 : (r >> 3) % 6;
        uk_word_t label = (r & 0x300) == 0 ? 0xfff0 + ((r >> 12) & 15) : (r >> 12) & 0x3ff;
        return uk_msginfo(label, len, fz_timeout(c));
    }
    case K_PORT: return (r & 3) ? 0x80 : 0x7e + ((r >> 2) & 3);
    case K_WIDTH: return (r & 3) ? 1 : (r >> 2) % 6;
    case K_IRQ: return (r & 15) ? (r >> 4) % 24 : 24 + ((r >> 4) & 255);
    case K_PRIO: return (r & 7) ? (r >> 3) % 101 : 100 + ((r >> 3) % 200);
    case K_QUOTA: {
        static const uk_word_t q[] = { 0, 1, 4096, 8192, 16384, 65536, 1ul << 20, 1ul << 30 };
        return q[r % 8];
    }
    case K_NSLOTS: return (r & 7) ? (r >> 3) % 40 : UK_MAX_CAP_SLOTS + ((r >> 3) & 1);
    case K_LEN: return (r & 3) ? (r >> 2) % 64 : UK_DEBUG_PUTS_MAX + ((r >> 2) & 1);
    default: return fz_word(c);
    }
}

static int fz_overlaps_keep(uk_word_t va, uk_word_t n)
{
    uk_word_t end = va + n * 4096;
    for (unsigned i = 0; i < fz_nkeep; i++)
        if (va < fz_keep[i][1] && end > fz_keep[i][0])
            return 1;
    return 0;
}

/* Moves [va, va + n pages) away from the ranges the fuzzer lives in. */
static uk_word_t fz_keep_clear(uk_word_t va, uk_word_t n)
{
    if (n == 0 || n > UK_MAP_MAX_PAGES || va >= UK_USER_MAP_TOP)
        return va;                                          /* refused anyway */
    if (fz_overlaps_keep(va & ~4095ul, n + 1))
        return 0x300000000000ul | (va & 0xffffffful);
    return va;
}

/* An entry point outside the image: a thread started there faults instead
 * of running the fuzzer's code with junk registers. */
static uk_word_t fz_code_clear(uk_word_t rip)
{
    if (rip >= (uk_word_t)__image_start && rip < (uk_word_t)__image_end)
        return rip - (uk_word_t)__image_start;
    return rip;
}

/* A mapping whose source is one of the kept ranges may not be writable. */
static uk_word_t fz_rights_clear(uk_word_t src, uk_word_t n, uk_word_t rights)
{
    if (n > UK_MAP_MAX_PAGES)
        n = 1;
    return fz_overlaps_keep(src & ~4095ul, n + 1) ? rights & ~(uk_word_t)UK_MAP_WRITE : rights;
}

/* Junk in the vCPU state page where the kernel reads it: the process's
 * registers (rip: the process code, or any address outside the image),
 * sometimes the virtual interrupt flag, the pending bits, the saved frame
 * (its rip outside the image too). */
static void fz_state_junk(struct fz_thread *c)
{
    struct uk_vcpu_state *s = c->state;
    uk_word_t r = fz_rand(c);
    if (r & 1) {
        for (unsigned k = 0; k < 16; k++)
            ((uk_word_t *)&s->user)[k] = fz_word(c);
        s->user.rflags = fz_word(c);
        s->user.fs_base = (r & 2) ? 0 : fz_word(c);
        s->user.gs_base = (r & 4) ? 0 : fz_word(c);
    }
    s->user.rip = (r & 0x18) ? (uk_word_t)fz_process_code : fz_code_clear(fz_word(c));
    if ((r & 0x1e0) == 0)
        s->irq_enabled = 1;
    if ((r & 0x1e00) == 0)
        s->pending = fz_word(c);
    if ((r & 0x1e000) == 0) {                /* a RESUME to `saved` then goes astray */
        for (unsigned k = 0; k < UK_REGS_WORDS; k++)
            ((uk_word_t *)&s->saved)[k] = fz_word(c);
        s->saved.rip = fz_code_clear(s->saved.rip);
    }
}

static void fz_one(struct fz_thread *c, uk_word_t nr)
{
    uk_word_t a[6];
    const unsigned char *kind = nr < UK_SYS_COUNT ? fz_kinds[nr] : fz_kinds[0];
    for (int k = 0; k < 6; k++)
        a[k] = fz_arg(c, kind[k]);
    for (int k = 0; k < 2; k++)
        if (nr < UK_SYS_COUNT && fz_pref[nr][k] && (fz_rand(c) & 1))
            a[k] = fz_pref[nr][k];
    switch (nr) {
    case UK_SYS_CALL: case UK_SYS_SEND: case UK_SYS_RECV: case UK_SYS_REPLY_RECV:
    case UK_SYS_REPLY:
        /* an infinite timeout (the fast paths need one on both sides):
         * often for receivers and callers, now and then for senders (the root restarts
         * a thread stuck for long) */
        if (nr == UK_SYS_RECV || nr == UK_SYS_REPLY_RECV || nr == UK_SYS_CALL) {
            if ((fz_rand(c) & 3) == 0)
                a[1] |= (uk_word_t)UK_TIMEOUT_INFINITE << 8;
        } else if ((a[1] & 0xfffful << 8) == (uk_word_t)UK_TIMEOUT_INFINITE << 8 &&
                   (fz_rand(c) & 1)) {
            a[1] &= ~(0xfffful << 8);
        }
        if (uk_msg_label(a[1]) == UK_FAULT_REPLY_MAP) {  /* a pager's reply maps w0 -> w1 */
            a[3] = fz_keep_clear(a[3], a[4]);
            a[5] = fz_rights_clear(a[2], a[4], a[5]);
        }
        if (uk_msg_label(a[1]) == UK_FAULT_REPLY_REGS) {
            /* the faulted thread's new registers: words 4.. come from the
             * IPC buffer, which holds what was received last (another
             * thread's registers, addresses in the image): junk of our
             * own instead, rip outside the image.  (A thread whose IPC
             * buffer a sibling moved reads them elsewhere: see
             * docs/testing.md.) */
            for (unsigned k = UK_MSG_REG_WORDS; k < UK_REGS_WORDS; k++)
                c->buf->msg[k] = fz_word(c);
            c->buf->msg[16] = fz_code_clear(c->buf->msg[16]);
            if (fz_rand(c) & 1)
                a[1] = (a[1] & ~0xfful) | UK_REGS_WORDS;
        }
        break;
    case UK_SYS_THREAD_SUSPEND:
        if (a[0] == 0)                           /* not itself (that ends its round) */
            a[0] = FZ_SLOT_THREAD0 + (c->index + 1) % FZ_THREADS;
        break;
    case UK_SYS_CAP_DELETE:
        if (a[1] == FZ_SLOT_SELF)                /* keep its own task cap */
            a[1] = FZ_SLOT_FIRST_FREE;
        break;
    case UK_SYS_MAP:
        a[2] = fz_keep_clear(a[2], a[3]);
        a[4] = fz_rights_clear(a[1], a[3], a[4]);
        break;
    case UK_SYS_UNMAP: case UK_SYS_PROTECT:
        a[1] = fz_keep_clear(a[1], a[2]);
        break;
    case UK_SYS_THREAD_CONFIG:
        a[3] = fz_keep_clear(a[3], 1);
        break;
    case UK_SYS_VCPU_CONFIG:
        a[1] = fz_keep_clear(a[1], 1);
        break;
    case UK_SYS_THREAD_START:
        a[1] = fz_code_clear(a[1]);
        break;
    case UK_SYS_THREAD_WRITE_REGS: {
        struct uk_regs *r = (struct uk_regs *)c->buf->data;
        for (unsigned k = 0; k < UK_REGS_WORDS; k++)
            ((uk_word_t *)r)[k] = fz_word(c);
        r->rip = fz_code_clear(r->rip);
        break;
    }
    case UK_SYS_VCPU_RESUME:
        if (c->state) {
            fz_state_junk(c);
            if ((fz_rand(c) & 3) == 0) {         /* its code page rides along */
                a[1] = (uk_word_t)fz_process_code & ~4095ul;
                a[2] = a[1];
                a[3] = UK_MAP_READ | UK_MAP_EXEC;
            }
            if (fz_rand(c) & 1)
                a[0] = FZ_SLOT_PROCESS;
        }
        /* the target may be a sibling task; and any thread may have been
         * made a vCPU by a sibling's VCPU_CONFIG */
        a[2] = fz_keep_clear(a[2], 1);
        a[3] = fz_rights_clear(a[1], 1, a[3]);
        break;
    }
    __atomic_fetch_add(&fz_calls[nr < UK_SYS_COUNT ? nr : UK_SYS_COUNT], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&fz_total, 1, __ATOMIC_RELAXED);
    c->calls++;
    if (nr == UK_SYS_VCPU_RESUME && c->state) {
        c->state->exit_reason = UK_VCPU_EXIT_NONE;   /* a return to `saved` leaves it so */
        c->resuming = 1;
    }
    uk_word_t *last = c->last[c->calls % FZ_LAST_CALLS];
    last[0] = nr;
    for (int k = 0; k < 6; k++)
        last[1 + k] = a[k];
    last[7] = ~0ul;                              /* no result yet */
    struct uk_ret r = uk_sys(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    last[7] = (uk_word_t)r.err;
    c->resuming = 0;
    __atomic_fetch_add(&fz_errors[r.err >= 0 && r.err < UK_E_COUNT ? r.err : UK_E_COUNT], 1,
                       __ATOMIC_RELAXED);
    if ((nr == UK_SYS_NULL || nr == UK_SYS_YIELD) && r.err != UK_OK)
        __atomic_fetch_add(&fz_wrong, 1, __ATOMIC_RELAXED);   /* whatever the arguments */
    if (r.err == UK_OK)
        __atomic_fetch_add(&fz_ok[nr < UK_SYS_COUNT ? nr : UK_SYS_COUNT], 1, __ATOMIC_RELAXED);
}

void fz_thread_main(struct fz_thread *c)
{
    for (;;) {
        uk_word_t r = fz_rand(c);
        uk_word_t nr = (r & 63) == 0 ? UK_SYS_COUNT + ((r >> 6) & 3) * ((r >> 8) & 0xffff)
                                     : (r >> 6) % UK_SYS_COUNT;
        fz_one(c, nr);
    }
}

/* A vCPU exit: unless it is an upcall (an event while the fuzz code ran
 * with irq_enabled set), the resume that got here succeeded; the interrupted frame
 * (if any) is not needed, as the loop goes on from the context alone.  So
 * that a later RESUME to `saved` also lands here, saved is pointed at the
 * entry stub with a fresh stack. */
void fz_vcpu_entry(struct uk_vcpu_state *s)
{
    uk_word_t t = ((uk_word_t)s - FZ_STATE_VA(0)) / 0x10000ul;
    struct fz_thread *c = &fz_threads[t < FZ_TASKS ? t : 0][0];
    if (c->resuming && s->exit_reason != UK_VCPU_EXIT_UPCALL) {
        __atomic_fetch_add(&fz_ok[UK_SYS_VCPU_RESUME], 1, __ATOMIC_RELAXED);
        c->resuming = 0;
    }
    memset(&s->saved, 0, sizeof s->saved);
    s->saved.rip = (uk_word_t)fz_vcpu_entry_stub;
    s->saved.rsp = c->entry_sp;
    s->saved.rdi = (uk_word_t)s;
    s->saved.rflags = 0x202;
    fz_thread_main(c);
}
