// plugin_abi.h is a contract with every plugin library ever built against it: it may change
// only together with its version. The test hashes the header's code (comments removed,
// whitespace collapsed, so that editing comments needs no new version) and compares with the
// hash recorded for the version the header declares.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "sluice/plugin_abi.h"

namespace {

struct KnownVersion {
  int major;
  int minor;
  uint64_t hash;  // FNV-1a 64 of the normalized header
};

// One line per released ABI version. When the header changes: bump SLUICE_ABI_MINOR if fields
// were only appended to structs that start with struct_size (or functions to the end of
// sluice_host_api), SLUICE_ABI_MAJOR for anything else; then add the new line.
constexpr KnownVersion kKnownVersions[] = {
    {1, 0, 0x9a9f4e20572cf75bULL},
    {1, 1, 0xcb7a674533a3cec0ULL},  // SLUICE_PLUGIN_SPLITS_ON_LINES
};

std::string read_header() {
  std::ifstream in(SLUICE_SOURCE_DIR "/agent/include/sluice/plugin_abi.h");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The header without comments, each run of whitespace one space.
std::string normalize(const std::string& text) {
  std::string out;
  bool space = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "/*") == 0) {
      size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
      space = true;
      continue;
    }
    if (text.compare(i, 2, "//") == 0) {
      size_t end = text.find('\n', i);
      i = end == std::string::npos ? text.size() : end;
      space = true;
      continue;
    }
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

TEST_CASE("plugin_abi.h changes only together with SLUICE_ABI_MAJOR or SLUICE_ABI_MINOR") {
  std::string text = read_header();
  REQUIRE(!text.empty());
  // The version the test was compiled with is the one the file declares.
  CHECK(text.find("#define SLUICE_ABI_MAJOR " + std::to_string(SLUICE_ABI_MAJOR) + "\n") !=
        std::string::npos);
  CHECK(text.find("#define SLUICE_ABI_MINOR " + std::to_string(SLUICE_ABI_MINOR) + "\n") !=
        std::string::npos);
  uint64_t hash = fnv1a(normalize(text));
  std::ostringstream hex;
  hex << "0x" << std::hex << hash << "ULL";
  const KnownVersion* known = nullptr;
  for (const KnownVersion& v : kKnownVersions) {
    if (v.major == SLUICE_ABI_MAJOR && v.minor == SLUICE_ABI_MINOR) known = &v;
  }
  INFO("the header's hash is " << hex.str());
  REQUIRE_MESSAGE(known != nullptr, "ABI " << SLUICE_ABI_MAJOR << "." << SLUICE_ABI_MINOR
                                           << " is new: add {" << SLUICE_ABI_MAJOR << ", "
                                           << SLUICE_ABI_MINOR << ", " << hex.str()
                                           << "} to kKnownVersions");
  CHECK_MESSAGE(known->hash == hash,
                "plugin_abi.h changed without a new version: bump SLUICE_ABI_MINOR (fields "
                "appended) or SLUICE_ABI_MAJOR (anything else), and record the new hash");
}

TEST_CASE("comments and whitespace do not count, code does") {
  CHECK(normalize("int  a; /* x */\n// y\nint b;") == normalize("int a;\nint b; // z"));
  CHECK(normalize("int a;") != normalize("int b;"));
}

// Structs used as array elements never change within a major version; these are their layouts
// on LP64 (what plugins for this agent are built for).
static_assert(sizeof(void*) != 8 || sizeof(sluice_str) == 16);
static_assert(sizeof(void*) != 8 || sizeof(sluice_tag) == 32);
static_assert(sizeof(void*) != 8 || sizeof(sluice_field) == 40);
static_assert(sizeof(void*) != 8 || sizeof(sluice_option_spec) == 32);
static_assert(offsetof(sluice_field, value) == 2 * sizeof(void*) + 8);
// Growable structs start with struct_size, then (for descriptors) abi_major, in every version.
static_assert(offsetof(sluice_library, struct_size) == 0 &&
              offsetof(sluice_library, abi_major) == 4);
static_assert(offsetof(sluice_plugin, struct_size) == 0 && offsetof(sluice_plugin, abi_major) == 4);
static_assert(offsetof(sluice_host_api, struct_size) == 0);
static_assert(offsetof(sluice_metric, struct_size) == 0);
