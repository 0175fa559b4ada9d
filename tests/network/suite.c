/* The network suite's in-QEMU half (tests/network/run boots it with a
 * virtio-net device on QEMU's user network, restrict=on). */
const char kt_suite_name[] = "network-qemu";
