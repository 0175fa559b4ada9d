/* The system-call fuzzer suite (fuzz.c, hostile.c; docs/testing.md). */
const char kt_suite_name[] = "fuzz";
