#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("netstat: TCP sockets by state over IPv4 and IPv6, and UDP sockets") {
  // The fixture has no udp6: a host without it is not in error.
  ScopedEnv proc("HOST_PROC", fixture("netstat/proc"));
  auto input = make_input("netstat");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  CHECK(acc.lines() ==
        "netstat tcp_close=1i,tcp_close_wait=1i,tcp_closing=1i,tcp_established=4i,"
        "tcp_fin_wait1=1i,tcp_fin_wait2=1i,tcp_last_ack=1i,tcp_listen=3i,tcp_none=0i,"
        "tcp_syn_recv=2i,tcp_syn_sent=1i,tcp_time_wait=2i,udp_socket=3i 1700000000000000000\n");
}

TEST_CASE("netstat: no socket table is an error, a garbled line is reported and skipped") {
  ScopedEnv proc("HOST_PROC", fixture("netstat/nonexistent"));
  auto input = make_input("netstat");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.metrics.empty());
  REQUIRE(acc.errors.size() == 1);
  CHECK(acc.errors[0].find(fixture("netstat/nonexistent/net/tcp")) != std::string::npos);

  proc.set(fixture("netstat/garbled"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.errors == std::vector<std::string>{"netstat: malformed socket lines in " +
                                               fixture("netstat/garbled/net/tcp")});
  CHECK(acc.lines() ==
        "netstat tcp_close=0i,tcp_close_wait=0i,tcp_closing=0i,tcp_established=1i,"
        "tcp_fin_wait1=0i,tcp_fin_wait2=0i,tcp_last_ack=0i,tcp_listen=1i,tcp_none=0i,"
        "tcp_syn_recv=0i,tcp_syn_sent=0i,tcp_time_wait=0i,udp_socket=0i 1700000000000000000\n");
}
