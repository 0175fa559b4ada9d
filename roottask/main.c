/*
 * The root task: it gets every resource at boot.  For now it prints the
 * banner and runs an IPC self-test (a server thread in its own address
 * space answering calls); the vmm-server launcher comes with issue 4.
 */
#include <uk/rt.h>

#define SLOT_EP      8
#define SLOT_THREAD  9
#define SERVER_STACK_PAGES 4

static unsigned char server_stack[SERVER_STACK_PAGES * 4096] __attribute__((aligned(4096)));
static unsigned char server_ipc[4096] __attribute__((aligned(4096)));

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

int main(const struct uk_bootinfo *bi)
{
    printf("root task: %s, ABI %lu, TSC %lu kHz, %lu boot modules\n",
           bi->kernel_version, bi->abi_version, bi->tsc_hz / 1000, bi->nmodules);
    uk_word_t free_bytes = 0;
    for (uk_word_t i = 0; i < bi->nranges; i++)
        free_bytes += bi->ranges[i].size;
    printf("root task: %lu MiB of memory, %lu KiB kernel-memory quota\n",
           free_bytes >> 20, bi->root_kmem_quota >> 10);

    int passed = 0, failed = 0;
    if (uk_endpoint_create(SLOT_EP) || uk_thread_create(SLOT_THREAD, UK_SLOT_SELF_TASK) ||
        uk_thread_config(SLOT_THREAD, 200, 0, (uk_word_t)server_ipc) ||
        uk_thread_start(SLOT_THREAD, (uk_word_t)server,
                        (uk_word_t)(server_stack + sizeof server_stack - 8), SLOT_EP)) {
        printf("ipc self-test: cannot start the server\n");
        return 1;
    }
    for (uk_word_t i = 0; i < 1000; i++) {
        struct uk_msg m = { .info = uk_msginfo(i, 4, UK_TIMEOUT_INFINITE), .w = { i, 2 * i, 3, 4 } };
        long err = uk_call(SLOT_EP, &m);
        if (!err && uk_msg_label(m.info) == i + 1 && m.w[0] == 3 * i + 7)
            passed++;
        else
            failed++;
    }
    printf("ipc self-test: %d passed, %d failed\n", passed, failed);
    const char *cmd = bi->strings + bi->root_cmdline;
    for (const char *p = cmd; *p; p++)
        if (!strncmp(p, "exit", 4)) {
            printf("root task: exiting QEMU\n");
            uk_exit_qemu(UK_SLOT_IOPORT_ALL, failed ? 1 : 0);
        }
    printf("root task: idle (Ctrl-A X quits QEMU)\n");
    for (;;)
        uk_thread_suspend(UK_SLOT_SELF_THREAD);
}
