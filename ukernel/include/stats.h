/* Event counters (struct uk_stats), kept where the events happen. */
#ifndef UK_STATS_H
#define UK_STATS_H
#include "types.h"
extern struct uk_stats kstats;     /* kernel_entries is first: entry.asm bumps it */
#endif
