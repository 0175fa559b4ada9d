/*
 * Bad input: every wrong slot, type, right, address, length and argument
 * gets its documented error and changes nothing.  Random system calls
 * from hostile tasks (garbage in every register): the fuzz suite, tests/fuzz.
 */
#include "ktest.h"

extern char __image_start[];

#define SELF UK_SLOT_SELF_TASK
#define MS(n) uk_timeout_us((n) * 1000ul)

static uk_word_t bd_used(void)
{
    uk_word_t used = 0;
    uk_kmem_info(SELF, &used, 0);
    return used;
}

/* The root blocks (so threads of any priority run) until *flag != 0 or
 * `us` pass; returns *flag. */
/* ------------------------------------------------------------------------ */

KT_TEST(bad_slot_empty_zero_or_out_of_range)
{
    uk_word_t ep = kt_endpoint(), n = kt_notification();
    uk_word_t th = uk_slot_alloc(), empty = uk_slot_alloc(), dst = uk_slot_alloc();
    KT_EQ(uk_thread_create(th, SELF), UK_OK);
    uk_word_t page = (uk_word_t)uk_pages_alloc(1), v = 0;
    uk_word_t before = bd_used();
    const uk_word_t bad[] = { empty, 0, UK_ROOT_CAP_SLOTS, UK_ROOT_CAP_SLOTS + 1,
                              1ul << 32, 1ul << 40, ~0ul };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uk_word_t s = bad[i];
        struct uk_msg m = { .info = uk_msginfo(1, 2, MS(10)) };
        KT_EQ(uk_call(s, &m), UK_E_CAP);
        m.info = uk_msginfo(1, 2, UK_TIMEOUT_INFINITE);      /* the fast path's checks */
        KT_EQ(uk_call(s, &m), UK_E_CAP);
        m.info = uk_msginfo(1, 2, UK_TIMEOUT_ZERO);
        KT_EQ(uk_send(s, &m), UK_E_CAP);
        m.info = uk_msginfo(0, 0, MS(10));
        KT_EQ(uk_recv(s, &m), UK_E_CAP);
        KT_EQ(uk_wait(s, UK_TIMEOUT_ZERO, 0), UK_E_CAP);
        KT_EQ(uk_signal(s), UK_E_CAP);
        KT_EQ(uk_cap_copy(s, SELF, dst, UK_R_ALL, 0), UK_E_CAP);     /* source */
        KT_EQ(uk_cap_copy(ep, s, dst, UK_R_ALL, 0), UK_E_CAP);       /* task */
        KT_EQ(uk_obj_destroy(s), UK_E_CAP);
        KT_EQ(uk_thread_config(s, 10, 0, 0), UK_E_CAP);
        KT_EQ(uk_thread_start(s, (uk_word_t)__image_start, UK_ROOT_STACK_TOP - 8, 0), UK_E_CAP);
        KT_EQ(uk_thread_read_regs(s), UK_E_CAP);
        KT_EQ(uk_thread_create(dst, s), UK_E_CAP);
        KT_EQ(uk_map(s, page, 0x10000000, 1, UK_MAP_READ), UK_E_CAP);
        KT_EQ(uk_unmap(s, page, 1), UK_E_CAP);
        KT_EQ(uk_protect(s, page, 1, UK_MAP_READ), UK_E_CAP);
        KT_EQ(uk_kmem_info(s, 0, 0), UK_E_CAP);
        KT_EQ(uk_notif_bind(s, th), UK_E_CAP);
        KT_EQ(uk_irq_get(s, 10, dst), UK_E_CAP);
        KT_EQ(uk_irq_bind(s, n), UK_E_CAP);
        KT_EQ(uk_irq_ack(s), UK_E_CAP);
        KT_EQ(uk_ioport_issue(s, 0x70, 1, dst), UK_E_CAP);
        KT_EQ(uk_inb(s, 0x70, &v), UK_E_CAP);
        if (s != 0) {              /* 0 means "none" / "myself" for these */
            KT_EQ(uk_thread_config(th, 10, s, 0), UK_E_CAP);        /* fault endpoint */
            KT_EQ(uk_notif_bind(n, s), UK_E_CAP);
            KT_EQ(uk_thread_suspend(s), UK_E_CAP);
        }
        if (s == empty) {
            uk_word_t type = 1, rights = 1, badge = 1;
            KT_EQ(uk_cap_info(s, &type, &rights, &badge), UK_OK);
            KT_EQ(type, UK_CAP_NULL);
            KT_EQ(uk_cap_delete(SELF, s), UK_OK);                    /* no-op */
        } else {                   /* no such slot at all */
            KT_EQ(uk_cap_info(s, 0, 0, 0), UK_E_CAP);
            KT_EQ(uk_cap_delete(SELF, s), UK_E_CAP);
            KT_EQ(uk_cap_copy(ep, SELF, s, UK_R_ALL, 0), UK_E_CAP);  /* destination */
            KT_EQ(uk_endpoint_create(s), UK_E_CAP);
            KT_EQ(uk_notif_create(s), UK_E_CAP);
            KT_EQ(uk_task_create(s, 65536, 16), UK_E_CAP);
            KT_EQ(uk_thread_create(s, SELF), UK_E_CAP);
            KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 10, s), UK_E_CAP);
            KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0x70, 1, s), UK_E_CAP);
            KT_EQ(uk_reply_save(s), UK_E_CAP);
        }
    }
    KT_EQ(kt_cap_type(dst), UK_CAP_NULL);
    KT_EQ(kt_cap_type(empty), UK_CAP_NULL);
    KT_EQ(bd_used(), before);
    /* IRQ line 10 was not taken by any of the failed calls */
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 10, dst), UK_OK);
    kt_destroy(dst);
    kt_destroy(th);
    kt_destroy(n);
    kt_destroy(ep);
}

KT_TEST(bad_wrong_cap_type)
{
    uk_word_t ep = kt_endpoint(), n = kt_notification();
    uk_word_t th = uk_slot_alloc(), dst = uk_slot_alloc(), io = uk_slot_alloc(), ctl = uk_slot_alloc();
    KT_EQ(uk_thread_create(th, SELF), UK_OK);
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0x70, 2, io), UK_OK);
    KT_EQ(uk_cap_copy(UK_SLOT_IRQ_CONTROL, SELF, ctl, UK_R_ALL, 0), UK_OK);
    uk_word_t page = (uk_word_t)uk_pages_alloc(1), v = 0;
    uk_word_t before = bd_used();

    struct uk_msg m = { .info = uk_msginfo(1, 1, MS(10)) };
    KT_EQ(uk_call(n, &m), UK_E_CAP_TYPE);
    m.info = uk_msginfo(1, 1, UK_TIMEOUT_INFINITE);
    KT_EQ(uk_call(th, &m), UK_E_CAP_TYPE);
    m.info = uk_msginfo(1, 1, UK_TIMEOUT_ZERO);
    KT_EQ(uk_send(n, &m), UK_E_CAP_TYPE);
    KT_EQ(uk_send(io, &m), UK_E_CAP_TYPE);
    m.info = uk_msginfo(0, 0, MS(10));
    KT_EQ(uk_recv(th, &m), UK_E_CAP_TYPE);
    m.info = uk_msginfo(0, 0, MS(10));
    KT_EQ(uk_recv(SELF, &m), UK_E_CAP_TYPE);
    KT_EQ(uk_signal(ep), UK_E_CAP_TYPE);
    KT_EQ(uk_signal(th), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_config(ep, 10, 0, 0), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_config(SELF, 10, 0, 0), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_config(th, 10, n, 0), UK_E_CAP_TYPE);     /* fault ep must be an endpoint */
    KT_EQ(uk_thread_start(n, (uk_word_t)__image_start, UK_ROOT_STACK_TOP - 8, 0), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_read_regs(ep), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_write_regs(ep), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_suspend(n), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_create(dst, ep), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_create(dst, th), UK_E_CAP_TYPE);
    KT_EQ(uk_cap_copy(ep, th, 20, UK_R_ALL, 0), UK_E_CAP_TYPE);
    KT_EQ(uk_cap_delete(ep, 20), UK_E_CAP_TYPE);
    KT_EQ(uk_map(ep, page, 0x10000000, 1, UK_MAP_READ), UK_E_CAP_TYPE);
    KT_EQ(uk_unmap(th, 0x10000000, 1), UK_E_CAP_TYPE);
    KT_EQ(uk_protect(n, page, 1, UK_MAP_READ), UK_E_CAP_TYPE);
    KT_EQ(uk_kmem_info(ep, 0, 0), UK_E_CAP_TYPE);
    KT_EQ(uk_notif_bind(ep, th), UK_E_CAP_TYPE);
    KT_EQ(uk_notif_bind(n, ep), UK_E_CAP_TYPE);
    KT_EQ(uk_irq_get(ep, 10, dst), UK_E_CAP_TYPE);
    KT_EQ(uk_irq_get(UK_SLOT_IOPORT_ALL, 10, dst), UK_E_CAP_TYPE);
    KT_EQ(uk_irq_bind(n, n), UK_E_CAP_TYPE);
    KT_EQ(uk_irq_ack(ep), UK_E_CAP_TYPE);
    KT_EQ(uk_ioport_issue(ep, 0x70, 1, dst), UK_E_CAP_TYPE);
    KT_EQ(uk_ioport_issue(UK_SLOT_IRQ_CONTROL, 0x70, 1, dst), UK_E_CAP_TYPE);
    KT_EQ(uk_inb(n, 0x70, &v), UK_E_CAP_TYPE);
    KT_EQ(uk_out(th, 0x70, 1, 0x0d), UK_E_CAP_TYPE);
    /* objects without a kernel object cannot be destroyed */
    KT_EQ(uk_obj_destroy(io), UK_E_CAP_TYPE);
    KT_EQ(uk_obj_destroy(ctl), UK_E_CAP_TYPE);
    KT_EQ(kt_cap_type(io), UK_CAP_IOPORT);
    KT_EQ(kt_cap_type(ctl), UK_CAP_IRQ_CONTROL);

    KT_EQ(kt_cap_type(dst), UK_CAP_NULL);
    KT_EQ(bd_used(), before);
    /* all still work */
    m.info = uk_msginfo(1, 1, UK_TIMEOUT_ZERO);
    KT_EQ(uk_send(ep, &m), UK_E_TIMEOUT);
    uk_word_t bits = 0;
    KT_EQ(uk_signal(n), UK_OK);
    KT_EQ(uk_wait(n, UK_TIMEOUT_ZERO, &bits), UK_OK);
    KT_EQ(bits, 1);
    KT_EQ(uk_inb(io, 0x71, &v), UK_OK);
    kt_destroy(ctl);
    kt_destroy(io);
    kt_destroy(th);
    kt_destroy(n);
    kt_destroy(ep);
}

KT_TEST(bad_missing_rights)
{
    uk_word_t ep = kt_endpoint(), n = kt_notification();
    uk_word_t th = uk_slot_alloc();
    KT_EQ(uk_thread_create(th, SELF), UK_OK);
    uk_word_t ep_r = uk_slot_alloc(), ep_w = uk_slot_alloc(), n_r = uk_slot_alloc(),
              n_w = uk_slot_alloc(), th_ro = uk_slot_alloc(), task_ro = uk_slot_alloc(),
              dst = uk_slot_alloc();
    KT_EQ(uk_cap_copy(ep, SELF, ep_r, UK_R_ALL & ~UK_R_WRITE, 0), UK_OK);
    KT_EQ(uk_cap_copy(ep, SELF, ep_w, UK_R_ALL & ~UK_R_READ, 0), UK_OK);
    KT_EQ(uk_cap_copy(n, SELF, n_r, UK_R_READ, 0), UK_OK);
    KT_EQ(uk_cap_copy(n, SELF, n_w, UK_R_WRITE, 0), UK_OK);
    KT_EQ(uk_cap_copy(th, SELF, th_ro, UK_R_READ | UK_R_WRITE | UK_R_DESTROY, 0), UK_OK);
    KT_EQ(uk_cap_copy(SELF, SELF, task_ro, UK_R_READ | UK_R_WRITE, 0), UK_OK);
    uk_word_t page = (uk_word_t)uk_pages_alloc(1);
    uk_word_t before = bd_used();

    /* endpoint without WRITE: no call, no send (slow and fast path) */
    struct uk_msg m = { .info = uk_msginfo(1, 1, MS(10)) };
    KT_EQ(uk_call(ep_r, &m), UK_E_RIGHTS);
    m.info = uk_msginfo(1, 1, UK_TIMEOUT_INFINITE);
    KT_EQ(uk_call(ep_r, &m), UK_E_RIGHTS);
    m.info = uk_msginfo(1, 1, UK_TIMEOUT_ZERO);
    KT_EQ(uk_send(ep_r, &m), UK_E_RIGHTS);
    /* endpoint without READ: no receive */
    m.info = uk_msginfo(0, 0, MS(10));
    KT_EQ(uk_recv(ep_w, &m), UK_E_RIGHTS);
    m.info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE);
    KT_EQ(uk_reply_recv(ep_w, &m), UK_E_RIGHTS);
    /* notification: signal needs WRITE, wait needs READ */
    KT_EQ(uk_signal(n_r), UK_E_RIGHTS);
    KT_EQ(uk_wait(n_w, MS(10), 0), UK_E_RIGHTS);
    KT_EQ(uk_notif_bind(n_w, th), UK_E_RIGHTS);
    /* thread without CONTROL */
    KT_EQ(uk_thread_config(th_ro, 10, 0, 0), UK_E_RIGHTS);
    KT_EQ(uk_thread_start(th_ro, (uk_word_t)__image_start, UK_ROOT_STACK_TOP - 8, 0), UK_E_RIGHTS);
    KT_EQ(uk_thread_read_regs(th_ro), UK_E_RIGHTS);
    KT_EQ(uk_thread_suspend(th_ro), UK_E_RIGHTS);
    KT_EQ(uk_notif_bind(n, th_ro), UK_E_RIGHTS);
    /* a fault endpoint the thread could not call */
    KT_EQ(uk_thread_config(th, 10, ep_r, 0), UK_E_RIGHTS);
    /* task without CONTROL */
    KT_EQ(uk_thread_create(dst, task_ro), UK_E_RIGHTS);
    KT_EQ(uk_map(task_ro, page, 0x10000000, 1, UK_MAP_READ), UK_E_RIGHTS);
    KT_EQ(uk_unmap(task_ro, page, 1), UK_E_RIGHTS);
    KT_EQ(uk_protect(task_ro, page, 1, UK_MAP_READ), UK_E_RIGHTS);
    KT_EQ(uk_cap_copy(ep, task_ro, dst, UK_R_ALL, 0), UK_E_RIGHTS);
    KT_EQ(uk_cap_delete(task_ro, ep), UK_E_RIGHTS);
    /* the slot is still there */
    KT_EQ(kt_cap_type(ep), UK_CAP_ENDPOINT);
    KT_EQ(kt_cap_type(dst), UK_CAP_NULL);
    KT_EQ(bd_used(), before);
    uk_word_t phys, rights;
    KT_EQ(uk_mem_info(page, &phys, &rights), UK_OK);
    KT_EQ(rights, UK_MAP_READ | UK_MAP_WRITE);

    for (uk_word_t s = ep_r; s <= task_ro; s++)
        uk_cap_delete(SELF, s);
    kt_destroy(th);
    kt_destroy(n);
    kt_destroy(ep);
}

KT_TEST(bad_destroy_without_destroy_right)
{
    uk_word_t ep = kt_endpoint(), n = kt_notification();
    uk_word_t ep_c = uk_slot_alloc(), n_c = uk_slot_alloc();
    KT_EQ(uk_cap_copy(ep, SELF, ep_c, UK_R_ALL & ~UK_R_DESTROY, 0), UK_OK);
    KT_EQ(uk_cap_copy(n, SELF, n_c, UK_R_READ | UK_R_WRITE, 0), UK_OK);
    uk_word_t before = bd_used();
    KT_EQ(uk_obj_destroy(ep_c), UK_E_RIGHTS);
    KT_EQ(uk_obj_destroy(n_c), UK_E_RIGHTS);
    /* the root's own task cap has no DESTROY right either */
    KT_EQ(uk_obj_destroy(SELF), UK_E_RIGHTS);
    KT_EQ(bd_used(), before);
    /* both objects live on and work through every cap */
    uk_word_t bits = 0;
    KT_EQ(uk_signal(n_c), UK_OK);
    KT_EQ(uk_wait(n, UK_TIMEOUT_ZERO, &bits), UK_OK);
    KT_EQ(bits, 1);
    KT_EQ(uk_signal(n), UK_OK);
    KT_EQ(uk_wait(n_c, UK_TIMEOUT_ZERO, &bits), UK_OK);
    struct uk_msg m = { .info = uk_msginfo(1, 1, UK_TIMEOUT_ZERO) };
    KT_EQ(uk_send(ep_c, &m), UK_E_TIMEOUT);        /* no receiver, but it exists */
    KT_EQ(kt_cap_type(ep_c), UK_CAP_ENDPOINT);
    KT_EQ(kt_cap_type(ep), UK_CAP_ENDPOINT);
    /* destroying through the full cap empties the copy too */
    KT_EQ(uk_obj_destroy(ep), UK_OK);
    KT_EQ(kt_cap_type(ep_c), UK_CAP_NULL);
    KT_EQ(kt_cap_type(ep), UK_CAP_NULL);
    kt_destroy(n_c);
    KT_EQ(kt_cap_type(n), UK_CAP_NOTIFICATION);
    kt_destroy(n);
    kt_destroy(ep);
}

KT_TEST(bad_rights_and_badge_cannot_grow_on_copy)
{
    uk_word_t ep = kt_endpoint();
    uk_word_t a = uk_slot_alloc(), b = uk_slot_alloc(), c = uk_slot_alloc(), d = uk_slot_alloc(),
              e = uk_slot_alloc();
    uk_word_t type, rights, badge;
    KT_EQ(uk_cap_copy(ep, SELF, a, UK_R_READ, 0x11), UK_OK);
    KT_EQ(uk_cap_info(a, &type, &rights, &badge), UK_OK);
    KT_EQ(type, UK_CAP_ENDPOINT);
    KT_EQ(rights, UK_R_READ);
    KT_EQ(badge, 0x11);
    /* asking for everything again gives what the source had */
    KT_EQ(uk_cap_copy(a, SELF, b, UK_R_ALL, 0x22), UK_OK);
    KT_EQ(uk_cap_info(b, &type, &rights, &badge), UK_OK);
    KT_EQ(rights, UK_R_READ);
    KT_EQ(badge, 0x11);                     /* a badge is never replaced */
    /* unknown rights bits are not made up */
    KT_EQ(uk_cap_copy(ep, SELF, c, ~0ul, 0), UK_OK);
    KT_EQ(uk_cap_info(c, &type, &rights, &badge), UK_OK);
    KT_EQ(rights, UK_R_ALL);
    KT_EQ(badge, 0);
    /* no rights at all: a useless but harmless cap */
    KT_EQ(uk_cap_copy(ep, SELF, d, 0, 0), UK_OK);
    KT_EQ(uk_cap_info(d, &type, &rights, 0), UK_OK);
    KT_EQ(rights, 0);
    KT_EQ(uk_obj_destroy(d), UK_E_RIGHTS);
    KT_EQ(uk_cap_copy(d, SELF, e, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_info(e, &type, &rights, 0), UK_OK);
    KT_EQ(rights, 0);
    /* the root's own task cap never had DESTROY */
    uk_cap_delete(SELF, e);
    KT_EQ(uk_cap_copy(SELF, SELF, e, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_info(e, &type, &rights, 0), UK_OK);
    KT_EQ(type, UK_CAP_TASK);
    KT_EQ(rights & UK_R_DESTROY, 0);
    KT_EQ(uk_obj_destroy(e), UK_E_RIGHTS);
    for (uk_word_t s = a; s <= e; s++)
        uk_cap_delete(SELF, s);
    kt_destroy(ep);
}

KT_TEST(bad_destination_slot_busy)
{
    uk_word_t ep = kt_endpoint(), n = uk_slot_alloc(), dst = uk_slot_alloc();
    KT_EQ(uk_cap_copy(ep, SELF, n, UK_R_ALL, 0), UK_OK);
    uk_cap_delete(SELF, n);
    KT_EQ(uk_notif_create(n), UK_OK);
    uk_word_t badged = uk_slot_alloc();
    KT_EQ(uk_cap_copy(n, SELF, badged, UK_R_READ | UK_R_WRITE, 0x40), UK_OK);
    uk_word_t before = bd_used();
    uk_word_t type, rights, badge;

    KT_EQ(uk_cap_copy(ep, SELF, badged, UK_R_ALL, 0x99), UK_E_BUSY);
    KT_EQ(uk_cap_copy(ep, SELF, n, UK_R_ALL, 0), UK_E_BUSY);
    KT_EQ(uk_cap_copy(n, SELF, n, UK_R_ALL, 0), UK_E_BUSY);       /* onto itself */
    KT_EQ(uk_endpoint_create(badged), UK_E_BUSY);
    KT_EQ(uk_notif_create(badged), UK_E_BUSY);
    KT_EQ(uk_task_create(badged, 65536, 16), UK_E_BUSY);
    KT_EQ(uk_thread_create(badged, SELF), UK_E_BUSY);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 10, badged), UK_E_BUSY);
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0x70, 2, badged), UK_E_BUSY);
    KT_EQ(uk_endpoint_create(UK_SLOT_SELF_THREAD), UK_E_BUSY);
    KT_EQ(uk_reply_save(badged), UK_E_BUSY);
    /* destination unchanged */
    KT_EQ(uk_cap_info(badged, &type, &rights, &badge), UK_OK);
    KT_EQ(type, UK_CAP_NOTIFICATION);
    KT_EQ(rights, UK_R_READ | UK_R_WRITE);
    KT_EQ(badge, 0x40);
    KT_EQ(uk_cap_info(UK_SLOT_SELF_THREAD, &type, &rights, 0), UK_OK);
    KT_EQ(type, UK_CAP_THREAD);
    KT_EQ(bd_used(), before);
    uk_word_t bits = 0;
    KT_EQ(uk_signal(badged), UK_OK);
    KT_EQ(uk_wait(n, UK_TIMEOUT_ZERO, &bits), UK_OK);
    KT_EQ(bits, 0x40);
    /* line 10 and the slot: nothing was half-done */
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, 10, dst), UK_OK);
    kt_destroy(dst);
    kt_destroy(badged);
    kt_destroy(n);
    kt_destroy(ep);
}

static volatile long rc_result, rc_word, rc_done;
static void rc_caller(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(7, 1, MS(5000)), .w = { 42 } };
    rc_result = uk_call(ep, &m);
    rc_word = (long)m.w[0];
    rc_done = 1;
}

KT_TEST(bad_reply_cap_cannot_be_copied)
{
    uk_word_t ep = kt_endpoint(), r = uk_slot_alloc(), x = uk_slot_alloc();
    struct uk_spawned caller;
    rc_done = 0;
    rc_result = -1;
    KT_EQ(uk_spawn(SELF, rc_caller, ep, 200, 0, &caller), UK_OK);
    struct uk_msg m = { .info = uk_msginfo(0, 0, MS(2000)) };
    KT_EQ(uk_recv(ep, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), 7);
    KT_EQ(m.w[0], 42);
    KT_EQ(uk_reply_save(r), UK_OK);
    uk_word_t type = 0, rights = 0;
    KT_EQ(uk_cap_info(r, &type, &rights, 0), UK_OK);
    KT_EQ(type, UK_CAP_REPLY);
    uk_word_t before = bd_used();
    KT_EQ(uk_cap_copy(r, SELF, x, UK_R_ALL, 0), UK_E_CAP_TYPE);
    KT_EQ(uk_cap_copy(r, SELF, x, UK_R_WRITE, 5), UK_E_CAP_TYPE);
    KT_EQ(kt_cap_type(x), UK_CAP_NULL);
    long err = uk_obj_destroy(r);           /* a reply cap names no object to destroy */
    KT_CHECK(err == UK_E_RIGHTS || err == UK_E_CAP_TYPE);
    m.info = uk_msginfo(1, 1, MS(10));
    KT_EQ(uk_call(r, &m), UK_E_CAP_TYPE);   /* one can only send on it */
    KT_EQ(kt_cap_type(r), UK_CAP_REPLY);
    KT_EQ(bd_used(), before);
    /* the saved right still works, once */
    m.info = uk_msginfo(0, 1, UK_TIMEOUT_ZERO);
    m.w[0] = 99;
    KT_EQ(uk_send(r, &m), UK_OK);
    KT_EQ(kt_wait_flag(&rc_done, 2000000), 1);
    KT_EQ(rc_result, UK_OK);
    KT_EQ(rc_word, 99);
    KT_EQ(kt_cap_type(r), UK_CAP_NULL);
    kt_destroy(caller.thread);
    kt_destroy(ep);
}

KT_TEST(bad_debug_puts_addresses)
{
    static const char ok[] = "    (bad_debug_puts_addresses: this line is fine)\n";
    uk_word_t pa, rights;
    /* preconditions: which of our pages are mapped */
    KT_EQ(uk_mem_info(UK_ROOT_STACK_TOP - 4096, &pa, &rights), UK_OK);
    KT_EQ(uk_mem_info(UK_ROOT_STACK_TOP, &pa, &rights), UK_E_NOT_MAPPED);
    KT_EQ(uk_mem_info(UK_ROOT_STACK_TOP - (256ul << 10), &pa, &rights), UK_OK);
    KT_EQ(uk_mem_info(UK_ROOT_STACK_TOP - (256ul << 10) - 4096, &pa, &rights), UK_E_NOT_MAPPED);
    KT_EQ(uk_mem_info(0x7f0000000000ul, &pa, &rights), UK_E_NOT_MAPPED);

    KT_EQ(uk_debug_puts((const char *)0xffffffff80100000ul, 8), UK_E_ADDR);   /* kernel */
    KT_EQ(uk_debug_puts((const char *)0xffff800000000000ul, 8), UK_E_ADDR);
    KT_EQ(uk_debug_puts(0, 8), UK_E_ADDR);                                    /* NULL */
    KT_EQ(uk_debug_puts((const char *)0x7f0000000000ul, 8), UK_E_ADDR);       /* unmapped */
    KT_EQ(uk_debug_puts((const char *)UK_USER_HALF_END, 8), UK_E_ADDR);   /* non-canonical */
    KT_EQ(uk_debug_puts((const char *)0xdead000000000000ul, 8), UK_E_ADDR);
    KT_EQ(uk_debug_puts((const char *)UK_USER_MAP_TOP, 8), UK_E_ADDR);   /* the last page */
    KT_EQ(uk_debug_puts((const char *)0x00007ffffffffff8ul, 16), UK_E_ADDR);  /* crosses the top */
    KT_EQ(uk_debug_puts((const char *)(~0ul - 4), 10), UK_E_ADDR);            /* wraps */
    KT_EQ(uk_debug_puts(ok, UK_DEBUG_PUTS_MAX + 1), UK_E_INVAL);
    KT_EQ(uk_debug_puts(0, ~0ul), UK_E_INVAL);
    KT_EQ(uk_debug_puts(ok, 1ul << 40), UK_E_INVAL);
    /* mapped, then the guard page above the stack */
    KT_EQ(uk_debug_puts((const char *)(UK_ROOT_STACK_TOP - 10), 20), UK_E_ADDR);
    /* unmapped, then the bottom of the stack */
    KT_EQ(uk_debug_puts((const char *)(UK_ROOT_STACK_TOP - (256ul << 10) - 10), 20), UK_E_ADDR);
    KT_EQ(uk_debug_puts((const char *)(UK_ROOT_STACK_TOP - (256ul << 10) - 1), 2), UK_E_ADDR);
    /* nothing to print: no address is touched */
    KT_EQ(uk_debug_puts(0, 0), UK_OK);
    KT_EQ(uk_debug_puts(ok, sizeof ok - 1), UK_OK);
}

/* The kernel log and counters are a privilege (UK_CAP_DEBUG): a task
 * without the cap gets an error and prints nothing; rights split the two. */
static volatile long dc_r[4], dc_done;
static void dc_thread(uk_word_t unused)
{
    static const char line[] = "    (bad_debug_cap: FORGED-IF-SEEN)\n";
    (void)unused;
    dc_r[0] = uk_debug_puts(line, sizeof line - 1);         /* slot 5: empty */
    dc_r[1] = uk_debug_stats();
    dc_r[2] = uk_debug_puts_at(UK_SLOT_SELF_TASK, line, sizeof line - 1);
    dc_r[3] = uk_debug_puts_at(1ul << 40, line, sizeof line - 1);
    dc_done = 1;
}

KT_TEST(bad_debug_cap)
{
    static const char ok[] = "    (bad_debug_cap: this line is fine)\n";
    uk_word_t before = bd_used();
    uk_word_t type, rights, badge;
    KT_EQ(uk_cap_info(UK_SLOT_DEBUG, &type, &rights, &badge), UK_OK);
    KT_EQ(type, UK_CAP_DEBUG);                              /* the root's, from boot */
    KT_EQ(rights, UK_R_ALL);
    /* rights split writing the log from reading the counters */
    uk_word_t w = uk_slot_alloc(), r = uk_slot_alloc();
    KT_EQ(uk_cap_copy(UK_SLOT_DEBUG, SELF, w, UK_R_WRITE, 0), UK_OK);
    KT_EQ(uk_cap_copy(UK_SLOT_DEBUG, SELF, r, UK_R_READ, 0), UK_OK);
    KT_EQ(uk_debug_puts_at(w, ok, sizeof ok - 1), UK_OK);
    KT_EQ(uk_debug_stats_at(w), UK_E_RIGHTS);
    KT_EQ(uk_debug_puts_at(r, ok, sizeof ok - 1), UK_E_RIGHTS);
    KT_EQ(uk_debug_stats_at(r), UK_OK);
    /* other slots: wrong type, empty, out of range */
    KT_EQ(uk_debug_puts_at(UK_SLOT_SELF_TASK, ok, sizeof ok - 1), UK_E_CAP_TYPE);
    KT_EQ(uk_debug_stats_at(UK_SLOT_IRQ_CONTROL), UK_E_CAP_TYPE);
    KT_EQ(uk_debug_puts_at(UK_SLOT_NULL, ok, sizeof ok - 1), UK_E_CAP);
    KT_EQ(uk_debug_puts_at(~0ul, ok, sizeof ok - 1), UK_E_CAP);
    /* it names no object: it cannot be destroyed, only deleted */
    KT_EQ(uk_obj_destroy(w), UK_E_RIGHTS);
    uk_word_t all = uk_slot_alloc();
    KT_EQ(uk_cap_copy(UK_SLOT_DEBUG, SELF, all, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_obj_destroy(all), UK_E_CAP_TYPE);
    KT_EQ(uk_debug_puts_at(all, ok, sizeof ok - 1), UK_OK);
    KT_EQ(uk_cap_delete(SELF, all), UK_OK);
    KT_EQ(uk_debug_puts_at(all, ok, sizeof ok - 1), UK_E_CAP);
    /* a task that was not given it: refused, nothing printed */
    uk_word_t child = 0;
    KT_EQ(uk_task_new(256ul << 10, 8, 1, &child), UK_OK);
    struct uk_spawned t;
    dc_done = 0;
    KT_EQ(uk_spawn(child, dc_thread, 0, 200, 0, &t), UK_OK);
    KT_EQ(kt_wait_flag(&dc_done, 2000000), 1);
    KT_EQ(dc_r[0], UK_E_CAP);
    KT_EQ(dc_r[1], UK_E_CAP);
    KT_EQ(dc_r[2], UK_E_CAP);                               /* 8 slots: none is ours */
    KT_EQ(dc_r[3], UK_E_CAP);
    kt_destroy(t.thread);
    KT_EQ(uk_obj_destroy(child), UK_OK);
    uk_cap_delete(SELF, child);
    uk_cap_delete(SELF, w);
    uk_cap_delete(SELF, r);
    KT_EQ(bd_used(), before);
}

KT_TEST(bad_thread_config_and_start_addresses)
{
    uk_word_t th = uk_slot_alloc(), ep = kt_endpoint(), n = kt_notification();
    KT_EQ(uk_thread_create(th, SELF), UK_OK);
    uk_word_t before = bd_used();
    uk_word_t buf = (uk_word_t)uk_pages_alloc(1);
    /* IPC buffer: page aligned, user */
    KT_EQ(uk_thread_config(th, 10, 0, buf + 8), UK_E_ADDR);
    KT_EQ(uk_thread_config(th, 10, 0, buf + 4095), UK_E_ADDR);
    KT_EQ(uk_thread_config(th, 10, 0, 0xffffffff80100000ul), UK_E_ADDR);
    KT_EQ(uk_thread_config(th, 10, 0, 0xffff800000000000ul), UK_E_ADDR);
    KT_EQ(uk_thread_config(th, 10, 0, UK_USER_HALF_END), UK_E_ADDR);
    KT_EQ(uk_thread_config(th, 10, 0, UK_USER_MAP_TOP), UK_E_ADDR);
    KT_EQ(uk_thread_config(th, 10, 0, ~0ul & ~0xffful), UK_E_ADDR);
    /* priority */
    KT_EQ(uk_thread_config(th, 256, 0, buf), UK_E_INVAL);
    KT_EQ(uk_thread_config(th, 1000, 0, buf), UK_E_INVAL);
    KT_EQ(uk_thread_config(th, ~0ul, 0, buf), UK_E_INVAL);
    KT_EQ(uk_thread_config(th, (1ul << 32) | 10, 0, buf), UK_E_INVAL);
    /* the fault endpoint */
    KT_EQ(uk_thread_config(th, 10, n, buf), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_config(th, 10, uk_slot_alloc(), buf), UK_E_CAP);
    /* start: user rip and rsp only */
    KT_EQ(uk_thread_start(th, 0xffffffff80100000ul, UK_ROOT_STACK_TOP - 8, 0), UK_E_ADDR);
    KT_EQ(uk_thread_start(th, UK_USER_HALF_END, UK_ROOT_STACK_TOP - 8, 0), UK_E_ADDR);
    KT_EQ(uk_thread_start(th, 0xdead000000401000ul, UK_ROOT_STACK_TOP - 8, 0), UK_E_ADDR);
    KT_EQ(uk_thread_start(th, UK_USER_MAP_TOP, UK_ROOT_STACK_TOP - 8, 0), UK_E_ADDR);
    KT_EQ(uk_thread_start(th, (uk_word_t)__image_start, 0xffffffff80100000ul, 0), UK_E_ADDR);
    KT_EQ(uk_thread_start(th, (uk_word_t)__image_start, 0x0000800000000008ul, 0), UK_E_ADDR);
    /* the calling thread cannot restart itself */
    KT_EQ(uk_thread_start(UK_SLOT_SELF_THREAD, (uk_word_t)__image_start, UK_ROOT_STACK_TOP - 8, 0),
          UK_E_STATE);
    /* nothing changed: never started, registers as created */
    KT_EQ(uk_thread_read_regs(th), UK_OK);
    struct uk_regs r;
    memcpy(&r, uk_ipc_buf->data, sizeof r);
    KT_EQ(r.rip, 0);
    KT_EQ(r.rsp, 0);
    KT_EQ(bd_used(), before);
    /* write_regs refuses kernel addresses too */
    memset(&r, 0, sizeof r);
    r.rip = 0xffffffff80100000ul;
    memcpy(uk_ipc_buf->data, &r, sizeof r);
    KT_EQ(uk_thread_write_regs(th), UK_E_ADDR);
    r.rip = (uk_word_t)__image_start;
    r.gs_base = UK_USER_HALF_END;
    memcpy(uk_ipc_buf->data, &r, sizeof r);
    KT_EQ(uk_thread_write_regs(th), UK_E_ADDR);
    KT_EQ(uk_thread_read_regs(th), UK_OK);
    memcpy(&r, uk_ipc_buf->data, sizeof r);
    KT_EQ(r.rip, 0);
    KT_EQ(r.gs_base, 0);
    /* and TLS bases */
    KT_EQ(uk_set_tls(0xffffffff80100000ul, 0), UK_E_ADDR);
    KT_EQ(uk_set_tls(0, UK_USER_HALF_END), UK_E_ADDR);
    KT_CHECK(uk_ipc_buf == (struct uk_ipc_buffer *)UK_ROOT_IPC_BUFFER);   /* gs unchanged */
    /* the good values are accepted */
    KT_EQ(uk_thread_config(th, 10, ep, buf), UK_OK);
    KT_EQ(uk_thread_config(th, 10, 0, 0), UK_OK);
    kt_destroy(th);
    kt_destroy(n);
    kt_destroy(ep);
}

static volatile long lm_r[6], lm_done;
static void lm_thread(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(1, 10, MS(10)) };
    lm_r[0] = uk_call(ep, &m);
    m.info = uk_msginfo(1, 10, UK_TIMEOUT_ZERO);
    lm_r[1] = uk_send(ep, &m);
    m.info = uk_msginfo(1, 5, UK_TIMEOUT_INFINITE);
    lm_r[2] = uk_call(ep, &m);
    m.info = uk_msginfo(1, 4, UK_TIMEOUT_ZERO);     /* register words need no buffer */
    lm_r[3] = uk_send(ep, &m);
    m.info = uk_msginfo(1, 65, UK_TIMEOUT_ZERO);
    lm_r[4] = uk_send(ep, &m);
    lm_r[5] = uk_debug_stats();                     /* needs the buffer too */
    lm_done = 1;
}

KT_TEST(bad_long_message_needs_ipc_buffer)
{
    uk_word_t ep = kt_endpoint();
    const uk_word_t bufs[] = { 0, 0x7f0000000000ul };   /* none; not mapped */
    for (unsigned i = 0; i < 2; i++) {
        struct uk_spawned t;
        lm_done = 0;
        for (unsigned k = 0; k < 6; k++)
            lm_r[k] = -1;
        KT_EQ(uk_spawn_prepare(SELF, lm_thread, ep, 200, 0, &t), UK_OK);
        KT_EQ(uk_thread_config(t.thread, 200, 0, bufs[i]), UK_OK);
        KT_EQ(uk_spawn_go(&t), UK_OK);
        KT_EQ(kt_wait_flag(&lm_done, 2000000), 1);
        KT_EQ(lm_r[0], UK_E_ADDR);
        KT_EQ(lm_r[1], UK_E_ADDR);
        KT_EQ(lm_r[2], UK_E_ADDR);
        KT_EQ(lm_r[3], UK_E_TIMEOUT);
        KT_EQ(lm_r[4], UK_E_MSG_LEN);
        KT_EQ(lm_r[5], UK_E_ADDR);
        kt_destroy(t.thread);
    }
    /* the root has a buffer: only the length is wrong */
    struct uk_msg m = { .info = uk_msginfo(1, 65, MS(10)) };
    KT_EQ(uk_call(ep, &m), UK_E_MSG_LEN);
    m.info = uk_msginfo(1, 65, UK_TIMEOUT_ZERO);
    KT_EQ(uk_send(ep, &m), UK_E_MSG_LEN);
    m.info = uk_msginfo(1, 255, UK_TIMEOUT_ZERO);
    KT_EQ(uk_send(ep, &m), UK_E_MSG_LEN);
    m.info = uk_msginfo(1, 64, UK_TIMEOUT_ZERO);
    KT_EQ(uk_send(ep, &m), UK_E_TIMEOUT);           /* 64 is fine */
    kt_destroy(ep);
}

KT_TEST(bad_unknown_syscall_numbers)
{
    const uk_word_t nrs[] = { UK_SYS_COUNT, UK_SYS_COUNT + 1, 1000, ~0ul, 1ul << 32,
                              (1ul << 32) | UK_SYS_NULL, 1ul << 63 };
    uk_word_t before = bd_used();
    for (unsigned i = 0; i < sizeof nrs / sizeof nrs[0]; i++) {
        struct uk_ret r = uk_sys(nrs[i], 1, 2, 3, 4, 5, 6);
        KT_EQ(r.err, UK_E_NOSYS);
    }
    KT_EQ(bd_used(), before);
    KT_EQ(uk_null(), UK_OK);
}

KT_TEST(bad_task_create_arguments)
{
    uk_word_t s = uk_slot_alloc();
    uk_word_t before = bd_used();
    const uk_word_t nslots[] = { 0, 1, UK_MAX_CAP_SLOTS + 1, 100000, 1ul << 32, ~0ul };
    for (unsigned i = 0; i < sizeof nslots / sizeof nslots[0]; i++) {
        KT_EQ(uk_task_create(s, 65536, nslots[i]), UK_E_INVAL);
        KT_EQ(kt_cap_type(s), UK_CAP_NULL);
    }
    KT_EQ(uk_task_create(0, 65536, 16), UK_E_CAP);
    KT_EQ(bd_used(), before);
    KT_EQ(uk_task_create(s, 65536, 2), UK_OK);     /* the smallest table is fine */
    KT_EQ(kt_cap_type(s), UK_CAP_TASK);
    kt_destroy(s);
    KT_EQ(bd_used(), before);
}

static volatile long pr_r[5], pr_done;
static uk_word_t pr_self, pr_buf;
static void pr_thread(uk_word_t target)
{
    pr_r[0] = uk_thread_config(target, 200, 0, 0);
    pr_r[1] = uk_thread_config(target, 101, 0, 0);
    pr_r[2] = uk_thread_config(target, 100, 0, 0);
    pr_r[3] = uk_thread_config(target, 1, 0, 0);
    pr_r[4] = uk_thread_config(pr_self, 150, 0, pr_buf);   /* itself, upwards */
    pr_done = 1;
}

KT_TEST(bad_priority_above_caller)
{
    uk_word_t target = uk_slot_alloc();
    KT_EQ(uk_thread_create(target, SELF), UK_OK);
    KT_EQ(uk_thread_config(target, 256, 0, 0), UK_E_INVAL);
    struct uk_spawned t;
    pr_done = 0;
    KT_EQ(uk_spawn_prepare(SELF, pr_thread, target, 100, 0, &t), UK_OK);
    pr_self = t.thread;
    pr_buf = (uk_word_t)t.ipc_buffer;
    KT_EQ(uk_spawn_go(&t), UK_OK);
    KT_EQ(kt_wait_flag(&pr_done, 2000000), 1);
    KT_EQ(pr_r[0], UK_E_INVAL);
    KT_EQ(pr_r[1], UK_E_INVAL);
    KT_EQ(pr_r[2], UK_OK);
    KT_EQ(pr_r[3], UK_OK);
    KT_EQ(pr_r[4], UK_E_INVAL);
    kt_destroy(t.thread);
    kt_destroy(target);
}

KT_TEST(bad_ioport_width)
{
    uk_word_t io = uk_slot_alloc(), v = 0x1234;
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0x70, 2, io), UK_OK);
    const uk_word_t widths[] = { 0, 3, 5, 8, 16, ~0ul, (1ul << 32) | 1 };
    for (unsigned i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        KT_EQ(uk_in(io, 0x70, widths[i], &v), UK_E_INVAL);
        KT_EQ(uk_out(io, 0x70, widths[i], 0x0d), UK_E_INVAL);
    }
    KT_EQ(uk_in(io, 0x70, 1, &v), UK_OK);
    uk_cap_delete(SELF, io);
}

KT_TEST(bad_high_bits_are_not_dropped)
{
    /* An argument is a whole word: one out of range in its upper half must
     * not alias a valid small value. */
    uk_word_t s = uk_slot_alloc(), task = uk_slot_alloc();
    uk_word_t page = (uk_word_t)uk_pages_alloc(1);
    KT_EQ(uk_task_create(task, 1ul << 20, 4), UK_OK);
    uk_word_t before = bd_used(), tused0 = 0, tused1 = 0;
    uk_kmem_info(task, &tused0, 0);
    KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, (1ul << 32) | 10, s), UK_E_RANGE);
    KT_EQ(kt_cap_type(s), UK_CAP_NULL);
    KT_EQ(uk_map(task, page, 0x10000000, 1, (1ul << 32) | UK_MAP_READ), UK_E_INVAL);
    KT_EQ(uk_protect(SELF, page, 1, (1ul << 32) | UK_MAP_READ), UK_E_INVAL);
    uk_kmem_info(task, &tused1, 0);
    KT_EQ(tused1, tused0);
    uk_word_t pa, rights;
    KT_EQ(uk_mem_info(page, &pa, &rights), UK_OK);
    KT_EQ(rights, UK_MAP_READ | UK_MAP_WRITE);
    KT_EQ(bd_used(), before);
    uk_protect(SELF, page, 1, UK_MAP_READ | UK_MAP_WRITE);
    kt_destroy(s);
    kt_destroy(task);
}

static volatile long pf_done;
#define PF_ADDR 0x20000000ul
static void pf_toucher(uk_word_t unused)
{
    (void)unused;
    *(volatile long *)PF_ADDR = 5;
    pf_done = 1;
}

KT_TEST(bad_fault_reply_map_rights_high_bits)
{
    /* A pager's REPLY_MAP rights are a whole word too. */
    uk_word_t before = bd_used();
    uk_word_t fault = kt_endpoint(), child = 0;
    uk_word_t page = (uk_word_t)uk_pages_alloc(1);
    KT_EQ(uk_task_new(256ul << 10, 8, 1, &child), UK_OK);
    struct uk_spawned t;
    pf_done = 0;
    KT_EQ(uk_spawn(child, pf_toucher, 0, 200, fault, &t), UK_OK);
    struct uk_msg m = { .info = uk_msginfo(0, 0, MS(2000)) };
    KT_EQ(uk_recv(fault, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), UK_FAULT_PAGE);
    KT_EQ(m.w[0], PF_ADDR);
    m = (struct uk_msg){ .info = uk_msginfo(UK_FAULT_REPLY_MAP, 4, 0),
                         .w = { page, PF_ADDR, 1, (1ul << 32) | UK_MAP_READ | UK_MAP_WRITE } };
    KT_EQ(uk_reply(&m), UK_E_INVAL);
    /* nothing was mapped: it faults again at the same place */
    m = (struct uk_msg){ .info = uk_msginfo(0, 0, MS(2000)) };
    KT_EQ(uk_recv(fault, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), UK_FAULT_PAGE);
    KT_EQ(m.w[0], PF_ADDR);
    KT_EQ(pf_done, 0);
    m = (struct uk_msg){ .info = uk_msginfo(UK_FAULT_REPLY_MAP, 4, 0),
                         .w = { page, PF_ADDR, 1, UK_MAP_READ | UK_MAP_WRITE } };
    KT_EQ(uk_reply(&m), UK_OK);
    KT_EQ(kt_wait_flag(&pf_done, 2000000), 1);
    KT_EQ(*(volatile long *)page, 5);
    kt_destroy(t.thread);
    KT_EQ(uk_obj_destroy(child), UK_OK);
    uk_cap_delete(SELF, child);
    kt_destroy(fault);
    KT_EQ(bd_used(), before);
}
