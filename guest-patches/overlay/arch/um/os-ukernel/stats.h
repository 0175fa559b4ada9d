/* /proc/ukvm: what its kernel half (stats_kern.c) asks of its host half
 * (stats_user.c).  The only declaration the two share. */
#ifndef UKVM_STATS_H
#define UKVM_STATS_H

#define UKVM_STATS_TEXT_MAX 1000   /* lbench -e reads up to 1023 bytes */

/* The file's text into buf (NUL-terminated); returns its length. */
int ukvm_stats_text(char *buf, int size);

#endif
