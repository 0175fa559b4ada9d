/* The small user-level runtime every task links: start-up, console output
 * through the kernel log, string helpers, and ending QEMU in tests. */
#ifndef UK_RT_H
#define UK_RT_H

#include <stdarg.h>
#include <uk/abi.h>
#include <uk/syscall.h>

int  printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* to the kernel log */
/* printf's body, the text (at most 511 bytes) handed to out: for programs
 * whose output goes elsewhere (a guest kernel's console device). */
int  uk_vprintf_to(void (*out)(const char *s, unsigned long n), const char *fmt, va_list ap);
int  vsnprintf(char *buf, unsigned long size, const char *fmt, va_list ap);
int  snprintf(char *buf, unsigned long size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
int  memcmp(const void *a, const void *b, unsigned long n);
unsigned long strlen(const char *s);
int  strcmp(const char *a, const char *b);
int  strncmp(const char *a, const char *b, unsigned long n);

/* The IPC buffer of the calling thread: its gs base points at it and its
 * last word holds its own address (set by uk_ipc_buffer_init). */
static inline struct uk_ipc_buffer *uk_ipc_buffer(void)
{
    struct uk_ipc_buffer *b;
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(b)
                     : "i"(__builtin_offsetof(struct uk_ipc_buffer, user_self)));
    return b;
}
#define uk_ipc_buf (uk_ipc_buffer())
void uk_ipc_buffer_init(struct uk_ipc_buffer *b);

/* Ends QEMU through isa-debug-exit (needs an I/O-port cap covering 0xf4). */
void uk_exit_qemu(uk_word_t ioport_cap, int status) __attribute__((noreturn));

/* Provided by the program */
int main(const struct uk_bootinfo *bi);

#endif
