/* Kernel console log and fatal-error stop. */
#ifndef UK_LOG_H
#define UK_LOG_H

#include "types.h"

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_write(const char *s, word len);
/* May a line that a user task caused be printed now?  (rationed: log.c) */
bool log_ration(void);

/* arch: the debug UART */
void serial_init(void);
void serial_putc(char c);
/* arch: end QEMU through isa-debug-exit (no-op elsewhere) */
noreturn void arch_exit_emulator(int status);

#endif
