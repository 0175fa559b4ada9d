/*
 * The system-call fuzzer's root side (suite `fuzz`; docs/testing.md).
 *
 * Rounds: each makes FZ_TASKS hostile tasks of FZ_THREADS threads each,
 * with caps of every type a task can hold but the debug cap (see fuzz.h's
 * slot list), lets their threads (hostile.c) make random system calls until
 * the round's share of calls is made or no thread has made progress for a
 * while (all suspended, faulted or blocked), then checks that the kernel
 * still answers a null call and an IPC round trip, destroys everything the
 * round made, and checks that the root's kernel memory, the pool's free
 * frames, every IRQ line and every slot are exactly as before the round.
 * A hostile thread that faults inside the program image means the fuzzer's
 * own code was hit (its registers or memory changed under it): a failure.
 * A hang is caught by QEMU's timeout, a panic by the missing summary.
 *
 * The module command line: `fuzz [calls=N] [seconds=S] [seed=X]`: stop
 * after N calls in all (default 1,000,000) or S seconds (TSC time), whichever
 * comes first (0: no limit); X seeds every thread (printed).
 */
#include "fuzz.h"

extern char __image_start[], __image_end[];

#define FZ_ROUND_CALLS   20000ul
#define FZ_TASK_QUOTA    (512ul << 10)
#define FZ_STALL_US      10000ul       /* no call at all for this long: restart all */
#define FZ_STUCK_US      20000ul       /* one thread without a call: restart it */
#define FZ_PRIO          100
static const uk_word_t fz_irq_lines[FZ_TASKS] = { 5, 10, 11 };   /* no device on them */

static const char *const fz_names[UK_SYS_COUNT + 1] = {
    [UK_SYS_NULL] = "NULL", [UK_SYS_CALL] = "CALL", [UK_SYS_REPLY_RECV] = "REPLY_RECV",
    [UK_SYS_SEND] = "SEND", [UK_SYS_RECV] = "RECV", [UK_SYS_REPLY] = "REPLY",
    [UK_SYS_SIGNAL] = "SIGNAL", [UK_SYS_REPLY_SAVE] = "REPLY_SAVE", [UK_SYS_YIELD] = "YIELD",
    [UK_SYS_ENDPOINT_CREATE] = "ENDPOINT_CREATE", [UK_SYS_NOTIF_CREATE] = "NOTIF_CREATE",
    [UK_SYS_TASK_CREATE] = "TASK_CREATE", [UK_SYS_THREAD_CREATE] = "THREAD_CREATE",
    [UK_SYS_OBJ_DESTROY] = "OBJ_DESTROY", [UK_SYS_CAP_COPY] = "CAP_COPY",
    [UK_SYS_CAP_DELETE] = "CAP_DELETE", [UK_SYS_CAP_INFO] = "CAP_INFO",
    [UK_SYS_THREAD_CONFIG] = "THREAD_CONFIG", [UK_SYS_THREAD_START] = "THREAD_START",
    [UK_SYS_THREAD_SUSPEND] = "THREAD_SUSPEND", [UK_SYS_THREAD_RESUME] = "THREAD_RESUME",
    [UK_SYS_THREAD_READ_REGS] = "THREAD_READ_REGS", [UK_SYS_THREAD_WRITE_REGS] = "THREAD_WRITE_REGS",
    [UK_SYS_THREAD_SET_TLS] = "THREAD_SET_TLS", [UK_SYS_NOTIF_BIND] = "NOTIF_BIND",
    [UK_SYS_MAP] = "MAP", [UK_SYS_UNMAP] = "UNMAP", [UK_SYS_PROTECT] = "PROTECT",
    [UK_SYS_MEM_INFO] = "MEM_INFO", [UK_SYS_KMEM_INFO] = "KMEM_INFO",
    [UK_SYS_IRQ_GET] = "IRQ_GET", [UK_SYS_IRQ_BIND] = "IRQ_BIND", [UK_SYS_IRQ_ACK] = "IRQ_ACK",
    [UK_SYS_IOPORT_ISSUE] = "IOPORT_ISSUE", [UK_SYS_IOPORT_IN] = "IOPORT_IN",
    [UK_SYS_IOPORT_OUT] = "IOPORT_OUT", [UK_SYS_VCPU_CONFIG] = "VCPU_CONFIG",
    [UK_SYS_VCPU_RESUME] = "VCPU_RESUME", [UK_SYS_DEBUG_PUTS] = "DEBUG_PUTS",
    [UK_SYS_DEBUG_STATS] = "DEBUG_STATS", [UK_SYS_COUNT] = "(unknown numbers)",
};

/* Success is out of reach by design: no hostile task gets the debug cap. */
static int fz_unreachable_by_design(uk_word_t nr)
{
    return nr == UK_SYS_DEBUG_PUTS || nr == UK_SYS_DEBUG_STATS || nr == UK_SYS_COUNT;
}

/* The root's slots for a round's objects: the same every round. */
static uk_word_t s_task[FZ_TASKS], s_proc[FZ_TASKS], s_irq[FZ_TASKS];
static uk_word_t s_thread[FZ_TASKS][FZ_THREADS];
static uk_word_t s_fault_badged[FZ_TASKS][FZ_THREADS];  /* its fault ep, badge: who */
static uk_word_t s_ep, s_notif, s_fault, s_port80, s_echo, s_scratch;
/* Pages for the hostile threads, taken once and mapped into every round's tasks. */
static unsigned char *p_stack[FZ_TASKS][FZ_THREADS], *p_ipc[FZ_TASKS][FZ_THREADS];
static unsigned char *p_entry_stack[FZ_TASKS];

static struct {
    uk_word_t calls, seconds, seed;
} opt = { 1000000, 0, 0x5eed0f0f1234abcdul };

static uk_word_t fz_parse_number(const char *s)
{
    uk_word_t v = 0, base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (;; s++) {
        uk_word_t d;
        if (*s >= '0' && *s <= '9')
            d = (uk_word_t)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (uk_word_t)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (uk_word_t)(*s - 'A' + 10);
        else
            return v;
        v = v * base + d;
    }
}

static void fz_parse_cmdline(const char *cmd)
{
    while (*cmd) {
        while (*cmd == ' ')
            cmd++;
        if (!strncmp(cmd, "calls=", 6))
            opt.calls = fz_parse_number(cmd + 6);
        else if (!strncmp(cmd, "seconds=", 8))
            opt.seconds = fz_parse_number(cmd + 8);
        else if (!strncmp(cmd, "seed=", 5))
            opt.seed = fz_parse_number(cmd + 5);
        while (*cmd && *cmd != ' ')
            cmd++;
    }
}

static uk_word_t fz_splitmix(uk_word_t x)
{
    x += 0x9e3779b97f4a7c15ul;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ul;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebul;
    return (x ^ (x >> 31)) | 1;                   /* xorshift needs a non-zero state */
}

static void fz_keep_add(const void *p, uk_word_t pages)
{
    fz_keep[fz_nkeep][0] = (uk_word_t)p;
    fz_keep[fz_nkeep][1] = (uk_word_t)p + pages * 4096;
    fz_nkeep++;
}

/* The root's own IPC partner: answers w0 + 1. */
static void fz_echo(uk_word_t ep)
{
    struct uk_msg m = { .info = KT_INF };
    long err = uk_recv(ep, &m);
    for (;;) {
        if (err) {
            m.info = KT_INF;
            err = uk_recv(ep, &m);
            continue;
        }
        m.info = uk_msginfo(0, 1, UK_TIMEOUT_INFINITE);
        m.w[0]++;
        err = uk_reply_recv(ep, &m);
    }
}

/* Where every hostile thread starts: a vCPU first says where its exits go. */
static void fz_thread_start(struct fz_thread *c) __attribute__((noreturn));
static void fz_thread_start(struct fz_thread *c)
{
    if (c->state) {
        c->state->entry_ip = (uk_word_t)fz_vcpu_entry_stub;
        c->state->entry_sp = c->entry_sp;
    }
    fz_thread_main(c);
}

static void fz_setup(void)
{
    for (unsigned t = 0; t < FZ_TASKS; t++) {
        s_task[t] = uk_slot_alloc();
        s_proc[t] = uk_slot_alloc();
        s_irq[t] = uk_slot_alloc();
        p_entry_stack[t] = uk_pages_alloc(FZ_STACK_PAGES);
        for (unsigned i = 0; i < FZ_THREADS; i++) {
            s_thread[t][i] = uk_slot_alloc();
            s_fault_badged[t][i] = uk_slot_alloc();
            p_stack[t][i] = uk_pages_alloc(FZ_STACK_PAGES);
            p_ipc[t][i] = uk_pages_alloc(1);
        }
    }
    s_ep = uk_slot_alloc();
    s_notif = uk_slot_alloc();
    s_fault = uk_slot_alloc();
    s_port80 = uk_slot_alloc();
    s_scratch = uk_slot_alloc();
    fz_nkeep = 0;
    fz_keep_add(__image_start, ((uk_word_t)__image_end - (uk_word_t)__image_start) / 4096);
    for (unsigned t = 0; t < FZ_TASKS; t++) {
        fz_keep_add(p_entry_stack[t], FZ_STACK_PAGES);
        fz_keep_add((void *)FZ_STATE_VA(t), 1);
        for (unsigned i = 0; i < FZ_THREADS; i++) {
            fz_keep_add(p_stack[t][i], FZ_STACK_PAGES);
            fz_keep_add(p_ipc[t][i], 1);
        }
    }
    KT_CHECK(fz_nkeep <= FZ_KEEP_MAX);
    for (unsigned t = 0; t < FZ_TASKS; t++) {    /* where each thread's pages are */
        printf("    task %u: vCPU entry stack %lx-%lx\n", t, (uk_word_t)p_entry_stack[t],
               (uk_word_t)p_entry_stack[t] + FZ_STACK_PAGES * 4096);
        for (unsigned i = 0; i < FZ_THREADS; i++)
            printf("    thread %u.%u (badge %u): stack %lx-%lx, IPC buffer %lx\n", t, i,
                   1 + t * FZ_THREADS + i, (uk_word_t)p_stack[t][i],
                   (uk_word_t)p_stack[t][i] + FZ_STACK_PAGES * 4096, (uk_word_t)p_ipc[t][i]);
    }
}

/* (Re)starts hostile thread i of task t at the top of its loop (its random
 * sequence goes on): whatever it was doing, a fault or a wait, is dropped. */
static long fz_start(unsigned t, unsigned i)
{
    uk_word_t top = (uk_word_t)p_stack[t][i] + FZ_STACK_PAGES * 4096;
    fz_threads[t][i].resuming = 0;
    return uk_thread_start(s_thread[t][i], (uk_word_t)fz_thread_start, top - 8,
                           (uk_word_t)&fz_threads[t][i]);
}

static long fz_round_make(uk_word_t round)
{
    long err;
#define TRY(x) do { if ((err = (x)) != UK_OK) { \
        printf("    round %lu: %s: error %ld\n", round, #x, err); return err; } } while (0)
    TRY(uk_endpoint_create(s_ep));
    TRY(uk_notif_create(s_notif));
    TRY(uk_endpoint_create(s_fault));
    TRY(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0x80, 1, s_port80));
    uk_word_t image_pages = ((uk_word_t)__image_end - (uk_word_t)__image_start) / 4096;
    for (unsigned t = 0; t < FZ_TASKS; t++) {
        TRY(uk_task_create(s_task[t], FZ_TASK_QUOTA, FZ_SLOTS));
        TRY(uk_map(s_task[t], (uk_word_t)__image_start, (uk_word_t)__image_start, image_pages,
                   UK_MAP_RWX));
        TRY(uk_task_create(s_proc[t], 64ul << 10, 4));
        TRY(uk_irq_get(UK_SLOT_IRQ_CONTROL, fz_irq_lines[t], s_irq[t]));
        TRY(uk_map(s_task[t], (uk_word_t)p_entry_stack[t], (uk_word_t)p_entry_stack[t],
                   FZ_STACK_PAGES, UK_MAP_READ | UK_MAP_WRITE));
        for (unsigned i = 0; i < FZ_THREADS; i++) {
            uk_word_t th = s_thread[t][i];
            TRY(uk_map(s_task[t], (uk_word_t)p_stack[t][i], (uk_word_t)p_stack[t][i],
                       FZ_STACK_PAGES, UK_MAP_READ | UK_MAP_WRITE));
            TRY(uk_map(s_task[t], (uk_word_t)p_ipc[t][i], (uk_word_t)p_ipc[t][i], 1,
                       UK_MAP_READ | UK_MAP_WRITE));
            TRY(uk_thread_create(th, s_task[t]));
            TRY(uk_cap_copy(s_fault, UK_SLOT_SELF_TASK, s_fault_badged[t][i], UK_R_WRITE,
                            1 + t * FZ_THREADS + i));
            TRY(uk_thread_config(th, FZ_PRIO, s_fault_badged[t][i], (uk_word_t)p_ipc[t][i]));
            if (i == 0)
                TRY(uk_vcpu_config(th, FZ_STATE_VA(t), 0));
            struct fz_thread *c = &fz_threads[t][i];
            memset(c, 0, sizeof *c);
            c->rng = fz_splitmix(opt.seed ^ (round << 20) ^ (t << 8) ^ i);
            c->task = t;
            c->index = i;
            c->buf = (struct uk_ipc_buffer *)p_ipc[t][i];
            c->state = i == 0 ? (struct uk_vcpu_state *)FZ_STATE_VA(t) : 0;
            c->entry_sp = (uk_word_t)p_entry_stack[t] + FZ_STACK_PAGES * 4096;
        }
    }
    const uk_word_t rwc = UK_R_READ | UK_R_WRITE | UK_R_CONTROL;
    for (unsigned t = 0; t < FZ_TASKS; t++) {
        uk_word_t task = s_task[t], next = (t + 1) % FZ_TASKS;
        TRY(uk_cap_copy(task, task, FZ_SLOT_SELF, rwc, 0));
        for (unsigned i = 0; i < FZ_THREADS; i++)
            TRY(uk_cap_copy(s_thread[t][i], task, FZ_SLOT_THREAD0 + i, rwc, 0));
        TRY(uk_cap_copy(s_ep, task, FZ_SLOT_EP, UK_R_READ | UK_R_WRITE, t + 1));
        TRY(uk_cap_copy(s_ep, task, FZ_SLOT_EP_PLAIN, UK_R_READ | UK_R_WRITE, 0));
        TRY(uk_cap_copy(s_notif, task, FZ_SLOT_NOTIF, UK_R_READ | UK_R_WRITE, 1ul << t));
        TRY(uk_cap_copy(UK_SLOT_IRQ_CONTROL, task, FZ_SLOT_IRQ_CONTROL, UK_R_ALL, 0));
        TRY(uk_cap_copy(s_irq[t], task, FZ_SLOT_IRQ, UK_R_ALL, 0));
        TRY(uk_cap_copy(s_port80, task, FZ_SLOT_PORT80, UK_R_ALL, 0));
        TRY(uk_cap_copy(s_task[next], task, FZ_SLOT_NEIGHBOUR, rwc, 0));
        TRY(uk_cap_copy(s_proc[t], task, FZ_SLOT_PROCESS, rwc, 0));
        TRY(uk_cap_copy(s_thread[next][1], task, FZ_SLOT_NEIGHBOUR_THREAD, rwc, 0));
    }
    for (unsigned t = 0; t < FZ_TASKS; t++)
        for (unsigned i = 0; i < FZ_THREADS; i++)
            TRY(fz_start(t, i));
#undef TRY
    return UK_OK;
}

/* Destroys everything a round made, in one of three orders (round % 3),
 * while the hostile threads still run or wait: threads first; the tasks
 * first (the root's threads running in them go with them); or the shared endpoint and notification first
 * (threads blocked on them wake with UK_E_DESTROYED). */
static void fz_round_destroy(uk_word_t round)
{
    if (round % 3 == 2) {
        kt_destroy(s_ep);
        kt_destroy(s_notif);
    }
    for (int pass = 0; pass < 2; pass++) {
        if ((pass == 0) == (round % 3 == 1))
            for (unsigned t = 0; t < FZ_TASKS; t++)
                kt_destroy(s_task[t]);
        else
            for (unsigned t = 0; t < FZ_TASKS; t++)
                for (unsigned i = 0; i < FZ_THREADS; i++) {
                    kt_destroy(s_thread[t][i]);
                    uk_cap_delete(UK_SLOT_SELF_TASK, s_fault_badged[t][i]);
                }
    }
    for (unsigned t = 0; t < FZ_TASKS; t++) {
        kt_destroy(s_proc[t]);
        kt_destroy(s_irq[t]);
    }
    kt_destroy(s_ep);
    kt_destroy(s_notif);
    kt_destroy(s_fault);
    kt_destroy(s_port80);
}

static uk_word_t fz_root_used(void)
{
    uk_word_t used = 0;
    uk_kmem_info(UK_SLOT_SELF_TASK, &used, 0);
    return used;
}

static uk_word_t fz_faults, fz_stalls, fz_restarts, fz_bad_faults;

/* What every hostile thread did last (oldest first; result ~0: the call
 * had not returned), for the report of a fault in the fuzzer's code. */
static void fz_print_last_calls(void)
{
    for (unsigned t = 0; t < FZ_TASKS; t++)
        for (unsigned i = 0; i < FZ_THREADS; i++) {
            struct fz_thread *c = &fz_threads[t][i];
            printf("    thread %u.%u (badge %u), last calls (nr args... -> result):\n", t, i,
                   1 + t * FZ_THREADS + i);
            uk_word_t n = c->calls;
            for (uk_word_t k = n > FZ_LAST_CALLS ? n - FZ_LAST_CALLS : 0; k < n; k++) {
                const uk_word_t *l = c->last[k % FZ_LAST_CALLS];
                printf("      %s %lx %lx %lx %lx %lx %lx -> %ld\n",
                       l[0] <= UK_SYS_COUNT ? fz_names[l[0]] : "?", l[1], l[2], l[3], l[4],
                       l[5], l[6], (long)l[7]);
            }
        }
}

/* A fault of a hostile thread: expected where its registers were made junk
 * (never inside the image), a failure inside the image.  The thread is
 * restarted. */
static void fz_fault(uk_word_t round, struct uk_msg *m)
{
    uk_word_t label = uk_msg_label(m->info), rip, addr = 0, access = 0;
    if (label == UK_FAULT_PAGE) {
        rip = m->w[2];
        addr = m->w[0];
        access = m->w[1];
    } else if (label == UK_FAULT_EXCEPTION && uk_msg_len(m->info) == UK_REGS_WORDS) {
        rip = uk_ipc_buf->msg[16];
        addr = uk_ipc_buf->msg[20];                /* vector */
    } else {
        return;
    }
    fz_faults++;
    if (rip >= (uk_word_t)__image_start && rip < (uk_word_t)__image_end) {
        fz_bad_faults++;
        if (fz_bad_faults <= 5)
            printf("    round %lu: hostile thread (badge %lx) faulted in the fuzzer's code: "
                   "label %lx rip %lx addr/vector %lx access %lx\n", round, m->badge, label, rip,
                   addr, access);
    }
    if (fz_bad_faults == 1)
        fz_print_last_calls();
    if (m->badge >= 1 && m->badge <= FZ_TASKS * FZ_THREADS) {
        uk_word_t k = m->badge - 1;
        fz_start(k / FZ_THREADS, k % FZ_THREADS);
        fz_restarts++;
    }
}

/* Runs one round until its calls are made, its threads stall or `end_tsc`. */
static void fz_round_run(uk_word_t round, uk_word_t want, uk_word_t end_tsc)
{
    uk_word_t start = fz_total, last = start, last_tsc = uk_rdtsc();
    uk_word_t stall = kt_us_to_tsc(FZ_STALL_US), restarts_all = 0;
    uk_word_t stuck = kt_us_to_tsc(FZ_STUCK_US);
    uk_word_t seen[FZ_TASKS][FZ_THREADS] = { { 0 } }, seen_tsc[FZ_TASKS][FZ_THREADS];
    for (unsigned t = 0; t < FZ_TASKS; t++)
        for (unsigned i = 0; i < FZ_THREADS; i++)
            seen_tsc[t][i] = last_tsc;
    while (fz_total - start < want) {
        struct uk_msg m = { .info = uk_msginfo(0, 0, uk_timeout_us(2000)) };
        if (uk_recv(s_fault, &m) == UK_OK)
            fz_fault(round, &m);
        uk_word_t now = uk_rdtsc(), total = fz_total;
        /* a thread stuck for FZ_STUCK_US (suspended by a sibling, waiting
         * for a reply that never comes, faulted to an endpoint nobody
         * serves) is started again: its wait is cancelled */
        for (unsigned t = 0; t < FZ_TASKS; t++)
            for (unsigned i = 0; i < FZ_THREADS; i++) {
                uk_word_t n = fz_threads[t][i].calls;
                if (n != seen[t][i]) {
                    seen[t][i] = n;
                    seen_tsc[t][i] = now;
                } else if (now - seen_tsc[t][i] > stuck) {
                    fz_start(t, i);
                    fz_restarts++;
                    seen_tsc[t][i] = now;
                }
            }
        if (total != last) {
            last = total;
            last_tsc = now;
        } else if (now - last_tsc > stall) {
            /* all stopped, faulted elsewhere or blocked: start them again,
             * and after a few times call the round done */
            if (++restarts_all > 3) {
                fz_stalls++;
                break;
            }
            for (unsigned t = 0; t < FZ_TASKS; t++)
                for (unsigned i = 0; i < FZ_THREADS; i++)
                    fz_start(t, i);
            fz_restarts += FZ_TASKS * FZ_THREADS;
            last_tsc = now;
        }
        if (end_tsc && now >= end_tsc)
            break;
    }
}

KT_TEST(fuzz_hostile_tasks_random_system_calls)
{
    fz_parse_cmdline(kt_bi->strings + kt_bi->root_cmdline);
    printf("    fuzz: seed 0x%lx, calls %lu, seconds %lu (0: no limit); %d tasks x %d threads, "
           "%lu calls a round\n", opt.seed, opt.calls, opt.seconds, FZ_TASKS, FZ_THREADS,
           FZ_ROUND_CALLS);
    fz_setup();
    s_echo = kt_endpoint();
    struct uk_spawned echo;
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, fz_echo, s_echo, 254, 0, &echo), UK_OK);
    struct uk_stats stats0 = kt_stats();
    uk_word_t used0 = fz_root_used(), free0 = stats0.free_frames;
    uk_word_t t0 = uk_rdtsc();
    uk_word_t end_tsc = opt.seconds ? t0 + kt_us_to_tsc(opt.seconds * 1000000ul) : 0;
    uk_word_t round = 0, failed_rounds = 0;
    while ((!opt.calls || fz_total < opt.calls) && (!end_tsc || uk_rdtsc() < end_tsc)) {
        int before = kt_failures;
        if (fz_round_make(round) == UK_OK) {
            uk_word_t want = FZ_ROUND_CALLS;
            if (opt.calls && opt.calls - fz_total < want)
                want = opt.calls - fz_total;
            fz_round_run(round, want, end_tsc);
        } else {
            KT_CHECK(!"a round could not be set up");
        }
        /* the kernel answers the root while the hostile threads still exist */
        KT_EQ(uk_null(), UK_OK);
        struct uk_msg m = { .info = uk_msginfo(0, 1, uk_timeout_us(1000000)), .w = { round } };
        KT_EQ(uk_call(s_echo, &m), UK_OK);
        KT_EQ(m.w[0], round + 1);
        for (unsigned t = 0; t < FZ_TASKS; t++) {
            uk_word_t used = 0, quota = 0;
            KT_EQ(uk_kmem_info(s_task[t], &used, &quota), UK_OK);
            KT_CHECK(used <= quota);
        }
        fz_round_destroy(round);
        /* everything the round made is gone */
        KT_EQ(fz_root_used(), used0);
        KT_EQ(kt_stats().free_frames, free0);
        for (uk_word_t slot = s_task[0]; slot <= s_scratch; slot++)   /* the round's slots */
            KT_EQ(kt_cap_type(slot), UK_CAP_NULL);
        for (uk_word_t l = 0; l < 24; l++) {      /* every IRQ line is free again */
            KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, l, s_scratch), UK_OK);
            uk_cap_delete(UK_SLOT_SELF_TASK, s_scratch);
        }
        KT_EQ(fz_bad_faults, 0);
        if (kt_failures != before && ++failed_rounds >= 3)
            break;                                 /* enough said */
        round++;
        if (round % 50 == 0)
            printf("    round %lu: %lu calls, %lu faults of hostile threads, %lu stalled rounds\n",
                   round, fz_total, fz_faults, fz_stalls);
    }
    uk_word_t us = kt_tsc_to_us(uk_rdtsc() - t0);
    kt_destroy(echo.thread);
    kt_destroy(s_echo);

    printf("    fuzz: %lu calls in %lu rounds, %lu.%03lu s (TSC), %lu calls/s; "
           "%lu faults of hostile threads, %lu restarts, %lu rounds ended by a stall\n",
           fz_total, round, us / 1000000, us / 1000 % 1000, us ? fz_total * 1000000 / us : 0,
           fz_faults, fz_restarts, fz_stalls);
    struct uk_stats stats1 = kt_stats();
    printf("    kernel: %lu entries, IPC %lu fast path / %lu slow path, %lu address-space "
           "switches\n", stats1.kernel_entries - stats0.kernel_entries,
           stats1.ipc_fastpath - stats0.ipc_fastpath, stats1.ipc_slowpath - stats0.ipc_slowpath,
           stats1.as_switches - stats0.as_switches);
    uk_word_t returned = 0;
    printf("    results returned (error code: count):");
    for (int e = 0; e <= UK_E_COUNT; e++) {
        if (fz_errors[e])
            printf(" %d:%lu", e, fz_errors[e]);
        returned += fz_errors[e];
    }
    printf("\n    %lu calls did not return (successful VCPU_RESUMEs; threads restarted, or vCPUs "
           "entered by an event, first)\n", fz_total - returned);
    printf("    %-20s %12s %12s\n", "system call", "calls", "UK_OK");
    uk_word_t ok_total = 0;
    for (uk_word_t nr = 0; nr <= UK_SYS_COUNT; nr++) {
        printf("    %-20s %12lu %12lu\n", fz_names[nr], fz_calls[nr], fz_ok[nr]);
        ok_total += fz_ok[nr];
    }
    printf("    %-20s %12lu %12lu\n", "all", fz_total, ok_total);
    printf("    success never reached:");
    int missing = 0;
    for (uk_word_t nr = 0; nr < UK_SYS_COUNT; nr++)
        if (!fz_ok[nr] && !fz_unreachable_by_design(nr)) {
            printf(" %s", fz_names[nr]);
            missing++;
        }
    printf("%s\n    (by design: DEBUG_PUTS, DEBUG_STATS: no hostile task holds the debug cap)\n",
           missing ? "" : " none");
    if (!opt.seconds)
        KT_CHECK(fz_total >= opt.calls);
    KT_EQ(missing, 0);
    KT_EQ(fz_wrong, 0);                            /* NULL and YIELD always succeed */
    KT_EQ(fz_ok[UK_SYS_DEBUG_PUTS] + fz_ok[UK_SYS_DEBUG_STATS], 0);
}
