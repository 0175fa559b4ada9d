/*
 * The console server (docs/vmm-server.md "The console server"): started from the
 * boot module `console-server` before the vmm-servers, in a task of its own
 * with its caps in the UK_CONSOLE_SLOT_* slots, at CONSOLE_PRIO (above the
 * vmm-servers: each line is out before its writer runs again).
 *
 * Per guest n (1..UK_CONSOLE_MAX_CLIENTS, its index) the server may signal
 * the vmm-server's bell (launch.c makes it; the vmm-server waits on it in
 * UK_VMM_SLOT_INPUT) through a copy in slot UK_CONSOLE_SLOT_CLIENT0 + n - 1
 * badged UK_VDEV_EVENT_CONSOLE: input came; the server learns the guest's
 * name (UK_CONSOLE_ADD_CLIENT) and the vmm-server gets a send-only copy of
 * the server's endpoint badged n (UK_VMM_SLOT_CONSOLE).  When the
 * vmm-server has ended: its counters are reported, UK_CONSOLE_REMOVE_CLIENT
 * prints what is left of its output, the server's copy of the bell goes.
 *
 * Our own cap of the endpoint (badge 0) is the control cap.  The server's
 * fault endpoint is the root's endpoint with badge CONSOLE_BADGE: should
 * it fault, it is destroyed with its endpoint, so the vmm-servers' calls
 * fail at once and they fall back to the kernel log.
 */
#include "root.h"
#include <user/loader.h>

#define COM1          0x3f8
#define CONSOLE_KMEM  (1ul << 20)          /* it creates no objects */
#define CALL_TIMEOUT  uk_timeout_us(2000000)

static struct {
    int live;
    uk_word_t task, thread, ep, ports, irq, irqn, fault_ep;
    int added[UK_CONSOLE_MAX_CLIENTS + 1];         /* [n]: guest n is a client */
} C;
static struct uk_loaded loaded;

static void say(const char *what, long err)
{
    printf("root task: console server: %s (error %ld)\n", what, err);
}

/* A control request (badge 0); its status (uk_ipc_failed() if the IPC failed). */
static long control(uk_word_t op, const uk_word_t *w, unsigned n, uk_word_t reply[7])
{
    struct uk_msg m = { .info = uk_msginfo(op, n, CALL_TIMEOUT) };
    uk_msg_set_words(&m, uk_ipc_buf, w, n);
    long err = uk_call(C.ep, &m);
    if (err)
        return uk_ipc_failed(err);
    if (reply)
        for (unsigned i = 0; i < 7; i++)
            reply[i] = i < uk_msg_len(m.info) ? uk_msg_word(&m, uk_ipc_buf, i) : 0;
    return (long)m.w[0];
}

int console_start(const struct uk_bootinfo *bi, int module, uk_word_t root_ep)
{
    const struct uk_boot_module *mod = &bi->modules[module];
    long err;

    memset(&C, 0, sizeof C);
    if ((err = uk_task_new(CONSOLE_KMEM, UK_CONSOLE_SLOTS, 0, &C.task))) {
        say("no task", err);
        return 0;
    }
    if ((err = uk_load_elf(C.task, (const void *)(UK_PHYS_WINDOW + mod->phys), mod->size,
                           &loaded))) {
        printf("root task: console server: %s (error %ld)\n", loaded.error, err);
        goto fail;
    }
    C.ep = uk_slot_alloc();
    C.ports = uk_slot_alloc();
    C.irq = uk_slot_alloc();
    C.irqn = uk_slot_alloc();
    C.fault_ep = uk_slot_alloc();
    if ((err = uk_endpoint_create(C.ep)) ||
        (err = uk_cap_copy(C.ep, C.task, UK_CONSOLE_SLOT_EP, UK_R_READ, 0))) {
        say("its endpoint", err);
        goto fail;
    }
    if ((err = uk_ioport_issue(UK_SLOT_IOPORT_ALL, COM1, 8, C.ports)) ||
        (err = uk_cap_copy(C.ports, C.task, UK_CONSOLE_SLOT_PORTS, UK_R_ALL, 0))) {
        say("the COM1 ports", err);
        goto fail;
    }
    /* without input it still prints: IRQ trouble is reported, not fatal */
    if ((err = uk_irq_get(UK_SLOT_IRQ_CONTROL, 4, C.irq)) ||
        (err = uk_cap_copy(C.irq, C.task, UK_CONSOLE_SLOT_IRQ, UK_R_ALL, 0)) ||
        (err = uk_notif_create(C.irqn)) ||
        (err = uk_cap_copy(C.irqn, C.task, UK_CONSOLE_SLOT_IRQ_NOTIF, UK_R_READ | UK_R_WRITE, 0)))
        say("IRQ 4 not given: no console input", err);
    /* the kernel log, to report trouble with its own ports and IRQ */
    if ((err = uk_cap_copy(UK_SLOT_DEBUG, C.task, UK_SLOT_DEBUG, UK_R_WRITE, 0)))
        say("the kernel log not given", err);
    if ((err = uk_cap_copy(root_ep, UK_SLOT_SELF_TASK, C.fault_ep, UK_R_WRITE, CONSOLE_BADGE)) ||
        (err = uk_start_program(C.task, &loaded, CONSOLE_PRIO, C.fault_ep, 0, &C.thread))) {
        say("not started", err);
        goto fail;
    }
    C.live = 1;
    printf("root task: console server started; guests' output and input go through it\n");
    return 1;
fail:
    uk_obj_destroy(C.task);
    if (C.ep)
        uk_obj_destroy(C.ep);
    return 0;
}

/* Gives vmm-server `task` (guest `index`) its console caps; 0 if it has none. */
int console_add_guest(uk_word_t index, const char *name, uk_word_t task, uk_word_t bell)
{
    long err, st;
    if (!C.live)
        return 0;
    if (index < 1 || index > UK_CONSOLE_MAX_CLIENTS) {
        printf("root task: %s: the console server takes %u guests: its output goes to the "
               "kernel log, no input\n", name, UK_CONSOLE_MAX_CLIENTS);
        return 0;
    }
    uk_word_t in_slot = UK_CONSOLE_SLOT_CLIENT0 + index - 1;
    uk_cap_delete(C.task, in_slot);      /* an earlier guest n's, if any */
    if ((err = uk_cap_copy(bell, C.task, in_slot, UK_R_WRITE, UK_VDEV_EVENT_CONSOLE))) {
        printf("root task: %s: no console input notification (error %ld)\n", name, err);
        return 0;
    }
    uk_word_t w[1 + 4] = { index };
    memcpy(&w[1], name, strlen(name) < 31 ? strlen(name) : 31);
    if ((st = control(UK_CONSOLE_ADD_CLIENT, w, 5, 0)) != 0) {
        printf("root task: %s: the console server refused it as a client (status %ld)\n",
               name, st);
        uk_cap_delete(C.task, in_slot);
        return 0;
    }
    C.added[index] = 1;
    if ((err = uk_cap_copy(C.ep, task, UK_VMM_SLOT_CONSOLE, UK_R_WRITE, index))) {
        printf("root task: %s: console caps not given (error %ld)\n", name, err);
        console_remove_guest(index, name);
        return 0;
    }
    return 1;
}

/* Guest `index`'s vmm-server is gone: report, print its rest, forget it. */
void console_remove_guest(uk_word_t index, const char *name)
{
    uk_word_t r[7];
    if (!C.live || index < 1 || index > UK_CONSOLE_MAX_CLIENTS || !C.added[index])
        return;
    if (control(UK_CONSOLE_INFO, &index, 1, r) == 0)
        printf("root task: %s: %lu lines of output through the console server, %lu lost; "
               "%lu bytes of input lost\n", name, r[2], r[3], r[5]);
    control(UK_CONSOLE_REMOVE_CLIENT, &index, 1, 0);
    uk_cap_delete(C.task, UK_CONSOLE_SLOT_CLIENT0 + index - 1);   /* the bell is launch.c's */
    C.added[index] = 0;
}

/* Everything of the server's goes: its task, its endpoint (the vmm-servers'
 * calls fail at once and they fall back to the kernel log), its IRQ and
 * ports; a later console_start begins afresh. */
static void console_stop(void)
{
    C.live = 0;
    uk_obj_destroy(C.task);
    uk_obj_destroy(C.ep);
    if (C.irqn)
        uk_obj_destroy(C.irqn);
    if (C.irq)
        uk_obj_destroy(C.irq);           /* IRQ 4 free for the next server */
    uk_cap_delete(UK_SLOT_SELF_TASK, C.ports);
    uk_cap_delete(UK_SLOT_SELF_TASK, C.fault_ep);
    /* every slot a start took, back: a campaign of restarts (the
     * supervisor's swifi=console) would run our capability table out after
     * about 500 (as it did for the block server, blk.c) */
    uk_word_t slots[] = { C.task, C.thread, C.ep, C.ports, C.irq, C.irqn, C.fault_ep };
    for (unsigned k = 0; k < sizeof slots / sizeof *slots; k++)
        if (slots[k])
            uk_slot_free(slots[k]);
    C.task = C.thread = C.ep = C.ports = C.irq = C.irqn = C.fault_ep = 0;
}

int console_fault(uk_word_t badge, const struct uk_msg *m)
{
    if (badge != CONSOLE_BADGE || !C.live)
        return 0;
    printf("root task: console server faulted (%s 0x%lx); destroyed: output goes to the "
           "kernel log\n", uk_msg_label(m->info) == UK_FAULT_PAGE ? "page fault at" : "exception",
           m->w[0]);
    console_stop();
    return 1;
}

uk_word_t console_thread(void)
{
    return C.live ? C.thread : 0;
}

long console_ping(uk_word_t timeout)
{
    if (!C.live)
        return UK_E_INVAL;
    uk_word_t w[1] = { 0 };              /* client 0: none; any answer will do */
    struct uk_msg m = { .info = uk_msginfo(UK_CONSOLE_INFO, 1, timeout) };
    uk_msg_set_words(&m, uk_ipc_buf, w, 1);
    return uk_call(C.ep, &m);
}

int console_restart(const struct uk_bootinfo *bi, int module, uk_word_t root_ep)
{
    if (C.live)
        console_stop();
    return console_start(bi, module, root_ep);
}

/* The running server's program image (our view of its pages): the
 * supervisor's bit flips (flip.c); 0 if it is not running. */
const struct uk_loaded *console_image(void)
{
    return C.live ? &loaded : 0;
}
