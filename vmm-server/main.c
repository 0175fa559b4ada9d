/*
 * The vmm-server's start and its request loop (vmm.h).  rdi at start is the
 * struct uk_vmm_info page the root task mapped for us (uk/launch.h: how we end).
 */
#include "vmm.h"
#include "virtio.h"

struct vmm vmm;

static int info_usable(const struct uk_vmm_info *vi)
{
    return vi->magic == UK_VMM_INFO_MAGIC && vi->tsc_hz >= 1000000 &&
           vi->mem_base % UK_PAGE_SIZE == 0 && vi->mem_size % UK_PAGE_SIZE == 0 &&
           vi->mem_size >= 64 * UK_PAGE_SIZE &&  /* a bad kernel image: the loader refuses it */
           !(vi->flags & ~(uk_word_t)UK_VMM_F_KERNEL_FAULTS);   /* a root newer than us */
}

/* The guest's exit status for the root (abi.h UK_VMM_STATUS_*). */
static uk_word_t end_status(uk_word_t why)
{
    switch (why) {
    case UK_VMM_END_HALTED:      return vmm.halt_status;
    case UK_VMM_END_GUEST_FAULT: return UK_VMM_STATUS_GUEST_FAULT;
    case UK_VMM_END_LOAD_FAILED: return UK_VMM_STATUS_LOAD_FAILED;
    default:                     return UK_VMM_STATUS_VMM_FAILED;
    }
}

/* Tells the root we are done (it destroys our task); never returns. */
static __attribute__((noreturn)) void end(uk_word_t why)
{
    struct uk_msg m = { .info = uk_msginfo(UK_VMM_MSG_ENDED, 2, UK_TIMEOUT_INFINITE),
                        .w = { why, end_status(why) } };
    if (vmm.net)
        net_summary();
    uk_send(UK_VMM_SLOT_ROOT, &m);
    for (;;)
        uk_thread_suspend(UK_SLOT_SELF_THREAD);
}

/* Serves the guest until it halts, its kernel faults or a reboot fails. */
static uk_word_t serve(void)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE) };
    uk_word_t why = UK_VMM_END_HALTED;
    long err = uk_recv(SLOT_EP, &m);
    for (;;) {
        enum next next;
        if (err) {                       /* e.g. the caller vanished: just go on */
            m.info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE);
            err = uk_recv(SLOT_EP, &m);
            continue;
        }
        if (uk_msg_flags(m.info) & UK_MSGF_NOTIFY) {       /* our bell: badge = who rang */
            if (m.badge & UK_VDEV_EVENT_CONSOLE)
                con_input_ready();                        /* console input (conin.c) */
            if (m.badge & UK_VMM_BELL_POWER_OFF)
                power_button();                           /* the root (power.c) */
            if (m.badge & UK_VMM_INPUT_NET)
                net_rx_ready();                           /* frames in our ring (net.c) */
            if (m.badge & UK_VMM_BELL_PING) {             /* the supervisor's heartbeat:
                                                             answered here, by the loop */
                volatile struct uk_vmm_alive *a = (void *)UK_VMM_ALIVE_VA;
                a->pong = a->ping;
            }
            next = NEXT_RECEIVE;
        } else if (uk_msg_flags(m.info) & UK_MSGF_FAULT)   /* FAULT_BADGE, or the guest made
                                                              its device endpoint its fault one */
            next = guest_fault(&m, &why);
        else
            next = device_request(&m, &why);
        if (next == NEXT_REPLY && virtio_kicked()) {   /* virtio.c: reply first, so the
                                                          guest runs while we serve */
            uk_reply(&m);
            virtio_serve();
            next = NEXT_RECEIVE;
        }
        if (next == NEXT_END)
            return why;
        if (next == NEXT_RECEIVE) {
            m.info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE);
            err = uk_recv(SLOT_EP, &m);
        } else {
            err = uk_reply_recv(SLOT_EP, &m);   /* m: the reply (devices.c reply()) */
        }
    }
}

int main(const struct uk_bootinfo *arg)
{
    const struct uk_vmm_info *vi = (const struct uk_vmm_info *)arg;
    vmm.vi = vi;
    if (!info_usable(vi)) {
        printf("vmm-server: unusable vmm info at %p; ending\n", (const void *)vi);
        end(UK_VMM_END_BAD_INFO);
    }
    memcpy(vmm.name, vi->name, sizeof vmm.name - 1);
    vmm.ram_pages = vi->mem_size / UK_PAGE_SIZE;
    con_init();
    block_init();
    net_init();
    con_reset();

    long err;
    if ((err = uk_endpoint_create(SLOT_EP)) ||
        (err = uk_cap_copy(SLOT_EP, UK_SLOT_SELF_TASK, SLOT_FAULT_EP, UK_R_WRITE, FAULT_BADGE)) ||
        (err = timer_init())) {
        vmm_say("vmm-server: cannot set up (error %ld); ending", err);
        end(UK_VMM_END_LOAD_FAILED);
    }
    con_input_init();
    vmm_say("vmm-server: %lu MiB of RAM, kernel %lu KiB, initrd %lu KiB,%s cmdline \"%s\"",
            vi->mem_size >> 20, vi->kernel_size >> 10, vi->initrd_size >> 10,
            vi->flags & UK_VMM_F_KERNEL_FAULTS ? " kernel faults to the guest," : "",
            vi->cmdline);
    if (guest_boot())
        end(UK_VMM_END_LOAD_FAILED);
    end(serve());
}
