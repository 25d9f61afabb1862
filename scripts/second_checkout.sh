#!/usr/bin/env bash
# Builds the demo from a second clone of this repository while a first clone
# is the manifest repository of a west workspace (README's layout: `west init
# -m <this repo>` makes <workspace>/event-counter), as a fork or a CI checkout
# would. The driver's binding must be found once, from the checkout being
# built; before it moved into drivers/event_counter/dts, devicetree stopped
# with "both ... have 'compatible: racefree,event-counter'".
#
# The workspace is made without a network (`west init -l`); its other
# projects are links to those of the workspace scripts/zephyr-env.sh finds.
# Clones are of HEAD (commit first). Twister builds the demo, so its filter
# stage, which runs before the application's CMakeLists.txt, is covered too.
#
#   scripts/second_checkout.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/zephyr-env.sh
source "$repo/scripts/zephyr-env.sh"
if [ "$EVENT_COUNTER_ZEPHYR_FOUND" != 1 ]; then
	echo "second checkout: SKIPPED - no Zephyr workspace found"
	exit 0
fi
top=$(cd "$ZEPHYR_BASE/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/event-counter-second.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ws="$tmp/ws"
mkdir -p "$ws"
git clone -q "$repo" "$ws/event-counter"
for project in zephyr modules/hal/cmsis modules/lang/rust modules/hal/nordic modules/debug/segger; do
	if [ -d "$top/$project" ]; then
		mkdir -p "$(dirname "$ws/$project")"
		ln -s "$top/$project" "$ws/$project"
	fi
done
(cd "$ws" && env -u ZEPHYR_BASE west init -l event-counter >/dev/null)
git clone -q "$repo" "$ws/fork"
echo "second checkout: workspace $ws (manifest: $ws/event-counter), building the demo from $ws/fork"
cd "$ws/fork"
# Nothing from the caller's environment may point at a checkout.
env -u ZEPHYR_EXTRA_MODULES ZEPHYR_BASE="$ws/zephyr" \
	"$ws/zephyr/scripts/twister" -T . -p qemu_cortex_m3 -s sample.event_counter.demo \
	--build-only -O "$tmp/out" --inline-logs
echo "second checkout: PASSED - the demo builds from a second clone"
