/* The vCPU suite: a toy guest kernel and its processes. */
const char kt_suite_name[] = "vcpu";
