/*
 * The network server (servers/net/, docs/network.md): what it, the root
 * task that starts it and its clients agree on.  The server drives one
 * virtio-net device (the uplink, QEMU's user network) and runs a learning
 * Ethernet switch between it (port 0) and one port per client (ports
 * 1..UK_NET_MAX_CLIENTS, a client n on port n).  Each client port has a MAC
 * the root task assigns (UK_NET_CLIENT_MAC below); the switch drops a
 * client's frame whose source MAC is not its port's.
 *
 * Clients call the server's endpoint through a send-only cap badged with
 * their client number n; badge 0 is the root task's control cap.  Every
 * client has a window: pages the root maps both into the client and into
 * the server at UK_NET_WINDOW(n).  The window belongs to the client and
 * holds everything a restarted server needs to go on (issue 14):
 *   - offset 0: the receive ring (struct uk_net_ring), UK_NET_RX_SLOTS
 *     slots of UK_NET_SLOT_BYTES at UK_NET_RX_DATA: the server copies a
 *     frame for the port into slot head % UK_NET_RX_SLOTS, sets its length,
 *     then advances head and signals the client's notification; the client
 *     takes frames from tail and advances tail.  A full ring (head - tail ==
 *     UK_NET_RX_SLOTS, or any tail the server cannot make sense of) means the
 *     frame is dropped and counted (UK_NET_C_DROP_FULL): the switch never
 *     waits for a client.
 *   - from UK_NET_TX_AREA on (by convention; any window offset is allowed):
 *     the client's own frames to send, named by offset and length in
 *     UK_NET_OP_SEND.  The server copies the frame before it checks it.
 * A reply's w0 is a status: 0 or a negative UK_NET_E*.
 */
#ifndef UK_NET_H
#define UK_NET_H

#include <uk/abi.h>
#include <uk/pci.h>

#define UK_NET_ETH_HDR      14u
#define UK_NET_MTU          1500u
#define UK_NET_FRAME_MAX    (UK_NET_ETH_HDR + UK_NET_MTU)   /* 1514: no FCS, no VLAN tag */
#define UK_NET_MAX_CLIENTS  8u
#define UK_NET_PORTS        (UK_NET_MAX_CLIENTS + 1u)      /* port 0: the uplink */
#define UK_NET_UPLINK       0u
/* Several servers (the per-guest topology: one per NIC, docs/network.md
 * "Several network servers"): server j is reached through a peer port of
 * each other server, UK_NET_PEER_PORT(j), after the client ports (so
 * UK_NET_PORTS stays the uplink and the clients, which the root's control
 * requests name).  A peer port carries only frames between clients: what
 * a server's uplink receives never goes to a peer, what comes from a peer
 * goes only to clients.  Peer j's clients' MACs are static entries the root
 * gives (UK_NET_CTL_REMOTE), so no frame for another guest is ever flooded
 * to an uplink (QEMU's user network would answer a TCP segment that is not
 * its own with a reset). */
#define UK_NET_MAX_SERVERS  4u
#define UK_NET_PEER_PORT(j) (UK_NET_PORTS + (j))
#define UK_NET_ALL_PORTS    (UK_NET_PORTS + UK_NET_MAX_SERVERS)

/* A MAC as a word: its first octet in bits 0-7, ..., its sixth in 40-47. */
#define UK_NET_MAC_MASK     0xffffffffffffull
/* A MAC's six octets in a frame, from and to its word (the server's
 * switch, its clients, the tests share these). */
static inline void uk_net_put_mac(unsigned char *p, uk_word_t mac)
{
    for (int i = 0; i < 6; i++)
        p[i] = (unsigned char)(mac >> (8 * i));
}

static inline uk_word_t uk_net_get_mac(const unsigned char *p)
{
    uk_word_t m = 0;
    for (int i = 5; i >= 0; i--)
        m = m << 8 | p[i];
    return m;
}

/* Client n's MAC (the root task's choice, the same at every boot):
 * 52:54:00:12:34:NN with NN = n, 01..08.  QEMU's own default for a NIC is
 * 52:54:00:12:34:56, which no client gets; slirp's gateway is
 * 52:55:0a:00:02:02. */
#define UK_NET_CLIENT_MAC(n) (0x3412005452ull | (uk_word_t)((n) & 0xff) << 40)

enum uk_net_op {                      /* message labels */
    UK_NET_OP_INFO = 1,               /* -> w0 = status, w1 = our MAC, w2 = window bytes,
                                         w3 = UK_NET_F_* */
    UK_NET_OP_SEND,                   /* w0 = window offset, w1 = length (bytes, the
                                         Ethernet header on, no FCS) -> w0 = status: the
                                         switch took the frame (a destination may still
                                         drop it, counted at that port) or refused it
                                         (counted at ours) */
    UK_NET_OP_STATS,                  /* w0 = first counter (UK_NET_C_*) -> w0 = status,
                                         w1..w3 = our port's counters first..first+2 */
    /* control, badge 0 only (the root task) */
    UK_NET_CTL_ADD_CLIENT = 0x100,    /* w0 = n, w1 = MAC, w2 = window bytes (pages the
                                         root mapped at UK_NET_WINDOW(n)) -> w0 = status;
                                         the receive ring's head is taken from the window
                                         (a client that reconnects keeps its ring) */
    UK_NET_CTL_REMOVE_CLIENT,         /* w0 = n -> w0 = status; its window may then be
                                         unmapped (the server touches it only while it
                                         serves a request) */
    UK_NET_CTL_LINK,                  /* w0 = port (0: the uplink), w1 = 1 up / 0 down */
    UK_NET_CTL_STATS,                 /* w0 = port, w1 = first counter -> w1..w3 */
    UK_NET_CTL_NIC_INFO,              /* -> w0 = status, w1 = the NIC's MAC, w2 = rx
                                         buffers posted, w3 = tx buffers */
    UK_NET_CTL_ADD_PEER,              /* w0 = j, another server's number: its rings are
                                         mapped at UK_NET_PEER_OUT(j) (ours to write) and
                                         UK_NET_PEER_IN(j) (its), its notification in
                                         UK_NET_SLOT_PEER0 + j -> w0 = status; again after
                                         either end restarted: both rings are adopted
                                         where they are */
    UK_NET_CTL_PEER_STATS,            /* w0 = j, w1 = first counter -> w1..w3: the peer
                                         port's counters */
    UK_NET_CTL_REMOTE,                /* w0 = j, w1 = MAC, w2 = 1 add / 0 remove: MAC is a
                                         client of peer j (a static entry, as our own
                                         clients' are: a frame to it goes to peer j only,
                                         never to the uplink; a frame from peer j must
                                         come from one of them) -> w0 = status */
};

#define UK_NET_F_LINK_UP  0x1u        /* INFO: our port's link is up */

/* Per-port counters.  "in": frames the port gave the switch (a client's
 * SEND, a frame the NIC received from the wire); "out": frames the switch
 * put out on the port (into a client's ring, onto the wire: the uplink's
 * out is what the NIC transmitted).  Every frame refused or dropped is
 * counted once, at the port it came from (in) or was going to (out). */
enum uk_net_counter {
    UK_NET_C_IN_FRAMES,
    UK_NET_C_IN_BYTES,
    UK_NET_C_OUT_FRAMES,
    UK_NET_C_OUT_BYTES,
    UK_NET_C_DROP_SPOOF,              /* in: source MAC not the port's (a client), or a
                                         client's MAC (from the uplink) */
    UK_NET_C_DROP_SHORT,              /* in: length 0 or shorter than an Ethernet header */
    UK_NET_C_DROP_LONG,               /* in: longer than UK_NET_FRAME_MAX */
    UK_NET_C_DROP_FAULT,              /* in: the buffer is not inside the window */
    UK_NET_C_DROP_FULL,               /* out: the client's ring (the NIC's tx queue) full */
    UK_NET_C_DROP_DOWN,               /* in or out while the port's link was down */
    UK_NET_C_COUNT
};

#define UK_NET_OK          0l
#define UK_NET_EPERM      (-1l)       /* the badge is no client of ours */
#define UK_NET_EACCES    (-13l)       /* the frame's source MAC is not the port's */
#define UK_NET_EFAULT    (-14l)       /* the buffer is not inside the client's window */
#define UK_NET_EINVAL    (-22l)       /* unknown operation, a message of the wrong length,
                                         a frame of length 0 or shorter than its header,
                                         a bad port, client or counter number (control) */
#define UK_NET_EMSGSIZE  (-90l)       /* the frame is longer than UK_NET_FRAME_MAX */
#define UK_NET_ENETDOWN (-100l)       /* the port's link is down */
#define UK_NET_EIO        (-5l)       /* the server is gone (the root's view) */

/* A client's window. */
#define UK_NET_RX_SLOTS     32u
#define UK_NET_SLOT_BYTES   2048u
struct uk_net_ring {
    volatile uk_word_t head;          /* frames put in: the server writes it */
    volatile uk_word_t tail;          /* frames taken out: the client writes it */
    uk_word_t reserved[6];
    volatile unsigned len[UK_NET_RX_SLOTS];   /* slot i's frame length: written by the
                                                 server before head moves past i */
};
#define UK_NET_RX_DATA      UK_PAGE_SIZE     /* slot i at UK_NET_RX_DATA + i * SLOT_BYTES */
#define UK_NET_TX_AREA      (UK_NET_RX_DATA + UK_NET_RX_SLOTS * UK_NET_SLOT_BYTES)
#define UK_NET_WINDOW_MIN   (UK_NET_TX_AREA + UK_PAGE_SIZE)
#define UK_NET_WINDOW_MAX   (1ul << 20)      /* a client's window: at most 1 MiB */

/* The server's address space (besides its program image). */
#define UK_NET_INFO_VADDR    0x10000000ul    /* struct uk_net_info, read-only */
#define UK_NET_DMA_VADDR     0x10100000ul    /* the NIC's DMA pages, physically contiguous:
                                                its two virtqueues and frame buffers */
#define UK_NET_DMA_PAGES     40u             /* servers/net/nic.c: 8 for the queues, 16 for
                                                32 receive buffers, 16 for 32 transmit ones */
#define UK_NET_WINDOW(n)     (0x20000000ul + ((n) - 1) * UK_NET_WINDOW_MAX)
/* A peer link: one ring each way, a struct uk_net_ring and its
 * UK_NET_RX_SLOTS slots (the layout of a client's receive ring), in pages
 * the root task keeps (they survive either server's restart).  The writer
 * moves head and signals the reader's notification (its cap badged
 * UK_NET_PEER_BIT(writer)); the reader moves tail. */
#define UK_NET_PEER_RING_PAGES (UK_NET_TX_AREA / UK_PAGE_SIZE)
#define UK_NET_PEER_OUT(j)   (0x30000000ul + (j) * 0x20000ul)   /* ours to write, to j */
#define UK_NET_PEER_IN(j)    (0x30100000ul + (j) * 0x20000ul)   /* j's, to us */
#define UK_NET_PEER_BIT(j)   (2ul << (j))    /* on our notification: peer j wrote */

#define UK_NET_INFO_MAGIC    0x4e4554494e464f00ul   /* "NETINFO" */
struct uk_net_info {
    uk_word_t magic;
    struct uk_pci_dev nic;            /* its BARs, IRQ line, address */
};

/* Slots in the server's table (the root fills them before starting it;
 * also UK_SLOT_DEBUG, 5: the kernel log, WRITE, for its reports). */
#define UK_NET_SLOT_EP        8u     /* its endpoint: READ */
#define UK_NET_SLOT_NOTIF     9u     /* its interrupt notification: READ (bound to its
                                        thread); the NIC signals bit 0 */
#define UK_NET_SLOT_NIC_IO   10u     /* I/O ports of the NIC's BAR0 */
#define UK_NET_SLOT_NIC_IRQ  11u     /* its own holder of the NIC's IRQ line: CONTROL */
#define UK_NET_SLOT_NIC_IRQ_NOTIF 12u /* the notification badged 1: WRITE (for IRQ_BIND) */
#define UK_NET_SLOT_CLIENT0  16u     /* client n's notification at + n: WRITE, badged
                                        as the client asked: "frames in your ring" */
#define UK_NET_SLOT_PEER0    (UK_NET_SLOT_CLIENT0 + UK_NET_MAX_CLIENTS + 1u)
                                     /* peer j's notification at + j: WRITE, badged
                                        UK_NET_PEER_BIT(our number) */
#define UK_NET_SLOTS (UK_NET_SLOT_PEER0 + UK_NET_MAX_SERVERS)
_Static_assert(UK_NET_PEER_RING_PAGES * UK_PAGE_SIZE <= 0x20000ul, "a peer ring overlaps the next");
_Static_assert(UK_NET_PEER_OUT(UK_NET_MAX_SERVERS) <= UK_NET_PEER_IN(0), "peer rings overlap");

#endif
