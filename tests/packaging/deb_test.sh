#!/usr/bin/env bash
# Builds the .deb, inspects it, installs it on this machine, runs `sluice check` and
# `sluice once` as the sluice user with the installed default config, checks that a plugin
# library dropped into /usr/lib/sluice/plugins is picked up on SIGHUP, verifies the systemd unit
# and prints its exposure score, then purges and checks that nothing is left. Needs root.
#   tests/packaging/deb_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
fail() { echo "FAIL: $*"; exit 1; }

if [[ $(id -u) -ne 0 ]]; then echo "needs root"; exit 1; fi
if dpkg -s sluice >/dev/null 2>&1; then fail "a sluice package is already installed here"; fi

cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DSLUICE_BUILD_TESTS=OFF -DSLUICE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" >/dev/null
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/sluice_*_amd64.deb)
echo "built $(basename "$deb")"

echo "== contents"
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/sluice ./etc/sluice/sluice.yaml ./etc/sluice/sluice.d/ ./etc/default/sluice \
            ./usr/lib/sluice/plugins/ ./usr/lib/systemd/system/sluice.service \
            ./usr/share/man/man1/sluice.1.gz ./usr/share/doc/sluice/README.md \
            ./usr/share/doc/sluice/plugins/inputs/cpu/README.md \
            ./usr/include/sluice/plugin_abi.h ./usr/include/sluice/sdk.hpp \
            ./usr/share/cmake/sluice/sluiceConfig.cmake ./usr/share/pkgconfig/sluice.pc; do
  grep -q " $path\$" <<<"$contents" || fail "$path is not in the package"
done
echo "== control"
info=$(dpkg-deb -I "$deb")
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libyaml-cpp libspdlog libsystemd0 libc6 adduser; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib"
done
conffiles=$(dpkg-deb -e "$deb" "$build/control" && cat "$build/control/conffiles")
grep -qx /etc/sluice/sluice.yaml <<<"$conffiles" || fail "sluice.yaml is not a conffile"
grep -qx /etc/default/sluice <<<"$conffiles" || fail "/etc/default/sluice is not a conffile"
grep -q postinst <<<"$info" || fail "no postinst"

echo "== install"
cleanup() { dpkg --purge sluice >/dev/null 2>&1 || true; }
trap cleanup EXIT
dpkg -i "$deb"
getent passwd sluice >/dev/null || fail "no sluice user"
[[ $(stat -c '%U:%G %a' /etc/sluice/sluice.yaml) == "root:sluice 640" ]] || fail "config mode: $(stat -c '%U:%G %a' /etc/sluice/sluice.yaml)"
[[ $(stat -c '%U:%G %a' /var/lib/sluice) == "sluice:sluice 750" ]] || fail "state dir: $(stat -c '%U:%G %a' /var/lib/sluice)"
[[ -L /etc/systemd/system/multi-user.target.wants/sluice.service ]] || fail "the service is not enabled"

echo "== sluice check and sluice once as the sluice user"
runuser -u sluice -- sluice check --config /etc/sluice/sluice.yaml --config-directory /etc/sluice/sluice.d
out=$(runuser -u sluice -- sluice once --config /etc/sluice/sluice.yaml 2>/dev/null)
for m in cpu mem disk system; do
  grep -q "^$m," <<<"$out" || fail "sluice once printed no $m metrics"
done
echo "once printed $(wc -l <<<"$out") lines"

echo "== a plugin library dropped into /usr/lib/sluice/plugins is picked up on reload (SIGHUP)"
# The example input `numbers`, built as an outside project against the SDK the package installed.
rm -rf "$build/examples-src" "$build/examples"
cp -R "$src/plugins/examples" "$build/examples-src"
cmake -S "$build/examples-src" -B "$build/examples" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build/examples" --target numbers >/dev/null
reload=$(mktemp -d /tmp/sluice-deb-reload.XXXXXX)
chmod 0755 "$reload"
printf '3\n1.5\n' > "$reload/numbers.txt"
out_file=/var/lib/sluice/reload-test.lp
write_config() {  # the inputs section, then an output into the state directory
  printf 'agent:\n  interval: 200ms\n  flush_interval: 200ms\n  omit_hostname: true\ninputs:\n%s\noutputs:\n  - file:\n      files: [%s]\n' \
    "$1" "$out_file" > "$reload/sluice.yaml"
  chmod 0644 "$reload/sluice.yaml"
}
write_config "  - mem: {}"
# setpriv execs the agent itself (runuser would stay as its parent and keep the SIGHUP).
setpriv --reuid=sluice --regid=sluice --init-groups -- sluice run --config "$reload/sluice.yaml" \
  > "$reload/agent.log" 2>&1 &
agent=$!
stop_agent() { kill "$agent" 2>/dev/null || true; wait "$agent" 2>/dev/null || true; }
trap 'stop_agent; rm -f /usr/lib/sluice/plugins/numbers.so; cleanup' EXIT
for _ in $(seq 50); do grep -q '^mem ' "$out_file" 2>/dev/null && break; sleep 0.2; done
grep -q '^mem ' "$out_file" || fail "the agent wrote no mem metrics: $(cat "$reload/agent.log")"
install -o root -g root -m 0644 "$build/examples/numbers.so" /usr/lib/sluice/plugins/numbers.so
write_config "  - mem: {}
  - numbers:
      path: $reload/numbers.txt"
kill -HUP "$agent"
for _ in $(seq 50); do grep -q '^numbers,line=2 value=1.5 ' "$out_file" 2>/dev/null && break; sleep 0.2; done
grep -q '^numbers,line=2 value=1.5 ' "$out_file" ||
  fail "no numbers metrics after the reload: $(cat "$reload/agent.log")"
kill -0 "$agent" || fail "the agent is gone after the reload"
echo "numbers.so picked up on SIGHUP: $(grep -c '^numbers,' "$out_file") numbers metrics written"
stop_agent
rm -f /usr/lib/sluice/plugins/numbers.so "$out_file"
rm -rf "$reload"
trap cleanup EXIT

echo "== the systemd unit"
verify=$(systemd-analyze verify /usr/lib/systemd/system/sluice.service 2>&1 || true)
[[ -z $verify ]] || fail "systemd-analyze verify: $verify"
score=$(systemd-analyze security --offline=yes /usr/lib/systemd/system/sluice.service 2>&1 | tail -1)
echo "$score"
awk '{for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) s = $i} END {exit !(s <= 2.0)}' <<<"$score" ||
  fail "exposure above 2.0"

echo "== purge"
dpkg --purge sluice
trap - EXIT
[[ ! -e /usr/bin/sluice ]] || fail "/usr/bin/sluice left"
[[ ! -e /etc/sluice ]] || fail "/etc/sluice left"
[[ ! -e /var/lib/sluice ]] || fail "/var/lib/sluice left"
[[ ! -e /etc/default/sluice ]] || fail "/etc/default/sluice left"
! getent passwd sluice >/dev/null || fail "the sluice user is left"
[[ ! -e /etc/systemd/system/multi-user.target.wants/sluice.service ]] || fail "enablement left"
echo "deb test passed"
