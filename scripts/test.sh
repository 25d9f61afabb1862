#!/usr/bin/env bash
# Runs every test of the project.
#
#   scripts/test.sh            # all stages
#   scripts/test.sh host loom  # some of: host target loom miri zephyr checkout
#
# host:   cargo test of the host workspace (crates/): unit, doc, stress,
#         trybuild UI, driver-logic tests, short model-based fuzz run.
# target: the no_std crates build for thumbv7m-none-eabi with no warnings,
#         and clippy is clean.
# loom:   racefree's loom models (exhaustive interleavings).
# miri:   the Miri subset named in README (skipped, saying so, without Miri).
# zephyr: twister on qemu_cortex_m3 (+ nrf52840dk build-only) and on
#         qemu_riscv64/qemu_virt_riscv64/smp, one run per toolchain: every suite
#         under tests/, the demo and the C sample; each platform is skipped,
#         saying why, when its toolchain is missing, and all of it when no
#         Zephyr workspace is found.
# checkout: the demo builds from a second clone while a first one is the
#         west workspace's manifest repository (scripts/second_checkout.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

stages=("$@")
[ "${#stages[@]}" -gt 0 ] || stages=(host target loom miri zephyr checkout)

banner() { printf '\n===== %s =====\n' "$*"; }

stage_host() {
	banner "host tests (cargo test, release)"
	(cd crates && cargo test --workspace --release --all-features)
	banner "README's bad-input table matches the bad_input suite"
	python3 scripts/bad_input_table.py --check
}

stage_target() {
	banner "no_std build for thumbv7m-none-eabi, clippy"
	(cd crates && RUSTFLAGS="-D warnings" cargo build -p racefree -p event-counter \
		--target thumbv7m-none-eabi --target-dir target/thumbv7m)
	(cd crates && cargo clippy --workspace --all-targets --features event-counter/std -- -D warnings)
}

stage_loom() {
	banner "loom models"
	(cd crates && RUSTFLAGS="--cfg loom" cargo test -p racefree --release --features lockdep \
		--target-dir target/loom --test 'loom_*')
}

stage_miri() {
	banner "Miri (undefined behaviour, leaks)"
	if ! cargo +nightly miri --version >/dev/null 2>&1; then
		echo "Miri: SKIPPED - no nightly toolchain with Miri here (scripts/setup.sh installs it)"
		return 0
	fi
	# The CI subset: racefree's unsafe-heavy modules (the whole --lib run
	# takes ~6 min here) and the driver logic's unit and device tests.
	(cd crates && cargo +nightly miri test --target-dir target/miri -p racefree --features std \
		--lib -- revocable:: gate:: callout:: once:: registry:: seed003::)
	(cd crates && cargo +nightly miri test --target-dir target/miri \
		-p event-counter --features std --lib --test device)
}

stage_zephyr() {
	banner "Zephyr: twister on qemu_cortex_m3 and qemu_riscv64/qemu_virt_riscv64/smp"
	# shellcheck source=scripts/zephyr-env.sh
	source scripts/zephyr-env.sh
	if [ "$EVENT_COUNTER_ZEPHYR_FOUND" != 1 ]; then
		echo "Zephyr: SKIPPED - no Zephyr workspace found (ZEPHYR_BASE unset, this repository"
		echo "is not inside a west workspace, and ~/zephyrproject/zephyr does not exist)."
		echo "See README, 'Quickstart for west users', to create one."
		return 0
	fi
	echo "Zephyr: found through $EVENT_COUNTER_ZEPHYR_FROM at $ZEPHYR_BASE" \
		"($(cat "$ZEPHYR_BASE/VERSION" | tr '\n' ' '))"
	local out ran=0
	out=$(mktemp -d "${TMPDIR:-/tmp}/event-counter-twister.XXXXXX")
	# Twister's own cleanup keeps every configuration's logs and the whole
	# build of a failing one: the build trees of a passing run (12 GB for both
	# platforms, mostly Rust target directories) filled the disk of a machine
	# that runs this at every stop.
	local keep_failures=(--runtime-artifact-cleanup pass)
	# Every suite under tests/, the demo (sample.yaml at the root) and the C
	# sample, on each platform their yaml allows. The benchmark images (tag
	# `benchmark`) are scripts/bench.sh's, not tests. One twister run per
	# toolchain.

	# Cortex-M: qemu_cortex_m3 runs; nrf52840dk is build-tested when the
	# workspace has its HAL (twister only builds for hardware platforms).
	if [ "${ZEPHYR_TOOLCHAIN_VARIANT:-}" = zephyr ] || command -v arm-none-eabi-gcc >/dev/null 2>&1; then
		local platforms=(-p qemu_cortex_m3)
		if [ -d "$ZEPHYR_BASE/../modules/hal/nordic/nrfx" ]; then
			platforms+=(-p nrf52840dk/nrf52840)
		else
			echo "Zephyr: hal_nordic not in the workspace, not build-testing nrf52840dk"
		fi
		echo "Zephyr: Cortex-M with toolchain ${ZEPHYR_TOOLCHAIN_VARIANT:-unset}"
		"$ZEPHYR_BASE/scripts/twister" -T . "${platforms[@]}" -e benchmark -O "$out/arm" \
			--inline-logs -v "${keep_failures[@]}"
		ran=$((ran + 1))
	else
		echo "Zephyr: SKIPPED qemu_cortex_m3 - no Arm toolchain (arm-none-eabi-gcc or the Zephyr SDK)"
	fi

	# RISC-V SMP, two CPUs: QEMU runs them on two host threads, truly parallel.
	local riscv_env=()
	if [ "${ZEPHYR_TOOLCHAIN_VARIANT:-}" = zephyr ]; then
		riscv_env=(ZEPHYR_TOOLCHAIN_VARIANT=zephyr)
	elif [ -n "${EVENT_COUNTER_RISCV_CROSS_COMPILE:-}" ]; then
		riscv_env=(ZEPHYR_TOOLCHAIN_VARIANT=cross-compile
			CROSS_COMPILE="$EVENT_COUNTER_RISCV_CROSS_COMPILE")
	fi
	if [ "${#riscv_env[@]}" -eq 0 ]; then
		echo "Zephyr: SKIPPED qemu_riscv64/qemu_virt_riscv64/smp - no RISC-V toolchain" \
			"(riscv64-unknown-elf-gcc or the Zephyr SDK; scripts/setup.sh --zephyr installs it)"
	elif ! command -v qemu-system-riscv64 >/dev/null 2>&1; then
		echo "Zephyr: SKIPPED qemu_riscv64/qemu_virt_riscv64/smp - no qemu-system-riscv64"
	elif ! rustup target list --installed 2>/dev/null | grep -qx riscv64imac-unknown-none-elf; then
		echo "Zephyr: SKIPPED qemu_riscv64/qemu_virt_riscv64/smp - Rust target" \
			"riscv64imac-unknown-none-elf not installed"
	else
		echo "Zephyr: RISC-V SMP with ${riscv_env[*]}"
		# One configuration per two host cores (twister runs as many as
		# cores by default): a two-CPU guest is truly parallel only while its
		# two host threads have a core each. Beside a second guest or a build
		# they are descheduled at any instruction, which stretches kernel
		# windows of a few instructions, such as Zephyr v4.0's stale thread
		# timeout (README, "Zephyr v4.0 bug found on SMP"), to a host time
		# slice.
		local smp_jobs=$(($(nproc) / 2))
		[ "$smp_jobs" -ge 1 ] || smp_jobs=1
		env "${riscv_env[@]}" "$ZEPHYR_BASE/scripts/twister" -T . \
			-p qemu_riscv64/qemu_virt_riscv64/smp -e benchmark -O "$out/riscv" --inline-logs -v \
			-j "$smp_jobs" "${keep_failures[@]}"
		ran=$((ran + 1))
	fi
	echo "twister output: $out ($ran platform run(s))"
}

stage_checkout() {
	banner "Zephyr: the demo from a second checkout"
	scripts/second_checkout.sh
}

for s in "${stages[@]}"; do
	"stage_$s"
done
banner "all requested stages passed: ${stages[*]}"
