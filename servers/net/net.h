/*
 * The network server's parts (docs/network.md): nic.c drives the
 * virtio-net device, switch.c moves frames between ports, net.c serves
 * requests.  Protocol and layout: uk/net.h.
 */
#ifndef NET_SERVER_H
#define NET_SERVER_H

#include <uk/net.h>

#define NIC_RX_BUFS 32u            /* receive buffers posted to the NIC */
#define NIC_TX_BUFS 32u            /* transmit buffers: frames in flight to the wire (16 dropped
                                      2.7% of a guest's iperf3 send: tools/bench/run-net) */

/* A switch port: all of it belongs to the server's one thread (no locks). */
struct port {
    int live;                      /* a client (port 0: the NIC is in service) */
    int up;                        /* its link: the root's choice */
    uk_word_t mac;                 /* a client's assigned MAC */
    uk_word_t window;              /* a client's window, bytes */
    uk_word_t head;                /* frames put into its ring (the ring's head is a copy) */
    uk_word_t tail;                /* a peer port: frames taken from its ring to us */
    int wake;                      /* frames put in since we last signalled it */
    uk_word_t c[UK_NET_C_COUNT];   /* its counters, UK_NET_C_* */
};
extern struct port ports[UK_NET_ALL_PORTS];   /* uplink, clients, then peers */

/* nic.c: the NIC's queues and buffers set up, its interrupt bound, receive
 * buffers posted (1), or a report and 0; its MAC in nic_mac. */
int nic_init(const struct uk_pci_dev *p);
extern uk_word_t nic_mac;
/* A frame onto the wire (a free transmit buffer, or dropped and counted
 * at port 0 as DROP_FULL). */
void nic_transmit(const unsigned char *f, unsigned len);
/* The NIC's interrupt: its ISR read (quiet), received frames through the
 * switch and their buffers posted again, transmitted buffers taken back. */
void nic_interrupt(void);

/* switch.c */
int is_group(uk_word_t mac);
/* The live client port with this MAC, -1 if none. */
int client_with(uk_word_t mac);
/* The checks every frame gets on entering from port src: a status (0, or
 * refused and counted). */
long check_in(unsigned src, uk_word_t len);
/* A frame whose length passed check_in, from port src, through the switch:
 * a status (a spoofed source: refused and counted). */
long switch_frame(unsigned src, const unsigned char *f, unsigned len);
/* Signals every client (and peer) that got frames since the last call. */
void wake_clients(void);
/* UK_NET_CTL_REMOTE: MAC a client of peer j (add) or not (a status). */
long set_remote(unsigned j, uk_word_t mac, int add);
/* Peer j's frames to us (its ring at UK_NET_PEER_IN(j)) through the switch. */
void peer_receive(unsigned j);

#endif
