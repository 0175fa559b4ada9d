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

/* Output: at most UK_VDEV_BYTES_MAX bytes a call; when the console server
 * is full ("again"), wait for an event and retry, a bounded number of
 * times, so a stuck console costs lost text rather than a stuck guest. */
void ukvm_console_write(const char *s, unsigned long n)
{
	uk_word_t words[1 + UK_VDEV_BYTES_MAX / 8];
	while (n) {
		uk_word_t k = n < UK_VDEV_BYTES_MAX ? n : UK_VDEV_BYTES_MAX;
		words[0] = k;
		memcpy(&words[1], s, k);
		for (int tries = 0; tries < 200; tries++) {
			if (ukvm_vdev_call(UK_VDEV_CONSOLE_WRITE, 1 + (k + 7) / 8, words, NULL) !=
			    UK_VDEV_EAGAIN)
				break;
			uk_yield();
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
