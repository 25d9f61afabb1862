#!/usr/bin/env bash
# Installs the prerequisites on Debian or Ubuntu: the host test tools always;
# the Zephyr build tools (Debian's arm-none-eabi and riscv64-unknown-elf
# toolchains with picolibc, cmake, ninja, dtc, libclang for bindgen, QEMU for
# Arm and RISC-V, west and Zephyr's Python requirements) when a Zephyr
# workspace is found (scripts/zephyr-env.sh) or --zephyr is given.
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

echo "== Rust: thumbv7m-none-eabi and riscv64imac-unknown-none-elf targets, nightly Miri"
rustup target add thumbv7m-none-eabi thumbv7em-none-eabi riscv64imac-unknown-none-elf
if ! cargo +nightly miri --version >/dev/null 2>&1; then
	rustup toolchain install nightly --profile minimal --component miri,rust-src ||
		echo "setup: nightly Miri unavailable; scripts/test.sh will say it skipped Miri"
fi

if [ "$want_zephyr" = 1 ]; then
	echo "== Zephyr build tools"
	need=()
	for pkg in gcc-arm-none-eabi gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf cmake \
		ninja-build device-tree-compiler libclang-dev qemu-system-arm qemu-system-misc; do
		dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
	done
	if [ "${#need[@]}" -gt 0 ]; then
		as_root apt-get update -qq
		# Some images carry qemu-utils from bookworm-backports, which the
		# bookworm qemu-system-* packages conflict with: take bookworm's.
		downgrade=()
		case " ${need[*]} " in
		*" qemu-system-"*)
			if apt-cache policy qemu-utils 2>/dev/null | grep -q bookworm; then
				downgrade=(--allow-downgrades qemu-utils/bookworm)
			fi
			;;
		esac
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${downgrade[@]}" \
			"${need[@]}"
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
