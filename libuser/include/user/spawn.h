/*
 * Building blocks for a task that owns resources (the root task, tests,
 * benchmarks): memory pages from the boot-info ranges, free capability
 * slots, and threads and tasks started on a C function.
 */
#ifndef UK_SPAWN_H
#define UK_SPAWN_H

#include <uk/abi.h>

void uk_pages_init(const struct uk_bootinfo *bi);
/* n zeroed, virtually contiguous pages of the caller's (phys window) memory. */
void *uk_pages_alloc(uk_word_t n);
/* UK_SYS_MAP of n pages into task (or, with task 0, UK_SYS_PROTECT of the
 * caller's own src pages), in calls of at most UK_MAP_MAX_PAGES each. */
long uk_map_range(uk_word_t task, uk_word_t src, uk_word_t dst, uk_word_t n, uk_word_t rights);

/* A capability slot of the caller's table not yet handed out. */
uk_word_t uk_slot_alloc(void);
/* Gives a slot of ours back (its cap deleted): the next uk_slot_alloc may
 * return it.  For slots of objects made again and again (server restarts). */
void uk_slot_free(uk_word_t slot);
/* Slots handed out by uk_slot_alloc and not given back: a leak check for
 * programs that restart servers (the root task's console.c). */
uk_word_t uk_slots_used(void);
/* Pages uk_pages_alloc can still hand out (it never takes any back). */
uk_word_t uk_pages_left(void);

#define UK_SPAWN_STACK_PAGES 4

struct uk_spawned {
    uk_word_t thread;     /* thread cap slot (caller's table) */
    void *stack;          /* its stack pages, at the same address in both tasks */
    void *ipc_buffer;     /* its IPC buffer page, likewise */
};

/* A thread in `task` (UK_SLOT_SELF_TASK or a task made by uk_task_new)
 * running fn(arg) at priority prio with fault endpoint fault_ep (0: none).
 * When fn returns, the thread suspends itself. */
long uk_spawn(uk_word_t task, void (*fn)(uk_word_t), uk_word_t arg, uk_word_t prio,
              uk_word_t fault_ep, struct uk_spawned *out);
/* Same, but made and configured without starting it. */
long uk_spawn_prepare(uk_word_t task, void (*fn)(uk_word_t), uk_word_t arg, uk_word_t prio,
                      uk_word_t fault_ep, struct uk_spawned *out);
long uk_spawn_go(struct uk_spawned *s);

/* A new task with its own address space and nslots cap slots and `quota`
 * bytes of kernel memory; with share_image, the caller's program image is
 * mapped into it at the same addresses (text read-only, data shared). */
long uk_task_new(uk_word_t quota, uk_word_t nslots, int share_image, uk_word_t *task_slot);

#endif
