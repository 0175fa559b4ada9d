/*
 * The block server (servers/blk/, docs/storage.md): what it, the root task
 * that starts it and its clients agree on.  One server drives every
 * virtio-blk device the root task hands it ("disks", in PCI order); each
 * client (a vmm-server on behalf of its guest, or a test) is bound to one
 * disk and one memory window, both chosen by the root task, and can reach
 * nothing else.
 *
 * Clients call the server's endpoint through a send-only cap badged with
 * their client number n (1..UK_BLK_MAX_CLIENTS); badge 0 is the root
 * task's control cap.  Every request is synchronous: the reply comes when
 * the device has finished (a batch: all of its requests) (a write is on the device, not necessarily on
 * stable storage before UK_BLK_OP_FLUSH).  Data moves by DMA straight
 * between the disk and the client's window: pages the root task mapped
 * both into the client and into the server at UK_BLK_WINDOW(n); or, for a
 * batch request marked UK_BLK_OP_RAM, the client's RAM the root registered
 * (UK_BLK_CTL_SET_RAM: a guest's, for its vmm-server; never mapped here).  A reply's
 * w0 is a status: 0 or a negative UK_BLK_E*; a malformed request is
 * answered with an error, never acted on.
 */
#ifndef UK_BLK_H
#define UK_BLK_H

#include <uk/abi.h>
#include <uk/pci.h>

#define UK_BLK_SECTOR        512u
#define UK_BLK_MAX_SECTORS   128u     /* one request: at most 64 KiB */
#define UK_BLK_MAX_DISKS     4u
#define UK_BLK_MAX_CLIENTS   8u
#define UK_BLK_BATCH_MAX     8u       /* requests in one UK_BLK_OP_BATCH */
#define UK_BLK_BATCH_WORDS   3u       /* message words per request of a batch */

enum uk_blk_op {                      /* message labels */
    UK_BLK_OP_INFO = 1,               /* -> w0 = status, w1 = disk sectors, w2 = window
                                         bytes, w3 = UK_BLK_F_* */
    UK_BLK_OP_READ,                   /* w0 = first sector, w1 = sectors (1..MAX_SECTORS),
                                         w2 = byte offset in the window -> w0 = status */
    UK_BLK_OP_WRITE,                  /* the same, window -> disk */
    UK_BLK_OP_FLUSH,                  /* -> w0 = status: acknowledged writes are stable */
    UK_BLK_OP_BATCH,                  /* w0 = k, 1..UK_BLK_BATCH_MAX requests, then for
                                         request i words 1+3i..3+3i: UK_BLK_OP_READ or
                                         _WRITE | sectors << 8, first sector, window
                                         offset -> w0 = status (EINVAL: k or the words),
                                         w1..wk = request i's status, as READ or WRITE
                                         would answer it.  The good ones are on the
                                         device together: several in flight per disk */
    /* control, badge 0 only (the root task) */
    UK_BLK_CTL_ADD_CLIENT = 0x100,    /* w0 = n, w1 = disk, w2 = window bytes (pages the
                                         root mapped at UK_BLK_WINDOW(n)) -> w0 = status */
    UK_BLK_CTL_REMOVE_CLIENT,         /* w0 = n -> w0 = status; its window may then be
                                         unmapped (no request of it is in flight: the
                                         server serves one call at a time) */
    UK_BLK_CTL_DISK_INFO,             /* w0 = disk -> w0 = status, w1 = sectors,
                                         w2 = UK_BLK_F_*, w3 = requests done */
    UK_BLK_CTL_SET_RAM,               /* w0 = n (added), w1 = physical address, w2 =
                                         bytes (both whole pages; 0 bytes: none): client
                                         n's RAM, physically contiguous (a guest's, the
                                         root's one allocation), which its batch requests
                                         may name by offset (UK_BLK_OP_RAM): the device
                                         DMAs straight into it, the server never maps it;
                                         INFO then says UK_BLK_F_RAM -> w0 = status */
};
/* In a batch request's operation byte: its offset is in the client's RAM
 * (UK_BLK_CTL_SET_RAM), checked against that as a window offset is against
 * the window (EFAULT), not in its window: zero copy for a vmm-server. */
#define UK_BLK_OP_RAM   0x80u

#define UK_BLK_F_RO     0x1u          /* the device is read-only */
#define UK_BLK_F_FLUSH  0x2u          /* the device has a write cache to flush */
#define UK_BLK_F_RAM    0x4u          /* (INFO) the client's RAM is set: UK_BLK_OP_RAM */

#define UK_BLK_OK        0l
#define UK_BLK_EPERM    (-1l)         /* the badge is no client of ours */
#define UK_BLK_EIO      (-5l)         /* the device failed the request or did not answer */
#define UK_BLK_EFAULT  (-14l)         /* the buffer is not inside the client's window */
#define UK_BLK_EINVAL  (-22l)         /* unknown operation, sector count 0 or too many,
                                         a message of the wrong length, a bad client or
                                         disk number (control) */
#define UK_BLK_EROFS   (-30l)         /* a write to a read-only disk */
#define UK_BLK_ERANGE  (-34l)         /* sectors not inside the disk */

/* The server's address space (besides its program image). */
#define UK_BLK_INFO_VADDR    0x10000000ul   /* struct uk_blk_info, read-only */
#define UK_BLK_DMA_VADDR     0x10100000ul   /* disk d's DMA pages (its virtqueue, request
                                               headers and status bytes) at
                                               + d * UK_BLK_DMA_PAGES * UK_PAGE_SIZE */
#define UK_BLK_DMA_PAGES     8u             /* physically contiguous */
#define UK_BLK_WINDOW_MAX    (16ul << 20)   /* a client's window: at most 16 MiB */
#define UK_BLK_WINDOW(n)     (0x20000000ul + ((n) - 1) * UK_BLK_WINDOW_MAX)

#define UK_BLK_INFO_MAGIC    0x424c4b494e464f00ul   /* "BLKINFO" */
struct uk_blk_info {
    uk_word_t magic;
    uk_word_t ndisks;
    struct uk_pci_dev disk[UK_BLK_MAX_DISKS];  /* its BARs, IRQ line, address */
};

/* Slots in the server's table (the root fills them before starting it;
 * also UK_SLOT_DEBUG, 5: the kernel log, WRITE, for its reports). */
#define UK_BLK_SLOT_EP        8u     /* its endpoint: READ */
#define UK_BLK_SLOT_NOTIF     9u     /* its interrupt notification: READ (the server binds
                                        it to its thread); disk d signals bit d */
#define UK_BLK_SLOT_DISK0    16u     /* disk d at UK_BLK_SLOT_DISK0 + 4d: */
#define UK_BLK_DISK_IO        0u     /*   + 0: I/O ports of BAR0 (legacy virtio registers) */
#define UK_BLK_DISK_IRQ       1u     /*   + 1: its own holder of the IRQ line: CONTROL */
#define UK_BLK_DISK_IRQ_NOTIF 2u     /*   + 2: the notification, badged 1 << d: WRITE (for
                                              IRQ_BIND) */
#define UK_BLK_SLOTS (UK_BLK_SLOT_DISK0 + 4u * UK_BLK_MAX_DISKS)

#endif
