/*
 * The supervisor's own client of a network server (supervise.c, under
 * swifi=net, net2..: docs/liability.md "Bit flips").  The toy guests use no
 * network, so what a flipped network server does to its clients is
 * observed from two ports of ours, NETPROBE_A and NETPROBE_B: windows of
 * our own pages (the switch's receive rings in them, uk/net.h), mapped into
 * the flipped server (the one driving its NIC) by net.c as for any client,
 * and kept across its restarts.
 *
 * A probe (one per flip): a unicast frame from A to B, which the switch
 * moves between two windows without the NIC, and an ARP request from A for
 * QEMU's user-network gateway (10.0.2.2), which goes out through the NIC's
 * transmit queue and whose answer comes back through its receive queue and
 * the switch to A: both directions of the NIC's DMA and both of the
 * switch's paths.  Nothing leaves QEMU (slirp answers the ARP itself).
 */
#include "root.h"
#include <uk/net.h>

#define PROBE_VA     0x0000007000000000ul   /* our second view of the windows */
#define PROBE_PAGES  (UK_NET_WINDOW_MIN / UK_PAGE_SIZE)
#define ETH_PROBE    0x88b5u                /* IEEE local experimental ethertype */
#define PROBE_LEN    128u
#define CALL_TIMEOUT uk_timeout_us(5000)

static struct {
    int on;
    unsigned char *win[2];                  /* A's, B's (our view) */
    uk_word_t ep[2];                        /* our endpoint caps, badged A, B */
    uk_word_t notif;                        /* the server signals it; nobody waits on it */
    long sent;                              /* the sends' statuses (0: both taken) */
} P;

static void put_mac(unsigned char *p, uk_word_t mac)
{
    for (int i = 0; i < 6; i++)
        p[i] = (unsigned char)(mac >> (8 * i));
}

static uk_word_t get_mac(const unsigned char *p)
{
    uk_word_t m = 0;
    for (int i = 0; i < 6; i++)
        m |= (uk_word_t)p[i] << (8 * i);
    return m;
}

int netprobe_init(int i)
{
    uk_word_t port[2] = { NETPROBE_A, NETPROBE_B };
    int nic = net_nic(i);
    if (nic < 0)
        return 0;
    P.notif = uk_slot_alloc();
    if (uk_notif_create(P.notif))
        return 0;
    for (int k = 0; k < 2; k++) {
        P.ep[k] = uk_slot_alloc();
        P.win[k] = net_add_client(port[k], nic, UK_SLOT_SELF_TASK,
                                  PROBE_VA + (uk_word_t)k * UK_NET_WINDOW_MAX, PROBE_PAGES,
                                  P.ep[k], P.notif, 1);
        if (!P.win[k]) {
            printf("root task: netprobe: port %lu refused\n", port[k]);
            return 0;
        }
    }
    P.on = 1;
    return 1;
}

static long send(int k, unsigned char *frame, unsigned len)
{
    memcpy(P.win[k] + UK_NET_TX_AREA, frame, len);
    struct uk_msg m = { .info = uk_msginfo(UK_NET_OP_SEND, 2, CALL_TIMEOUT),
                        .w = { UK_NET_TX_AREA, len } };
    long err = uk_call(P.ep[k], &m);
    return err ? err : (long)m.w[0];
}

/* Every frame waiting in port k's ring taken out (the ring emptied); the
 * one matching `want` (1: found intact, -1: found damaged, 0: not found). */
static int drain(int k, int (*want)(const unsigned char *, unsigned, uk_word_t), uk_word_t seq)
{
    struct uk_net_ring *r = (struct uk_net_ring *)P.win[k];
    int found = 0;
    uk_word_t head = r->head, tail = r->tail;
    if (head - tail > UK_NET_RX_SLOTS)       /* a flipped server's head: skip it all */
        tail = head - UK_NET_RX_SLOTS;
    for (; tail != head; tail++) {
        unsigned slot = (unsigned)(tail % UK_NET_RX_SLOTS), len = r->len[slot];
        const unsigned char *f = P.win[k] + UK_NET_RX_DATA + slot * UK_NET_SLOT_BYTES;
        int w = len <= UK_NET_SLOT_BYTES ? want(f, len, seq) : 0;
        if (w > 0 || (w < 0 && !found))
            found = w;
    }
    r->tail = head;
    return found;
}

static void fill(unsigned char *f, uk_word_t seq)
{
    put_mac(f, UK_NET_CLIENT_MAC(NETPROBE_B));
    put_mac(f + 6, UK_NET_CLIENT_MAC(NETPROBE_A));
    f[12] = ETH_PROBE >> 8;
    f[13] = ETH_PROBE & 0xff;
    memcpy(f + 14, &seq, 8);
    for (unsigned i = 22; i < PROBE_LEN; i++)
        f[i] = (unsigned char)(i ^ seq);
}

/* B's: the probe frame of this number, every byte as sent? */
static int is_probe(const unsigned char *f, unsigned len, uk_word_t seq)
{
    unsigned char want[PROBE_LEN];
    uk_word_t got;
    if (len < 22 || f[12] != ETH_PROBE >> 8 || f[13] != (ETH_PROBE & 0xff))
        return 0;
    memcpy(&got, f + 14, 8);
    if (got != seq)
        return 0;
    fill(want, seq);
    return len == PROBE_LEN && !memcmp(f, want, PROBE_LEN) ? 1 : -1;
}

static const unsigned char gw_ip[4] = { 10, 0, 2, 2 }, our_ip[4] = { 10, 0, 2, 99 };

/* A's: QEMU's answer to our ARP request? */
static int is_arp_answer(const unsigned char *f, unsigned len, uk_word_t seq)
{
    (void)seq;
    if (len < 42 || f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 2)
        return 0;                            /* not an ARP reply */
    int ok = get_mac(f) == UK_NET_CLIENT_MAC(NETPROBE_A) && !memcmp(f + 28, gw_ip, 4) &&
             get_mac(f + 32) == UK_NET_CLIENT_MAC(NETPROBE_A) && !memcmp(f + 38, our_ip, 4);
    return ok ? 1 : -1;
}

void netprobe_send(uk_word_t seq)
{
    unsigned char f[PROBE_LEN];
    if (!P.on)
        return;
    drain(0, is_arp_answer, seq);            /* whatever came meanwhile: not this probe's */
    drain(1, is_probe, seq);
    fill(f, seq);
    P.sent = send(0, f, PROBE_LEN);
    unsigned char arp[42] = { 0 };
    put_mac(arp, UK_NET_MAC_MASK);           /* broadcast */
    put_mac(arp + 6, UK_NET_CLIENT_MAC(NETPROBE_A));
    arp[12] = 0x08, arp[13] = 0x06;          /* ARP: Ethernet, IPv4, request */
    arp[15] = 1, arp[16] = 0x08, arp[18] = 6, arp[19] = 4, arp[21] = 1;
    put_mac(arp + 22, UK_NET_CLIENT_MAC(NETPROBE_A));
    memcpy(arp + 28, our_ip, 4);
    memcpy(arp + 38, gw_ip, 4);
    long st = send(0, arp, sizeof arp);
    if (!P.sent)
        P.sent = st;
}

const char *netprobe_check(uk_word_t seq)
{
    if (!P.on)
        return 0;
    int b = drain(1, is_probe, seq), a = drain(0, is_arp_answer, seq);
    if (P.sent)
        return "send";
    if (b < 0 || a < 0)
        return "garbled";
    if (!b)
        return "lost";
    if (!a)
        return "no-arp";
    return 0;
}
