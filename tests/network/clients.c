/*
 * The network suite's clients (network.h): each runs in a client task of
 * its own (sharing the test image), talks to the network server through
 * its endpoint cap, window and notification, and leaves what it found in
 * res[n].  The frames are built by hand: Ethernet, ARP, IPv4 and ICMP for
 * slirp's gateway, and test frames (EtherType ETH_TEST: a sequence number
 * and a pattern of it) between clients.
 */
#include <user/rt.h>
#include <uk/blk.h>
#include "network.h"

#define ETH_TEST      0x88b5u             /* "local experimental" EtherType */
#define GUEST_IP      0x0f02000aul        /* 10.0.2.15, as bytes in memory order */
#define GATEWAY_IP    0x0202000aul        /* 10.0.2.2: slirp */

struct result res[UK_NET_MAX_CLIENTS + 1];
volatile uk_word_t peer_mac[UK_NET_MAX_CLIENTS + 1];
uk_word_t tsc_per_us;

static long call(uk_word_t op, unsigned len, uk_word_t w0, uk_word_t w1, uk_word_t out[4])
{
    struct uk_msg m = { .info = uk_msginfo(op, len, uk_timeout_us(20000000)), .w = { w0, w1 } };
    return uk_call_status(CLIENT_EP, &m, out);
}

static long send_at(uk_word_t off, uk_word_t len) { return call(UK_NET_OP_SEND, 2, off, len, 0); }

static long send_frame(const unsigned char *f, unsigned len)
{
    memcpy((void *)(WIN + UK_NET_TX_AREA), f, len);
    return send_at(UK_NET_TX_AREA, len);
}


static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }
static unsigned get16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

/* The next frame of our ring into buf (its length), or -1 after `us`. */
static long recv_frame(unsigned char *buf, uk_word_t us)
{
    struct uk_net_ring *r = (struct uk_net_ring *)WIN;
    uk_word_t end = uk_rdtsc() + us * tsc_per_us;
    while (r->head == r->tail) {
        uk_word_t now = uk_rdtsc();
        if (now >= end)
            return -1;
        uk_wait(CLIENT_NOTIF, uk_timeout_us((end - now) / tsc_per_us + 1), 0);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    unsigned slot = (unsigned)(r->tail % UK_NET_RX_SLOTS), len = r->len[slot];
    if (len > UK_NET_SLOT_BYTES)
        return -2;
    memcpy(buf, (const void *)(WIN + UK_NET_RX_DATA + slot * UK_NET_SLOT_BYTES), len);
    r->tail++;
    return len;
}

static void expect(struct result *r, long step, long got, long want)
{
    r->steps++;
    if (got != want) {
        if (!r->errors) {
            r->first_bad = step;
            r->first_value = got;
        }
        r->errors++;
    }
}

static uk_word_t my_mac(struct result *r)
{
    uk_word_t out[4] = { 0 };
    expect(r, 1, call(UK_NET_OP_INFO, 0, 0, 0, out), UK_NET_OK);
    expect(r, 2, (long)out[2], (long)(WINDOW_PAGES * UK_PAGE_SIZE));
    expect(r, 3, (long)(out[3] & UK_NET_F_LINK_UP), UK_NET_F_LINK_UP);
    r->mac = out[1];
    return out[1];
}

static unsigned ip_sum(const unsigned char *p, unsigned n)
{
    unsigned long s = 0;
    for (unsigned i = 0; i + 1 < n; i += 2)
        s += get16(p + i);
    if (n & 1)
        s += (unsigned)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (unsigned)~s & 0xffff;
}

/* An ICMP echo request from us to the gateway: id 0x554b, sequence seq,
 * 56 bytes of pattern; its length. */
static unsigned make_echo(unsigned char *f, uk_word_t gw, uk_word_t mac, unsigned seq)
{
    unsigned len = 14 + 20 + 8 + 56;
    memset(f, 0, len);
    uk_net_put_mac(f, gw);
    uk_net_put_mac(f + 6, mac);
    put16(f + 12, 0x0800);
    unsigned char *ip = f + 14, *icmp = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, 20 + 8 + 56);
    put16(ip + 4, seq);
    ip[8] = 64;
    ip[9] = 1;
    memcpy(ip + 12, &(unsigned){ GUEST_IP }, 4);
    memcpy(ip + 16, &(unsigned){ GATEWAY_IP }, 4);
    put16(ip + 10, ip_sum(ip, 20));
    icmp[0] = 8;
    put16(icmp + 4, 0x554b);
    put16(icmp + 6, seq);
    for (unsigned i = 0; i < 56; i++)
        icmp[8 + i] = (unsigned char)(i * 7 + seq);
    put16(icmp + 2, ip_sum(icmp, 8 + 56));
    return len;
}

/* Client: ARP for slirp's gateway, then `count` ICMP echoes to it (arg:
 * our number, count << 8; 0: one), each answered with its own sequence
 * number and payload (value: echoes answered). */
void client_gateway(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, count = arg >> 8 ? arg >> 8 : 1;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char f[UK_NET_FRAME_MAX], in[UK_NET_SLOT_BYTES];
    uk_word_t gw = 0;
    for (int tries = 0; tries < 5 && !gw; tries++) {
        memset(f, 0, 60);
        uk_net_put_mac(f, UK_NET_MAC_MASK);
        uk_net_put_mac(f + 6, mac);
        put16(f + 12, 0x0806);
        put16(f + 14, 1);                 /* Ethernet */
        put16(f + 16, 0x0800);            /* IPv4 */
        f[18] = 6;
        f[19] = 4;
        put16(f + 20, 1);                 /* request */
        uk_net_put_mac(f + 22, mac);
        memcpy(f + 28, &(unsigned){ GUEST_IP }, 4);
        memcpy(f + 38, &(unsigned){ GATEWAY_IP }, 4);
        expect(r, 10, send_frame(f, 60), UK_NET_OK);
        long n;
        while ((n = recv_frame(in, 2000000)) >= 0)
            if (n >= 42 && get16(in + 12) == 0x0806 && get16(in + 20) == 2 &&
                !memcmp(in + 28, &(unsigned){ GATEWAY_IP }, 4) && uk_net_get_mac(in) == mac) {
                gw = uk_net_get_mac(in + 22);
                break;
            }
    }
    r->gw_mac = gw;
    expect(r, 11, gw != 0, 1);
    for (unsigned seq = 1; gw && seq <= count; seq++) {
        unsigned len = make_echo(f, gw, mac, seq);
        int replied = 0;
        for (int tries = 0; tries < 3 && !replied; tries++) {
            expect(r, 20, send_frame(f, len), UK_NET_OK);
            long n;
            while (!replied && (n = recv_frame(in, 3000000)) >= 0) {
                const unsigned char *rip = in + 14, *ricmp = rip + 20;
                if (n >= (long)len && get16(in + 12) == 0x0800 && rip[9] == 1 &&
                    ricmp[0] == 0 && get16(ricmp + 4) == 0x554b && get16(ricmp + 6) == seq &&
                    !memcmp(rip + 12, &(unsigned){ GATEWAY_IP }, 4) &&
                    !memcmp(ricmp + 8, f + 14 + 20 + 8, 56) && uk_net_get_mac(in) == mac &&
                    uk_net_get_mac(in + 6) == gw)
                    replied = 1;
            }
        }
        expect(r, 21, replied, 1);
        r->value += (uk_word_t)replied;
    }
    r->done = 1;
}

/* Test frames between clients: EtherType ETH_TEST, then seq (4 bytes), then
 * a pattern of seq; lengths vary from 60 to the largest. */

static void make_test_frame(unsigned char *f, uk_word_t to, uk_word_t from, unsigned seq)
{
    unsigned len = test_len(seq);
    uk_net_put_mac(f, to);
    uk_net_put_mac(f + 6, from);
    put16(f + 12, ETH_TEST);
    memcpy(f + 14, &seq, 4);
    for (unsigned i = 18; i < len; i++)
        f[i] = (unsigned char)(seq * 31 + i);
}

/* Client: EXCHANGES test frames to the peer (arg: peer's number in bits
 * 8.., ours below), each echoed back and checked, then an END frame. */
void client_pinger(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char f[UK_NET_FRAME_MAX], in[UK_NET_SLOT_BYTES];
    for (unsigned seq = 0; seq < EXCHANGES; seq++) {
        make_test_frame(f, peer_mac[peer], mac, seq);
        expect(r, 100 + seq, send_frame(f, test_len(seq)), UK_NET_OK);
        long n = recv_frame(in, 5000000);
        /* the echo: the same bytes but the addresses swapped */
        make_test_frame(f, mac, peer_mac[peer], seq);
        expect(r, 1000 + seq, n, test_len(seq));
        expect(r, 2000 + seq, n > 0 && !memcmp(in, f, (unsigned long)n), 1);
    }
    make_test_frame(f, peer_mac[peer], mac, ~0u);
    expect(r, 3000, send_frame(f, 60), UK_NET_OK);
    r->done = 1;
}

/* Client: echoes every test frame back to its sender until END. */
void client_echoer(uk_word_t c)
{
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char in[UK_NET_SLOT_BYTES];
    for (;;) {
        long n = recv_frame(in, 10000000);
        if (n < 0) {
            expect(r, 10, n, 0);          /* no END came */
            break;
        }
        unsigned seq;
        memcpy(&seq, in + 14, 4);
        if (n < 18 || get16(in + 12) != ETH_TEST) {
            expect(r, 11, 0, 1);          /* nothing else may reach us */
            continue;
        }
        if (seq == ~0u)
            break;
        uk_word_t from = uk_net_get_mac(in + 6);
        uk_net_put_mac(in, from);
        uk_net_put_mac(in + 6, mac);
        expect(r, 12, send_frame(in, (unsigned)n), UK_NET_OK);
        r->value++;                       /* frames echoed */
    }
    r->done = 1;
}

/* Client: malformed frames and requests, each refused with its status. */
void client_bad(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, victim = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r), win = WINDOW_PAGES * UK_PAGE_SIZE, out[4];
    unsigned char f[UK_NET_FRAME_MAX + 16];
    for (unsigned round = 0; round < BAD_ROUNDS; round++) {
        /* a frame claiming to come from another client */
        make_test_frame(f, mac, peer_mac[victim], 7);
        uk_net_put_mac(f, peer_mac[victim]);
        expect(r, 10, send_frame(f, 100), UK_NET_EACCES);
        /* a broadcast with a multicast source */
        uk_net_put_mac(f, UK_NET_MAC_MASK);
        uk_net_put_mac(f + 6, mac | 1);
        expect(r, 11, send_frame(f, 60), UK_NET_EACCES);
        expect(r, 12, send_at(UK_NET_TX_AREA, 0), UK_NET_EINVAL);                  /* empty */
        expect(r, 13, send_at(UK_NET_TX_AREA, UK_NET_ETH_HDR - 1), UK_NET_EINVAL); /* runt */
        expect(r, 14, send_at(UK_NET_TX_AREA, UK_NET_FRAME_MAX + 1), UK_NET_EMSGSIZE);
        expect(r, 15, send_at(0, 1ul << 40), UK_NET_EMSGSIZE);
        expect(r, 16, send_at(win, 60), UK_NET_EFAULT);          /* outside the window */
        expect(r, 17, send_at(win - 30, 60), UK_NET_EFAULT);     /* straddles its end */
        expect(r, 18, send_at(~0ul - 10, 60), UK_NET_EFAULT);    /* offset + length wraps */
        expect(r, 19, call(99, 2, 0, 60, 0), UK_NET_EINVAL);     /* no such operation */
        expect(r, 20, call(UK_NET_OP_SEND, 1, UK_NET_TX_AREA, 0, 0), UK_NET_EINVAL); /* words */
        expect(r, 21, call(UK_NET_OP_STATS, 1, UK_NET_C_COUNT, 0, 0), UK_NET_EINVAL);
        expect(r, 22, call(UK_NET_CTL_LINK, 2, victim, 0, 0), UK_NET_EPERM);        /* root's */
        expect(r, 23, call(UK_NET_CTL_REMOVE_CLIENT, 1, victim, 0, 0), UK_NET_EPERM);
        uk_yield();
    }
    /* its own counters, as it sees them */
    expect(r, 30, call(UK_NET_OP_STATS, 1, UK_NET_C_DROP_SPOOF, 0, out), UK_NET_OK);
    expect(r, 31, (long)out[1], 2 * BAD_ROUNDS);            /* spoof */
    expect(r, 32, (long)out[2], 2 * BAD_ROUNDS);            /* short */
    expect(r, 33, (long)out[3], 2 * BAD_ROUNDS);            /* long */
    r->done = 1;
}

/* A SEND that tolerates the server going away and coming back: retried
 * while the IPC fails (no endpoint, or a destroyed one), for up to 30 s. */
static long send_retrying(const unsigned char *f, unsigned len, long *failures)
{
    for (int i = 0; i < 30000; i++) {
        long st = send_frame(f, len);
        if (!uk_is_ipc_failure(st))
            return st;
        (*failures)++;
        uk_wait(CLIENT_NOTIF, uk_timeout_us(1000), 0);
    }
    return UK_NET_EIO;
}

/* Client: EXCHANGES test frames to the peer through a server that may be
 * restarted meanwhile: a frame whose echo does not come within 300 ms is
 * sent again (frames in flight in the old server are lost, as on a wire),
 * echoes of earlier frames are skipped; value: frames done so far;
 * first_value: IPC failures seen. */
void client_pinger_retrying(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = UK_NET_CLIENT_MAC(c);
    unsigned char f[UK_NET_FRAME_MAX], want[UK_NET_FRAME_MAX], in[UK_NET_SLOT_BYTES];
    long failures = 0;
    for (unsigned seq = 0; seq < EXCHANGES; seq++) {
        make_test_frame(want, mac, peer_mac[peer], seq);
        int got = 0;
        for (int tries = 0; tries < 50 && !got; tries++) {
            make_test_frame(f, peer_mac[peer], mac, seq);
            if (send_retrying(f, test_len(seq), &failures) != UK_NET_OK)
                break;
            long n;
            while (!got && (n = recv_frame(in, 300000)) >= 0) {
                unsigned s;
                memcpy(&s, in + 14, 4);
                if (s == seq)
                    got = n == test_len(seq) && !memcmp(in, want, (unsigned long)n);
            }
        }
        expect(r, 100 + seq, got, 1);
        r->value = seq + 1;
    }
    make_test_frame(f, peer_mac[peer], mac, ~0u);
    expect(r, 3000, send_retrying(f, 60, &failures), UK_NET_OK);
    r->first_value = failures;
    r->done = 1;
}

/* Client: echoes test frames back until END, through restarts (value:
 * frames echoed). */
void client_echoer_retrying(uk_word_t c)
{
    struct result *r = &res[c];
    uk_word_t mac = UK_NET_CLIENT_MAC(c);
    unsigned char in[UK_NET_SLOT_BYTES];
    long failures = 0;
    for (;;) {
        long n = recv_frame(in, 20000000);
        if (n < 0) {
            expect(r, 10, n, 0);          /* no END came */
            break;
        }
        unsigned seq;
        memcpy(&seq, in + 14, 4);
        if (n < 18 || get16(in + 12) != ETH_TEST) {
            expect(r, 11, 0, 1);
            continue;
        }
        if (seq == ~0u)
            break;
        uk_word_t from = uk_net_get_mac(in + 6);
        uk_net_put_mac(in, from);
        uk_net_put_mac(in + 6, mac);
        expect(r, 12, send_retrying(in, (unsigned)n, &failures), UK_NET_OK);
        r->value++;
    }
    r->done = 1;
}

/* Client: n frames to the peer, as fast as it goes (arg as client_pinger);
 * value: how many the switch took. */
void client_burst(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char f[UK_NET_FRAME_MAX];
    for (unsigned seq = 0; seq < BURST; seq++) {
        make_test_frame(f, peer_mac[peer], mac, seq);
        r->value += send_frame(f, test_len(seq)) == UK_NET_OK;
    }
    r->done = 1;
}

/* Client: takes what is in its ring now, checks it is seq 0.. in order;
 * value: how many. */
void client_drain(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r);
    unsigned char f[UK_NET_FRAME_MAX], in[UK_NET_SLOT_BYTES];
    long n;
    while ((n = recv_frame(in, 300000)) >= 0) {
        make_test_frame(f, mac, peer_mac[peer], (unsigned)r->value);
        expect(r, 10 + (long)r->value, n == test_len((unsigned)r->value) &&
               !memcmp(in, f, (unsigned long)n), 1);
        r->value++;
    }
    r->done = 1;
}

/* Client: one frame to the peer: its status in value. */
void client_one(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    unsigned char f[UK_NET_FRAME_MAX];
    make_test_frame(f, peer_mac[peer], UK_NET_CLIENT_MAC(c), 5);
    r->value = (uk_word_t)send_frame(f, test_len(5));
    r->done = 1;
}

/* Client: a block-server client on the disk that shares the NIC's line:
 * 40 rounds of 32 sectors written, read back elsewhere in the window and
 * compared (value: rounds done). */
void client_disk(uk_word_t c)
{
    struct result *r = &res[c];
    unsigned char *w = (unsigned char *)BLK_WIN;
    for (unsigned round = 0; round < 40; round++) {
        for (unsigned i = 0; i < 32 * UK_BLK_SECTOR; i++)
            w[i] = (unsigned char)(round * 13 + i / 7);
        struct uk_msg m = { .info = uk_msginfo(UK_BLK_OP_WRITE, 3, uk_timeout_us(20000000)),
                            .w = { round % 64 * 32, 32, 0 } };
        expect(r, 10, uk_call_status(CLIENT_BLK, &m, 0), UK_BLK_OK);
        memset(w + 32 * UK_BLK_SECTOR, 0, 32 * UK_BLK_SECTOR);
        m = (struct uk_msg){ .info = uk_msginfo(UK_BLK_OP_READ, 3, uk_timeout_us(20000000)),
                             .w = { round % 64 * 32, 32, 32 * UK_BLK_SECTOR } };
        expect(r, 11, uk_call_status(CLIENT_BLK, &m, 0), UK_BLK_OK);
        expect(r, 12, !memcmp(w, w + 32 * UK_BLK_SECTOR, 32 * UK_BLK_SECTOR), 1);
        r->value = round + 1;
    }
    r->done = 1;
}

/* Client: FUZZ_SENDS SENDs with random offsets (edges of the window and
 * beyond, wrapping sums), lengths (0, runts, around the MTU, huge) and
 * contents whose source is ours or not, all to the peer (arg as
 * client_pinger); every status must be one the protocol names; value: the
 * SENDs the switch took. */
void client_fuzz(uk_word_t arg)
{
    uk_word_t c = arg & 0xff, peer = arg >> 8;
    struct result *r = &res[c];
    uk_word_t mac = my_mac(r), win = WINDOW_PAGES * UK_PAGE_SIZE, x = 0x9e3779b97f4a7c15ul * c;
    static const uk_word_t offs[] = { 0, UK_NET_TX_AREA, 1, 4095, 4096, 70000 };
    static const uk_word_t lens[] = { 0, 1, 13, 14, 15, 60, 1500, 1513, 1514, 1515, 4096,
                                      1ul << 32 };
    unsigned char *w = (unsigned char *)WIN;
    for (unsigned i = 0; i < FUZZ_SENDS; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uk_word_t off, len;
        switch (x % 4) {
        case 0:  off = offs[(x >> 8) % 6]; break;
        case 1:  off = win - (x >> 8) % 2000; break;
        case 2:  off = (x >> 8) % win; break;
        default: off = ~0ul - (x >> 8) % 3000; break;
        }
        len = (x >> 20) % 2 ? lens[(x >> 24) % 12] : (x >> 24) % 1600;
        if (off < win) {                   /* a frame there: to the peer, from us or not */
            uk_word_t room = win - off < 14 ? win - off : 14;
            unsigned char hdr[14];
            uk_net_put_mac(hdr, peer_mac[peer]);
            uk_net_put_mac(hdr + 6, (x >> 40) % 4 ? mac : (x >> 8) & UK_NET_MAC_MASK);
            put16(hdr + 12, ETH_TEST);
            memcpy(w + off, hdr, room);
        }
        long st = send_at(off, len);
        int known = st == UK_NET_OK || st == UK_NET_EINVAL || st == UK_NET_EMSGSIZE ||
                    st == UK_NET_EFAULT || st == UK_NET_EACCES;
        expect(r, 10 + i, known, 1);
        r->value += st == UK_NET_OK;
    }
    expect(r, 1, call(UK_NET_OP_INFO, 0, 0, 0, 0), UK_NET_OK);   /* still served */
    r->done = 1;
}
