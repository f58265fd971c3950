#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in BUILD_DIR and runs the line-protocol fuzzer for
# SECONDS seconds, starting from the seed corpus. Exits non-zero when the fuzzer finds a crash,
# a sanitizer report or a broken round trip; the input that did it is left in
# BUILD_DIR/fuzz-artifacts/.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS
#
# Needs clang and its fuzzer runtime (Debian: apt-get install -y clang libclang-rt-14-dev).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
seconds=$2
source_dir=$(cd "$(dirname "$0")/../.." && pwd)

if ! command -v clang++ >/dev/null 2>&1; then
  echo "$0: clang++ not found (apt-get install -y clang libclang-rt-14-dev)" >&2
  exit 2
fi

mkdir -p "$build_dir"
CC=clang CXX=clang++ cmake -S "$source_dir" -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON -DSLUICE_BUILD_TESTS=ON \
  -DSLUICE_BUILD_BENCH=OFF >"$build_dir/configure.log" 2>&1 ||
  { cat "$build_dir/configure.log" >&2; exit 1; }
# Only the fuzz targets: the rest of the tree need not build with clang for this.
cmake --build "$build_dir" --target lineproto_fuzz

# New inputs go to a working corpus in the build tree; the seeds in the source tree stay as they are.
work_corpus=$build_dir/fuzz-corpus/lineproto
artifacts=$build_dir/fuzz-artifacts
mkdir -p "$work_corpus" "$artifacts"

"$build_dir/tests/fuzz/lineproto_fuzz" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -dict="$source_dir/tests/fuzz/lineproto.dict" -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$work_corpus" "$source_dir/tests/fuzz/corpus/lineproto"
