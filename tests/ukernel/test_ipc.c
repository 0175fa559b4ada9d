/*
 * IPC: send and receive in both orders, call/reply and reply-receive, long
 * messages, badges, saved (one-shot) reply rights, timeouts,
 * notifications (plain and bound), calls into another address space, the
 * fast path, and the wake-ups when objects go away under a waiter.
 *
 * The root runs at priority 255 and a yield there never lets a lower
 * thread run, so the root lets its helper threads (priority 100..200) run
 * by blocking: kt_sleep_us() and kt_wait_flag() below wait on a notification
 * with a timeout.
 */
#include "ktest.h"

#define SECOND 1000000ul
#define TMO    uk_timeout_us(5 * SECOND)        /* the root's bound on every wait */
#define INF    UK_TIMEOUT_INFINITE
#define ZERO   UK_TIMEOUT_ZERO
#define SELF   UK_SLOT_SELF_TASK

/* --- helpers ------------------------------------------------------------- */

static uk_word_t us_since(uk_word_t t0) { return kt_tsc_to_us(uk_rdtsc() - t0); }

/* A copy of `src` in a fresh slot of our own table. */
static uk_word_t copy_cap(uk_word_t src, uk_word_t rights, uk_word_t badge)
{
    uk_word_t s = uk_slot_alloc();
    KT_EQ(uk_cap_copy(src, SELF, s, rights, badge), UK_OK);
    return s;
}

static uk_word_t cap_badge(uk_word_t slot)
{
    uk_word_t badge = ~0ul;
    KT_EQ(uk_cap_info(slot, 0, 0, &badge), UK_OK);
    return badge;
}

static struct uk_msg msg(uk_word_t label, uk_word_t len, uk_word_t timeout,
                         uk_word_t w0, uk_word_t w1, uk_word_t w2, uk_word_t w3)
{
    return (struct uk_msg){ .info = uk_msginfo(label, len, timeout), .w = { w0, w1, w2, w3 } };
}

/* What helper threads report back: results by index, flags for "done". */
#define NV 24
static volatile long v[NV];
static volatile long done[4];
static volatile long ready;
static uk_word_t gslot[4];          /* slots handed to helper threads */

static void reset(void)
{
    for (int i = 0; i < NV; i++)
        v[i] = -1;
    for (int i = 0; i < 4; i++)
        done[i] = 0;
    ready = 0;
}

/* Keeps a received message in v[base..base+6]: err, info, badge, w0-3. */
static void keep(int base, long err, const struct uk_msg *m)
{
    v[base] = err;
    v[base + 1] = (long)m->info;
    v[base + 2] = (long)m->badge;
    for (int i = 0; i < 4; i++)
        v[base + 3 + i] = (long)m->w[i];
}

/* Retries a zero-timeout IPC until a partner is there (or ~1 s passed):
 * the partner was waiting first when it returns UK_OK. */
static long ipc_when_partner(uk_word_t nr, uk_word_t cap, struct uk_msg *m)
{
    struct uk_msg in = *m;
    long err = UK_E_TIMEOUT;
    for (int i = 0; i < 1000 && err == UK_E_TIMEOUT; i++) {
        if (i)
            kt_sleep_us(1000);
        *m = in;
        err = uk_ipc(nr, cap, m);
    }
    return err;
}

/* --- helper threads ------------------------------------------------------ */

static volatile long echo_ready, echo_count;

/* Answers every message on ep: label and length kept, w0 = the badge the
 * message came with, w1 = w0 + 1, w2-3 unchanged, long words + 1.  Stops
 * (suspends) when a receive fails. */
static void echo_server(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    echo_ready = 1;
    long err = uk_recv(ep, &m);
    while (err == UK_OK) {
        uk_word_t len = uk_msg_len(m.info);
        for (uk_word_t i = UK_MSG_REG_WORDS; i < len; i++)
            uk_ipc_buf->msg[i] += 1;
        m.w[1] = m.w[0] + 1;
        m.w[0] = m.badge;
        m.info = uk_msginfo(uk_msg_label(m.info), len, INF);
        echo_count++;
        err = uk_reply_recv(ep, &m);
    }
}

static void echo_reset(void)
{
    echo_ready = 0;
    echo_count = 0;
}

/* --- send and receive ---------------------------------------------------- */

static void receive_once(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    keep(0, uk_recv(ep, &m), &m);
    /* a plain send leaves no reply right behind */
    struct uk_msg r = msg(0, 0, INF, 0, 0, 0, 0);
    v[7] = uk_reply(&r);
    done[0] = 1;
}

KT_TEST(ipc_send_to_waiting_receiver)
{
    reset();
    uk_word_t ep = kt_endpoint();
    struct uk_spawned th;
    KT_EQ(uk_spawn(SELF, receive_once, ep, 200, 0, &th), UK_OK);
    /* zero timeout: succeeds only because the receiver already waits */
    struct uk_msg m = msg(7, 4, ZERO, 11, 12, 13, 14);
    KT_EQ(ipc_when_partner(UK_SYS_SEND, ep, &m), UK_OK);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(uk_msg_label(v[1]), 7);
    KT_EQ(uk_msg_len(v[1]), 4);
    KT_EQ(uk_msg_flags(v[1]), 0);
    KT_EQ(v[2], 0);                         /* unbadged cap: badge 0 */
    KT_EQ(v[3], 11);
    KT_EQ(v[4], 12);
    KT_EQ(v[5], 13);
    KT_EQ(v[6], 14);
    KT_EQ(v[7], UK_E_NO_REPLY);
    kt_destroy(th.thread);
    kt_destroy(ep);
}

static void send_once(uk_word_t ep)
{
    struct uk_msg m = msg(9, 3, INF, 21, 22, 23, 0xdead);
    v[0] = uk_send(ep, &m);                 /* blocks: nobody receives yet */
    done[0] = 1;
}

KT_TEST(ipc_recv_from_waiting_sender)
{
    reset();
    uk_word_t ep = kt_endpoint();
    uk_word_t badged = copy_cap(ep, UK_R_ALL, 0x5a);
    struct uk_spawned th;
    KT_EQ(uk_spawn(SELF, send_once, badged, 200, 0, &th), UK_OK);
    struct uk_msg m = { .info = uk_msginfo(0, 0, ZERO) };
    KT_EQ(ipc_when_partner(UK_SYS_RECV, ep, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), 9);
    KT_EQ(uk_msg_len(m.info), 3);
    KT_EQ(uk_msg_flags(m.info), 0);
    KT_EQ(m.badge, 0x5a);                   /* the queued sender's cap badge */
    KT_EQ(m.w[0], 21);
    KT_EQ(m.w[1], 22);
    KT_EQ(m.w[2], 23);
    struct uk_msg r = msg(0, 0, INF, 0, 0, 0, 0);
    KT_EQ(uk_reply(&r), UK_E_NO_REPLY);     /* plain send: nothing to reply to */
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);                     /* the sender's result */
    kt_destroy(th.thread);
    kt_destroy(badged);
    kt_destroy(ep);
}

static void send_labelled(uk_word_t arg)
{
    struct uk_msg m = msg(arg, 1, INF, arg * 10, 0, 0, 0);
    v[arg] = uk_send(gslot[0], &m);
    done[arg] = 1;
}

KT_TEST(ipc_queued_senders_served_in_order)
{
    reset();
    uk_word_t ep = kt_endpoint();
    gslot[0] = ep;
    struct uk_spawned th[3];
    for (int i = 0; i < 3; i++) {
        KT_EQ(uk_spawn(SELF, send_labelled, i + 1, 200, 0, &th[i]), UK_OK);
        kt_sleep_us(2000);                     /* let it queue before the next */
    }
    for (uk_word_t i = 1; i <= 3; i++) {
        struct uk_msg m = { .info = uk_msginfo(0, 0, ZERO) };
        KT_EQ(uk_recv(ep, &m), UK_OK);
        KT_EQ(uk_msg_label(m.info), i);
        KT_EQ(m.w[0], i * 10);
    }
    struct uk_msg m = { .info = uk_msginfo(0, 0, ZERO) };
    KT_EQ(uk_recv(ep, &m), UK_E_TIMEOUT);   /* queue empty again */
    for (int i = 1; i <= 3; i++) {
        KT_CHECK(kt_wait_flag(&done[i], SECOND));
        KT_EQ(v[i], UK_OK);
    }
    for (int i = 0; i < 3; i++)
        kt_destroy(th[i].thread);
    kt_destroy(ep);
}

/* --- call and reply --------------------------------------------------------- */

static void reply_once(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    keep(0, uk_recv(ep, &m), &m);
    struct uk_msg r = msg(uk_msg_label(m.info) + 1, 4, INF,
                          m.w[0] + 100, m.w[1] + 100, m.w[2] + 100, m.w[3] + 100);
    v[7] = uk_reply(&r);
    v[8] = uk_reply(&r);                    /* the right was used up */
    done[0] = 1;
}

KT_TEST(ipc_call_and_reply)
{
    reset();
    uk_word_t ep = kt_endpoint();
    struct uk_spawned th;
    KT_EQ(uk_spawn(SELF, reply_once, ep, 200, 0, &th), UK_OK);
    struct uk_msg m = msg(3, 4, TMO, 1, 2, 3, 4);
    KT_EQ(uk_call(ep, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), 4);
    KT_EQ(uk_msg_len(m.info), 4);
    KT_EQ(uk_msg_flags(m.info), 0);
    KT_EQ(m.badge, 0);                      /* replies carry no badge */
    KT_EQ(m.w[0], 101);
    KT_EQ(m.w[1], 102);
    KT_EQ(m.w[2], 103);
    KT_EQ(m.w[3], 104);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(uk_msg_label(v[1]), 3);
    KT_EQ(uk_msg_len(v[1]), 4);
    KT_EQ(v[3], 1);
    KT_EQ(v[6], 4);
    KT_EQ(v[7], UK_OK);
    KT_EQ(v[8], UK_E_NO_REPLY);
    kt_destroy(th.thread);
    kt_destroy(ep);
}

KT_TEST(ipc_reply_recv_serves_many_calls)
{
    echo_reset();
    uk_word_t ep = kt_endpoint();
    struct uk_spawned th;
    KT_EQ(uk_spawn(SELF, echo_server, ep, 200, 0, &th), UK_OK);
    for (uk_word_t i = 1; i <= 20; i++) {
        struct uk_msg m = msg(i, 3, TMO, i * 10, 0, i + 7, 0);
        KT_EQ(uk_call(ep, &m), UK_OK);
        KT_EQ(uk_msg_label(m.info), i);
        KT_EQ(uk_msg_len(m.info), 3);
        KT_EQ(m.w[0], 0);
        KT_EQ(m.w[1], i * 10 + 1);
        KT_EQ(m.w[2], i + 7);
    }
    KT_EQ(echo_count, 20);
    kt_destroy(th.thread);
    kt_destroy(ep);
}

/* Two clients, each with its own badged cap gslot[idx]: 5 calls each, the
 * answer must be its own (badge and w0 + 1). */
static void client(uk_word_t idx)
{
    long bad = 0, err = UK_OK;
    for (uk_word_t k = 0; k < 5 && err == UK_OK; k++) {
        struct uk_msg m = msg(idx, 1, INF, idx * 100 + k, 0, 0, 0);
        err = uk_call(gslot[idx], &m);
        if (err == UK_OK && (m.w[0] != 0x10 + idx || m.w[1] != idx * 100 + k + 1 ||
                             uk_msg_label(m.info) != idx))
            bad++;
    }
    v[idx * 2] = err;
    v[idx * 2 + 1] = bad;
    done[idx] = 1;
}

KT_TEST(ipc_two_clients_get_their_own_replies)
{
    reset();
    echo_reset();
    uk_word_t ep = kt_endpoint();
    gslot[0] = copy_cap(ep, UK_R_WRITE, 0x10);
    gslot[1] = copy_cap(ep, UK_R_WRITE, 0x11);
    struct uk_spawned srv, c0, c1;
    /* the server below its clients: calls queue up while it works */
    KT_EQ(uk_spawn(SELF, echo_server, ep, 100, 0, &srv), UK_OK);
    KT_EQ(uk_spawn(SELF, client, 0, 150, 0, &c0), UK_OK);
    KT_EQ(uk_spawn(SELF, client, 1, 150, 0, &c1), UK_OK);
    KT_CHECK(kt_wait_flag(&done[0], 2 * SECOND));
    KT_CHECK(kt_wait_flag(&done[1], 2 * SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(v[1], 0);
    KT_EQ(v[2], UK_OK);
    KT_EQ(v[3], 0);
    KT_EQ(echo_count, 10);
    kt_destroy(c0.thread);
    kt_destroy(c1.thread);
    kt_destroy(srv.thread);
    kt_destroy(gslot[0]);
    kt_destroy(gslot[1]);
    kt_destroy(ep);
}

/* Takes two calls, saves both reply rights, answers the second first. */
static void saving_server2(uk_word_t ep)
{
    struct uk_msg a = { .info = uk_msginfo(0, 0, INF) }, b = a;
    v[4] = uk_recv(ep, &a);
    v[5] = uk_reply_save(gslot[2]);
    v[6] = uk_recv(ep, &b);
    v[7] = uk_reply_save(gslot[3]);
    struct uk_msg rb = msg(1, 2, INF, b.badge, b.w[0] + 1, 0, 0);
    struct uk_msg ra = msg(1, 2, INF, a.badge, a.w[0] + 1, 0, 0);
    v[8] = uk_send(gslot[3], &rb);
    v[9] = uk_send(gslot[2], &ra);
    done[2] = 1;
}

static void client_once(uk_word_t idx)
{
    struct uk_msg m = msg(idx, 1, INF, idx * 100, 0, 0, 0);
    v[idx * 2] = uk_call(gslot[idx], &m);
    v[idx * 2 + 1] = m.w[0] == 0x10 + idx && m.w[1] == idx * 100 + 1 ? 0 : 1;
    done[idx] = 1;
}

KT_TEST(ipc_saved_replies_answered_out_of_order)
{
    reset();
    uk_word_t ep = kt_endpoint();
    gslot[0] = copy_cap(ep, UK_R_WRITE, 0x10);
    gslot[1] = copy_cap(ep, UK_R_WRITE, 0x11);
    gslot[2] = uk_slot_alloc();
    gslot[3] = uk_slot_alloc();
    struct uk_spawned srv, c0, c1;
    KT_EQ(uk_spawn(SELF, saving_server2, ep, 100, 0, &srv), UK_OK);
    KT_EQ(uk_spawn(SELF, client_once, 0, 150, 0, &c0), UK_OK);
    KT_EQ(uk_spawn(SELF, client_once, 1, 150, 0, &c1), UK_OK);
    KT_CHECK(kt_wait_flag(&done[2], 2 * SECOND));
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_CHECK(kt_wait_flag(&done[1], SECOND));
    for (int i = 4; i <= 9; i++)
        KT_EQ(v[i], UK_OK);
    KT_EQ(v[0], UK_OK);
    KT_EQ(v[1], 0);
    KT_EQ(v[2], UK_OK);
    KT_EQ(v[3], 0);
    KT_EQ(kt_cap_type(gslot[2]), UK_CAP_NULL);  /* used reply rights are gone */
    KT_EQ(kt_cap_type(gslot[3]), UK_CAP_NULL);
    kt_destroy(c0.thread);
    kt_destroy(c1.thread);
    kt_destroy(srv.thread);
    for (int i = 0; i < 4; i++)
        kt_destroy(gslot[i]);
    kt_destroy(ep);
}

/* --- long messages ------------------------------------------------------------ */

KT_TEST(ipc_long_message_64_words_both_ways)
{
    echo_reset();
    uk_word_t ep = kt_endpoint();
    struct uk_spawned th;
    KT_EQ(uk_spawn(SELF, echo_server, ep, 200, 0, &th), UK_OK);
    struct uk_ipc_buffer *b = uk_ipc_buf;
    for (uk_word_t i = UK_MSG_REG_WORDS; i < UK_MSG_MAX_WORDS; i++)
        b->msg[i] = 0x1000 + i;
    struct uk_msg m = msg(5, UK_MSG_MAX_WORDS, TMO, 1, 2, 3, 4);
    KT_EQ(uk_call(ep, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), 5);
    KT_EQ(uk_msg_len(m.info), UK_MSG_MAX_WORDS);
    KT_EQ(m.w[0], 0);
    KT_EQ(m.w[1], 2);
    KT_EQ(m.w[2], 3);
    KT_EQ(m.w[3], 4);
    /* the server saw 0x1000 + i in its buffer and sent back one more */
    long bad = 0;
    for (uk_word_t i = UK_MSG_REG_WORDS; i < UK_MSG_MAX_WORDS; i++)
        bad += b->msg[i] != 0x1000 + i + 1;
    KT_EQ(bad, 0);
    /* a 5-word message: just the one buffer word */
    b->msg[4] = 0x77;
    b->msg[5] = 0x99;
    m = msg(6, 5, TMO, 0, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_OK);
    KT_EQ(uk_msg_len(m.info), 5);
    KT_EQ(b->msg[4], 0x78);
    KT_EQ(b->msg[5], 0x99);                 /* beyond the length: untouched */
    kt_destroy(th.thread);
    kt_destroy(ep);
}

/* Answers once with 65 words (refused), then with one word. */
static void bad_reply_server(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    v[0] = uk_recv(ep, &m);
    struct uk_msg r = msg(1, UK_MSG_MAX_WORDS + 1, INF, 0, 0, 0, 0);
    v[1] = uk_reply(&r);
    r = msg(2, 1, INF, 0x600d, 0, 0, 0);
    v[2] = uk_reply(&r);
    done[0] = 1;
}

KT_TEST(ipc_message_of_65_words_is_refused)
{
    reset();
    echo_reset();
    uk_word_t ep = kt_endpoint();
    /* no partner: the length is checked before anything waits */
    struct uk_msg m = msg(1, UK_MSG_MAX_WORDS + 1, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_E_MSG_LEN);
    m = msg(1, UK_MSG_MAX_WORDS + 1, TMO, 0, 0, 0, 0);
    KT_EQ(uk_send(ep, &m), UK_E_MSG_LEN);
    m = msg(1, 255, TMO, 0, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_E_MSG_LEN);
    /* with a server waiting: refused, and never delivered */
    struct uk_spawned th;
    KT_EQ(uk_spawn(SELF, echo_server, ep, 200, 0, &th), UK_OK);
    kt_sleep_us(2000);
    m = msg(1, UK_MSG_MAX_WORDS + 1, TMO, 0, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_E_MSG_LEN);
    m = msg(1, UK_MSG_MAX_WORDS + 1, TMO, 0, 0, 0, 0);
    KT_EQ(uk_send(ep, &m), UK_E_MSG_LEN);
    kt_sleep_us(2000);
    KT_EQ(echo_count, 0);
    kt_destroy(th.thread);
    /* a 65-word reply is refused too; the caller still gets the next one */
    KT_EQ(uk_spawn(SELF, bad_reply_server, ep, 200, 0, &th), UK_OK);
    m = msg(0, 0, TMO, 0, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), 2);
    KT_EQ(m.w[0], 0x600d);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(v[1], UK_E_MSG_LEN);
    KT_EQ(v[2], UK_OK);
    kt_destroy(th.thread);
    kt_destroy(ep);
}

/* A thread configured without an IPC buffer receives, then tries to send
 * a long message itself. */
static void unbuffered_receiver(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    keep(0, uk_recv(ep, &m), &m);
    struct uk_msg s = msg(1, 8, ZERO, 0, 0, 0, 0);
    v[7] = uk_send(ep, &s);
    done[0] = 1;
}

KT_TEST(ipc_receiver_without_ipc_buffer_gets_4_words)
{
    reset();
    uk_word_t ep = kt_endpoint();
    struct uk_spawned th;
    KT_EQ(uk_spawn_prepare(SELF, unbuffered_receiver, ep, 200, 0, &th), UK_OK);
    KT_EQ(uk_thread_config(th.thread, 200, 0, 0), UK_OK);    /* no IPC buffer */
    KT_EQ(uk_spawn_go(&th), UK_OK);
    struct uk_ipc_buffer *b = uk_ipc_buf;
    for (uk_word_t i = UK_MSG_REG_WORDS; i < UK_MSG_MAX_WORDS; i++)
        b->msg[i] = 0x2000 + i;
    struct uk_msg m = msg(8, UK_MSG_MAX_WORDS, TMO, 31, 32, 33, 34);
    KT_EQ(uk_send(ep, &m), UK_OK);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(uk_msg_label(v[1]), 8);
    KT_EQ(uk_msg_len(v[1]), UK_MSG_REG_WORDS);               /* cut to the registers */
    KT_EQ(v[3], 31);
    KT_EQ(v[6], 34);
    /* the page the thread uses as its buffer was not written by the kernel */
    long touched = 0;
    struct uk_ipc_buffer *tb = th.ipc_buffer;
    for (uk_word_t i = 0; i < UK_MSG_MAX_WORDS; i++)
        touched += tb->msg[i] != 0;
    KT_EQ(touched, 0);
    /* and it cannot send more than the register words */
    KT_EQ(v[7], UK_E_ADDR);
    kt_destroy(th.thread);
    kt_destroy(ep);
}

/* --- badges --------------------------------------------------------------------- */

KT_TEST(ipc_badges_reach_the_receiver)
{
    uk_word_t ep = kt_endpoint();
    uk_word_t plain = copy_cap(ep, UK_R_WRITE, 0);
    uk_word_t b1 = copy_cap(ep, UK_R_WRITE, 0x11);
    uk_word_t b2 = copy_cap(b1, UK_R_WRITE, 0x22);       /* keeps 0x11 */
    KT_EQ(cap_badge(ep), 0);
    KT_EQ(cap_badge(plain), 0);
    KT_EQ(cap_badge(b1), 0x11);
    KT_EQ(cap_badge(b2), 0x11);
    /* slow path (server below the root) and fast path (server at 255) */
    static const uk_word_t prios[2] = { 200, 255 };
    for (int p = 0; p < 2; p++) {
        echo_reset();
        struct uk_spawned th;
        KT_EQ(uk_spawn(SELF, echo_server, ep, prios[p], 0, &th), UK_OK);
        if (prios[p] == 255)
            kt_wait_flag(&echo_ready, SECOND);
        const uk_word_t caps[4] = { ep, plain, b1, b2 };
        const uk_word_t want[4] = { 0, 0, 0x11, 0x11 };
        for (int i = 0; i < 4; i++) {
            struct uk_msg m = msg(1, 1, prios[p] == 255 ? INF : TMO, 5, 0, 0, 0);
            KT_EQ(uk_call(caps[i], &m), UK_OK);
            KT_EQ(m.w[0], want[i]);
            KT_EQ(m.w[1], 6);
        }
        kt_destroy(th.thread);
    }
    kt_destroy(b2);
    kt_destroy(b1);
    kt_destroy(plain);
    kt_destroy(ep);
}

/* --- saved reply rights ------------------------------------------------------- */

static void saving_server(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    v[0] = uk_recv(ep, &m);
    v[8] = uk_reply_save(gslot[2]);         /* slot in use: the right stays */
    v[9] = uk_reply_save(UK_SLOT_NULL);
    v[1] = uk_reply_save(gslot[0]);
    v[2] = (long)kt_cap_type(gslot[0]);
    struct uk_msg r = msg(0, 0, INF, 0, 0, 0, 0);
    v[3] = uk_reply(&r);                    /* the right moved into the slot */
    v[4] = uk_cap_copy(gslot[0], SELF, gslot[1], UK_R_ALL, 0);   /* not copyable */
    done[1] = 1;
    /* answer later, from the slot */
    uk_word_t bits;
    uk_wait(gslot[2], INF, &bits);          /* the root says when */
    r = msg(0x77, 2, INF, m.w[0] + 1, 0xabc, 0, 0);
    v[5] = uk_send(gslot[0], &r);
    r = msg(0x78, 2, INF, 0, 0, 0, 0);
    v[6] = uk_send(gslot[0], &r);           /* one shot: the slot is empty now */
    v[7] = (long)kt_cap_type(gslot[0]);
    done[0] = 1;
}

static void caller_thread(uk_word_t ep)
{
    struct uk_msg m = msg(1, 1, INF, 41, 0, 0, 0);
    keep(10, uk_call(ep, &m), &m);
    done[2] = 1;
}

KT_TEST(ipc_saved_reply_cap_is_one_shot)
{
    reset();
    uk_word_t ep = kt_endpoint();
    gslot[0] = uk_slot_alloc();
    gslot[1] = uk_slot_alloc();
    gslot[2] = kt_notification();
    struct uk_spawned srv, cl;
    KT_EQ(uk_spawn(SELF, saving_server, ep, 200, 0, &srv), UK_OK);
    KT_EQ(uk_spawn(SELF, caller_thread, ep, 150, 0, &cl), UK_OK);
    KT_CHECK(kt_wait_flag(&done[1], SECOND));  /* the right is saved; caller waits */
    KT_EQ(v[0], UK_OK);
    KT_EQ(v[1], UK_OK);
    KT_EQ(v[2], UK_CAP_REPLY);
    KT_EQ(v[3], UK_E_NO_REPLY);
    KT_EQ(v[4], UK_E_CAP_TYPE);
    KT_EQ(v[8], UK_E_BUSY);
    KT_EQ(v[9], UK_E_CAP);
    KT_EQ(kt_cap_type(gslot[1]), UK_CAP_NULL);
    kt_sleep_us(2000);
    KT_EQ(done[2], 0);                      /* still waiting for the answer */
    KT_EQ(uk_signal(gslot[2]), UK_OK);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_CHECK(kt_wait_flag(&done[2], SECOND));
    KT_EQ(v[5], UK_OK);
    KT_EQ(v[6], UK_E_CAP);
    KT_EQ(v[7], UK_CAP_NULL);
    KT_EQ(v[10], UK_OK);
    KT_EQ(uk_msg_label(v[11]), 0x77);
    KT_EQ(uk_msg_len(v[11]), 2);
    KT_EQ(v[12], 0);
    KT_EQ(v[13], 42);
    KT_EQ(v[14], 0xabc);
    kt_destroy(cl.thread);
    kt_destroy(srv.thread);
    kt_destroy(gslot[0]);
    kt_destroy(gslot[1]);
    kt_destroy(gslot[2]);
    kt_destroy(ep);
}

static void dropping_server(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    v[0] = uk_recv(ep, &m);
    v[1] = uk_reply_save(gslot[0]);
    v[2] = uk_cap_delete(SELF, gslot[0]);
    done[0] = 1;
}

KT_TEST(ipc_deleting_saved_reply_cap_wakes_caller)
{
    reset();
    uk_word_t ep = kt_endpoint();
    gslot[0] = uk_slot_alloc();
    struct uk_spawned srv;
    KT_EQ(uk_spawn(SELF, dropping_server, ep, 200, 0, &srv), UK_OK);
    uk_word_t t0 = uk_rdtsc();
    struct uk_msg m = msg(1, 1, TMO, 0, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_E_NO_REPLY);
    KT_CHECK(us_since(t0) < SECOND);        /* woken, not timed out */
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(v[1], UK_OK);
    KT_EQ(v[2], UK_OK);
    kt_destroy(srv.thread);
    kt_destroy(gslot[0]);
    kt_destroy(ep);
}

/* --- timeouts ---------------------------------------------------------------------- */

KT_TEST(ipc_zero_timeout_without_partner)
{
    uk_word_t ep = kt_endpoint();
    uk_word_t t0 = uk_rdtsc();
    struct uk_msg m = msg(0, 0, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_recv(ep, &m), UK_E_TIMEOUT);
    m = msg(1, 1, ZERO, 1, 0, 0, 0);
    KT_EQ(uk_send(ep, &m), UK_E_TIMEOUT);
    m = msg(1, 1, ZERO, 1, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_E_TIMEOUT);
    m = msg(0, 0, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_reply_recv(ep, &m), UK_E_TIMEOUT);   /* nobody to reply to, nobody sends */
    KT_CHECK(us_since(t0) < 100000);
    /* nothing was left queued by the failed send or call */
    m = msg(0, 0, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_recv(ep, &m), UK_E_TIMEOUT);
    kt_destroy(ep);
}

KT_TEST(ipc_finite_timeouts_expire)
{
    uk_word_t ep = kt_endpoint();
    uk_word_t tmo = uk_timeout_us(20000);
    KT_EQ(uk_timeout_decode(tmo), 20000);
    /* receive, send and call, 20 ms each, nobody there */
    for (uk_word_t nr = UK_SYS_CALL; nr <= UK_SYS_RECV; nr++) {
        if (nr == UK_SYS_REPLY_RECV)
            continue;
        struct uk_msg m = msg(1, 1, tmo, 0, 0, 0, 0);
        uk_word_t t0 = uk_rdtsc();
        KT_EQ(uk_ipc(nr, ep, &m), UK_E_TIMEOUT);
        uk_word_t dt = us_since(t0);
        if (dt < 19900 || dt > 2 * SECOND) {
            printf("    syscall %lu: timed out after %lu us\n", nr, dt);
            KT_CHECK(dt >= 19900 && dt <= 2 * SECOND);
        }
    }
    /* the timed-out sender left the queue */
    struct uk_msg m = msg(0, 0, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_recv(ep, &m), UK_E_TIMEOUT);
    kt_destroy(ep);
}

static void late_partner(uk_word_t ep)
{
    uk_wait(gslot[0], uk_timeout_us(10000), 0);   /* arrive 10 ms late */
    struct uk_msg m = msg(0x42, 1, INF, 777, 0, 0, 0);
    v[0] = uk_send(ep, &m);
    uk_wait(gslot[0], uk_timeout_us(10000), 0);
    m = (struct uk_msg){ .info = uk_msginfo(0, 0, INF) };
    v[1] = uk_recv(ep, &m);
    m = msg(0x43, 1, INF, m.w[0] + 1, 0, 0, 0);
    v[2] = uk_reply(&m);
    done[0] = 1;
}

KT_TEST(ipc_infinite_wait_for_late_partner)
{
    reset();
    uk_word_t ep = kt_endpoint();
    gslot[0] = kt_notification();
    struct uk_spawned th;
    KT_EQ(uk_spawn(SELF, late_partner, ep, 200, 0, &th), UK_OK);
    uk_word_t t0 = uk_rdtsc();
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    KT_EQ(uk_recv(ep, &m), UK_OK);
    KT_CHECK(us_since(t0) >= 9900);
    KT_EQ(uk_msg_label(m.info), 0x42);
    KT_EQ(m.w[0], 777);
    t0 = uk_rdtsc();
    m = msg(7, 1, INF, 50, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_OK);
    KT_CHECK(us_since(t0) >= 9900);
    KT_EQ(uk_msg_label(m.info), 0x43);
    KT_EQ(m.w[0], 51);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(v[1], UK_OK);
    KT_EQ(v[2], UK_OK);
    kt_destroy(th.thread);
    kt_destroy(gslot[0]);
    kt_destroy(ep);
}

/* Takes the call, then waits for the root's signal before replying. */
static void slow_server(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    v[0] = uk_recv(ep, &m);
    done[0] = 1;
    uk_word_t bits;
    v[1] = uk_wait(gslot[0], INF, &bits);
    m = msg(1, 1, INF, 0, 0, 0, 0);
    v[2] = uk_reply(&m);
    done[1] = 1;
}

KT_TEST(ipc_call_timeout_when_server_never_replies)
{
    reset();
    uk_word_t ep = kt_endpoint();
    gslot[0] = kt_notification();
    struct uk_spawned th;
    KT_EQ(uk_spawn(SELF, slow_server, ep, 200, 0, &th), UK_OK);
    uk_word_t t0 = uk_rdtsc();
    struct uk_msg m = msg(1, 1, uk_timeout_us(20000), 0, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_E_TIMEOUT);
    uk_word_t dt = us_since(t0);
    KT_CHECK(dt >= 19900);
    KT_CHECK(dt <= 2 * SECOND);
    KT_EQ(done[0], 1);                      /* the server did take the call */
    KT_EQ(v[0], UK_OK);
    KT_EQ(uk_signal(gslot[0]), UK_OK);
    KT_CHECK(kt_wait_flag(&done[1], SECOND));
    KT_EQ(v[1], UK_OK);
    KT_EQ(v[2], UK_E_NO_REPLY);             /* the caller is gone */
    kt_destroy(th.thread);
    kt_destroy(gslot[0]);
    kt_destroy(ep);
}

/* --- notifications ---------------------------------------------------------------- */

KT_TEST(ipc_notif_signal_then_wait)
{
    uk_word_t n = kt_notification();
    uk_word_t bits = 0;
    KT_EQ(uk_signal(n), UK_OK);
    KT_EQ(uk_wait(n, ZERO, &bits), UK_OK);
    KT_EQ(bits, 1);                         /* unbadged: bit 0 */
    KT_EQ(uk_wait(n, ZERO, &bits), UK_E_TIMEOUT);   /* taken */
    KT_EQ(uk_signal(n), UK_OK);
    KT_EQ(uk_signal(n), UK_OK);
    KT_EQ(uk_wait(n, TMO, &bits), UK_OK);
    KT_EQ(bits, 1);
    kt_destroy(n);
}

static void waiter(uk_word_t n)
{
    uk_word_t bits = 0;
    v[0] = uk_wait(n, INF, &bits);
    v[1] = (long)bits;
    done[0] = 1;
}

static void signaller(uk_word_t n)
{
    v[2] = uk_signal(n);
    done[1] = 1;
}

KT_TEST(ipc_notif_wait_then_signal)
{
    reset();
    uk_word_t n = kt_notification();
    uk_word_t b40 = copy_cap(n, UK_R_WRITE, 0x40);
    uk_word_t b3 = copy_cap(n, UK_R_WRITE, 0x3);
    /* the root waits, a thread signals */
    struct uk_spawned s, w;
    KT_EQ(uk_spawn(SELF, signaller, b40, 200, 0, &s), UK_OK);
    uk_word_t bits = 0;
    KT_EQ(uk_wait(n, TMO, &bits), UK_OK);
    KT_EQ(bits, 0x40);
    KT_CHECK(kt_wait_flag(&done[1], SECOND));
    KT_EQ(v[2], UK_OK);
    /* a thread waits, the root signals */
    KT_EQ(uk_spawn(SELF, waiter, n, 200, 0, &w), UK_OK);
    kt_sleep_us(2000);
    KT_EQ(done[0], 0);
    KT_EQ(uk_signal(b3), UK_OK);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(v[1], 0x3);
    KT_EQ(uk_wait(n, ZERO, &bits), UK_E_TIMEOUT);   /* the waiter took them */
    kt_destroy(s.thread);
    kt_destroy(w.thread);
    kt_destroy(b3);
    kt_destroy(b40);
    kt_destroy(n);
}

KT_TEST(ipc_notif_badges_or_together)
{
    uk_word_t n = kt_notification();
    uk_word_t b2 = copy_cap(n, UK_R_WRITE, 0x2);
    uk_word_t b8 = copy_cap(n, UK_R_WRITE, 0x8);
    uk_word_t bb = copy_cap(b2, UK_R_WRITE, 0x100);     /* keeps 0x2 */
    KT_EQ(cap_badge(bb), 0x2);
    uk_word_t bits = 0;
    KT_EQ(uk_signal(b2), UK_OK);
    KT_EQ(uk_signal(b8), UK_OK);
    KT_EQ(uk_wait(n, ZERO, &bits), UK_OK);
    KT_EQ(bits, 0xa);
    KT_EQ(uk_signal(bb), UK_OK);
    KT_EQ(uk_signal(n), UK_OK);
    KT_EQ(uk_wait(n, ZERO, &bits), UK_OK);
    KT_EQ(bits, 0x3);
    kt_destroy(bb);
    kt_destroy(b8);
    kt_destroy(b2);
    kt_destroy(n);
}

KT_TEST(ipc_notif_poll_of_empty_times_out)
{
    uk_word_t n = kt_notification();
    uk_word_t bits = 0;
    uk_word_t t0 = uk_rdtsc();
    KT_EQ(uk_wait(n, ZERO, &bits), UK_E_TIMEOUT);
    KT_CHECK(us_since(t0) < 100000);
    t0 = uk_rdtsc();
    KT_EQ(uk_wait(n, uk_timeout_us(10000), &bits), UK_E_TIMEOUT);
    uk_word_t dt = us_since(t0);
    KT_CHECK(dt >= 9900 && dt <= 2 * SECOND);
    kt_destroy(n);
}

#define STOP_BIT 0x8000ul

static void counting_waiter(uk_word_t n)
{
    uk_word_t acc = 0, bits;
    long wakes = 0, err = UK_OK;
    while (!(acc & STOP_BIT) && err == UK_OK) {
        err = uk_wait(n, INF, &bits);
        if (err == UK_OK) {
            acc |= bits;
            wakes++;
        }
    }
    v[0] = err;
    v[1] = (long)acc;
    v[2] = wakes;
    done[0] = 1;
}

KT_TEST(ipc_notif_signals_never_block)
{
    reset();
    uk_word_t n = kt_notification();
    uk_word_t caps[8];
    for (int i = 0; i < 8; i++)
        caps[i] = copy_cap(n, UK_R_WRITE, 1ul << i);
    uk_word_t stop = copy_cap(n, UK_R_WRITE, STOP_BIT);
    /* with nobody waiting */
    long fails = 0;
    for (int i = 0; i < 1000; i++)
        fails += uk_signal(caps[i % 8]) != UK_OK;
    KT_EQ(fails, 0);
    uk_word_t bits = 0;
    KT_EQ(uk_wait(n, ZERO, &bits), UK_OK);
    KT_EQ(bits, 0xff);
    /* with a lower-priority waiter: the root never stops */
    struct uk_spawned w;
    KT_EQ(uk_spawn(SELF, counting_waiter, n, 200, 0, &w), UK_OK);
    kt_sleep_us(2000);
    uk_word_t t0 = uk_rdtsc();
    for (int i = 0; i < 1000; i++)
        fails += uk_signal(caps[i % 8]) != UK_OK;
    KT_EQ(fails, 0);
    KT_CHECK(us_since(t0) < 2 * SECOND);
    KT_EQ(done[0], 0);                      /* it has not run meanwhile */
    kt_sleep_us(2000);
    KT_EQ(uk_signal(stop), UK_OK);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(v[1], 0xff | STOP_BIT);
    KT_CHECK(v[2] >= 2 && v[2] <= 4);       /* 1000 signals, a few wake-ups */
    kt_destroy(w.thread);
    kt_destroy(stop);
    for (int i = 0; i < 8; i++)
        kt_destroy(caps[i]);
    kt_destroy(n);
}

/* Receives three times on ep and keeps what came. */
static void bound_receiver(uk_word_t ep)
{
    for (int i = 0; i < 3; i++) {
        struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
        keep(i * 7, uk_recv(ep, &m), &m);
        done[i] = 1;
    }
}

KT_TEST(ipc_bound_notif_ends_endpoint_receive)
{
    reset();
    uk_word_t ep = kt_endpoint();
    uk_word_t n = kt_notification();
    uk_word_t b4 = copy_cap(n, UK_R_WRITE, 0x4);
    uk_word_t b30 = copy_cap(n, UK_R_WRITE, 0x30);
    struct uk_spawned th;
    KT_EQ(uk_spawn_prepare(SELF, bound_receiver, ep, 200, 0, &th), UK_OK);
    KT_EQ(uk_notif_bind(n, th.thread), UK_OK);
    /* pending before the thread's first receive: delivered by it */
    KT_EQ(uk_signal(b4), UK_OK);
    KT_EQ(uk_spawn_go(&th), UK_OK);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_EQ(v[0], UK_OK);
    KT_EQ(uk_msg_flags(v[1]), UK_MSGF_NOTIFY);
    KT_EQ(v[2], 0x4);
    /* signalled while it waits on the endpoint: the receive ends */
    kt_sleep_us(2000);
    KT_EQ(done[1], 0);
    KT_EQ(uk_signal(b30), UK_OK);
    KT_CHECK(kt_wait_flag(&done[1], SECOND));
    KT_EQ(v[7], UK_OK);
    KT_EQ(uk_msg_flags(v[8]), UK_MSGF_NOTIFY);
    KT_EQ(v[9], 0x30);
    /* an ordinary message afterwards carries no flag */
    struct uk_msg m = msg(5, 1, TMO, 9, 0, 0, 0);
    KT_EQ(uk_send(ep, &m), UK_OK);
    KT_CHECK(kt_wait_flag(&done[2], SECOND));
    KT_EQ(v[14], UK_OK);
    KT_EQ(uk_msg_flags(v[15]), 0);
    KT_EQ(uk_msg_label(v[15]), 5);
    KT_EQ(v[16], 0);
    KT_EQ(v[17], 9);
    kt_destroy(th.thread);
    kt_destroy(b30);
    kt_destroy(b4);
    kt_destroy(n);
    kt_destroy(ep);
}

KT_TEST(ipc_bound_notif_pending_bits_at_next_receive)
{
    uk_word_t ep = kt_endpoint();
    uk_word_t n = kt_notification();
    uk_word_t n2 = kt_notification();
    uk_word_t b9 = copy_cap(n, UK_R_WRITE, 0x9);
    KT_EQ(uk_notif_bind(n, UK_SLOT_SELF_THREAD), UK_OK);
    KT_EQ(uk_notif_bind(n2, UK_SLOT_SELF_THREAD), UK_E_BUSY);   /* one per thread */
    KT_EQ(uk_signal(b9), UK_OK);
    KT_EQ(uk_signal(n), UK_OK);
    struct uk_msg m = { .info = uk_msginfo(0, 0, ZERO) };
    KT_EQ(uk_recv(ep, &m), UK_OK);
    KT_EQ(uk_msg_flags(m.info), UK_MSGF_NOTIFY);
    KT_EQ(m.badge, 0x9);
    m = (struct uk_msg){ .info = uk_msginfo(0, 0, ZERO) };
    KT_EQ(uk_recv(ep, &m), UK_E_TIMEOUT);  /* taken */
    KT_EQ(uk_notif_bind(n, 0), UK_OK);      /* unbind */
    KT_EQ(uk_signal(b9), UK_OK);
    m = (struct uk_msg){ .info = uk_msginfo(0, 0, ZERO) };
    KT_EQ(uk_recv(ep, &m), UK_E_TIMEOUT);  /* unbound: not seen on the endpoint */
    uk_word_t bits = 0;
    KT_EQ(uk_wait(n, ZERO, &bits), UK_OK);
    KT_EQ(bits, 0x9);
    kt_destroy(b9);
    kt_destroy(n2);
    kt_destroy(n);
    kt_destroy(ep);
}

/* --- another address space ---------------------------------------------------------- */

KT_TEST(ipc_call_into_another_task)
{
    echo_reset();
    uk_word_t ep = kt_endpoint();
    uk_word_t task = 0;
    KT_EQ(uk_task_new(512 * 1024, 64, 1, &task), UK_OK);
    const uk_word_t child_slot = 9;
    KT_EQ(uk_cap_copy(ep, task, child_slot, UK_R_READ | UK_R_WRITE, 0), UK_OK);
    struct uk_spawned srv;
    KT_EQ(uk_spawn(task, echo_server, child_slot, 200, 0, &srv), UK_OK);
    uk_word_t badged = copy_cap(ep, UK_R_WRITE, 0x99);
    struct uk_stats s0 = kt_stats();
    struct uk_msg m = msg(3, 2, TMO, 10, 0, 0, 0);
    KT_EQ(uk_call(badged, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), 3);
    KT_EQ(m.w[0], 0x99);
    KT_EQ(m.w[1], 11);
    /* a long message crosses too */
    struct uk_ipc_buffer *b = uk_ipc_buf;
    for (uk_word_t i = UK_MSG_REG_WORDS; i < UK_MSG_MAX_WORDS; i++)
        b->msg[i] = 0x3000 + i;
    m = msg(4, UK_MSG_MAX_WORDS, TMO, 20, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_OK);
    KT_EQ(uk_msg_len(m.info), UK_MSG_MAX_WORDS);
    KT_EQ(m.w[1], 21);
    long bad = 0;
    for (uk_word_t i = UK_MSG_REG_WORDS; i < UK_MSG_MAX_WORDS; i++)
        bad += b->msg[i] != 0x3000 + i + 1;
    KT_EQ(bad, 0);
    struct uk_stats s1 = kt_stats();
    KT_CHECK(s1.as_switches - s0.as_switches >= 4);   /* there and back, twice */
    KT_EQ(echo_count, 2);
    kt_destroy(srv.thread);
    kt_destroy(task);
    kt_destroy(badged);
    kt_destroy(ep);
}

/* --- the fast path ------------------------------------------------------------------ */

KT_TEST(ipc_fastpath_serves_plain_calls)
{
    echo_reset();
    uk_word_t ep = kt_endpoint();
    struct uk_spawned srv;
    KT_EQ(uk_spawn(SELF, echo_server, ep, 255, 0, &srv), UK_OK);   /* equal priority */
    kt_wait_flag(&echo_ready, SECOND);
    struct uk_msg m = msg(1, 1, INF, 0, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_OK);          /* after this the server waits in reply_recv */
    struct uk_stats s0 = kt_stats();
    long bad = 0;
    for (uk_word_t i = 0; i < 100; i++) {
        m = msg(2, 2, INF, i, 0, 0, 0);
        bad += uk_call(ep, &m) != UK_OK || m.w[1] != i + 1;
    }
    struct uk_stats s1 = kt_stats();
    KT_EQ(bad, 0);
    uk_word_t fast = s1.ipc_fastpath - s0.ipc_fastpath;
    if (fast < 200)
        printf("    fast path: %lu of 200, slow path %lu\n", fast,
               s1.ipc_slowpath - s0.ipc_slowpath);
    KT_CHECK(fast >= 200);
    /* a finite timeout (or a long message) takes the slow path */
    m = msg(3, 1, TMO, 7, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_OK);
    KT_EQ(m.w[1], 8);
    m = msg(3, 6, INF, 7, 0, 0, 0);
    KT_EQ(uk_call(ep, &m), UK_OK);
    struct uk_stats s2 = kt_stats();
    KT_EQ(s2.ipc_fastpath - s1.ipc_fastpath, 0);
    KT_CHECK(s2.ipc_slowpath - s1.ipc_slowpath >= 4);
    kt_destroy(srv.thread);
    kt_destroy(ep);
}

/* --- objects going away under a waiter ---------------------------------------------- */

static void recv_and_report(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    v[0] = uk_recv(ep, &m);
    done[0] = 1;
}

static void send_and_report(uk_word_t ep)
{
    struct uk_msg m = msg(1, 1, INF, 0, 0, 0, 0);
    v[1] = uk_call(ep, &m);
    done[1] = 1;
}

static void wait_and_report(uk_word_t n)
{
    uk_word_t bits;
    v[2] = uk_wait(n, INF, &bits);
    done[2] = 1;
}

KT_TEST(ipc_destroying_object_wakes_waiters)
{
    reset();
    uk_word_t ep = kt_endpoint();
    uk_word_t ep2 = kt_endpoint();
    uk_word_t ep2copy = copy_cap(ep2, UK_R_WRITE, 0x5);
    uk_word_t n = kt_notification();
    struct uk_spawned r, s, w;
    KT_EQ(uk_spawn(SELF, recv_and_report, ep, 200, 0, &r), UK_OK);
    KT_EQ(uk_spawn(SELF, send_and_report, ep2copy, 200, 0, &s), UK_OK);
    KT_EQ(uk_spawn(SELF, wait_and_report, n, 200, 0, &w), UK_OK);
    kt_sleep_us(3000);
    KT_EQ(done[0] + done[1] + done[2], 0);  /* all three blocked */
    kt_destroy(ep);
    kt_destroy(ep2);
    kt_destroy(n);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));
    KT_CHECK(kt_wait_flag(&done[1], SECOND));
    KT_CHECK(kt_wait_flag(&done[2], SECOND));
    KT_EQ(v[0], UK_E_DESTROYED);            /* a receiver */
    KT_EQ(v[1], UK_E_DESTROYED);            /* a queued caller */
    KT_EQ(v[2], UK_E_DESTROYED);            /* a notification waiter */
    KT_EQ(kt_cap_type(ep2copy), UK_CAP_NULL);  /* every cap to it went too */
    kt_destroy(r.thread);
    kt_destroy(s.thread);
    kt_destroy(w.thread);
    kt_destroy(ep2copy);
}

/* Takes the call, then sleeps on a notification nobody signals. */
static void stuck_server(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, INF) };
    v[0] = uk_recv(ep, &m);
    done[0] = 1;
    uk_word_t bits;
    uk_wait(gslot[0], INF, &bits);
}

KT_TEST(ipc_destroying_server_wakes_caller)
{
    reset();
    uk_word_t ep = kt_endpoint();
    gslot[0] = kt_notification();
    struct uk_spawned srv, cl;
    KT_EQ(uk_spawn(SELF, stuck_server, ep, 150, 0, &srv), UK_OK);
    KT_EQ(uk_spawn(SELF, send_and_report, ep, 200, 0, &cl), UK_OK);
    KT_CHECK(kt_wait_flag(&done[0], SECOND));  /* the server holds the call */
    KT_EQ(v[0], UK_OK);
    kt_sleep_us(2000);
    KT_EQ(done[1], 0);                      /* the caller waits for the reply */
    kt_destroy(srv.thread);
    KT_CHECK(kt_wait_flag(&done[1], SECOND));
    KT_EQ(v[1], UK_E_DESTROYED);
    kt_destroy(cl.thread);
    kt_destroy(gslot[0]);
    kt_destroy(ep);
}

/* --- wrong capabilities ------------------------------------------------------------- */

KT_TEST(ipc_wrong_cap_types_and_rights)
{
    uk_word_t ep = kt_endpoint();
    uk_word_t n = kt_notification();
    uk_word_t ep_wo = copy_cap(ep, UK_R_WRITE, 0);      /* may send, not receive */
    uk_word_t ep_ro = copy_cap(ep, UK_R_READ, 0);       /* may receive, not send */
    uk_word_t n_wo = copy_cap(n, UK_R_WRITE, 0);
    uk_word_t n_ro = copy_cap(n, UK_R_READ, 0);
    uk_word_t empty = uk_slot_alloc();
    struct uk_msg m;
    uk_word_t bits;

    m = msg(0, 0, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_recv(ep_wo, &m), UK_E_RIGHTS);
    m = msg(0, 0, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_reply_recv(ep_wo, &m), UK_E_RIGHTS);
    m = msg(0, 1, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_call(ep_ro, &m), UK_E_RIGHTS);
    m = msg(0, 1, INF, 0, 0, 0, 0);
    KT_EQ(uk_call(ep_ro, &m), UK_E_RIGHTS);  /* the fast path checks too */
    m = msg(0, 1, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_send(ep_ro, &m), UK_E_RIGHTS);

    m = msg(0, 1, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_call(n, &m), UK_E_CAP_TYPE);
    m = msg(0, 1, INF, 0, 0, 0, 0);
    KT_EQ(uk_call(n, &m), UK_E_CAP_TYPE);
    m = msg(0, 1, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_send(n, &m), UK_E_CAP_TYPE);
    KT_EQ(uk_signal(ep), UK_E_CAP_TYPE);
    KT_EQ(uk_signal(UK_SLOT_SELF_THREAD), UK_E_CAP_TYPE);
    m = msg(0, 0, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_recv(UK_SLOT_SELF_TASK, &m), UK_E_CAP_TYPE);

    KT_EQ(uk_signal(n_ro), UK_E_RIGHTS);
    KT_EQ(uk_wait(n_wo, ZERO, &bits), UK_E_RIGHTS);
    KT_EQ(uk_signal(n_wo), UK_OK);
    KT_EQ(uk_wait(n_ro, ZERO, &bits), UK_OK);
    KT_EQ(bits, 1);

    m = msg(0, 1, INF, 0, 0, 0, 0);
    KT_EQ(uk_call(empty, &m), UK_E_CAP);
    m = msg(0, 1, INF, 0, 0, 0, 0);
    KT_EQ(uk_call(UK_SLOT_NULL, &m), UK_E_CAP);
    m = msg(0, 1, INF, 0, 0, 0, 0);
    KT_EQ(uk_call(UK_ROOT_CAP_SLOTS + 5, &m), UK_E_CAP);
    m = msg(0, 0, ZERO, 0, 0, 0, 0);
    KT_EQ(uk_recv(empty, &m), UK_E_CAP);
    KT_EQ(uk_signal(empty), UK_E_CAP);

    m = msg(0, 0, INF, 0, 0, 0, 0);
    KT_EQ(uk_reply(&m), UK_E_NO_REPLY);     /* nobody called us */
    KT_EQ(uk_reply_save(empty), UK_E_NO_REPLY);
    KT_EQ(kt_cap_type(empty), UK_CAP_NULL);

    kt_destroy(n_ro);
    kt_destroy(n_wo);
    kt_destroy(ep_ro);
    kt_destroy(ep_wo);
    kt_destroy(n);
    kt_destroy(ep);
}
