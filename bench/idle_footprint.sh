#!/usr/bin/env bash
# Idle footprint of the agent: resident memory and CPU seconds per minute with the default
# config at interval 1s, writing to /dev/null.
#   bench/idle_footprint.sh [BUILD_DIR=build] [SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-60}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

sed -e 's/^  interval: 10s/  interval: 1s/' -e 's/^  flush_interval: 10s/  flush_interval: 1s/' \
    -e 's|files: \[stdout\]|files: [/dev/null]|' config/sluice.yaml > "$work/sluice.yaml"
"$build/sluice" run --config "$work/sluice.yaml" 2> "$work/log" &
pid=$!
sleep 3  # warm-up: every input has gathered and every output flushed
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(cpu_ticks)
max_rss=0
for ((i = 0; i < seconds; i++)); do
  sleep 1
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  ((rss > max_rss)) && max_rss=$rss
done
after=$(cpu_ticks)
awk -v rss="$rss" -v max="$max_rss" -v t="$((after - before))" -v hz="$ticks" -v s="$seconds" 'BEGIN {
  printf "idle footprint (default config, interval 1s, %d s measured):\n", s
  printf "  RSS: %.2f MiB at the end, %.2f MiB at most (target < 8 MiB)\n", rss / 1024, max / 1024
  printf "  CPU: %.3f s per minute\n", t / hz * 60 / s
}'
