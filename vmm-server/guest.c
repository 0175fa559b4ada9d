/*
 * Building the guest and tearing it down.
 *
 * Guest RAM is the memory the root gave us (vi->mem_base, mem_size), mapped
 * whole into the guest kernel's task at GUEST_RAM_VA.  Each boot takes
 * pages from its bottom for what the guest finds at start -- the guest
 * info page, the kernel image (loaded with uk_load_elf_with, linked below
 * GUEST_RAM_VA and mapped there as well), the kernel's stack and IPC
 * buffer -- and reports the rest as free RAM (uk_guest_info.ram_base/size);
 * an initrd is copied to the top of it.  The rest of RAM is not cleared
 * on a reboot: like a warm reset, the guest finds what it left there.
 *
 * The guest task gets, and only gets: a cap to itself (CONTROL, not
 * DESTROY: it makes and maps its process tasks from its own quota), a
 * send-only badged cap of our endpoint, its event notification and its
 * vCPU thread (CONTROL, not DESTROY).  None of them reaches our own task,
 * memory or threads: the vCPU is ours (we made it), but the guest cannot
 * destroy it, and everything the guest makes is charged to its own quota.
 */
#include "vmm.h"
#include "virtio.h"
#include <user/spawn.h>    /* uk_map_range */
#include <user/loader.h>

#define STACK_PAGES UK_PROGRAM_STACK_PAGES
#define RW  (UK_MAP_READ | UK_MAP_WRITE)

static struct uk_loaded loaded;

/* Boot pages, from the bottom of guest RAM (also the loader's allocator). */
static void *ram_take(void *ctx, uk_word_t n)
{
    (void)ctx;
    if (n > vmm.ram_pages - vmm.boot_pages)
        return 0;
    void *p = (void *)(vmm.vi->mem_base + vmm.boot_pages * UK_PAGE_SIZE);
    vmm.boot_pages += n;
    return p;
}

void guest_destroy(void)
{
    timer_set(0, 0);
    uk_obj_destroy(SLOT_GUEST);   /* its process tasks, and the vCPU that runs in it */
    uk_obj_destroy(SLOT_VCPU);    /* (already gone: its slot is empty) */
    uk_obj_destroy(SLOT_EVENTS);  /* with its badged copies in SLOT_TIMER_EV, _CONSOLE_EV,
                                     _POWER_EV */
}

static long fail(long err, const char *what)
{
    vmm_say("cannot start the guest: %s: error %ld", what, err);
    guest_destroy();
    return err;
}

/* The caps of the guest's table, and its vCPU thread, configured but not started.
 * With kfaults the guest kernel's own faults are exits to it (it may handle a
 * fault on its own memory, as Linux does); they reach guest_fault only when it
 * faults while handling one, or has not said where to enter it. */
static long give_caps_and_vcpu(void)
{
    uk_word_t vcpu_flags = vmm.vi->flags & UK_VMM_F_KERNEL_FAULTS ? UK_VCPU_F_KERNEL_FAULTS : 0;
    long err;
    if ((err = uk_cap_copy(SLOT_GUEST, SLOT_GUEST, UK_GUEST_SLOT_SELF,
                           UK_R_READ | UK_R_WRITE | UK_R_CONTROL, 0)))
        return fail(err, "copying the guest's own task cap");
    if ((err = uk_cap_copy(SLOT_EP, SLOT_GUEST, UK_GUEST_SLOT_VMM, UK_R_WRITE, GUEST_BADGE)))
        return fail(err, "copying the device endpoint");
    if ((err = uk_notif_create(SLOT_EVENTS)) ||
        (err = uk_cap_copy(SLOT_EVENTS, UK_SLOT_SELF_TASK, SLOT_TIMER_EV, UK_R_WRITE,
                           UK_VDEV_EVENT_TIMER)) ||
        (err = uk_cap_copy(SLOT_EVENTS, UK_SLOT_SELF_TASK, SLOT_CONSOLE_EV, UK_R_WRITE,
                           UK_VDEV_EVENT_CONSOLE)) ||
        (err = uk_cap_copy(SLOT_EVENTS, UK_SLOT_SELF_TASK, SLOT_POWER_EV, UK_R_WRITE,
                           UK_VDEV_EVENT_POWER)) ||
        (err = uk_cap_copy(SLOT_EVENTS, SLOT_GUEST, UK_GUEST_SLOT_EVENTS,
                           UK_R_READ | UK_R_WRITE, 0)))
        return fail(err, "making the event notification");
    if ((err = uk_thread_create(SLOT_VCPU, SLOT_GUEST)) ||
        (err = uk_thread_config(SLOT_VCPU, GUEST_PRIO, SLOT_FAULT_EP, UK_ROOT_IPC_BUFFER)) ||
        (err = uk_vcpu_config(SLOT_VCPU, GUEST_STATE_VA, vcpu_flags)) ||
        (err = uk_notif_bind(SLOT_EVENTS, SLOT_VCPU)) ||
        (err = uk_cap_copy(SLOT_VCPU, SLOT_GUEST, UK_GUEST_SLOT_VCPU,
                           UK_R_READ | UK_R_WRITE | UK_R_CONTROL, 0)))
        return fail(err, "making the vCPU");
    /* The kernel's counters (the guest's /proc/ukvm) if the root let us
     * read them (`guest ... stats`); never the kernel log: a guest writes
     * only through its console device, which filters and labels it. */
    uk_word_t type, rights, badge;
    if (uk_cap_info(UK_SLOT_DEBUG, &type, &rights, &badge) == UK_OK &&
        type == UK_CAP_DEBUG && (rights & UK_R_READ) &&
        (err = uk_cap_copy(UK_SLOT_DEBUG, SLOT_GUEST, UK_SLOT_DEBUG, UK_R_READ, 0)))
        return fail(err, "passing on the kernel's counters");
    return UK_OK;
}

/* The guest kernel's table: one slot for every UK_GUEST_KMEM_PER_SLOT
 * bytes of its kernel memory (a process task costs at least that), so its
 * number of address spaces is bounded by its quota, never by its table. */
static uk_word_t guest_cap_slots(uk_word_t kmem_quota)
{
    uk_word_t slots = kmem_quota / UK_GUEST_KMEM_PER_SLOT;
    return slots < 256 ? 256 : slots > UK_MAX_CAP_SLOTS ? UK_MAX_CAP_SLOTS : slots;
}

long guest_boot(void)
{
    const struct uk_vmm_info *vi = vmm.vi;
    uk_word_t mem = vi->mem_base;
    long err;

    vmm.boots++;
    vmm.boot_pages = 0;
    /* the last boot made its kernel text read/execute in our copy too */
    if ((err = uk_map_range(0, mem, 0, vmm.ram_pages, UK_MAP_RWX)))
        return fail(err, "making guest RAM writable");
    uk_word_t cap_slots = guest_cap_slots(vi->guest_kmem_quota);
    if ((err = uk_task_create(SLOT_GUEST, vi->guest_kmem_quota, cap_slots)))
        return fail(err, "creating the guest task");

    struct uk_guest_info *gi = ram_take(0, 1);
    memset(gi, 0, UK_PAGE_SIZE);
    err = uk_load_elf_with(SLOT_GUEST, (const void *)vi->kernel_base, vi->kernel_size,
                           GUEST_KERNEL_LO, GUEST_KERNEL_HI, ram_take, 0, &loaded);
    if (err) {
        vmm_say("cannot load the guest kernel: %s", loaded.error);
        guest_destroy();
        return err;
    }
    unsigned char *stack = ram_take(0, STACK_PAGES + 1);   /* + the IPC buffer */
    if (!stack)
        return fail(UK_E_NOMEM, "no guest RAM left for the kernel stack");
    memset(stack, 0, (STACK_PAGES + 1) * UK_PAGE_SIZE);
    uk_word_t stack_bytes = STACK_PAGES * UK_PAGE_SIZE;
    if ((err = uk_map(SLOT_GUEST, (uk_word_t)stack, UK_PROGRAM_STACK_TOP - stack_bytes,
                      STACK_PAGES, RW)) ||
        (err = uk_map(SLOT_GUEST, (uk_word_t)stack + stack_bytes, UK_ROOT_IPC_BUFFER, 1, RW)))
        return fail(err, "mapping the kernel stack");

    uk_word_t free_pages = vmm.ram_pages - vmm.boot_pages;
    uk_word_t initrd_pages = (vi->initrd_size + UK_PAGE_SIZE - 1) / UK_PAGE_SIZE;
    if (initrd_pages > free_pages)
        return fail(UK_E_NOMEM, "the initrd does not fit in guest RAM");
    uk_word_t initrd_off = (vmm.ram_pages - initrd_pages) * UK_PAGE_SIZE;
    memcpy((void *)(mem + initrd_off), (const void *)vi->initrd_base, vi->initrd_size);

    gi->magic = UK_GUEST_INFO_MAGIC;
    gi->ram_base = GUEST_RAM_VA + vmm.boot_pages * UK_PAGE_SIZE;
    gi->ram_size = free_pages * UK_PAGE_SIZE;
    gi->initrd_base = vi->initrd_size ? GUEST_RAM_VA + initrd_off : 0;
    gi->initrd_size = vi->initrd_size;
    gi->vcpu_state = GUEST_STATE_VA;
    gi->tsc_hz = vi->tsc_hz;
    gi->kmem_quota = vi->guest_kmem_quota;
    memcpy(gi->name, vmm.name, sizeof gi->name);
    memcpy(gi->cmdline, vi->cmdline, sizeof gi->cmdline);
    gi->cmdline[sizeof gi->cmdline - 1] = 0;
    gi->boot_tsc = vi->boot_tsc;
    gi->cap_slots = cap_slots;
    virtio_boot(gi);              /* its virtio devices, every queue off */

    if ((err = uk_map_range(SLOT_GUEST, mem, GUEST_RAM_VA, vmm.ram_pages, UK_MAP_RWX)))
        return fail(err, "mapping guest RAM");
    if ((err = give_caps_and_vcpu()))
        return err;
    if ((err = uk_thread_start(SLOT_VCPU, loaded.img.entry, UK_PROGRAM_STACK_TOP - 8,
                               GUEST_RAM_VA + ((uk_word_t)gi - mem))))
        return fail(err, "starting the vCPU");
    con_input_booted();
    return UK_OK;
}
