# The console suite's second image (included by the top Makefile;
# tests/console/per-guest boots it with QEMU's COM2): the real root task with
# two console servers, one per UART (`console-server` on COM1, `console-server
# com=2` on COM2), and two toy guests, g1 on COM1's and g2 (`console=2`) on
# COM2's, both echoing what is typed and printing numbered progress lines.
# The supervisor (`experiment`) crashes COM2's server CONSOLE_PG_CRASHES
# times from 1000 ms on, then hangs it at 3000 ms (a longer outage: found by
# the heartbeat), restart=console starting it again each time, and ends QEMU
# at end=.
ISO_CONSOLE_PG := $(BUILD)/console-pg.iso
CONSOLE_PG_CRASHES := 12
CONSOLE_PG_EXPERIMENT := experiment end=3700 beat=200 restart=console $(shell \
    for k in $$(seq 0 $$(($(CONSOLE_PG_CRASHES) - 1))); do \
        printf 'inject=%d:crash:console2 ' $$((1000 + 150 * k)); done)inject=3000:hang:console2
CONSOLE_PG_MODULES := $(ROOTTASK) "roottask" $(VMM_SERVER) "vmm-server" \
    $(CONSOLE_SERVER) "console-server" $(CONSOLE_SERVER) "console-server com=2" \
    tools/experiments/module.txt "$(CONSOLE_PG_EXPERIMENT)" \
    $(TOYGUEST) "guest name=g1 mem=16 -- work=1000 progress echo" \
    $(TOYGUEST) "guest name=g2 mem=16 console=2 -- work=1000 progress echo"
$(ISO_CONSOLE_PG): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(TOYGUEST) \
                   tools/experiments/module.txt tests/console/image.mk tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(CONSOLE_PG_MODULES)
