// What an HTTP answer means for the batch that was sent: the delivery rules every HTTP output
// shares.
#pragma once

#include <string_view>

#include "core/http_client.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

// Maps an answer to the host's write result:
// - 2xx: ok;
// - no answer (refused, timeout, TLS failure), 429, 5xx: retry, with the server's Retry-After;
// - 401, 403: retry, saying that the credentials were refused (a reload may fix them);
// - 400, 422: reject (InfluxDB's "partial write" is a 400: the good points were written, the
//   rest can never be, so the batch is done with); the server's message is in the error;
// - 413: split;
// - anything else (404, 405, ...): retry, as the data is not at fault and a corrected config
//   (reloaded) can still deliver it.
// `what` names the request in messages, e.g. "POST http://127.0.0.1:8086/write".
WriteResult http_write_result(const HttpResponse& response, std::string_view what);

// The start of a response body for a log line: one line, at most `limit` characters.
std::string body_excerpt(std::string_view body, size_t limit = 300);

}  // namespace sluice::core
