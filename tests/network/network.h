/*
 * The network suite's two halves (test_net.c: the test root task; clients.c:
 * what runs in the client tasks, which share the test image): the
 * clients' slots and addresses, their results, their functions.
 */
#ifndef NETWORK_TEST_H
#define NETWORK_TEST_H

#include <uk/abi.h>
#include <uk/net.h>

#define CLIENT_EP     8ul                 /* in each client's table */
#define CLIENT_NOTIF  9ul                 /* its notification: READ */
#define CLIENT_BLK    10ul                /* a block client's endpoint cap */
#define BLK_WIN       0x38000000ul        /* its block window */
#define BLK_PAGES     16ul
#define WIN           0x30000000ul        /* its window, in its address space */
#define WINDOW_PAGES  24ul                /* >= UK_NET_WINDOW_MIN (18 pages) */
#define EXCHANGES     120u                /* frames a pinger sends its peer */
#define BAD_ROUNDS    10u                 /* client_bad's rounds of malformed frames */
#define BURST         (UK_NET_RX_SLOTS + 8u)   /* client_burst's frames */
#define FUZZ_SENDS    3000u               /* client_fuzz's SENDs */

/* What a client thread found: filled by it (the image's data is shared). */
struct result {
    volatile long done;
    long errors, first_bad, first_value;
    long steps;
    uk_word_t mac, gw_mac, value;
};
extern struct result res[UK_NET_MAX_CLIENTS + 1];
extern volatile uk_word_t peer_mac[UK_NET_MAX_CLIENTS + 1];   /* client n's MAC */
/* TSC ticks per microsecond, set by the root task (the boot-info page,
 * where kt_us_to_tsc finds it, is not mapped in the clients). */
extern uk_word_t tsc_per_us;

/* Test frame `seq`'s length: 60 .. UK_NET_FRAME_MAX. */
static inline unsigned test_len(unsigned seq) { return 60 + (seq * 397u) % (UK_NET_FRAME_MAX - 59); }

/* The clients (uk_spawn functions); arg: the client's number, and for
 * those with a peer the peer's number << 8 (client_gateway: the number of
 * echoes << 8). */
void client_gateway(uk_word_t arg);
void client_pinger(uk_word_t arg);
void client_echoer(uk_word_t c);
void client_bad(uk_word_t arg);
void client_pinger_retrying(uk_word_t arg);
void client_echoer_retrying(uk_word_t c);
void client_burst(uk_word_t arg);
void client_drain(uk_word_t arg);
void client_one(uk_word_t arg);
void client_disk(uk_word_t c);
void client_fuzz(uk_word_t arg);

#endif
