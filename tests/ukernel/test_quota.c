/*
 * Kernel memory is charged to the task that asks for it: running out is
 * UK_E_NOMEM for that task alone, nested quotas come out of the creator's,
 * and destroying a task - whatever it holds and whoever waits on it -
 * gives every byte back.
 */
#include "ktest.h"

extern char __image_start[], __image_end[];

#define SELF UK_SLOT_SELF_TASK
#define MS(n) uk_timeout_us((n) * 1000ul)

static uk_word_t qt_used(uk_word_t task)
{
    uk_word_t used = 0;
    uk_kmem_info(task, &used, 0);
    return used;
}

static uk_word_t qt_quota(uk_word_t task)
{
    uk_word_t quota = 0;
    uk_kmem_info(task, 0, &quota);
    return quota;
}

/* Bytes the root is charged for one object of a kind (measured). */
static uk_word_t qt_charge_endpoint(void)
{
    uk_word_t s = uk_slot_alloc(), u0 = qt_used(SELF);
    uk_endpoint_create(s);
    uk_word_t c = qt_used(SELF) - u0;
    kt_destroy(s);
    return c;
}

static uk_word_t qt_charge_thread(void)
{
    uk_word_t s = uk_slot_alloc(), u0 = qt_used(SELF);
    uk_thread_create(s, SELF);
    uk_word_t c = qt_used(SELF) - u0;
    kt_destroy(s);
    return c;
}

static uk_word_t qt_charge_task(uk_word_t quota, uk_word_t nslots)
{
    uk_word_t s = uk_slot_alloc(), u0 = qt_used(SELF);
    uk_task_create(s, quota, nslots);
    uk_word_t c = qt_used(SELF) - u0;
    kt_destroy(s);
    return c;
}

KT_TEST(quota_kmem_info_basics)
{
    uk_word_t used = 0, quota = 0;
    KT_EQ(uk_kmem_info(SELF, &used, &quota), UK_OK);
    KT_CHECK(used > 0);
    KT_CHECK(quota > used);
    KT_CHECK(quota - used <= kt_bi->root_kmem_quota);
    struct uk_stats st = kt_stats();
    KT_EQ(st.caller_kmem_used, used);
    KT_EQ(st.caller_kmem_quota, quota);
    KT_CHECK(st.kmem_bytes_used >= used);
    /* an endpoint costs its size class, once, and comes back */
    uk_word_t ep = kt_endpoint();
    uk_word_t u1 = qt_used(SELF);
    KT_CHECK(u1 > used && u1 - used <= 4096);
    KT_EQ(kt_stats().kmem_bytes_used, st.kmem_bytes_used + (u1 - used));
    kt_destroy(ep);
    KT_EQ(qt_used(SELF), used);
    /* a new task: charged to us are its object and its whole quota */
    uk_word_t t = uk_slot_alloc(), tused = 0, tquota = 0;
    KT_EQ(uk_task_create(t, 65536, 16), UK_OK);
    KT_EQ(uk_kmem_info(t, &tused, &tquota), UK_OK);
    KT_EQ(tquota, 65536);
    KT_CHECK(tused >= 4096 && tused < tquota);      /* its page-table root and cap table */
    KT_CHECK(qt_used(SELF) >= used + 65536);
    KT_CHECK(qt_used(SELF) <= used + 65536 + 4096);
    /* any task cap will do, even one without rights */
    uk_word_t t0 = uk_slot_alloc(), u = 0, q = 0;
    KT_EQ(uk_cap_copy(t, SELF, t0, 0, 0), UK_OK);
    KT_EQ(uk_kmem_info(t0, &u, &q), UK_OK);
    KT_EQ(u, tused);
    KT_EQ(q, tquota);
    KT_EQ(uk_kmem_info(UK_SLOT_SELF_THREAD, &u, &q), UK_E_CAP_TYPE);
    uk_cap_delete(SELF, t0);
    kt_destroy(t);
    KT_EQ(qt_used(SELF), used);
}

/* --- a child fills its quota -------------------------------------------- */

enum { QW_ENDPOINT, QW_TASK, QW_THREAD };
#define QW_SLOTS 1024
#define QW_NESTED_QUOTA 8192

static volatile long qw_count, qw_err, qw_used0, qw_used_full, qw_used_after, qw_destroy_err,
    qw_over_err, qw_done;

/* Runs in the child: its slot 1 names itself. */
static void qw_thread(uk_word_t kind)
{
    uk_word_t used = 0, quota = 0;
    uk_kmem_info(1, &used, &quota);
    qw_used0 = (long)used;
    long err = UK_OK, n = 0;
    for (uk_word_t s = 2; s < QW_SLOTS && err == UK_OK; s++) {
        if (kind == QW_ENDPOINT)
            err = uk_endpoint_create(s);
        else if (kind == QW_TASK)
            err = uk_task_create(s, QW_NESTED_QUOTA, 2);
        else
            err = uk_thread_create(s, 1);
        if (err == UK_OK)
            n++;
    }
    qw_count = n;
    qw_err = err;
    uk_kmem_info(1, &used, 0);
    qw_used_full = (long)used;
    /* a nested task bigger than what is left */
    qw_over_err = uk_task_create(QW_SLOTS - 1, quota - used + 1, 2);
    qw_destroy_err = UK_OK;
    for (long i = 0; i < n; i++) {
        long e = uk_obj_destroy(2 + (uk_word_t)i);
        if (e != UK_OK)
            qw_destroy_err = e;
        uk_cap_delete(1, 2 + (uk_word_t)i);
    }
    uk_kmem_info(1, &used, 0);
    qw_used_after = (long)used;
    qw_done = 1;
}

static void qt_fill(uk_word_t kind, uk_word_t quota, uk_word_t per_object)
{
    uk_word_t before = qt_used(SELF);
    struct uk_stats st0 = kt_stats();
    uk_word_t child = 0, fault = kt_endpoint();
    KT_EQ(uk_task_new(quota, QW_SLOTS, 1, &child), UK_OK);
    KT_EQ(uk_cap_copy(child, child, 1, UK_R_ALL, 0), UK_OK);
    struct uk_spawned t;
    qw_done = 0;
    qw_count = qw_err = -1;
    KT_EQ(uk_spawn(child, qw_thread, kind, 200, fault, &t), UK_OK);
    uk_word_t end = uk_rdtsc() + kt_us_to_tsc(10000000);
    while (!qw_done && uk_rdtsc() < end) {    /* blocks; a fault of the worker ends it */
        struct uk_msg m = { .info = uk_msginfo(0, 0, MS(2)) };
        if (uk_recv(fault, &m) == UK_OK) {
            printf("    worker fault: label %lx addr %lx rip %lx\n",
                   uk_msg_label(m.info), m.w[0], m.w[2]);
            break;
        }
    }
    KT_EQ(qw_done, 1);
    printf("    %ld made, %lu bytes each, in the %lu of %lu bytes the child had left\n",
           qw_count, per_object, quota - (uk_word_t)qw_used0, quota);
    KT_EQ(qw_err, UK_E_NOMEM);
    KT_CHECK(qw_count > 0);
    /* exactly as many as the quota left room for */
    KT_EQ(qw_count, (long)((quota - (uk_word_t)qw_used0) / per_object));
    KT_EQ(qw_used_full, qw_used0 + qw_count * (long)per_object);
    KT_CHECK((uk_word_t)qw_used_full <= quota);
    KT_EQ(qw_over_err, UK_E_NOMEM);
    KT_EQ(qw_destroy_err, UK_OK);
    KT_EQ(qw_used_after, qw_used0);
    KT_EQ(qt_used(child), (uk_word_t)qw_used0);
    KT_EQ(qt_quota(child), quota);
    /* the kernel and the root are fine */
    uk_word_t ep = kt_endpoint();
    KT_CHECK(ep != 0);
    kt_destroy(ep);
    kt_destroy(t.thread);
    KT_EQ(uk_obj_destroy(child), UK_OK);
    uk_cap_delete(SELF, child);
    kt_destroy(fault);
    KT_EQ(qt_used(SELF), before);
    struct uk_stats st1 = kt_stats();
    KT_EQ(st1.kmem_bytes_used, st0.kmem_bytes_used);
    KT_EQ(st1.free_frames, st0.free_frames);
}

KT_TEST(quota_child_endpoints_until_nomem)
{
    uk_word_t per = qt_charge_endpoint();
    KT_CHECK(per >= 32 && per <= 4096);
    qt_fill(QW_ENDPOINT, 128ul << 10, per);
}

KT_TEST(quota_child_tasks_until_nomem)
{
    uk_word_t per = qt_charge_task(QW_NESTED_QUOTA, 2);
    KT_CHECK(per > QW_NESTED_QUOTA);
    qt_fill(QW_TASK, 160ul << 10, per);
}

KT_TEST(quota_child_threads_until_nomem)
{
    uk_word_t per = qt_charge_thread();
    KT_CHECK(per >= 256);
    qt_fill(QW_THREAD, 160ul << 10, per);
}

KT_TEST(quota_more_than_the_creator_has)
{
    uk_word_t s = uk_slot_alloc(), used = 0, quota = 0;
    KT_EQ(uk_kmem_info(SELF, &used, &quota), UK_OK);
    struct uk_stats st0 = kt_stats();
    uk_word_t task_charge = qt_charge_task(8192, 2) - 8192;
    uk_word_t left = quota - used;
    KT_EQ(uk_task_create(s, left + 1, 2), UK_E_NOMEM);
    KT_EQ(uk_task_create(s, left - task_charge + 1, 2), UK_E_NOMEM);
    KT_EQ(uk_task_create(s, ~0ul, 2), UK_E_NOMEM);
    KT_EQ(uk_task_create(s, 1ul << 63, 2), UK_E_NOMEM);
    KT_EQ(uk_task_create(s, ~0ul - task_charge + 1, 2), UK_E_NOMEM);
    KT_EQ(kt_cap_type(s), UK_CAP_NULL);
    KT_EQ(qt_used(SELF), used);
    KT_EQ(kt_stats().kmem_bytes_used, st0.kmem_bytes_used);
    /* exactly what is left: fine, and then the root itself is full */
    KT_EQ(uk_task_create(s, left - task_charge, 2), UK_OK);
    KT_EQ(qt_used(SELF), quota);
    uk_word_t e = uk_slot_alloc();
    KT_EQ(uk_endpoint_create(e), UK_E_NOMEM);
    KT_EQ(uk_notif_create(e), UK_E_NOMEM);
    KT_EQ(uk_thread_create(e, SELF), UK_E_NOMEM);
    KT_EQ(uk_task_create(e, 0, 2), UK_E_NOMEM);
    KT_EQ(kt_cap_type(e), UK_CAP_NULL);
    KT_EQ(qt_used(SELF), quota);
    kt_destroy(s);
    KT_EQ(qt_used(SELF), used);
    KT_EQ(uk_endpoint_create(e), UK_OK);
    kt_destroy(e);
    struct uk_stats st1 = kt_stats();
    KT_EQ(st1.kmem_bytes_used, st0.kmem_bytes_used);
    KT_EQ(st1.free_frames, st0.free_frames);
}

KT_TEST(quota_too_small_for_a_task_or_a_mapping)
{
    uk_word_t s = uk_slot_alloc(), before = qt_used(SELF);
    uk_word_t page = (uk_word_t)uk_pages_alloc(1);
    /* a task needs its page-table root (4096) and its cap table (2 slots) */
    KT_EQ(uk_task_create(s, 4096, 2), UK_E_NOMEM);
    KT_EQ(uk_task_create(s, 0, 2), UK_E_NOMEM);
    KT_EQ(kt_cap_type(s), UK_CAP_NULL);
    KT_EQ(qt_used(SELF), before);
    uk_word_t need = 0;
    for (uk_word_t q = 4096; q <= 8192 && !need; q += 32)
        if (uk_task_create(s, q, 2) == UK_OK)
            need = q;
    KT_CHECK(need > 4096);
    KT_EQ(qt_used(s), need);                        /* full from the start */
    /* mapping into it needs page tables it cannot pay for: the mapper learns */
    KT_EQ(uk_map(s, page, 0x10000000, 1, UK_MAP_READ), UK_E_NOMEM);
    KT_EQ(qt_used(s), need);
    /* a thread in it is charged to its creator: fine */
    uk_word_t th = uk_slot_alloc();
    KT_EQ(uk_thread_create(th, s), UK_OK);
    KT_EQ(qt_used(s), need);
    kt_destroy(th);
    kt_destroy(s);
    KT_EQ(qt_used(SELF), before);
}

/* --- shared quotas (UK_TASK_SHARED): charged as used ---------------------- */

#define SH_POOL_LIMIT (256ul << 10)

/* A shared task sets nothing aside: its owner (and the owner's owner, up the
 * chain) is charged exactly what it uses, when it uses it, and gets it back
 * when it is freed. */
KT_TEST(quota_shared_charged_as_used)
{
    uk_word_t before = qt_used(SELF);
    struct uk_stats st0 = kt_stats();
    uk_word_t pool = uk_slot_alloc(), proc = uk_slot_alloc(), used = 0, limit = 0, room = 0;
    KT_EQ(uk_task_create_shared(pool, SH_POOL_LIMIT, 2, 0), UK_OK);
    KT_EQ(uk_kmem_info(pool, &used, &limit), UK_OK);
    KT_EQ(limit, SH_POOL_LIMIT);
    KT_CHECK(used >= 4096 && used < 8192);          /* its PML4 and table, no more */
    uk_word_t pool_own = used, task_obj = qt_charge_task(8192, 2) - 8192;
    KT_EQ(qt_used(SELF), before + task_obj + pool_own);
    KT_EQ(uk_kmem_room(pool, &room), UK_OK);
    KT_EQ(room, SH_POOL_LIMIT - pool_own);
    /* a process owned by the pool, with no limit of its own */
    uk_word_t r0 = qt_used(SELF);
    KT_EQ(uk_task_create_shared(proc, ~0ul, 2, pool), UK_OK);
    uk_word_t proc_used = qt_used(proc);
    KT_CHECK(proc_used >= 4096 && proc_used < 8192);
    KT_EQ(qt_used(pool), pool_own + proc_used + task_obj);
    KT_EQ(qt_used(SELF), r0 + proc_used + task_obj);
    /* mapping into it: page tables and nodes, charged up the chain at once */
    uk_word_t page = (uk_word_t)uk_pages_alloc(1), p0 = qt_used(proc), o0 = qt_used(SELF);
    KT_EQ(uk_map(proc, page, 0x10000000, 1, UK_MAP_READ), UK_OK);
    uk_word_t grew = qt_used(proc) - p0;
    KT_CHECK(grew >= 4 * 4096);                      /* PDPT, PD, leaf (2 pages), node */
    KT_EQ(qt_used(SELF) - o0, grew);
    KT_EQ(uk_unmap(proc, 0x10000000, 1), UK_OK);
    KT_EQ(qt_used(SELF) - o0, grew - 64);            /* the node; tables stay */
    /* destroying the process gives it all back to the pool and to us */
    kt_destroy(proc);
    KT_EQ(qt_used(pool), pool_own);
    kt_destroy(pool);
    KT_EQ(qt_used(SELF), before);
    struct uk_stats st1 = kt_stats();
    KT_EQ(st1.kmem_bytes_used, st0.kmem_bytes_used);
    KT_EQ(st1.free_frames, st0.free_frames);
}

/* Processes made until the pool's limit refuses one: the limit holds for
 * all of them together, the owner keeps the rest (a guest kernel's
 * reserve), and destroying the pool destroys them all with no leak. */
KT_TEST(quota_shared_pool_fills_then_all_given_back)
{
    uk_word_t before = qt_used(SELF);
    struct uk_stats st0 = kt_stats();
    uk_word_t pool = uk_slot_alloc(), page = (uk_word_t)uk_pages_alloc(1);
    KT_EQ(uk_task_create_shared(pool, SH_POOL_LIMIT, 2, 0), UK_OK);
    uk_word_t first = 0, n = 0, last_err = UK_OK;
    for (int i = 0; i < 200; i++) {
        uk_word_t s = uk_slot_alloc();
        if (!first)
            first = s;
        last_err = uk_task_create_shared(s, ~0ul, 2, pool);
        if (last_err == UK_OK)
            last_err = uk_map(s, page, 0x400000, 1, UK_MAP_READ);
        if (last_err != UK_OK)
            break;
        n++;
    }
    uk_word_t used = 0, limit = 0;
    KT_EQ(uk_kmem_info(pool, &used, &limit), UK_OK);
    printf("    %lu tasks with one page each in a %lu KiB pool (%lu bytes each)\n",
           n, SH_POOL_LIMIT >> 10, (used - 4096 - 128) / (n ? n : 1));
    KT_EQ(last_err, UK_E_NOMEM);
    KT_CHECK(n >= 5 && n < 200);
    KT_CHECK(used <= limit);
    KT_CHECK(SH_POOL_LIMIT - used < 6 * 4096);      /* less than one more */
    /* we are not full: the pool's limit stopped them, not ours */
    uk_word_t ep = uk_slot_alloc();
    KT_EQ(uk_endpoint_create(ep), UK_OK);
    kt_destroy(ep);
    /* a classic (reserving) task owned by the pool is charged up the chain too */
    uk_word_t c = uk_slot_alloc(), room = 0;
    KT_EQ(uk_kmem_room(pool, &room), UK_OK);
    KT_EQ(uk_task_create(c, 0, 2), UK_E_NOMEM);     /* (ours: too small) */
    KT_EQ(uk_sys(UK_SYS_TASK_CREATE, c, room + 1, 2, pool, 0, 0).err, UK_E_NOMEM);
    KT_EQ(kt_cap_type(c), UK_CAP_NULL);
    /* the pool goes, and every task it owns with it */
    kt_destroy(pool);
    for (uk_word_t i = 0; i < n; i++)
        KT_EQ(kt_cap_type(first + i), UK_CAP_NULL);
    KT_EQ(qt_used(SELF), before);
    struct uk_stats st1 = kt_stats();
    KT_EQ(st1.kmem_bytes_used, st0.kmem_bytes_used);
    KT_EQ(st1.free_frames, st0.free_frames);
}

KT_TEST(quota_shared_bad_arguments)
{
    uk_word_t before = qt_used(SELF);
    uk_word_t s = uk_slot_alloc(), pool = uk_slot_alloc(), ro = uk_slot_alloc();
    uk_word_t ep = kt_endpoint();
    KT_EQ(uk_task_create_shared(pool, SH_POOL_LIMIT, 2, 0), UK_OK);
    KT_EQ(uk_cap_copy(pool, SELF, ro, UK_R_READ | UK_R_WRITE, 0), UK_OK);
    /* the owner must be a task we control */
    KT_EQ(uk_task_create_shared(s, ~0ul, 2, ep), UK_E_CAP_TYPE);
    KT_EQ(uk_task_create_shared(s, ~0ul, 2, ro), UK_E_RIGHTS);
    KT_EQ(uk_task_create_shared(s, ~0ul, 2, 4000), UK_E_CAP);
    KT_EQ(uk_task_create_shared(s, ~0ul, 2, ~0ul), UK_E_CAP);
    /* unknown flags; slots out of range with the flag set */
    KT_EQ(uk_sys(UK_SYS_TASK_CREATE, s, 8192, 2 | (1ul << 33), 0, 0, 0).err, UK_E_INVAL);
    KT_EQ(uk_sys(UK_SYS_TASK_CREATE, s, 8192, 1 | UK_TASK_SHARED, 0, 0, 0).err, UK_E_INVAL);
    KT_EQ(uk_sys(UK_SYS_TASK_CREATE, s, 8192, (UK_MAX_CAP_SLOTS + 1) | UK_TASK_SHARED, 0, 0, 0).err,
          UK_E_INVAL);
    /* a limit too small for its own table and PML4 */
    KT_EQ(uk_task_create_shared(s, 4096, 2, pool), UK_E_NOMEM);
    KT_EQ(uk_task_create_shared(s, 0, 2, 0), UK_E_NOMEM);
    KT_EQ(kt_cap_type(s), UK_CAP_NULL);
    /* a table bigger than the pool's limit */
    KT_EQ(uk_task_create_shared(s, ~0ul, UK_MAX_CAP_SLOTS, pool), UK_E_NOMEM);
    KT_EQ(kt_cap_type(s), UK_CAP_NULL);
    uk_cap_delete(SELF, ro);
    kt_destroy(pool);
    kt_destroy(ep);
    KT_EQ(qt_used(SELF), before);
}

/* --- destroying a busy task ---------------------------------------------- */

#define DT_MAGIC 0x5ca1ab1e
static volatile long dt_setup_err, dt_setup_step, dt_setup_done, dt_x_started, dt_x_result,
    dt_x_done, dt_v_started, dt_w_started, dt_spin_count, dt_t15_started;
static uk_word_t dt_stacks, dt_page;

/* T-owned, started by T's setup thread: no IPC buffer, raw entry. */
static void dt_recv_entry(uk_word_t ep)
{
    dt_t15_started = 1;
    for (;;) {
        struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE) };
        uk_recv(ep, &m);
    }
}

static void dt_spin_entry(uk_word_t unused)
{
    (void)unused;
    for (;;)
        dt_spin_count++;
}

/* Root-owned thread in T: makes T-owned objects, then serves one call and
 * keeps the reply right in a cap. */
static void dt_setup(uk_word_t unused)
{
    (void)unused;
    long err;
#define STEP(x) do { dt_setup_step++; if ((err = (x)) != UK_OK) goto fail; } while (0)
    STEP(uk_endpoint_create(10));
    STEP(uk_endpoint_create(11));
    STEP(uk_notif_create(12));
    STEP(uk_task_create(13, 256ul << 10, 8));                     /* N, nested in T */
    STEP(uk_map(13, dt_page, 0x10000000, 1, UK_MAP_READ | UK_MAP_WRITE));
    STEP(uk_thread_create(14, 13));                               /* in N, owned by T */
    STEP(uk_thread_create(15, 1));                                /* in T, owned by T */
    STEP(uk_thread_config(15, 50, 0, 0));
    STEP(uk_thread_start(15, (uk_word_t)dt_recv_entry, dt_stacks + 4 * 4096 - 8, 11));
    STEP(uk_thread_create(16, 1));
    STEP(uk_thread_config(16, 40, 0, 0));
    STEP(uk_thread_start(16, (uk_word_t)dt_spin_entry, dt_stacks + 8 * 4096 - 8, 0));
    STEP(uk_cap_copy(10, 1, 22, UK_R_ALL, 0x33));                 /* a badged copy */
    dt_setup_done = 1;
    struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE) };
    STEP(uk_recv(10, &m));                                        /* Y's call */
    STEP(uk_reply_save(17));
    for (;;) {
        m.info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE);
        uk_recv(10, &m);
    }
fail:
    dt_setup_err = err;
    dt_setup_done = 1;
#undef STEP
}

/* Root-owned threads in T. */
static void dt_x(uk_word_t ep)           /* calls the root's endpoint E: nobody answers yet */
{
    dt_x_started = 1;
    struct uk_msg m = { .info = uk_msginfo(1, 1, UK_TIMEOUT_INFINITE) };
    dt_x_result = uk_call(ep, &m);
    dt_x_done = 1;
}

static void dt_y(uk_word_t ep)           /* calls T's endpoint: reply right saved */
{
    struct uk_msg m = { .info = uk_msginfo(2, 0, UK_TIMEOUT_INFINITE) };
    uk_call(ep, &m);
}

static void dt_v(uk_word_t ep)           /* calls the root's endpoint E2: the root saves it */
{
    dt_v_started = 1;
    struct uk_msg m = { .info = uk_msginfo(3, 0, UK_TIMEOUT_INFINITE) };
    uk_call(ep, &m);
}

static void dt_w(uk_word_t n)            /* waits on T's notification */
{
    dt_w_started = 1;
    uk_wait(n, UK_TIMEOUT_INFINITE, 0);
}

static void dt_echo(uk_word_t ep)        /* the root's server of E */
{
    struct uk_msg m = { .info = KT_INF };
    uk_recv(ep, &m);
    for (;;) {
        m.info = uk_msginfo(uk_msg_label(m.info) + 100, uk_msg_len(m.info), UK_TIMEOUT_INFINITE);
        uk_reply_recv(ep, &m);
    }
}

/* U: an unrelated task whose server must keep working. */
static void dt_u_server(uk_word_t ep)
{
    struct uk_msg m = { .info = KT_INF };
    uk_recv(ep, &m);
    for (;;) {
        m.info = uk_msginfo(uk_msg_label(m.info), 1, UK_TIMEOUT_INFINITE);
        m.w[0] = 0x600d;
        uk_reply_recv(ep, &m);
    }
}

KT_TEST(quota_destroy_busy_task_gives_everything_back)
{
    uk_word_t before = qt_used(SELF);
    struct uk_stats st0 = kt_stats();
    uk_word_t fault = kt_endpoint(), E = kt_endpoint(), E2 = kt_endpoint(), UE = kt_endpoint();
    uk_word_t T = 0, U = 0;
    KT_EQ(uk_task_new(1ul << 20, 64, 1, &T), UK_OK);
    KT_EQ(uk_task_new(256ul << 10, 8, 1, &U), UK_OK);
    KT_EQ(uk_cap_copy(T, T, 1, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_copy(E, T, 20, UK_R_WRITE, 0x20), UK_OK);
    KT_EQ(uk_cap_copy(E2, T, 21, UK_R_WRITE, 0x21), UK_OK);
    KT_EQ(uk_cap_copy(UE, U, 2, UK_R_READ, 0), UK_OK);
    /* stacks for T's own threads, and a page that goes root -> T -> N */
    dt_stacks = (uk_word_t)uk_pages_alloc(8);
    dt_page = (uk_word_t)uk_pages_alloc(1);
    *(volatile uk_word_t *)dt_page = DT_MAGIC;
    KT_EQ(uk_map(T, dt_stacks, dt_stacks, 8, UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    KT_EQ(uk_map(T, dt_page, dt_page, 1, UK_MAP_READ | UK_MAP_WRITE), UK_OK);

    dt_setup_err = dt_setup_step = dt_setup_done = 0;
    dt_x_started = dt_x_done = dt_v_started = dt_w_started = dt_t15_started = 0;
    dt_spin_count = 0;
    dt_x_result = -1;
    struct uk_spawned setup, x, y, v, w, us, echo;
    KT_EQ(uk_spawn(T, dt_setup, 0, 200, fault, &setup), UK_OK);
    KT_EQ(kt_wait_flag(&dt_setup_done, 5000000), 1);
    KT_EQ(dt_setup_err, UK_OK);
    if (dt_setup_err)
        printf("    setup failed at step %ld\n", dt_setup_step);
    KT_EQ(uk_spawn(T, dt_x, 20, 150, fault, &x), UK_OK);
    KT_EQ(uk_spawn(T, dt_y, 10, 150, fault, &y), UK_OK);
    KT_EQ(uk_spawn(T, dt_v, 21, 150, fault, &v), UK_OK);
    KT_EQ(uk_spawn(T, dt_w, 12, 150, fault, &w), UK_OK);
    KT_EQ(uk_spawn(U, dt_u_server, 2, 150, 0, &us), UK_OK);
    KT_EQ(uk_spawn_prepare(SELF, dt_echo, E, 200, 0, &echo), UK_OK);   /* not yet */
    /* the root takes V's call and keeps the right to answer */
    struct uk_msg m = { .info = uk_msginfo(0, 0, MS(2000)) };
    KT_EQ(uk_recv(E2, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), 3);
    KT_EQ(m.badge, 0x21);
    uk_word_t rv = uk_slot_alloc();
    KT_EQ(uk_reply_save(rv), UK_OK);
    KT_EQ(kt_cap_type(rv), UK_CAP_REPLY);
    /* everybody gets where it blocks (or spins) */
    kt_wait_flag(&dt_x_done, 50000);
    KT_EQ(dt_x_started, 1);
    KT_EQ(dt_x_done, 0);
    KT_EQ(dt_w_started, 1);
    KT_EQ(dt_t15_started, 1);
    KT_CHECK(dt_spin_count > 0);
    /* U answers */
    uk_word_t UEw = uk_slot_alloc();
    KT_EQ(uk_cap_copy(UE, SELF, UEw, UK_R_WRITE, 0), UK_OK);
    m = (struct uk_msg){ .info = uk_msginfo(9, 0, MS(1000)) };
    KT_EQ(uk_call(UEw, &m), UK_OK);
    KT_EQ(m.w[0], 0x600d);
    uk_word_t tused = qt_used(T);
    KT_CHECK(tused > 256ul << 10);                  /* N's quota at least */

    KT_EQ(uk_obj_destroy(T), UK_OK);

    /* T's cap, its threads' caps and the reply right into it are gone */
    KT_EQ(kt_cap_type(T), UK_CAP_NULL);
    KT_EQ(kt_cap_type(setup.thread), UK_CAP_NULL);
    KT_EQ(kt_cap_type(x.thread), UK_CAP_NULL);
    KT_EQ(kt_cap_type(y.thread), UK_CAP_NULL);
    KT_EQ(kt_cap_type(v.thread), UK_CAP_NULL);
    KT_EQ(kt_cap_type(w.thread), UK_CAP_NULL);
    KT_EQ(kt_cap_type(rv), UK_CAP_NULL);
    /* the root's page is still its own */
    KT_EQ(*(volatile uk_word_t *)dt_page, DT_MAGIC);
    uk_word_t pa, rights;
    KT_EQ(uk_mem_info(dt_page, &pa, &rights), UK_OK);
    KT_EQ(rights, UK_MAP_READ | UK_MAP_WRITE);
    /* E had X queued: now its server starts and answers the root */
    KT_EQ(uk_spawn_go(&echo), UK_OK);
    m = (struct uk_msg){ .info = uk_msginfo(5, 1, MS(1000)), .w = { 7 } };
    KT_EQ(uk_call(E, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), 105);
    KT_EQ(m.w[0], 7);
    /* E2 has nobody left */
    m.info = uk_msginfo(0, 0, UK_TIMEOUT_ZERO);
    KT_EQ(uk_recv(E2, &m), UK_E_TIMEOUT);
    /* U still answers */
    m = (struct uk_msg){ .info = uk_msginfo(9, 0, MS(1000)) };
    KT_EQ(uk_call(UEw, &m), UK_OK);
    KT_EQ(m.w[0], 0x600d);
    KT_EQ(dt_x_done, 0);                             /* X died where it waited */

    kt_destroy(echo.thread);
    kt_destroy(us.thread);
    KT_EQ(uk_obj_destroy(U), UK_OK);
    uk_cap_delete(SELF, U);
    uk_cap_delete(SELF, T);
    uk_cap_delete(SELF, UEw);
    kt_destroy(UE);
    kt_destroy(E2);
    kt_destroy(E);
    kt_destroy(fault);
    KT_EQ(qt_used(SELF), before);
    struct uk_stats st1 = kt_stats();
    KT_EQ(st1.kmem_bytes_used, st0.kmem_bytes_used);
    KT_EQ(st1.free_frames, st0.free_frames);
}

/* --- nesting depth --------------------------------------------------------- */

#define CH_MAX_DEPTH 32             /* TASK_MAX_DEPTH in ukernel/include/task.h */
#define CH_MARGIN (64ul << 10)      /* kernel memory each level keeps for itself */
#define CH_STACK 2                  /* pages */
static volatile long ch_result[CH_MAX_DEPTH + 2], ch_setup_err[CH_MAX_DEPTH + 2], ch_reached,
    ch_done;
static uk_word_t ch_stacks, ch_image_pages;

static uk_word_t ch_stack_top(uk_word_t level)
{
    return ch_stacks + (level + 1) * CH_STACK * 4096 - 8;
}

/* Runs in the task at depth `level`, whose slot 1 names itself. */
static void ch_entry(uk_word_t level)
{
    uk_word_t quota = 0;
    long err;
    uk_kmem_info(1, 0, &quota);
    ch_reached = (long)level;
    err = uk_task_create(3, quota - CH_MARGIN, 8);
    ch_result[level] = err;
    if (err == UK_OK) {
        uk_word_t next = level + 1;
        if ((err = uk_cap_copy(3, 3, 1, UK_R_ALL, 0)) ||
            (err = uk_map(3, (uk_word_t)__image_start, (uk_word_t)__image_start, ch_image_pages,
                          UK_MAP_RWX)) ||
            (err = uk_map(3, ch_stacks + next * CH_STACK * 4096, ch_stacks + next * CH_STACK * 4096,
                          (CH_MAX_DEPTH + 1 - next) * CH_STACK, UK_MAP_READ | UK_MAP_WRITE)) ||
            (err = uk_thread_create(4, 3)) ||
            (err = uk_thread_config(4, 150, 0, 0)) ||
            (err = uk_thread_start(4, (uk_word_t)ch_entry, ch_stack_top(next), next))) {
            ch_setup_err[level] = err;
            ch_done = 1;
        }
    } else {
        ch_done = 1;
    }
    for (;;)
        uk_thread_suspend(0);
}

KT_TEST(quota_task_nesting_depth_limit)
{
    uk_word_t before = qt_used(SELF);
    struct uk_stats st0 = kt_stats();
    ch_image_pages = ((uk_word_t)__image_end - (uk_word_t)__image_start) / 4096;
    ch_stacks = (uk_word_t)uk_pages_alloc((CH_MAX_DEPTH + 1) * CH_STACK);
    ch_done = ch_reached = 0;
    for (int i = 0; i < CH_MAX_DEPTH + 2; i++)
        ch_result[i] = ch_setup_err[i] = -1;
    /* depth 1: made by the root */
    uk_word_t l1 = 0, th = uk_slot_alloc();
    KT_EQ(uk_task_new((CH_MAX_DEPTH + 1) * CH_MARGIN, 8, 1, &l1), UK_OK);
    KT_EQ(uk_cap_copy(l1, l1, 1, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_map(l1, ch_stacks + CH_STACK * 4096, ch_stacks + CH_STACK * 4096,
                 CH_MAX_DEPTH * CH_STACK, UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    KT_EQ(uk_thread_create(th, l1), UK_OK);
    KT_EQ(uk_thread_config(th, 150, 0, 0), UK_OK);
    KT_EQ(uk_thread_start(th, (uk_word_t)ch_entry, ch_stack_top(1), 1), UK_OK);
    KT_EQ(kt_wait_flag(&ch_done, 20000000), 1);
    KT_EQ(ch_reached, CH_MAX_DEPTH);
    for (int i = 1; i < CH_MAX_DEPTH; i++) {
        KT_EQ(ch_result[i], UK_OK);
        KT_EQ(ch_setup_err[i], -1);
    }
    KT_EQ(ch_result[CH_MAX_DEPTH], UK_E_INVAL);      /* depth 33 refused */
    KT_CHECK(qt_used(l1) > 0);
    /* the whole chain goes with its first task */
    kt_destroy(th);
    KT_EQ(uk_obj_destroy(l1), UK_OK);
    uk_cap_delete(SELF, l1);
    KT_EQ(qt_used(SELF), before);
    struct uk_stats st1 = kt_stats();
    KT_EQ(st1.kmem_bytes_used, st0.kmem_bytes_used);
    KT_EQ(st1.free_frames, st0.free_frames);
}
