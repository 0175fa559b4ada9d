/*
 * The toy guest kernel: a standalone guest that a vmm-server loads and runs
 * on a vCPU (struct uk_guest_info at start).  It is the smallest thing that
 * uses every part of the guest interface the Linux guest will use: it
 * creates process tasks from its own quota, runs two processes through
 * UK_SYS_VCPU_RESUME, pages them on demand, keeps their FPU state, preempts
 * them on virtual-timer events, and reaches the outside world only through
 * its vmm-server's devices (console, timer, clock, power).
 *
 *   main.c    start, command line, what happens after the processes end
 *   sched.c   processes: tasks, exits, system calls, page faults, dispatch
 *   kfault.c  a fault of our own (`kfault`), seen by us if the vCPU lets us
 *   proc.c    the processes' code (section toyproc: all they can execute)
 *   vdev.c    device calls to the vmm-server; kprintf
 *   mem.c     pages of guest RAM
 *   badreq.c  malformed device requests, for the tests
 *   disk.c    the guest's disk: write, read back, bad requests
 *   vdisk.c   the same disk as a virtio-blk device: a virtqueue, hostile chains
 *   vnet.c    the guest's NIC as a virtio-net device: ARP to the gateway, hostile chains
 *   echo.c    console input: lines typed are printed back
 *
 * Command line (uk_guest_info.cmdline), words:
 *   halt         power off once the processes have ended (else idle), status 0
 *   halt=N       the same with exit status N (0..255: the root's, QEMU's)
 *   reboot-once  reboot once they have ended, then behave as `halt`
 *   reboots=N    the same, N times (0..1000)
 *   work=N       rounds each process runs (default 3; 0..1000)
 *   badreq       first send malformed requests and check the error replies
 *   disk         write sectors 64..95 of our disk, read them back, send
 *                requests it must refuse (disk.c; the guest line's disk=N)
 *   vdisk        the disk as a virtio-blk device: a request of each kind, then
 *                malformed chains that must come back as I/O errors (vdisk.c)
 *   vnet         the NIC (the guest line's `net`) as a virtio-net device: an ARP
 *                exchange with slirp's gateway, then malformed chains and frames
 *                that must be returned and refused (vnet.c)
 *   kfault       touch an unmapped address in the guest kernel: a fault its
 *                vmm-server reports, stopping the guest; with the guest line's
 *                `kfaults` (UK_VCPU_F_KERNEL_FAULTS) we see it ourselves, say
 *                so and go on (kfault.c)
 *   echo         echo console input; each line comes back as "echo: <line>";
 *                with halt/reboots it powers off only after one such line
 *   progress     each process line ends in " t=T": T the TSC since the
 *                microkernel's first instruction (instructions under
 *                tcg-icount), for tools/experiments/run
 *   diskio       with progress: each process line also does one disk round
 *                trip (a sector written and read back) and ends in
 *                " disk=S", S its status (0: ok; disk.c disk_tick)
 *   panic-at=MS  at the first timer tick from MS ms after the microkernel's
 *                first instruction (TSC), the guest kernel faults (kfault's
 *                store, without the fixup): a guest-kernel crash on a
 *                schedule, for tools/experiments/run; a guest whose first
 *                tick came after MS (a restarted one) does not
 *   exhaust-at=MS at the first tick from MS ms on, the guest kernel uses up
 *                its capability slots and kernel-memory quota (kfault.c
 *                exhaust_check) and goes on
 *   nopower      ignore the power button (UK_VDEV_EVENT_POWER; without this
 *                word it powers off at once with status 0): a guest the root
 *                task must stop (docs/shutdown.md)
 * Other words are reported and ignored; a number out of range (halt=300,
 * work=x) is reported and we power off at once with TOY_STATUS_USAGE.
 *
 * The processes' system calls (rax = number, rdi/rsi = arguments, rax = result):
 */
#ifndef TOY_H
#define TOY_H

#include <user/rt.h>

#define TOY_SYS_WRITE   1     /* (buf, len) -> len, or -TOY_EFAULT */
#define TOY_SYS_YIELD   24
#define TOY_SYS_SLEEP   35    /* (ticks) */
#define TOY_SYS_GETPID  39
#define TOY_SYS_EXIT    60    /* (code) */
#define TOY_EFAULT      14
#define TOY_EINVAL      22
#define TOY_ENOSYS      38

#define TOY_NPROCS      2
#define TOY_STACK_TOP   0x0000700000000000ul   /* in each process task */
#define TOY_STACK_PAGES 16
#define TOY_TICK_NS     5000000ul              /* the virtual timer's period: 5 ms */
#define TOY_STATUS_FAILED 1                    /* exit status: we could not go on */
#define TOY_STATUS_USAGE  2                    /* exit status: a bad command line */

/* proc.c: what a process runs (rdi = TSC ticks to spin a round, rsi = rounds) */
void toyp_worker(unsigned long spin, unsigned long rounds);

/* main.c */
extern const struct uk_guest_info *gi;
extern struct uk_vcpu_state *vcpu;
struct toy_opts { int halt, badreq, kfault, echo, disk, vdisk, vnet, nopower, progress, diskio;
                  unsigned long work, reboots, status, panic_at, exhaust_at; };
extern struct toy_opts opts;
__attribute__((noreturn)) void processes_done(void);

/* sched.c */
struct toy_stats { unsigned long ticks, preempts, idle_waits, syscalls, faults; };
extern struct toy_stats stats;
void entry_init(void);  /* where the vCPU enters us (exits, kernel faults) */
__attribute__((noreturn)) void run_processes(unsigned long spin, unsigned long rounds);
int take_ticks(void);   /* events taken? */
extern uk_word_t virtio_events;   /* UK_VDEV_EVENT_VIRTIO_* bits take_ticks took */
void idle_wait(unsigned long us);

/* vdev.c: status (0 or UK_VDEV_E*), or an IPC error as a positive UK_E_* */
long vdev_call(uk_word_t op, uk_word_t nwords, const uk_word_t *words, uk_word_t out[4]);
void con_write(const char *s, unsigned long n);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
long timer_set(uk_word_t first_ns, uk_word_t period_ns);
__attribute__((noreturn)) void power(uk_word_t how, uk_word_t status);  /* status: HALT's */

/* mem.c */
void mem_init(void);
void *page_alloc(void);          /* zeroed, in guest RAM; NULL if none left */
void page_free(void *p);
unsigned mem_boot_count(void);   /* 1 on a cold boot, +1 each reboot */
unsigned long *mem_echo_lines(void);   /* lines echoed since the cold boot */

/* kfault.c: `kfault`; and the vCPU's exit UK_VCPU_EXIT_KERNEL_FAULT */
void kfault_run(void);
void kfault_panic_check(void);
void exhaust_check(void);      /* `exhaust-at=`: use up our quota and slots now if it is time */   /* `panic-at=`: fault now if it is time */
__attribute__((noreturn)) void kfault_entry(struct uk_vcpu_state *s);

/* disk.c; disk_tick: `diskio`: a sector written and read back (and, from
 * the second cycle of sectors on, the last cycle's acknowledged write
 * there checked first), 0 or the first failing status (a positive UK_E_*
 * if the IPC failed, -1: wrong data read back, -2: an acknowledged write
 * lost) */
void disk_run(void);
long disk_tick(void);
void vdisk_run(void);
void vnet_run(void);      /* vnet.c */

/* badreq.c */
void badreq_run(void);

/* echo.c: event != 0: UK_VDEV_EVENT_CONSOLE was seen (else: only if one is
 * still to be handled) */
void echo_poll(int event);
void echo_bytes(const unsigned char *b, unsigned long n);

#endif
