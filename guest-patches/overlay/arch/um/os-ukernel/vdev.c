/*
 * Calls to our vmm-server's virtual devices (uk/abi.h "Virtual devices"):
 * one UK_SYS_CALL on UK_GUEST_SLOT_VMM each, the operation in the label,
 * message words 4.. in our IPC buffer, the device's status in the reply's
 * w0.  This file is the whole of the guest's device I/O: console, timer,
 * clock, power, and the host half of the virtio transport.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <ukvm_virtio.h>
#include "ukvm.h"

#define IPC ((struct uk_ipc_buffer *)UK_ROOT_IPC_BUFFER)

long ukvm_vdev_call(uk_word_t op, uk_word_t nwords, const uk_word_t *words,
		    uk_word_t out[UK_MSG_REG_WORDS])
{
	struct uk_msg m = { .info = uk_msginfo(op, nwords, UK_TIMEOUT_INFINITE) };
	uk_msg_set_words(&m, IPC, words, nwords);
	long status = uk_call_status(UK_GUEST_SLOT_VMM, &m, out);
	ukvm_poll_events();
	return status;
}

/* Output: at most UK_VDEV_BYTES_MAX bytes a call.  The vmm-server's flow
 * control (a token bucket of 8 KiB refilled at 8 KiB/s, docs/vmm-server.md)
 * answers "again" with the nanoseconds until it will take the chunk: we
 * sleep that long -- a receive on our event notification with that timeout,
 * so the CPU halts and an event that comes meanwhile ends the sleep early
 * and stays pending in the state page for its handler -- and send the chunk
 * again.  So a burst is slowed down to the console's rate, as by a real
 * serial line, and never cut (it was: 200 yields, then the chunk dropped,
 * uncounted).  Bounded all the same: a chunk still refused after
 * CONSOLE_WAIT_MAX_NS of guest time (a vmm-server that keeps saying
 * "again") is dropped and its bytes counted (console_lost_bytes in
 * /proc/ukvm), so a broken console costs counted text, not a stuck kernel.
 * A dead console server never answers "again": the vmm-server puts our text
 * on the kernel log until one is back (vmm-server/conout.c). */
#define CONSOLE_WAIT_MAX_NS   5000000000ull   /* per chunk, in all */
#define CONSOLE_SLEEP_MAX_NS  100000000ull    /* one sleep at most (a bad w1) */
unsigned long ukvm_console_waits, ukvm_console_lost_bytes;

/* The microkernel ends a vCPU's receive at once while events are pending
 * (they came before it blocked), and ours often are: a write with
 * interrupts off (printk, the tty's lock) cannot take them, and the sleep
 * was a spin (334,034 "sleeps" for a 33 KB burst).  So the bits are held
 * here while we sleep and put back after: the microkernel only ORs into
 * the word, so none is lost, and one that comes meanwhile ends the sleep
 * early; the next ukvm_vdev_call's ukvm_poll_events takes them. */
static void console_sleep(uk_word_t ns)
{
	unsigned long held;

	if (ns > CONSOLE_SLEEP_MAX_NS)
		ns = CONSOLE_SLEEP_MAX_NS;
	held = ukvm_vcpu ? __atomic_exchange_n(&ukvm_vcpu->pending, 0, __ATOMIC_SEQ_CST)
			 : 0;   /* (none before start.c has our state page) */
	uk_sys(UK_SYS_RECV, UK_GUEST_SLOT_EVENTS,
	       uk_msginfo(0, 0, uk_timeout_us(ns / 1000 + 1)), 0, 0, 0, 0);
	if (held)
		__atomic_fetch_or(&ukvm_vcpu->pending, held, __ATOMIC_SEQ_CST);
}

void ukvm_console_write(const char *s, unsigned long n)
{
	uk_word_t words[1 + UK_VDEV_BYTES_MAX / 8], out[UK_MSG_REG_WORDS];
	while (n) {
		uk_word_t k = n < UK_VDEV_BYTES_MAX ? n : UK_VDEV_BYTES_MAX;
		unsigned long long first = 0;
		words[0] = k;
		memcpy(&words[1], s, k);
		while (ukvm_vdev_call(UK_VDEV_CONSOLE_WRITE, 1 + (k + 7) / 8, words, out) ==
		       UK_VDEV_EAGAIN) {
			unsigned long long now = uk_rdtsc();
			if (!first)
				first = now;
			else if (ukvm_tsc_to_ns(now - first) > CONSOLE_WAIT_MAX_NS) {
				ukvm_console_lost_bytes += k;
				break;
			}
			ukvm_console_waits++;
			console_sleep(out[1]);
		}
		s += k;
		n -= k;
	}
}

/* Input: what is there now (0 bytes if nothing); never waits. */
long ukvm_console_read(char *buf, unsigned long n)
{
	uk_word_t out[UK_MSG_REG_WORDS], req[1];
	if (n > UK_VDEV_BYTES_MAX)
		n = UK_VDEV_BYTES_MAX;
	req[0] = n;
	long st = ukvm_vdev_call(UK_VDEV_CONSOLE_READ, 1, req, out);
	if (st < 0)
		return st;
	uk_word_t got = out[1];
	if (got > n)
		got = n;
	/* bytes from w2: words 2 and 3 in registers, the rest in the IPC buffer */
	for (uk_word_t i = 0; i < got; i++) {
		uk_word_t w = 2 + i / 8;
		uk_word_t word = w < UK_MSG_REG_WORDS ? out[w] : IPC->msg[w];
		buf[i] = (char)(word >> (8 * (i % 8)));
	}
	return (long)got;
}

long ukvm_timer_set(uk_word_t first_ns, uk_word_t period_ns)
{
	uk_word_t w[2] = { first_ns, period_ns };
	return ukvm_vdev_call(UK_VDEV_TIMER_SET, 2, w, NULL);
}

void ukvm_power(uk_word_t how, uk_word_t status)
{
	uk_word_t w[2] = { how, status & 0xff };
	ukvm_vdev_call(UK_VDEV_POWER, 2, w, NULL);   /* no reply: we are destroyed */
	for (;;)
		uk_sys(UK_SYS_THREAD_SUSPEND, 0, 0, 0, 0, 0, 0);
}

void ukvm_vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		return;
	ukvm_console_write(buf, (unsigned long)n < sizeof buf ? (unsigned long)n : sizeof buf - 1);
}

void ukvm_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ukvm_vprintf(fmt, ap);
	va_end(ap);
}

/* --- virtio (uk/abi.h UK_VDEV_VIRTIO_*; the kernel half is
 * arch/um/drivers/virtio_ukvm.c, the boundary ukvm_virtio.h) ------------- */

static int virtio_status(long st)
{
	if (uk_is_ipc_failure(st))
		return -EIO;
	return (int)st;     /* 0 or a negative errno number (UK_VDEV_E*) */
}

static int virtio_dev_ok(int dev)
{
	return dev >= 0 && (uk_word_t)dev < ukvm_gi->virtio_count &&
	       (uk_word_t)dev < UK_VIRTIO_MAX_DEVS;
}

int ukvm_virtio_devices(void)
{
	uk_word_t n = ukvm_gi->virtio_count;
	return (int)(n < UK_VIRTIO_MAX_DEVS ? n : UK_VIRTIO_MAX_DEVS);
}

int ukvm_virtio_type(int dev, int *queues)
{
	if (!virtio_dev_ok(dev))
		return -ENODEV;
	uk_word_t q = ukvm_gi->virtio[dev].queues;
	*queues = (int)(q < UK_VIRTIO_MAX_QUEUES ? q : UK_VIRTIO_MAX_QUEUES);
	return (int)ukvm_gi->virtio[dev].type;
}

int ukvm_virtio_queue_max(void)
{
	return UK_VIRTIO_QUEUE_MAX;
}

int ukvm_virtio_features(int dev, unsigned long long *features)
{
	uk_word_t w[1] = { (uk_word_t)dev }, out[UK_MSG_REG_WORDS];
	int st = virtio_status(ukvm_vdev_call(UK_VDEV_VIRTIO_FEATURES, 1, w, out));
	*features = st ? 0 : out[1];
	return st;
}

int ukvm_virtio_set_features(int dev, unsigned long long features)
{
	uk_word_t w[2] = { (uk_word_t)dev, features };
	return virtio_status(ukvm_vdev_call(UK_VDEV_VIRTIO_SET_FEATURES, 2, w, NULL));
}

int ukvm_virtio_config(int dev, unsigned int off, unsigned int len, unsigned long long *val)
{
	uk_word_t w[3] = { (uk_word_t)dev, off, len }, out[UK_MSG_REG_WORDS];
	int st = virtio_status(ukvm_vdev_call(UK_VDEV_VIRTIO_CONFIG, 3, w, out));
	*val = st ? 0 : out[1];
	return st;
}

int ukvm_virtio_queue(int dev, int q, unsigned int num, unsigned long long desc,
		      unsigned long long avail, unsigned long long used)
{
	/* bus address b is physical address b: the guest address of physical 0 */
	uk_word_t w[7] = { (uk_word_t)dev, (uk_word_t)q, num, desc, avail, used,
			   ukvm_phys_guest_base() };
	return virtio_status(ukvm_vdev_call(UK_VDEV_VIRTIO_QUEUE, 7, w, NULL));
}

int ukvm_virtio_notify(int dev, int q)
{
	uk_word_t w[2] = { (uk_word_t)dev, (uk_word_t)q };
	return virtio_status(ukvm_vdev_call(UK_VDEV_VIRTIO_NOTIFY, 2, w, NULL));
}

int ukvm_virtio_reset(int dev)
{
	uk_word_t w[1] = { (uk_word_t)dev };
	return virtio_status(ukvm_vdev_call(UK_VDEV_VIRTIO_RESET, 1, w, NULL));
}

int ukvm_virtio_irq_fd(int dev, int q)
{
	if (!virtio_dev_ok(dev) || q < 0 || (unsigned)q >= UK_VIRTIO_MAX_QUEUES)
		return -EINVAL;
	return UKVM_VIRTIO_FD_BASE + dev * (int)UK_VIRTIO_MAX_QUEUES + q;
}
