#!/usr/bin/env bash
# Runs every test of the project.
#
#   scripts/test.sh            # all stages
#   scripts/test.sh host loom  # some of: host target loom miri zephyr
#
# host:   cargo test of the host workspace (crates/): unit, doc, stress,
#         trybuild UI, driver-logic tests, short model-based fuzz run.
# target: the no_std crates build for thumbv7m-none-eabi with no warnings,
#         and clippy is clean.
# loom:   racefree's loom models (exhaustive interleavings).
# miri:   the Miri subset named in README (skipped, saying so, without Miri).
# zephyr: twister on qemu_cortex_m3 and on qemu_riscv64/qemu_virt_riscv64/smp
#         (one run per toolchain): every suite under tests/ and the demo;
#         each platform skipped, saying which and why, when no Zephyr
#         workspace, toolchain or QEMU for it is found.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

stages=("$@")
[ "${#stages[@]}" -gt 0 ] || stages=(host target loom miri zephyr)

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
	(cd crates && RUSTFLAGS="--cfg loom" cargo test -p racefree --release \
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

# twister_on LABEL ENV PLATFORM... : one twister run with one toolchain.
twister_on() {
	local label=$1 toolchain_env=$2
	shift 2
	local out
	out=$(mktemp -d "${TMPDIR:-/tmp}/event-counter-twister-$label.XXXXXX")
	echo "Zephyr: twister on $* with $toolchain_env"
	# The benchmark images (tag `benchmark`) are scripts/bench.sh's, not tests.
	# shellcheck disable=SC2086  # the env words are meant to split
	env $toolchain_env "$ZEPHYR_BASE/scripts/twister" -T . "$@" -e benchmark -O "$out" \
		--inline-logs -v -j 2
	echo "twister output ($label): $out"
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
	local ran=0

	# Cortex-M: every suite and the demo on qemu_cortex_m3; the demo is also
	# built for nrf52840dk when the workspace has its HAL (twister only
	# builds for hardware platforms).
	if [ -z "$EVENT_COUNTER_ENV_CORTEX_M3" ]; then
		echo "Zephyr: qemu_cortex_m3 SKIPPED - no Arm toolchain (arm-none-eabi-gcc or the Zephyr SDK)"
	elif ! command -v qemu-system-arm >/dev/null 2>&1; then
		echo "Zephyr: qemu_cortex_m3 SKIPPED - qemu-system-arm not installed"
	else
		local platforms=(-p qemu_cortex_m3)
		if [ -d "$ZEPHYR_BASE/../modules/hal/nordic/nrfx" ]; then
			platforms+=(-p nrf52840dk/nrf52840)
		else
			echo "Zephyr: hal_nordic not in the workspace, not build-testing nrf52840dk"
		fi
		twister_on cortex-m "$EVENT_COUNTER_ENV_CORTEX_M3" "${platforms[@]}"
		ran=$((ran + 1))
	fi

	# RISC-V SMP: every suite and the demo on two truly parallel CPUs.
	if [ -z "$EVENT_COUNTER_ENV_RISCV64_SMP" ]; then
		echo "Zephyr: qemu_riscv64/qemu_virt_riscv64/smp SKIPPED - no RISC-V toolchain" \
			"(riscv64-unknown-elf-gcc or the Zephyr SDK)"
	elif ! command -v qemu-system-riscv64 >/dev/null 2>&1; then
		echo "Zephyr: qemu_riscv64/qemu_virt_riscv64/smp SKIPPED - qemu-system-riscv64 not installed"
	else
		twister_on riscv64-smp "$EVENT_COUNTER_ENV_RISCV64_SMP" \
			-p qemu_riscv64/qemu_virt_riscv64/smp
		ran=$((ran + 1))
	fi
	echo "Zephyr: twister ran on $ran of 2 platform toolchains"
}

for s in "${stages[@]}"; do
	"stage_$s"
done
banner "all requested stages passed: ${stages[*]}"
