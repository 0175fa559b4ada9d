/*
 * The microkernel benchmarks (`make bench` -> build/bench/ukernel.jsonl),
 * measured the way sel4bench does: one-way IPC (call: client's send to
 * server's wake-up; reply-recv: server's reply to client's wake-up), with
 * the timestamp read right before the syscall instruction on one side and
 * right after the partner's syscall returns on the other.
 *
 * Under QEMU TCG with -icount shift=0 the TSC advances one tick per guest
 * instruction, so a difference of TSC readings is an instruction count.
 * The timing window holds exactly: rdtscp, two register moves saving the
 * stamp, loading the call number, the syscall ... and the final rdtscp.
 * `overhead` times the same window without the syscall, and is subtracted.
 * Event counts (kernel entries, address-space switches, TLB flushes, fast
 * path use) come from the kernel's counters over a batch of operations.
 * The vCPU benchmarks are in vcpu.c; what both share, in bench.h.
 */
#include "bench.h"

#define PRIO   255

struct stamps {                 /* shared with the server (image is shared) */
    volatile uk_word_t server_woke[RUNS + WARMUP + 1];   /* after its recv returns */
    volatile uk_word_t server_sent[RUNS + WARMUP + 1];   /* before its reply-recv */
    volatile uk_word_t iter;
};
static struct stamps st;
uk_word_t samples[RUNS], samples2[RUNS];
static char cpu_name[49];

#define STAMP_TO(lo, hi) "rdtscp\n\tmov %%eax, %%" lo "\n\tmov %%edx, %%" hi "\n\t"

/* The window without a syscall: what every sample carries besides the call. */
static uk_word_t overhead_once(void)
{
    uk_word_t lo1, hi1;
    register uk_word_t lo0 __asm__("r12"), hi0 __asm__("r13");
    __asm__ volatile("rdtscp\n\tmov %%eax, %%r12d\n\tmov %%edx, %%r13d\n\t"
                     "mov %[w0], %%rdx\n\t"
                     "mov %k[nr], %%eax\n\t"
                     "rdtscp\n\t"
                     : "=&a"(lo1), "=&d"(hi1), "=&r"(lo0), "=&r"(hi0)
                     : [w0] "r"(0ul), [nr] "r"(0ul)
                     : "rcx", "memory");
    return join(lo1, hi1) - join(lo0, hi0);
}

/* Server: receive, then forever stamp its wake-up, stamp just before its
 * reply-recv, reply with an empty message and wait again. */
static void server(uk_word_t ep)
{
    uk_word_t info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE);
    struct uk_msg m = { .info = info };
    uk_recv(ep, &m);
    for (;;) {
        uk_word_t lo, hi, lo0, hi0;
        __asm__ volatile("rdtscp\n\t" : "=a"(lo), "=d"(hi) :: "rcx");
        uk_word_t i = st.iter;
        st.server_woke[i] = join(lo, hi);
        register uk_word_t rdi __asm__("rdi") = ep;
        register uk_word_t rsi __asm__("rsi") = info;
        __asm__ volatile(STAMP_TO("r12d", "r13d")
                         "mov $%c[nr], %%eax\n\t"
                         "syscall\n\t"
                         "mov %%r12, %[lo0]\n\tmov %%r13, %[hi0]\n\t"
                         : [lo0] "=r"(lo0), [hi0] "=r"(hi0), "+r"(rdi), "+r"(rsi)
                         : [nr] "i"(UK_SYS_REPLY_RECV)
                         : "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "memory");
        st.server_sent[i] = join(lo0, hi0);
    }
}

static int cmp_word(const void *a, const void *b)
{
    uk_word_t x = *(const uk_word_t *)a, y = *(const uk_word_t *)b;
    return x < y ? -1 : x > y;
}

static void sort(uk_word_t *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && cmp_word(&v[j - 1], &v[j]) > 0; j--) {
            uk_word_t t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
        }
}

struct uk_stats stats(void)
{
    struct uk_stats s;
    /* The copy below may use SSE: a thread whose FPU another thread has
     * used traps (#NM, a kernel entry) at its first SSE instruction.  Take
     * that trap before the counters are read, not inside the batch. */
    __asm__ volatile("xorps %%xmm0, %%xmm0" ::: "xmm0");
    uk_debug_stats();
    memcpy(&s, uk_ipc_buf->data, sizeof s);
    return s;
}

void events_add(struct bench_events *e, struct uk_stats a, struct uk_stats b, long sign)
{
    long ticks = (long)(b.timer_ticks - a.timer_ticks);             /* not the operation's */
    e->entries += sign * ((long)(b.kernel_entries - a.kernel_entries) - 1 - ticks);  /* b's call */
    e->as_switches += sign * (long)(b.as_switches - a.as_switches);
    e->tlb_flushes += sign * (long)(b.tlb_flushes - a.tlb_flushes);
    e->ipc_fastpath += sign * (long)(b.ipc_fastpath - a.ipc_fastpath);
}

void events_format(char *out, unsigned long size, struct bench_events e, uk_word_t n)
{
#define PER(x) (x) < 0 ? "-" : "", (unsigned long)(((x) < 0 ? -(x) : (x)) * 1000 / (long)n / 1000), \
               (unsigned long)(((x) < 0 ? -(x) : (x)) * 1000 / (long)n % 1000)
    snprintf(out, size,
             "{\"kernel_entries\":%s%lu.%03lu,\"as_switches\":%s%lu.%03lu,\"tlb_flushes\":%s%lu.%03lu,"
             "\"ipc_fastpath\":%s%lu.%03lu}",
             PER(e.entries), PER(e.as_switches), PER(e.tlb_flushes), PER(e.ipc_fastpath));
#undef PER
}

/* Per-operation event counts over n operations (one stats call excluded). */
static void print_events(char *out, unsigned long size, struct uk_stats a, struct uk_stats b, uk_word_t n)
{
    struct bench_events e = { 0, 0, 0, 0 };
    events_add(&e, a, b, 1);
    events_format(out, size, e, n);
}

/* Sorts v[n] and prints the BENCH line (median, min). */
static void report_runs(const char *name, uk_word_t *v, int n, const char *events)
{
    sort(v, n);
    printf("BENCH {\"name\":\"%s\",\"unit\":\"@UNIT@\",\"median\":%lu,\"min\":%lu,\"runs\":%d,"
           "\"accel\":\"@ACCEL@\",\"cpu\":\"%s\",\"events\":%s}\n",
           name, v[n / 2], v[0], n, cpu_name, events);
}

void report(const char *name, uk_word_t *v, const char *events)
{
    report_runs(name, v, RUNS, events);
}

uk_word_t overhead;

static void bench_null(void)
{
    char ev[256];
    uk_word_t t0;
    for (int i = 0; i < WARMUP + RUNS; i++) {
        uk_word_t d = timed_syscall(UK_SYS_NULL, 0, 0, 0, 0, 0, 0, &t0);
        if (i >= WARMUP)
            samples[i - WARMUP] = d - overhead;
    }
    struct uk_stats a = stats();
    for (int i = 0; i < RUNS; i++)
        uk_null();
    print_events(ev, sizeof ev, a, stats(), RUNS);
    report("syscall.null", samples, ev);
}

/* One-way call and reply-recv to a server in task `task` holding the
 * endpoint in slot `srv_ep`; words = message length of the call. */
static void bench_ipc(const char *call_name, const char *rr_name, uk_word_t task,
                      uk_word_t ep, uk_word_t srv_ep, uk_word_t words)
{
    struct uk_spawned s;
    char ev[256];
    st.iter = 0;
    if (uk_spawn(task, server, srv_ep, PRIO, 0, &s)) {
        printf("bench: cannot start the server\n");
        return;
    }
    uk_word_t info = uk_msginfo(1, words, UK_TIMEOUT_INFINITE);
    static uk_word_t client_sent[RUNS + WARMUP + 1], client_woke[RUNS + WARMUP + 1];
    /* one more call than samples: the server records when it replied to
     * call i only once call i + 1 wakes it */
    for (int i = 0; i <= WARMUP + RUNS; i++) {
        uk_word_t t0;
        st.iter = (uk_word_t)i;
        uk_word_t rt = timed_syscall(UK_SYS_CALL, ep, info, 1, 2, 3, 4, &t0);
        client_sent[i] = t0;
        client_woke[i] = t0 + rt;
    }
    for (int i = WARMUP; i < WARMUP + RUNS; i++) {
        samples[i - WARMUP] = st.server_woke[i] - client_sent[i] - overhead;
        samples2[i - WARMUP] = client_woke[i] - st.server_sent[i] - overhead;
    }
    struct uk_stats a = stats();
    for (int i = 0; i < RUNS; i++) {
        struct uk_msg m = { .info = info };
        uk_call(ep, &m);
    }
    print_events(ev, sizeof ev, a, stats(), 2 * RUNS);   /* per one-way IPC */
    report(call_name, samples, ev);
    if (rr_name)
        report(rr_name, samples2, ev);
    uk_obj_destroy(s.thread);
}

/* Page faults served by a user-level pager (the root task) for a thread
 * in another task: fault, IPC to the pager, its reply maps the page, the
 * thread resumes.  The thread times its own faulting store. */
#define FAULT_BASE 0x0000200000000000ul
static volatile uk_word_t fault_samples[RUNS + WARMUP];
static volatile long faulter_done;

static void faulter(uk_word_t unused)
{
    (void)unused;
    for (int i = 0; i < WARMUP + RUNS; i++) {
        volatile uk_word_t *p = (volatile uk_word_t *)(FAULT_BASE + (uk_word_t)i * 4096);
        fault_samples[i] = timed_store(p);
    }
    faulter_done = 1;
    for (;;)
        uk_thread_suspend(0);
}

static void bench_pagefault(void)
{
    uk_word_t task, fault_ep = uk_slot_alloc();
    char ev[256];
    struct uk_spawned s;
    if (uk_task_new(4ul << 20, 16, 1, &task) || uk_endpoint_create(fault_ep) ||
        uk_spawn_prepare(task, faulter, 0, PRIO, fault_ep, &s)) {
        printf("bench: cannot set up the page-fault benchmark\n");
        return;
    }
    unsigned char *frames = uk_pages_alloc(WARMUP + RUNS);
    struct uk_msg m = { .info = uk_msginfo(0, 0, uk_timeout_us(1000000)) };
    uk_word_t mark = 0;
    struct uk_stats a = stats();
    uk_spawn_go(&s);
    long err = uk_recv(fault_ep, &m);
    for (int i = 0; !err && uk_msg_label(m.info) == UK_FAULT_PAGE; i++) {
        if (i == WARMUP)
            a = stats(), mark = 1;
        m.info = uk_msginfo(UK_FAULT_REPLY_MAP, 4, uk_timeout_us(1000000));
        m.w[1] = m.w[0] & ~4095ul;
        m.w[0] = (uk_word_t)(frames + (m.w[1] - FAULT_BASE));
        m.w[2] = 1;
        m.w[3] = UK_MAP_READ | UK_MAP_WRITE;
        err = uk_reply_recv(fault_ep, &m);
    }
    struct uk_stats b = stats();
    if (!faulter_done || !mark) {
        printf("bench: page-fault benchmark did not finish (err %ld)\n", err);
        return;
    }
    for (int i = 0; i < RUNS; i++)
        samples[i] = fault_samples[WARMUP + i] - overhead;
    print_events(ev, sizeof ev, a, b, RUNS);
    report("pagefault.pager", samples, ev);
    uk_obj_destroy(task);
    uk_obj_destroy(fault_ep);
}

/*
 * The longest requests: a MAP, PROTECT or UNMAP of UK_MAP_MAX_PAGES pages
 * (each a preemption point every UK_PREEMPT_PAGES pages: the stretch
 * without one is the call over its kernel entries), and the destruction of
 * a task holding that many (in parts too, of unequal length: the kernel
 * measures its longest part, longest.destroy.part, struct uk_stats
 * destroy_part_max, the most over every OBJ_DESTROY of this run).  docs/ABI.md §9.10
 * states the bound from these rows.  The root maps its own pages a second time,
 * at LONG_VA, and takes them away again; LONG_RUNS of each, timed by the
 * TSC around the system call (instructions under tcg-icount).
 */
#define LONG_RUNS 5
#define LONG_VA   0x500000000000ul

/* One call, timed by the TSC around it; its events added to *e. */
static uk_word_t time_sys(uk_word_t nr, uk_word_t a0, uk_word_t a1, uk_word_t a2,
                          uk_word_t a3, uk_word_t a4, long *err, struct bench_events *e)
{
    struct uk_stats s0 = stats();
    uk_word_t t0 = uk_rdtsc();
    *err = uk_sys(nr, a0, a1, a2, a3, a4, 0).err;
    uk_word_t t = uk_rdtsc() - t0;
    events_add(e, s0, stats(), 1);
    return t;
}

static void report_long(const char *name, uk_word_t *v, struct bench_events e)
{
    char ev[256];
    events_format(ev, sizeof ev, e, LONG_RUNS);
    report_runs(name, v, LONG_RUNS, ev);
}

static void bench_longest(void)
{
    uk_word_t map[LONG_RUNS], prot[LONG_RUNS], unmap[LONG_RUNS];
    struct bench_events em = { 0, 0, 0, 0 }, ep = em, eu = em;
    unsigned char *src = uk_pages_alloc(UK_MAP_MAX_PAGES);
    long e1 = 0, e2 = 0, e3 = 0;
    if (!src) {
        printf("bench: not enough memory for the longest-operation rows\n");
        return;
    }
    for (int i = 0; i < LONG_RUNS && !e1 && !e2 && !e3; i++) {
        map[i] = time_sys(UK_SYS_MAP, UK_SLOT_SELF_TASK, (uk_word_t)src, LONG_VA,
                          UK_MAP_MAX_PAGES, UK_MAP_READ | UK_MAP_WRITE, &e1, &em);
        prot[i] = time_sys(UK_SYS_PROTECT, UK_SLOT_SELF_TASK, LONG_VA, UK_MAP_MAX_PAGES,
                           UK_MAP_READ, 0, &e2, &ep);
        unmap[i] = time_sys(UK_SYS_UNMAP, UK_SLOT_SELF_TASK, LONG_VA, UK_MAP_MAX_PAGES,
                            0, 0, &e3, &eu);
    }
    if (e1 || e2 || e3) {
        printf("bench: longest operations failed (map %ld, protect %ld, unmap %ld)\n",
               e1, e2, e3);
        return;
    }
    report_long("longest.map", map, em);
    report_long("longest.protect", prot, ep);
    report_long("longest.unmap", unmap, eu);

    /* Destroying a task that holds them all: OBJ_DESTROY goes in parts
     * (docs/ABI.md §9.10). */
    uk_word_t destroy[LONG_RUNS];
    struct bench_events ed = { 0, 0, 0, 0 };
    for (int i = 0; i < LONG_RUNS; i++) {
        uk_word_t task = 0;
        if ((e1 = uk_task_new(16ul << 20, 16, 0, &task)) ||
            (e1 = uk_map(task, (uk_word_t)src, LONG_VA, UK_MAP_MAX_PAGES,
                         UK_MAP_READ | UK_MAP_WRITE))) {
            printf("bench: longest.destroy: setting up failed (%ld)\n", e1);
            return;
        }
        destroy[i] = time_sys(UK_SYS_OBJ_DESTROY, task, 0, 0, 0, 0, &e2, &ed);
        if (e2) {
            printf("bench: longest.destroy failed (%ld)\n", e2);
            return;
        }
    }
    report_long("longest.destroy", destroy, ed);

    /* The other long parts of a destruction: the caps naming an object
     * (65,535 copies of an endpoint cap, in a task's full table of
     * UK_MAX_CAP_SLOTS) and a task's capability table (65,535 slots); one
     * run each, the part being the call over its kernel entries. */
    uk_word_t table = 0, ep1 = uk_slot_alloc(), ep2 = uk_slot_alloc(), caps_t, slots_t;
    struct bench_events ec = { 0, 0, 0, 0 }, es = ec;
    long e = uk_task_new(4ul << 20, UK_MAX_CAP_SLOTS, 0, &table);
    if (!e)
        e = uk_endpoint_create(ep1);
    if (!e)
        e = uk_endpoint_create(ep2);
    for (uk_word_t i = 1; !e && i < UK_MAX_CAP_SLOTS; i++)
        e = uk_cap_copy(ep1, table, i, UK_R_ALL, 0);
    if (!e)
        caps_t = time_sys(UK_SYS_OBJ_DESTROY, ep1, 0, 0, 0, 0, &e, &ec);
    for (uk_word_t i = 1; !e && i < UK_MAX_CAP_SLOTS; i++)
        e = uk_cap_copy(ep2, table, i, UK_R_ALL, 0);
    if (!e)
        slots_t = time_sys(UK_SYS_OBJ_DESTROY, table, 0, 0, 0, 0, &e, &es);
    if (e) {
        printf("bench: longest.destroy.caps/.slots failed (%ld)\n", e);
        return;
    }
    uk_obj_destroy(ep2);
    char evc[256];
    events_format(evc, sizeof evc, ec, 1);
    report_runs("longest.destroy.caps", &caps_t, 1, evc);
    events_format(evc, sizeof evc, es, 1);
    report_runs("longest.destroy.slots", &slots_t, 1, evc);

    uk_word_t part = stats().destroy_part_max;
    struct bench_events none = { 0, 0, 0, 0 };
    char ev[256];
    events_format(ev, sizeof ev, none, 1);
    report_runs("longest.destroy.part", &part, 1, ev);
}

static void read_cpu_name(void)
{
    unsigned r[12];
    for (unsigned i = 0; i < 3; i++)
        __asm__ volatile("cpuid" : "=a"(r[4 * i]), "=b"(r[4 * i + 1]), "=c"(r[4 * i + 2]), "=d"(r[4 * i + 3])
                         : "a"(0x80000002u + i), "c"(0));
    memcpy(cpu_name, r, 48);
    char *p = cpu_name;
    while (*p == ' ')
        p++;
    unsigned long n = strlen(p);
    for (unsigned long i = 0; i <= n; i++)
        cpu_name[i] = p[i];
    for (char *q = cpu_name; *q; q++)
        if (*q == '"' || *q == '\\')
            *q = ' ';
}

int main(const struct uk_bootinfo *bi)
{
    uk_pages_init(bi);
    read_cpu_name();
    for (int i = 0; i < WARMUP + RUNS; i++) {
        uk_word_t o = overhead_once();
        if (i >= WARMUP)
            samples[i - WARMUP] = o;
    }
    sort(samples, RUNS);
    overhead = samples[0];
    printf("bench: timing overhead %lu ticks, TSC %lu kHz, cpu '%s'\n", overhead,
           bi->tsc_hz / 1000, cpu_name);

    bench_null();

    uk_word_t ep = uk_slot_alloc();
    uk_endpoint_create(ep);
    bench_ipc("ipc.call.same", "ipc.replyrecv.same", UK_SLOT_SELF_TASK, ep, ep, 0);

    uk_word_t task, child_ep = 8;
    if (uk_task_new(4ul << 20, 16, 1, &task) || uk_cap_copy(ep, task, child_ep, UK_R_ALL, 0)) {
        printf("bench: cannot make the server task\n");
    } else {
        bench_ipc("ipc.call.cross", "ipc.replyrecv.cross", task, ep, child_ep, 0);
        bench_ipc("ipc.call.cross.4w", 0, task, ep, child_ep, 4);
        /* how the cost grows with the message: words 0-3 travel in
         * registers, 4.. in the IPC buffers (UK_MSG_REG_WORDS, abi.h), up
         * to UK_MSG_MAX_WORDS; 0 and 4 words are the rows above */
        static const struct { const char *name; uk_word_t words; } lens[] = {
            { "ipc.call.cross.1w", 1 }, { "ipc.call.cross.2w", 2 }, { "ipc.call.cross.3w", 3 },
            { "ipc.call.cross.5w", 5 }, { "ipc.call.cross.8w", 8 },
            { "ipc.call.cross.16w", 16 }, { "ipc.call.cross.32w", 32 },
            { "ipc.call.cross.64w", UK_MSG_MAX_WORDS } };
        for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++)
            bench_ipc(lens[i].name, 0, task, ep, child_ep, lens[i].words);
        uk_obj_destroy(task);
    }
    bench_pagefault();
    bench_vcpu();
    bench_longest();
    printf("bench: done\n");
    uk_exit_qemu(UK_SLOT_IOPORT_ALL, 0);
}
