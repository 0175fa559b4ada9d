/*
 * The guest's device requests (uk/abi.h "Virtual devices"; the disk's in
 * block.c) and its kernel's
 * faults.  Every request is checked before it is acted on -- operation,
 * message length, byte count, arguments -- and answered at once (a disk
 * request when the block server has answered it, within its timeout): a bad one
 * gets UK_VDEV_EINVAL (or _EFAULT when the bytes are not in the message,
 * _EAGAIN when the console's flow control says no); nothing a guest sends
 * can make us block or stop serving.
 */
#include "vmm.h"
#include "virtio.h"

#define MIN_PERIOD_NS 1000000ul   /* the microkernel's tick: nothing finer is real */

/* Message word i of the request just received (words 4.. in our IPC buffer). */
static uk_word_t word(const struct uk_msg *m, uk_word_t i)
{
    return uk_msg_word(m, uk_ipc_buf, i);
}

static enum next reply(struct uk_msg *m, long status, uk_word_t nwords, uk_word_t w1,
                       uk_word_t w2, uk_word_t w3)
{
    m->info = uk_msginfo(0, nwords, UK_TIMEOUT_INFINITE);
    m->w[0] = (uk_word_t)status;
    m->w[1] = w1;
    m->w[2] = w2;
    m->w[3] = w3;
    return NEXT_REPLY;
}

static enum next console_write(struct uk_msg *m, uk_word_t len)
{
    uk_word_t n = m->w[0];
    if (len < 1 || n > UK_VDEV_BYTES_MAX)
        return reply(m, UK_VDEV_EINVAL, 2, 0, 0, 0);
    if (len < 1 + (n + 7) / 8)                     /* fewer words than bytes said */
        return reply(m, UK_VDEV_EFAULT, 2, 0, 0, 0);
    long st = con_admit(n);
    if (st)
        return reply(m, st, 2, 0, 0, 0);
    unsigned char bytes[UK_VDEV_BYTES_MAX];
    for (uk_word_t i = 0; i < (n + 7) / 8; i++) {
        uk_word_t w = word(m, 1 + i);
        memcpy(bytes + i * 8, &w, n - i * 8 < 8 ? n - i * 8 : 8);
    }
    return reply(m, 0, 2, con_write(bytes, n), 0, 0);
}

/* Input bytes (conin.c), as many as asked and there are; more than fit in a
 * message: as many as fit. */
static enum next console_read(struct uk_msg *m, uk_word_t len)
{
    if (len < 1)
        return reply(m, UK_VDEV_EINVAL, 2, 0, 0, 0);
    unsigned char bytes[UK_VDEV_BYTES_MAX];
    uk_word_t max = m->w[0] < UK_VDEV_BYTES_MAX ? m->w[0] : UK_VDEV_BYTES_MAX;
    uk_word_t got = con_read(bytes, max);
    reply(m, 0, 2 + (got + 7) / 8, got, 0, 0);
    for (uk_word_t i = 0; i < (got + 7) / 8; i++) {
        uk_word_t w = 0;
        memcpy(&w, bytes + i * 8, got - i * 8 < 8 ? got - i * 8 : 8);
        uk_msg_set_word(m, uk_ipc_buf, 2 + i, w);
    }
    return NEXT_REPLY;
}

static enum next timer_request(struct uk_msg *m, uk_word_t len)
{
    uk_word_t first = m->w[0], period = m->w[1];
    if (len < 2 || (period && period < MIN_PERIOD_NS))
        return reply(m, UK_VDEV_EINVAL, 1, 0, 0, 0);
    timer_set(first, first ? period : 0);
    return reply(m, 0, 1, 0, 0, 0);
}

static enum next clock_request(struct uk_msg *m)
{
    const struct uk_vmm_info *vi = vmm.vi;
    uk_word_t now = uk_rdtsc();
    uk_word_t wall = vi->wallclock_ns + tsc_to_ns(now - vi->wallclock_tsc);
    return reply(m, 0, 4, wall, now, vi->tsc_hz);
}

/* Halt (with an exit status for the root: w1, none: 0) or reboot: the
 * guest's vCPU waits for no reply (it is destroyed). */
static enum next power(struct uk_msg *m, uk_word_t len, uk_word_t *end_why)
{
    uk_word_t how = m->w[0], status = len >= 2 ? m->w[1] : 0;
    if (len < 1 || (how != UK_VDEV_POWER_HALT && how != UK_VDEV_POWER_REBOOT) ||
        (how == UK_VDEV_POWER_HALT && status > UK_VDEV_POWER_STATUS_MAX))
        return reply(m, UK_VDEV_EINVAL, 1, 0, 0, 0);
    con_flush();
    guest_destroy();
    if (how == UK_VDEV_POWER_HALT) {
        vmm_say("halted (status %lu)", status);
        vmm.halt_status = status;
        *end_why = UK_VMM_END_HALTED;
        return NEXT_END;
    }
    uk_word_t used = 0;
    uk_kmem_info(UK_SLOT_SELF_TASK, &used, 0);     /* the same at every boot: no leak */
    vmm_say("reboot: loading the guest kernel again (boot %u; %lu KiB of our kernel memory "
            "in use)", vmm.boots + 1, used >> 10);
    con_reset();
    if (guest_boot()) {
        *end_why = UK_VMM_END_LOAD_FAILED;
        return NEXT_END;
    }
    return NEXT_RECEIVE;
}

enum next device_request(struct uk_msg *m, uk_word_t *end_why)
{
    uk_word_t len = uk_msg_len(m->info);
    if (m->badge != GUEST_BADGE)                   /* nobody else holds a send cap */
        return reply(m, UK_VDEV_EINVAL, 1, 0, 0, 0);
    switch (uk_msg_label(m->info)) {
    case UK_VDEV_CONSOLE_WRITE:
        return console_write(m, len);
    case UK_VDEV_CONSOLE_READ:
        return console_read(m, len);
    case UK_VDEV_TIMER_SET:
        return timer_request(m, len);
    case UK_VDEV_CLOCK_GET:
        return clock_request(m);
    case UK_VDEV_POWER:
        return power(m, len, end_why);
    case UK_VDEV_BLOCK_INFO:
    case UK_VDEV_BLOCK_READ:
    case UK_VDEV_BLOCK_WRITE:
    case UK_VDEV_BLOCK_FLUSH: {
        uk_word_t out[4] = { 0 };
        long st = block_request(uk_msg_label(m->info), len, m, out);
        return reply(m, st, uk_msg_label(m->info) == UK_VDEV_BLOCK_INFO ? 4 : 1, out[1],
                     out[2], out[3]);
    }
    case UK_VDEV_VIRTIO_FEATURES:
    case UK_VDEV_VIRTIO_SET_FEATURES:
    case UK_VDEV_VIRTIO_CONFIG:
    case UK_VDEV_VIRTIO_QUEUE:
    case UK_VDEV_VIRTIO_NOTIFY:
    case UK_VDEV_VIRTIO_RESET: {
        uk_word_t out[4] = { 0 };
        long st = virtio_request(uk_msg_label(m->info), len, m, out);
        return reply(m, st, 2, out[1], 0, 0);
    }
    default:
        return reply(m, UK_VDEV_EINVAL, 1, 0, 0, 0);
    }
}

static const char *exception_name(uk_word_t v)
{
    static const char *const names[] = {
        "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
        "invalid opcode", "device not available", "double fault", "coprocessor",
        "invalid TSS", "segment not present", "stack fault", "general protection",
        "page fault",
    };
    return v < sizeof names / sizeof names[0] ? names[v] : "exception";
}

/* The guest kernel itself faulted (its processes' faults are exits to it,
 * never come here).  All its memory is mapped from the start, so a fault
 * is a guest bug: report it and stop the guest; the others go on. */
enum next guest_fault(struct uk_msg *m, uk_word_t *end_why)
{
    con_flush();
    if (uk_msg_label(m->info) == UK_FAULT_PAGE) {
        uk_word_t acc = m->w[1];
        vmm_say("guest kernel fault: page fault at 0x%lx (%s%s) at rip 0x%lx; guest stopped",
                m->w[0], acc & UK_ACCESS_WRITE ? "write" : acc & UK_ACCESS_EXEC ? "exec" : "read",
                acc & UK_ACCESS_PRESENT ? ", not allowed" : ", not mapped", m->w[2]);
    } else {
        struct uk_regs r;
        uk_word_t *w = (uk_word_t *)&r;
        for (uk_word_t i = 0; i < UK_REGS_WORDS; i++)
            w[i] = i < uk_msg_len(m->info) ? word(m, i) : 0;
        vmm_say("guest kernel fault: %s (vector %lu, error 0x%lx) at rip 0x%lx, rsp 0x%lx; "
                "guest stopped", exception_name(r.vector), r.vector, r.error, r.rip, r.rsp);
    }
    guest_destroy();
    *end_why = UK_VMM_END_GUEST_FAULT;
    return NEXT_END;
}
