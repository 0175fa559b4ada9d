/* Pages, slots, threads and tasks for a resource-owning task (spawn.h). */
#include <user/rt.h>
#include <user/spawn.h>

extern char __image_start[], __image_end[];

static uk_word_t next_slot = UK_SLOT_FIRST_FREE;
static struct { uk_word_t next, end; } ranges[UK_BOOT_MAX_RANGES];
static uk_word_t nranges, cur;

void uk_pages_init(const struct uk_bootinfo *bi)
{
    nranges = bi->nranges;
    for (uk_word_t i = 0; i < nranges; i++) {
        ranges[i].next = UK_PHYS_WINDOW + bi->ranges[i].phys;
        ranges[i].end = ranges[i].next + bi->ranges[i].size;
    }
}

void *uk_pages_alloc(uk_word_t n)
{
    for (; cur < nranges; cur++) {
        if (ranges[cur].end - ranges[cur].next >= n * UK_PAGE_SIZE) {
            void *p = (void *)ranges[cur].next;
            ranges[cur].next += n * UK_PAGE_SIZE;
            memset(p, 0, n * UK_PAGE_SIZE);
            return p;
        }
    }
    return 0;
}

long uk_map_range(uk_word_t task, uk_word_t src, uk_word_t dst, uk_word_t n, uk_word_t rights)
{
    for (uk_word_t done = 0; done < n; done += UK_MAP_MAX_PAGES) {
        uk_word_t k = n - done < UK_MAP_MAX_PAGES ? n - done : UK_MAP_MAX_PAGES;
        uk_word_t off = done * UK_PAGE_SIZE;
        long err = task ? uk_map(task, src + off, dst + off, k, rights)
                        : uk_protect(UK_SLOT_SELF_TASK, src + off, k, rights);
        if (err)
            return err;
    }
    return UK_OK;
}

/* Slots given back (uk_slot_free), taken again first: a program that
 * restarts servers again and again (the root task's supervisor) must not
 * run out of its capability table. */
#define FREED_MAX 64
static uk_word_t freed[FREED_MAX];
static unsigned nfreed;

uk_word_t uk_slot_alloc(void)
{
    return nfreed ? freed[--nfreed] : next_slot++;
}

uk_word_t uk_pages_left(void)
{
    uk_word_t n = 0;
    for (uk_word_t i = cur; i < nranges; i++)
        n += (ranges[i].end - ranges[i].next) / UK_PAGE_SIZE;
    return n;
}

uk_word_t uk_slots_used(void)
{
    return next_slot - UK_SLOT_FIRST_FREE - nfreed;
}

void uk_slot_free(uk_word_t slot)
{
    if (slot < UK_SLOT_FIRST_FREE || slot >= next_slot || nfreed == FREED_MAX)
        return;                          /* not ours, or no room: it stays used */
    uk_cap_delete(UK_SLOT_SELF_TASK, slot);   /* empty, whatever was in it */
    freed[nfreed++] = slot;
}

/* What a spawned thread runs first; lives in the (shared) image. */
struct start_block {
    void (*fn)(uk_word_t);
    uk_word_t arg;
    struct uk_ipc_buffer *ipc_buffer;
};

static void spawn_trampoline(struct start_block *b)
{
    uk_ipc_buffer_init(b->ipc_buffer);
    b->fn(b->arg);
    for (;;)
        uk_thread_suspend(0);
}

static long map_into(uk_word_t task, void *p, uk_word_t npages, uk_word_t rights)
{
    if (task == UK_SLOT_SELF_TASK)
        return UK_OK;
    return uk_map(task, (uk_word_t)p, (uk_word_t)p, npages, rights);
}

long uk_spawn_prepare(uk_word_t task, void (*fn)(uk_word_t), uk_word_t arg, uk_word_t prio,
                      uk_word_t fault_ep, struct uk_spawned *out)
{
    long err;
    unsigned char *stack = uk_pages_alloc(UK_SPAWN_STACK_PAGES);
    void *ipc = uk_pages_alloc(1);
    if (!stack || !ipc)
        return UK_E_NOMEM;
    if ((err = map_into(task, stack, UK_SPAWN_STACK_PAGES, UK_MAP_READ | UK_MAP_WRITE)) ||
        (err = map_into(task, ipc, 1, UK_MAP_READ | UK_MAP_WRITE)))
        return err;
    out->thread = uk_slot_alloc();
    out->stack = stack;
    out->ipc_buffer = ipc;
    if ((err = uk_thread_create(out->thread, task)) ||
        (err = uk_thread_config(out->thread, prio, fault_ep, (uk_word_t)ipc)))
        return err;
    /* the start block sits at the top of the new stack */
    struct start_block *b = (struct start_block *)(stack + UK_SPAWN_STACK_PAGES * UK_PAGE_SIZE) - 1;
    b->fn = fn;
    b->arg = arg;
    b->ipc_buffer = ipc;
    return UK_OK;
}

long uk_spawn_go(struct uk_spawned *s)
{
    unsigned char *top = (unsigned char *)s->stack + UK_SPAWN_STACK_PAGES * UK_PAGE_SIZE;
    struct start_block *b = (struct start_block *)top - 1;
    uk_word_t rsp = ((uk_word_t)b & ~15ul) - 8;   /* as if called */
    return uk_thread_start(s->thread, (uk_word_t)spawn_trampoline, rsp, (uk_word_t)b);
}

long uk_spawn(uk_word_t task, void (*fn)(uk_word_t), uk_word_t arg, uk_word_t prio,
              uk_word_t fault_ep, struct uk_spawned *out)
{
    long err = uk_spawn_prepare(task, fn, arg, prio, fault_ep, out);
    return err ? err : uk_spawn_go(out);
}

long uk_task_new(uk_word_t quota, uk_word_t nslots, int share_image, uk_word_t *task_slot)
{
    uk_word_t slot = uk_slot_alloc();
    long err = uk_task_create(slot, quota, nslots);
    if (err)
        return err;
    *task_slot = slot;
    if (!share_image)
        return UK_OK;
    uk_word_t pages = ((uk_word_t)__image_end - (uk_word_t)__image_start) / UK_PAGE_SIZE;
    return uk_map(slot, (uk_word_t)__image_start, (uk_word_t)__image_start, pages, UK_MAP_RWX);
}
