/*
 * The vmm-server (docs/vmm-server.md): one per guest.  It owns its guest's tasks
 * (made from its own kernel-memory quota), loads the guest kernel into
 * guest RAM, is the guest kernel's pager and exception handler, and serves
 * its virtual devices over IPC (uk/abi.h "Virtual devices").
 *
 *   main.c     start, the request loop, ending
 *   guest.c    building and tearing down the guest (task, RAM, kernel, vCPU)
 *   devices.c  the device requests: console, timer, clock, power
 *   vdev.c     decoding and checking them (no system calls: host-fuzzed)
 *   conout.c   console output: to the console server, else one labelled line
 *              at a time on the kernel log; flow control
 *   conin.c    console input: from the console server to the guest
 *   timer.c    the timer thread (IPC timeouts -> event notification)
 *   block.c    the guest's disk: requests forwarded to the block server
 *   power.c    the power button: from the root task (our bell) to the guest
 *   vblk.c     the same disk as a virtio-blk device (a back-end of virtio.c)
 *   virtio.c   the virtio back-end core: devices, virtqueues, checked chains
 *   net.c      the guest's NIC: a virtio-net back-end, a client of the network
 *              server (its frames in and out through a shared window)
 *
 * Threads: the main thread serves requests (uk_reply_recv on SLOT_EP) and,
 * through the input notification bound to it, console input; the timer
 * thread only waits and signals.  They share the timer settings
 * (timer.c, a sequence counter) and nothing else.
 */
#ifndef VMM_H
#define VMM_H

#include <user/rt.h>
#include <uk/launch.h>
#include "vdev.h"            /* GUEST_RAM_VA, the requests' decoding */


/* Slots in the vmm-server's own table (0-15 are the root's: abi.h UK_VMM_SLOT_*). */
#define SLOT_EP          16u  /* our endpoint: device requests and guest faults */
#define SLOT_FAULT_EP    17u  /* send-only copy, badge FAULT_BADGE: the vCPU's fault endpoint */
#define SLOT_GUEST       18u  /* the guest kernel's task */
#define SLOT_VCPU        19u  /* its vCPU thread (runs in the guest task, ours) */
#define SLOT_EVENTS      20u  /* event notification, bound to the vCPU */
#define SLOT_TIMER_EV    21u  /* send-only copy of it, badge UK_VDEV_EVENT_TIMER */
#define SLOT_TIMER_WAKE  22u  /* the timer thread waits on this */
#define SLOT_TIMER_TH    23u  /* the timer thread */
#define SLOT_CONSOLE_EV  24u  /* send-only copy of SLOT_EVENTS, badge UK_VDEV_EVENT_CONSOLE */
#define SLOT_POWER_EV    25u  /* send-only copy of SLOT_EVENTS, badge UK_VDEV_EVENT_POWER */
#define SLOT_VIRTIO_EV0  32u  /* 32 + dev * UK_VIRTIO_MAX_QUEUES + q (..47): send-only copies
                                 of SLOT_EVENTS, badge UK_VDEV_EVENT_VIRTIO(dev, q) (virtio.c) */

#define GUEST_BADGE      0x6775ul   /* requests: badge of the guest's endpoint cap */
#define FAULT_BADGE      0xfa17ul   /* faults of the guest kernel */

/* The guest kernel task's address space. */
/* GUEST_RAM_VA (vdev.h): guest RAM, read/write/execute */
#define GUEST_STATE_VA   0x500000000000ul   /* the vCPU state page */
#define GUEST_KERNEL_LO  0x1000ul           /* the kernel ELF must lie in [LO, HI) */
#define GUEST_KERNEL_HI  GUEST_RAM_VA
#define GUEST_PRIO       100u               /* below ours: requests are served at once */

struct vmm {
    const struct uk_vmm_info *vi;
    char name[32];
    uk_word_t ram_pages;      /* guest RAM, at vi->mem_base here */
    uk_word_t boot_pages;     /* taken from its bottom for this boot (info, kernel, stack) */
    unsigned boots;
    uk_word_t halt_status;    /* what the guest halted with (UK_VDEV_POWER w1) */
    int console;              /* UK_VMM_SLOT_CONSOLE works: output goes there */
    int input;                /* UK_VMM_SLOT_INPUT (our bell) is bound to our main thread */
    int power_off_asked;      /* the root rang UK_VMM_BELL_POWER_OFF (power.c) */
    int disk;                 /* UK_VMM_SLOT_BLK reaches the block server */
    int net;                  /* UK_VMM_SLOT_NET reaches the network server */
};
extern struct vmm vmm;

/* guest.c */
long guest_boot(void);        /* UK_OK, or the guest is torn down and the reason printed */
void guest_destroy(void);     /* the guest's tasks and vCPU, its timer stopped */
unsigned char *guest_bytes(uk_word_t g, uk_word_t bytes);   /* ours of guest [g, g+bytes), or 0 */

/* devices.c: a request from the guest; returns what the loop does next */
enum next { NEXT_REPLY, NEXT_RECEIVE, NEXT_END };
enum next device_request(struct uk_msg *m, uk_word_t *end_why);
enum next guest_fault(struct uk_msg *m, uk_word_t *end_why);

/* block.c: finds the block server (UK_VMM_SLOT_BLK); a UK_VDEV_BLOCK_*
 * request (decoded: vdev.c): its status, reply words 1-3 in out[1..3] */
void block_init(void);
long block_request(const struct vdev_req *r, uk_word_t out[4]);
/* one call to the block server (uk/blk.h): its status, reply words in out (if not 0) */
long blk_call(uk_word_t op, unsigned len, uk_word_t w0, uk_word_t w1, uk_word_t w2,
              uk_word_t out[4]);

/* vblk.c: the disk as a virtio-blk device (sectors, UK_BLK_F_* from the block server) */
void vblk_add(uk_word_t sectors, uk_word_t flags);

/* net.c: finds the network server (UK_VMM_SLOT_NET), adds the virtio-net
 * device; net_rx_ready: its notification came (frames in our ring) */
void net_init(void);
void net_rx_ready(void);
void net_summary(void);       /* one line: what the NIC moved and refused */

/* conout.c */
void con_init(void);          /* finds the console server (UK_VMM_SLOT_CONSOLE) */
long console_call(struct uk_msg *m);      /* its status; uk_ipc_failed() if the IPC failed
                                             (and reported) */
void con_reset(void);
uk_word_t con_write(const unsigned char *bytes, uk_word_t n);   /* all taken */
long con_admit(uk_word_t n, uk_word_t *wait_ns);   /* 0 or UK_VDEV_EAGAIN (then *wait_ns:
                                                      until it would be taken): flow control */
void con_flush(void);
void vmm_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* "[name] ..." */

/* conin.c */
void con_input_init(void);    /* binds UK_VMM_SLOT_INPUT (our bell) to our main thread */
void con_input_ready(void);   /* the input notification fired: take the bytes, tell the guest */
void con_input_booted(void);  /* a fresh guest: tell it of bytes already here */
uk_word_t con_read(unsigned char *buf, uk_word_t max);   /* bytes for the guest */

/* power.c: the root rang UK_VMM_BELL_POWER_OFF: tell the guest (once) */
void power_button(void);

/* timer.c */
long timer_init(void);
void timer_set(uk_word_t first_ns, uk_word_t period_ns);   /* 0: stop */
uk_word_t ns_to_tsc(uk_word_t ns);
uk_word_t tsc_to_ns(uk_word_t tsc);

#endif
