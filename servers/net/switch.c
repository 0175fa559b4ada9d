/*
 * The network server's switch (net.h): ports, addresses, forwarding, and
 * the clients' receive rings.  Client ports' addresses are the MACs the
 * root assigned (static entries); addresses behind the uplink are learnt
 * (LEARN_MAX, the least recently seen replaced).  Nothing here waits: a
 * frame a port cannot take now is dropped and counted.
 *
 * Peers (other network servers, one per NIC: docs/network.md "Several
 * network servers"): port UK_NET_PEER_PORT(j) writes into a ring peer j
 * reads (the layout of a client's receive ring) and reads the ring j
 * writes.  Peer j's clients' MACs are static entries (set_remote, the
 * root's); a peer port carries frames between clients only: a frame from
 * the uplink or a peer goes to our clients alone.
 */
#include <user/rt.h>
#include "net.h"

#define LEARN_MAX 64u
_Static_assert(UK_NET_FRAME_MAX <= UK_NET_SLOT_BYTES, "a frame does not fit a ring slot");

struct port ports[UK_NET_ALL_PORTS];
static struct { uk_word_t mac, seen; } learnt[LEARN_MAX];   /* behind the uplink */
static uk_word_t clock;

int is_group(uk_word_t mac) { return mac & 1; }   /* broadcast or multicast */

static int is_client(unsigned p) { return p != UK_NET_UPLINK && p < UK_NET_PORTS; }

/* Peers' clients (UK_NET_CTL_REMOTE): static entries, the root's. */
static struct { uk_word_t mac; unsigned port; } remote[UK_NET_MAX_CLIENTS];

/* The peer port whose client has this MAC, -1 if none. */
static int remote_with(uk_word_t mac)
{
    for (unsigned i = 0; i < UK_NET_MAX_CLIENTS; i++)
        if (remote[i].port && remote[i].mac == mac)
            return (int)remote[i].port;
    return -1;
}

long set_remote(unsigned j, uk_word_t mac, int add)
{
    unsigned port = UK_NET_PEER_PORT(j), free = UK_NET_MAX_CLIENTS;
    if (j >= UK_NET_MAX_SERVERS || mac == 0 || mac & ~UK_NET_MAC_MASK || is_group(mac))
        return UK_NET_EINVAL;
    for (unsigned i = 0; i < UK_NET_MAX_CLIENTS; i++) {
        if (remote[i].port && remote[i].mac == mac) {
            remote[i].port = add ? port : 0;   /* moved to another peer, or gone */
            return UK_NET_OK;
        }
        if (!remote[i].port && free == UK_NET_MAX_CLIENTS)
            free = i;
    }
    if (!add)
        return UK_NET_EINVAL;
    if (free == UK_NET_MAX_CLIENTS || client_with(mac) >= 0)
        return UK_NET_EINVAL;                  /* full (a client number is one guest's), ours */
    remote[free].mac = mac;
    remote[free].port = port;
    return UK_NET_OK;
}

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
    if (p >= 0 || (p = remote_with(mac)) >= 0)
        return p;
    for (unsigned i = 0; i < LEARN_MAX; i++)
        if (learnt[i].seen && learnt[i].mac == mac)
            return UK_NET_UPLINK;
    return -1;
}

/* Into client p's receive ring, in its window, or peer port p's ring. */
static void out_client(unsigned p, const unsigned char *f, unsigned len)
{
    struct port *o = &ports[p];
    struct uk_net_ring *r = (struct uk_net_ring *)(is_client(p) ? UK_NET_WINDOW(p)
                                                   : UK_NET_PEER_OUT(p - UK_NET_PORTS));
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

/* May a frame from port src go out on port dst?  A client's anywhere; the
 * uplink's and a peer's only to clients: a peer link carries frames
 * between clients only, so each server's uplink (its own QEMU network)
 * sees its own clients' frames only, and no frame goes round between peers. */
static int may_forward(unsigned src, unsigned dst)
{
    return dst != src && (is_client(src) || is_client(dst));
}

/* A checked-length frame from port src through the switch (a status). */
long switch_frame(unsigned src, const unsigned char *f, unsigned len)
{
    struct port *s = &ports[src];
    uk_word_t dst = uk_net_get_mac(f), from = uk_net_get_mac(f + 6);
    /* a peer's frame comes from one of its clients (static entries); the
     * uplink's from none of ours or our peers' */
    if (is_client(src) ? from != s->mac
        : src == UK_NET_UPLINK ? (is_group(from) || client_with(from) >= 0 ||
                                  remote_with(from) >= 0)
                               : remote_with(from) != (int)src) {
        s->c[UK_NET_C_DROP_SPOOF]++;
        return UK_NET_EACCES;
    }
    s->c[UK_NET_C_IN_FRAMES]++;
    s->c[UK_NET_C_IN_BYTES] += len;
    if (src == UK_NET_UPLINK)
        learn(from);
    int to = is_group(dst) ? -1 : lookup(dst);
    if (to >= 0) {
        if (may_forward(src, (unsigned)to))
            out((unsigned)to, f, len);
        return UK_NET_OK;
    }
    /* every peer's clients are known: only group frames go to peers */
    for (unsigned p = 0; p < (is_group(dst) ? UK_NET_ALL_PORTS : UK_NET_PORTS); p++)
        if (ports[p].live && may_forward(src, p))
            out(p, f, len);
    return UK_NET_OK;
}

/* Peer j's ring to us: its head is its word (any value must be harmless,
 * as a client's tail is), each frame copied before it is checked. */
void peer_receive(unsigned j)
{
    static unsigned char f[UK_NET_FRAME_MAX];
    unsigned p = UK_NET_PEER_PORT(j);
    struct port *s = &ports[p];
    struct uk_net_ring *r = (struct uk_net_ring *)UK_NET_PEER_IN(j);
    if (!s->live)
        return;
    uk_word_t head = r->head;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);   /* the frames before the head */
    if (head - s->tail > UK_NET_RX_SLOTS) {    /* nonsense: skip to it */
        s->c[UK_NET_C_DROP_FAULT]++;
        s->tail = head;
    }
    for (; s->tail != head; s->tail++) {
        unsigned slot = (unsigned)(s->tail % UK_NET_RX_SLOTS), len = r->len[slot];
        if (check_in(p, len) != UK_NET_OK)
            continue;
        memcpy(f, (unsigned char *)r + UK_NET_RX_DATA + slot * UK_NET_SLOT_BYTES, len);
        switch_frame(p, f, len);
    }
    r->tail = s->tail;
}

void wake_clients(void)
{
    for (unsigned p = 1; p < UK_NET_ALL_PORTS; p++)
        if (ports[p].wake) {
            ports[p].wake = 0;
            uk_signal(is_client(p) ? UK_NET_SLOT_CLIENT0 + p
                                   : UK_NET_SLOT_PEER0 + (p - UK_NET_PORTS));
        }
}
