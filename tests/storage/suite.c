/* The storage suite's in-QEMU half (tests/storage/run boots it with two
 * disk images and checks their bytes afterwards). */
const char kt_suite_name[] = "storage-qemu";
