/*
 * The root task (root.h): it gets every resource at boot.  It prints the
 * banner and runs an IPC self-test (a server thread in its own address
 * space answering calls), then starts the console servers (if their modules
 * are there) and a vmm-server for each guest module, and waits, reporting each
 * vmm-server that ends.
 *
 * Its own command line, words:
 *   exit               end QEMU right after the self-test (tests)
 *   exit-after-guests  end QEMU once every vmm-server has ended, with the
 *                      exit status of guest 1, the first `guest` module
 *                      (tests, tools/run/boot-guest; abi.h UK_VMM_STATUS_*)
 *   power-wait=S       after the power button, wait S seconds (1..3600) for
 *                      the guests to power off (default POWER_OFF_WAIT_S)
 *
 * The power button (acpi.c, docs/shutdown.md): every vmm-server is asked to
 * power its guest off; when all have ended, or POWER_OFF_WAIT_S later (the
 * ones left are named and stopped), or at a second press, the machine
 * powers off (ACPI S5; with exit-after-guests, QEMU's exit as above).
 */
#include "root.h"

#define SERVER_STACK_PAGES 4
#define POWER_OFF_WAIT_S   30      /* for every guest to power off after the button */
#define POWER_OFF_WAIT_MAX 3600

static unsigned char server_stack[SERVER_STACK_PAGES * UK_PAGE_SIZE]
    __attribute__((aligned(UK_PAGE_SIZE)));
static unsigned char server_ipc[UK_PAGE_SIZE] __attribute__((aligned(UK_PAGE_SIZE)));
static struct guest_desc guests[ROOT_MAX_GUESTS];
static int nguests;

/* Answers each call with the sum of its words and label + 1. */
static void server(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE) };
    uk_recv(ep, &m);
    for (;;) {
        uk_word_t sum = m.w[0] + m.w[1] + m.w[2] + m.w[3];
        m.info = uk_msginfo(uk_msg_label(m.info) + 1, 1, UK_TIMEOUT_INFINITE);
        m.w[0] = sum;
        uk_reply_recv(ep, &m);
    }
}

static int self_test(void)
{
    uk_word_t ep = uk_slot_alloc(), th = uk_slot_alloc();
    int passed = 0, failed = 0;
    if (uk_endpoint_create(ep) || uk_thread_create(th, UK_SLOT_SELF_TASK) ||
        uk_thread_config(th, 200, 0, (uk_word_t)server_ipc) ||
        uk_thread_start(th, (uk_word_t)server,
                        (uk_word_t)(server_stack + sizeof server_stack - 8), ep)) {
        printf("ipc self-test: cannot start the server\n");
        return -1;
    }
    for (uk_word_t i = 0; i < 1000; i++) {
        struct uk_msg m = { .info = uk_msginfo(i, 4, UK_TIMEOUT_INFINITE), .w = { i, 2 * i, 3, 4 } };
        long err = uk_call(ep, &m);
        if (!err && uk_msg_label(m.info) == i + 1 && m.w[0] == 3 * i + 7)
            passed++;
        else
            failed++;
    }
    printf("ipc self-test: %d passed, %d failed\n", passed, failed);
    return failed;
}

/* Is `w` a word of the command line? */
static int has_word(const char *cmd, const char *w)
{
    unsigned long n = strlen(w);
    for (const char *p = cmd; *p; ) {
        if (!strncmp(p, w, n) && (p[n] == ' ' || p[n] == 0))
            return 1;
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* The number N of a word `name=N` of the command line (1..max); `dflt`
 * if it is not there, reported and `dflt` if it is not such a number. */
static uk_word_t word_value(const char *cmd, const char *name, uk_word_t max, uk_word_t dflt)
{
    unsigned long n = strlen(name);
    for (const char *p = cmd; *p; ) {
        if (!strncmp(p, name, n) && p[n] == '=') {
            uk_word_t v = 0;
            const char *q = p + n + 1;
            while (*q >= '0' && *q <= '9' && v <= max)
                v = v * 10 + (uk_word_t)(*q++ - '0');
            if ((*q == ' ' || *q == 0) && q > p + n + 1 && v >= 1 && v <= max)
                return v;
            printf("root task: %s= wants a number 1..%lu: %lu used\n", name, max, dflt);
            return dflt;
        }
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    return dflt;
}

/* The kernel pool's free frames now (UK_SYS_DEBUG_STATS through our debug
 * cap), 0 if the call fails. */
static uk_word_t free_frames(void)
{
    struct uk_stats s;
    if (uk_debug_stats() != UK_OK)
        return 0;
    memcpy(&s, uk_ipc_buf->data, sizeof s);
    return s.free_frames;
}

/* Starts the console server and the guests' vmm-servers; how many
 * vmm-servers run.  *kmem: our kernel memory in use just before the vmm-servers (all of
 * it comes back when they have ended); *frames: the kernel pool's free frames then. */
static int start_guests(const struct uk_bootinfo *bi, uk_word_t ep, uk_word_t *kmem,
                        uk_word_t *frames)
{
    int running = 0;
    int vmm = find_modules(bi, guests, &nguests);
    if (nguests == 0)
        return 0;
    if (vmm < 0) {
        printf("root task: %d guest(s) but no vmm-server module\n", nguests);
        return 0;
    }
    if (uk_endpoint_create(ep)) {
        printf("root task: cannot make an endpoint\n");
        return 0;
    }
    uk_pages_init(bi);
    console_start_all(bi, ep);         /* one per `console-server [com=N]` line */
    blk_start_all(bi, ep);             /* one per `blk-server` line */
    net_start_all(bi, ep);             /* one per `net-server` line */
    uk_kmem_info(UK_SLOT_SELF_TASK, kmem, 0);
    *frames = free_frames();
    supervise_init(bi, ep, guests, nguests, vmm);
    for (int i = 0; i < nguests; i++)
        running += launch_vmm(bi, vmm, (uk_word_t)i + 1, &guests[i], ep) == UK_OK;
    return running;
}

/* exit-after-guests: QEMU's exit status.  Guest 1's, not the worst of
 * all: one guest is what tools/run/boot-guest runs, and a test image may stop
 * broken guests on purpose.  A refused first `guest` line counts as a
 * guest that never started; no guest lines at all, as success. */
static uk_word_t exit_status(const struct uk_bootinfo *bi, const char **who)
{
    int first = find_module(bi, "guest");
    *who = "no guest";
    if (first < 0)
        return 0;
    *who = "the first guest line was refused";
    if (nguests == 0 || guests[0].kernel != first)
        return UK_VMM_STATUS_NOT_STARTED;
    *who = guests[0].name;
    return vmm_status(1);
}

int main(const struct uk_bootinfo *bi)
{
    printf("root task: %s, ABI %lu, TSC %lu kHz, %lu boot modules\n",
           bi->kernel_version, bi->abi_version, bi->tsc_hz / 1000, bi->nmodules);
    uk_word_t free_bytes = 0;
    for (uk_word_t i = 0; i < bi->nranges; i++)
        free_bytes += bi->ranges[i].size;
    printf("root task: %lu MiB of memory, %lu KiB kernel-memory quota\n",
           free_bytes >> 20, bi->root_kmem_quota >> 10);

    int failed = self_test();
    if (failed < 0)
        return 1;
    const char *cmd = bi->strings + bi->root_cmdline;
    if (has_word(cmd, "exit")) {
        printf("root task: exiting QEMU\n");
        uk_exit_qemu(UK_SLOT_IOPORT_ALL, failed ? 1 : 0);
    }

    acpi_start();                        /* before the guests: a press then waits */
    uk_word_t ep = uk_slot_alloc(), kmem_before = 0, kmem_after = 0, frames_before = 0;
    int running = start_guests(bi, ep, &kmem_before, &frames_before);
    int exit_after = has_word(cmd, "exit-after-guests");
    int powering_off = 0, stopped = 0;
    uk_word_t wait_s = word_value(cmd, "power-wait", POWER_OFF_WAIT_MAX, POWER_OFF_WAIT_S);
    uk_word_t deadline = 0;              /* TSC: the guests' time to power off is up */
    if (running)
        printf("root task: %d vmm-server(s) running; waiting for them\n", running);
    while (running > 0) {
        uk_word_t timeout = UK_TIMEOUT_INFINITE, now = uk_rdtsc();
        uk_word_t due = supervise_due();     /* the supervisor's next action (TSC) */
        if (powering_off && (!due || deadline < due))
            due = deadline;
        if (due)
            timeout = now < due ? uk_timeout_us((due - now) * 1000000 / bi->tsc_hz + 1)
                                : UK_TIMEOUT_ZERO;
        struct uk_msg m = { .info = uk_msginfo(0, 0, timeout) };
        long err = uk_recv(ep, &m);
        if (err == UK_E_TIMEOUT && supervise_due() && supervise_due() <= uk_rdtsc()) {
            supervise_run();
        } else if (err == UK_E_TIMEOUT && powering_off && uk_rdtsc() >= deadline) {
            printf("root task: power button: %d guest(s) did not power off within %lu s\n",
                   running, wait_s);
            stopped = vmm_stop_all();
            running -= stopped;
        } else if (err == UK_OK && (uk_msg_flags(m.info) & UK_MSGF_NOTIFY)) {
            if (!acpi_event(m.badge))
                continue;
            if (powering_off) {
                printf("root task: power button pressed again: not waiting any longer\n");
                stopped = vmm_stop_all();
                running -= stopped;
                continue;
            }
            printf("root task: power button: asking %d guest(s) to power off (%lu s)\n",
                   running, wait_s);
            powering_off = 1;
            deadline = uk_rdtsc() + wait_s * bi->tsc_hz;
            vmm_power_off_all();
        } else if (err == UK_OK && !supervise_fault(m.badge, &m) && !console_fault(m.badge, &m) &&
                   !blk_fault(m.badge, &m) && !net_fault(m.badge, &m) && vmm_ended(m.badge, &m)) {
            running -= !supervise_vmm_ended(m.badge);   /* 1: started again */
        }
    }
    uk_kmem_info(UK_SLOT_SELF_TASK, &kmem_after, 0);
    if (kmem_before)                     /* a leak check, for the tests */
        printf("root task: kernel memory in use: %lu KiB before the vmm-servers, %lu KiB "
               "after: %s\n", kmem_before >> 10, kmem_after >> 10,
               kmem_after == kmem_before ? "all given back" : "NOT all given back");
    if (kmem_before && frames_before) {  /* the whole machine's: every task's objects */
        uk_word_t frames_after = free_frames();
        printf("root task: kernel pool free frames: %lu before the vmm-servers, %lu after: %s\n",
               frames_before, frames_after,
               frames_after == frames_before ? "all given back" : "NOT all given back");
    }
    if (exit_after) {
        const char *who;
        uk_word_t st = exit_status(bi, &who);
        printf("root task: every vmm-server has ended; exiting QEMU with status %lu (%s)\n",
               st, who);
        if (st > 127) {                  /* isa-debug-exit: QEMU exits with (st << 1) | 1 */
            printf("root task: status %lu does not fit QEMU's exit status (0..127): 127\n", st);
            st = 127;
        }
        uk_exit_qemu(UK_SLOT_IOPORT_ALL, (int)st);
    }
    if (powering_off) {
        if (stopped)
            printf("root task: the guests have ended, %d of them stopped\n", stopped);
        else
            printf("root task: every guest has powered off\n");
        acpi_power_off();
    }
    printf("root task: idle (the power button powers the machine off)\n");
    if (acpi_wait_button())
        acpi_power_off();
    for (;;)
        uk_thread_suspend(UK_SLOT_SELF_THREAD);
}
