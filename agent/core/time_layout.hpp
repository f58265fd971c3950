// Times written and read in Go's reference-time layouts ("2006-01-02T15:04:05Z07:00"), as
// Telegraf's options (date_format, timestamp_format) take them, plus "unix", "unix_ms",
// "unix_us" and "unix_ns"; and time zones: UTC, Local, or an IANA name read from the system's
// time zone database (TZif files under /usr/share/zoneinfo, or $TZDIR).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::core {

class TimeZone {
 public:
  // UTC.
  TimeZone();
  // "UTC" (or ""), "Local" (TZ, else /etc/localtime) or an IANA name such as "Europe/Paris".
  // std::nullopt with `error` set when the zone cannot be found or read.
  static std::optional<TimeZone> load(std::string_view name, std::string* error);

  struct Offset {
    int32_t seconds = 0;  // east of UTC
    std::string_view abbreviation;
  };
  // The zone's offset at a Unix time (seconds).
  Offset at(int64_t unix_seconds) const;
  // The offset that applies to a wall-clock time of this zone, given as seconds since the epoch
  // as if it were UTC. In a gap or an overlap of a change the earlier offset is taken.
  int32_t offset_for_local(int64_t local_seconds) const;
  const std::string& name() const;

  struct Data;  // the zone's transitions and rules (opaque)

 private:
  std::shared_ptr<const Data> data_;
};

class TimeLayout {
 public:
  enum class Kind { kLayout, kUnix, kUnixMs, kUnixUs, kUnixNs };

  // "unix", "unix_ms", "unix_us", "unix_ns", a Go constant's name (RFC3339, RFC3339Nano,
  // RFC1123, RFC1123Z, RFC822, RFC822Z, RFC850, ANSIC, UnixDate, RubyDate, Kitchen, Stamp,
  // StampMilli, StampMicro, StampNano, DateTime, DateOnly, TimeOnly) or a layout.
  // std::nullopt with `error` set for an empty text or a layout without any time element.
  static std::optional<TimeLayout> compile(std::string_view text, std::string* error);

  Kind kind() const { return kind_; }
  bool is_unix() const { return kind_ != Kind::kLayout; }
  // Nanoseconds per unit of a unix kind (1e9 for unix ... 1 for unix_ns).
  int64_t unix_unit_ns() const;

  // Appends the time (ns since the epoch) as the layout writes it in `zone`. A unix kind writes
  // the whole number of units.
  void format(int64_t time_ns, const TimeZone& zone, std::string& out) const;
  // Reads a time written in this layout; a time without an offset in the text is taken in
  // `zone`. A unix kind reads an integer or, for "unix", a decimal fraction ("1690000000.5").
  std::optional<int64_t> parse(std::string_view text, const TimeZone& zone) const;

  // The token kinds of a layout; public for the implementation's helpers.
  enum class Token : uint8_t;
  struct Chunk {
    Token token;
    std::string literal;  // for literal chunks
    int digits = 0;       // fractional-second digits
  };

 private:
  Kind kind_ = Kind::kLayout;
  std::vector<Chunk> chunks_;
};

}  // namespace sluice::core
