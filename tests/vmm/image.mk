# The vmm suite's image (included by the top Makefile; tests/vmm/run boots
# it, tests/vmm/check-log says what each guest must show): the real root
# task, console server and vmm-servers with nine toy guests, four of them
# broken guest kernels that a vmm-server must refuse with a clear message
# while the other guests run on (tools/build/mkbadelf makes them).
TOYGUEST_TRUNC   := $(BUILD)/toyguest-truncated.elf
TOYGUEST_KSPACE  := $(BUILD)/toyguest-kspace.elf
TOYGUEST_HUGE    := $(BUILD)/toyguest-huge.elf
TOYGUEST_OVERLAP := $(BUILD)/toyguest-overlap.elf
$(BUILD)/toyguest-%.elf: $(TOYGUEST) tools/build/mkbadelf
	tools/build/mkbadelf $* $< $@

VMMTEST_MODULES := $(ROOTTASK) "roottask exit-after-guests" $(VMM_SERVER) "vmm-server" \
    $(CONSOLE_SERVER) "console-server" tests/vmm/initrd-g1.txt "initrd-g1" \
    $(TOYGUEST) "guest name=g1 mem=16 initrd=initrd-g1 -- halt work=2 echo" \
    $(TOYGUEST) "guest name=g2 mem=16 -- reboots=2 work=4 echo" \
    $(TOYGUEST_TRUNC) "guest name=g3 mem=16 -- halt" \
    $(TOYGUEST) "guest name=g4 mem=16 -- badreq halt work=1" \
    $(TOYGUEST) "guest name=g5 mem=16 -- kfault" \
    $(TOYGUEST_KSPACE) "guest name=g6 mem=16 -- halt" \
    $(TOYGUEST) "guest name=g7 mem=lots -- halt" \
    $(TOYGUEST_HUGE) "guest name=g8 mem=16 -- halt" \
    $(TOYGUEST_OVERLAP) "guest name=g9 mem=16 -- halt"
$(ISO_VMMTEST): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(TOYGUEST) $(TOYGUEST_TRUNC) \
                $(TOYGUEST_KSPACE) $(TOYGUEST_HUGE) $(TOYGUEST_OVERLAP) \
                tests/vmm/initrd-g1.txt tests/vmm/image.mk tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(VMMTEST_MODULES)

# The power button (docs/shutdown.md; tests/vmm/power): toy guests that idle
# or reboot until QEMU's `system_powerdown`.  vmm-power: both power off (the
# rebooting g2 too); vmm-power-stop: g1 ignores the button (`nopower`) and
# the root task stops it after power-wait=3 s (status 119, QEMU's too), or
# at a second press; vmm-power-s5: no exit-after-guests, so the root task
# powers the machine off through ACPI S5 (make run's way; the interactive
# runs of tools/run/qemu-run); vmm-power-idle: the same, but the guest halts
# by itself first and the button finds the root task idle.
ISO_VMMPOWER    := $(BUILD)/vmm-power.iso
ISO_VMMPOWER_STOP := $(BUILD)/vmm-power-stop.iso
ISO_VMMPOWER_S5 := $(BUILD)/vmm-power-s5.iso
ISO_VMMPOWER_IDLE := $(BUILD)/vmm-power-idle.iso
VMMPOWER_BASE := $(VMM_SERVER) "vmm-server" $(CONSOLE_SERVER) "console-server"
$(ISO_VMMPOWER): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(TOYGUEST) tests/vmm/image.mk \
                 tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(ROOTTASK) "roottask exit-after-guests" $(VMMPOWER_BASE) \
	    $(TOYGUEST) "guest name=g1 mem=16 -- work=2" \
	    $(TOYGUEST) "guest name=g2 mem=16 -- reboots=1000 work=1"
$(ISO_VMMPOWER_STOP): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(TOYGUEST) \
                      tests/vmm/image.mk tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(ROOTTASK) "roottask exit-after-guests power-wait=3" \
	    $(VMMPOWER_BASE) $(TOYGUEST) "guest name=g1 mem=16 -- nopower work=1" \
	    $(TOYGUEST) "guest name=g2 mem=16 -- work=1"
$(ISO_VMMPOWER_S5): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(TOYGUEST) \
                    tests/vmm/image.mk tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(ROOTTASK) "roottask" $(VMMPOWER_BASE) \
	    $(TOYGUEST) "guest name=g1 mem=16 -- work=1 echo" \
	    $(TOYGUEST) "guest name=g2 mem=16 -- work=2"
$(ISO_VMMPOWER_IDLE): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(TOYGUEST) \
                      tests/vmm/image.mk tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(ROOTTASK) "roottask" $(VMMPOWER_BASE) \
	    $(TOYGUEST) "guest name=g1 mem=16 -- halt work=1"
