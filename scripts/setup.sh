#!/usr/bin/env bash
# Installs the prerequisites on Debian or Ubuntu: the host test tools always;
# the Zephyr build tools (Debian's arm-none-eabi toolchain, cmake, ninja, dtc,
# libclang for bindgen, QEMU, west and Zephyr's Python requirements) when a
# Zephyr workspace is found (scripts/zephyr-env.sh) or --zephyr is given.
#
#   scripts/setup.sh [--zephyr]
set -euo pipefail
cd "$(dirname "$0")/.."

want_zephyr=0
[ "${1:-}" = "--zephyr" ] && want_zephyr=1
# shellcheck source=scripts/zephyr-env.sh
source scripts/zephyr-env.sh
[ "$EVENT_COUNTER_ZEPHYR_FOUND" = 1 ] && want_zephyr=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

echo "== Rust: Cortex-M and RISC-V targets, nightly Miri (for the UB check)"
rustup target add thumbv7m-none-eabi thumbv7em-none-eabi riscv64imac-unknown-none-elf
if ! cargo +nightly miri --version >/dev/null 2>&1; then
	rustup toolchain install nightly --profile minimal --component miri,rust-src ||
		echo "setup: nightly Miri unavailable; scripts/test.sh will say it skipped Miri"
fi

if [ "$want_zephyr" = 1 ]; then
	echo "== Zephyr build tools"
	# Cortex-M (qemu_cortex_m3, nrf52840dk) and RISC-V SMP
	# (qemu_riscv64/qemu_virt_riscv64/smp) toolchains and emulators.
	need=()
	for pkg in gcc-arm-none-eabi cmake ninja-build device-tree-compiler libclang-dev \
		qemu-system-arm gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc; do
		dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
	done
	if [ "${#need[@]}" -gt 0 ]; then
		as_root apt-get update -qq
		# A newer qemu-utils than the release's (some images carry one from
		# backports) blocks the release's qemu-system-*: install the matching one.
		extra=()
		want=$(apt-cache policy qemu-system-arm | awk '/Candidate:/ {print $2}')
		have=$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)
		if [ -n "$have" ] && [ -n "$want" ] && [ "$have" != "$want" ]; then
			extra=(--allow-downgrades "qemu-utils=$want")
		fi
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" "${extra[@]}"
	fi
	reqs=(west)
	if [ "$EVENT_COUNTER_ZEPHYR_FOUND" = 1 ]; then
		for r in base build-test run-test; do
			reqs+=(-r "$ZEPHYR_BASE/scripts/requirements-$r.txt")
		done
	fi
	python3 -m pip install -q "${reqs[@]}"
fi
echo "setup: done"
