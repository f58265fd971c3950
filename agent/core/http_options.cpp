#include "core/http_options.hpp"

#include <filesystem>

namespace sluice::core {

std::vector<OptionSpec> with_http_client_options(std::vector<OptionSpec> table) {
  static const OptionSpec kShared[] = {
      {"tls_ca", OptionType::kString, "", "PEM file of the CAs to trust (empty: the system's)"},
      {"tls_cert", OptionType::kString, "", "Client certificate (PEM) for mutual TLS"},
      {"tls_key", OptionType::kString, "", "Private key (PEM) of tls_cert"},
      {"insecure_skip_verify", OptionType::kBool, "false",
       "Use TLS but do not verify the server's certificate and name"},
      {"http_proxy", OptionType::kString, "",
       "Proxy URL (empty: the http_proxy/https_proxy environment variables)"},
  };
  table.insert(table.end(), std::begin(kShared), std::end(kShared));
  return table;
}

HttpClientOptions http_client_options(const Options& options, std::string_view headers_option) {
  HttpClientOptions out;
  auto string_of = [&](std::string_view name) {
    return options.has(name) ? options.get_string(name) : std::string();
  };
  if (options.has("timeout")) {
    out.timeout = options.get_duration("timeout");
    if (out.timeout.count() < 0) throw OptionError("timeout", "must not be negative");
  }
  out.tls_ca = string_of("tls_ca");
  out.tls_cert = string_of("tls_cert");
  out.tls_key = string_of("tls_key");
  if (options.has("insecure_skip_verify")) {
    out.insecure_skip_verify = options.get_bool("insecure_skip_verify");
  }
  out.proxy = string_of("http_proxy");
  out.user_agent = string_of("user_agent");
  for (const char* name : {"tls_ca", "tls_cert", "tls_key"}) {
    std::string path = string_of(name);
    if (!path.empty() && !std::filesystem::exists(path)) {
      throw OptionError(name, "file \"" + path + "\" does not exist");
    }
  }
  if (!out.tls_key.empty() && out.tls_cert.empty()) {
    throw OptionError("tls_key", "needs tls_cert, the certificate that goes with the key");
  }
  std::string encoding = string_of("content_encoding");
  if (encoding == "gzip") {
    out.gzip = true;
  } else if (!encoding.empty() && encoding != "identity") {
    throw OptionError("content_encoding", "expected identity or gzip, got \"" + encoding + "\"");
  }
  if (options.has(headers_option)) out.headers = options.get_string_map(headers_option);
  return out;
}

}  // namespace sluice::core
