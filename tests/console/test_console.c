/*
 * The console server (servers/console) in QEMU: this test root starts
 * it from its boot module ("console-server") as the root task will, with
 * its caps in the UK_CONSOLE_SLOT_* slots, adds two clients (1 "alpha",
 * 2 "beta") and talks to it over IPC.  Each test has a server of its own.
 *
 * What the server prints goes to COM1, not through us: the test says what
 * must be there with "console-expect: <line>" (that whole line, after the
 * lines matched for earlier expectations) and "console-expect-count: N
 * <prefix>" (N lines start so), and tests/console/run checks the serial
 * log.  Input comes from tools/run/qemu-run INPUT=..., written to COM1 once
 * the log shows "console: ready for input".
 *
 * Priorities: the server runs at SERVER_PRIO; clients are threads of ours
 * below it (CLIENT_PRIO), so each request's output is out before the
 * client goes on, and nothing of ours is printed in the middle of a
 * server's line (the root thread, 255, prints only when the clients are
 * done).  The flood runs above the server (FLOOD_PRIO): its requests come
 * faster than its lines go out, which is what loses lines.
 */
#include "ktest.h"
#include <user/loader.h>

#define SELF        UK_SLOT_SELF_TASK
#define SERVER_PRIO 150
#define CLIENT_PRIO 100
#define FLOOD_PRIO  200
#define COM1        0x3f8
#define SECONDS(n)  ((n) * 1000000ul)
#define CALL_TIMEOUT uk_timeout_us(SECONDS(5))

struct server {
    uk_word_t task, thread, ep, ports, irq, irqn, input, fault;
    uk_word_t cap[5];   /* [n]: the endpoint with badge n; 1, 2 added; 4 never */
};
static struct server S;
static struct uk_loaded L;

/* --- requests -------------------------------------------------------------------- */

struct rep {
    uk_word_t w[UK_MSG_MAX_WORDS];
    unsigned len;
};
static struct rep R;    /* the last reply, for code that runs one thread at a time */
#define reply     R.w
#define reply_len R.len

/* A request of n words; the reply into *r. */
static long request(uk_word_t cap, uk_word_t op, const uk_word_t *w, unsigned n, struct rep *r)
{
    struct uk_msg m = { .info = uk_msginfo(op, n, CALL_TIMEOUT) };
    uk_msg_set_words(&m, uk_ipc_buf, w, n);
    long err = uk_call(cap, &m);
    r->len = (unsigned)uk_msg_len(m.info);
    for (unsigned i = 0; i < r->len; i++)
        r->w[i] = uk_msg_word(&m, uk_ipc_buf, i);
    if (err != UK_OK)
        printf("    request %lx: IPC error %ld\n", op, err);
    return err;
}

/* The status of a request (uk_ipc_failed() if the IPC failed); the reply in *r. */
static long status_r(uk_word_t cap, uk_word_t op, const uk_word_t *w, unsigned n, struct rep *r)
{
    long err = request(cap, op, w, n, r);
    return err ? uk_ipc_failed(err) : (long)r->w[0];
}

static long status(uk_word_t cap, uk_word_t op, const uk_word_t *w, unsigned n)
{
    return status_r(cap, op, w, n, &R);
}

static unsigned pack(uk_word_t *w, const char *s, unsigned len)
{
    for (unsigned k = 0; k < (len + 7) / 8; k++)
        w[k] = 0;
    for (unsigned k = 0; k < len; k++)
        w[k / 8] |= (uk_word_t)(unsigned char)s[k] << (8 * (k % 8));
    return (len + 7) / 8;
}

static long write_n(uk_word_t n, const char *s, unsigned len)
{
    uk_word_t w[UK_MSG_MAX_WORDS];
    w[0] = len;
    unsigned words = 1 + pack(w + 1, s, len);
    struct rep r;                            /* the flood writes from two threads */
    long st = status_r(S.cap[n], UK_CONSOLE_WRITE, w, words, &r);
    if (st == 0 && r.w[1] != len)
        printf("    write of %u bytes: %lu taken\n", len, r.w[1]);
    return st;
}

/* Client n writes a string; checked. */
#define W(n, s) KT_EQ(write_n((n), (s), (unsigned)strlen(s)), 0)

static long add_client(uk_word_t cap, uk_word_t n, const char *name)
{
    uk_word_t w[1 + 4] = { n };
    unsigned len = (unsigned)strlen(name);
    pack(w + 1, name, len > 32 ? 32 : len);
    return status(cap, UK_CONSOLE_ADD_CLIENT, w, 5);
}

static long ctl(uk_word_t op, uk_word_t n)
{
    return status(S.ep, op, &n, 1);
}

/* INFO of client n (asked by the root) into out[0..6]. */
static void info(uk_word_t n, uk_word_t *out)
{
    KT_EQ(status(S.ep, UK_CONSOLE_INFO, &n, 1), 0);
    KT_EQ(reply_len, 7);
    for (unsigned i = 0; i < 7; i++)
        out[i] = reply[i];
}
enum { I_WRITTEN = 1, I_LINES_OUT, I_LINES_LOST, I_IN_QUEUED, I_IN_LOST, I_FOCUS };

/* Client n's input, at most max bytes; returns the count. */
static unsigned read_n(uk_word_t n, char *buf, unsigned max)
{
    uk_word_t w = max;
    if (status(S.cap[n], UK_CONSOLE_READ, &w, 1) != 0)
        return 0;
    unsigned got = (unsigned)reply[1];
    KT_CHECK(got <= max);
    KT_EQ(reply_len, 2 + (got + 7) / 8);
    for (unsigned k = 0; k < got && k < max; k++)
        buf[k] = (char)(reply[2 + k / 8] >> (8 * (k % 8)));
    return got;
}

static void expect(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void expect(const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("console-expect: %s\n", line);
}

/* --- the server ---------------------------------------------------------------- */

static const void *server_module(uk_word_t *size)
{
    for (uk_word_t i = 0; i < kt_bi->nmodules; i++) {
        const char *cl = kt_bi->strings + kt_bi->modules[i].cmdline;
        if (!strncmp(cl, "console-server", 14) && (cl[14] == 0 || cl[14] == ' ')) {
            *size = kt_bi->modules[i].size;
            return (const void *)(UK_PHYS_WINDOW + kt_bi->modules[i].phys);
        }
    }
    return 0;
}

static void give(uk_word_t mine, uk_word_t slot, uk_word_t rights, uk_word_t badge)
{
    KT_EQ(uk_cap_copy(mine, S.task, slot, rights, badge), UK_OK);
}

/* A server with clients 1 "alpha" and 2 "beta"; 0 if it did not start. */
static int server_start(void)
{
    uk_word_t size = 0;
    const void *elf = server_module(&size);
    memset(&S, 0, sizeof S);
    KT_CHECK(elf != 0);
    if (!elf)
        return 0;
    KT_EQ(uk_task_new(1ul << 20, UK_CONSOLE_SLOTS, 0, &S.task), UK_OK);
    KT_EQ(uk_load_elf(S.task, elf, size, &L), UK_OK);
    if (L.error[0])
        printf("    %s\n", L.error);
    S.ep = kt_endpoint();
    give(S.ep, UK_CONSOLE_SLOT_EP, UK_R_READ, 0);
    S.ports = uk_slot_alloc();
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, COM1, 8, S.ports), UK_OK);
    give(S.ports, UK_CONSOLE_SLOT_PORTS, UK_R_ALL, 0);
    S.irq = uk_slot_alloc();
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 4, S.irq), UK_OK);
    give(S.irq, UK_CONSOLE_SLOT_IRQ, UK_R_ALL, 0);
    S.irqn = kt_notification();
    give(S.irqn, UK_CONSOLE_SLOT_IRQ_NOTIF, UK_R_READ | UK_R_WRITE, 0);
    /* both clients' input notifications are one of ours: bit n says client n */
    S.input = kt_notification();
    for (uk_word_t n = 1; n <= 2; n++)
        give(S.input, UK_CONSOLE_SLOT_CLIENT0 + n - 1, UK_R_WRITE, 1ul << n);
    for (uk_word_t n = 1; n < 5; n++) {
        S.cap[n] = uk_slot_alloc();
        KT_EQ(uk_cap_copy(S.ep, SELF, S.cap[n], UK_R_WRITE, n), UK_OK);
    }
    S.fault = kt_endpoint();
    long err = uk_start_program(S.task, &L, SERVER_PRIO, S.fault, 0, &S.thread);
    KT_EQ(err, UK_OK);
    if (err)
        return 0;
    KT_EQ(add_client(S.ep, 1, "alpha"), 0);
    KT_EQ(add_client(S.ep, 2, "beta"), 0);
    return 1;
}

static void server_stop(void)
{
    /* it never faulted */
    struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_ZERO) };
    long err = uk_recv(S.fault, &m);
    KT_EQ(err, UK_E_TIMEOUT);
    if (err == UK_OK)
        printf("    server fault %lx: %lx %lx %lx\n", uk_msg_label(m.info), m.w[0], m.w[1], m.w[2]);
    kt_destroy(S.thread);
    kt_destroy(S.task);
    if (S.ports)
        KT_EQ(uk_out(S.ports, COM1 + 1, 1, 0), UK_OK);      /* no more UART interrupts */
    kt_destroy(S.irqn);
    kt_destroy(S.irq);
    kt_destroy(S.input);
    for (unsigned n = 1; n < 5; n++)
        kt_destroy(S.cap[n]);
    kt_destroy(S.ep);
    if (S.ports)
        uk_cap_delete(SELF, S.ports);
    kt_destroy(S.fault);
}

/* --- client threads ------------------------------------------------------------ */

static volatile long client_done;

static void client_main(uk_word_t fn)
{
    ((void (*)(void))fn)();
    client_done = 1;
}

/* fn runs in a thread of ours below the server; back when it is done. */
static void as_client(void (*fn)(void), uk_word_t us)
{
    struct uk_spawned t;
    client_done = 0;
    KT_EQ(uk_spawn(SELF, client_main, (uk_word_t)fn, CLIENT_PRIO, 0, &t), UK_OK);
    KT_EQ(kt_wait_flag(&client_done, us), 1);
    kt_destroy(t.thread);
}

/* Sleeping without kt_sleep_us (its one slot is the root's). */
static void nap(uk_word_t notif, uk_word_t us)
{
    uk_wait(notif, uk_timeout_us(us), 0);
}

/* --- tests --------------------------------------------------------------------- */

static void lines_client(void)
{
    KT_EQ(ctl(UK_CONSOLE_FOCUS, 2), 0);      /* alpha's partial lines stay hidden */
    W(1, "hello from alpha\n");
    W(2, "hello from beta\n");
    W(1, "par");
    W(2, "beta one\nbeta two\n");
    W(1, "tial ");
    W(1, "line\n");
    W(1, "crlf line\r\n");
    W(2, "ctl\001\177end\ttab\n");
    W(1, "\n");
    W(2, "two\nlines in one write\n");
    W(1, "");                                 /* nothing, fine */
}

KT_TEST(console_lines_are_labelled_and_assembled)
{
    if (!server_start())
        return;
    as_client(lines_client, SECONDS(20));
    uk_word_t a[7], b[7];
    info(1, a);
    info(2, b);
    KT_EQ(a[I_WRITTEN], 17 + 3 + 5 + 5 + 11 + 1);
    KT_EQ(a[I_LINES_OUT], 4);
    KT_EQ(a[I_LINES_LOST], 0);
    KT_EQ(b[I_LINES_OUT], 6);
    KT_EQ(b[I_FOCUS], 2);
    /* client 0: the server's totals (the supervisor's progress ping),
     * w4 the lines still queued: none, all 10 printed */
    uk_word_t t[7];
    info(0, t);
    KT_EQ(t[I_WRITTEN], a[I_WRITTEN] + b[I_WRITTEN]);
    KT_EQ(t[I_LINES_OUT], 10);
    KT_EQ(t[I_LINES_LOST], 0);
    KT_EQ(t[4], 0);
    KT_EQ(t[I_FOCUS], 2);
    expect("[console] input to beta (2)");
    expect("[alpha] hello from alpha");
    expect("[beta] hello from beta");
    expect("[beta] beta one");
    expect("[beta] beta two");
    expect("[alpha] partial line");
    expect("[alpha] crlf line");
    expect("[beta] ctl??end\ttab");
    expect("[alpha] ");
    expect("[beta] two");
    expect("[beta] lines in one write");
    server_stop();
}

static char pattern[600];

/* "[alpha] " pattern[at, at + len) suffix (the format has no %.*s) */
static void expect_piece(unsigned at, unsigned len, const char *suffix)
{
    char s[256];
    memcpy(s, pattern + at, len);
    s[len] = 0;
    expect("[alpha] %s%s", s, suffix);
}

static void long_client(void)
{
    KT_EQ(ctl(UK_CONSOLE_FOCUS, 2), 0);
    KT_EQ(write_n(1, pattern, 450), 0);                    /* 2 lines and a half */
    KT_EQ(write_n(1, pattern + 450, 100), 0);
    W(1, "\n");
    KT_EQ(write_n(1, pattern, 200), 0);                    /* exactly one line ... */
    W(1, "\r\n");                                           /* ... ends nothing more */
    KT_EQ(write_n(1, pattern, UK_VDEV_BYTES_MAX), 0);      /* the most at once */
    W(1, "|\n");
}

KT_TEST(console_long_lines_are_cut)
{
    for (unsigned i = 0; i < sizeof pattern; i++)
        pattern[i] = (char)('a' + i % 26);
    if (!server_start())
        return;
    as_client(long_client, SECONDS(20));
    uk_word_t a[7];
    info(1, a);
    KT_EQ(a[I_LINES_OUT], 3 + 1 + 3);
    KT_EQ(a[I_LINES_LOST], 0);
    expect_piece(0, 200, "");
    expect_piece(200, 200, "");
    expect_piece(400, 150, "");
    expect_piece(0, 200, "");
    expect_piece(0, 200, "");
    expect_piece(200, 200, "");
    expect_piece(400, 96, "|");
    server_stop();
}

/* The flood: alpha 10000 writes of two lines each, beta 20 lines meanwhile. */
#define FLOOD_WRITES 10000
#define BETA_LINES   20
static volatile long flood_done, beta_done, flood_progress, flood_at_beta_end, flood_errors;

static void flood_thread(uk_word_t unused)
{
    (void)unused;
    char s[64];
    for (long i = 0; i < FLOOD_WRITES; i++) {
        int len = snprintf(s, sizeof s, "flood %05ld a\nflood %05ld b\n", i, i);
        if (write_n(1, s, (unsigned)len) != 0)
            flood_errors++;
        flood_progress = i + 1;
    }
    flood_done = 1;
}

static void beta_thread(uk_word_t notif)
{
    char s[64];
    for (int i = 0; i < BETA_LINES; i++) {
        int len = snprintf(s, sizeof s, "during flood %02d\n", i);
        if (write_n(2, s, (unsigned)len) != 0)
            flood_errors++;
        nap(notif, 10000);
    }
    flood_at_beta_end = flood_progress;
    beta_done = 1;
}

static void sync_client(void)
{
    uk_word_t n = 1;
    KT_EQ(status(S.cap[1], UK_CONSOLE_INFO, &n, 1), 0);
}

KT_TEST(console_flood_loses_only_the_flooders_lines)
{
    if (!server_start())
        return;
    uk_word_t nap_notif = kt_notification();
    struct uk_spawned f, b;
    flood_done = beta_done = flood_progress = flood_at_beta_end = flood_errors = 0;
    KT_EQ(uk_spawn(SELF, flood_thread, 0, FLOOD_PRIO, 0, &f), UK_OK);
    KT_EQ(uk_spawn(SELF, beta_thread, nap_notif, FLOOD_PRIO, 0, &b), UK_OK);
    uk_word_t t0 = uk_rdtsc();
    KT_EQ(kt_wait_flag(&flood_done, SECONDS(300)), 1);
    KT_EQ(kt_wait_flag(&beta_done, SECONDS(30)), 1);
    uk_word_t us = kt_tsc_to_us(uk_rdtsc() - t0);
    as_client(sync_client, SECONDS(30));     /* the server has printed all it will */
    kt_destroy(f.thread);
    kt_destroy(b.thread);
    kt_destroy(nap_notif);
    uk_word_t a[7], be[7];
    info(1, a);
    info(2, be);
    printf("    flood: %lu ms; alpha %lu lines printed, %lu lost; beta %lu printed, %lu lost;"
           " beta done at flood write %ld\n", us / 1000, a[I_LINES_OUT], a[I_LINES_LOST],
           be[I_LINES_OUT], be[I_LINES_LOST], flood_at_beta_end);
    KT_EQ(flood_errors, 0);
    KT_EQ(a[I_LINES_OUT] + a[I_LINES_LOST], 2 * FLOOD_WRITES);
    KT_CHECK(a[I_LINES_LOST] > 0);           /* its queue overflowed */
    KT_EQ(be[I_LINES_OUT], BETA_LINES);      /* and beta lost nothing */
    KT_EQ(be[I_LINES_LOST], 0);
    KT_CHECK(flood_at_beta_end < FLOOD_WRITES);   /* beta was served during the flood */
    for (int i = 0; i < BETA_LINES; i++)
        expect("[beta] during flood %02d", i);
    printf("console-expect-count: %lu [alpha] flood \n", a[I_LINES_OUT]);
    expect("[console] alpha: %lu lines of output lost in all", a[I_LINES_LOST]);
    server_stop();
}

/* A thread whose fault endpoint is the console's: it must stay stopped. */
static void faulter(uk_word_t unused)
{
    (void)unused;
    __asm__ volatile("ud2");
}

static void bad_client(void)
{
    uk_word_t w[UK_MSG_MAX_WORDS] = { 0 };
    W(1, "before the bad requests\n");
    /* writes: too long, bytes missing, no words at all */
    w[0] = UK_VDEV_BYTES_MAX + 1;
    KT_EQ(status(S.cap[1], UK_CONSOLE_WRITE, w, UK_MSG_MAX_WORDS), UK_VDEV_EINVAL);
    w[0] = ~0ul;
    KT_EQ(status(S.cap[1], UK_CONSOLE_WRITE, w, UK_MSG_MAX_WORDS), UK_VDEV_EINVAL);
    w[0] = 100;
    KT_EQ(status(S.cap[1], UK_CONSOLE_WRITE, w, 3), UK_VDEV_EFAULT);
    w[0] = 9;
    KT_EQ(status(S.cap[1], UK_CONSOLE_WRITE, w, 2), UK_VDEV_EFAULT);
    KT_EQ(status(S.cap[1], UK_CONSOLE_WRITE, w, 0), UK_VDEV_EINVAL);
    /* operations nobody has */
    KT_EQ(status(S.cap[1], 0x2ff, w, 1), UK_VDEV_EINVAL);
    KT_EQ(status(S.cap[1], UK_VDEV_CONSOLE_WRITE, w, 1), UK_VDEV_EINVAL);
    KT_EQ(status(S.cap[1], 0, w, 0), UK_VDEV_EINVAL);
    KT_EQ(status(S.ep, 0xfff0, w, 4), UK_VDEV_EINVAL);
    /* the root's operations, asked by a client */
    KT_EQ(add_client(S.cap[1], 3, "gamma"), UK_VDEV_EPERM);
    KT_EQ(add_client(S.cap[2], 1, "mallory"), UK_VDEV_EPERM);
    w[0] = 1;
    KT_EQ(status(S.cap[2], UK_CONSOLE_FOCUS, w, 1), UK_VDEV_EPERM);
    KT_EQ(status(S.cap[1], UK_CONSOLE_REMOVE_CLIENT, w, 1), UK_VDEV_EPERM);
    /* a client not added, and the root, may not write or read */
    W(1, "x");
    w[0] = 1;
    w[1] = 'x';
    KT_EQ(status(S.cap[4], UK_CONSOLE_WRITE, w, 2), UK_VDEV_EPERM);
    KT_EQ(status(S.ep, UK_CONSOLE_WRITE, w, 2), UK_VDEV_EPERM);
    KT_EQ(status(S.ep, UK_CONSOLE_READ, w, 1), UK_VDEV_EPERM);
    KT_EQ(status(S.cap[4], UK_CONSOLE_INFO, w, 0), UK_VDEV_EPERM);
    /* bad ADD_CLIENTs: numbers, names, the notification slot */
    KT_EQ(add_client(S.ep, 0, "zero"), UK_VDEV_EINVAL);
    KT_EQ(add_client(S.ep, UK_CONSOLE_MAX_CLIENTS + 1, "ten"), UK_VDEV_EINVAL);
    KT_EQ(add_client(S.ep, ~0ul, "big"), UK_VDEV_EINVAL);
    KT_EQ(add_client(S.ep, 3, ""), UK_VDEV_EINVAL);
    KT_EQ(add_client(S.ep, 3, "two words"), UK_VDEV_EINVAL);
    KT_EQ(add_client(S.ep, 3, "[fake]"), UK_VDEV_EINVAL);
    KT_EQ(add_client(S.ep, 3, "tab\there"), UK_VDEV_EINVAL);
    KT_EQ(add_client(S.ep, 3, "abcdefghijklmnopqrstuvwxyz012345"), UK_VDEV_EINVAL); /* 32 */
    w[0] = 3;
    KT_EQ(status(S.ep, UK_CONSOLE_ADD_CLIENT, w, 1), UK_VDEV_EINVAL);   /* no name words */
    KT_EQ(add_client(S.ep, 4, "gamma"), UK_VDEV_EINVAL);   /* an endpoint in its slot */
    KT_EQ(add_client(S.ep, 3, "abcdefghijklmnopqrstuvwxyz01234"), 0);  /* 31, no slot: fine */
    KT_EQ(status(S.ep, UK_CONSOLE_FOCUS, (w[0] = 9, w), 1), UK_VDEV_EINVAL);
    KT_EQ(status(S.ep, UK_CONSOLE_INFO, (w[0] = 7, w), 1), UK_VDEV_EINVAL);
    /* reads: more than fits is as much as fits; nothing there is 0 bytes */
    w[0] = ~0ul;
    KT_EQ(status(S.cap[1], UK_CONSOLE_READ, w, 1), 0);
    KT_EQ(reply[1], 0);
    KT_EQ(status(S.cap[1], UK_CONSOLE_READ, w, 0), UK_VDEV_EINVAL);
    /* a SEND gets no reply, but its line is printed */
    struct uk_msg m = { .info = uk_msginfo(UK_CONSOLE_WRITE, 4, CALL_TIMEOUT) };
    m.w[0] = 17;
    pack(&m.w[1], "sent, not called\n", 17);
    KT_EQ(uk_send(S.cap[1], &m), UK_OK);
    /* a faulting thread with the console as its fault endpoint stays stopped */
    struct uk_spawned t;
    KT_EQ(uk_spawn(SELF, faulter, 0, CLIENT_PRIO - 1, S.cap[1], &t), UK_OK);
    uk_word_t n = kt_notification();
    nap(n, 100000);                           /* it runs, faults once, is stopped */
    kt_destroy(n);
    KT_EQ(uk_thread_read_regs(t.thread), UK_OK);
    struct uk_regs r;
    memcpy(&r, uk_ipc_buf->data, sizeof r);
    KT_EQ(r.vector, 6);                       /* #UD */
    KT_CHECK(r.rip >= (uk_word_t)faulter && r.rip < (uk_word_t)faulter + 64);
    kt_destroy(t.thread);
    W(1, "still alive\n");
    W(3, "gamma speaks\n");
}

KT_TEST(console_bad_requests_get_errors)
{
    if (!server_start())
        return;
    /* a cap that is not a notification where client 4's would be */
    KT_EQ(uk_cap_copy(S.ep, S.task, UK_CONSOLE_SLOT_CLIENT0 + 3, UK_R_WRITE, 9), UK_OK);
    as_client(bad_client, SECONDS(20));
    uk_word_t a[7];
    info(1, a);
    KT_EQ(a[I_LINES_OUT], 3);
    KT_EQ(a[I_WRITTEN], 24 + 1 + 17 + 12);
    expect("[alpha] before the bad requests");
    expect("[alpha] xsent, not called");
    expect("[alpha] still alive");
    expect("[abcdefghijklmnopqrstuvwxyz01234] gamma speaks");
    server_stop();
}

static void remove_client(void)
{
    W(2, "beta's last words");
    KT_EQ(ctl(UK_CONSOLE_REMOVE_CLIENT, 2), 0);
    W(1, "alpha goes on\n");
    KT_EQ(write_n(2, "gone\n", 5), UK_VDEV_EPERM);
    KT_EQ(ctl(UK_CONSOLE_REMOVE_CLIENT, 2), UK_VDEV_EINVAL);
    KT_EQ(ctl(UK_CONSOLE_FOCUS, 2), UK_VDEV_EINVAL);
    /* added again: a fresh client under a new name */
    KT_EQ(add_client(S.ep, 2, "beta2"), 0);
    W(2, "back\n");
    /* renamed: its partial line goes on under the new name (alpha without
     * the focus: the partial line is not shown meanwhile) */
    KT_EQ(ctl(UK_CONSOLE_FOCUS, 2), 0);
    W(1, "half ");
    KT_EQ(add_client(S.ep, 1, "alpha2"), 0);
    W(1, "and half\n");
}

KT_TEST(console_remove_prints_the_rest)
{
    if (!server_start())
        return;
    as_client(remove_client, SECONDS(20));
    uk_word_t b[7];
    info(2, b);
    KT_EQ(b[I_WRITTEN], 5);
    expect("[beta] beta's last words");
    expect("[alpha] alpha goes on");
    expect("[beta2] back");
    expect("[console] input to beta2 (2)");
    expect("[alpha2] half and half");
    server_stop();
}

static void partial_client(void)
{
    uk_word_t n = kt_notification();
    KT_EQ(ctl(UK_CONSOLE_FOCUS, 1), 0);
    /* the focused client's prompt shows; another line closes it */
    W(1, "login: ");
    nap(n, 200000);
    W(2, "interrupting\n");
    W(1, "root\n");
    /* the open line goes on where it stopped */
    W(1, "$ ");
    nap(n, 200000);
    W(1, "ls\n");
    /* a client without the focus keeps its partial line */
    W(2, "beta partial ");
    nap(n, 200000);
    W(1, "alpha line\n");
    W(2, "done\n");
    /* the focus moves: now beta's partial line shows */
    W(2, "beta$ ");
    KT_EQ(ctl(UK_CONSOLE_FOCUS, 2), 0);
    nap(n, 200000);
    W(1, "alpha again\n");
    W(2, "exit\n");
    kt_destroy(n);
}

KT_TEST(console_focused_partial_line_shows)
{
    if (!server_start())
        return;
    as_client(partial_client, SECONDS(20));
    expect("[console] input to alpha (1)");
    expect("[alpha] login: ");
    expect("[beta] interrupting");
    expect("[alpha] root");
    expect("[alpha] $ ls");
    expect("[alpha] alpha line");
    expect("[beta] beta partial done");
    expect("[console] input to beta (2)");
    expect("[beta] beta$ ");
    expect("[alpha] alpha again");
    expect("[beta] exit");
    server_stop();
}

/* Input typed into COM1 (tools/run/qemu-run INPUT=, see tests/console/run):
 * "abc" Ctrl-T "2" "xyz" Ctrl-T Ctrl-T  Ctrl-T "7"  Ctrl-T "q"  "!" and
 * then BULK bytes "0123456789..." (many interrupts; nothing may stall) */
#define BULK 600
#define B_WANT (5 + BULK)
static char in_a[64], in_b[1024];
static unsigned got_a, got_b;
static uk_word_t bits_seen;

static void input_client(void)
{
    printf("console: ready for input\n");
    uk_word_t end = uk_rdtsc() + kt_us_to_tsc(SECONDS(60));
    got_a = got_b = 0;
    bits_seen = 0;
    while ((got_a < 3 || got_b < B_WANT) && uk_rdtsc() < end) {
        uk_word_t bits = 0;
        if (uk_wait(S.input, uk_timeout_us(100000), &bits) == UK_OK)
            bits_seen |= bits;
        got_a += read_n(1, in_a + got_a, sizeof in_a - got_a);
        got_b += read_n(2, in_b + got_b, sizeof in_b - got_b);
    }
    uk_word_t bits = 0;                       /* a signal after the bytes were read */
    if (uk_wait(S.input, UK_TIMEOUT_ZERO, &bits) == UK_OK)
        bits_seen |= bits;
}

KT_TEST(console_input_goes_to_the_focus)
{
    if (!server_start())
        return;
    as_client(input_client, SECONDS(90));
    KT_EQ(got_a, 3);
    KT_EQ(got_b, B_WANT);
    KT_CHECK(!memcmp(in_a, "abc", 3));
    KT_CHECK(!memcmp(in_b, "xyz\024!", 5));
    int bulk_ok = got_b == B_WANT;
    for (unsigned i = 0; i < BULK && bulk_ok; i++)
        bulk_ok = in_b[5 + i] == (char)('0' + i % 10);
    KT_CHECK(bulk_ok);
    KT_EQ(bits_seen, (1ul << 1) | (1ul << 2));
    if (got_a != 3 || got_b != B_WANT)
        printf("    alpha got %u bytes, beta %u: was there input? (tests/console/run "
               "types it with tools/run/qemu-run INPUT=...)\n", got_a, got_b);
    uk_word_t a[7], b[7];
    info(1, a);
    info(2, b);
    KT_EQ(a[I_IN_QUEUED], 0);
    KT_EQ(a[I_IN_LOST], 0);
    KT_EQ(b[I_IN_LOST], 0);
    KT_EQ(b[I_FOCUS], 2);
    expect("[console] input to beta (2)");
    expect("[console] no guest 7; input stays with beta (2)");
    expect("[console] Ctrl-T 1-9: input to that guest, Ctrl-T Ctrl-T: a Ctrl-T; input to beta (2)");
    server_stop();
}
