/*
 * The guest's device requests (uk/abi.h "Virtual devices"; the disk's in
 * block.c, the virtio transport's in virtio.c) and its kernel's
 * faults.  Every request is checked before it is acted on -- operation,
 * message length, byte count, arguments: vdev.c, which the host fuzzer
 * runs -- and answered at once (a disk
 * request when the block server has answered it, within its timeout): a bad one
 * gets UK_VDEV_EINVAL (or _EFAULT when the bytes are not in the message,
 * _EAGAIN when the console's flow control says no); nothing a guest sends
 * can make us block or stop serving.
 */
#include "vmm.h"
#include "virtio.h"

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

static enum next console_write(struct uk_msg *m, const struct vdev_req *r)
{
    uk_word_t wait_ns;
    long st = con_admit(r->count, &wait_ns);
    if (st)
        return reply(m, st, 2, wait_ns, 0, 0);
    return reply(m, 0, 2, con_write(r->bytes, r->count), 0, 0);
}

/* Input bytes (conin.c), as many as asked and there are; more than fit in a
 * message: as many as fit. */
static enum next console_read(struct uk_msg *m, const struct vdev_req *r)
{
    unsigned char bytes[UK_VDEV_BYTES_MAX];
    uk_word_t got = con_read(bytes, r->count);
    reply(m, 0, 2 + (got + 7) / 8, got, 0, 0);
    for (uk_word_t i = 0; i < (got + 7) / 8; i++) {
        uk_word_t w = 0;
        memcpy(&w, bytes + i * 8, got - i * 8 < 8 ? got - i * 8 : 8);
        uk_msg_set_word(m, uk_ipc_buf, 2 + i, w);
    }
    return NEXT_REPLY;
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
static enum next power(const struct vdev_req *r, uk_word_t *end_why)
{
    uk_word_t how = r->how, status = r->status;
    con_flush();
    guest_destroy();
    if (how == UK_VDEV_POWER_REBOOT && vmm.power_off_asked) {
        vmm_say("reboot after the power button: halted instead");
        how = UK_VDEV_POWER_HALT;        /* power.c */
        status = 0;
    }
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
    static struct vdev_req r;         /* one request at a time: the main thread's */
    struct vdev_limits lim = { vmm.ram_pages * UK_PAGE_SIZE, vmm.disk };
    if (m->badge != GUEST_BADGE)                   /* nobody else holds a send cap */
        return reply(m, UK_VDEV_EINVAL, 1, 0, 0, 0);
    uk_word_t op = uk_msg_label(m->info);
    if (op >= UK_VDEV_VIRTIO_FEATURES && op <= UK_VDEV_VIRTIO_RESET) {
        uk_word_t out[4] = { 0 };     /* virtio.c checks them: they need its devices' state */
        long vst = virtio_request(op, uk_msg_len(m->info), m, out);
        return reply(m, vst, 2, out[1], 0, 0);
    }
    long st = vdev_decode(m, uk_ipc_buf, &lim, &r);
    if (st)
        return reply(m, st, vdev_reply_words(r.op), 0, 0, 0);
    switch (r.op) {
    case UK_VDEV_CONSOLE_WRITE:
        return console_write(m, &r);
    case UK_VDEV_CONSOLE_READ:
        return console_read(m, &r);
    case UK_VDEV_TIMER_SET:
        timer_set(r.first_ns, r.first_ns ? r.period_ns : 0);
        return reply(m, 0, 1, 0, 0, 0);
    case UK_VDEV_CLOCK_GET:
        return clock_request(m);
    case UK_VDEV_POWER:
        return power(&r, end_why);
    default: {                        /* UK_VDEV_BLOCK_*: vdev_decode knows no other */
        uk_word_t out[4] = { 0 };
        st = block_request(&r, out);
        return reply(m, st, vdev_reply_words(r.op), out[1], out[2], out[3]);
    }
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
