// The collectd data format: packets of collectd's binary network protocol (the network plugin),
// plain, signed (HMAC-SHA256) or encrypted (AES-256-OFB), into one metric per value (split) or
// per value list (join), named after Telegraf's collectd parser.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "parsers/collectd/types_db.hpp"
#include "parsers/parse_text.hpp"
#include "plugin/registry.hpp"

namespace sluice::parsers::collectd {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"collectd_typesdb", OptionType::kStringList, "[/usr/share/collectd/types.db]",
     "types.db files naming the values of each type"},
    {"collectd_security_level", OptionType::kString, "none",
     "none (accept all), sign (only signed or encrypted data) or encrypt (only encrypted data)"},
    {"collectd_auth_file", OptionType::kString, "",
     "File of \"user: password\" lines, for signed and encrypted packets"},
    {"collectd_parse_multivalue", OptionType::kString, "split",
     "split: one metric per value (<plugin>_<dsname>); join: one per value list (<plugin>)"},
};

enum class Level { kNone, kSign, kEncrypt };

constexpr uint16_t kHost = 0x0000, kTime = 0x0001, kPlugin = 0x0002, kPluginInstance = 0x0003,
                   kType = 0x0004, kTypeInstance = 0x0005, kValues = 0x0006, kInterval = 0x0007,
                   kTimeHr = 0x0008, kIntervalHr = 0x0009, kSignature = 0x0200,
                   kEncryption = 0x0210;

const char* part_name(uint16_t type) {
  switch (type) {
    case kHost:
      return "host";
    case kTime:
      return "time";
    case kPlugin:
      return "plugin";
    case kPluginInstance:
      return "plugin_instance";
    case kType:
      return "type";
    case kTypeInstance:
      return "type_instance";
    case kValues:
      return "values";
    case kInterval:
      return "interval";
    case kTimeHr:
      return "time_hr";
    case kIntervalHr:
      return "interval_hr";
    case kSignature:
      return "signature";
    case kEncryption:
      return "encryption";
    default:
      return "unknown";
  }
}

uint16_t be16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint64_t be64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
double le_double(const unsigned char* p) {
  uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) bits = (bits << 8) | p[i];
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

struct User {
  std::string password;
  unsigned char key[32];  // SHA-256 of the password: the AES key
};

// Where values come from: the identifier parts seen so far in the packet.
struct State {
  std::string host, plugin, plugin_instance, type, type_instance;
  int64_t time = 0;
};

class CollectdParser : public Parser {
 public:
  CollectdParser(TypesDb types, Level level, std::map<std::string, User, std::less<>> users,
                 bool join)
      : types_(std::move(types)), level_(level), users_(std::move(users)), join_(join) {
    mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  }
  ~CollectdParser() override { EVP_MAC_free(mac_); }
  CollectdParser(const CollectdParser&) = delete;
  CollectdParser& operator=(const CollectdParser&) = delete;

  void parse(std::string_view data, int64_t now, Batch& out,
             std::vector<ParseError>& errors) override {
    State state;
    now_ = now;
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    parse_parts(bytes, data.size(), "", state, false, false, out, errors);
  }

 private:
  void error(std::vector<ParseError>& errors, std::string_view context, size_t offset,
             uint16_t type, const std::string& reason) {
    char head[48];
    std::snprintf(head, sizeof head, "part 0x%04x (%s) at offset ", type, part_name(type));
    std::string text = head + std::to_string(offset);
    text += context;
    text += ": ";
    text += reason;
    errors.push_back({0, 0, std::move(text)});
  }

  // Reads the parts of a packet (or of a decrypted payload, `context` saying where it is).
  // `signed_` and `encrypted` say what protects the parts read.
  void parse_parts(const unsigned char* p, size_t size, std::string_view context, State& state,
                   bool signed_, bool encrypted, Batch& out, std::vector<ParseError>& errors) {
    size_t offset = 0;
    while (offset < size) {
      if (size - offset < 4) {
        std::string text = "truncated part header at offset " + std::to_string(offset);
        text += context;
        text += ": " + std::to_string(size - offset) + " of 4 bytes";
        errors.push_back({0, 0, std::move(text)});
        return;
      }
      uint16_t type = be16(p + offset);
      size_t length = be16(p + offset + 2);
      if (length < 4) {
        error(errors, context, offset, type,
              "length " + std::to_string(length) + " is shorter than the part header");
        return;  // the next part's start is unknown
      }
      if (length > size - offset) {
        error(errors, context, offset, type,
              "length " + std::to_string(length) + " runs past the end of the packet (" +
                  std::to_string(size - offset) + " bytes left)");
        return;
      }
      const unsigned char* body = p + offset + 4;
      size_t body_size = length - 4;
      switch (type) {
        case kHost:
        case kPlugin:
        case kPluginInstance:
        case kType:
        case kTypeInstance: {
          if (body_size == 0 || body[body_size - 1] != '\0') {
            error(errors, context, offset, type, "the string is not NUL-terminated");
            break;
          }
          std::string_view s(reinterpret_cast<const char*>(body),
                             strnlen(reinterpret_cast<const char*>(body), body_size));
          std::string& to = type == kHost             ? state.host
                            : type == kPlugin         ? state.plugin
                            : type == kPluginInstance ? state.plugin_instance
                            : type == kType           ? state.type
                                                      : state.type_instance;
          to.assign(s);
          break;
        }
        case kTime:
        case kTimeHr: {
          if (body_size != 8) {
            error(errors, context, offset, type,
                  "a time is 8 bytes, this part has " + std::to_string(body_size));
            break;
          }
          uint64_t v = be64(body);
          uint64_t seconds = type == kTime ? v : v >> 30;
          if (seconds > 9'000'000'000ULL) {
            error(errors, context, offset, type, "time out of range");
            break;
          }
          int64_t ns = static_cast<int64_t>(seconds) * 1'000'000'000;
          if (type == kTimeHr) {
            uint64_t fraction = v & ((uint64_t{1} << 30) - 1);
            ns += static_cast<int64_t>((fraction * 1'000'000'000ULL + (uint64_t{1} << 29)) >> 30);
          }
          state.time = ns;
          break;
        }
        case kInterval:
        case kIntervalHr:
          if (body_size != 8) {
            error(errors, context, offset, type,
                  "an interval is 8 bytes, this part has " + std::to_string(body_size));
          }
          break;  // metrics do not carry the interval
        case kValues:
          if (level_ == Level::kEncrypt && !encrypted) {
            error(errors, context, offset, type,
                  "values not encrypted, but collectd_security_level is encrypt");
          } else if (level_ == Level::kSign && !signed_ && !encrypted) {
            error(errors, context, offset, type,
                  "values not signed, but collectd_security_level is sign");
          } else {
            read_values(body, body_size, context, offset, state, out, errors);
          }
          break;
        case kSignature: {
          // HMAC-SHA256 of the user name and everything after this part, keyed with the password.
          if (body_size <= 32) {
            error(errors, context, offset, type, "too short for a signature and a user name");
            return;
          }
          std::string_view user(reinterpret_cast<const char*>(body + 32), body_size - 32);
          auto it = users_.find(user);
          if (it == users_.end()) {
            if (level_ == Level::kNone) break;  // cannot check, and need not
            error(errors, context, offset, type,
                  "unknown user \"" + excerpt(user) + "\" (collectd_auth_file)");
            return;
          }
          const unsigned char* rest = p + offset + length;
          size_t rest_size = size - offset - length;
          unsigned char mac[32];
          if (!hmac_sha256(it->second.password, user, rest, rest_size, mac) ||
              CRYPTO_memcmp(mac, body, 32) != 0) {
            error(errors, context, offset, type,
                  "signature mismatch for user \"" + excerpt(user) + "\"; the rest is dropped");
            return;
          }
          signed_ = true;
          break;
        }
        case kEncryption:
          decrypt(body, body_size, context, offset, state, signed_, out, errors);
          break;
        default:
          break;  // notifications and newer parts: not metrics
      }
      offset += length;
    }
  }

  bool hmac_sha256(const std::string& key, std::string_view user, const unsigned char* rest,
                   size_t rest_size, unsigned char* out) {
    if (mac_ == nullptr) return false;
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac_);
    if (ctx == nullptr) return false;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};
    size_t len = 0;
    bool ok = EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                           params) == 1 &&
              EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(user.data()),
                             user.size()) == 1 &&
              EVP_MAC_update(ctx, rest, rest_size) == 1 && EVP_MAC_final(ctx, out, &len, 32) == 1 &&
              len == 32;
    EVP_MAC_CTX_free(ctx);
    return ok;
  }

  // An encrypted part: user name length, user name, IV (16), then AES-256-OFB of the SHA-1 of
  // the payload followed by the payload (more parts).
  void decrypt(const unsigned char* body, size_t size, std::string_view context, size_t offset,
               State& state, bool signed_, Batch& out, std::vector<ParseError>& errors) {
    if (size < 2) {
      error(errors, context, offset, kEncryption, "too short for the user name length");
      return;
    }
    size_t user_len = be16(body);
    if (size < 2 + user_len + 16 + 20) {
      error(errors, context, offset, kEncryption,
            "too short for a user name of " + std::to_string(user_len) +
                " bytes, the IV and the checksum");
      return;
    }
    std::string_view user(reinterpret_cast<const char*>(body + 2), user_len);
    auto it = users_.find(user);
    if (it == users_.end()) {
      error(errors, context, offset, kEncryption,
            "unknown user \"" + excerpt(user) + "\" (collectd_auth_file)");
      return;
    }
    const unsigned char* iv = body + 2 + user_len;
    const unsigned char* cipher = iv + 16;
    size_t cipher_size = size - 2 - user_len - 16;
    plain_.resize(cipher_size);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int out_len = 0;
    bool ok = ctx != nullptr &&
              EVP_DecryptInit_ex(ctx, EVP_aes_256_ofb(), nullptr, it->second.key, iv) == 1 &&
              EVP_DecryptUpdate(ctx, plain_.data(), &out_len, cipher,
                                static_cast<int>(cipher_size)) == 1 &&
              static_cast<size_t>(out_len) == cipher_size;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
      error(errors, context, offset, kEncryption, "decryption failed");
      return;
    }
    unsigned char sha1[20];
    unsigned int sha1_len = 0;
    if (EVP_Digest(plain_.data() + 20, cipher_size - 20, sha1, &sha1_len, EVP_sha1(), nullptr) !=
            1 ||
        CRYPTO_memcmp(sha1, plain_.data(), 20) != 0) {
      error(errors, context, offset, kEncryption,
            "checksum mismatch after decryption (wrong password for user \"" + excerpt(user) +
                "\", or a corrupt packet)");
      return;
    }
    // The buffer is taken out of plain_ while its payload is read, as a nested encrypted part
    // would reuse plain_; it is put back after, to keep its capacity.
    std::vector<unsigned char> plain;
    plain.swap(plain_);
    std::string inner = std::string(context) + " in the encrypted part at offset " +
                        std::to_string(offset) + ", payload";
    parse_parts(plain.data() + 20, plain.size() - 20, inner, state, signed_, true, out, errors);
    plain_.swap(plain);
  }

  void read_values(const unsigned char* body, size_t size, std::string_view context, size_t offset,
                   const State& state, Batch& out, std::vector<ParseError>& errors) {
    if (size < 2) {
      error(errors, context, offset, kValues, "too short for the number of values");
      return;
    }
    size_t n = be16(body);
    if (size != 2 + n * 9) {
      error(errors, context, offset, kValues,
            std::to_string(n) + " values need " + std::to_string(2 + n * 9) +
                " bytes, the part has " + std::to_string(size));
      return;
    }
    if (n == 0) {
      error(errors, context, offset, kValues, "no values");
      return;
    }
    const unsigned char* kinds = body + 2;
    const unsigned char* values = body + 2 + n;
    for (size_t i = 0; i < n; ++i) {
      if (kinds[i] > 3) {
        error(errors, context, offset, kValues,
              "value " + std::to_string(i) + " has the unknown data type " +
                  std::to_string(kinds[i]));
        return;
      }
    }
    const std::vector<std::string>* names = types_.names(state.type);
    if (names != nullptr && names->size() != n) {
      error(errors, context, offset, kValues,
            "type " + state.type + " has " + std::to_string(names->size()) +
                " data sources in types.db, the packet " + std::to_string(n));
      return;
    }
    auto ds_name = [&](size_t i) -> std::string {
      if (names != nullptr) return (*names)[i];
      return n == 1 ? std::string("value") : std::to_string(i);
    };
    int64_t time = state.time != 0 ? state.time : now_;
    auto tag = [&](Metric& m) {
      if (!state.host.empty()) m.set_tag("host", state.host);
      if (!state.plugin_instance.empty()) m.set_tag("instance", state.plugin_instance);
      if (!state.type.empty()) m.set_tag("type", state.type);
      if (!state.type_instance.empty()) m.set_tag("type_instance", state.type_instance);
    };
    Metric joined;
    if (join_) {
      joined = Metric(state.plugin, time);
      tag(joined);
    }
    for (size_t i = 0; i < n; ++i) {
      const unsigned char* v = values + 8 * i;
      double value = 0;
      ValueType vt = ValueType::kUntyped;
      switch (kinds[i]) {
        case 0:
          value = static_cast<double>(be64(v));
          vt = ValueType::kCounter;
          break;
        case 1:
          value = le_double(v);
          vt = ValueType::kGauge;
          break;
        case 2:
          value = static_cast<double>(static_cast<int64_t>(be64(v)));
          vt = ValueType::kCounter;
          break;
        case 3:
          value = static_cast<double>(be64(v));
          break;
      }
      if (std::isnan(value)) continue;  // collectd's "unknown" gauge
      if (join_) {
        joined.set_field(ds_name(i), value);
        continue;
      }
      Metric m(state.plugin + "_" + ds_name(i), time, vt);
      tag(m);
      m.append_field("value", value);
      out.push_back(std::move(m));
    }
    if (join_ && !joined.fields().empty()) out.push_back(std::move(joined));
  }

  TypesDb types_;
  Level level_;
  std::map<std::string, User, std::less<>> users_;
  bool join_;
  EVP_MAC* mac_ = nullptr;
  int64_t now_ = 0;
  std::vector<unsigned char> plain_;
};

std::map<std::string, User, std::less<>> read_auth_file(const std::string& path) {
  std::map<std::string, User, std::less<>> users;
  std::ifstream in(path);
  if (!in) throw OptionError("collectd_auth_file", "cannot read " + path);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view l = trim(line);
    if (l.empty() || l.front() == '#') continue;
    size_t colon = l.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      throw OptionError("collectd_auth_file",
                        path + " line " + std::to_string(line_no) + ": not \"user: password\"");
    }
    User u;
    u.password = std::string(trim(l.substr(colon + 1)));
    unsigned int len = 0;
    EVP_Digest(u.password.data(), u.password.size(), u.key, &len, EVP_sha256(), nullptr);
    users[std::string(trim(l.substr(0, colon)))] = std::move(u);
  }
  return users;
}

std::unique_ptr<Parser> create(const PluginContext& ctx) {
  const Options& o = ctx.options;
  TypesDb types;
  for (const std::string& file : o.get_strings("collectd_typesdb")) {
    // Without collectd installed, the default file is missing: values are then named by index.
    if (!o.is_set("collectd_typesdb") && !std::filesystem::exists(file)) continue;
    std::string error;
    if (!types.load_file(file, &error)) throw OptionError("collectd_typesdb", error);
  }
  const std::string& level_text = o.get_string("collectd_security_level");
  Level level;
  if (level_text == "none") {
    level = Level::kNone;
  } else if (level_text == "sign") {
    level = Level::kSign;
  } else if (level_text == "encrypt") {
    level = Level::kEncrypt;
  } else {
    throw OptionError("collectd_security_level",
                      "\"" + level_text + "\" is not none, sign or encrypt");
  }
  std::map<std::string, User, std::less<>> users;
  const std::string& auth = o.get_string("collectd_auth_file");
  if (!auth.empty()) {
    users = read_auth_file(auth);
  } else if (level != Level::kNone) {
    throw OptionError("collectd_auth_file", "is needed with collectd_security_level " + level_text);
  }
  const std::string& multi = o.get_string("collectd_parse_multivalue");
  if (multi != "split" && multi != "join") {
    throw OptionError("collectd_parse_multivalue", "\"" + multi + "\" is not split or join");
  }
  return std::make_unique<CollectdParser>(std::move(types), level, std::move(users),
                                          multi == "join");
}

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kParser;
  info.name = "collectd";
  info.description = "collectd's binary network protocol (plain, signed or encrypted)";
  info.options = kOptions;
  info.create_parser = create;
  registry.add(std::move(info));
}

}  // namespace sluice::parsers::collectd
