/* The microkernel suite: everything but the vCPU (tests/vcpu). */
const char kt_suite_name[] = "ukernel";
