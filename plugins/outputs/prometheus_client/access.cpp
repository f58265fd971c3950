#include "access.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace sluice::outputs::prometheus_client {
namespace {

int base64_digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<std::array<uint8_t, 16>> parse_address(std::string_view text) {
  std::string s(text);
  std::array<uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Runs over the longer input whatever the contents; lengths differing is itself a mismatch.
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::optional<std::string> decode_base64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int d = base64_digit(c);
    if (d < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

bool basic_auth_matches(std::string_view authorization, std::string_view username,
                        std::string_view password) {
  constexpr std::string_view kScheme = "Basic ";
  if (authorization.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    // The scheme name is case-insensitive.
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return false;
    }
  }
  auto credentials = decode_base64(authorization.substr(kScheme.size()));
  if (!credentials) return false;
  size_t colon = credentials->find(':');
  if (colon == std::string::npos) return false;
  // Both comparisons run, so the time does not tell whether the user name was right.
  bool user_ok = constant_time_equal(std::string_view(*credentials).substr(0, colon), username);
  bool password_ok =
      constant_time_equal(std::string_view(*credentials).substr(colon + 1), password);
  return user_ok & password_ok;
}

std::optional<IpRange> IpRange::parse(std::string_view cidr) {
  std::string_view address = cidr;
  int prefix = -1;
  if (size_t slash = cidr.find('/'); slash != std::string_view::npos) {
    address = cidr.substr(0, slash);
    std::string_view bits = cidr.substr(slash + 1);
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (ec != std::errc() || end != bits.data() + bits.size() || prefix < 0) return std::nullopt;
  }
  auto parsed = parse_address(address);
  if (!parsed) return std::nullopt;
  bool v4 = address.find(':') == std::string_view::npos;
  int max = v4 ? 32 : 128;
  if (prefix < 0) prefix = max;
  if (prefix > max) return std::nullopt;
  IpRange range;
  range.network_ = *parsed;
  range.prefix_ = v4 ? prefix + 96 : prefix;
  return range;
}

bool IpRange::contains(std::string_view address) const {
  auto parsed = parse_address(address);
  if (!parsed) return false;
  int bits = prefix_;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if (((*parsed)[i] & mask) != (network_[i] & mask)) return false;
  }
  return true;
}

}  // namespace sluice::outputs::prometheus_client
