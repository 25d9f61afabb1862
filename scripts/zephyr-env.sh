# shellcheck shell=bash
# Source this file: finds a Zephyr workspace and a toolchain the way Zephyr
# users expect, and exports what west and twister need.
#
#   1. ZEPHYR_BASE, if set;
#   2. else the west workspace this repository sits in (`west topdir`);
#   3. else ~/zephyrproject, the Getting Started default.
#
# Toolchain: an already set ZEPHYR_TOOLCHAIN_VARIANT is kept; else the Zephyr
# SDK if one is registered or ZEPHYR_SDK_INSTALL_DIR is set; else Debian's
# arm-none-eabi-gcc as gnuarmemb (the project's CMake handles its quirks).
#
# Sets EVENT_COUNTER_ZEPHYR_FOUND=1 and EVENT_COUNTER_ZEPHYR_FROM (how it was
# found), or EVENT_COUNTER_ZEPHYR_FOUND=0.
#
# Per platform (one twister run per toolchain, scripts/test.sh), the
# toolchain environment that builds it, or empty when none is installed:
#   EVENT_COUNTER_ENV_CORTEX_M3    for qemu_cortex_m3
#   EVENT_COUNTER_ENV_RISCV64_SMP  for qemu_riscv64/qemu_virt_riscv64/smp
# each a list of VAR=value words for `env` (the Zephyr SDK, when found,
# builds both).

_ec_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EVENT_COUNTER_ZEPHYR_FOUND=0
EVENT_COUNTER_ZEPHYR_FROM=""

_ec_has_zephyr() { [ -f "$1/VERSION" ] && [ -f "$1/scripts/twister" ]; }

if [ -n "${ZEPHYR_BASE:-}" ] && _ec_has_zephyr "$ZEPHYR_BASE"; then
	EVENT_COUNTER_ZEPHYR_FROM="ZEPHYR_BASE"
elif command -v west >/dev/null 2>&1 && _ec_top=$(cd "$_ec_repo" && west topdir 2>/dev/null) &&
	_ec_has_zephyr "$_ec_top/zephyr"; then
	export ZEPHYR_BASE="$_ec_top/zephyr"
	EVENT_COUNTER_ZEPHYR_FROM="west workspace $_ec_top"
elif _ec_has_zephyr "$HOME/zephyrproject/zephyr"; then
	export ZEPHYR_BASE="$HOME/zephyrproject/zephyr"
	EVENT_COUNTER_ZEPHYR_FROM="~/zephyrproject"
fi

if [ -n "$EVENT_COUNTER_ZEPHYR_FROM" ]; then
	EVENT_COUNTER_ZEPHYR_FOUND=1
	export ZEPHYR_BASE
	if [ -z "${ZEPHYR_TOOLCHAIN_VARIANT:-}" ]; then
		if [ -n "${ZEPHYR_SDK_INSTALL_DIR:-}" ] || [ -d "$HOME/.cmake/packages/Zephyr-sdk" ]; then
			export ZEPHYR_TOOLCHAIN_VARIANT=zephyr
		elif command -v arm-none-eabi-gcc >/dev/null 2>&1; then
			export ZEPHYR_TOOLCHAIN_VARIANT=gnuarmemb
			GNUARMEMB_TOOLCHAIN_PATH=$(dirname "$(dirname "$(command -v arm-none-eabi-gcc)")")
			export GNUARMEMB_TOOLCHAIN_PATH
		fi
	fi
fi
EVENT_COUNTER_ENV_CORTEX_M3=""
EVENT_COUNTER_ENV_RISCV64_SMP=""
if [ "${ZEPHYR_TOOLCHAIN_VARIANT:-}" = zephyr ]; then
	EVENT_COUNTER_ENV_CORTEX_M3="ZEPHYR_TOOLCHAIN_VARIANT=zephyr"
	EVENT_COUNTER_ENV_RISCV64_SMP="ZEPHYR_TOOLCHAIN_VARIANT=zephyr"
else
	if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
		EVENT_COUNTER_ENV_CORTEX_M3="ZEPHYR_TOOLCHAIN_VARIANT=gnuarmemb"
		EVENT_COUNTER_ENV_CORTEX_M3+=" GNUARMEMB_TOOLCHAIN_PATH=$(dirname "$(dirname "$(command -v arm-none-eabi-gcc)")")"
	fi
	# Debian's gcc-riscv64-unknown-elf, as Zephyr's generic cross-compile
	# toolchain (cmake/ and drivers/CMakeLists.txt handle its quirks).
	if command -v riscv64-unknown-elf-gcc >/dev/null 2>&1; then
		EVENT_COUNTER_ENV_RISCV64_SMP="ZEPHYR_TOOLCHAIN_VARIANT=cross-compile"
		EVENT_COUNTER_ENV_RISCV64_SMP+=" CROSS_COMPILE=$(dirname "$(command -v riscv64-unknown-elf-gcc)")/riscv64-unknown-elf-"
	fi
fi
unset _ec_repo _ec_top
