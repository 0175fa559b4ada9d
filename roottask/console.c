/*
 * The console servers (docs/vmm-server.md "The console server"): each
 * `console-server [com=N]` boot module line starts one, before the
 * vmm-servers, in a task of its own with its caps in the UK_CONSOLE_SLOT_*
 * slots, at CONSOLE_PRIO (above the vmm-servers: each line is out before
 * its writer runs again).  A server drives one UART, COM N (default 1;
 * uk/abi.h UK_CONSOLE_COM_*), and gets only that UART's 8 I/O ports and
 * its IRQ line (never the other UART's, never 0xf4, 0xcf9 or PCI
 * configuration space); its argument (rdi) says which ports those are.
 * One server per UART: server i drives COM i+1, is named "console"
 * (COM1) or "console2" (COM2) by the supervisor, and faults with badge
 * CONSOLE_BADGE + i.  A guest is a client of the server of its UART (the
 * guest line's `console=N`, default 1): one server for all guests (the
 * shared topology of docs/experiments.md) or one per guest (per-guest).
 *
 * Per guest n (1..UK_CONSOLE_MAX_CLIENTS, its index) the server may signal
 * the vmm-server's bell (launch.c makes it; the vmm-server waits on it in
 * UK_VMM_SLOT_INPUT) through a copy in slot UK_CONSOLE_SLOT_CLIENT0 + n - 1
 * badged UK_VDEV_EVENT_CONSOLE: input came; the server learns the guest's
 * name (UK_CONSOLE_ADD_CLIENT) and the vmm-server gets a send-only copy of
 * the server's endpoint badged n (UK_VMM_SLOT_CONSOLE).  A server whose
 * input focus is none of its clients (a COM2 server's first client is
 * rarely guest 1) gives it to the client just added.  When the vmm-server
 * has ended: its counters are reported, UK_CONSOLE_REMOVE_CLIENT prints
 * what is left of its output, the server's copy of the bell goes.
 *
 * Our own cap of the endpoint (badge 0) is the control cap.  Should a
 * server fault, it is destroyed with its endpoint, so its vmm-servers'
 * calls fail at once and they fall back to the kernel log (COM1); with
 * the supervisor's restart=console a new one is started on the same UART
 * and its clients reconnected (console_restart), the other server
 * untouched.  Every slot a server took is given back when it stops (a
 * restart used to take seven for good: ~500 restarts filled our table),
 * and a restart reuses the pages of the last run.
 */
#include "root.h"
#include <user/loader.h>

#define CONSOLE_KMEM  (1ul << 20)          /* it creates no objects */
#define CALL_TIMEOUT  uk_timeout_us(2000000)

struct con_server {                      /* ours (the root task's main thread) */
    int configured, module;              /* its `console-server` line (a restart's too) */
    int live;
    uk_word_t com;                       /* its UART, COM1 or COM2: srv[com - 1] */
    uk_word_t task, thread, ep, ports, irq, irqn, fault_ep;   /* our slots (0: none) */
    int added[UK_CONSOLE_MAX_CLIENTS + 1];         /* [n]: guest n is a client */
    /* its program's pages and its stack and IPC buffer: taken at the first
     * start, used again by every restart (its last task gone by then; the
     * pool cannot free, so fresh ones would be ~140 KiB lost a restart) */
    struct uk_kept_pages img;          /* its program's image, kept for a restart */
    struct uk_kept_pages stack;        /* its stack and IPC buffer, kept likewise */
    struct uk_loaded loaded;             /* its image as last loaded (flip.c flips it) */
};
static struct con_server srv[UK_CONSOLE_COM_MAX];
static const char *const names[UK_CONSOLE_COM_MAX] = { "console", "console2" };

static void say(const struct con_server *s, const char *what, long err)
{
    printf("root task: console server %s (COM%lu): %s (error %ld)\n", names[s->com - 1],
           s->com, what, err);
}

/* The server of COM `com` if it runs, else NULL. */
static struct con_server *server_of(uk_word_t com)
{
    return com >= 1 && com <= UK_CONSOLE_COM_MAX && srv[com - 1].live ? &srv[com - 1] : 0;
}

/* A control request (badge 0); its status (uk_ipc_failed() if the IPC failed). */
static long control(struct con_server *s, uk_word_t op, const uk_word_t *w, unsigned n,
                    uk_word_t reply[7])
{
    struct uk_msg m = { .info = uk_msginfo(op, n, CALL_TIMEOUT) };
    uk_msg_set_words(&m, uk_ipc_buf, w, n);
    long err = uk_call(s->ep, &m);
    if (err)
        return uk_ipc_failed(err);
    if (reply)
        for (unsigned i = 0; i < 7; i++)
            reply[i] = i < uk_msg_len(m.info) ? uk_msg_word(&m, uk_ipc_buf, i) : 0;
    return (long)m.w[0];
}

/* Everything of the server's goes: its task, its endpoint (the vmm-servers'
 * calls fail at once and they fall back to the kernel log), its IRQ and
 * ports, and every slot of ours that held them; a later start begins
 * afresh. */
static void stop(struct con_server *s)
{
    s->live = 0;
    if (s->task)
        uk_obj_destroy(s->task);         /* its thread with it */
    if (s->ep)
        uk_obj_destroy(s->ep);
    if (s->irqn)
        uk_obj_destroy(s->irqn);
    if (s->irq)
        uk_obj_destroy(s->irq);          /* the line free for the next server */
    uk_word_t slots[] = { s->task, s->thread, s->ep, s->ports, s->irq, s->irqn, s->fault_ep };
    for (unsigned k = 0; k < sizeof slots / sizeof *slots; k++)
        if (slots[k])
            uk_slot_free(slots[k]);      /* deletes what is left in it */
    s->task = s->thread = s->ep = s->ports = s->irq = s->irqn = s->fault_ep = 0;
    memset(s->added, 0, sizeof s->added);
}

/* Server s (its com and module set) started; 1 if it runs. */
static int start(struct con_server *s, const struct uk_bootinfo *bi, uk_word_t root_ep)
{
    const struct uk_boot_module *mod = &bi->modules[s->module];
    uk_word_t port = UK_CONSOLE_COM_PORT(s->com), line = UK_CONSOLE_COM_IRQ(s->com), lsr = 0;
    long err;

    /* QEMU without a second serial port reads 0xff there: a server on it
     * would take the floating line's bytes for input, for ever */
    if ((err = uk_inb(UK_SLOT_IOPORT_ALL, port + 5, &lsr)) || lsr == 0xff) {
        printf("root task: console server %s: no UART at 0x%lx (COM%lu; QEMU: a second "
               "-serial, tools/run/qemu-run COM2=1): not started; its guests print on the "
               "kernel log\n", names[s->com - 1], port, s->com);
        return 0;
    }
    if ((err = uk_task_new(CONSOLE_KMEM, UK_CONSOLE_SLOTS, 0, &s->task))) {
        say(s, "no task", err);
        s->task = 0;
        return 0;
    }
    s->live = 1;                         /* from here on, stop() undoes what was done */
    if ((err = uk_load_elf_with(s->task, (const void *)(UK_PHYS_WINDOW + mod->phys), mod->size,
                                UK_PAGE_SIZE, UK_PHYS_WINDOW, uk_kept_pages, &s->img, &s->loaded))) {
        say(s, s->loaded.error, err);
        goto fail;
    }
    s->ep = uk_slot_alloc();
    if ((err = uk_endpoint_create(s->ep)) ||
        (err = uk_cap_copy(s->ep, s->task, UK_CONSOLE_SLOT_EP, UK_R_READ, 0))) {
        say(s, "its endpoint", err);
        goto fail;
    }
    s->ports = uk_slot_alloc();
    if ((err = uk_ioport_issue(UK_SLOT_IOPORT_ALL, port, 8, s->ports)) ||
        (err = uk_cap_copy(s->ports, s->task, UK_CONSOLE_SLOT_PORTS, UK_R_ALL, 0))) {
        say(s, "its UART's ports", err);
        goto fail;
    }
    /* the cap reaches its UART's ports and no other: the other UART's, QEMU's
     * exit port, the reset and PCI configuration ports refuse it (a read:
     * the kernel checks the cap before any port is touched) */
    uk_word_t other = UK_CONSOLE_COM_PORT(3 - s->com), v = 0;
    if (uk_inb(s->ports, port + 5, &v) || !uk_inb(s->ports, other + 5, &v) ||
        !uk_inb(s->ports, 0xf4, &v) || !uk_inb(s->ports, 0xcf9, &v) ||
        !uk_inb(s->ports, 0xcf8, &v) || !uk_inb(s->ports, 0xcfc, &v)) {
        say(s, "its port cap is not its UART's alone", UK_E_RANGE);
        goto fail;
    }
    /* without input it still prints: IRQ trouble is reported, not fatal */
    s->irq = uk_slot_alloc();
    s->irqn = uk_slot_alloc();
    if ((err = uk_irq_get(UK_SLOT_IRQ_CONTROL, line, s->irq)) ||
        (err = uk_cap_copy(s->irq, s->task, UK_CONSOLE_SLOT_IRQ, UK_R_ALL, 0)) ||
        (err = uk_notif_create(s->irqn)) ||
        (err = uk_cap_copy(s->irqn, s->task, UK_CONSOLE_SLOT_IRQ_NOTIF,
                           UK_R_READ | UK_R_WRITE, 0)))
        say(s, "its IRQ not given: no console input", err);
    /* the kernel log, to report trouble with its own ports and IRQ */
    if ((err = uk_cap_copy(UK_SLOT_DEBUG, s->task, UK_SLOT_DEBUG, UK_R_WRITE, 0)))
        say(s, "the kernel log not given", err);
    s->fault_ep = uk_slot_alloc();
    void *stack = uk_kept_pages(&s->stack, UK_PROGRAM_STACK_PAGES + 1);
    if (!stack) {
        say(s, "no pages for its stack", UK_E_NOMEM);
        goto fail;
    }
    if ((err = uk_cap_copy(root_ep, UK_SLOT_SELF_TASK, s->fault_ep, UK_R_WRITE,
                           CONSOLE_BADGE + s->com - 1)) ||
        (err = uk_start_program_on(s->task, &s->loaded, CONSOLE_PRIO, s->fault_ep, port,
                                   stack, &s->thread))) {
        say(s, "not started", err);
        goto fail;
    }
    printf("root task: console server started on COM%lu (ports 0x%lx-0x%lx, IRQ %lu; "
           "target %s; 0x%lx, 0xf4, 0xcf8, 0xcf9, 0xcfc refused); its guests' output and "
           "input go through it\n", s->com, port, port + 7, line, names[s->com - 1], other);
    return 1;
fail:
    stop(s);
    return 0;
}

/* `com=N` of module line `module`: N, 1 if absent, 0 if wrong (reported). */
static uk_word_t com_word(const struct uk_bootinfo *bi, int module)
{
    const char *cmd = cmdline_of(bi, module), *p = cmd + word_len(cmd);
    uk_word_t com = 1;
    for (;;) {
        while (*p == ' ')
            p++;
        uk_word_t n = word_len(p);
        if (!n)
            return com;
        if (n == 5 && !strncmp(p, "com=", 4) && p[4] >= '1' &&
            p[4] < '1' + (int)UK_CONSOLE_COM_MAX)
            com = (uk_word_t)(p[4] - '0');
        else {
            printf("root task: module \"%s\": want `console-server [com=1..%u]`: not started\n",
                   cmd, UK_CONSOLE_COM_MAX);
            return 0;
        }
        p += n;
    }
}

int console_start_all(const struct uk_bootinfo *bi, uk_word_t root_ep)
{
    int started = 0, lines = 0;
    memset(srv, 0, sizeof srv);
    for (uk_word_t i = 0; i < bi->nmodules && i < UK_BOOT_MAX_MODULES; i++) {
        const char *cmd = cmdline_of(bi, (int)i);
        if (word_len(cmd) != 14 || strncmp(cmd, "console-server", 14))
            continue;
        lines++;
        uk_word_t com = com_word(bi, (int)i);
        if (!com)
            continue;
        struct con_server *s = &srv[com - 1];
        if (s->configured) {
            printf("root task: module \"%s\": COM%lu has a console server: not started\n",
                   cmd, com);
            continue;
        }
        *s = (struct con_server){ .configured = 1, .module = (int)i, .com = com };
        started += start(s, bi, root_ep);
    }
    if (!lines)
        printf("root task: no console-server module: guests print on the kernel log, "
               "no input\n");
    return started;
}

/* Gives vmm-server `task` (guest `index`) the console caps of COM `com`'s
 * server; 0 if it has none. */
int console_add_guest(uk_word_t com, uk_word_t index, const char *name, uk_word_t task,
                      uk_word_t bell)
{
    struct con_server *s = server_of(com);
    long err, st;
    if (!s) {
        int any = 0;
        for (unsigned k = 0; k < UK_CONSOLE_COM_MAX; k++)
            any |= srv[k].configured;
        if (any && (com < 1 || com > UK_CONSOLE_COM_MAX || !srv[com - 1].configured))
            printf("root task: %s: no console server on COM%lu: its output goes to the "
                   "kernel log, no input\n", name, com);
        return 0;                        /* (one that died: quietly, as before) */
    }
    if (index < 1 || index > UK_CONSOLE_MAX_CLIENTS) {
        printf("root task: %s: the console server takes %u guests: its output goes to the "
               "kernel log, no input\n", name, UK_CONSOLE_MAX_CLIENTS);
        return 0;
    }
    uk_word_t in_slot = UK_CONSOLE_SLOT_CLIENT0 + index - 1;
    uk_cap_delete(s->task, in_slot);     /* an earlier guest n's, if any */
    if ((err = uk_cap_copy(bell, s->task, in_slot, UK_R_WRITE, UK_VDEV_EVENT_CONSOLE))) {
        printf("root task: %s: no console input notification (error %ld)\n", name, err);
        return 0;
    }
    uk_word_t w[1 + 4] = { index };
    memcpy(&w[1], name, strlen(name) < 31 ? strlen(name) : 31);
    if ((st = control(s, UK_CONSOLE_ADD_CLIENT, w, 5, 0)) != 0) {
        printf("root task: %s: the console server refused it as a client (status %ld)\n",
               name, st);
        uk_cap_delete(s->task, in_slot);
        return 0;
    }
    s->added[index] = 1;
    uk_word_t r[7];
    if (control(s, UK_CONSOLE_INFO, &index, 1, r) == 0 &&
        (r[6] < 1 || r[6] > UK_CONSOLE_MAX_CLIENTS || !s->added[r[6]]))
        control(s, UK_CONSOLE_FOCUS, &index, 1, 0);   /* its input to a client of its own */
    if ((err = uk_cap_copy(s->ep, task, UK_VMM_SLOT_CONSOLE, UK_R_WRITE, index))) {
        printf("root task: %s: console caps not given (error %ld)\n", name, err);
        console_remove_guest(com, index, name);
        return 0;
    }
    return 1;
}

/* Guest `index`'s vmm-server is gone: report, print its rest, forget it. */
void console_remove_guest(uk_word_t com, uk_word_t index, const char *name)
{
    struct con_server *s = server_of(com);
    uk_word_t r[7];
    if (!s || index < 1 || index > UK_CONSOLE_MAX_CLIENTS || !s->added[index])
        return;
    if (control(s, UK_CONSOLE_INFO, &index, 1, r) == 0)
        printf("root task: %s: %lu lines of output through the console server, %lu lost; "
               "%lu bytes of input lost\n", name, r[2], r[3], r[5]);
    control(s, UK_CONSOLE_REMOVE_CLIENT, &index, 1, 0);
    uk_cap_delete(s->task, UK_CONSOLE_SLOT_CLIENT0 + index - 1);   /* the bell is launch.c's */
    s->added[index] = 0;
}

int console_fault(uk_word_t badge, const struct uk_msg *m)
{
    if (badge < CONSOLE_BADGE || badge >= CONSOLE_BADGE + UK_CONSOLE_COM_MAX)
        return 0;
    struct con_server *s = server_of(badge - CONSOLE_BADGE + 1);
    if (!s)
        return 0;
    printf("root task: console server %s (COM%lu) faulted (%s 0x%lx); destroyed: its guests' "
           "output goes to the kernel log\n", names[s->com - 1], s->com,
           uk_msg_label(m->info) == UK_FAULT_PAGE ? "page fault at" : "exception", m->w[0]);
    stop(s);
    return 1;
}

uk_word_t console_thread(int i)
{
    struct con_server *s = server_of((uk_word_t)i + 1);
    return s ? s->thread : 0;
}

long console_ping(int i, uk_word_t timeout, uk_word_t *printed, uk_word_t *queued)
{
    struct con_server *s = server_of((uk_word_t)i + 1);
    *printed = *queued = 0;
    if (!s)
        return UK_E_INVAL;
    uk_word_t w[1] = { 0 };              /* client 0: the server's own totals */
    struct uk_msg m = { .info = uk_msginfo(UK_CONSOLE_INFO, 1, timeout) };
    uk_msg_set_words(&m, uk_ipc_buf, w, 1);
    long err = uk_call(s->ep, &m);
    if (!err && m.w[0] == 0 && uk_msg_len(m.info) >= 5) {   /* else: answered, no figures */
        *printed = uk_msg_word(&m, uk_ipc_buf, 2);
        *queued = uk_msg_word(&m, uk_ipc_buf, 4);
    }
    return err;
}

int console_restart(const struct uk_bootinfo *bi, int i, uk_word_t root_ep)
{
    if (i < 0 || i >= (int)UK_CONSOLE_COM_MAX || !srv[i].configured)
        return -1;
    struct con_server *s = &srv[i];
    if (s->live)
        stop(s);
    if (!start(s, bi, root_ep))
        return -1;
    int n = vmm_console_reconnect(s->com);
    /* the leak check (tests/console/per-guest): the same after every restart */
    printf("root task: console server %s (COM%lu): restarted, %d client(s) reconnected; "
           "root task slots in use: %lu, free pages: %lu\n", names[i], s->com, n,
           uk_slots_used(), uk_pages_left());
    return n;
}

const char *console_name(int i)
{
    return i >= 0 && i < (int)UK_CONSOLE_COM_MAX ? names[i] : "console?";
}

/* Server i's program image (our view of its pages): the supervisor's bit
 * flips (flip.c); 0 if it is not running. */
const struct uk_loaded *console_image(int i)
{
    return i >= 0 && i < (int)UK_CONSOLE_COM_MAX && srv[i].live ? &srv[i].loaded : 0;
}
