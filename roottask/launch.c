/*
 * Starting one vmm-server for one guest (docs/vmm-server.md).  The vmm-server gets
 * a task of its own with a kernel-memory quota that covers its guest's too
 * (it creates the guest's tasks from it), and, mapped into that task:
 *
 *   VMM_INFO_VA     struct uk_vmm_info, read-only (its rdi at start)
 *   VMM_MEM_VA      the guest's RAM: fresh pages of ours, nobody else's,
 *                   read/write and granted execute (the guest kernel's code
 *                   runs from it)
 *   VMM_KERNEL_VA   the guest kernel module, read-only
 *   VMM_INITRD_VA   the initrd module, read-only
 *
 * plus in its table: its task and thread (uk_start_program_on),
 * UK_VMM_SLOT_ROOT, a send-only cap of our endpoint badged with the guest's
 * index (the same badge is on its fault endpoint, so whatever way it ends,
 * main.c's wait loop hears of it), UK_VMM_SLOT_INPUT, its bell: a
 * notification of ours it binds to its main thread, rung by the console
 * server (input), by the network server (frames) and by us (the power
 * button: UK_VMM_BELL_POWER_OFF), and,
 * if the console server runs, UK_VMM_SLOT_CONSOLE (console.c), and, with
 * `disk=D`, UK_VMM_SLOT_BLK and the window at UK_VMM_BLK_WINDOW: a client of
 * the block server on disk D (blk.c), and, with `net`, UK_VMM_SLOT_NET and
 * the window at UK_VMM_NET_WINDOW: port `index` of the network server
 * (net.c), which rings the same bell (UK_VMM_INPUT_NET).
 */
#include "root.h"
#include <user/loader.h>
#include <uk/launch.h>
#include <uk/blk.h>
#include <uk/net.h>

#define VMM_INFO_VA   0x10000000ul
#define VMM_MEM_VA    0x1000000000ul
#define VMM_KERNEL_VA 0x2000000000ul
#define VMM_INITRD_VA 0x3000000000ul
#define NODE_COST     96u        /* kernel memory per mapped page: node + page tables */

struct vmm_rec {
    int live, console, disk, net;
    int ended;                /* its ending was heard: status is valid */
    uk_word_t status;         /* the guest's exit status (abi.h UK_VMM_STATUS_*) */
    uk_word_t index;
    uk_word_t com;            /* its console server's UART (the guest line's console=) */
    char name[32];
    uk_word_t task, thread, fault_ep;
    uk_word_t bell;           /* its bell (unbadged; destroyed with it) */
    uk_word_t bell_power;     /* our copy badged UK_VMM_BELL_POWER_OFF */
    uk_word_t bell_ping;      /* our copy badged UK_VMM_BELL_PING (the supervisor's) */
};
static struct vmm_rec vmms[ROOT_MAX_GUESTS + 1];   /* by badge (the guest's index) */

/* What a guest's vmm-server is given in pages of ours, taken at its first
 * start and kept by its restarts (supervise.c): our pool never takes pages
 * back, so a restart that took fresh ones would lose them for good.  Each
 * is reused as it is (zeroed where a cold boot needs it). */
struct vmm_kept {
    struct uk_kept_pages img;          /* the vmm-server's program image */
    struct uk_kept_pages stack;        /* its stack and IPC buffer */
    struct uk_vmm_info *info;          /* its info page */
    struct uk_vmm_alive *alive;        /* its heartbeat page (mapped read/write at
                                          UK_VMM_ALIVE_VA) */
    unsigned char *ram;                /* its guest's RAM (our view) */
    uk_word_t ram_pages;
    struct uk_kept_pages copy[2];      /* its kernel's, its initrd's copy when the module
                                          shares a page with another (map_module) */
};
static struct vmm_kept kept[ROOT_MAX_GUESTS + 1];
static struct uk_loaded loaded;

static uk_word_t pages_of(uk_word_t bytes) { return (bytes + UK_PAGE_SIZE - 1) / UK_PAGE_SIZE; }

/* Maps module i read-only at va; *base gets its first byte's address there.
 * A module that shares a page with another one is copied first (into the
 * pages `copy` keeps), so the vmm-server sees its own module and nothing of
 * another's. */
static long map_module(const struct uk_bootinfo *bi, int i, uk_word_t task, uk_word_t va,
                       struct uk_kept_pages *copy_pages, uk_word_t *base)
{
    const struct uk_boot_module *m = &bi->modules[i];
    uk_word_t lo = m->phys & ~(UK_PAGE_SIZE - 1);
    uk_word_t hi = (m->phys + m->size + UK_PAGE_SIZE - 1) & ~(UK_PAGE_SIZE - 1);
    uk_word_t src = UK_PHYS_WINDOW + lo, off = m->phys - lo;
    int shared = 0;
    for (uk_word_t k = 0; k < bi->nmodules && k < UK_BOOT_MAX_MODULES; k++) {
        const struct uk_boot_module *o = &bi->modules[k];
        if ((int)k != i && o->phys < hi && o->phys + o->size > lo)
            shared = 1;
    }
    if (shared) {
        unsigned char *copy = uk_kept_pages(copy_pages, pages_of(m->size));
        if (!copy)
            return UK_E_NOMEM;
        memcpy(copy, (const void *)(UK_PHYS_WINDOW + m->phys), m->size);
        src = (uk_word_t)copy;
        off = 0;
    }
    *base = va + off;
    uk_word_t n = pages_of(off + m->size);
    return n ? uk_map(task, src, va, n, UK_MAP_READ) : UK_OK;
}

/* Destroys a vmm-server's task (with its guest's) and our caps for it, and
 * gives their slots back: a restart then takes exactly the slots this one
 * had (the leak check: supervise.c's restart events). */
static void destroy_vmm(struct vmm_rec *r)
{
    if (r->task)
        uk_obj_destroy(r->task);         /* its thread with it */
    if (r->console)                      /* after the task: nothing more comes from it */
        console_remove_guest(r->com, r->index, r->name);
    if (r->disk)
        blk_remove_client(r->index);
    if (r->net) {
        net_report(r->index, r->name);
        net_remove_client(r->index);
    }
    if (r->bell)                         /* every copy goes with it */
        uk_obj_destroy(r->bell);
    uk_word_t slots[] = { r->task, r->thread, r->fault_ep, r->bell, r->bell_power,
                          r->bell_ping };
    for (unsigned k = 0; k < sizeof slots / sizeof *slots; k++)
        if (slots[k])
            uk_slot_free(slots[k]);      /* deletes what is left in it */
    r->live = r->console = r->disk = r->net = 0;
    r->task = r->thread = r->fault_ep = r->bell = r->bell_power = r->bell_ping = 0;
}

static long give_up(struct vmm_rec *r, const char *what, long err)
{
    printf("root task: %s: cannot start its vmm-server: %s (error %ld)\n", r->name, what, err);
    destroy_vmm(r);
    return err;
}

/* `net`, `net=N`: port r->index of the network server of NIC 0 (N), ringing the vmm-server's
 * bell (badge UK_VMM_INPUT_NET). */
static void add_net(struct vmm_rec *r, const struct guest_desc *g)
{
    if (r->index > UK_NET_MAX_CLIENTS) {
        printf("root task: %s: the network server takes %u clients: no network\n", g->name,
               UK_NET_MAX_CLIENTS);
        return;
    }
    if (net_add_client(r->index, g->net, r->task, UK_VMM_NET_WINDOW, UK_VMM_NET_WINDOW_PAGES,
                       UK_VMM_SLOT_NET, r->bell, UK_VMM_INPUT_NET))
        r->net = 1;
    else
        printf("root task: %s: no network (no network server for NIC %d, or it refused the "
               "client)\n", g->name, g->net);
}

long launch_vmm(const struct uk_bootinfo *bi, int vmm_module, uk_word_t index,
                const struct guest_desc *g, uk_word_t root_ep)
{
    const struct uk_boot_module *vm = &bi->modules[vmm_module], *km = &bi->modules[g->kernel];
    const struct uk_boot_module *im = g->initrd >= 0 ? &bi->modules[g->initrd] : 0;
    struct vmm_rec *r = &vmms[index];
    struct vmm_kept *k = &kept[index];
    uk_word_t mem_pages = g->mem_mib << 8;
    uk_word_t guest_quota = g->kmem_kib ? g->kmem_kib << 10 : (2ul << 20) + mem_pages * NODE_COST;
    uk_word_t own_pages = mem_pages + pages_of(km->size) + (im ? pages_of(im->size) : 0) + 64;
    uk_word_t quota = guest_quota + (512ul << 10) + own_pages * NODE_COST;
    long err;

    memset(r, 0, sizeof *r);
    r->index = index;
    r->com = (uk_word_t)g->console;
    memcpy(r->name, g->name, sizeof r->name);
    if ((err = uk_task_new(quota, UK_VMM_CAP_SLOTS, 0, &r->task))) {
        printf("root task: %s: no task for its vmm-server (%lu KiB of kernel memory): "
               "error %ld\n", g->name, quota >> 10, err);
        r->task = 0;
        return err;
    }
    r->fault_ep = uk_slot_alloc();
    if ((err = uk_cap_copy(root_ep, UK_SLOT_SELF_TASK, r->fault_ep, UK_R_WRITE, index)) ||
        (err = uk_cap_copy(root_ep, r->task, UK_VMM_SLOT_ROOT, UK_R_WRITE, index)))
        return give_up(r, "endpoint caps", err);
    /* The kernel log for its own lines when there is no console server
     * (it filters and labels its guest's), and the machine's counters only
     * for a guest line that asks for them (`stats`: benchmark and test runs);
     * the vmm-server passes READ on to its guest, never WRITE. */
    if ((err = uk_cap_copy(UK_SLOT_DEBUG, r->task, UK_SLOT_DEBUG,
                           UK_R_WRITE | (g->stats ? UK_R_READ : 0), 0)))
        return give_up(r, "the debug cap", err);
    if ((err = uk_load_elf_with(r->task, (const void *)(UK_PHYS_WINDOW + vm->phys), vm->size,
                                UK_PAGE_SIZE, UK_PHYS_WINDOW, uk_kept_pages, &k->img, &loaded)))
        return give_up(r, loaded.error, err);

    if (!k->info)
        k->info = uk_pages_alloc(1);
    struct uk_vmm_info *vi = k->info;
    unsigned char *mem = k->ram && k->ram_pages == mem_pages ? k->ram : 0;
    if (mem)
        memset(mem, 0, mem_pages * UK_PAGE_SIZE);   /* a cold boot: nothing of the last one */
    else if ((mem = uk_pages_alloc(mem_pages))) {
        k->ram = mem;
        k->ram_pages = mem_pages;
    }
    if (!vi || !mem)
        return give_up(r, "not enough free memory for its RAM", UK_E_NOMEM);
    memset(vi, 0, sizeof *vi);
    vi->magic = UK_VMM_INFO_MAGIC;
    vi->guest_index = index;
    memcpy(vi->name, g->name, sizeof vi->name);
    vi->mem_base = VMM_MEM_VA;
    vi->mem_size = mem_pages * UK_PAGE_SIZE;
    vi->kernel_size = km->size;
    vi->initrd_size = im ? im->size : 0;
    vi->guest_kmem_quota = guest_quota;
    vi->tsc_hz = bi->tsc_hz;
    vi->wallclock_ns = rtc_now_ns(&vi->wallclock_tsc);
    vi->flags = g->kfaults ? UK_VMM_F_KERNEL_FAULTS : 0;
    vi->boot_tsc = bi->boot_tsc;
    memcpy(vi->cmdline, g->cmdline, sizeof vi->cmdline);

    /* our pages are mapped read/write but granted execute: pass that on */
    if ((err = uk_map_range(0, (uk_word_t)mem, 0, mem_pages, UK_MAP_RWX)) ||
        (err = uk_map_range(r->task, (uk_word_t)mem, VMM_MEM_VA, mem_pages, UK_MAP_RWX)))
        return give_up(r, "mapping its RAM", err);
    if ((err = map_module(bi, g->kernel, r->task, VMM_KERNEL_VA, &k->copy[0],
                          &vi->kernel_base)) ||
        (im && (err = map_module(bi, g->initrd, r->task, VMM_INITRD_VA, &k->copy[1],
                                 &vi->initrd_base))))
        return give_up(r, "mapping its modules", err);
    if ((err = uk_map(r->task, (uk_word_t)vi, VMM_INFO_VA, 1, UK_MAP_READ)))
        return give_up(r, "mapping its info page", err);
    r->bell = uk_slot_alloc();
    r->bell_power = uk_slot_alloc();
    if ((err = uk_notif_create(r->bell)) ||
        (err = uk_cap_copy(r->bell, r->task, UK_VMM_SLOT_INPUT, UK_R_READ, 0)) ||
        (err = uk_cap_copy(r->bell, UK_SLOT_SELF_TASK, r->bell_power, UK_R_WRITE,
                           UK_VMM_BELL_POWER_OFF))) {
        return give_up(r, "its bell (notification)", err);
    }
    /* the supervisor's heartbeat: its page, our copy of the bell that rings it */
    if (!k->alive)
        k->alive = uk_pages_alloc(1);
    r->bell_ping = uk_slot_alloc();
    if (!k->alive ||
        (err = uk_map(r->task, (uk_word_t)k->alive, UK_VMM_ALIVE_VA, 1,
                      UK_MAP_READ | UK_MAP_WRITE)) ||
        (err = uk_cap_copy(r->bell, UK_SLOT_SELF_TASK, r->bell_ping, UK_R_WRITE,
                           UK_VMM_BELL_PING)))
        return give_up(r, "its heartbeat page", k->alive ? err : UK_E_NOMEM);
    k->alive->ping = k->alive->pong = 0;
    r->console = console_add_guest(r->com, index, g->name, r->task, r->bell);
    if (g->disk >= 0) {
        if (index > UK_BLK_MAX_CLIENTS)
            printf("root task: %s: the block server takes %u clients: no disk\n", g->name,
                   UK_BLK_MAX_CLIENTS);
        else if (blk_add_client(index, (uk_word_t)g->disk, r->task, UK_VMM_BLK_WINDOW,
                                UK_VMM_BLK_WINDOW_PAGES, UK_VMM_SLOT_BLK)) {
            r->disk = 1;
            blk_give_ram(index, g->name, mem, mem_pages);
        } else
            printf("root task: %s: disk %d not given (no block server, or no such disk)\n",
                   g->name, g->disk);
    }
    if (g->net >= 0)
        add_net(r, g);
    void *stack = uk_kept_pages(&k->stack, UK_PROGRAM_STACK_PAGES + 1);
    if (!stack)
        return give_up(r, "no pages for its stack", UK_E_NOMEM);
    if ((err = uk_start_program_on(r->task, &loaded, VMM_PRIO, r->fault_ep, VMM_INFO_VA,
                                   stack, &r->thread)))
        return give_up(r, "starting its thread", err);
    r->live = 1;
    printf("root task: %s: vmm-server started (%lu MiB RAM, %lu KiB kernel memory, %lu KiB "
           "for the guest kernel%s%s)\n", g->name, g->mem_mib, quota >> 10, guest_quota >> 10,
           g->kfaults ? ", kernel faults to the guest" : "",
           g->stats ? ", the kernel's counters readable" : "");
    return UK_OK;
}

int vmm_ended(uk_word_t badge, const struct uk_msg *m)
{
    if (badge == 0 || badge > ROOT_MAX_GUESTS || !vmms[badge].live)
        return 0;
    struct vmm_rec *r = &vmms[badge];
    if (uk_msg_flags(m->info) & UK_MSGF_FAULT) {
        r->status = UK_VMM_STATUS_VMM_FAILED;
        printf("root task: %s: vmm-server faulted (%s 0x%lx, rip 0x%lx); destroyed, status "
               "%lu\n", r->name,
               uk_msg_label(m->info) == UK_FAULT_PAGE ? "page fault at" : "exception, rax",
               m->w[0], uk_msg_label(m->info) == UK_FAULT_PAGE ? m->w[2] : 0, r->status);
    } else if (uk_msg_label(m->info) == UK_VMM_MSG_ENDED) {
        /* a vmm-server that says no status (or a wrong one) has failed */
        r->status = uk_msg_len(m->info) >= 2 && m->w[1] <= UK_VDEV_POWER_STATUS_MAX
                    ? m->w[1] : UK_VMM_STATUS_VMM_FAILED;
        printf("root task: %s: vmm-server ended: %s, status %lu\n", r->name,
               vmm_end_str(m->w[0]), r->status);
    } else {
        return 0;                        /* not what a vmm-server says: ignored */
    }
    r->ended = 1;
    destroy_vmm(r);
    return 1;
}

int vmm_power_off_all(void)
{
    int rung = 0;
    for (uk_word_t i = 1; i <= ROOT_MAX_GUESTS; i++) {
        struct vmm_rec *r = &vmms[i];
        if (!r->live)
            continue;
        long err = uk_signal(r->bell_power);
        if (err)
            printf("root task: %s: its bell did not ring (error %ld)\n", r->name, err);
        else
            printf("root task: %s: asked to power off\n", r->name);
        rung += err == UK_OK;
    }
    return rung;
}

int vmm_stop_all(void)
{
    int stopped = 0;
    for (uk_word_t i = 1; i <= ROOT_MAX_GUESTS; i++) {
        struct vmm_rec *r = &vmms[i];
        if (!r->live)
            continue;
        r->status = UK_VMM_STATUS_NO_POWER_OFF;
        r->ended = 1;
        printf("root task: %s: did not power off; stopped, status %lu\n", r->name, r->status);
        destroy_vmm(r);
        stopped++;
    }
    return stopped;
}

uk_word_t vmm_status(uk_word_t index)
{
    if (index == 0 || index > ROOT_MAX_GUESTS || !vmms[index].ended)
        return UK_VMM_STATUS_NOT_STARTED;
    return vmms[index].status;
}

uk_word_t vmm_thread(uk_word_t index)
{
    if (index == 0 || index > ROOT_MAX_GUESTS || !vmms[index].live)
        return 0;
    return vmms[index].thread;
}

int vmm_console_reconnect(uk_word_t com)
{
    int n = 0;
    for (uk_word_t i = 1; i <= ROOT_MAX_GUESTS; i++) {
        struct vmm_rec *r = &vmms[i];
        if (!r->live || r->com != com)  /* another server's guests: not touched */
            continue;
        uk_cap_delete(r->task, UK_VMM_SLOT_CONSOLE);   /* the old server's, if still there */
        r->console = console_add_guest(com, i, r->name, r->task, r->bell);
        n += r->console;
    }
    return n;
}

/* The supervisor's heartbeat (supervise.c): vmm_ping writes number `seq`
 * into guest `index`'s heartbeat page and rings its bell (0, or an error:
 * not running); vmm_pong: the last number its request loop answered.
 * vmm_kill: a hung vmm-server destroyed (its guest with it) as if it had
 * ended, without a status; 1 if it was running. */
long vmm_ping(uk_word_t index, uk_word_t seq)
{
    if (index == 0 || index > ROOT_MAX_GUESTS || !vmms[index].live || !kept[index].alive)
        return UK_E_INVAL;
    kept[index].alive->ping = seq;
    return uk_signal(vmms[index].bell_ping);
}

uk_word_t vmm_pong(uk_word_t index)
{
    return index && index <= ROOT_MAX_GUESTS && kept[index].alive ? kept[index].alive->pong : 0;
}

int vmm_kill(uk_word_t index)
{
    if (index == 0 || index > ROOT_MAX_GUESTS || !vmms[index].live)
        return 0;
    printf("root task: %s: vmm-server hung; destroyed\n", vmms[index].name);
    destroy_vmm(&vmms[index]);
    return 1;
}
