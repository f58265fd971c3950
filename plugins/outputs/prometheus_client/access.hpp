// Who may read the metrics: HTTP basic credentials compared in constant time, and the client
// address against the allowed IP ranges.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::outputs::prometheus_client {

// Compares without an early exit, so the time taken does not tell how much of a secret matched.
bool constant_time_equal(std::string_view a, std::string_view b);

// Decodes standard base64 (padding optional); nullopt for anything else.
std::optional<std::string> decode_base64(std::string_view text);

// True when `authorization` (the header's value) is "Basic <base64 of user:password>" with
// exactly these credentials.
bool basic_auth_matches(std::string_view authorization, std::string_view username,
                        std::string_view password);

// An IPv4 or IPv6 network. IPv4 addresses are held as IPv4-mapped IPv6 addresses, so one
// comparison serves both families (and "::ffff:10.0.0.1" from a dual-stack socket matches
// 10.0.0.0/8).
class IpRange {
 public:
  // "192.168.0.0/24", "::1/128", or a single address; nullopt when it is not one.
  static std::optional<IpRange> parse(std::string_view cidr);
  bool contains(std::string_view address) const;

 private:
  std::array<uint8_t, 16> network_{};
  int prefix_ = 128;
};

}  // namespace sluice::outputs::prometheus_client
