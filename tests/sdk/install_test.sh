#!/bin/sh
# The plugin SDK as an outside project sees it: install the SDK component into a fresh prefix,
# copy plugins/examples out of the tree, build it with find_package(sluice) and run its tests,
# build one plugin again with nothing but `pkg-config --cflags sluice`, then run the agent with
# --plugin-dir on the result: numbers -> square -> append_file.
#
#   install_test.sh BUILD_DIR SOURCE_DIR SLUICE_BINARY WORK_DIR
set -eu
build_dir=$1
source_dir=$2
sluice=$3
work=$4

rm -rf "$work"
mkdir -p "$work"
step() { printf '\n== %s\n' "$*"; }

step "install the SDK into $work/prefix"
cmake --install "$build_dir" --prefix "$work/prefix" --component sdk
test -f "$work/prefix/include/sluice/sdk.hpp"
test -f "$work/prefix/include/sluice/plugin_abi.h"
test -f "$work/prefix/share/cmake/sluice/sluiceConfig.cmake"
test -f "$work/prefix/share/pkgconfig/sluice.pc"

step "build the examples as an outside project"
cp -R "$source_dir/plugins/examples" "$work/src"
generator=""
if command -v ninja >/dev/null 2>&1; then generator="-G Ninja"; fi
# shellcheck disable=SC2086
cmake -S "$work/src" -B "$work/build" $generator -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix"
cmake --build "$work/build" -j 2
ctest --test-dir "$work/build" --output-on-failure

step "only sluice_plugin_init is exported"
exported=$(nm -D --defined-only "$work/build/square.so" | awk '{print $3}')
test "$exported" = "sluice_plugin_init"

step "build a plugin with pkg-config alone"
PKG_CONFIG_PATH="$work/prefix/share/pkgconfig"
export PKG_CONFIG_PATH
cflags=$(pkg-config --cflags sluice)
echo "pkg-config --cflags sluice: $cflags"
test "$(pkg-config --variable=abi_major sluice)" -ge 1
mkdir -p "$work/pc"
# shellcheck disable=SC2086
c++ -std=c++20 -O2 -fPIC -shared $cflags -o "$work/pc/square.so" "$work/src/square/square.cpp"

step "run the agent with --plugin-dir"
plugins="$work/plugins"
mkdir -p "$plugins"
chmod 0755 "$plugins"
cp "$work/build/numbers.so" "$work/pc/square.so" "$work/build/append_file.so" "$plugins/"
chmod 0755 "$plugins"/*.so
printf '3\n4\n' > "$work/numbers.txt"
cat > "$work/sluice.yaml" <<YAML
agent:
  omit_hostname: true
inputs:
  - numbers:
      path: $work/numbers.txt
processors:
  - square: {}
outputs:
  - append_file:
      path: $work/out.lp
YAML
"$sluice" plugins --plugin-dir "$plugins"
"$sluice" check --plugin-dir "$plugins" --config "$work/sluice.yaml"
"$sluice" once --plugin-dir "$plugins" --config "$work/sluice.yaml"
cat "$work/out.lp"
grep -q '^numbers,line=1 value=3i,value_squared=9 [0-9]*$' "$work/out.lp"
grep -q '^numbers,line=2 value=4i,value_squared=16 [0-9]*$' "$work/out.lp"
test "$(wc -l < "$work/out.lp")" -eq 2
step "the ten-minute walkthrough of docs/plugins.md, from a fresh directory"
# The n-th fenced block of a language in a Markdown file.
block() {
  awk -v lang="$1" -v n="$2" '
    $0 == "```" lang { if (++count == n) { on = 1; next } }
    on && $0 == "```" { exit }
    on { print }' "$3"
}
hello="$work/hello"
mkdir -p "$hello"
block cpp 1 "$source_dir/docs/plugins.md" > "$hello/hello.cpp"
block cmake 1 "$source_dir/docs/plugins.md" > "$hello/CMakeLists.txt"
# shellcheck disable=SC2086
cmake -S "$hello" -B "$hello/build" $generator -DCMAKE_PREFIX_PATH="$work/prefix"
cmake --build "$hello/build"
mkdir -p "$hello/plugins"
chmod 0755 "$hello/plugins"
cp "$hello/build/hello.so" "$hello/plugins/"
"$sluice" plugins --plugin-dir "$hello/plugins" | grep -q "^  hello .*Greets someone.*version 1.0.0, input\]$"
"$sluice" config --plugin-dir "$hello/plugins" --inputs hello | grep -q "# who: world"
printf 'inputs:\n  - hello:\n      who: sluice\n      times: 2\n' > "$hello/hello.yaml"
"$sluice" test --plugin-dir "$hello/plugins" --config "$hello/hello.yaml" > "$hello/out.lp"
cat "$hello/out.lp"
grep -q '^hello,host=[^,]*,who=sluice greeting=0i [0-9]*$' "$hello/out.lp"
grep -q '^hello,host=[^,]*,who=sluice greeting=1i [0-9]*$' "$hello/out.lp"
# Step 5: the class in hello.hpp, tested without an agent.
sed '/^SLUICE_PLUGIN(/d' "$hello/hello.cpp" > "$hello/hello.hpp"
block cpp 2 "$source_dir/docs/plugins.md" > "$hello/hello_test.cpp"
# shellcheck disable=SC2086
c++ -std=c++20 $cflags -o "$hello/hello_test" "$hello/hello_test.cpp"
"$hello/hello_test"
echo "sdk install test: OK"
