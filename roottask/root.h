/*
 * The root task: gets every resource at boot, runs its IPC self-test, then
 * starts one vmm-server per guest described by the boot modules and waits
 * for them to end (docs/vmm-server.md).
 *
 *   main.c     banner, IPC self-test, the wait loop
 *   modules.c  boot-module command lines: `vmm-server`, `guest ...`
 *   launch.c   one vmm-server: its task, memory, modules, info page, thread
 *   console.c  the console server: its task and caps, a client per guest
 *   rtc.c      the CMOS real-time clock (wall-clock time for the guests)
 *   blk.c      PCI enumeration and the block server: its task, devices, clients
 *   net.c      the network server: its task, NIC, clients (ports)
 *   pcidev.c   a PCI device handed to a driver, and taken back quiet
 *   acpi.c     the power button (ACPI SCI) and the machine's power-off
 *   supervise.c  the supervisor: fault injection, detection, restarts
 *                (docs/experiments.md)
 */
#ifndef ROOT_H
#define ROOT_H

#include <user/rt.h>
#include <user/spawn.h>
#include <uk/pci.h>

#define ROOT_MAX_GUESTS UK_BOOT_MAX_MODULES
#define CONSOLE_PRIO    220u      /* above the vmm-servers (VMM_PRIO, 200) */
#define CONSOLE_BADGE   0xc0u     /* COM n's server's faults on our endpoint: CONSOLE_BADGE
                                     + n - 1 (guests: 1..ROOT_MAX_GUESTS) */

/* A guest, from a module command line:
 *   guest [name=N] [mem=MiB] [kmem=KiB] [initrd=MODULE] [disk=D] [console=C] [net[=NIC]] [kfaults] [stats] [-- kernel command line]
 * MODULE is the first word of another module's command line; D: the block
 * server's disk D is the guest's (docs/storage.md); C: the console server
 * of COM C is the guest's (default 1; console.c); net (net=N): a port of
 * the network server of NIC 0 (N), client number = the guest's index
 * (docs/network.md); kfaults: the
 * guest kernel's own faults go to it (UK_VMM_F_KERNEL_FAULTS). */
struct guest_desc {
    char name[32];
    uk_word_t mem_mib;        /* guest RAM (default 64) */
    uk_word_t kmem_kib;       /* the guest kernel's kernel-memory quota (0: from mem) */
    int kernel;               /* index into bi->modules */
    int initrd;               /* index into bi->modules, or -1 */
    int kfaults;              /* `kfaults` given */
    int disk;                 /* the block server's disk for it, or -1 */
    int console;              /* its console server's UART: COM 1 (default) or 2 */
    int net;                  /* `net` (0), `net=N` (N): a client of the network server
                                 of PCI NIC N; -1: none */
    int stats;                /* `stats` given: the guest may read the kernel's
                                 machine-wide counters (UK_SYS_DEBUG_STATS) */
    char cmdline[1024];
};

/* modules.c: the vmm-server module's index (-1: none) and the guests, in
 * boot order; bad guest lines are reported and skipped. */
int find_modules(const struct uk_bootinfo *bi, struct guest_desc *g, int *nguests);
/* modules.c: module i's command line ("" if its offset is bad); the length
 * of the word at p, up to a space or the end (supervise.c parses with them too). */
const char *cmdline_of(const struct uk_bootinfo *bi, int i);
uk_word_t word_len(const char *p);
/* The first module whose command line's first word is `word`; -1: none. */
int find_module(const struct uk_bootinfo *bi, const char *word);

/* launch.c: starts guest g's vmm-server; 0 or an error (reported). */
long launch_vmm(const struct uk_bootinfo *bi, int vmm_module, uk_word_t index,
                const struct guest_desc *g, uk_word_t root_ep);
/* The vmm-server with this badge has ended (or faulted): report, destroy. */
int vmm_ended(uk_word_t badge, const struct uk_msg *m);
/* The power button (docs/shutdown.md): ring every running vmm-server's bell
 * (UK_VMM_BELL_POWER_OFF); how many were rung.  vmm_stop_all: those still
 * running are named, destroyed and get UK_VMM_STATUS_NO_POWER_OFF; how many. */
int vmm_power_off_all(void);
int vmm_stop_all(void);
/* Guest `index`'s exit status (abi.h UK_VMM_STATUS_*): what it ended with,
 * UK_VMM_STATUS_NOT_STARTED if its vmm-server never ran. */
uk_word_t vmm_status(uk_word_t index);

/* console.c: the console servers, one per `console-server [com=N]` line
 * (COM N's, default 1; one per UART): how many run.  COM n's faults come
 * to root_ep with badge CONSOLE_BADGE + n - 1 (console_fault: 1 if it was
 * one).  A guest's console cap (UK_VMM_SLOT_CONSOLE) of COM `com`'s server
 * into vmm-server task `task`, and to the server a copy of the
 * vmm-server's bell (the notification in its UK_VMM_SLOT_INPUT, launch.c's)
 * badged UK_VDEV_EVENT_CONSOLE: 1 if given; and its removal when the
 * vmm-server has ended. */
int console_start_all(const struct uk_bootinfo *bi, uk_word_t root_ep);
int console_add_guest(uk_word_t com, uk_word_t index, const char *name, uk_word_t task,
                      uk_word_t bell);
void console_remove_guest(uk_word_t com, uk_word_t index, const char *name);
int console_fault(uk_word_t badge, const struct uk_msg *m);

/* blk.c: block servers.  blk_start: one from module `module` (`blk-server
 * [disk=N]`: PCI disk N, else every virtio-blk device no other server
 * drives), in the first free slot i; how many disks it has (0: not
 * started).  blk_start_all: one per `blk-server` line (how many started).
 * Server i's faults come to root_ep with badge BLK_BADGE + i (blk_fault:
 * 1 if it was one; its devices are reset).  A client n
 * (1..UK_BLK_MAX_CLIENTS) on PCI disk `disk`, of whichever server drives
 * it: `pages` fresh pages mapped at va in `task` and in the server, a
 * send-only endpoint cap badged n into `slot` of task; the window (our
 * view of it) or NULL.  blk_control: a control request (uk/blk.h) to
 * server 0, its status, the reply words in reply[0..3] if non-NULL.
 * blk_stop: every server stopped.  blk_restart: server i stopped, started
 * again on the same devices, every client reconnected on its window (how
 * many; -1: no server). */
#define BLK_PRIO        210u      /* above the vmm-servers, its clients */
#define BLK_BADGE       0xd0u     /* server i's faults on our endpoint: BLK_BADGE + i */
#define BLK_MAX_SERVERS 4
int blk_start(const struct uk_bootinfo *bi, int module, uk_word_t root_ep);
int blk_start_all(const struct uk_bootinfo *bi, uk_word_t root_ep);
void *blk_add_client(uk_word_t n, uk_word_t disk, uk_word_t task, uk_word_t va,
                     uk_word_t pages, uk_word_t slot);
void blk_remove_client(uk_word_t n);
long blk_control(uk_word_t op, uk_word_t w0, uk_word_t w1, uk_word_t w2, uk_word_t reply[4]);
/* Registers a guest's RAM (one allocation) for client n's zero-copy DMA. */
void blk_give_ram(uk_word_t n, const char *name, void *ram, uk_word_t pages);
void blk_stop(void);
int blk_restart(const struct uk_bootinfo *bi, int i, uk_word_t root_ep);
int blk_servers(void);        /* server slots used (0..BLK_MAX_SERVERS) */
/* the experiments: server i told to misbehave (UK_BLK_CTL_FAULT), its status */
long blk_inject(int i, uk_word_t mode, uk_word_t arg, uk_word_t *did);
/* bit flips (swifi): one bit of server i's code (code = 1: its executable
 * segments) or data (its other segments), picked by rnd, flipped in place;
 * *where = address << 3 | bit (0: no such segment).  blk_dma_escape: does a
 * descriptor on any of its disks' queues name memory outside its DMA pages
 * and its clients' windows (the device would reach it: without an IOMMU
 * nothing stops it)?  *addr: the first such address. */
int blk_flip(int i, int code, uk_word_t rnd, uk_word_t *where);
int blk_dma_escape(int i, uk_word_t *addr);
int blk_fault(uk_word_t badge, const struct uk_msg *m);

/* pcidev.c: a cap of our own for PCI configuration space (in *cfg); a
 * virtio device's legacy BAR0 as an I/O-port cap (*io) and our own holder
 * of its IRQ line (*irq), the device reset, I/O and bus mastering on
 * (UK_E_INVAL: no legacy I/O BAR0 or no IRQ line; on any error nothing is
 * held); release: the device reset, bus mastering off, both caps gone. */
long pcidev_config_ports(uk_word_t *cfg);
long pcidev_claim_virtio(uk_word_t cfg, const struct uk_pci_dev *p, uk_word_t *io,
                         uk_word_t *irq);
void pcidev_release_virtio(uk_word_t cfg, const struct uk_pci_dev *p, uk_word_t *io,
                           uk_word_t *irq);

/* net.c: network servers.  net_start: one from module `module`
 * (`net-server [nic=N]`: the Nth virtio-net device on the PCI bus, else
 * the first no other server drives) in the first free slot i, linked with
 * every other running one (peer rings: frames between their clients); 1 if
 * it runs.  net_start_all: one per `net-server` line (how many started).
 * Server i's faults come to root_ep with badge NET_BADGE + i (net_fault: 1
 * if it was one; its NIC is reset).  A client n (port n,
 * 1..UK_NET_MAX_CLIENTS) with MAC UK_NET_CLIENT_MAC(n), on the server of
 * NIC `nic`: `pages` fresh pages mapped at va in `task` and in the server,
 * a send-only endpoint cap badged n into `ep_slot` of task, and a copy of
 * our notification cap `notif` badged `notif_badge` for the server
 * ("frames in your ring"); the window (our view of it) or NULL.
 * net_control: a control request (uk/net.h) to server 0 (net_control_of:
 * to server i), its status, the reply words in reply[0..3] if non-NULL;
 * net_link: client n's port up or down on its server (a status).
 * net_restart: server i stopped (its NIC reset) and started again on the
 * same NIC, linked to its peers again, every client reconnected on its
 * kept window and ring with a fresh endpoint cap in the same slot
 * (docs/network.md "Restarting"); how many clients, -1: it does not run.
 * Every slot a server took is ours again when it ends. */
#define NET_PRIO        210u      /* above the vmm-servers, its clients */
#define NET_BADGE       0xb1u     /* server i's faults on our endpoint: NET_BADGE + i */
#define NET_MAX_SERVERS 4
int net_start(const struct uk_bootinfo *bi, int module, uk_word_t root_ep);
int net_start_all(const struct uk_bootinfo *bi, uk_word_t root_ep);
void *net_add_client(uk_word_t n, int nic, uk_word_t task, uk_word_t va, uk_word_t pages,
                     uk_word_t ep_slot, uk_word_t notif, uk_word_t notif_badge);
void net_remove_client(uk_word_t n);
/* One line on the kernel log: client n's port counters and its server's
 * uplink's (what a guest sent and got; that its traffic stayed in the switch). */
void net_report(uk_word_t n, const char *name);
long net_control(uk_word_t op, uk_word_t w0, uk_word_t w1, uk_word_t w2, uk_word_t reply[4]);
long net_control_of(int i, uk_word_t op, uk_word_t w0, uk_word_t w1, uk_word_t w2,
                    uk_word_t reply[4]);
long net_link(uk_word_t n, int up);
void net_stop(void);
int net_restart(const struct uk_bootinfo *bi, int i, uk_word_t root_ep);
int net_fault(uk_word_t badge, const struct uk_msg *m);
int net_servers(void);        /* server slots used (0..NET_MAX_SERVERS) */
/* acpi.c (docs/shutdown.md): acpi_start finds the PIIX4's ACPI power
 * management, turns ACPI mode and the power button on, binds the SCI
 * (through a notification badged ROOT_BELL_SCI) to the calling thread, our
 * main one; 1 if the button works.  acpi_event: the bits of a
 * bound-notification wake-up; 1 if the button was pressed (the SCI is
 * quieted and acked).  acpi_wait_button: waits for a press (0 at once if
 * there is no button).  acpi_power_off: S5; returns only if that failed. */
#define ROOT_BELL_SCI   0x1u
int acpi_start(void);
int acpi_event(uk_word_t bits);
int acpi_wait_button(void);
void acpi_power_off(void);

/* rtc.c: nanoseconds since 1970 now, and the TSC when it was read. */
uk_word_t rtc_now_ns(uk_word_t *tsc);

/* Accessors for the supervisor (supervise.c): a server's main thread (0:
 * not running); a ping (any answer within `timeout`, encoded: 0, else the
 * IPC error); console server i is COM i+1's (console_name: "console",
 * "console2"); console_restart: server i stopped and started afresh on its
 * UART, then vmm_console_reconnect(com) gives every running vmm-server of
 * that UART its console caps again: how many got them (-1: no server). */
uk_word_t console_thread(int i);
/* console_ping: also the server's lines printed so far and lines queued
 * (UK_CONSOLE_INFO's totals; both 0 if it gave none) */
long console_ping(int i, uk_word_t timeout, uk_word_t *printed, uk_word_t *queued);
int console_restart(const struct uk_bootinfo *bi, int i, uk_word_t root_ep);
const char *console_name(int i);
int vmm_console_reconnect(uk_word_t com);
uk_word_t vmm_thread(uk_word_t index);
/* launch.c: the supervisor's heartbeat for the vmm-servers (struct
 * uk_vmm_alive, UK_VMM_BELL_PING): vmm_ping rings it with number seq,
 * vmm_pong says the last number answered, vmm_kill destroys a hung one. */
long vmm_ping(uk_word_t index, uk_word_t seq);
uk_word_t vmm_pong(uk_word_t index);
int vmm_kill(uk_word_t index);
uk_word_t net_thread(int i);
long net_ping(int i, uk_word_t timeout);
uk_word_t blk_thread(int i);
long blk_ping(int i, uk_word_t timeout);

/* flip.c (the supervisor's swifi=): image_flip flips one bit of a loaded
 * program's code (code = 1: its executable segments) or data (the others),
 * picked by rnd, through our view of its pages; *where = address << 3 |
 * bit; 0: nothing to flip.  desc_escape: does one of `entries` virtio
 * descriptors at `table` name a page allowed(ctx, page) refuses?  *addr:
 * the first such address.  console_image(i), net_image(i): server i's
 * image if it runs (0: none); net_dma_escape(i): a descriptor on server i's
 * NIC's queues outside its DMA pages (the NIC's buffers are all there:
 * frames are copied to and from the clients' windows); net_nic(i): server
 * i's NIC (-1: it does not run). */
struct uk_loaded;
int image_flip(const struct uk_loaded *l, int code, uk_word_t rnd, uk_word_t *where);
/* The same, a chosen bit: `at` = address << 3 | bit (swifi-at=); *code:
 * it was in an executable segment; 0: no segment has it. */
int image_flip_at(const struct uk_loaded *l, uk_word_t at, int *code, uk_word_t *where);
int desc_escape(const void *table, unsigned entries, int (*allowed)(const void *, uk_word_t),
                const void *ctx, uk_word_t *addr);
const struct uk_loaded *console_image(int i);
const struct uk_loaded *net_image(int i);
int net_dma_escape(int i, uk_word_t *addr);
int net_nic(int i);

/* netprobe.c (the supervisor's observation of a network server under
 * swifi=net, net2..): two ports of that server's switch of our own, probe
 * ports NETPROBE_A and NETPROBE_B (client numbers: one pair, so one server
 * probed per boot).  netprobe_init(i): both added on server i (1 if they
 * were);
 * netprobe_send: probe `seq` sent, a unicast frame A -> B through the
 * switch and an ARP request from A for QEMU's gateway out through the NIC;
 * netprobe_check: what came back: 0 (the frame at B intact, the ARP answer
 * at A) or a short word saying what did not ("lost", "garbled", "no-arp",
 * "send"). */
#define NETPROBE_A (UK_NET_MAX_CLIENTS - 1)
#define NETPROBE_B UK_NET_MAX_CLIENTS
int netprobe_init(int i);
void netprobe_send(uk_word_t seq);
const char *netprobe_check(uk_word_t seq);

/* supervise.c (docs/experiments.md): the module `experiment ...` turns it on.
 * supervise_init: parses it (1: on; a bad word is named and the line
 * refused).  supervise_due: the TSC of its next action (0: none);
 * supervise_run: the actions due now (injections, heartbeats, restarts);
 * supervise_fault: a server's fault on our endpoint, seen first: 1 if it
 * restarted the server (the fault is dealt with), 0: console_fault & co.
 * report and destroy it as without a supervisor;
 * a vmm-server's fault is noted (0: vmm_ended goes on);
 * supervise_vmm_ended: guest `badge`'s vmm-server has ended: 1 if it had
 * faulted and was started again (the caller counts it as running). */
struct guest_desc;
int supervise_init(const struct uk_bootinfo *bi, uk_word_t root_ep, const struct guest_desc *g,
                   int nguests, int vmm_module);
uk_word_t supervise_due(void);
void supervise_run(void);
int supervise_fault(uk_word_t badge, const struct uk_msg *m);
int supervise_vmm_ended(uk_word_t badge);

#endif
