/* Host tests of capability slots and tables (ukernel/kernel/cap.c), with
 * the real allocator (kmem.c) so table charges are checked against quotas.
 * The two type hooks cap.c calls into the rest of the kernel are fakes
 * that record their calls. */
#include "host_stubs.h"
#include "../../ukernel/kernel/kmem.c"
#include "host_pool.h"
#include "../../ukernel/kernel/cap.c"

#include <string.h>

/* --- fakes for the rest of the kernel ------------------------------------- */

static int reply_calls, irq_calls;
static struct thread *reply_arg;
static struct irq_holder *irq_arg;
static bool reply_arg_had_reply_cap;    /* another REPLY cap left at hook time */

/* The real hook scans caller->hdr.caps for another REPLY cap, so the
 * deleted one must already be unlinked when it runs: record what it sees. */
void reply_cap_deleted(struct thread *caller)
{
    reply_calls++;
    reply_arg = caller;
    reply_arg_had_reply_cap = false;
    for (struct cap *c = caller->hdr.caps; c; c = c->next)
        reply_arg_had_reply_cap |= c->type == UK_CAP_REPLY;
}

void irq_teardown(struct irq_holder *l)
{
    irq_calls++;
    irq_arg = l;
    assert_null(l->hdr.caps);           /* only called for the last cap */
}

/* --- helpers -------------------------------------------------------------- */

#define PHYS   0x100000ul
#define NPAGES 1024                     /* room for a maximal table (640 pages) */

static int setup(void **state)
{
    (void)state;
    pool_init(PHYS, NPAGES);
    reply_calls = irq_calls = 0;
    reply_arg = NULL;
    irq_arg = NULL;
    return 0;
}


/* A small table for the slot tests (cspace_init is tested further down). */
static struct cap slots[16];
static struct cspace cs = { slots, 16 };

static void reset_slots(void)
{
    memset(slots, 0, sizeof slots);
}

/* The object's cap list, walked forward and backward, is exactly `want`
 * (in list order: most recently linked first). */
static void assert_caps(struct kobj *o, struct cap *const *want, int n)
{
    struct cap *c = o->caps, *prev = NULL;
    for (int i = 0; i < n; i++) {
        assert_non_null(c);
        assert_ptr_equal(c, want[i]);
        assert_ptr_equal(c->prev, prev);
        assert_ptr_equal(c->obj, o);
        prev = c;
        c = c->next;
    }
    assert_null(c);
}
#define CAPS(...) (struct cap *[]){ __VA_ARGS__ }, \
                  (int)(sizeof((struct cap *[]){ __VA_ARGS__ }) / sizeof(struct cap *))

static bool slot_empty(const struct cap *c)
{
    static const struct cap zero;
    return memcmp(c, &zero, sizeof zero) == 0;
}

/* --- cap_slot / cap_lookup ------------------------------------------------ */

/* Slot 0 is never a slot; nslots and beyond are out of range. */
static void test_slot_bounds(void **state)
{
    (void)state;
    reset_slots();
    assert_null(cap_slot(&cs, 0));
    assert_ptr_equal(cap_slot(&cs, 1), &slots[1]);
    assert_ptr_equal(cap_slot(&cs, 15), &slots[15]);
    assert_null(cap_slot(&cs, 16));
    assert_null(cap_slot(&cs, 17));
    assert_null(cap_slot(&cs, ~(word)0));
    assert_null(cap_slot(&cs, (word)1 << 32));  /* no truncation to u32 */
    assert_null(cap_slot(&cs, ((word)1 << 32) + 1));
}

/* Errors in order: out of range or empty, then wrong type, then rights. */
static void test_lookup_errors(void **state)
{
    (void)state;
    reset_slots();
    struct endpoint ep = {0};
    cap_install(&slots[3], UK_CAP_ENDPOINT, UK_R_READ | UK_R_WRITE, &ep.hdr, 0);
    int err = -1;

    assert_ptr_equal(cap_lookup(&cs, 3, UK_CAP_ENDPOINT, UK_R_WRITE, &err), &slots[3]);
    assert_ptr_equal(cap_lookup(&cs, 3, UK_CAP_NULL, 0, &err), &slots[3]);  /* any type */
    assert_ptr_equal(cap_lookup(&cs, 3, UK_CAP_ENDPOINT, UK_R_READ | UK_R_WRITE, &err),
                     &slots[3]);

    err = -1;
    assert_null(cap_lookup(&cs, 0, UK_CAP_NULL, 0, &err));
    assert_int_equal(err, UK_E_CAP);
    err = -1;
    assert_null(cap_lookup(&cs, 16, UK_CAP_ENDPOINT, 0, &err));
    assert_int_equal(err, UK_E_CAP);
    /* empty slot: UK_E_CAP even though type and rights would also fail */
    err = -1;
    assert_null(cap_lookup(&cs, 4, UK_CAP_TASK, UK_R_ALL, &err));
    assert_int_equal(err, UK_E_CAP);
    err = -1;
    assert_null(cap_lookup(&cs, 4, UK_CAP_NULL, 0, &err));
    assert_int_equal(err, UK_E_CAP);
    /* wrong type beats missing rights */
    err = -1;
    assert_null(cap_lookup(&cs, 3, UK_CAP_NOTIFICATION, UK_R_DESTROY, &err));
    assert_int_equal(err, UK_E_CAP_TYPE);
    err = -1;
    assert_null(cap_lookup(&cs, 3, UK_CAP_NOTIFICATION, 0, &err));
    assert_int_equal(err, UK_E_CAP_TYPE);
    /* right type, some right missing (all of `rights` are needed) */
    err = -1;
    assert_null(cap_lookup(&cs, 3, UK_CAP_ENDPOINT, UK_R_DESTROY, &err));
    assert_int_equal(err, UK_E_RIGHTS);
    err = -1;
    assert_null(cap_lookup(&cs, 3, UK_CAP_ENDPOINT, UK_R_WRITE | UK_R_CONTROL, &err));
    assert_int_equal(err, UK_E_RIGHTS);
    err = -1;
    assert_null(cap_lookup(&cs, 3, UK_CAP_NULL, UK_R_DESTROY, &err));
    assert_int_equal(err, UK_E_RIGHTS);
}

/* --- install / copy / delete and the object's cap list ------------------- */

/* Install links at the head of the list; delete unlinks from the head, the
 * middle and the tail and leaves the slot all zero. */
static void test_install_delete_list(void **state)
{
    (void)state;
    reset_slots();
    struct endpoint ep = {0}, other = {0};
    memset(&slots[1], 0xa5, sizeof slots[1]);   /* install overwrites junk */
    cap_install(&slots[1], UK_CAP_ENDPOINT, UK_R_ALL, &ep.hdr, 11);
    assert_int_equal(slots[1].type, UK_CAP_ENDPOINT);
    assert_int_equal(slots[1].rights, UK_R_ALL);
    assert_int_equal(slots[1].badge, 11);
    assert_int_equal(slots[1].extra, 0);
    assert_int_equal(slots[1].arg, 0);
    assert_caps(&ep.hdr, CAPS(&slots[1]));
    cap_install(&slots[2], UK_CAP_ENDPOINT, UK_R_READ, &ep.hdr, 0);
    cap_install(&slots[3], UK_CAP_ENDPOINT, UK_R_WRITE, &ep.hdr, 0);
    cap_install(&slots[4], UK_CAP_ENDPOINT, UK_R_WRITE, &ep.hdr, 0);
    cap_install(&slots[9], UK_CAP_ENDPOINT, UK_R_WRITE, &other.hdr, 0);
    assert_caps(&ep.hdr, CAPS(&slots[4], &slots[3], &slots[2], &slots[1]));
    assert_caps(&other.hdr, CAPS(&slots[9]));

    cap_delete(&slots[3]);                      /* middle */
    assert_true(slot_empty(&slots[3]));
    assert_caps(&ep.hdr, CAPS(&slots[4], &slots[2], &slots[1]));
    cap_delete(&slots[4]);                      /* head */
    assert_caps(&ep.hdr, CAPS(&slots[2], &slots[1]));
    cap_delete(&slots[1]);                      /* tail */
    assert_caps(&ep.hdr, CAPS(&slots[2]));
    cap_delete(&slots[2]);                      /* last */
    assert_null(ep.hdr.caps);
    assert_true(slot_empty(&slots[2]));
    cap_delete(&slots[2]);                      /* empty slot: no-op */
    assert_true(slot_empty(&slots[2]));
    assert_caps(&other.hdr, CAPS(&slots[9]));   /* untouched */
    assert_int_equal(reply_calls + irq_calls, 0);
}

/* Objectless caps (IRQ_CONTROL, IOPORT) install, copy and delete without a list. */
static void test_objectless_caps(void **state)
{
    (void)state;
    reset_slots();
    cap_install(&slots[1], UK_CAP_IOPORT, UK_R_ALL, NULL, 0);
    slots[1].arg = 0x3f8;
    slots[1].extra = 7;
    cap_copy(&slots[2], &slots[1], UK_R_READ, 5);
    assert_int_equal(slots[2].type, UK_CAP_IOPORT);
    assert_int_equal(slots[2].rights, UK_R_READ);
    assert_int_equal(slots[2].arg, 0x3f8);      /* the port range comes along */
    assert_int_equal(slots[2].extra, 7);
    assert_int_equal(slots[2].badge, 0);        /* badges are for IPC objects only */
    assert_null(slots[2].obj);
    assert_null(slots[2].next);
    assert_null(slots[2].prev);
    cap_install(&slots[3], UK_CAP_IRQ_CONTROL, UK_R_CONTROL, NULL, 0);
    cap_delete(&slots[1]);
    cap_delete(&slots[3]);
    assert_true(slot_empty(&slots[1]));
    assert_true(slot_empty(&slots[3]));
    assert_int_equal(slots[2].arg, 0x3f8);
}

/* A copy keeps only rights in both the source and the mask, and gets a new
 * badge only if it is an unbadged endpoint or notification cap. */
static void test_copy_rights_and_badge(void **state)
{
    (void)state;
    reset_slots();
    struct endpoint ep = {0};
    struct notification n = {0};
    struct thread t = {0};
    struct task task = {0};

    cap_install(&slots[1], UK_CAP_ENDPOINT, UK_R_READ | UK_R_WRITE, &ep.hdr, 0);
    cap_copy(&slots[2], &slots[1], UK_R_WRITE | UK_R_DESTROY, 42);
    assert_int_equal(slots[2].type, UK_CAP_ENDPOINT);
    assert_int_equal(slots[2].rights, UK_R_WRITE);      /* DESTROY not in source */
    assert_int_equal(slots[2].badge, 42);
    assert_ptr_equal(slots[2].obj, &ep.hdr);
    cap_copy(&slots[3], &slots[2], UK_R_ALL, 99);       /* badged: badge stays */
    assert_int_equal(slots[3].badge, 42);
    assert_int_equal(slots[3].rights, UK_R_WRITE);
    cap_copy(&slots[4], &slots[2], UK_R_ALL, 0);        /* 0: keep */
    assert_int_equal(slots[4].badge, 42);
    cap_copy(&slots[5], &slots[1], UK_R_ALL, 0);        /* unbadged, badge 0 */
    assert_int_equal(slots[5].badge, 0);
    assert_int_equal(slots[5].rights, UK_R_READ | UK_R_WRITE);
    cap_copy(&slots[6], &slots[1], 0, 7);               /* no rights at all */
    assert_int_equal(slots[6].rights, 0);
    assert_int_equal(slots[6].badge, 7);
    assert_caps(&ep.hdr, CAPS(&slots[6], &slots[5], &slots[4], &slots[3],
                              &slots[2], &slots[1]));

    cap_install(&slots[7], UK_CAP_NOTIFICATION, UK_R_ALL, &n.hdr, 0);
    cap_copy(&slots[8], &slots[7], UK_R_WRITE, 0x80);
    assert_int_equal(slots[8].badge, 0x80);
    assert_int_equal(slots[8].rights, UK_R_WRITE);
    assert_caps(&n.hdr, CAPS(&slots[8], &slots[7]));

    /* other types never take a badge */
    cap_install(&slots[10], UK_CAP_THREAD, UK_R_ALL, &t.hdr, 0);
    cap_copy(&slots[11], &slots[10], UK_R_CONTROL, 5);
    assert_int_equal(slots[11].badge, 0);
    assert_int_equal(slots[11].rights, UK_R_CONTROL);
    cap_install(&slots[12], UK_CAP_TASK, UK_R_ALL, &task.hdr, 0);
    cap_copy(&slots[13], &slots[12], UK_R_ALL, 5);
    assert_int_equal(slots[13].badge, 0);
    assert_caps(&task.hdr, CAPS(&slots[13], &slots[12]));
    assert_caps(&t.hdr, CAPS(&slots[11], &slots[10]));
}

/* Deleting a REPLY cap calls reply_cap_deleted(the caller thread) once,
 * after the cap is off the list; other types do not. */
static void test_delete_reply_hook(void **state)
{
    (void)state;
    reset_slots();
    struct thread caller = {0}, other = {0};
    cap_install(&slots[1], UK_CAP_REPLY, UK_R_WRITE, &caller.hdr, 0);
    cap_copy(&slots[2], &slots[1], UK_R_WRITE, 0);
    cap_install(&slots[3], UK_CAP_THREAD, UK_R_ALL, &caller.hdr, 0);
    cap_install(&slots[4], UK_CAP_REPLY, UK_R_WRITE, &other.hdr, 0);

    cap_delete(&slots[3]);                      /* a THREAD cap: no hook */
    assert_int_equal(reply_calls, 0);
    cap_delete(&slots[1]);
    assert_int_equal(reply_calls, 1);
    assert_ptr_equal(reply_arg, &caller);       /* container_of gives the thread */
    assert_true(reply_arg_had_reply_cap);       /* slot 2 still holds one */
    assert_caps(&caller.hdr, CAPS(&slots[2]));
    cap_delete(&slots[2]);
    assert_int_equal(reply_calls, 2);
    assert_ptr_equal(reply_arg, &caller);
    assert_false(reply_arg_had_reply_cap);      /* the last one is unlinked first */
    assert_null(caller.hdr.caps);
    cap_delete(&slots[4]);
    assert_int_equal(reply_calls, 3);
    assert_ptr_equal(reply_arg, &other);
    assert_int_equal(irq_calls, 0);
}

/* irq_teardown runs when the last IRQ cap of a line goes, not before. */
static void test_delete_irq_hook(void **state)
{
    (void)state;
    reset_slots();
    struct irq_holder l3 = { .line = 3 }, l4 = { .line = 4 };
    cap_install(&slots[1], UK_CAP_IRQ, UK_R_ALL, &l3.hdr, 0);
    slots[1].arg = 3;
    cap_copy(&slots[2], &slots[1], UK_R_WRITE, 0);
    cap_copy(&slots[3], &slots[1], UK_R_READ, 0);
    cap_install(&slots[4], UK_CAP_IRQ, UK_R_ALL, &l4.hdr, 0);
    assert_int_equal(slots[2].arg, 3);

    cap_delete(&slots[2]);
    cap_delete(&slots[1]);
    assert_int_equal(irq_calls, 0);
    cap_delete(&slots[3]);
    assert_int_equal(irq_calls, 1);
    assert_ptr_equal(irq_arg, &l3);
    cap_delete(&slots[4]);
    assert_int_equal(irq_calls, 2);
    assert_ptr_equal(irq_arg, &l4);
    assert_int_equal(reply_calls, 0);
}

/* cap_clear_all empties every slot naming the object (in any table), and
 * only those; no hooks run. */
static void test_clear_all(void **state)
{
    (void)state;
    reset_slots();
    static struct cap other_table[4];
    memset(other_table, 0, sizeof other_table);
    struct irq_holder l = { .line = 5 };
    struct endpoint ep = {0};
    cap_install(&slots[1], UK_CAP_IRQ, UK_R_ALL, &l.hdr, 0);
    cap_copy(&slots[2], &slots[1], UK_R_ALL, 0);
    cap_copy(&other_table[1], &slots[1], UK_R_READ, 0);
    cap_install(&slots[3], UK_CAP_ENDPOINT, UK_R_ALL, &ep.hdr, 0);
    cap_copy(&other_table[2], &slots[3], UK_R_ALL, 9);

    cap_clear_all(&l.hdr);
    assert_null(l.hdr.caps);
    assert_true(slot_empty(&slots[1]));
    assert_true(slot_empty(&slots[2]));
    assert_true(slot_empty(&other_table[1]));
    assert_int_equal(irq_calls, 0);             /* no hooks */
    assert_caps(&ep.hdr, CAPS(&other_table[2], &slots[3]));
    cap_clear_all(&ep.hdr);
    assert_null(ep.hdr.caps);
    assert_true(slot_empty(&slots[3]));
    assert_true(slot_empty(&other_table[2]));
    cap_clear_all(&ep.hdr);                     /* nothing left: no-op */
}

/* cap_clear_type empties only the slots of that type naming the object
 * (a thread's saved REPLY caps, not its THREAD caps), installed in any
 * order: REPLY caps are kept at the head of the list. */
static void test_clear_type(void **state)
{
    (void)state;
    reset_slots();
    struct thread t = {0};
    cap_install(&slots[1], UK_CAP_REPLY, UK_R_WRITE, &t.hdr, 0);      /* tail */
    cap_install(&slots[2], UK_CAP_THREAD, UK_R_ALL, &t.hdr, 0);
    cap_install(&slots[3], UK_CAP_REPLY, UK_R_WRITE, &t.hdr, 0);
    cap_install(&slots[4], UK_CAP_REPLY, UK_R_WRITE, &t.hdr, 0);
    cap_install(&slots[5], UK_CAP_THREAD, UK_R_READ, &t.hdr, 0);
    cap_install(&slots[6], UK_CAP_REPLY, UK_R_WRITE, &t.hdr, 0);      /* head */
    /* REPLY caps first, in their order, then the others (cap.c link_cap) */
    assert_caps(&t.hdr, CAPS(&slots[6], &slots[4], &slots[3], &slots[1], &slots[5], &slots[2]));
    cap_clear_type(&t.hdr, UK_CAP_REPLY);
    assert_caps(&t.hdr, CAPS(&slots[5], &slots[2]));
    for (int i = 1; i <= 6; i++)
        if (i != 2 && i != 5)
            assert_true(slot_empty(&slots[i]));
    assert_int_equal(reply_calls, 0);           /* no hooks */
    cap_clear_type(&t.hdr, UK_CAP_REPLY);       /* none left */
    assert_caps(&t.hdr, CAPS(&slots[5], &slots[2]));
    cap_clear_type(&t.hdr, UK_CAP_THREAD);
    assert_null(t.hdr.caps);
    assert_true(slot_empty(&slots[2]));
    assert_true(slot_empty(&slots[5]));
}

/* Random installs, copies and deletes over a few objects: after each step
 * every object's list is exactly the set of slots naming it. */
static void test_random_lists(void **state)
{
    (void)state;
    enum { NS = 64, NO = 4, OPS = 20000 };
    static struct cap tab[NS];
    struct endpoint objs[NO];
    memset(tab, 0, sizeof tab);
    memset(objs, 0, sizeof objs);
    u64 seed = 777;
    for (int op = 0; op < OPS; op++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        u32 r = seed >> 33;
        struct cap *c = &tab[r % NS];
        if (c->type != UK_CAP_NULL) {
            cap_delete(c);
        } else {
            struct cap *src = &tab[(r >> 8) % NS];
            if (src->type != UK_CAP_NULL && (r >> 16) % 2)
                cap_copy(c, src, (r >> 20) & UK_R_ALL, (r >> 24) % 3);
            else
                cap_install(c, UK_CAP_ENDPOINT, UK_R_ALL, &objs[(r >> 20) % NO].hdr, 0);
        }
        for (int o = 0; o < NO; o++) {
            int want = 0, got = 0;
            for (int i = 0; i < NS; i++)
                want += tab[i].type != UK_CAP_NULL && tab[i].obj == &objs[o].hdr;
            struct cap *prev = NULL;
            for (struct cap *x = objs[o].hdr.caps; x; prev = x, x = x->next) {
                assert_ptr_equal(x->prev, prev);
                assert_ptr_equal(x->obj, &objs[o].hdr);
                assert_true(x >= tab && x < tab + NS);
                assert_true(++got <= NS);       /* no cycle */
            }
            assert_int_equal(got, want);
        }
    }
}

/* --- cspace_init / cspace_destroy ---------------------------------------- */

/* The table is charged to the given task's quota, zeroed, and given back
 * in full by destroy; the pool returns to where it was. */
static void test_cspace_charge(void **state)
{
    (void)state;
    struct task owner;
    memset(&owner, 0, sizeof owner);
    owner.quota.limit = 1 << 20;
    word bytes = kmem_bytes_used(), pages = kmem_free_pages();
    struct cspace c = {0};

    assert_int_equal(cspace_init(&c, &owner, 100), UK_OK);
    assert_int_equal(c.nslots, 100);
    assert_non_null(c.slots);
    assert_int_equal(owner.quota.used, kmem_charge(100 * sizeof(struct cap)));
    for (u32 i = 0; i < c.nslots; i++)
        assert_true(slot_empty(&c.slots[i]));
    int err = 0;
    assert_null(cap_lookup(&c, 99, UK_CAP_NULL, 0, &err));
    assert_int_equal(err, UK_E_CAP);
    assert_null(cap_slot(&c, 100));

    struct cspace small = {0};                  /* smallest: slot 0 and one more */
    assert_int_equal(cspace_init(&small, &owner, 2), UK_OK);
    assert_int_equal(owner.quota.used, kmem_charge(100 * sizeof(struct cap)) +
                                       kmem_charge(2 * sizeof(struct cap)));
    cspace_destroy(&small, &owner);
    cspace_destroy(&c, &owner);
    assert_null(c.slots);
    assert_int_equal(c.nslots, 0);
    assert_int_equal(owner.quota.used, 0);
    cspace_destroy(&c, &owner);                 /* twice: no-op */
    assert_int_equal(owner.quota.used, 0);
    assert_int_equal(kmem_bytes_used(), bytes);
    assert_int_equal(kmem_free_pages(), pages);

    /* the largest table is allowed */
    owner.quota.limit = ~(word)0;
    assert_int_equal(cspace_init(&c, &owner, UK_MAX_CAP_SLOTS), UK_OK);
    assert_int_equal(owner.quota.used, kmem_charge(UK_MAX_CAP_SLOTS * sizeof(struct cap)));
    cspace_destroy(&c, &owner);
    assert_int_equal(owner.quota.used, 0);
    assert_int_equal(kmem_bytes_used(), bytes);
}

/* Bad sizes are refused; a quota that cannot cover the table gives
 * UK_E_NOMEM and charges nothing. */
static void test_cspace_init_errors(void **state)
{
    (void)state;
    struct task owner;
    memset(&owner, 0, sizeof owner);
    owner.quota.limit = ~(word)0;
    struct cspace c = {0};
    assert_int_equal(cspace_init(&c, &owner, 0), UK_E_INVAL);
    assert_int_equal(cspace_init(&c, &owner, 1), UK_E_INVAL);
    assert_int_equal(cspace_init(&c, &owner, UK_MAX_CAP_SLOTS + 1), UK_E_INVAL);
    assert_int_equal(cspace_init(&c, &owner, ~(u32)0), UK_E_INVAL);
    assert_int_equal(owner.quota.used, 0);
    assert_null(c.slots);

    word need = kmem_charge(50 * sizeof(struct cap));
    owner.quota.limit = need - 1;
    word bytes = kmem_bytes_used();
    assert_int_equal(cspace_init(&c, &owner, 50), UK_E_NOMEM);
    assert_null(c.slots);
    assert_int_equal(owner.quota.used, 0);
    assert_int_equal(kmem_bytes_used(), bytes);
    owner.quota.limit = need;                   /* exactly enough */
    assert_int_equal(cspace_init(&c, &owner, 50), UK_OK);
    assert_int_equal(owner.quota.used, need);
    cspace_destroy(&c, &owner);
    assert_int_equal(owner.quota.used, 0);
}

/* Destroying a table deletes every cap in it with the hooks (REPLY ->
 * reply_cap_deleted; last IRQ cap -> irq_teardown), unlinks them from
 * their objects, and leaves caps in other tables alone. */
static void test_cspace_destroy_deletes(void **state)
{
    (void)state;
    struct task owner;
    memset(&owner, 0, sizeof owner);
    owner.quota.limit = 1 << 20;
    struct cspace c = {0};
    assert_int_equal(cspace_init(&c, &owner, 32), UK_OK);
    reset_slots();

    struct endpoint ep = {0};
    struct thread caller = {0};
    struct irq_holder only_here = { .line = 1 }, shared = { .line = 2 };
    cap_install(&c.slots[1], UK_CAP_ENDPOINT, UK_R_ALL, &ep.hdr, 0);
    cap_copy(&slots[1], &c.slots[1], UK_R_WRITE, 3);            /* outside */
    cap_copy(&c.slots[31], &c.slots[1], UK_R_READ, 0);          /* last slot */
    cap_install(&c.slots[5], UK_CAP_REPLY, UK_R_WRITE, &caller.hdr, 0);
    cap_install(&c.slots[6], UK_CAP_IRQ, UK_R_ALL, &only_here.hdr, 0);
    cap_copy(&c.slots[7], &c.slots[6], UK_R_ALL, 0);
    cap_install(&c.slots[8], UK_CAP_IRQ, UK_R_ALL, &shared.hdr, 0);
    cap_copy(&slots[2], &c.slots[8], UK_R_ALL, 0);              /* outside */
    cap_install(&c.slots[9], UK_CAP_IOPORT, UK_R_ALL, NULL, 0);

    cspace_destroy(&c, &owner);
    assert_int_equal(owner.quota.used, 0);
    assert_int_equal(reply_calls, 1);
    assert_ptr_equal(reply_arg, &caller);
    assert_null(caller.hdr.caps);
    assert_int_equal(irq_calls, 1);                 /* only the line with no cap left */
    assert_ptr_equal(irq_arg, &only_here);
    assert_null(only_here.hdr.caps);
    assert_caps(&shared.hdr, CAPS(&slots[2]));
    assert_caps(&ep.hdr, CAPS(&slots[1]));
    assert_int_equal(slots[1].badge, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slot_bounds, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_lookup_errors, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_install_delete_list, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_objectless_caps, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_copy_rights_and_badge, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_delete_reply_hook, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_delete_irq_hook, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_clear_all, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_clear_type, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_random_lists, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_cspace_charge, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_cspace_init_errors, setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_cspace_destroy_deletes, setup, pool_teardown),
    };
    return cmocka_run_group_tests_name("cap", tests, NULL, NULL);
}
