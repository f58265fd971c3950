// Byte classes of line protocol, shared by the parser and the serializer so that both read the
// syntax from one place. Which bytes end a token and which may be escaped follow the line-protocol
// reference and InfluxData's conformance corpus:
//
//   token          ends at                              escapable with '\'
//   measurement    ',' ' ' and ASCII control bytes      ',' ' '
//   tag key        ',' '=' ' ' and ASCII control bytes  ',' '=' ' '
//   tag value      (as tag key)                         (as tag key)
//   field key      (as tag key)                         (as tag key)
//   string value   '"'                                  '"' '\'
//
// A backslash before any other byte is an ordinary character. ASCII control bytes are 0x00-0x1f
// and 0x7f; they cannot appear in names, keys or tag values at all, escaped or not.
#pragma once

#include <array>
#include <cstdint>

namespace sluice::lineproto::detail {

enum ByteClass : uint8_t {
  kEndsMeasurement = 1 << 0,  // ends a measurement
  kEndsKey = 1 << 1,          // ends a tag key, tag value or field key
  kEscapableInName = 1 << 2,  // escaped in a measurement
  kEscapableInKey = 1 << 3,   // escaped in a tag key, tag value or field key
  kStringSpecial = 1 << 4,    // '"', '\' and '\n' (counted for line numbers) in a string value
  kEndsValue = 1 << 5,        // ends a number or boolean field value: ',' ' ' '\r' '\n'
  kControl = 1 << 6,          // ASCII control byte
  kBackslash = 1 << 7,
};

constexpr std::array<uint8_t, 256> make_byte_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] |= kEndsMeasurement | kEndsKey | kControl;
  t[0x7f] |= kEndsMeasurement | kEndsKey | kControl;
  t[','] |= kEndsMeasurement | kEndsKey | kEscapableInName | kEscapableInKey | kEndsValue;
  t[' '] |= kEndsMeasurement | kEndsKey | kEscapableInName | kEscapableInKey | kEndsValue;
  t['='] |= kEndsKey | kEscapableInKey;
  t['\r'] |= kEndsValue;
  t['\n'] |= kEndsValue | kStringSpecial;
  t['"'] |= kStringSpecial;
  t['\\'] |= kStringSpecial | kBackslash;
  return t;
}

inline constexpr std::array<uint8_t, 256> kByteClass = make_byte_classes();

inline uint8_t byte_class(char c) { return kByteClass[static_cast<unsigned char>(c)]; }

// Byte classes for writing, where escaping and validity decide how a byte is written.
enum WriteClass : uint8_t {
  kWriteEscapeInName = 1 << 0,    // ',' ' '
  kWriteEscapeInKey = 1 << 1,     // ',' '=' ' ' (tag keys, tag values, field keys)
  kWriteEscapeInString = 1 << 2,  // '"' '\'
  kWriteControl = 1 << 3,         // ASCII control byte: cannot be written outside strings
  kWriteHigh = 1 << 4,            // part of a multi-byte UTF-8 sequence, to be validated
};

constexpr std::array<uint8_t, 256> make_write_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] |= kWriteControl;
  t[0x7f] |= kWriteControl;
  for (int c = 0x80; c < 0x100; ++c) t[c] |= kWriteHigh;
  t[','] |= kWriteEscapeInName | kWriteEscapeInKey;
  t[' '] |= kWriteEscapeInName | kWriteEscapeInKey;
  t['='] |= kWriteEscapeInKey;
  t['"'] |= kWriteEscapeInString;
  t['\\'] |= kWriteEscapeInString;
  return t;
}

inline constexpr std::array<uint8_t, 256> kWriteClass = make_write_classes();

inline uint8_t write_class(char c) { return kWriteClass[static_cast<unsigned char>(c)]; }

}  // namespace sluice::lineproto::detail
