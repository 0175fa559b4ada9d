/* Host tests of the run queue (ukernel/kernel/sched.c, the part built for
 * the host): 256 priority levels, each a circular doubly linked FIFO, and a
 * bitmap of non-empty levels in four 64-bit words. */
#include "host_stubs.h"
#include "../../ukernel/kernel/sched.c"

#include <string.h>

#define NTHREADS 300
static struct thread th[NTHREADS];
static struct runqueue rq;

static int setup(void **state)
{
    (void)state;
    memset(th, 0, sizeof th);
    memset(&rq, 0, sizeof rq);
    return 0;
}

static struct thread *prio(int i, int p)
{
    th[i].prio = (u8)p;
    return &th[i];
}

/* Checks one level's ring against the expected order: forward and backward
 * links agree, the ring closes, and the level's bitmap bit matches. */
static void assert_level(int p, struct thread *const *want, int n)
{
    struct thread *h = rq.head[p];
    bool bit = (rq.bitmap[p / 64] >> (p % 64)) & 1;
    assert_int_equal(bit, n > 0);
    if (n == 0) {
        assert_null(h);
        return;
    }
    struct thread *t = h;
    for (int i = 0; i < n; i++) {
        assert_ptr_equal(t, want[i]);
        assert_int_equal(t->prio, p);
        assert_ptr_equal(t->q_next->q_prev, t);
        assert_ptr_equal(t->q_prev->q_next, t);
        t = t->q_next;
    }
    assert_ptr_equal(t, h);                     /* exactly n in the ring */
    assert_ptr_equal(h->q_prev, want[n - 1]);
}

static void assert_empty(void)
{
    assert_int_equal(sched_highest_prio(&rq), -1);
    assert_null(sched_peek(&rq));
    for (int w = 0; w < SCHED_LEVELS / 64; w++)
        assert_int_equal(rq.bitmap[w], 0);
    for (int p = 0; p < SCHED_LEVELS; p++)
        assert_null(rq.head[p]);
}

static void test_empty(void **state)
{
    (void)state;
    assert_empty();
}

/* Within one level: first in, first out; a dequeued thread's links are cleared. */
static void test_fifo_one_level(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++)
        sched_enqueue(&rq, prio(i, 7));
    struct thread *want[] = {&th[0], &th[1], &th[2], &th[3], &th[4]};
    assert_level(7, want, 5);
    assert_int_equal(sched_highest_prio(&rq), 7);
    for (int i = 0; i < 5; i++) {
        struct thread *t = sched_peek(&rq);
        assert_ptr_equal(t, &th[i]);
        sched_dequeue(&rq, t);
        /* its links are not cleared (tqueue.h): the level must not reach it */
        assert_level(7, want + i + 1, 4 - i);
    }
    assert_empty();
}

/* Every level alone, in particular both sides of each bitmap word boundary
 * (63/64, 127/128, 191/192) and the extremes 0 and 255. */
static void test_each_level_alone(void **state)
{
    (void)state;
    for (int p = 0; p < SCHED_LEVELS; p++) {
        struct thread *t = prio(0, p);
        sched_enqueue(&rq, t);
        assert_int_equal(sched_highest_prio(&rq), p);
        assert_ptr_equal(sched_peek(&rq), t);
        for (int w = 0; w < SCHED_LEVELS / 64; w++)
            assert_int_equal(rq.bitmap[w], w == p / 64 ? 1ull << (p % 64) : 0);
        sched_dequeue(&rq, t);
        assert_empty();
    }
}

/* All 256 levels filled in a scrambled order: peek always gives the highest
 * non-empty level, so draining yields 255, 254, ..., 0. */
static void test_highest_first_all_levels(void **state)
{
    (void)state;
    for (int i = 0; i < SCHED_LEVELS; i++) {
        int p = (i * 97 + 13) % SCHED_LEVELS;   /* 97 is coprime to 256 */
        sched_enqueue(&rq, prio(i, p));
    }
    for (int w = 0; w < SCHED_LEVELS / 64; w++)
        assert_int_equal(rq.bitmap[w], ~0ull);
    for (int p = SCHED_LEVELS - 1; p >= 0; p--) {
        assert_int_equal(sched_highest_prio(&rq), p);
        struct thread *t = sched_peek(&rq);
        assert_non_null(t);
        assert_int_equal(t->prio, p);
        sched_dequeue(&rq, t);
    }
    assert_empty();
}

/* A higher level added later takes over; removing it uncovers the lower
 * one in its original order. Levels in different bitmap words. */
static void test_priority_across_words(void **state)
{
    (void)state;
    sched_enqueue(&rq, prio(0, 3));
    sched_enqueue(&rq, prio(1, 3));
    sched_enqueue(&rq, prio(2, 130));
    sched_enqueue(&rq, prio(3, 64));
    sched_enqueue(&rq, prio(4, 130));
    assert_int_equal(sched_highest_prio(&rq), 130);
    assert_ptr_equal(sched_peek(&rq), &th[2]);
    assert_int_equal(rq.bitmap[0], 1ull << 3);
    assert_int_equal(rq.bitmap[1], 1ull << 0);
    assert_int_equal(rq.bitmap[2], 1ull << 2);
    assert_int_equal(rq.bitmap[3], 0);
    sched_dequeue(&rq, &th[2]);
    assert_ptr_equal(sched_peek(&rq), &th[4]);
    sched_dequeue(&rq, &th[4]);
    assert_int_equal(rq.bitmap[2], 0);
    assert_ptr_equal(sched_peek(&rq), &th[3]);
    sched_dequeue(&rq, &th[3]);
    assert_ptr_equal(sched_peek(&rq), &th[0]);
    sched_dequeue(&rq, &th[0]);
    assert_ptr_equal(sched_peek(&rq), &th[1]);
    sched_dequeue(&rq, &th[1]);
    assert_empty();
}

/* enqueue_front puts a (preempted) thread before the others of its level,
 * into an empty level too, and the rest keep their order. */
static void test_enqueue_front(void **state)
{
    (void)state;
    sched_enqueue_front(&rq, prio(0, 200));     /* empty level */
    struct thread *w1[] = {&th[0]};
    assert_level(200, w1, 1);
    sched_enqueue(&rq, prio(1, 200));
    sched_enqueue(&rq, prio(2, 200));
    sched_enqueue_front(&rq, prio(3, 200));
    struct thread *w2[] = {&th[3], &th[0], &th[1], &th[2]};
    assert_level(200, w2, 4);
    assert_ptr_equal(sched_peek(&rq), &th[3]);
    sched_enqueue_front(&rq, prio(4, 10));      /* front of a lower level: not first */
    assert_ptr_equal(sched_peek(&rq), &th[3]);
    sched_dequeue(&rq, &th[3]);
    assert_ptr_equal(sched_peek(&rq), &th[0]);
}

/* Removal from the head, the middle and the tail keeps the ring intact;
 * removing the last one clears the level's bit but not the neighbours'. */
static void test_dequeue_positions(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++)
        sched_enqueue(&rq, prio(i, 64));
    sched_enqueue(&rq, prio(5, 65));            /* same bitmap word */
    sched_enqueue(&rq, prio(6, 63));            /* previous word */

    sched_dequeue(&rq, &th[2]);                 /* middle */
    struct thread *a[] = {&th[0], &th[1], &th[3], &th[4]};
    assert_level(64, a, 4);
    sched_dequeue(&rq, &th[4]);                 /* tail */
    struct thread *b[] = {&th[0], &th[1], &th[3]};
    assert_level(64, b, 3);
    sched_dequeue(&rq, &th[0]);                 /* head: next becomes head */
    struct thread *c[] = {&th[1], &th[3]};
    assert_level(64, c, 2);
    sched_dequeue(&rq, &th[3]);
    sched_dequeue(&rq, &th[1]);                 /* last of its level */
    assert_level(64, NULL, 0);
    assert_int_equal(rq.bitmap[1], 1ull << 1);  /* 65 still there */
    assert_int_equal(rq.bitmap[0], 1ull << 63);
    assert_int_equal(sched_highest_prio(&rq), 65);
    sched_dequeue(&rq, &th[5]);
    assert_int_equal(sched_highest_prio(&rq), 63);
    sched_dequeue(&rq, &th[6]);
    assert_empty();
    sched_enqueue(&rq, &th[1]);                 /* a dequeued thread can come back */
    assert_level(64, (struct thread *[]){&th[1]}, 1);
}

/* Random operations against a reference model (an array per level, in
 * order).  After each step every level's ring, the bitmap, highest and
 * peek must match the model.  Levels are drawn mostly from a few values so
 * rings grow long, the rest from the whole range. */
static void test_random_model(void **state)
{
    (void)state;
    enum { N = 96, OPS = 40000 };
    static struct thread *model[SCHED_LEVELS][N];
    static int len[SCHED_LEVELS];
    static bool queued[N];
    memset(len, 0, sizeof len);
    memset(queued, 0, sizeof queued);
    static const int hot[] = {0, 1, 63, 64, 127, 128, 191, 192, 254, 255};
    u64 seed = 0x9e3779b97f4a7c15ull;
    int enq = 0, deq = 0, front = 0;

    for (int op = 0; op < OPS; op++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        u32 r = seed >> 33;
        int i = r % N;
        struct thread *t = &th[i];
        if (!queued[i]) {
            int p = (r >> 8) % 4 ? hot[(r >> 10) % ARRAY_SIZE(hot)] : (int)((r >> 12) % 256);
            t->prio = (u8)p;
            if ((r >> 20) % 3 == 0) {
                sched_enqueue_front(&rq, t);
                memmove(&model[p][1], &model[p][0], len[p] * sizeof model[p][0]);
                model[p][0] = t;
                front++;
            } else {
                sched_enqueue(&rq, t);
                model[p][len[p]] = t;
                enq++;
            }
            len[p]++;
            queued[i] = true;
        } else {
            /* half the time dequeue the one peek gives, as schedule() does */
            if ((r >> 8) % 2 == 0) {
                t = sched_peek(&rq);
                i = (int)(t - th);
            }
            int p = t->prio, k = 0;
            while (model[p][k] != t)
                k++;
            sched_dequeue(&rq, t);
            memmove(&model[p][k], &model[p][k + 1], (len[p] - k - 1) * sizeof model[p][0]);
            len[p]--;
            queued[i] = false;
            deq++;
        }
        int hp = -1;
        for (int p = 0; p < SCHED_LEVELS; p++) {
            if (len[p])
                hp = p;
            /* the full ring check for every level each step is O(256 N): cheap */
            assert_level(p, model[p], len[p]);
        }
        assert_int_equal(sched_highest_prio(&rq), hp);
        assert_ptr_equal(sched_peek(&rq), hp < 0 ? NULL : model[hp][0]);
    }
    assert_true(enq > 1000 && deq > 1000 && front > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_empty, setup),
        cmocka_unit_test_setup(test_fifo_one_level, setup),
        cmocka_unit_test_setup(test_each_level_alone, setup),
        cmocka_unit_test_setup(test_highest_first_all_levels, setup),
        cmocka_unit_test_setup(test_priority_across_words, setup),
        cmocka_unit_test_setup(test_enqueue_front, setup),
        cmocka_unit_test_setup(test_dequeue_positions, setup),
        cmocka_unit_test_setup(test_random_model, setup),
    };
    return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
