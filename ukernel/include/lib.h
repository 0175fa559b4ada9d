#ifndef UK_LIB_H
#define UK_LIB_H
#include "types.h"
void *memset(void *d, int c, usize n);
void *memcpy(void *d, const void *s, usize n);
void *memmove(void *d, const void *s, usize n);
int memcmp(const void *a, const void *b, usize n);
#endif
