/*
 * Interrupts.  On a Linux host arch/um gets SIGALRM and SIGIO and keeps a
 * software "signals enabled" flag; here the vmm-server's events arrive as
 * bits in the vCPU state page:
 *
 *   signals_enabled (arch/um's flag, read by irqflags.h and UML_SETJMP)
 *       mirrors  ukvm_vcpu->irq_enabled (the microkernel's virtual IF):
 *       disabling is two stores; enabling is two stores and a look at
 *       ukvm_vcpu->pending, no kernel entry.
 *   an event while enabled: an upcall (ukvm_upcall below, from entry.c),
 *       on the interrupted kernel stack; RESUME(0) goes back.
 *   an event while disabled: the bit waits in pending; unblock_signals()
 *       takes it, as arch/um's loop takes signals_pending.
 *   an event while a process runs: exit EVENT (userspace(), process.c).
 *
 * UK_VDEV_EVENT_TIMER plays SIGALRM (timer_real_alarm_handler), console
 * input and virtio queues' events play SIGIO (sigio_handler, which asks
 * os_waiting_for_events_epoll below which "fds" are ready),
 * UK_VDEV_EVENT_POWER the power button (power_kern.c).  Handlers always run
 * with the flag off.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <as-layout.h>
#include <irq_user.h>
#include <kern_util.h>
#include <os.h>
#include <sysdep/ptrace.h>
#include <sysdep/ptrace_user.h>
#include "power.h"
#include "ukvm.h"

int signals_enabled;
unsigned long ukvm_sigio_pending;  /* SIGIO raised by the kernel itself */
static int console_ready;           /* fd 0 may have bytes: tell sigio_handler */
static unsigned long virtio_ready;  /* UK_VDEV_EVENT_VIRTIO bits not yet reported */
static int sigio_round;             /* sigio_handler's next poll reports once */
static int in_timer;                /* the timer handler runs: do not nest it */
struct uml_pt_regs *ukvm_event_user_regs;
unsigned long ukvm_last_fault_ip, ukvm_last_fault_addr;   /* for the panic message */


static unsigned long take_pending(void)
{
	return __atomic_exchange_n(&ukvm_vcpu->pending, 0, __ATOMIC_SEQ_CST);
}

/* Run the handlers for `bits`, with the flag off (as arch/um's signal
 * handlers run).  SIGIO first: the timer handler may schedule. */
static void dispatch(unsigned long bits)
{
	static struct uml_pt_regs r;    /* 3 KiB: not on an interrupted stack */
	/* taken once, before any handler can switch threads */
	struct uml_pt_regs *user_regs = ukvm_event_user_regs;

	ukvm_event_user_regs = NULL;

	if (bits & UK_VDEV_EVENT_CONSOLE)
		console_ready = 1;
	virtio_ready |= bits & UK_VDEV_EVENT_VIRTIO_ALL;
	if ((bits & (UK_VDEV_EVENT_CONSOLE | UK_VDEV_EVENT_VIRTIO_ALL)) || ukvm_sigio_pending) {
		ukvm_sigio_pending = 0;
		sigio_round = 1;
		memset(&r, 0, sizeof r);
		sigio_handler(SIGIO, NULL, &r);
	}
	if (bits & UK_VDEV_EVENT_POWER)
		ukvm_power_button();	/* queues Linux's orderly power-off */
	if ((bits & UK_VDEV_EVENT_TIMER) && !in_timer) {
		/* The tick charges its period to user or system time by
		 * user_mode(get_irq_regs()) (update_process_times): a tick that
		 * interrupted a process must carry that process's registers
		 * (is_user set), as a host's SIGALRM carries its mcontext;
		 * zeroed registers say "kernel" and every tick went to system
		 * time. */
		struct uml_pt_regs *tr = user_regs;

		in_timer = 1;
		if (!tr) {
			memset(&r, 0, sizeof r);
			tr = &r;
		}
		timer_handler(SIGALRM, NULL, tr);
		in_timer = 0;
	}
}

void block_signals(void)
{
	signals_enabled = 0;
	ukvm_vcpu->irq_enabled = 0;
	__asm__ volatile("" ::: "memory");
}

void unblock_signals(void)
{
	if (signals_enabled == 1)
		return;
	for (;;) {
		/* From here an event is an upcall; before, it waited in pending. */
		signals_enabled = 1;
		ukvm_vcpu->irq_enabled = 1;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!ukvm_vcpu->pending && !ukvm_sigio_pending)
			return;
		ukvm_vcpu->irq_enabled = 0;
		signals_enabled = 0;
		__asm__ volatile("" ::: "memory");
		dispatch(take_pending());
	}
}

int um_set_signals(int enable)
{
	int old = signals_enabled;
	if (old == enable)
		return enable;
	if (enable)
		unblock_signals();
	else
		block_signals();
	return old;
}

/* (block_signals_trace and friends are arch/um's, kernel/signal.c) */
int um_set_signals_trace(int enable)
{
	int old = signals_enabled;
	if (old == enable)
		return enable;
	if (enable)
		unblock_signals_trace();
	else
		block_signals_trace();
	return old;
}
void block_signals_hard(void) { block_signals(); }
void unblock_signals_hard(void) { unblock_signals(); }

void mark_sigio_pending(void)
{
	ukvm_sigio_pending = 1;
}

void send_sigio_to_self(void)
{
	ukvm_sigio_pending = 1;
	if (signals_enabled) {
		block_signals();
		unblock_signals();
	}
}

/* After a system call of ours made with the flag on: an event that came
 * meanwhile made no upcall (the vCPU was in the microkernel), so look. */
void ukvm_poll_events(void)
{
	if (signals_enabled && (ukvm_vcpu->pending || ukvm_sigio_pending)) {
		block_signals();
		unblock_signals();
	}
}

/* Idle, with the flag off (arch_cpu_idle enables it after): sleep until an
 * event.  The receive ends at once if one is already pending, so none is
 * slept through. */
void ukvm_wait_for_events(void)
{
	if (ukvm_vcpu->pending || ukvm_sigio_pending)
		return;
	uk_sys(UK_SYS_RECV, UK_GUEST_SLOT_EVENTS, uk_msginfo(0, 0, UK_TIMEOUT_INFINITE),
	       0, 0, 0, 0);
}

/* --- upcalls --------------------------------------------------------------
 * entry.c (ukvm_entry) calls this on the interrupted kernel stack (below its red zone)
 * for exits UPCALL and KERNEL_FAULT.  The frame is copied out of the state
 * page first: a nested upcall (a handler enabling interrupts) would
 * overwrite `saved`.  It is written back just before RESUME(0). */
static void kernel_fault(struct uk_regs *frame, unsigned long addr, unsigned long access)
{
	static struct uml_pt_regs r;

	memset(&r, 0, sizeof r);
	r.is_user = 0;
	ukvm_frame_to_gp(frame, r.gp);
	ukvm_last_fault_ip = frame->rip;
	ukvm_last_fault_addr = addr;
	r.faultinfo.cr2 = addr;
	r.faultinfo.error_code = access;
	r.faultinfo.trap_no = 14;
	segv_handler(SIGSEGV, NULL, &r);    /* fixes it, or long-jumps, or panics */
}

void ukvm_upcall(struct uk_vcpu_state *s)
{
	struct uk_regs frame = s->saved;
	unsigned long reason = s->exit_reason;
	unsigned long addr = s->exit_addr, access = s->exit_access;

	signals_enabled = 0;          /* the microkernel cleared irq_enabled */
	if (reason == UK_VCPU_EXIT_KERNEL_FAULT)
		kernel_fault(&frame, addr, access);
	else
		dispatch(take_pending());
	s->saved = frame;
	signals_enabled = 1;          /* RESUME(0) sets irq_enabled with the frame */
	long err = uk_vcpu_resume(0, 0, 0, 0);
	ukvm_printf("ukvm: cannot return from an upcall: error %ld\n", err);
	ukvm_power(UK_VDEV_POWER_HALT, UKVM_EXIT_PANIC);
}

/* --- the epoll of arch/um/kernel/irq.c, on our pseudo-fds ---------------- */
#define MAX_IRQ_FDS 24     /* the console, a virtio queue each (4 x 4) and spare */
static struct {
	int fd, events;
	void *data;
} irq_fds[MAX_IRQ_FDS];
static int n_irq_fds;
static struct {
	int events;
	void *data;
} triggered[MAX_IRQ_FDS];

#define EV_READ 0x1
#define EV_WRITE 0x4

int os_setup_epoll(void)
{
	n_irq_fds = 0;
	return 0;
}

int os_event_mask(enum um_irq_type irq_type)
{
	if (irq_type == IRQ_READ)
		return EV_READ;
	if (irq_type == IRQ_WRITE)
		return EV_WRITE;
	return 0;
}

int os_add_epoll_fd(int events, int fd, void *data)
{
	for (int i = 0; i < n_irq_fds; i++)
		if (irq_fds[i].fd == fd)
			return os_mod_epoll_fd(events, fd, data);
	if (n_irq_fds == MAX_IRQ_FDS)
		return -ENOSPC;
	irq_fds[n_irq_fds].fd = fd;
	irq_fds[n_irq_fds].events = events;
	irq_fds[n_irq_fds].data = data;
	n_irq_fds++;
	return 0;
}

int os_mod_epoll_fd(int events, int fd, void *data)
{
	for (int i = 0; i < n_irq_fds; i++)
		if (irq_fds[i].fd == fd) {
			irq_fds[i].events = events;
			irq_fds[i].data = data;
			return 0;
		}
	return -ENOENT;
}

int os_del_epoll_fd(int fd)
{
	for (int i = 0; i < n_irq_fds; i++)
		if (irq_fds[i].fd == fd) {
			irq_fds[i] = irq_fds[--n_irq_fds];
			return 0;
		}
	return -ENOENT;
}

/* Is pseudo-fd fd readable in this round?  fd 0 when console input came; a
 * virtio queue's fd (UKVM_VIRTIO_FD_BASE..) when its event came. */
static int fd_readable(int fd)
{
	if (fd == 0)
		return console_ready;
	if (fd >= UKVM_VIRTIO_FD_BASE &&
	    fd < UKVM_VIRTIO_FD_BASE + (int)(UK_VIRTIO_MAX_DEVS * UK_VIRTIO_MAX_QUEUES))
		return !!(virtio_ready &
			  (1ul << (UK_VDEV_EVENT_VIRTIO_SHIFT + fd - UKVM_VIRTIO_FD_BASE)));
	return 0;
}

/* Edge-triggered, as arch/um asks: sigio_handler polls until nothing is
 * reported, so each SIGIO round reports once: the console if input came,
 * the virtio queues whose events came, and write interest (writes never
 * block here, so there is room). */
int os_waiting_for_events_epoll(void)
{
	int n = 0;
	if (!sigio_round)
		return 0;
	sigio_round = 0;
	for (int i = 0; i < n_irq_fds; i++) {
		int ev = 0;
		if ((irq_fds[i].events & EV_READ) && fd_readable(irq_fds[i].fd))
			ev |= EV_READ;
		if (irq_fds[i].events & EV_WRITE)
			ev |= EV_WRITE;
		if (ev) {
			triggered[n].events = ev;
			triggered[n].data = irq_fds[i].data;
			n++;
		}
	}
	console_ready = 0;
	virtio_ready = 0;
	return n;
}

void *os_epoll_get_data_pointer(int index)
{
	return triggered[index].data;
}

int os_epoll_triggered(int index, int events)
{
	return triggered[index].events & events;
}

void os_set_ioignore(void) { }
void os_close_epoll_fd(void) { }
void um_irqs_suspend(void) { }
void um_irqs_resume(void) { }

/* Host signal plumbing that has nothing to do here. */
void set_sigstack(void *sig_stack, int size) { (void)sig_stack; (void)size; }
void set_handler(int sig) { (void)sig; }
int change_sig(int signal, int on) { (void)signal; (void)on; return 0; }
void timer_set_signal_handler(void) { }
void register_pm_wake_signal(void) { }
void deliver_alarm(void) { }
void init_new_thread_signals(void) { }
void os_fix_helper_signals(void) { }
int os_is_signal_stack(void) { return 0; }

/* SIGIO emulation: every pseudo-fd has its event bit already. */
int add_sigio_fd(int fd) { (void)fd; return 0; }
int ignore_sigio_fd(int fd) { (void)fd; return 0; }
int __add_sigio_fd(int fd) { (void)fd; return 0; }
int __ignore_sigio_fd(int fd) { (void)fd; return 0; }
void maybe_sigio_broken(int fd) { (void)fd; }
void sigio_broken(int fd) { (void)fd; }
