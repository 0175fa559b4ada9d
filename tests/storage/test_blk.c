/*
 * The block server (servers/blk/) as its clients see it: the root task's
 * own start-up code (roottask/blk.c: PCI enumeration, device caps, DMA
 * pages) starts it from the `blk-server` module on the two virtio-blk
 * disks tests/storage/run attaches (both on IRQ 11: one line, two holders);
 * two client tasks, each with its own disk and window, do I/O at the same
 * time; malformed requests get error statuses while the other client's
 * I/O goes on; batches of requests (several on the device at once), good,
 * mixed and malformed; the server stopped, kernel memory is back where it was.
 * tests/storage/check-disks then reads the images on the host.
 */
#include "ktest.h"
#include "storage.h"
#include "../../roottask/root.h"
#include <uk/blk.h>
#include <user/pci.h>
#include <user/virtio.h>

#define SELF UK_SLOT_SELF_TASK
#define CLIENT_EP     8ul                 /* in each client's table */
#define CLIENT_WINDOW 0x30000000ul        /* in each client's address space */
#define WINDOW_PAGES  16ul                /* 64 KiB: one largest request */

static uk_word_t st_used(void)
{
    uk_word_t used = 0;
    uk_kmem_info(SELF, &used, 0);
    return used;
}

static long call(uk_word_t op, unsigned len, uk_word_t w0, uk_word_t w1, uk_word_t w2,
                 uk_word_t out[4])
{
    struct uk_msg m = { .info = uk_msginfo(op, len, uk_timeout_us(20000000)), .w = { w0, w1, w2 } };
    return uk_call_status(CLIENT_EP, &m, out);
}

static long io(uk_word_t op, uk_word_t sector, uk_word_t count, uk_word_t off)
{
    return call(op, 3, sector, count, off, 0);
}

/* A UK_BLK_OP_BATCH of k requests (op | count << 8, sector, offset each,
 * `len` message words in all): the batch's status, each one's in st[]. */
static long batch(uk_word_t k, const uk_word_t *req, unsigned len, long st[])
{
    struct uk_msg m = { .info = uk_msginfo(UK_BLK_OP_BATCH, len, uk_timeout_us(20000000)) };
    uk_msg_set_word(&m, uk_ipc_buf, 0, k);
    for (unsigned i = 1; i < len; i++)
        uk_msg_set_word(&m, uk_ipc_buf, i, req[i - 1]);
    long err = uk_call(CLIENT_EP, &m);
    if (err)
        return uk_ipc_failed(err);
    for (uk_word_t j = 0; j < k && j < UK_BLK_BATCH_MAX; j++)
        st[j] = (long)uk_msg_word(&m, uk_ipc_buf, 1 + j);
    return (long)m.w[0];
}

/* What a client thread found: filled by it (the image's data is shared). */
struct client_result {
    volatile long done;
    long errors;              /* requests that did not end as expected */
    long first_bad;           /* the first such: its step number */
    long first_status;
    uk_word_t sectors, window;
    long requests;
};
static struct client_result res[3];

static void expect(struct client_result *r, long step, long status, long want)
{
    r->requests++;
    if (status != want) {
        if (!r->errors) {
            r->first_bad = step;
            r->first_status = status;
        }
        r->errors++;
    }
}

static void fill(unsigned char *w, uk_word_t c, uk_word_t sector, uk_word_t n)
{
    for (uk_word_t s = 0; s < n; s++)
        for (uk_word_t i = 0; i < UK_BLK_SECTOR; i++)
            w[s * UK_BLK_SECTOR + i] = pattern_byte(c, sector + s, i);
}

static int matches(const unsigned char *w, uk_word_t c, uk_word_t sector, uk_word_t n)
{
    for (uk_word_t s = 0; s < n; s++)
        for (uk_word_t i = 0; i < UK_BLK_SECTOR; i++)
            if (w[s * UK_BLK_SECTOR + i] != pattern_byte(c, sector + s, i))
                return 0;
    return 1;
}

/* Writes the pattern to [first, first + n) in requests of `per` sectors
 * (window offset `off`), reads it back into a cleared window, compares. */
static void write_and_check(struct client_result *r, uk_word_t c, uk_word_t first, uk_word_t n,
                            uk_word_t per, uk_word_t off, long step)
{
    unsigned char *w = (unsigned char *)CLIENT_WINDOW + off;
    for (uk_word_t s = first; s < first + n; s += per) {
        uk_word_t k = first + n - s < per ? first + n - s : per;
        fill(w, c, s, k);
        expect(r, step, io(UK_BLK_OP_WRITE, s, k, off), UK_BLK_OK);
    }
    expect(r, step + 1, call(UK_BLK_OP_FLUSH, 0, 0, 0, 0, 0), UK_BLK_OK);
    for (uk_word_t s = first; s < first + n; s += per) {
        uk_word_t k = first + n - s < per ? first + n - s : per;
        memset(w, 0, k * UK_BLK_SECTOR);
        expect(r, step + 2, io(UK_BLK_OP_READ, s, k, off), UK_BLK_OK);
        expect(r, step + 3, matches(w, c, s, k), 1);
    }
}

/* Client c: its disk's size and window, its pattern at PATTERN_FIRST (two
 * requests of 32 sectors, at an odd window offset: the data crosses pages)
 * and on its last sectors, sector 0 still zero, a sector of the other,
 * bigger disk out of its range. */
static void client_main(uk_word_t c)
{
    struct client_result *r = &res[c];
    uk_word_t info[4] = { 0 };
    expect(r, 1, call(UK_BLK_OP_INFO, 0, 0, 0, 0, info), UK_BLK_OK);
    r->sectors = info[1];
    r->window = info[2];
    write_and_check(r, c, PATTERN_FIRST, PATTERN_COUNT, 32, 100, 10);
    write_and_check(r, c, r->sectors - TAIL_COUNT, TAIL_COUNT, TAIL_COUNT, 0, 20);
    unsigned char *w = (unsigned char *)CLIENT_WINDOW;
    memset(w, 0xaa, UK_BLK_SECTOR);
    expect(r, 30, io(UK_BLK_OP_READ, 0, 1, 0), UK_BLK_OK);
    int zero = 1;
    for (int i = 0; i < (int)UK_BLK_SECTOR; i++)
        zero &= w[i] == 0;
    expect(r, 31, zero, 1);
    /* client 2's disk is the smaller: client 1's sectors there do not exist */
    if (c == 2)
        expect(r, 32, io(UK_BLK_OP_READ, DISK1_SECTORS + 10, 1, 0), UK_BLK_ERANGE);
    r->done = 1;
}

/* Client c's batches (UK_BLK_OP_BATCH: several requests on the device
 * together): writes of its own pattern again (PATTERN_FIRST.., so the image
 * check is unchanged), read back in another order at other offsets; a
 * batch mixing good and bad requests, each with its own status; malformed
 * batches refused whole. */
static void client_batches(struct client_result *r, uk_word_t c, uk_word_t n, uk_word_t win)
{
    unsigned char *w = (unsigned char *)CLIENT_WINDOW;
    uk_word_t req[3 * UK_BLK_BATCH_MAX];
    long st[UK_BLK_BATCH_MAX];
    for (uk_word_t j = 0; j < UK_BLK_BATCH_MAX; j++) {     /* 8 writes of 2 sectors */
        fill(w + j * 1024, c, PATTERN_FIRST + 2 * j, 2);
        req[3 * j] = UK_BLK_OP_WRITE | 2ul << 8;
        req[3 * j + 1] = PATTERN_FIRST + 2 * j;
        req[3 * j + 2] = j * 1024;
    }
    expect(r, 50, batch(UK_BLK_BATCH_MAX, req, 1 + 3 * UK_BLK_BATCH_MAX, st), UK_BLK_OK);
    for (uk_word_t j = 0; j < UK_BLK_BATCH_MAX; j++)
        expect(r, 51, st[j], UK_BLK_OK);
    memset(w, 0, 16 * 1024);
    for (uk_word_t j = 0; j < 4; j++) {                     /* read back 4, reversed */
        req[3 * j] = UK_BLK_OP_READ | 4ul << 8;
        req[3 * j + 1] = PATTERN_FIRST + 4 * (3 - j);
        req[3 * j + 2] = 8192 + j * 2048 + 100;              /* odd offsets, across pages */
    }
    expect(r, 52, batch(4, req, 13, st), UK_BLK_OK);
    for (uk_word_t j = 0; j < 4; j++) {
        expect(r, 53, st[j], UK_BLK_OK);
        expect(r, 54, matches(w + 8192 + j * 2048 + 100, c, PATTERN_FIRST + 4 * (3 - j), 4), 1);
    }
    /* good and bad in one batch: each its own status, the good one done */
    uk_word_t mixed[] = {
        UK_BLK_OP_READ | 1ul << 8, PATTERN_FIRST, 0,                  /* ok */
        UK_BLK_OP_READ | 2ul << 8, n - 1, 512,                        /* runs past the end */
        UK_BLK_OP_READ | 1ul << 8, 0, win,                            /* outside the window */
        UK_BLK_OP_FLUSH | 1ul << 8, 0, 0,                             /* not a read or write */
        UK_BLK_OP_WRITE, 0, 0,                                        /* no sectors */
        UK_BLK_OP_WRITE | (UK_BLK_MAX_SECTORS + 1) << 8, 0, 0,        /* too many */
    };
    memset(w, 0, 512);
    expect(r, 55, batch(6, mixed, 19, st), UK_BLK_OK);
    expect(r, 56, st[0], UK_BLK_OK);
    expect(r, 57, matches(w, c, PATTERN_FIRST, 1), 1);
    expect(r, 58, st[1], UK_BLK_ERANGE);
    expect(r, 59, st[2], UK_BLK_EFAULT);
    expect(r, 60, st[3], UK_BLK_EINVAL);
    expect(r, 61, st[4], UK_BLK_EINVAL);
    expect(r, 62, st[5], UK_BLK_EINVAL);
    /* malformed batches: refused whole */
    expect(r, 63, batch(0, req, 1, st), UK_BLK_EINVAL);                   /* no requests */
    expect(r, 64, batch(UK_BLK_BATCH_MAX + 1, req, 1 + 3 * UK_BLK_BATCH_MAX, st),
           UK_BLK_EINVAL);                                                /* too many */
    expect(r, 65, batch(2, req, 4, st), UK_BLK_EINVAL);                   /* words missing */
    expect(r, 66, batch(1, req, 5, st), UK_BLK_EINVAL);                   /* words too many */
}

/* Client 1's malformed requests: each answered with its error status. */
static void client_bad(uk_word_t c)
{
    struct client_result *r = &res[c];
    uk_word_t info[4] = { 0 }, n = 0, win = 0;
    expect(r, 1, call(UK_BLK_OP_INFO, 0, 0, 0, 0, info), UK_BLK_OK);
    n = info[1];
    win = info[2];
    expect(r, 2, io(UK_BLK_OP_READ, n, 1, 0), UK_BLK_ERANGE);            /* past the end */
    expect(r, 3, io(UK_BLK_OP_WRITE, n - 1, 2, 0), UK_BLK_ERANGE);       /* runs past it */
    expect(r, 4, io(UK_BLK_OP_READ, ~0ul, 2, 0), UK_BLK_ERANGE);         /* sector + count wraps */
    expect(r, 5, io(UK_BLK_OP_WRITE, ~0ul - 1, 4, 0), UK_BLK_ERANGE);
    expect(r, 6, io(UK_BLK_OP_READ, 0, 0, 0), UK_BLK_EINVAL);            /* no sectors */
    expect(r, 7, io(UK_BLK_OP_READ, 0, UK_BLK_MAX_SECTORS + 1, 0), UK_BLK_EINVAL);
    expect(r, 8, io(UK_BLK_OP_READ, 0, 1ul << 55, 0), UK_BLK_EINVAL);    /* bytes would wrap */
    expect(r, 9, io(UK_BLK_OP_READ, 0, 1, win), UK_BLK_EFAULT);          /* buffer outside */
    expect(r, 10, io(UK_BLK_OP_READ, 0, 1, win - 511), UK_BLK_EFAULT);   /* straddles the end */
    expect(r, 11, io(UK_BLK_OP_WRITE, 0, 2, ~0ul - 100), UK_BLK_EFAULT); /* offset + length wraps */
    expect(r, 12, io(UK_BLK_OP_READ, 0, UK_BLK_MAX_SECTORS, win - UK_PAGE_SIZE), UK_BLK_EFAULT);
    expect(r, 13, call(99, 3, 0, 1, 0, 0), UK_BLK_EINVAL);               /* no such operation */
    expect(r, 14, call(UK_BLK_OP_READ, 2, 0, 1, 0, 0), UK_BLK_EINVAL);   /* words missing */
    expect(r, 15, call(UK_BLK_CTL_ADD_CLIENT, 3, 5, 1, 4096, 0), UK_BLK_EPERM); /* root's only */
    expect(r, 16, call(UK_BLK_CTL_REMOVE_CLIENT, 3, 2, 0, 0, 0), UK_BLK_EPERM);
    /* after all that, its own I/O still works, right up to the window's end */
    unsigned char *w = (unsigned char *)CLIENT_WINDOW;
    fill(w + win - 512, c, 7, 1);
    expect(r, 17, io(UK_BLK_OP_WRITE, 7, 1, win - 512), UK_BLK_OK);
    memset(w, 0, 512);
    expect(r, 18, io(UK_BLK_OP_READ, 7, 1, 0), UK_BLK_OK);
    expect(r, 19, matches(w, c, 7, 1), 1);
    client_batches(r, c, n, win);
    r->done = 1;
}

/* Client 2's stream while client 1 misbehaves. */
static void client_stream(uk_word_t c)
{
    struct client_result *r = &res[c];
    write_and_check(r, c, STREAM_FIRST, STREAM_COUNT, 16, 0, 40);
    r->done = 1;
}

struct client {
    uk_word_t task, fault;
    struct uk_spawned t;
    unsigned char *window;               /* our view of it */
};

static void client_make(struct client *cl, uk_word_t n, uk_word_t disk)
{
    cl->fault = kt_endpoint();
    KT_EQ(uk_task_new(256ul << 10, 16, 1, &cl->task), UK_OK);
    cl->window = blk_add_client(n, disk, cl->task, CLIENT_WINDOW, WINDOW_PAGES, CLIENT_EP);
    KT_CHECK(cl->window != 0);
    res[n] = (struct client_result){ 0 };
}

static void client_end(struct client *cl, uk_word_t n)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_ZERO) };
    if (uk_recv(cl->fault, &m) == UK_OK) {
        printf("    client %lu faulted: label %lx addr %lx\n", n, uk_msg_label(m.info), m.w[0]);
        KT_CHECK(0);
    }
    kt_destroy(cl->t.thread);
    blk_remove_client(n);
    kt_destroy(cl->task);
    kt_destroy(cl->fault);
}

static void report(uk_word_t n)
{
    printf("    client %lu: %ld requests, %ld not as expected", n, res[n].requests, res[n].errors);
    if (res[n].errors)
        printf(" (first: step %ld, status %ld)", res[n].first_bad, res[n].first_status);
    printf("\n");
}

static uk_word_t kmem_start;

static int server_up(void)
{
    kmem_start = st_used();
    int module = find_module(kt_bi, "blk-server");
    KT_CHECK(module >= 0);
    uk_word_t ep = kt_endpoint();         /* its faults: none expected */
    int disks = module >= 0 ? blk_start(kt_bi, module, ep) : 0;
    KT_EQ(disks, 2);
    uk_word_t r[4] = { 0 };
    KT_EQ(blk_control(UK_BLK_CTL_DISK_INFO, 0, 0, 0, r), UK_BLK_OK);
    KT_EQ(r[1], DISK0_SECTORS);
    KT_EQ(blk_control(UK_BLK_CTL_DISK_INFO, 1, 0, 0, r), UK_BLK_OK);
    KT_EQ(r[1], DISK1_SECTORS);
    KT_EQ(blk_control(UK_BLK_CTL_DISK_INFO, 2, 0, 0, r), UK_BLK_EINVAL);
    /* bad client numbers and disks, from the root itself */
    KT_EQ(blk_control(UK_BLK_CTL_ADD_CLIENT, 0, 0, 4096, 0), UK_BLK_EINVAL);
    KT_EQ(blk_control(UK_BLK_CTL_ADD_CLIENT, UK_BLK_MAX_CLIENTS + 1, 0, 4096, 0), UK_BLK_EINVAL);
    KT_EQ(blk_control(UK_BLK_CTL_ADD_CLIENT, 3, 2, 4096, 0), UK_BLK_EINVAL);
    KT_EQ(blk_control(UK_BLK_CTL_ADD_CLIENT, 3, 0, 4096, 0), UK_BLK_EFAULT);  /* no window mapped */
    kt_destroy(ep);
    return disks == 2;
}

/* After blk_stop: each device reset (virtio status 0: no queue, no DMA)
 * and its bus mastering off, before anything could reuse its frames; every
 * holder of its IRQ line released (all four can be taken again). */
static void devices_quiet(void)
{
    uk_word_t cfg = uk_slot_alloc(), io = uk_slot_alloc();
    struct uk_pci_dev d[2];
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, UK_PCI_CONFIG_ADDR, UK_PCI_CONFIG_PORTS, cfg), UK_OK);
    KT_EQ(pci_find(cfg, UK_PCI_VENDOR_VIRTIO, UK_PCI_DEVICE_VIRTIO_BLK, d, 2), 2);
    for (int i = 0; i < 2; i++) {
        uk_word_t cmd = pci_read(cfg, d[i].bus, d[i].dev, d[i].fn, UK_PCI_COMMAND, 2), st = ~0ul;
        KT_EQ(cmd & UK_PCI_CMD_MASTER, 0);
        KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, d[i].bar[0], d[i].bar_size[0], io), UK_OK);
        KT_EQ(uk_in(io, d[i].bar[0] + VIRTIO_PCI_STATUS, 1, &st), UK_OK);
        KT_EQ(st, 0);
        uk_cap_delete(SELF, io);
    }
    uk_cap_delete(SELF, cfg);
    uk_word_t h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = uk_slot_alloc();
        KT_EQ(uk_irq_get(UK_SLOT_IRQ_CONTROL, d[0].irq, h[i]), UK_OK);
    }
    for (int i = 0; i < 4; i++)
        kt_destroy(h[i]);
}

static void server_down(void)
{
    blk_stop();
    KT_EQ(blk_control(UK_BLK_CTL_DISK_INFO, 0, 0, 0, 0), UK_BLK_EIO);   /* gone */
    devices_quiet();
    KT_EQ(st_used(), kmem_start);
}

/* The server up and clients 1 and 2 (on disks 0 and 1) made and run to
 * their end, client 2 (fn2) started first, both reported; 0 if the server
 * did not come up. */
static int run_two_clients(struct client *c1, void (*fn1)(uk_word_t),
                           struct client *c2, void (*fn2)(uk_word_t))
{
    if (!server_up()) {
        blk_stop();
        return 0;
    }
    client_make(c1, 1, 0);
    client_make(c2, 2, 1);
    KT_EQ(uk_spawn(c2->task, fn2, 2, 150, c2->fault, &c2->t), UK_OK);
    KT_EQ(uk_spawn(c1->task, fn1, 1, 150, c1->fault, &c1->t), UK_OK);
    KT_EQ(kt_wait_flag(&res[1].done, 120000000), 1);
    KT_EQ(kt_wait_flag(&res[2].done, 120000000), 1);
    report(1);
    report(2);
    return 1;
}

KT_TEST(blk_two_clients_each_on_its_own_disk)
{
    struct client c1, c2;
    if (!run_two_clients(&c1, client_main, &c2, client_main))
        return;
    KT_EQ(res[1].errors, 0);
    KT_EQ(res[2].errors, 0);
    KT_EQ(res[1].sectors, DISK0_SECTORS);
    KT_EQ(res[2].sectors, DISK1_SECTORS);
    KT_EQ(res[1].window, WINDOW_PAGES * UK_PAGE_SIZE);
    /* the windows are the root's pages too: client 2's tail read is there,
     * but for its first sector, which its read of sector 0 (zeros) replaced */
    KT_CHECK(matches(c2.window + UK_BLK_SECTOR, 2, DISK1_SECTORS - TAIL_COUNT + 1,
                     TAIL_COUNT - 1));
    KT_EQ(c2.window[0], 0);
    client_end(&c1, 1);
    client_end(&c2, 2);
    server_down();
}

KT_TEST(blk_malformed_requests_get_errors_and_others_go_on)
{
    struct client c1, c2;
    if (!run_two_clients(&c1, client_bad, &c2, client_stream))
        return;
    KT_EQ(res[1].errors, 0);
    KT_EQ(res[1].requests, 49);         /* 19 single requests, 30 checks of batches */
    KT_EQ(res[2].errors, 0);
    /* a removed client is no client */
    client_end(&c1, 1);
    uk_word_t r[4] = { 0 };
    KT_EQ(blk_control(UK_BLK_CTL_REMOVE_CLIENT, 1, 0, 0, r), UK_BLK_EINVAL);
    client_end(&c2, 2);
    server_down();
}
