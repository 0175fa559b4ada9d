# The debug suite's images (included by the top Makefile; tests/debug/run
# boots them): the stack with a toy guest, for gdb; and the kernel alone
# with `test-kernel-fault` (ukernel/kernel/main.c) on its command line,
# which only a boot loader's configuration can give, for a panic's backtrace.
DEBUGTEST_MODULES := $(ROOTTASK) "roottask exit-after-guests" $(VMM_SERVER) "vmm-server" \
    $(CONSOLE_SERVER) "console-server" $(TOYGUEST) "guest name=g1 mem=16 -- halt work=2"
$(ISO_DEBUGTEST): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(TOYGUEST) \
                  tests/debug/image.mk tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(DEBUGTEST_MODULES)
$(ISO_PANICTEST): $(KERNEL) $(ROOTTASK) tools/build/mkiso
	KERNEL_CMDLINE=test-kernel-fault tools/build/mkiso $@ $(KERNEL) $(ROOTTASK) "roottask"
