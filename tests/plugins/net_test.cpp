#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

const char* const kProtocolLine =
    "net,interface=all icmp_incsumerrors=0i,icmp_indestunreachs=11005i,icmp_inerrors=958i,"
    "icmp_inmsgs=13398i,icmp_outdestunreachs=9417i,icmp_outerrors=0i,icmp_outmsgs=11517i,"
    "icmpmsg_intype3=11005i,icmpmsg_outtype3=9417i,ip_defaultttl=64i,ip_forwarding=1i,"
    "ip_forwdatagrams=0i,ip_fragcreates=0i,ip_fragfails=0i,ip_fragoks=0i,ip_inaddrerrors=186i,"
    "ip_indelivers=4099279i,ip_indiscards=0i,ip_inhdrerrors=0i,ip_inreceives=4172969i,"
    "ip_inunknownprotos=0i,ip_outdiscards=871i,ip_outnoroutes=2577i,ip_outrequests=3366408i,"
    "ip_reasmfails=0i,ip_reasmoks=0i,ip_reasmreqds=0i,ip_reasmtimeout=0i,"
    "tcp_activeopens=55965i,tcp_attemptfails=2652i,tcp_currestab=59i,tcp_estabresets=5818i,"
    "tcp_incsumerrors=0i,tcp_inerrs=389i,tcp_insegs=3580226i,tcp_maxconn=-1i,"
    "tcp_outrsts=14951i,tcp_outsegs=2777459i,tcp_passiveopens=452i,tcp_retranssegs=14669i,"
    "tcp_rtoalgorithm=1i,tcp_rtomax=120000i,tcp_rtomin=200i,udp_ignoredmulti=1200i,"
    "udp_incsumerrors=0i,udp_indatagrams=522136i,udp_inerrors=0i,udp_noports=5961i,"
    "udp_outdatagrams=577265i,udp_rcvbuferrors=0i,udp_sndbuferrors=3i,"
    "udplite_ignoredmulti=0i,udplite_incsumerrors=0i,udplite_indatagrams=0i,"
    "udplite_inerrors=0i,udplite_noports=0i,udplite_outdatagrams=0i,udplite_rcvbuferrors=0i,"
    "udplite_sndbuferrors=0i 1700000000000000000\n";

}  // namespace

TEST_CASE("net: interfaces that are up (not loopback), then the protocol counters") {
  ScopedEnv proc("HOST_PROC", fixture("net/proc"));
  ScopedEnv sys("HOST_SYS", fixture("net/sys"));
  auto input = make_input("net");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  // lo is loopback and docker0 is down: left out.
  CHECK(acc.lines() ==
        std::string("net,interface=eth0 bytes_recv=38942840u,bytes_sent=4283100u,drop_in=4u,"
                    "drop_out=2u,err_in=1u,err_out=0u,packets_recv=29580u,packets_sent=25400u "
                    "1700000000000000000\n"
                    "net,interface=wlan0 bytes_recv=18446744073709551000u,bytes_sent=20u,"
                    "drop_in=0u,drop_out=0u,err_in=0u,err_out=0u,packets_recv=10u,"
                    "packets_sent=2u 1700000000000000000\n") +
            kProtocolLine);
  REQUIRE(acc.metrics.size() == 3);
  CHECK(acc.metrics[0].type() == ValueType::kCounter);
  CHECK(acc.metrics[2].type() == ValueType::kUntyped);
}

TEST_CASE("net: interfaces globs take any state, ignore_protocol_stats drops interface=all") {
  ScopedEnv proc("HOST_PROC", fixture("net/proc"));
  ScopedEnv sys("HOST_SYS", fixture("net/sys"));
  auto input = make_input("net", {{"interfaces", std::vector<std::string>{"lo", "dock*"}},
                                  {"ignore_protocol_stats", true}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  CHECK(acc.lines() ==
        "net,interface=lo bytes_recv=123456u,bytes_sent=123456u,drop_in=0u,drop_out=0u,"
        "err_in=0u,err_out=0u,packets_recv=789u,packets_sent=789u 1700000000000000000\n"
        "net,interface=docker0 bytes_recv=0u,bytes_sent=0u,drop_in=0u,drop_out=0u,err_in=0u,"
        "err_out=0u,packets_recv=0u,packets_sent=0u 1700000000000000000\n");
}

TEST_CASE("net: missing or garbled files are errors, what can be read is still reported") {
  ScopedEnv proc("HOST_PROC", fixture("net/nonexistent"));
  auto input = make_input("net", {{"interfaces", std::vector<std::string>{"eth*"}}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.metrics.empty());
  CHECK(acc.errors ==
        std::vector<std::string>{"net: cannot read " + fixture("net/nonexistent/net/dev"),
                                 "net: cannot read " + fixture("net/nonexistent/net/snmp")});

  proc.set(fixture("net/garbled"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.errors ==
        std::vector<std::string>{
            "net: malformed interface lines in " + fixture("net/garbled/net/dev"),
            "net: malformed protocol counters in " + fixture("net/garbled/net/snmp")});
  CHECK(acc.lines() ==
        "net,interface=eth1 bytes_recv=100u,bytes_sent=200u,drop_in=0u,drop_out=0u,err_in=0u,"
        "err_out=0u,packets_recv=1u,packets_sent=2u 1700000000000000000\n"
        "net,interface=all ip_defaultttl=64i,ip_forwarding=1i,tcp_maxconn=-1i,"
        "tcp_rtoalgorithm=1i 1700000000000000000\n");
}
