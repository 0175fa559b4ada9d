/*
 * The host layer's own boundary: what the os-ukernel files share.  Everything
 * the microkernel or the vmm-server defines comes from libipc's uk/abi.h and
 * uk/syscall.h; this header only names our globals and helpers.
 *
 * The story of one guest system call (docs/guest-linux.md, "Control flow"):
 * userspace() copies the process's registers into the vCPU state page and
 * RESUMEs the process's task; the process runs `syscall`; the microkernel
 * saves its registers in the state page and enters us at ukvm_entry on the
 * entry stack; the entry stub saves the process's FPU state into its
 * regs->fp and long-jumps back into userspace(), which hands the call to
 * arch/um's handle_syscall() and loops.  Two microkernel entries, two
 * address-space switches.
 */
#ifndef UKVM_HOST_H
#define UKVM_HOST_H

#include <stdarg.h>
#include <uk/abi.h>
#include <uk/syscall.h>

extern struct uk_guest_info *ukvm_gi;       /* from the vmm-server, read-only */
extern struct uk_vcpu_state *ukvm_vcpu;     /* our vCPU's state page */

/* Virtual devices (vdev.c): one call to the vmm-server each. */
long ukvm_vdev_call(uk_word_t op, uk_word_t nwords, const uk_word_t *words,
		    uk_word_t out[UK_MSG_REG_WORDS]);
void ukvm_console_write(const char *s, unsigned long n);
/* flow control made us wait; bytes dropped after waiting too long (/proc/ukvm) */
extern unsigned long ukvm_console_waits, ukvm_console_lost_bytes;
long ukvm_console_read(char *buf, unsigned long n);
long ukvm_timer_set(uk_word_t first_ns, uk_word_t period_ns);
void ukvm_power(uk_word_t how, uk_word_t status) __attribute__((noreturn));
void ukvm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ukvm_vprintf(const char *fmt, va_list ap);

/* Events (signal.c): bits in ukvm_vcpu->pending taken with irqs off. */
void ukvm_wait_for_events(void);
void ukvm_poll_events(void);
extern unsigned long ukvm_sigio_pending;    /* software-raised SIGIO */
/* Set by userspace() while it runs the handlers of the events that made a
 * process exit (EVENT): the process's registers, so that the timer tick sees
 * user_mode() and charges the tick to user time (NULL otherwise). */
struct uml_pt_regs;
extern struct uml_pt_regs *ukvm_event_user_regs;

/* Physical memory (mem.c): "physical address" o lives at uml_physmem + o. */
#define UKVM_PHYSMEM_FD 3
#define UKVM_NULL_FD 5        /* file.c has the pseudo-fds */
unsigned long ukvm_phys_to_ram(unsigned long long off);
/* The guest address of "physical" 0: physical p is guest address p + this
 * from the first free RAM page on (start.c); a virtio bus address is a
 * physical one (vdev.c). */
unsigned long ukvm_phys_guest_base(void);
/* Virtio queue interrupts (signal.c, vdev.c): pseudo-fd BASE + dev *
 * UK_VIRTIO_MAX_QUEUES + q is "readable" when event
 * UK_VDEV_EVENT_VIRTIO(dev, q) came. */
#define UKVM_VIRTIO_FD_BASE 16
void ukvm_mm_init(unsigned int nslots);   /* at start: bookkeeping for each slot */
void ukvm_mm_forget(int slot);     /* a new task: nothing mapped yet */

/* Process tasks (process.c) */
struct uk_regs;
void ukvm_frame_to_gp(const struct uk_regs *u, unsigned long *gp);
extern unsigned long ukvm_last_fault_ip, ukvm_last_fault_addr;
void ukvm_process_init(unsigned long cap_slots);   /* at start (start.c) */
int ukvm_slot_alloc(void);
void ukvm_slot_free(int slot);
void ukvm_process_ran(int slot);  /* its first resume: no longer counted ahead */
void ukvm_process_kmem(unsigned long *used, unsigned long *room, unsigned long *tasks);

/* The runtime (rt.c) */
void ukvm_rt_init(unsigned long brk_start, unsigned long brk_limit);

/* Time (time.c) */
unsigned long long ukvm_tsc_to_ns(unsigned long long tsc);

/* Exit statuses (UK_VDEV_POWER w1) a guest reports when it stops. */
#define UKVM_EXIT_PANIC UK_VDEV_POWER_STATUS_PANIC

#endif
