#!/usr/bin/env bash
# Installs what building and testing sluice needs, from Debian 12's packages. Run as root.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache git
  # libraries
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
  libcurl4-openssl-dev libpq-dev libpaho-mqtt-dev libpaho-mqttpp-dev libcpp-httplib-dev
  librdkafka-dev libsystemd-dev libjemalloc-dev
  # tests
  doctest-dev
  # the .deb (dpkg-shlibdeps) and the checks of the systemd unit
  dpkg-dev systemd init-system-helpers adduser
  # MQTT and Kafka integration tests and benches: the broker and the standard clients
  mosquitto mosquitto-clients kcat
  # InfluxDB integration tests and bench: the server (influxd 1.6), its CLI, curl to compare with
  influxdb influxdb-client curl
  # TLS tests of the HTTP client make their certificates with the openssl tool
  openssl
  # PostgreSQL and Prometheus integration tests: the servers and psql; openssl makes test certs
  postgresql prometheus openssl libssl-dev
  # the collectd parser: types.db for its default, and collectd itself for the integration test
  collectd-core
  # prometheus input integration test: node_exporter serves known values from a textfile
  prometheus-node-exporter
  # listener and statsd tests and the listener bench: nc as a raw TCP/UDP/unix client;
  # collectd 5.12 and collectd-tg
  netcat-openbsd collectd-utils
)
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The listener tests write with the official InfluxDB JavaScript client (pinned in package.json).
if command -v npm > /dev/null; then
  (cd "$(dirname "$0")/../tests/tools/node" && npm ci --no-audit --no-fund --silent) ||
    echo "warning: npm ci failed; the tests that use the InfluxDB JavaScript client will skip"
fi
