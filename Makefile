# ukvm: a small IPC microkernel hosting paravirtualised Linux.
#   make run    install what is needed, build, boot in QEMU (interactive):
#               root task, console server, a vmm-server and a Linux guest
#               with its root on its own disk, Debian's userland (GUESTS=2:
#               two, a disk each; FRESH=1: clean disks; ROOT=initramfs: the
#               busybox shell initramfs, no disk; GUEST=toy: toy guests)
#   make test   host unit tests, then QEMU test images; ends "N passed, N failed"
#   make fuzz   the microkernel system-call fuzzer, long form (FUZZ_CALLS,
#               FUZZ_SECONDS, FUZZ_SEED), then the host-side parser fuzzers
#               (libFuzzer, FUZZ_SECONDS each, default 60), then trinity in a
#               Linux guest (TRINITY_CALLS, TRINITY_SEED); docs/testing.md
#   make soak   two Linux guests under stress-ng for SOAK_SECONDS (600), then
#               the isolation check under a longer hostile load; docs/testing.md
#   make bench  instruction counts under QEMU TCG -icount: the microkernel, then
#               Linux native, Debian's and the guest (build/bench/*.jsonl),
#               then docs/results.md (make results)
#   make experiments  fault-injection scenarios under QEMU (tcg-icount), the
#               blast-radius matrix in docs/experiments.md (docs/liability.md)

BUILD   := build
LIBCOMMON_SRCS := $(wildcard libcommon/*.c)
CC      := gcc
LD      := ld
AS      := as
NASM    := nasm
ACCEL   ?= tcg

COMMON_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pie -fno-pic \
                 -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
                 -Ilibipc/include -Ilibcommon/include
# -fasynchronous-unwind-tables: .eh_frame for the kernel's backtraces (the
# code is the same without it; ukernel/arch/x86/unwind.c)
KCFLAGS := $(COMMON_CFLAGS) -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
           -fasynchronous-unwind-tables -Iukernel/include -Iukernel/arch/x86/include
UCFLAGS := $(COMMON_CFLAGS) -mno-sse3 -fno-tree-vectorize -Ilibuser/include -Itests/lib
LDFLAGS := -nostdlib -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments

# asm-offsets.c is compiled to assembler text only (below), never linked
ASM_OFFSETS_SRC := ukernel/arch/x86/asm-offsets.c
KSRCS  := $(filter-out $(ASM_OFFSETS_SRC),$(wildcard ukernel/kernel/*.c ukernel/arch/x86/*.c)) \
          $(LIBCOMMON_SRCS)
KASMS  := ukernel/arch/x86/boot.asm ukernel/arch/x86/entry.asm
KOBJS  := $(patsubst %.c,$(BUILD)/k/%.o,$(KSRCS)) $(patsubst %.asm,$(BUILD)/k/%.o,$(KASMS))
ASM_OFFSETS := $(BUILD)/k/asm-offsets.inc
KERNEL := $(BUILD)/ukernel.elf

# libipc/: the ABI and system-call stubs (headers only, <uk/...>);
# libcommon/: freestanding code built into the kernel and into libuser
# (<common/...>); libuser/: the user runtime every program links (<user/...>)
LIBUSER      := $(BUILD)/libuser.a
LIBUSER_OBJS := $(patsubst %.c,$(BUILD)/u/%.o,$(wildcard libuser/*.c) $(LIBCOMMON_SRCS))

ROOTTASK := $(BUILD)/roottask.elf
KTEST    := $(BUILD)/ktest.elf
VTEST    := $(BUILD)/vtest.elf
FTEST    := $(BUILD)/ftest.elf
CTEST    := $(BUILD)/ctest.elf
CONSOLE_SERVER := $(BUILD)/console-server.elf
BLK_SERVER := $(BUILD)/blk-server.elf
STEST    := $(BUILD)/stest.elf
NET_SERVER := $(BUILD)/net-server.elf
NTEST    := $(BUILD)/ntest.elf
BENCH_UK := $(BUILD)/bench-ukernel.elf
VMM_SERVER := $(BUILD)/vmm-server.elf
TOYGUEST   := $(BUILD)/toyguest.elf

ISO_RUN  := $(BUILD)/ukvm.iso
ISO_TEST := $(BUILD)/ktest.iso
ISO_VTEST := $(BUILD)/vtest.iso
ISO_FTEST := $(BUILD)/ftest.iso
ISO_FUZZ  := $(BUILD)/fuzz.iso
ISO_CTEST := $(BUILD)/ctest.iso
ISO_BENCH := $(BUILD)/bench.iso
ISO_VMMTEST := $(BUILD)/vmmtest.iso
ISO_STEST := $(BUILD)/stest.iso
ISO_SVMM  := $(BUILD)/storage-vmm.iso
ISO_NTEST := $(BUILD)/ntest.iso
ISO_NVMM  := $(BUILD)/network-vmm.iso
ISO_NLINUX := $(BUILD)/network-linux.iso
comma := ,
ISO_DEBUGTEST := $(BUILD)/debugtest.iso
ISO_PANICTEST := $(BUILD)/panictest.iso

.PHONY: all run test bench deps clean unit-test ktest-run fuzz FORCE
all: $(ISO_RUN) $(ISO_TEST) $(ISO_VTEST) $(ISO_FTEST) $(ISO_CTEST) $(ISO_BENCH) $(ISO_VMMTEST) $(ISO_DEBUGTEST) \
     $(ISO_PANICTEST) $(ISO_STEST) $(ISO_SVMM) $(ISO_NTEST) $(ISO_NVMM)

# --- set-up -----------------------------------------------------------------------
deps:
	@tools/build/install-deps

# --- kernel -----------------------------------------------------------------------
# the kernel's objects are rebuilt when KCFLAGS change
$(BUILD)/kcflags.txt: FORCE
	@mkdir -p $(BUILD)
	@echo '$(KCFLAGS)' | cmp -s - $@ || echo '$(KCFLAGS)' >$@
$(KOBJS): $(BUILD)/kcflags.txt
$(BUILD)/k/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/k/%.o: %.asm $(ASM_OFFSETS)
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g -I$(BUILD)/k/ $< -o $@
# Structure offsets and numbers for the assembly and the linker script, from
# C (asm-offsets.c): its "->NAME value" marker lines become NASM %defines,
# its "=>NAME value" lines linker-script assignments.  Rebuilt whenever a
# header it includes changes (its .d file, included below), and so are the
# .asm objects and the kernel.
$(ASM_OFFSETS): $(ASM_OFFSETS_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -MMD -MP -MT $@ -MF $(BUILD)/k/asm-offsets.d -S $< -o $(BUILD)/k/asm-offsets.s
	{ echo '; Generated from $< by the Makefile: do not edit.'; \
	  sed -n 's/^.*->\([A-Za-z_0-9]*\) [$$]\{0,1\}\(-\{0,1\}[0-9]*\).*/%define \1 (\2)/p' $(BUILD)/k/asm-offsets.s; } >$@.tmp
	{ echo '/* Generated from $< by the Makefile: do not edit. */'; \
	  sed -n 's/^.*=>\([A-Za-z_0-9]*\) [$$]\{0,1\}\(-\{0,1\}[0-9]*\).*/\1 = \2;/p' $(BUILD)/k/asm-offsets.s; } >$(BUILD)/k/asm-offsets.ld
	mv $@.tmp $@
$(BUILD)/k/asm-offsets.ld: $(ASM_OFFSETS)
# Two links: the second holds the kernel's symbol table (tools/build/mkksyms) made
# from the first, for named backtraces; the table lies after .text, so the
# second link moves no function: checked by making the table again from it.
$(KERNEL): $(KOBJS) ukernel/arch/x86/linker.ld $(BUILD)/k/asm-offsets.ld tools/build/mkksyms
	tools/build/mkksyms --empty $(BUILD)/k/ksyms-empty.s && $(AS) --64 -o $(BUILD)/k/ksyms-empty.o $(BUILD)/k/ksyms-empty.s
	$(LD) $(LDFLAGS) -L$(BUILD)/k -T ukernel/arch/x86/linker.ld -o $@.nosyms $(KOBJS) $(BUILD)/k/ksyms-empty.o
	tools/build/mkksyms $@.nosyms $(BUILD)/k/ksyms.s && $(AS) --64 -o $(BUILD)/k/ksyms.o $(BUILD)/k/ksyms.s
	$(LD) $(LDFLAGS) -L$(BUILD)/k -T ukernel/arch/x86/linker.ld -o $@.tmp $(KOBJS) $(BUILD)/k/ksyms.o
	tools/build/mkksyms $@.tmp $(BUILD)/k/ksyms-check.s
	@cmp -s $(BUILD)/k/ksyms.s $(BUILD)/k/ksyms-check.s || \
	    { echo "the symbol table does not match the kernel's second link"; exit 1; }
	mv $@.tmp $@

# --- user level -------------------------------------------------------------------
$(BUILD)/u/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -MMD -MP -c $< -o $@
$(LIBUSER): $(LIBUSER_OBJS)
	rm -f $@ && ar rcs $@ $^
# Where each user program is linked (libuser/user.ld's USER_BASE), by the
# name of its ELF file: each in its own 4 MiB room (the largest, ktest, takes
# 0.2 MiB), so an address names one program, whichever task runs it: a
# debugger's breakpoint (make debug, docs/debugging.md) and
# tools/bench/syscall-breakdown's per-address counts.  Everything stays in
# [0x400000, 0x10000000): above it are the vmm-server's info page
# (roottask/launch.c VMM_INFO_VA 0x10000000), the guest program
# tools/bench/syscall-breakdown measures (0x10000000) and the Linux guest kernel
# (0x60000000); the toy guest kernel must lie below guest RAM
# (vmm-server/vmm.h GUEST_KERNEL_HI).
LINK_BASE_roottask       := 0x00400000
LINK_BASE_console-server := 0x00800000
LINK_BASE_vmm-server     := 0x00c00000
LINK_BASE_toyguest       := 0x01000000
LINK_BASE_ktest          := 0x02000000
LINK_BASE_vtest          := 0x02400000
LINK_BASE_ctest          := 0x02800000
LINK_BASE_bench-ukernel  := 0x02c00000
LINK_BASE_blk-server     := 0x03000000
LINK_BASE_stest          := 0x03400000
LINK_BASE_ftest          := 0x03800000
LINK_BASE_net-server     := 0x03c00000
LINK_BASE_ntest          := 0x04000000
LINK_BASES := $(foreach v,$(sort $(filter LINK_BASE_%,$(.VARIABLES))),$(v)=$($(v)))
$(BUILD)/link-bases.txt: FORCE
	@mkdir -p $(BUILD)
	@echo '$(LINK_BASES)' | cmp -s - $@ || echo '$(LINK_BASES)' >$@
# user_program ELF SOURCES: linked at LINK_BASE_<its file name>
define user_program
$(1): $(patsubst %.c,$(BUILD)/u/%.o,$(2)) $(LIBUSER) libuser/user.ld $(BUILD)/link-bases.txt
	$$(if $$(LINK_BASE_$(basename $(notdir $(1)))),,$$(error $(1): no LINK_BASE_$(basename $(notdir $(1))) in the Makefile's table))
	$(LD) $(LDFLAGS) -T libuser/user.ld --defsym=USER_BASE=$$(LINK_BASE_$(basename $(notdir $(1)))) \
	    -o $$@ $(patsubst %.c,$(BUILD)/u/%.o,$(2)) $(LIBUSER)
endef
$(eval $(call user_program,$(ROOTTASK),$(wildcard roottask/*.c)))
KTEST_SRCS ?= tests/lib/ktest_main.c $(wildcard tests/ukernel/*.c)
VTEST_SRCS ?= tests/lib/ktest_main.c $(wildcard tests/vcpu/*.c)
$(eval $(call user_program,$(KTEST),$(KTEST_SRCS)))
$(eval $(call user_program,$(VTEST),$(VTEST_SRCS)))
FTEST_SRCS ?= tests/lib/ktest_main.c $(wildcard tests/fuzz/*.c)
$(eval $(call user_program,$(FTEST),$(FTEST_SRCS)))
$(eval $(call user_program,$(CONSOLE_SERVER),$(wildcard servers/console/*.c)))
CTEST_SRCS ?= tests/lib/ktest_main.c $(wildcard tests/console/*.c)
$(eval $(call user_program,$(CTEST),$(CTEST_SRCS)))
$(eval $(call user_program,$(BLK_SERVER),$(wildcard servers/blk/*.c)))
# the storage suite's test root task starts the block server with the root task's own code
STEST_SRCS ?= tests/lib/ktest_main.c $(wildcard tests/storage/*.c) roottask/blk.c roottask/pcidev.c \
              roottask/flip.c \
              roottask/modules.c
$(eval $(call user_program,$(STEST),$(STEST_SRCS)))
$(eval $(call user_program,$(NET_SERVER),$(wildcard servers/net/*.c)))
# the network suite's test root task starts the network server (and the block server, whose
# disk shares the NIC's interrupt line) with the root task's own code
NTEST_SRCS ?= tests/lib/ktest_main.c $(wildcard tests/network/*.c) roottask/net.c roottask/blk.c \
              roottask/flip.c \
              roottask/pcidev.c roottask/modules.c
$(eval $(call user_program,$(NTEST),$(NTEST_SRCS)))
$(eval $(call user_program,$(BENCH_UK),$(wildcard bench/ukernel/*.c)))
$(eval $(call user_program,$(VMM_SERVER),$(wildcard vmm-server/*.c)))
$(eval $(call user_program,$(TOYGUEST),$(wildcard guests/toy/*.c)))

# --- images -----------------------------------------------------------------------
# make run: the console server and GUESTS (1) Linux guests g1.. (one
# vmm-server each), each booting the shell initramfs (tests/guest-linux/init,
# busybox sh) with GUEST_CMDLINE.  GUEST_MEM (MiB, default 256) is each
# Linux guest's RAM; its kernel memory (GUEST_KMEM, KiB) is 64 MiB at 256 MiB
# (1,000 processes and more, docs/guest-linux.md) plus 96 KiB for every MiB
# above (the guest's two mappings of its RAM and a process's of what it
# touches: a mapping node and page tables a page, each), and QEMU gets
# GUEST_MEM * 2.5 + 384 MiB per guest (1 GiB at 256), so the microkernel's
# pool (1/8 of the machine, at most 256 MiB) covers it.  GUEST=toy runs
# the toy guest kernel instead (GUESTS 2; guests/toy/toy.h: halt,
# reboot-once, reboots=N, work=N, badreq, kfault, echo).
GUEST         ?= linux
LINUX_GUEST   := $(BUILD)/linux-guest/vmlinux
GL_SHELL      := $(BUILD)/guest-linux/initramfs-shell.cpio
ifeq ($(GUEST),toy)
GUESTS        ?= 2
GUEST_CMDLINE ?= work=4 echo
RUN_GUESTS    := $(foreach i,$(shell seq 1 $(GUESTS)),$(TOYGUEST) "guest name=g$(i) mem=16 -- $(GUEST_CMDLINE)")
RUN_PIECES    := $(TOYGUEST)
RUN_MEM       := 512M
else
GUESTS        ?= 1
GUEST_CMDLINE ?=
GUEST_MEM     ?= 256
GUEST_KMEM    ?= $(shell m=$(GUEST_MEM); echo $$((65536 + (m > 256 ? m - 256 : 0) * 96)))
# words for the root task's guest lines: `stats` lets the guests read the
# microkernel's machine-wide counters (/proc/ukvm), `kfaults`
GUEST_OPTS    ?=
# Disks (docs/storage.md "make run's disks"): each guest gi gets its own
# RUN_DISK_DIR/gi.img (build/disks), a copy of the Debian root image
# (tools/build/mkrootfs) made when it is missing (FRESH=1: made again, what
# the guests wrote is lost), as its own virtio-blk device and the guest
# line's disk=i-1, with the block server.  ROOT=disk (the default) boots
# each guest with its root on its disk (root=/dev/vda through the guest's
# virtio_blk, Debian's userland, busybox init); ROOT=initramfs boots the
# shell initramfs; DISK=1 gives the guests their disks with either root
# (the default: with ROOT=disk only).
ROOT          ?= disk
DISK          ?= $(if $(filter disk,$(ROOT)),1,0)
FRESH         ?= 0
RUN_DISK_DIR  ?= $(BUILD)/disks
ifeq ($(filter disk initramfs,$(ROOT)),)
$(error ROOT must be disk or initramfs, not '$(ROOT)')
endif
ifeq ($(DISK),1)
RUN_DISKS     := $(foreach i,$(shell seq 1 $(GUESTS)),$(RUN_DISK_DIR)/g$(i).img)
RUN_DISK_WORD  = disk=$(shell echo $$(($(1) - 1)))
endif
# NET=1: the network server on QEMU's user network (restrict=on), each guest
# gN on its port with virtio_net, its address 10.0.2.(14+N) from the kernel's
# ip= (docs/network.md), and a forward 127.0.0.1:(NET_PORT+N-1) -> gN:80,
# where busybox httpd serves a page (the shell initramfs' /init, the root
# disk's rcS); with ROOT=disk also 127.0.0.1:(SSH_PORT+N-1) -> gN:22, the
# root disk's dropbear (key build/rootfs/id_ed25519)
NET           ?= 0
NET_PORT      ?= 8080
SSH_PORT      ?= 2222
ifeq ($(NET),1)
RUN_NET_SERVER := $(NET_SERVER) "net-server"
run_net_word   = net
run_net_ip     = ip=10.0.2.$(shell echo $$((14 + $(1))))::10.0.2.2:255.255.255.0:g$(1):eth0:off
RUN_HOSTFWD    := $(foreach i,$(shell seq 1 $(GUESTS)),$(shell echo $$(($(NET_PORT) + $(i) - 1)))-10.0.2.$(shell echo $$((14 + $(i)))):80)
RUN_SSHFWD     := $(if $(filter disk,$(ROOT)),$(foreach i,$(shell seq 1 $(GUESTS)),$(shell echo $$(($(SSH_PORT) + $(i) - 1)))-10.0.2.$(shell echo $$((14 + $(i)))):22))
endif
ifeq ($(ROOT),disk)
RUN_GUESTS    := $(if $(RUN_DISKS),$(BLK_SERVER) "blk-server") \
    $(foreach i,$(shell seq 1 $(GUESTS)),$(LINUX_GUEST) "$(strip guest name=g$(i) mem=$(GUEST_MEM) kmem=$(GUEST_KMEM) $(call RUN_DISK_WORD,$(i)) $(run_net_word) $(GUEST_OPTS)) -- $(strip root=/dev/vda rw hostname=g$(i) $(call run_net_ip,$(i)) $(GUEST_CMDLINE))")
RUN_PIECES    := $(LINUX_GUEST) $(BLK_SERVER) $(if $(RUN_NET_SERVER),$(NET_SERVER))
else
RUN_GUESTS    := $(GL_SHELL) "initramfs" $(if $(RUN_DISKS),$(BLK_SERVER) "blk-server") \
    $(foreach i,$(shell seq 1 $(GUESTS)),$(LINUX_GUEST) "$(strip guest name=g$(i) mem=$(GUEST_MEM) kmem=$(GUEST_KMEM) initrd=initramfs $(if $(RUN_DISKS),$(call RUN_DISK_WORD,$(i))) $(run_net_word) $(GUEST_OPTS)) -- $(strip $(call run_net_ip,$(i)) $(GUEST_CMDLINE))")
RUN_PIECES    := $(LINUX_GUEST) $(GL_SHELL) $(if $(RUN_DISKS),$(BLK_SERVER)) $(if $(RUN_NET_SERVER),$(NET_SERVER))
endif
RUN_MEM       := $(shell echo $$(($(GUESTS) * ($(GUEST_MEM) * 5 / 2 + 384))))M
endif
RUN_MODULES := $(ROOTTASK) "roottask" $(VMM_SERVER) "vmm-server" $(CONSOLE_SERVER) "console-server" \
    $(RUN_NET_SERVER) $(RUN_GUESTS)
$(BUILD)/run-modules.txt: FORCE
	@mkdir -p $(BUILD)
	@echo '$(RUN_MODULES)' | cmp -s - $@ || echo '$(RUN_MODULES)' >$@
# the Linux guest kernel: guest-patches/ on Debian's linux-source-6.1 (make
# decides nothing here: tools/build/guest-linux and Kbuild know what changed)
$(LINUX_GUEST): FORCE
	tools/build/guest-linux
$(ISO_RUN): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(RUN_PIECES) $(BUILD)/run-modules.txt \
            tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(RUN_MODULES)
# the vmm suite's image: tests/vmm/image.mk
include tests/vmm/image.mk
# the debug suite's images: tests/debug/image.mk
include tests/debug/image.mk
# the console suite's per-guest image (two UARTs, two console servers)
include tests/console/image.mk
$(ISO_TEST): $(KERNEL) $(KTEST) $(ROOTTASK) tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(KTEST) "ktest" $(ROOTTASK) "second-module example"
$(ISO_VTEST): $(KERNEL) $(VTEST) tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(VTEST) "vtest"
# the fuzz suite: make test's short form (a fixed seed, 1,000,000 calls)
$(ISO_FTEST): $(KERNEL) $(FTEST) tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(FTEST) "fuzz"
$(ISO_CTEST): $(KERNEL) $(CTEST) $(CONSOLE_SERVER) tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(CTEST) "ctest" $(CONSOLE_SERVER) "console-server"
$(ISO_STEST): $(KERNEL) $(STEST) $(BLK_SERVER) tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(STEST) "stest" $(BLK_SERVER) "blk-server"
$(ISO_NTEST): $(KERNEL) $(NTEST) $(NET_SERVER) $(BLK_SERVER) tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(NTEST) "ntest" $(NET_SERVER) "net-server" $(BLK_SERVER) "blk-server"
# the network suite's second image: the real root task starts the network
# server from its module line; the toy guest's NIC as a virtio-net device,
# hostile chains included (guests/toy/vnet.c; tests/network/run)
NVMM_MODULES := $(ROOTTASK) "roottask exit-after-guests" $(VMM_SERVER) "vmm-server" \
    $(CONSOLE_SERVER) "console-server" $(NET_SERVER) "net-server" \
    $(TOYGUEST) "guest name=g1 mem=16 net -- vnet halt"
$(ISO_NVMM): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(NET_SERVER) $(TOYGUEST) \
             tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(NVMM_MODULES)
# the network suite's third image: two Linux guests on the switch, each with
# virtio_net and its address from ip=; g1 serves a page and a 16 MiB file
# with busybox httpd, g2 fetches it; pings both ways (tests/guest-linux/nettest)
NLINUX_GUEST = $(LINUX_GUEST) "guest name=g$(1) mem=128 kmem=65536 initrd=initramfs net -- \
    ip=10.0.2.$(shell echo $$((14 + $(1))))::10.0.2.2:255.255.255.0:g$(1):eth0:off ukvm.mode=net ukvm.net=$(2)"
NLINUX_MODULES := $(ROOTTASK) "roottask exit-after-guests" $(VMM_SERVER) "vmm-server" \
    $(CONSOLE_SERVER) "console-server" $(NET_SERVER) "net-server" $(GL_SHELL) "initramfs" \
    $(call NLINUX_GUEST,1,serve$(comma)10.0.2.16) $(call NLINUX_GUEST,2,fetch$(comma)10.0.2.15)
$(ISO_NLINUX): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(NET_SERVER) $(LINUX_GUEST) \
               $(GL_SHELL) tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(NLINUX_MODULES)
# the storage suite's second image: the real root task, the block server and
# toy guests with a disk each (tests/storage/run), through UK_VDEV_BLOCK_*
# (`disk`) and as virtio-blk devices (`vdisk`); g3 asks for a disk that is
# not there
SVMM_MODULES := $(ROOTTASK) "roottask exit-after-guests" $(VMM_SERVER) "vmm-server" \
    $(CONSOLE_SERVER) "console-server" $(BLK_SERVER) "blk-server" \
    $(TOYGUEST) "guest name=g1 mem=16 disk=0 -- disk vdisk halt" \
    $(TOYGUEST) "guest name=g2 mem=16 disk=1 -- disk vdisk halt work=1" \
    $(TOYGUEST) "guest name=g3 mem=16 disk=3 -- disk vdisk halt"
$(ISO_SVMM): $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(BLK_SERVER) $(TOYGUEST) \
             tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(SVMM_MODULES)
$(ISO_BENCH): $(KERNEL) $(BENCH_UK) tools/build/mkiso
	tools/build/mkiso $@ $(KERNEL) $(BENCH_UK) "bench-ukernel"

# --- run, test, bench --------------------------------------------------------------
run: deps-linux $(ISO_RUN) $(if $(RUN_DISKS),run-disks)
ifeq ($(NET),1)
	@for f in $(RUN_HOSTFWD); do echo "make run: guest $${f#*-} is reachable from this host: curl http://127.0.0.1:$${f%%-*}/"; done
	@for f in $(RUN_SSHFWD); do echo "make run: a shell in guest $${f#*-}: ssh -p $${f%%-*} -i build/rootfs/id_ed25519 root@127.0.0.1"; done
endif
	INTERACTIVE=1 ACCEL=$(ACCEL) MEM=$(RUN_MEM) DISKS="$(RUN_DISKS)" NET=$(NET) HOSTFWD="$(strip $(RUN_HOSTFWD) $(RUN_SSHFWD))" \
	    tools/run/qemu-run --iso $(ISO_RUN)

# make run's configuration as shell assignments, for the rootdisk suite
# (tests/rootdisk/run), which boots make run's guest lines in batch runs
.PHONY: run-config
run-config:
	@echo 'run_modules=($(RUN_MODULES))'
	@echo 'run_disks="$(RUN_DISKS)" run_mem=$(RUN_MEM) run_net=$(NET) run_hostfwd="$(strip $(RUN_HOSTFWD) $(RUN_SSHFWD))"'

# make run's per-guest disks: copies of the root image, kept between runs
# (what a guest wrote is there next time) unless FRESH=1
.PHONY: run-disks deps-rootfs
deps-rootfs:
	@tools/build/install-deps rootfs
run-disks: deps-rootfs
	@img=$$(tools/build/mkrootfs | tail -1) && mkdir -p $(RUN_DISK_DIR) && \
	for d in $(RUN_DISKS); do \
	    if [ "$(FRESH)" = 1 ] || [ ! -f $$d ]; then \
	        cp --sparse=always $$img $$d.tmp && mv $$d.tmp $$d && echo "make run: $$d: a fresh copy of $$img"; \
	    else echo "make run: $$d: kept (FRESH=1 starts from a clean copy)"; fi; \
	done

# make debug: make run's image under QEMU's gdbstub (TCG) and gdb with the
# symbols of the microkernel and of each program in it (tools/run/debug;
# docs/debugging.md).  DEBUG_ARGS go to gdb, e.g.
#   make debug DEBUG_ARGS="--batch -ex 'break sys_call' -ex continue -ex bt"
.PHONY: debug deps-debug
deps-debug:
	@tools/build/install-deps linux debug
debug: deps-debug $(ISO_RUN) $(if $(RUN_DISKS),run-disks)
	MEM=$(RUN_MEM) DISKS="$(RUN_DISKS)" tools/run/debug --iso $(ISO_RUN) \
	    $(addprefix --symbols ,$(sort $(filter %.elf %/vmlinux,$(RUN_MODULES)))) $(DEBUG_ARGS)

# make test also runs the bench-smoke suite, which builds the native Linux
# kernel and fetches Debian's: hence the "test" packages (tools/build/install-deps)
test: deps-test
	@tools/test/run-tests

# make fuzz: the system-call fuzzer's long form (make fuzz-syscalls), then
# the parser fuzzers (make fuzz-parsers), the second also when the first
# failed; fails if either did.
# fuzz-syscalls (tests/fuzz, docs/testing.md):
# FUZZ_CALLS=N calls in all and/or FUZZ_SECONDS=S (whichever ends first;
# neither: 10,000,000 calls), FUZZ_SEED=x (random by default; printed).
# Log: build/test-logs/fuzz-long-serial.log.
# fuzz-parsers (tests/fuzz-host, tools/test/fuzz-parsers): each libFuzzer
# harness for FUZZ_SECONDS (not given: 60); new coverage is merged into
# tests/fuzz-host/corpus/ (FUZZ_MERGE=0: not), crashes kept in
# tests/fuzz-host/crashes/.  Needs clang and libclang-rt-14-dev (install-deps fuzz).
FUZZ_SEED    ?= 0x$(shell od -An -N8 -tx8 /dev/urandom | tr -d ' ')
FUZZ_CALLS   ?= $(if $(FUZZ_SECONDS),0,10000000)
FUZZ_SECONDS ?= 0
.PHONY: fuzz fuzz-syscalls fuzz-parsers fuzz-trinity deps-fuzz
fuzz:
	@rc=0; $(MAKE) --no-print-directory fuzz-syscalls || rc=$$?; \
	$(MAKE) --no-print-directory fuzz-parsers || rc=$$?; \
	$(MAKE) --no-print-directory fuzz-trinity || rc=$$?; exit $$rc
# fuzz-trinity (tests/robust/run trinity): Debian's trinity as uid 1000 in a
# Linux guest, TRINITY_CALLS system calls (default 200000) from TRINITY_SEED
# (random by default; printed).  Log: build/test-logs/fuzz-trinity/.
TRINITY_CALLS ?= 200000
TRINITY_SEED  ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fuzz-trinity:
	@mkdir -p $(BUILD)/test-logs/fuzz-trinity
	@LOGDIR=$(BUILD)/test-logs/fuzz-trinity TRINITY_CALLS=$(TRINITY_CALLS) \
	    TRINITY_SEED=$(TRINITY_SEED) tests/robust/run trinity | tee $(BUILD)/test-logs/fuzz-trinity/run.log; \
	grep -q '^robust: [0-9]* passed, 0 failed' $(BUILD)/test-logs/fuzz-trinity/run.log
deps-fuzz:
	@tools/build/install-deps fuzz
fuzz-parsers: deps-fuzz
	@$(MAKE) -s -C tests/fuzz-host run FUZZ_SECONDS=$(FUZZ_SECONDS)
fuzz-syscalls: $(KERNEL) $(FTEST) tools/build/mkiso
	tools/build/mkiso $(ISO_FUZZ) $(KERNEL) $(FTEST) "fuzz calls=$(FUZZ_CALLS) seconds=$(FUZZ_SECONDS) seed=$(FUZZ_SEED)"
	@mkdir -p $(BUILD)/test-logs
	LOG=$(BUILD)/test-logs/fuzz-long-serial.log QUIET=0 ACCEL=tcg \
	    TIMEOUT=$$(( $(FUZZ_SECONDS) + $(FUZZ_CALLS) / 5000 + 300 )) \
	    tools/run/qemu-run --iso $(ISO_FUZZ)

# --- Linux benchmarks (issue 6) -------------------------------------------------------
# make bench-linux (the Linux part of make bench; the storage rows too:
# tools/bench/run-storage, Debian's fio on the root disk image,
# build/bench/storage.jsonl, the guest's once its kernel has virtio_blk): the static benchmark
# binaries (bench/linux), the initramfs (tools/build/mkinitramfs), the native Linux
# 6.1 kernel (tools/build/native-linux), one boot each under tcg-icount ->
# build/bench/linux.jsonl (tools/bench/run-linux): native, Debian's stock
# kernel (tools/build/get-debian-kernel), and the guest on the microkernel when
# build/linux-guest/vmlinux exists (else one line says it is skipped).
# LBENCH_RUNS=N, LBENCH_ONLY=a,b, GUEST_BOOT="..." go to tools/bench/run-linux.
# Needs linux-source-6.1 bc flex bison libelf-dev libssl-dev busybox-static.
define run_linux_bench
	tools/build/native-linux
	tools/bench/run-linux native
	tools/bench/run-linux debian
	tools/bench/run-storage native
	tools/bench/run-net native both
endef
LBENCH_DIR := $(BUILD)/linux-bench
$(LBENCH_DIR)/lbench: bench/linux/lbench.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
$(LBENCH_DIR)/lbench-nop: bench/linux/nop.c
	@mkdir -p $(dir $@)
	$(CC) -static -nostdlib -O2 -Wall -Wextra -Werror -fno-stack-protector -fcf-protection=none -o $@ $<
# tools/bench/syscall-breakdown: its guest program (linked at 0x10000000, above
# the microkernel's user programs, LINK_BASE_* below 0x10000000, as the
# plugin counts by address) and the QEMU plugin that counts instructions per address
$(LBENCH_DIR)/sysbreak: bench/linux/sysbreak.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -Wl,-Ttext-segment=0x10000000 -o $@ $<
$(BUILD)/insn-profile.so: tools/bench/insn-profile/plugin.c tools/bench/insn-profile/qemu-plugin-api.h
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -Wall -Wextra -Werror -fvisibility=hidden -o $@ $<
$(LBENCH_DIR)/initramfs.cpio: $(LBENCH_DIR)/lbench $(LBENCH_DIR)/lbench-nop bench/linux/init tools/build/mkinitramfs
	tools/build/mkinitramfs $@ $(LBENCH_DIR)/lbench $(LBENCH_DIR)/lbench-nop
.PHONY: bench-linux deps-linux deps-test deps-bench
deps-linux:
	@tools/build/install-deps linux
deps-test:
	@tools/build/install-deps test
deps-bench:
	@tools/build/install-deps linux rootfs bench
bench-linux: deps-linux deps-rootfs $(LBENCH_DIR)/initramfs.cpio
	$(run_linux_bench)
	tools/bench/run-linux guest
	tools/bench/run-storage guest
	tools/bench/run-net guest both

# make bench: everything measured, in instructions under tcg-icount: the
# microkernel (tools/bench/run-ukernel -> build/bench/ukernel.jsonl), the Linux
# benchmarks on every system there is (above -> build/bench/linux.jsonl),
# the guest's boot to its shell (tools/bench/run-boot -> build/bench/boot.jsonl),
# where a guest system call's instructions go (tools/bench/syscall-breakdown ->
# build/bench/syscall-breakdown.json), TCP round trips and streams on both
# (tools/bench/run-net -> build/bench/net.jsonl) and where a guest's round
# trip goes (tools/bench/net-breakdown), the guest's disk I/O's
# (tools/bench/storage-breakdown -> build/bench/storage-breakdown.json),
# several guests at once (tools/bench/run-multi busy and pair ->
# build/bench/multi.jsonl), the boot against the guest's RAM
# (tools/bench/run-boot-mem -> build/bench/boot-mem.jsonl), then
# docs/results.md (tools/bench/make-results).  A guest that is built but fails
# does not stop the report: make bench says so and fails after it.
bench: deps-bench $(ISO_BENCH) $(LBENCH_DIR)/initramfs.cpio
	@tools/bench/run-ukernel
	$(run_linux_bench)
	@rc=0; tools/bench/run-linux guest || rc=$$?; \
	st=0; tools/bench/run-storage guest || st=$$?; \
	tools/bench/run-net guest both || st=$$?; \
	boot=0; tools/bench/run-boot || boot=$$?; \
	tools/bench/syscall-breakdown || boot=$$?; \
	tools/bench/net-breakdown && tools/bench/net-breakdown --stream || boot=$$?; \
	tools/bench/storage-breakdown || boot=$$?; \
	multi=0; tools/bench/run-multi busy || multi=$$?; tools/bench/run-multi pair || multi=$$?; \
	tools/bench/run-boot-mem || multi=$$?; \
	tools/bench/make-results; \
	if [ $$rc != 0 ]; then echo "make bench: the guest's run failed (exit $$rc; \
	build/bench/linux-guest-serial.log): no new guest rows in build/bench/linux.jsonl"; exit $$rc; fi; \
	if [ $$st != 0 ]; then echo "make bench: the guest's storage or network run failed (exit $$st; \
	build/bench/storage-guest-serial.log, build/bench/net-guest-*-serial.log): rows missing in \
	build/bench/storage.jsonl or net.jsonl"; exit $$st; fi; \
	if [ $$boot != 0 ]; then echo "make bench: the boot measurement or a breakdown failed"; exit $$boot; fi; \
	if [ $$multi != 0 ]; then echo "make bench: a several-guest run (tools/bench/run-multi) or the boot against RAM \
	(tools/bench/run-boot-mem) failed"; exit $$multi; fi

# --- results (not in `make test`) ---------------------------------------------------
# make results: docs/results.md and docs/img/*.png from build/bench/*.jsonl (made by
# `make bench`, which ends with this; `make results` alone does not measure);
# needs gnuplot-nox.
.PHONY: results
results:
	@tools/build/install-deps bench
	tools/bench/make-results

# --- experiments (not in `make test`; its short form is the suite `experiments`) -----
# make experiments: every scenario of tools/experiments/run (EXPERIMENTS="crash:console
# ..." for others; EXPERIMENTS_REPEAT=N: each N times, in shuffled orders) on both
# topologies, then EXPERIMENTS_SWIFI (1000) bit flips into each server of
# EXPERIMENTS_SWIFI_TARGETS (blk,console,net),
# build/experiments/{shared,per-guest,swifi-SERVER}.jsonl, then docs/experiments.md
# and its plots docs/img/experiments-*.png (tools/experiments/make-doc, gnuplot:
# install-deps bench).  docs/liability.md says what is measured.
EXPERIMENT_PIECES := $(KERNEL) $(ROOTTASK) $(VMM_SERVER) $(CONSOLE_SERVER) $(BLK_SERVER) \
                     $(NET_SERVER) $(TOYGUEST)
# Then the Linux guests' matrix (tools/experiments/linux: every scenario of
# its FULL list, EXPERIMENTS_LINUX="crash:net ..." for others, each
# EXPERIMENTS_LINUX_REPEAT (3) times, both topologies), build/experiments/
# linux-{shared,per-guest}.jsonl; EXPERIMENTS_LINUX_REPEAT=0 skips it.
.PHONY: experiments experiment-pieces
experiment-pieces: $(EXPERIMENT_PIECES)
experiments: $(EXPERIMENT_PIECES) experiment-linux-pieces
	@tools/build/install-deps bench
	tools/experiments/run $(if $(EXPERIMENTS),--scenarios "$(EXPERIMENTS)") \
	    --repeat $(or $(EXPERIMENTS_REPEAT),3) --swifi $(or $(EXPERIMENTS_SWIFI),1000) \
	    --swifi-targets $(or $(EXPERIMENTS_SWIFI_TARGETS),blk$(comma)console$(comma)net)
	$(if $(filter 0,$(EXPERIMENTS_LINUX_REPEAT)),,tools/experiments/linux \
	    $(if $(EXPERIMENTS_LINUX),--scenarios "$(EXPERIMENTS_LINUX)") \
	    --repeat $(or $(EXPERIMENTS_LINUX_REPEAT),3))
	tools/experiments/make-doc

clean:
	rm -rf $(BUILD)

# our objects' dependency files only (the Linux trees under build/ have their own)
-include $(shell find $(BUILD)/k $(BUILD)/u -name '*.d' -type f 2>/dev/null)

# --- guest-linux: the test program and initramfs the guest-linux suite boots ---------
# (tests/guest-linux/; tools/build/mkguest-initramfs; needs busybox-static: make deps-linux)
GL_DIR := $(BUILD)/guest-linux
$(GL_DIR)/gltest: tests/guest-linux/gltest.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -pthread -Wall -Wextra -Werror -o $@ $<
$(GL_DIR)/dynhello: tests/guest-linux/dynhello.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<
# the test initramfs also holds Debian's bash, perl, python3 and coreutils (--debian)
$(GL_DIR)/initramfs-test.cpio $(GL_DIR)/initramfs-shell.cpio: $(GL_DIR)/initramfs-%.cpio: \
		$(GL_DIR)/gltest $(GL_DIR)/dynhello tests/guest-linux/init tests/guest-linux/vdatest \
		tests/guest-linux/nettest \
		tests/guest-linux/pycheck.py \
		tools/build/mkguest-initramfs tools/build/cpio.py
	tools/build/mkguest-initramfs $@ --mode $* --gltest $(GL_DIR)/gltest --dynhello $(GL_DIR)/dynhello \
		$(if $(filter test,$*),--debian)
.PHONY: guest-initramfs
guest-initramfs: $(GL_DIR)/initramfs-test.cpio $(GL_DIR)/initramfs-shell.cpio

# The Linux guests' matrix (tools/experiments/linux, docs/liability.md "Linux
# guests"): two Linux guests run tools/experiments/lwork.c (console, CPU, disk
# and one TCP connection to each other) in the experiment initramfs.
EXL_DIR := $(BUILD)/experiments-linux
$(EXL_DIR)/lwork: tools/experiments/lwork.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
$(EXL_DIR)/initramfs.cpio: $(EXL_DIR)/lwork $(GL_DIR)/gltest $(GL_DIR)/dynhello \
		tests/guest-linux/init tests/guest-linux/vdatest tests/guest-linux/nettest \
		tools/build/mkguest-initramfs tools/build/cpio.py
	tools/build/mkguest-initramfs $@ --mode shell --gltest $(GL_DIR)/gltest \
		--dynhello $(GL_DIR)/dynhello --extra $(EXL_DIR)/lwork:bin/lwork
.PHONY: experiment-linux-pieces
experiment-linux-pieces: $(EXPERIMENT_PIECES) $(LINUX_GUEST) $(EXL_DIR)/initramfs.cpio

# --- robust: trinity, stress-ng soak, isolation under load (tests/robust) ----------
# The robust initramfs: the test initramfs' programs (no --debian) plus Debian's
# trinity and stress-ng with their libraries (from the root disk image's
# packages: tests/robust/mksysroot), lbench and tests/robust/rbtool; /init's
# mode `robust` runs tests/robust/guest (docs/testing.md).
RB_DIR := $(BUILD)/robust
$(RB_DIR)/rbtool: tests/robust/rbtool.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
$(RB_DIR)/sysroot.key: tools/build/rootfs/packages tests/robust/mksysroot
	tests/robust/mksysroot >/dev/null
# make soak: two guests under stress-ng for SOAK_SECONDS of wall time (600),
# then the isolation check with HOSTILE_SECONDS (10) of hostile load and the
# oomcopy check (tests/robust/run soak isolation oomcopy).  Logs: build/test-logs/soak/.
SOAK_SECONDS    ?= 600
HOSTILE_SECONDS ?= 10
.PHONY: soak
soak:
	@mkdir -p $(BUILD)/test-logs/soak
	@LOGDIR=$(BUILD)/test-logs/soak SOAK_SECONDS=$(SOAK_SECONDS) HOSTILE_SECONDS=$(HOSTILE_SECONDS) \
	    ISOLATION_DELAY=3 tests/robust/run soak isolation oomcopy | tee $(BUILD)/test-logs/soak/run.log; \
	grep -q '^robust: [0-9]* passed, 0 failed' $(BUILD)/test-logs/soak/run.log
$(GL_DIR)/initramfs-robust.cpio: $(GL_DIR)/gltest $(GL_DIR)/dynhello $(RB_DIR)/rbtool \
		$(RB_DIR)/sysroot.key $(LBENCH_DIR)/lbench $(LBENCH_DIR)/lbench-nop \
		tests/guest-linux/init tests/guest-linux/vdatest tests/guest-linux/nettest \
		tests/robust/guest tests/robust/passwd tests/robust/group \
		tools/build/mkguest-initramfs tools/build/cpio.py
	tools/build/mkguest-initramfs $@ --mode test --gltest $(GL_DIR)/gltest --dynhello $(GL_DIR)/dynhello \
		--extra $(RB_DIR)/rbtool:bin/rbtool --extra tests/robust/guest:bin/robust-guest \
		--extra $(LBENCH_DIR)/lbench:bin/lbench --extra $(LBENCH_DIR)/lbench-nop:bin/lbench-nop \
		--extra tests/robust/passwd:etc/passwd --extra tests/robust/group:etc/group \
		--sysroot $(RB_DIR)/sysroot --sysroot-program /usr/bin/trinity \
		--sysroot-program /usr/bin/stress-ng
