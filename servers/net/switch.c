/*
 * The network server's switch (net.h): ports, addresses, forwarding, and
 * the clients' receive rings.  Client ports' addresses are the MACs the
 * root assigned (static entries); addresses behind the uplink are learnt
 * (LEARN_MAX, the least recently seen replaced).  Nothing here waits: a
 * frame a port cannot take now is dropped and counted.
 */
#include <user/rt.h>
#include "net.h"

#define LEARN_MAX 64u
_Static_assert(UK_NET_FRAME_MAX <= UK_NET_SLOT_BYTES, "a frame does not fit a ring slot");

struct port ports[UK_NET_PORTS];
static struct { uk_word_t mac, seen; } learnt[LEARN_MAX];   /* behind the uplink */
static uk_word_t clock;

static uk_word_t mac_at(const unsigned char *p)
{
    uk_word_t m = 0;
    for (int i = 5; i >= 0; i--)
        m = m << 8 | p[i];
    return m;
}

int is_group(uk_word_t mac) { return mac & 1; }   /* broadcast or multicast */

int client_with(uk_word_t mac)
{
    for (unsigned p = 1; p < UK_NET_PORTS; p++)
        if (ports[p].live && ports[p].mac == mac)
            return (int)p;
    return -1;
}

static void learn(uk_word_t mac)
{
    unsigned oldest = 0;
    clock++;
    for (unsigned i = 0; i < LEARN_MAX; i++) {
        if (learnt[i].seen && learnt[i].mac == mac) {
            learnt[i].seen = clock;
            return;
        }
        if (learnt[i].seen < learnt[oldest].seen)
            oldest = i;
    }
    learnt[oldest].mac = mac;
    learnt[oldest].seen = clock;
}

/* The port behind a unicast address, -1 if unknown. */
static int lookup(uk_word_t mac)
{
    int p = client_with(mac);
    if (p >= 0)
        return p;
    for (unsigned i = 0; i < LEARN_MAX; i++)
        if (learnt[i].seen && learnt[i].mac == mac)
            return UK_NET_UPLINK;
    return -1;
}

/* Into client p's receive ring, in its window. */
static void out_client(unsigned p, const unsigned char *f, unsigned len)
{
    struct port *o = &ports[p];
    struct uk_net_ring *r = (struct uk_net_ring *)UK_NET_WINDOW(p);
    uk_word_t tail = r->tail;      /* the client's word: any value must be harmless */
    if (o->head - tail >= UK_NET_RX_SLOTS) {
        o->c[UK_NET_C_DROP_FULL]++;
        return;
    }
    unsigned slot = (unsigned)(o->head % UK_NET_RX_SLOTS);
    memcpy((unsigned char *)r + UK_NET_RX_DATA + slot * UK_NET_SLOT_BYTES, f, len);
    r->len[slot] = len;
    __atomic_thread_fence(__ATOMIC_RELEASE);   /* the frame before the head */
    r->head = ++o->head;
    o->c[UK_NET_C_OUT_FRAMES]++;
    o->c[UK_NET_C_OUT_BYTES] += len;
    o->wake = 1;
}

static void out(unsigned p, const unsigned char *f, unsigned len)
{
    if (!ports[p].up) {
        ports[p].c[UK_NET_C_DROP_DOWN]++;
        return;
    }
    if (p == UK_NET_UPLINK)
        nic_transmit(f, len);
    else
        out_client(p, f, len);
}

/* The checks every frame gets on entering from port src (a status). */
long check_in(unsigned src, uk_word_t len)
{
    struct port *s = &ports[src];
    if (!s->up) {
        s->c[UK_NET_C_DROP_DOWN]++;
        return UK_NET_ENETDOWN;
    }
    if (len < UK_NET_ETH_HDR) {
        s->c[UK_NET_C_DROP_SHORT]++;
        return UK_NET_EINVAL;
    }
    if (len > UK_NET_FRAME_MAX) {
        s->c[UK_NET_C_DROP_LONG]++;
        return UK_NET_EMSGSIZE;
    }
    return UK_NET_OK;
}

/* A checked-length frame from port src through the switch (a status). */
long switch_frame(unsigned src, const unsigned char *f, unsigned len)
{
    struct port *s = &ports[src];
    uk_word_t dst = mac_at(f), from = mac_at(f + 6);
    if (src != UK_NET_UPLINK ? from != s->mac : (is_group(from) || client_with(from) >= 0)) {
        s->c[UK_NET_C_DROP_SPOOF]++;
        return UK_NET_EACCES;
    }
    s->c[UK_NET_C_IN_FRAMES]++;
    s->c[UK_NET_C_IN_BYTES] += len;
    if (src == UK_NET_UPLINK)
        learn(from);
    int to = is_group(dst) ? -1 : lookup(dst);
    if (to >= 0) {
        if ((unsigned)to != src)
            out((unsigned)to, f, len);
        return UK_NET_OK;
    }
    for (unsigned p = 0; p < UK_NET_PORTS; p++)
        if (p != src && ports[p].live)
            out(p, f, len);
    return UK_NET_OK;
}

void wake_clients(void)
{
    for (unsigned p = 1; p < UK_NET_PORTS; p++)
        if (ports[p].wake) {
            ports[p].wake = 0;
            uk_signal(UK_NET_SLOT_CLIENT0 + p);
        }
}
