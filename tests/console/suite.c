/* The console server suite (tests/console/run boots it with input). */
const char kt_suite_name[] = "console";
