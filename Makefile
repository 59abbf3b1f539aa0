# The project's entry points. `make run` boots our guest kernel; `make test`
# runs everything (lint, host unit tests, KVM integration tests).

SHELL        := /bin/bash
CARGO        ?= cargo
GUEST_TARGET := x86_64-unknown-none
GUEST_OUT    := target/guest/$(GUEST_TARGET)/release
VMM          := target/release/vmm
GUEST_KERNEL := $(GUEST_OUT)/guest-kernel
TINY_GUEST   := $(GUEST_OUT)/tiny-guest
GUEST_CRATES := guest-kernel/kernel guest-kernel/tiny guest-kernel/user
INITRAMFS    := target/guest/initramfs.cpio

# `make run` settings: make run CPUS=2 MEMORY=1G CMDLINE="selftest=run"
MEMORY  ?= 256M
CPUS    ?= 1
CMDLINE ?= console=ttyS0
TIMEOUT ?= 120
# `make bench` repetitions per measurement.
RUNS    ?= 15

LINUX_RIG := integration/scripts/linux-guest.sh

.PHONY: all setup vmm guest user build run test lint unit bench fuzz clean linux-guest linux-stock-check referee qat-firmware

all: build

## setup: the Rust target and components the build needs (idempotent),
## and musl-gcc for the C user programs.
setup:
	@command -v musl-gcc >/dev/null || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools)
	@rustup target list --installed | grep -qx '$(GUEST_TARGET)' || rustup target add $(GUEST_TARGET)
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

## vmm: the VMM binary, target/release/vmm.
vmm: setup
	$(CARGO) build --release -p vmm

## guest: our guest kernel, the tiny PVH guest (bare-metal ELFs), the
## user programs and their initramfs (target/guest/initramfs.cpio).
guest: setup
	@for crate in $(GUEST_CRATES); do \
	  $(CARGO) build --release --manifest-path $$crate/Cargo.toml \
	    --target $(GUEST_TARGET) --target-dir target/guest || exit 1; \
	done
	bash guest-kernel/user/mkinitramfs.sh $(GUEST_OUT) $(INITRAMFS)

## user: only the user programs and the initramfs.
user: setup
	$(CARGO) build --release --manifest-path guest-kernel/user/Cargo.toml \
	  --target $(GUEST_TARGET) --target-dir target/guest
	bash guest-kernel/user/mkinitramfs.sh $(GUEST_OUT) $(INITRAMFS)

build: vmm guest

## run: boot our guest kernel; its self-tests decide the exit code.
run: build
	$(VMM) --kernel $(GUEST_KERNEL) --memory $(MEMORY) --cpus $(CPUS) \
	  --cmdline "$(CMDLINE)" --timeout $(TIMEOUT)

## linux-guest: Debian trixie's 6.12 kernel and static busybox, fetched with
## apt into ~/.cache/vmm (reused once there; VMM_LINUX_REFRESH=1 refetches).
linux-guest:
	bash $(LINUX_RIG) fetch

## referee: Linux 6.12 from Debian's source with the 6.8 drivers built in and
## our kvm-pvm patch (integration/referee/), cached in ~/.cache/vmm/referee:
## a few minutes cold, instant when nothing changed.
referee:
	bash integration/scripts/referee.sh build

## qat-firmware: qat_420xx.bin and qat_420xx_mmp.bin from Debian trixie's
## firmware-intel-misc (non-free-firmware), for the referee's qat_420xx
## driver; cached in ~/.cache/vmm/qat-firmware, never committed.
qat-firmware:
	bash integration/scripts/qat-firmware.sh fetch

## linux-stock-check: the stock kernel with a busybox /init, timed to each
## milestone (slow on kvm-pvm: ~15 minutes to Run /init).
linux-stock-check: build
	bash integration/scripts/linux-stock-check.sh

## lint: rustfmt and clippy (warnings are errors) on host and guest code.
lint: setup
	$(CARGO) fmt --all -- --check
	@for crate in $(GUEST_CRATES); do \
	  $(CARGO) fmt --manifest-path $$crate/Cargo.toml -- --check || exit 1; \
	done
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@for crate in $(GUEST_CRATES); do \
	  $(CARGO) clippy --release --manifest-path $$crate/Cargo.toml \
	    --target $(GUEST_TARGET) --target-dir target/guest -- -D warnings || exit 1; \
	done

## test: everything: lint, unit tests, and guests booted under KVM; ends
## with one line totalling every test binary's results.
test: build lint linux-guest referee qat-firmware
	@set -o pipefail; log=$$(mktemp); \
	$(CARGO) test --workspace 2>&1 | tee $$log; status=$$?; \
	awk '/^test result:/ { p += $$4; f += $$6 } \
	  END { printf "summary: %d passed, %d failed\n", p, f }' $$log; \
	rm -f $$log; exit $$status

## bench: boot times and RSS against QEMU on the same ELFs, then both on
## Debian's stock kernel (installs QEMU; the Linux part takes minutes).
bench: build linux-guest referee
	@command -v qemu-system-x86_64 >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86)
	bash $(LINUX_RIG) initramfs integration/linux/poweroff.sh target/bench-poweroff.cpio
	$(CARGO) run --release -q -p integration --bin boot-bench -- \
	  --runs $(RUNS) --vmm $(VMM) --tiny $(TINY_GUEST) --kernel $(GUEST_KERNEL) \
	  --linux $$(bash $(LINUX_RIG) path vmlinux) \
	  --referee $$(bash integration/scripts/referee.sh path vmlinux) \
	  --referee-initrd target/bench-poweroff.cpio
	$(CARGO) run --release -q -p integration --bin blk-exits -- \
	  --vmm $(VMM) --kernel $(GUEST_KERNEL) --disk target/bench-blk-exits.img
	$(CARGO) run --release -q -p integration --bin accel-exits -- \
	  --vmm $(VMM) --kernel $(GUEST_KERNEL)
	$(CARGO) run --release -q -p devices --example blk_bench
	$(CARGO) run --release -q -p devices --example iaa_bench
	$(CARGO) run --release -q -p bpf-tool --example bpf_bench
	$(CARGO) run --release -q -p devices --example qat_bench
	$(CARGO) run --release -q -p guest-mm --example mm_bench
	$(VMM) --kernel $(GUEST_KERNEL) --cmdline "console=ttyS0 selftest=mmbench" --timeout 60 | grep '^mmbench'
	$(VMM) --kernel $(GUEST_KERNEL) --initramfs $(INITRAMFS) --timeout 60 \
	  --cmdline "rdinit=/bin/thp -- figures" | grep '^figure:'

## fuzz: the BPF verifier's soundness fuzzer at length (FUZZ_CASES programs;
## every accepted one must run clean in the checked interpreter).
FUZZ_CASES ?= 200000
fuzz:
	FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test --release -p guest-bpf --test soundness -- --nocapture

clean:
	$(CARGO) clean
