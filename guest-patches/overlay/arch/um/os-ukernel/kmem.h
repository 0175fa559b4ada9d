/* The processes' kernel memory ran out: make room (kmem_kern.c, called by
 * mem.c's map() between its tries). */
#ifndef UKVM_KMEM_H
#define UKVM_KMEM_H
struct mm_id;
int ukvm_kmem_reclaim(struct mm_id *mm_idp);
void ukvm_kmem_given_back(void);     /* a process task destroyed (process.c) */
#endif
