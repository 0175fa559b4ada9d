# ukvm: a small IPC microkernel hosting paravirtualised Linux.
#   make run    install what is needed, build, boot in QEMU (interactive)
#   make test   host unit tests, then QEMU test images; ends "N passed, N failed"
#   make bench  instruction counts under QEMU TCG -icount (build/bench/*.jsonl)

BUILD   := build
CC      := gcc
LD      := ld
NASM    := nasm
ACCEL   ?= tcg

COMMON_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pie -fno-pic \
                 -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
                 -Ilibipc/include
KCFLAGS := $(COMMON_CFLAGS) -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
           -Iukernel/include -Iukernel/arch/x86/include
UCFLAGS := $(COMMON_CFLAGS) -mno-sse3 -fno-tree-vectorize -Itests/lib
LDFLAGS := -nostdlib -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments

KSRCS  := $(wildcard ukernel/kernel/*.c ukernel/arch/x86/*.c) libipc/src/elf.c libipc/src/format.c
KASMS  := ukernel/arch/x86/boot.asm ukernel/arch/x86/entry.asm
KOBJS  := $(patsubst %.c,$(BUILD)/k/%.o,$(KSRCS)) $(patsubst %.asm,$(BUILD)/k/%.o,$(KASMS))
KERNEL := $(BUILD)/ukernel.elf

LIBIPC_SRCS := libipc/src/rt.c libipc/src/elf.c libipc/src/spawn.c libipc/src/format.c libipc/src/loader.c
LIBIPC      := $(BUILD)/libipc.a
LIBIPC_OBJS := $(patsubst %.c,$(BUILD)/u/%.o,$(LIBIPC_SRCS))

ROOTTASK := $(BUILD)/roottask.elf
KTEST    := $(BUILD)/ktest.elf
VTEST    := $(BUILD)/vtest.elf
BENCH_UK := $(BUILD)/bench-ukernel.elf

ISO_RUN  := $(BUILD)/ukvm.iso
ISO_TEST := $(BUILD)/ktest.iso
ISO_VTEST := $(BUILD)/vtest.iso
ISO_BENCH := $(BUILD)/bench.iso

.PHONY: all run test bench deps clean unit-test ktest-run
all: $(ISO_RUN) $(ISO_TEST) $(ISO_VTEST) $(ISO_BENCH)

# --- set-up -----------------------------------------------------------------------
deps:
	@tools/install-deps

# --- kernel -----------------------------------------------------------------------
$(BUILD)/k/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/k/%.o: %.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g $< -o $@
$(KERNEL): $(KOBJS) ukernel/arch/x86/linker.ld
	$(LD) $(LDFLAGS) -T ukernel/arch/x86/linker.ld -o $@ $(KOBJS)

# --- user level -------------------------------------------------------------------
$(BUILD)/u/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -MMD -MP -c $< -o $@
$(LIBIPC): $(LIBIPC_OBJS)
	rm -f $@ && ar rcs $@ $^
define user_program
$(1): $(patsubst %.c,$(BUILD)/u/%.o,$(2)) $(LIBIPC) libipc/user.ld
	$(LD) $(LDFLAGS) -T libipc/user.ld -o $$@ $(patsubst %.c,$(BUILD)/u/%.o,$(2)) $(LIBIPC)
endef
$(eval $(call user_program,$(ROOTTASK),$(wildcard roottask/*.c)))
KTEST_SRCS ?= tests/lib/ktest_main.c $(wildcard tests/ukernel/*.c)
VTEST_SRCS ?= tests/lib/ktest_main.c $(wildcard tests/vcpu/*.c)
$(eval $(call user_program,$(KTEST),$(KTEST_SRCS)))
$(eval $(call user_program,$(VTEST),$(VTEST_SRCS)))
$(eval $(call user_program,$(BENCH_UK),$(wildcard bench/ukernel/*.c)))

# --- images -----------------------------------------------------------------------
$(ISO_RUN): $(KERNEL) $(ROOTTASK) tools/mkiso
	tools/mkiso $@ $(KERNEL) $(ROOTTASK) "roottask"
$(ISO_TEST): $(KERNEL) $(KTEST) $(ROOTTASK) tools/mkiso
	tools/mkiso $@ $(KERNEL) $(KTEST) "ktest" $(ROOTTASK) "second-module example"
$(ISO_VTEST): $(KERNEL) $(VTEST) tools/mkiso
	tools/mkiso $@ $(KERNEL) $(VTEST) "vtest"
$(ISO_BENCH): $(KERNEL) $(BENCH_UK) tools/mkiso
	tools/mkiso $@ $(KERNEL) $(BENCH_UK) "bench-ukernel"

# --- run, test, bench --------------------------------------------------------------
run: deps $(ISO_RUN)
	INTERACTIVE=1 ACCEL=$(ACCEL) tools/qemu-run --iso $(ISO_RUN)

test: deps
	@tools/run-tests

bench: deps $(ISO_BENCH)
	@tools/run-bench

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
