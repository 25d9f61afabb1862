#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the benchmarks of tests/benchmarks on qemu_cortex_m3 and writes
# BENCHMARKS.md at the repository root:
#
#   scripts/bench.sh
#
# 1. twister builds and runs every benchmark app (perf image: figures 1-4;
#    footprint images: figure 5);
# 2. QEMU boots the same perf images again, with the command of their
#    run_qemu target but the console on a file (determinism check; twister
#    --test-only executes nothing on QEMU in Zephyr v4.0);
# 3. arm-none-eabi-size measures the footprint images;
# 4. scripts/bench_report.py writes BENCHMARKS.md from those outputs only.
#
# Zephyr is found as scripts/zephyr-env.sh does (ZEPHYR_BASE, else the west
# workspace, else ~/zephyrproject). Build output goes to $BENCH_OUT (default
# ${TMPDIR:-/tmp}/event-counter-bench); a second invocation rebuilds
# incrementally. Exits non-zero if a benchmark fails or the two runs differ.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# shellcheck source=scripts/zephyr-env.sh
source scripts/zephyr-env.sh
if [ "$EVENT_COUNTER_ZEPHYR_FOUND" != 1 ]; then
	echo "bench: no Zephyr workspace found (see README, 'Quickstart for west users')" >&2
	exit 1
fi

out=${BENCH_OUT:-${TMPDIR:-/tmp}/event-counter-bench}
tw="$out/twister"
mkdir -p "$out"
platform=qemu_cortex_m3
twister=("$ZEPHYR_BASE/scripts/twister" -T tests/benchmarks -p "$platform" -O "$tw"
	--inline-logs --no-clean -j 1)

echo "bench: Zephyr $ZEPHYR_BASE, toolchain ${ZEPHYR_TOOLCHAIN_VARIANT:-?}, output $out"
"${twister[@]}"
perf_dir=$(find "$tw" -type d -name benchmarks.event_counter.perf -print -quit)
[ -n "$perf_dir" ] || { echo "bench: perf image not found under $tw" >&2; exit 1; }
cp "$perf_dir/handler.log" "$out/run1.log"
lockdep_dir=$(find "$tw" -type d -name benchmarks.event_counter.perf.lockdep -print -quit)
[ -n "$lockdep_dir" ] || { echo "bench: perf.lockdep image not found under $tw" >&2; exit 1; }
cp "$lockdep_dir/handler.log" "$out/lockdep1.log"

# Boots the image built in $1 again and writes its console to $2, up to the
# benchmark's last line. The command is twister's own (the build's run_qemu
# target: same machine, same -icount), with the console on stdio instead of
# the FIFO twister read it from.
boot_again() {
	local dir=$1 log=$2 cmd pid waited=0
	cmd=$(ninja -C "$dir" -t commands run_qemu | tail -n 1 |
		sed -n 's/.*&& \([^ ]*qemu-system-[^ ]*\)/\1/p' |
		sed 's/-chardev pipe,id=con,mux=on,path=[^ ]*/-chardev stdio,id=con,mux=on/')
	case "$cmd" in
	*"-chardev stdio,id=con"*"-icount"*) ;;
	*) echo "bench: no QEMU command with -icount in $dir (run_qemu: '$cmd')" >&2; exit 1 ;;
	esac
	read -ra argv <<<"$cmd"
	: >"$log"
	(cd "$dir" && exec "${argv[@]}") </dev/null >"$log" 2>&1 &
	pid=$!
	# Bounded: the image prints "BENCH done" within seconds of host time.
	while ! grep -q "^BENCH done" "$log" && kill -0 "$pid" 2>/dev/null && [ $waited -lt 600 ]; do
		sleep 1
		waited=$((waited + 1))
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	grep -q "^BENCH done" "$log" || { echo "bench: second boot of $dir did not finish (see $log)" >&2; exit 1; }
}

echo "bench: second run of the same images (determinism)"
boot_again "$perf_dir" "$out/run2.log"
boot_again "$lockdep_dir" "$out/lockdep2.log"

# The toolchain's size tool, next to the compiler the build used.
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$perf_dir/CMakeCache.txt")
size_tool=${cc%gcc}size
: >"$out/sizes.txt"
for v in none c1 c2 rust1 rust2; do
	elf=$(find "$tw" -path "*/benchmarks.event_counter.footprint.$v/zephyr/zephyr.elf" -print -quit)
	[ -n "$elf" ] || { echo "bench: footprint image $v not built" >&2; exit 1; }
	read -r text data bss _ < <("$size_tool" "$elf" | sed -n 2p)
	echo "$v $text $data $bss" >>"$out/sizes.txt"
done

# What the report cannot learn from the logs.
qemu=$(sed -n 's/^QEMU:FILEPATH=//p' "$perf_dir/CMakeCache.txt")
rust_module=$(sed -n 's/^RUST_MODULE_DIR:[A-Z]*=//p' "$perf_dir/CMakeCache.txt")
git_rev() { git -C "$1" describe --always --dirty --tags 2>/dev/null || echo unknown; }
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "qemu=$("${qemu:-qemu-system-arm}" --version | sed -n 1p)"
	echo "zephyr_git=$(git_rev "$ZEPHYR_BASE")"
	echo "rust_module_git=$( [ -n "$rust_module" ] && git_rev "$rust_module" || echo unknown)"
	echo "rustc=$(rustc --version)"
	echo "repo_git=$(git_rev "$repo")"
	echo "analysis=$out/analysis.md"
} >"$out/meta.txt"

# The analysis prose, followed by the disassembly of both ISR paths in the
# measured image, so that the reasons given can be checked against it.
elf="$perf_dir/zephyr/zephyr.elf"
objdump=${cc%gcc}objdump
# awk reads all of objdump's output (no early exit: pipefail would see SIGPIPE).
disasm() { "$objdump" -d --no-show-raw-insn "$elf" | awk -v f="<$1>:" 'index($0, f) {p=1} p && /^$/ {p=0} p'; }
{
	cat tests/benchmarks/ANALYSIS.md
	echo
	echo "### Disassembly of the ISR paths in the measured image"
	echo
	echo '```'
	for f in c_event c_event_counter_on_event rs_event z_event_counter_rs_on_event; do
		disasm "$f"
		echo
	done
	on_event=$("$objdump" -t "$elf" | awk '/Device.*on_event/ && !n {print $NF; n=1}')
	[ -n "$on_event" ] && disasm "$on_event" && echo
	for f in k_spin_lock__extern k_spin_unlock__extern k_sem_give__extern; do
		disasm "$f"
		echo
	done
	echo '```'
} >"$out/analysis.md"

python3 scripts/bench_report.py --run1 "$out/run1.log" --run2 "$out/run2.log" \
	--lockdep1 "$out/lockdep1.log" --lockdep2 "$out/lockdep2.log" \
	--sizes "$out/sizes.txt" --meta "$out/meta.txt" --out BENCHMARKS.md
