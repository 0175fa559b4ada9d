/*
 * The boundary between the ukvm virtio transport's kernel half
 * (arch/um/drivers/virtio_ukvm.c) and its host half (os-ukernel/vdev.c,
 * which speaks uk/abi.h UK_VDEV_VIRTIO_* to the vmm-server).  Plain C
 * types only: kernel code does not include libipc's headers.  Every call
 * returns 0 or a negative errno (the vmm-server's statuses are errno
 * numbers; a failed IPC is -EIO).
 */
#ifndef UKVM_VIRTIO_H
#define UKVM_VIRTIO_H

int ukvm_virtio_devices(void);                  /* how many the info page lists */
int ukvm_virtio_type(int dev, int *queues);     /* its virtio device ID; its queues */
int ukvm_virtio_queue_max(void);                /* entries a queue may have */
int ukvm_virtio_features(int dev, unsigned long long *features);
int ukvm_virtio_set_features(int dev, unsigned long long features);
int ukvm_virtio_config(int dev, unsigned int off, unsigned int len, unsigned long long *val);
/* num 0: the queue is off.  Addresses: physical (arch/um's __pa). */
int ukvm_virtio_queue(int dev, int q, unsigned int num, unsigned long long desc,
		      unsigned long long avail, unsigned long long used);
int ukvm_virtio_notify(int dev, int q);
int ukvm_virtio_reset(int dev);
/* The pseudo-fd whose "readable" is queue q's interrupt (for um_request_irq). */
int ukvm_virtio_irq_fd(int dev, int q);

#endif
