/*
 * The supervisor (docs/experiments.md): fault injection into the servers
 * and vmm-servers, detection, and MINIX-3-style restarts, driven by one
 * boot module whose command line is
 *
 *   experiment [beat=MS] [restart=WHAT,...] [inject=MS:FAULT:TARGET[:ARG]] ...
 *
 *   end=MS       at MS ms after the microkernel's first instruction, say
 *                "event=end" and end QEMU (status 0): the run's length in
 *                virtual time, whatever the guests do (default: never)
 *   beat=MS      ping the console, block and network servers every MS ms of
 *                TSC time (default 50; 0: no heartbeat), each ping answered
 *                within MS/2 (the block server: within MS, it may be waiting
 *                for its device) or the server counts as hung (a console
 *                server also when it answers with lines queued and has
 *                printed none since the ping before, CONSOLE_STUCK pings in
 *                a row: "how=stuck"); and ring each
 *                vmm-server's heartbeat (UK_VMM_BELL_PING, launch.c): one
 *                whose request loop has not answered for VMM_HANG_MS is hung
 *                (restart=vmm: destroyed and started again, its guest reboots)
 *   restart=     which deaths are repaired: `console` (either console server:
 *                a new one on the same UART, its guests reconnected), `net`, `blk` (a new
 *                block server on the same disks, its clients reconnected:
 *                roottask/blk.c blk_restart), `vmm` (a guest's vmm-server
 *                started again: its guest reboots), `none` (the default)
 *   swifi=TARGET:N:MS[:SEED]  software-implemented fault injection: N bit
 *                flips into server TARGET (`console`, `console2`, `net`, `net2`..,
 *                `blk`, `blk2`..),
 *                one every MS ms from the first action on, each a random bit
 *                of its code, its data or one of its registers (xorshift64
 *                from SEED); each is observed until the next (a fault,
 *                missed heartbeats, for the block and network servers a
 *                descriptor outside their DMA pages and clients' windows: a
 *                DMA escape; for a network server our own probe through
 *                it, netprobe.c: client-visible if it failed) and the server
 *                restarted afterwards whatever happened, so every flip
 *                starts from a clean server; the first at SWIFI_FIRST_MS
 *   swifi-at=W   the swifi campaign's first flip is bit W % 8 of the byte at
 *                W / 8 of a console or network server's image (W decimal:
 *                the `where` its event line prints in hex), not a random
 *                one: a known flip, for a test (tools/experiments/run)
 *   inject=      at MS ms after the microkernel's first instruction, FAULT
 *                into TARGET:
 *      crash     its main thread is made to fault (rip = 0): a real fault,
 *                which comes to our endpoint as any fault of it would
 *      hang      its main thread is suspended for good (it stops answering)
 *      stall     suspended for ARG ms (default 100), then resumed: it answers
 *                late (a slow server)
 *      slow      for SLOW_SPAN_MS (300) ms, suspended ARG ms (default 10) of
 *                every SLOW_PERIOD_MS (20): each answer late by up to ARG ms
 *                (one slow fault at a time)
 *      link      (a guest only) its network port goes down for ARG ms
 *                (default 300): the network server's UK_NET_CTL_LINK down,
 *                then up; frames from and to the guest are dropped and
 *                counted (`down`) meanwhile, and its TCP connections must
 *                live through it by retransmission (tests/network/run)
 *      flap      (a guest only) `link` every FLAP_PERIOD_MS (1000) from
 *                then on, while the guest's port is there: whatever the
 *                guest does later, it meets an outage
 *      wrong     (a block server) for SLOW_SPAN_MS, its answers to clients
 *                malformed or out of range (UK_BLK_FAULT_WRONG): its clients
 *                must reject them
 *      late      (a block server) for SLOW_SPAN_MS, every answer to a client
 *                late by ARG ms (default LATE_MS; UK_BLK_FAULT_LATE)
 *      exhaust   a block server fills its capability slots and kernel-memory
 *                quota (UK_BLK_FAULT_EXHAUST) and serves on; a guest does so
 *                itself from its command line (`exhaust-at=MS`, as `panic`)
 *      panic     (a guest only) its guest kernel faults at that time: the
 *                toy guest's own `panic-at=MS` does it (we have no cap of
 *                the guest kernel's thread), we log the time; its vmm-server
 *                then ends with UK_VMM_END_GUEST_FAULT, a crash we detect
 *                and (restart=vmm) repair.  A Linux guest panics itself
 *                (tools/experiments/linux: sysrq `c`) and halts with
 *                UK_VDEV_POWER_STATUS_PANIC: detected (how=guest-panic) and
 *                repaired the same way
 *                TARGET: `console` (COM1's console server), `console2` (COM2's),
 *                `net` (the first network server), `net2`.. (the others,
 *                net.c's slots), `blk` (the first block server),
 *                `blk2`.. (the others, blk.c's slots), or a guest's name (its
 *                vmm-server)
 *
 * Times on the log are TSC ticks since the microkernel's first instruction
 * (uk_bootinfo.boot_tsc): instructions under tcg-icount (ICOUNT=1).  Every
 * event is one line "experiment: t=T event=E target=X ..." for
 * tools/experiments/run.  A bad word refuses the whole line, named.
 */
#include "root.h"
#include <uk/net.h>
#include <uk/blk.h>

#define MAX_ACTIONS   64
#define BEAT_MS       50
#define STALL_MS      100
#define SLOW_MS       10
#define SLOW_PERIOD_MS 20
#define SLOW_SPAN_MS  300
#define LINK_DOWN_MS  300
#define FLAP_PERIOD_MS 1000
#define LATE_MS       5
#define SWIFI_FIRST_MS 500         /* the first flip: the guests are up by then */
#define BLK_MISSES    2            /* pings a block server misses in a row: hung */
#define CONSOLE_STUCK 2            /* pings in a row a console server answers with lines
                                      queued and none printed since the last: stuck */
#define VMM_HANG_MS   400          /* a vmm-server whose request loop has answered no
                                      heartbeat for this long is hung: longer than a
                                      hung block server takes to be found and restarted
                                      (its clients' calls wait for it meanwhile) and
                                      than a `stall` (100 ms) */

/* The faults a line may name (F_CRASH..F_EXHAUST, by fault_name), then the
 * supervisor's own ends of them. */
enum fault { F_CRASH, F_HANG, F_STALL, F_SLOW, F_PANIC, F_LINK, F_FLAP, F_WRONG, F_LATE,
             F_EXHAUST, F_RESUME, F_LINK_UP, F_BEHAVE };
static const char *const fault_name[] = { "crash", "hang", "stall", "slow", "panic", "link",
                                          "flap", "wrong", "late", "exhaust", "resume",
                                          "link-up", "behave" };

/* A target: a server (a console server: its UART - 1; a network or block
 * server: its slot, net.c, blk.c) or a vmm-server (guest index). */
enum kind { T_CONSOLE, T_NET, T_BLK, T_VMM };
struct target { enum kind kind; uk_word_t index; };
#define NCONSOLES ((int)UK_CONSOLE_COM_MAX)
#define NSLOTS (NCONSOLES + NET_MAX_SERVERS + BLK_MAX_SERVERS + 1 + ROOT_MAX_GUESTS)

struct action {
    uk_word_t at;             /* TSC */
    enum fault fault;
    struct target t;
    uk_word_t arg_ms;
};

static struct {
    int on;
    const struct uk_bootinfo *bi;
    uk_word_t ep, boot_tsc, ms;            /* ms: TSC ticks per ms */
    const struct guest_desc *g;
    int nguests, vmm_module;
    int restart_console, restart_net, restart_blk, restart_vmm;
    uk_word_t beat_ms, next_beat;
    uk_word_t end;                         /* TSC since boot_tsc; 0: never */
    struct action a[MAX_ACTIONS];          /* sorted by time */
    int na, next;
    /* per server: an injection not yet detected (its TSC), hung and given up */
    uk_word_t pending[NSLOTS];
    int gave_up[NSLOTS];
    int missed[NSLOTS];                    /* pings missed in a row */
    /* a console server that answers its pings but prints none of the lines
     * it has queued is stuck (a flip into con_pump made it spin: recv with
     * a zero timeout, pump nothing, again); at CONSOLE_PRIO it starves the
     * block and network servers and the vmm-servers meanwhile */
    uk_word_t con_printed[NCONSOLES];      /* its lines printed at the last ping */
    int con_stuck[NCONSOLES];              /* pings in a row with lines queued, none out */
    int starving;                          /* this beat: one of them looks stuck */
    int vmm_faulted[ROOT_MAX_GUESTS + 1];  /* its fault seen, its end still to come */
    struct {                               /* the vmm-servers' heartbeat */
        uk_word_t seq;                     /* the last number rung */
        uk_word_t ok_at[ROOT_MAX_GUESTS + 1];   /* TSC: its last answer (or start) */
    } vb;
    uk_word_t sw_at;                       /* swifi-at=: its first flip (0: random) */
    struct {                               /* the swifi campaign (swifi=) */
        int on;
        struct target t;                   /* its server */
        uk_word_t left, n, period, next, rnd;
        int flipped;                       /* one is under observation */
        uk_word_t at, where;               /* its time, address << 3 | bit (or reg) */
        const char *kind;                  /* code, data, reg */
        const char *how;                   /* detected: fault, heartbeat; 0: not */
        uk_word_t after;
        uk_word_t outcome[5];              /* sw_outcome[] */
    } sw;
    struct {                               /* the `slow` fault under way */
        int on, suspended;
        struct target t;
        uk_word_t d, until, next;          /* ms suspended a period; TSC: end, next toggle */
    } slow;
} S;

static uk_word_t now(void) { return uk_rdtsc() - S.boot_tsc; }

static int slot_of(struct target t)
{
    switch (t.kind) {
    case T_CONSOLE: return (int)t.index;
    case T_NET:     return NCONSOLES + (int)t.index;
    case T_BLK:     return NCONSOLES + NET_MAX_SERVERS + (int)t.index;
    default:        return NCONSOLES + NET_MAX_SERVERS + BLK_MAX_SERVERS + (int)t.index;
    }
}

static const char *const blk_names[BLK_MAX_SERVERS] = { "blk", "blk2", "blk3", "blk4" };
static const char *const net_names[NET_MAX_SERVERS] = { "net", "net2", "net3", "net4" };

static const char *target_name(struct target t)
{
    switch (t.kind) {
    case T_CONSOLE: return console_name((int)t.index);
    case T_NET:     return net_names[t.index];
    case T_BLK:     return blk_names[t.index];
    default:        return S.g[t.index - 1].name;
    }
}

static uk_word_t thread_of(struct target t)
{
    switch (t.kind) {
    case T_CONSOLE: return console_thread((int)t.index);
    case T_NET:     return net_thread((int)t.index);
    case T_BLK:     return blk_thread((int)t.index);
    default:        return vmm_thread(t.index);
    }
}

static void event(const char *e, struct target t, const char *more)
{
    printf("experiment: t=%lu event=%s target=%s%s%s\n", now(), e, target_name(t),
           more[0] ? " " : "", more);
}

/* --- parsing --------------------------------------------------------------- */

static unsigned long wlen(const char *p)
{
    unsigned long n = 0;
    while (p[n] && p[n] != ' ' && p[n] != ':' && p[n] != ',')
        n++;
    return n;
}

/* A fault's argument when its line gives none (ms). */
static uk_word_t default_ms(enum fault f)
{
    return f == F_SLOW ? SLOW_MS : f == F_LINK || f == F_FLAP ? LINK_DOWN_MS
         : f == F_LATE ? LATE_MS : STALL_MS;
}

static int is(const char *p, unsigned long n, const char *w)
{
    return strlen(w) == n && !strncmp(p, w, n);
}

static long num(const char *p, unsigned long n)
{
    long v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (unsigned long i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int parse_target(const char *p, unsigned long n, struct target *t)
{
    for (int i = 0; i < NCONSOLES; i++)
        if (is(p, n, console_name(i))) {
            *t = (struct target){ T_CONSOLE, (uk_word_t)i };
            return 1;
        }
    for (int i = 0; i < NET_MAX_SERVERS; i++)
        if (is(p, n, net_names[i])) {
            *t = (struct target){ T_NET, (uk_word_t)i };
            return 1;
        }
    for (int i = 0; i < BLK_MAX_SERVERS; i++)
        if (is(p, n, blk_names[i])) {
            *t = (struct target){ T_BLK, (uk_word_t)i };
            return 1;
        }
    for (int i = 0; i < S.nguests; i++)
        if (is(p, n, S.g[i].name)) {
            *t = (struct target){ T_VMM, (uk_word_t)i + 1 };
            return 1;
        }
    return 0;
}

/* One word of the line at p (n bytes); 0 and a message if it is wrong. */
static int parse_word(const char *p, unsigned long n)
{
    char w[80];
    unsigned long k = n < sizeof w - 1 ? n : sizeof w - 1;
    memcpy(w, p, k);
    w[k] = 0;
    if (n > 5 && !strncmp(p, "beat=", 5)) {
        long v = num(p + 5, n - 5);
        if (v < 0 || v > 10000) {
            printf("experiment: \"%s\": beat= wants 0..10000 ms\n", w);
            return 0;
        }
        S.beat_ms = (uk_word_t)v;
        return 1;
    }
    if (n > 4 && !strncmp(p, "end=", 4)) {
        long v = num(p + 4, n - 4);
        if (v < 1) {
            printf("experiment: \"%s\": end= wants a number of ms, 1..\n", w);
            return 0;
        }
        S.end = (uk_word_t)v * S.ms;
        return 1;
    }
    if (n > 9 && !strncmp(p, "swifi-at=", 9)) {
        long v = num(p + 9, n - 9);
        if (v < 1) {
            printf("experiment: \"%s\": swifi-at= wants ADDRESS * 8 + BIT (decimal)\n", w);
            return 0;
        }
        S.sw_at = (uk_word_t)v;
        return 1;
    }
    if (n > 6 && !strncmp(p, "swifi=", 6)) {
        const char *q = p + 6;
        unsigned long m = wlen(q);
        struct target t;
        long v[3] = { 0, 0, 1 };
        if (!parse_target(q, m, &t) || t.kind == T_VMM) {
            printf("experiment: \"%s\": swifi= wants a server (console, console2, net, net2.., "
                   "blk, blk2..)\n", w);
            return 0;
        }
        q += m;
        for (int k = 0; k < 3 && q < p + n && *q == ':'; k++) {
            m = wlen(++q);
            v[k] = num(q, m);
            q += m;
        }
        if (q != p + n || v[0] < 1 || v[1] < 1 || v[2] < 1) {
            printf("experiment: \"%s\": swifi= wants TARGET:N:MS[:SEED], numbers >= 1\n", w);
            return 0;
        }
        S.sw = (typeof(S.sw)){ .on = 1, .t = t, .left = (uk_word_t)v[0],
                               .period = (uk_word_t)v[1] * S.ms, .rnd = (uk_word_t)v[2],
                               .next = SWIFI_FIRST_MS * S.ms };
        return 1;
    }
    if (n > 8 && !strncmp(p, "restart=", 8)) {
        for (const char *q = p + 8; q < p + n; ) {
            unsigned long m = wlen(q);
            if (is(q, m, "console"))
                S.restart_console = 1;
            else if (is(q, m, "net"))
                S.restart_net = 1;
            else if (is(q, m, "blk"))
                S.restart_blk = 1;
            else if (is(q, m, "vmm"))
                S.restart_vmm = 1;
            else if (!is(q, m, "none")) {
                printf("experiment: \"%s\": restart= takes console, net, blk, vmm, none\n", w);
                return 0;
            }
            q += m + (q[m] == ',');
        }
        return 1;
    }
    if (n > 7 && !strncmp(p, "inject=", 7)) {
        const char *q = p + 7, *end = p + n;
        struct action a = { 0 };
        unsigned long m = wlen(q);
        long ms = num(q, m);
        if (ms < 0 || q[m] != ':') {
            printf("experiment: \"%s\": inject= wants MS:FAULT:TARGET[:ARG]\n", w);
            return 0;
        }
        q += m + 1;
        m = wlen(q);
        int f = 0;                       /* the faults a line may name come first */
        while (f <= F_EXHAUST && !is(q, m, fault_name[f]))
            f++;
        if (f > F_EXHAUST) {
            printf("experiment: \"%s\": unknown fault (crash, hang, stall, slow, panic, link, "
                   "flap, wrong, late, exhaust)\n", w);
            return 0;
        }
        a.fault = (enum fault)f;
        a.arg_ms = default_ms(a.fault);
        q += m;
        if (*q != ':' || (m = wlen(++q), !parse_target(q, m, &a.t))) {
            printf("experiment: \"%s\": unknown target (console, console2, net, net2.., blk, "
                   "blk2.. or a guest's name)\n", w);
            return 0;
        }
        q += m;
        if ((a.fault == F_PANIC || a.fault == F_LINK || a.fault == F_FLAP) && a.t.kind != T_VMM) {
            printf("experiment: \"%s\": only a guest can panic or lose its link\n", w);
            return 0;
        }
        if ((a.fault == F_WRONG || a.fault == F_LATE) && a.t.kind != T_BLK) {
            printf("experiment: \"%s\": only a block server answers wrong or late\n", w);
            return 0;
        }
        if (a.fault == F_EXHAUST && a.t.kind != T_BLK && a.t.kind != T_VMM) {
            printf("experiment: \"%s\": only a block server or a guest exhausts\n", w);
            return 0;
        }
        if (q < end && *q == ':') {
            long v = num(q + 1, wlen(q + 1));
            if (v < 1 || (a.fault != F_STALL && a.fault != F_SLOW && a.fault != F_LINK &&
                          a.fault != F_FLAP && a.fault != F_LATE) ||
                (a.fault == F_SLOW && v >= SLOW_PERIOD_MS) ||
                (a.fault == F_FLAP && v >= FLAP_PERIOD_MS) || (a.fault == F_LATE && v > 1000)) {
                printf("experiment: \"%s\": only stall and link (ms, 1..), slow (ms, 1..%d), "
                       "flap (ms, 1..%d) and late (ms, 1..1000) take an argument\n", w,
                       SLOW_PERIOD_MS - 1, FLAP_PERIOD_MS - 1);
                return 0;
            }
            a.arg_ms = (uk_word_t)v;
            q += 1 + wlen(q + 1);
        }
        if (q != end) {
            printf("experiment: \"%s\": trailing characters\n", w);
            return 0;
        }
        if (S.na == MAX_ACTIONS - 1) {
            printf("experiment: more than %d injections\n", MAX_ACTIONS / 2);
            return 0;
        }
        a.at = (uk_word_t)ms * S.ms;
        int i = S.na++;                   /* insertion sort by time */
        while (i > 0 && S.a[i - 1].at > a.at) {
            S.a[i] = S.a[i - 1];
            i--;
        }
        S.a[i] = a;
        return 1;
    }
    printf("experiment: \"%s\": unknown word (end=, beat=, restart=, inject=, swifi=, "
           "swifi-at=)\n", w);
    return 0;
}

int supervise_init(const struct uk_bootinfo *bi, uk_word_t root_ep, const struct guest_desc *g,
                   int nguests, int vmm_module)
{
    int mod = find_module(bi, "experiment");
    memset(&S, 0, sizeof S);
    if (mod < 0)
        return 0;
    S.bi = bi;
    S.ep = root_ep;
    S.boot_tsc = bi->boot_tsc;
    S.ms = bi->tsc_hz / 1000;
    S.g = g;
    S.nguests = nguests;
    S.vmm_module = vmm_module;
    S.beat_ms = BEAT_MS;
    const char *p = cmdline_of(bi, mod) + strlen("experiment");
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        unsigned long n = word_len(p);
        if (!parse_word(p, n)) {
            printf("experiment: line refused: no injections, no restarts\n");
            memset(&S, 0, sizeof S);
            return 0;
        }
        p += n;
    }
    S.on = 1;
    S.next_beat = S.beat_ms ? now() + S.beat_ms * S.ms : 0;
    for (int i = 1; i <= S.nguests; i++)
        S.vb.ok_at[i] = now();
    if (S.sw.on && S.sw.t.kind == T_NET && !netprobe_init((int)S.sw.t.index))
        printf("experiment: swifi=%s: no probe ports: flips seen by faults, heartbeats and "
               "DMA only\n", net_names[S.sw.t.index]);
    printf("experiment: t=%lu event=start injections=%d end=%lu beat_ms=%lu restart=%s%s%s%s "
           "tsc_per_ms=%lu\n", now(), S.na, S.end, S.beat_ms, S.restart_console ? "console," : "",
           S.restart_net ? "net," : "", S.restart_blk ? "blk," : "", S.restart_vmm ? "vmm," : "",
           S.ms);
    return 1;
}

/* --- injection --------------------------------------------------------------- */

/* A guest's network port down (F_LINK, F_FLAP) or up again (F_LINK_UP):
 * the network server's CTL_LINK on port = the guest's index (docs/network.md
 * "MACs and addresses").  Not a death: nothing pending. */
static long link_set(const struct action *a)
{
    char more[64];
    int up = a->fault == F_LINK_UP;
    long st = net_link(a->t.index, up);      /* on the server of its NIC */
    if (st != UK_NET_OK && a->fault == F_FLAP)
        return UK_E_INVAL;               /* no port (yet, or any more): quietly */
    if (up)
        snprintf(more, sizeof more, "fault=link status=%ld", st);
    else
        snprintf(more, sizeof more, "fault=%s ms=%lu status=%ld", fault_name[a->fault], a->arg_ms,
                 st);
    event(up ? "resume" : "inject", a->t, more);
    return st == UK_NET_OK ? UK_OK : UK_E_INVAL;
}

static long inject(const struct action *a)
{
    if (a->fault == F_LINK || a->fault == F_FLAP || a->fault == F_LINK_UP)
        return link_set(a);
    uk_word_t th = thread_of(a->t), did = 0;
    char more[80];
    long err;
    if (!th) {
        snprintf(more, sizeof more, "fault=%s error=not-running", fault_name[a->fault]);
        event("inject", a->t, more);
        return UK_E_INVAL;
    }
    switch (a->fault) {
    case F_CRASH: {                      /* rip = 0: it faults on its next instruction */
        struct uk_regs r;
        if ((err = uk_thread_suspend(th)) || (err = uk_thread_read_regs(th)))
            break;
        memcpy(&r, uk_ipc_buf->data, sizeof r);
        r.rip = 0;
        memcpy(uk_ipc_buf->data, &r, sizeof r);
        if (!(err = uk_thread_write_regs(th)))
            err = uk_thread_resume(th);
        break;
    }
    case F_HANG:
    case F_STALL:
        err = uk_thread_suspend(th);
        break;
    case F_SLOW:                         /* supervise_run toggles it from now on */
        err = S.slow.on ? UK_E_STATE : UK_OK;
        if (!err)
            S.slow = (typeof(S.slow)){ 1, 0, a->t, a->arg_ms, now() + SLOW_SPAN_MS * S.ms,
                                       now() };
        break;
    case F_PANIC:                        /* the guest does it (`panic-at=`) */
        err = UK_OK;
        break;
    case F_WRONG:
    case F_LATE:
    case F_BEHAVE:
        err = blk_inject((int)a->t.index, a->fault == F_WRONG  ? UK_BLK_FAULT_WRONG
                                          : a->fault == F_LATE ? UK_BLK_FAULT_LATE
                                                               : UK_BLK_FAULT_NONE,
                         a->arg_ms, 0);
        break;
    case F_EXHAUST:                      /* a guest does it itself (`exhaust-at=`) */
        err = a->t.kind == T_VMM ? UK_OK
                                 : blk_inject((int)a->t.index, UK_BLK_FAULT_EXHAUST, 0, &did);
        break;
    default:                             /* F_RESUME */
        if (!S.pending[slot_of(a->t)]) { /* the heartbeat took it for hung: a new
                                            server runs, nothing to resume */
            event("inject", a->t, "fault=resume error=restarted");
            return UK_OK;
        }
        err = uk_thread_resume(th);
        break;
    }
    if (a->fault == F_STALL)
        snprintf(more, sizeof more, "fault=stall ms=%lu error=%ld", a->arg_ms, err);
    else if (a->fault == F_SLOW)
        snprintf(more, sizeof more, "fault=slow ms=%lu period=%d span=%d error=%ld", a->arg_ms,
                 SLOW_PERIOD_MS, SLOW_SPAN_MS, err);
    else if (a->fault == F_LATE)
        snprintf(more, sizeof more, "fault=late ms=%lu span=%d error=%ld", a->arg_ms,
                 SLOW_SPAN_MS, err);
    else if (a->fault == F_EXHAUST)
        snprintf(more, sizeof more, "fault=exhaust made=%lu error=%ld", did, err);
    else
        snprintf(more, sizeof more, "fault=%s error=%ld", fault_name[a->fault], err);
    event("inject", a->t, more);
    if (!err && a->fault != F_RESUME && a->fault != F_BEHAVE && a->fault != F_WRONG &&
        a->fault != F_LATE && a->fault != F_EXHAUST)
        S.pending[slot_of(a->t)] = now();    /* a death to detect */
    if (!err && a->fault == F_RESUME)
        S.pending[slot_of(a->t)] = 0;    /* a stall is not a death */
    return err;
}

/* An action in the schedule (kept sorted); the ones done are dropped from
 * its front first when it is full (a flap schedules for as long as it lasts). */
static void schedule(struct action r)
{
    if (S.na == MAX_ACTIONS && S.next > 0) {
        for (int i = S.next; i < S.na; i++)
            S.a[i - S.next] = S.a[i];
        S.na -= S.next;
        S.next = 0;
    }
    if (S.na == MAX_ACTIONS)
        return;
    int i = S.na++;
    while (i > S.next && S.a[i - 1].at > r.at) {
        S.a[i] = S.a[i - 1];
        i--;
    }
    S.a[i] = r;
}

/* The stall's end, the link's return (if it went down: ok), a flap's next
 * outage (whatever this one did: before the guest's port is there, and
 * after it has gone, a flap waits quietly). */
static void schedule_after(const struct action *a, int ok)
{
    if (ok && a->fault == F_STALL)
        schedule((struct action){ now() + a->arg_ms * S.ms, F_RESUME, a->t, 0 });
    if (ok && (a->fault == F_WRONG || a->fault == F_LATE))   /* a wrong or late server's end */
        schedule((struct action){ now() + SLOW_SPAN_MS * S.ms, F_BEHAVE, a->t, 0 });
    if (ok && (a->fault == F_LINK || a->fault == F_FLAP))
        schedule((struct action){ now() + a->arg_ms * S.ms, F_LINK_UP, a->t, 0 });
    if (a->fault == F_FLAP)
        schedule((struct action){ now() + FLAP_PERIOD_MS * S.ms, F_FLAP, a->t, a->arg_ms });
}

/* --- detection and restart ----------------------------------------------------- */

/* Detected: a line with the time since the injection (if one was pending). */
static void detected(struct target t, const char *how)
{
    char more[96];
    uk_word_t inj = S.pending[slot_of(t)];
    if (inj)
        snprintf(more, sizeof more, "how=%s after=%lu", how, now() - inj);
    else
        snprintf(more, sizeof more, "how=%s after=-1", how);  /* not ours: a real fault */
    event("detect", t, more);
    if (S.sw.on && S.sw.flipped && t.kind == S.sw.t.kind && t.index == S.sw.t.index &&
        !S.sw.how) {
        S.sw.how = how;                  /* the flip under observation did it */
        S.sw.after = inj ? now() - inj : 0;
    }
    S.pending[slot_of(t)] = 0;
}

/* The restart event also says what the root task holds after it: its slots
 * in use and its pool's free pages, the same after every restart when no
 * restart loses any (tools/experiments/run's short form checks it). */
static void restarted(struct target t, uk_word_t t0, int ok, int clients)
{
    char more[128];
    uk_word_t took = now() - t0;
    snprintf(more, sizeof more, "ok=%d took=%lu clients=%d slots=%lu pages=%lu", ok, took,
             clients, uk_slots_used(), uk_pages_left());
    event("restart", t, more);
}

static void restart(struct target t)
{
    uk_word_t t0 = now();
    int ok = 0, clients = 0;
    if (t.kind == T_CONSOLE) {
        S.con_stuck[t.index] = 0;        /* a new server: its count starts again */
        S.con_printed[t.index] = 0;
        clients = console_restart(S.bi, (int)t.index, S.ep);
        ok = clients >= 0;
        if (!ok)
            clients = 0;
    } else if (t.kind == T_NET) {
        clients = net_restart(S.bi, (int)t.index, S.ep);
        ok = clients >= 0;
        if (!ok)
            clients = 0;
    } else if (t.kind == T_BLK) {
        clients = blk_restart(S.bi, (int)t.index, S.ep);
        ok = clients >= 0;
        if (!ok)
            clients = 0;
    } else {                             /* a hung vmm-server: its guest reboots */
        vmm_kill(t.index);
        ok = launch_vmm(S.bi, S.vmm_module, t.index, &S.g[t.index - 1], S.ep) == UK_OK;
        S.vb.ok_at[t.index] = now();
    }
    restarted(t, t0, ok, clients);
    S.gave_up[slot_of(t)] = !ok;
}

static int restart_wanted(struct target t)
{
    return (t.kind == T_CONSOLE && S.restart_console) || (t.kind == T_NET && S.restart_net) ||
           (t.kind == T_BLK && S.restart_blk) || (t.kind == T_VMM && S.restart_vmm);
}

/* Does a console server starve the servers below its priority now?  It
 * answers, has lines queued, and has printed none since its ping at the
 * start of this beat (a lower server's ping waited out its timeout
 * meanwhile).  Asked when a lower server misses its ping: in the first beat
 * after a console server starts spinning its count may still have moved
 * since the beat before, so the beat's own console ping cannot tell yet. */
static int console_starves(void)
{
    for (int i = 0; i < NCONSOLES; i++) {
        uk_word_t printed = 0, queued = 0;
        if (console_ping(i, uk_timeout_us(S.beat_ms * 500), &printed, &queued) == UK_OK &&
            queued && printed == S.con_printed[i])
            return 1;
    }
    return 0;
}

/* A server that does not answer its ping in time: hung. */
static void ping(struct target t)
{
    if (S.gave_up[slot_of(t)] || !thread_of(t))
        return;
    /* half a beat, one miss; the block server a whole beat, BLK_MISSES in
     * a row: it answers between requests, and a request waits for the
     * device, whose answer QEMU's I/O thread gives in host time, while
     * tcg-icount's virtual time (sleep=off) jumps to the next timer: on a
     * loaded host one request can outlast a beat now and then */
    int blk = t.kind == T_BLK;
    uk_word_t to = uk_timeout_us(S.beat_ms * (blk ? 1000 : 500));
    uk_word_t printed = 0, queued = 0;
    long err = t.kind == T_CONSOLE ? console_ping((int)t.index, to, &printed, &queued)
               : t.kind == T_NET  ? net_ping((int)t.index, to)
                                  : blk_ping((int)t.index, to);
    if (err != UK_E_TIMEOUT && t.kind == T_CONSOLE) {
        /* answered: but has it printed? (its queue drains at CONSOLE_PRIO in
         * microseconds; queued lines and none out over a beat is no progress) */
        int i = (int)t.index, stuck = queued && printed == S.con_printed[i];
        S.con_printed[i] = printed;
        S.con_stuck[i] = stuck ? S.con_stuck[i] + 1 : 0;
        if (S.con_stuck[i] && S.con_stuck[i] < CONSOLE_STUCK)
            S.starving = 1;              /* the lower servers' misses would not be theirs */
        if (S.con_stuck[i] >= CONSOLE_STUCK) {
            S.con_stuck[i] = 0;
            S.missed[slot_of(t)] = 0;
            detected(t, "stuck");
            if (restart_wanted(t))
                restart(t);
            else
                S.gave_up[slot_of(t)] = 1;
            return;
        }
    }
    if (err != UK_E_TIMEOUT) {
        S.missed[slot_of(t)] = 0;
        return;
    }
    if (t.kind != T_CONSOLE && console_starves()) {
        S.starving = 1;                  /* the miss is the console server's doing */
        return;
    }
    if (++S.missed[slot_of(t)] < (blk ? BLK_MISSES : 1))
        return;
    S.missed[slot_of(t)] = 0;
    detected(t, "heartbeat");
    if (restart_wanted(t))
        restart(t);
    else
        S.gave_up[slot_of(t)] = 1;       /* lost: no more pings into the void */
}

/* The vmm-servers' heartbeat: each running one's request loop must have
 * answered a ring (its pong caught up with a number we rang) within
 * VMM_HANG_MS, else it is hung; then every one is rung again.  Answered in
 * the loop that serves its guest (vmm-server/main.c), so a vmm-server stuck
 * anywhere in serving misses it, not only a dead one. */
static void vmm_beat(void)
{
    for (int i = 1; i <= S.nguests; i++) {
        struct target t = { T_VMM, (uk_word_t)i };
        if (!vmm_thread((uk_word_t)i) || S.gave_up[slot_of(t)]) {
            S.vb.ok_at[i] = now();       /* not running (ended, restarting): not hung */
            continue;
        }
        if (S.vb.seq && vmm_pong((uk_word_t)i) == S.vb.seq)
            S.vb.ok_at[i] = now();
        if (now() - S.vb.ok_at[i] < VMM_HANG_MS * S.ms)
            continue;
        detected(t, "heartbeat");
        if (restart_wanted(t))
            restart(t);
        else
            S.gave_up[slot_of(t)] = 1;
    }
    S.vb.seq++;
    for (int i = 1; i <= S.nguests; i++)
        vmm_ping((uk_word_t)i, S.vb.seq);
}

/* --- software-implemented fault injection ------------------------------------- */

static uk_word_t xorshift(void)
{
    uk_word_t x = S.sw.rnd;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return S.sw.rnd = x;
}

/* client-visible: seen by our own probe (the network server's); the
 * harness adds what the guests saw (tools/experiments/run) */
static const char *const sw_outcome[] = { "none", "crash", "hang", "dma-escape",
                                          "client-visible" };

/* The flip under observation: its outcome, then a clean server for the next. */
static void swifi_settle(void)
{
    struct target t = S.sw.t;
    uk_word_t addr = 0;
    int o = !S.sw.how ? 0 : S.sw.how[0] == 'f' ? 1 : 2;
    const char *probe = t.kind == T_NET ? netprobe_check(S.sw.n) : 0;
    if (!o && (t.kind == T_BLK ? blk_dma_escape((int)t.index, &addr)
               : t.kind == T_NET ? net_dma_escape((int)t.index, &addr) : 0))
        o = 3;                           /* the console server programs no DMA */
    if (!o && probe)
        o = 4;
    S.sw.outcome[o]++;
    char more[192];
    snprintf(more, sizeof more, "n=%lu kind=%s where=%lx outcome=%s after=%lu escape=%lx "
             "probe=%s", S.sw.n, S.sw.kind, S.sw.where, sw_outcome[o], S.sw.after, addr,
             probe ? probe : t.kind == T_NET ? "ok" : "none");
    event("swifi", t, more);
    if (!S.sw.how) {                     /* latent damage: start afresh (restarted already
                                            if it was detected) */
        S.pending[slot_of(t)] = 0;
        restart(t);
    }
    S.sw.flipped = 0;
}

static void swifi_flip(void)
{
    struct target t = S.sw.t;
    uk_word_t r = xorshift(), th = thread_of(t);
    int kind = (int)(r % 3);
    uk_word_t outcome[5];
    memcpy(outcome, S.sw.outcome, sizeof outcome);
    S.sw = (typeof(S.sw)){ .on = 1, .t = t, .left = S.sw.left - 1,
                           .n = S.sw.n + 1, .period = S.sw.period, .next = now() + S.sw.period,
                           .rnd = S.sw.rnd, .flipped = 1, .at = now() };
    memcpy(S.sw.outcome, outcome, sizeof outcome);
    r = xorshift();
    if (S.sw_at && S.sw.n == 1 && t.kind != T_BLK) {   /* swifi-at=: the first flip's bit */
        int code = 0;
        S.sw.flipped = image_flip_at(t.kind == T_CONSOLE ? console_image((int)t.index)
                                                         : net_image((int)t.index),
                                     S.sw_at, &code, &S.sw.where);
        S.sw.kind = code ? "code" : "data";
    } else if (kind < 2) {               /* one bit of its code (1) or data (0) */
        S.sw.kind = kind ? "code" : "data";
        int ok = t.kind == T_BLK ? blk_flip((int)t.index, kind, r, &S.sw.where)
               : image_flip(t.kind == T_CONSOLE ? console_image((int)t.index)
                                                : net_image((int)t.index), kind, r, &S.sw.where);
        if (!ok)
            S.sw.flipped = 0;
    } else {                             /* one bit of one of its registers */
        struct uk_regs regs;
        S.sw.kind = "reg";
        if (!th || uk_thread_suspend(th) || uk_thread_read_regs(th)) {
            S.sw.flipped = 0;
        } else {
            memcpy(&regs, uk_ipc_buf->data, sizeof regs);
            uk_word_t *w = (uk_word_t *)&regs, nw = sizeof regs / sizeof *w;
            uk_word_t k = (r >> 8) % nw, bit = (r >> 32) % 64;
            w[k] ^= 1ul << bit;
            memcpy(uk_ipc_buf->data, &regs, sizeof regs);
            uk_thread_write_regs(th);
            S.sw.where = k << 6 | bit;   /* register index (struct uk_regs), bit */
        }
        if (th)
            uk_thread_resume(th);
    }
    if (S.sw.flipped)
        S.pending[slot_of(t)] = now();
    if (S.sw.flipped && t.kind == T_NET)
        netprobe_send(S.sw.n);           /* through the flipped server: checked at settle */
}

static void swifi_run(void)
{
    if (!S.sw.on || now() < S.sw.next)
        return;
    if (S.sw.flipped)
        swifi_settle();
    if (!S.sw.left) {
        char more[160];
        snprintf(more, sizeof more, "flips=%lu none=%lu crash=%lu hang=%lu dma-escape=%lu "
                 "client-visible=%lu", S.sw.n, S.sw.outcome[0], S.sw.outcome[1],
                 S.sw.outcome[2], S.sw.outcome[3], S.sw.outcome[4]);
        event("swifi-end", S.sw.t, more);
        S.sw.on = 0;
        return;
    }
    swifi_flip();
    if (!S.sw.flipped)                   /* nothing to flip: try the next at once */
        S.sw.next = now();
}

uk_word_t supervise_due(void)
{
    if (!S.on)
        return 0;
    uk_word_t due = S.next_beat;
    if (S.next < S.na && (!due || S.a[S.next].at < due))
        due = S.a[S.next].at;
    if (S.end && (!due || S.end < due))
        due = S.end;
    if (S.slow.on && (!due || S.slow.next < due))
        due = S.slow.next;
    if (S.sw.on && (!due || S.sw.next < due))
        due = S.sw.next;
    return due ? due + S.boot_tsc : 0;
}

void supervise_run(void)
{
    if (!S.on)
        return;
    if (S.end && S.end <= now()) {
        printf("experiment: t=%lu event=end\n", now());
        uk_exit_qemu(UK_SLOT_IOPORT_ALL, 0);
    }
    /* heartbeats first: a ping right after an injection into the same
     * server would wait out its timeout before we heard of its fault */
    if (S.next_beat && S.next_beat <= now()) {
        S.starving = 0;
        for (int i = 0; i < NCONSOLES; i++)
            ping((struct target){ T_CONSOLE, (uk_word_t)i });
        /* a console server that looks stuck starves the servers below its
         * priority: their pings wait for the next beat, when it has been
         * found stuck and restarted, or has printed after all */
        for (int i = 0; i < net_servers() && !S.starving; i++)
            ping((struct target){ T_NET, (uk_word_t)i });
        for (int i = 0; i < blk_servers() && !S.starving; i++)
            ping((struct target){ T_BLK, (uk_word_t)i });
        if (!S.starving)
            vmm_beat();
        S.next_beat = now() + S.beat_ms * S.ms;
    }
    if (S.slow.on && S.slow.next <= now()) {  /* the slow fault's next toggle */
        uk_word_t th = thread_of(S.slow.t);   /* a restarted server is slowed too */
        if (S.slow.suspended) {
            if (th)
                uk_thread_resume(th);
            S.slow.suspended = 0;
            S.slow.next = now() + (SLOW_PERIOD_MS - S.slow.d) * S.ms;
        } else if (now() >= S.slow.until) {
            S.slow.on = 0;
            S.pending[slot_of(S.slow.t)] = 0;   /* slow is not a death */
            event("resume", S.slow.t, "fault=slow");
        } else {
            if (th)
                uk_thread_suspend(th);
            S.slow.suspended = 1;
            S.slow.next = now() + S.slow.d * S.ms;
        }
    }
    swifi_run();
    while (S.next < S.na && S.a[S.next].at <= now()) {
        struct action a = S.a[S.next++];
        schedule_after(&a, inject(&a) == UK_OK);
        /* and no ping for a millisecond: we must block in our receive
         * first, so that a crashed server gets to fault and its fault
         * message to us, rather than a ping into it waiting out its timeout */
        if (S.next_beat && S.next_beat < now() + S.ms)
            S.next_beat = now() + S.ms;
    }
}

/* A vmm-server's end that is its guest kernel's failure: the kernel faulted
 * (the toy guest's panic-at=), or it halted with the panic status (a Linux
 * guest's panic, e.g. sysrq `c`: tools/experiments/linux). */
static int guest_failed(const struct uk_msg *m)
{
    return uk_msg_label(m->info) == UK_VMM_MSG_ENDED && uk_msg_len(m->info) >= 1 &&
           (m->w[0] == UK_VMM_END_GUEST_FAULT ||
            (m->w[0] == UK_VMM_END_HALTED && uk_msg_len(m->info) >= 2 &&
             m->w[1] == UK_VDEV_POWER_STATUS_PANIC));
}

int supervise_fault(uk_word_t badge, const struct uk_msg *m)
{
    if (!S.on)
        return 0;
    struct target t;
    if (badge >= CONSOLE_BADGE && badge < CONSOLE_BADGE + (uk_word_t)NCONSOLES &&
        console_thread((int)(badge - CONSOLE_BADGE)))
        t = (struct target){ T_CONSOLE, badge - CONSOLE_BADGE };
    else if (badge >= NET_BADGE && badge < NET_BADGE + (uk_word_t)net_servers())
        t = (struct target){ T_NET, badge - NET_BADGE };
    else if (badge >= BLK_BADGE && badge < BLK_BADGE + (uk_word_t)blk_servers())
        t = (struct target){ T_BLK, badge - BLK_BADGE };
    else if (badge >= 1 && badge <= (uk_word_t)S.nguests && vmm_thread(badge) &&
             ((uk_msg_flags(m->info) & UK_MSGF_FAULT) || guest_failed(m))) {
        /* a vmm-server's fault, or its guest kernel's: noted here, before
         * vmm_ended's report and teardown, so that the detection time is
         * the message's arrival */
        t = (struct target){ T_VMM, badge };
        detected(t, uk_msg_flags(m->info) & UK_MSGF_FAULT ? "fault"
                    : m->w[0] == UK_VMM_END_GUEST_FAULT ? "guest-fault" : "guest-panic");
        S.vmm_faulted[badge] = 1;
        return 0;
    } else
        return 0;
    detected(t, "fault");
    if (restart_wanted(t)) {
        restart(t);                      /* stops what is left of it first */
        return 1;
    }
    return 0;                            /* console_fault & co. report and destroy it */
}

int supervise_vmm_ended(uk_word_t badge)
{
    if (!S.on || badge == 0 || badge > (uk_word_t)S.nguests || !S.vmm_faulted[badge])
        return 0;                        /* its guest ended by itself: not ours to repair */
    S.vmm_faulted[badge] = 0;
    if (!S.restart_vmm)
        return 0;
    struct target t = { T_VMM, badge };
    uk_word_t t0 = now();
    int ok = launch_vmm(S.bi, S.vmm_module, badge, &S.g[badge - 1], S.ep) == UK_OK;
    restarted(t, t0, ok, 0);
    return ok;
}
