// The options that every HTTP output spells the same way (Telegraf's names): TLS, proxy,
// timeout, user agent, content encoding, extra headers.
#pragma once

#include <string_view>
#include <vector>

#include "core/http_client.hpp"
#include "sluice/options.hpp"

namespace sluice::core {

// `table` followed by tls_ca, tls_cert, tls_key, insecure_skip_verify and http_proxy.
std::vector<OptionSpec> with_http_client_options(std::vector<OptionSpec> table);

// The client settings from a plugin's options. Reads timeout, the TLS options, http_proxy,
// user_agent and content_encoding when the plugin declares them, and the extra headers from the
// map option `headers_option` ("http_headers" or "headers"). Throws OptionError for a
// content_encoding other than identity or gzip, a negative timeout, or a TLS key without its
// certificate.
HttpClientOptions http_client_options(const Options& options, std::string_view headers_option);

}  // namespace sluice::core
