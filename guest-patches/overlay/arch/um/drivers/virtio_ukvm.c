// SPDX-License-Identifier: GPL-2.0
/*
 * The ukvm virtio transport: the vmm-server's virtio devices (uk/abi.h
 * UK_VDEV_VIRTIO_*, docs/storage.md "The Linux side") as virtio devices of
 * Linux's virtio bus, so that upstream drivers (virtio_blk, virtio_net)
 * drive them unchanged.  Modelled on virtio_uml.c, which does the same over
 * vhost-user sockets; here every operation is one IPC to the vmm-server
 * (the host half, os-ukernel/vdev.c, behind ukvm_virtio.h):
 *
 *   devices     listed in the info page: type and queue count, at boot
 *   config      read through UK_VDEV_VIRTIO_CONFIG, 1..8 bytes a call
 *   status      kept here (the device needs none of it); reset also resets
 *               the device, so no chain of an old queue is used after it
 *   queues      split rings made by vring_create_virtqueue in ordinary
 *               kernel memory; their physical addresses (and the buffers',
 *               no DMA API: VIRTIO_F_ACCESS_PLATFORM is never offered) are
 *               offsets in guest RAM the vmm-server checks and reads
 *   notify      one IPC per kick (UK_VDEV_VIRTIO_NOTIFY)
 *   interrupts  event bit UK_VDEV_EVENT_VIRTIO(dev, q) makes queue q's
 *               pseudo-fd readable; um_request_irq on it, as arch/um's
 *               drivers do with host fds; the handler is vring_interrupt
 */
#include <linux/err.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <irq_kern.h>
#include <ukvm_virtio.h>

struct ukvm_vdev {
	struct virtio_device vdev;
	struct platform_device *pdev;
	int dev;		/* the vmm-server's device number */
	int queues;		/* how many queues it has */
	u8 status;		/* the driver's status byte: ours alone */
};

struct ukvm_vq_info {
	int irq;		/* -1: none requested */
	char name[32];
};

#define to_ukvm(v) container_of(v, struct ukvm_vdev, vdev)

static void ukvm_get(struct virtio_device *vdev, unsigned int offset, void *buf,
		     unsigned int len)
{
	struct ukvm_vdev *u = to_ukvm(vdev);
	u8 *p = buf;

	while (len) {
		unsigned int n = len >= 8 ? 8 : len >= 4 ? 4 : len >= 2 ? 2 : 1;
		unsigned long long v = 0;

		if (ukvm_virtio_config(u->dev, offset, n, &v))
			v = 0;		/* outside the config space: reads as 0 */
		memcpy(p, &v, n);	/* little-endian, as the guest */
		p += n;
		offset += n;
		len -= n;
	}
}

/* Nothing of ours is writable (no VIRTIO_BLK_F_CONFIG_WCE & co. offered). */
static void ukvm_set(struct virtio_device *vdev, unsigned int offset, const void *buf,
		     unsigned int len)
{
	dev_warn_once(&vdev->dev, "config write at %u (%u bytes) ignored\n", offset, len);
}

static u8 ukvm_get_status(struct virtio_device *vdev)
{
	return to_ukvm(vdev)->status;
}

static void ukvm_set_status(struct virtio_device *vdev, u8 status)
{
	to_ukvm(vdev)->status = status;
}

static void ukvm_reset(struct virtio_device *vdev)
{
	struct ukvm_vdev *u = to_ukvm(vdev);

	u->status = 0;
	if (ukvm_virtio_reset(u->dev))
		dev_warn(&vdev->dev, "the vmm-server refused the reset\n");
}

static u64 ukvm_get_features(struct virtio_device *vdev)
{
	unsigned long long f = 0;

	if (ukvm_virtio_features(to_ukvm(vdev)->dev, &f))
		return 0;
	return f;
}

static int ukvm_finalize_features(struct virtio_device *vdev)
{
	vring_transport_features(vdev);
	return ukvm_virtio_set_features(to_ukvm(vdev)->dev, vdev->features);
}

static bool ukvm_notify(struct virtqueue *vq)
{
	return ukvm_virtio_notify(to_ukvm(vq->vdev)->dev, vq->index) == 0;
}

static irqreturn_t ukvm_vq_interrupt(int irq, void *opaque)
{
	return vring_interrupt(irq, opaque);
}

static void ukvm_del_vq(struct virtqueue *vq)
{
	struct ukvm_vq_info *info = vq->priv;
	struct ukvm_vdev *u = to_ukvm(vq->vdev);

	ukvm_virtio_queue(u->dev, vq->index, 0, 0, 0, 0);
	if (info->irq >= 0)
		um_free_irq(info->irq, vq);
	vring_del_virtqueue(vq);
	kfree(info);
}

static void ukvm_del_vqs(struct virtio_device *vdev)
{
	struct virtqueue *vq, *n;

	list_for_each_entry_safe(vq, n, &vdev->vqs, list)
		ukvm_del_vq(vq);
}

static struct virtqueue *ukvm_setup_vq(struct ukvm_vdev *u, unsigned int index,
				       vq_callback_t *callback, const char *name, bool ctx)
{
	struct ukvm_vq_info *info;
	struct virtqueue *vq;
	unsigned int num = ukvm_virtio_queue_max();
	int rc, fd;

	if (index >= u->queues)
		return ERR_PTR(-ENOENT);
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return ERR_PTR(-ENOMEM);
	info->irq = -1;
	snprintf(info->name, sizeof(info->name), "virtio-ukvm.%d-%s", u->dev, name);

	vq = vring_create_virtqueue(index, num, PAGE_SIZE, &u->vdev, true, true, ctx,
				    ukvm_notify, callback, info->name);
	if (!vq) {
		kfree(info);
		return ERR_PTR(-ENOMEM);
	}
	vq->priv = info;
	vq->num_max = num;

	fd = ukvm_virtio_irq_fd(u->dev, index);
	rc = fd < 0 ? fd : um_request_irq(UM_IRQ_ALLOC, fd, IRQ_READ, ukvm_vq_interrupt, 0,
					  info->name, vq);
	if (rc < 0)
		goto fail;
	info->irq = rc;

	rc = ukvm_virtio_queue(u->dev, index, virtqueue_get_vring_size(vq),
			       virtqueue_get_desc_addr(vq), virtqueue_get_avail_addr(vq),
			       virtqueue_get_used_addr(vq));
	if (rc)
		goto fail;
	return vq;
fail:
	if (info->irq >= 0)
		um_free_irq(info->irq, vq);
	vring_del_virtqueue(vq);
	kfree(info);
	return ERR_PTR(rc);
}

static int ukvm_find_vqs(struct virtio_device *vdev, unsigned int nvqs, struct virtqueue *vqs[],
			 vq_callback_t *callbacks[], const char * const names[], const bool *ctx,
			 struct irq_affinity *desc)
{
	struct ukvm_vdev *u = to_ukvm(vdev);
	unsigned int i, index = 0;

	for (i = 0; i < nvqs; i++) {
		if (!names[i]) {
			vqs[i] = NULL;
			continue;
		}
		vqs[i] = ukvm_setup_vq(u, index++, callbacks[i], names[i], ctx ? ctx[i] : false);
		if (IS_ERR(vqs[i])) {
			int rc = PTR_ERR(vqs[i]);

			ukvm_del_vqs(vdev);
			return rc;
		}
	}
	return 0;
}

static const char *ukvm_bus_name(struct virtio_device *vdev)
{
	return dev_name(&to_ukvm(vdev)->pdev->dev);
}

static const struct virtio_config_ops ukvm_config_ops = {
	.get = ukvm_get,
	.set = ukvm_set,
	.get_status = ukvm_get_status,
	.set_status = ukvm_set_status,
	.reset = ukvm_reset,
	.find_vqs = ukvm_find_vqs,
	.del_vqs = ukvm_del_vqs,
	.get_features = ukvm_get_features,
	.finalize_features = ukvm_finalize_features,
	.bus_name = ukvm_bus_name,
};

static void ukvm_release_dev(struct device *d)
{
	kfree(to_ukvm(container_of(d, struct virtio_device, dev)));
}

/* One platform device (the parent, /sys/devices/platform/virtio-ukvm.N)
 * and one virtio device for each device the vmm-server lists. */
static int __init ukvm_virtio_init(void)
{
	int n = ukvm_virtio_devices();

	for (int d = 0; d < n; d++) {
		struct platform_device *pdev;
		struct ukvm_vdev *u;
		int queues, type = ukvm_virtio_type(d, &queues);

		if (type <= 0 || queues <= 0)
			continue;
		pdev = platform_device_register_simple("virtio-ukvm", d, NULL, 0);
		if (IS_ERR(pdev))
			continue;
		u = kzalloc(sizeof(*u), GFP_KERNEL);
		if (!u) {
			platform_device_unregister(pdev);
			continue;
		}
		u->pdev = pdev;
		u->dev = d;
		u->queues = queues;
		u->vdev.dev.parent = &pdev->dev;
		u->vdev.dev.release = ukvm_release_dev;
		u->vdev.config = &ukvm_config_ops;
		u->vdev.id.device = type;
		u->vdev.id.vendor = VIRTIO_DEV_ANY_ID;
		if (register_virtio_device(&u->vdev)) {
			put_device(&u->vdev.dev);
			platform_device_unregister(pdev);
			continue;
		}
		pr_info("virtio-ukvm.%d: virtio device type %d, %d queues\n", d, type, queues);
	}
	return 0;
}
device_initcall(ukvm_virtio_init);
