#include "core/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

#include "core/http_retry_after.hpp"

namespace sluice::core {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Where the body goes: the response, up to a limit.
struct BodySink {
  HttpResponse* response;
  size_t limit;  // 0: no limit
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  std::string& body = sink->response->body;
  size_t n = size * count;
  size_t room = sink->limit == 0 ? n : sink->limit - std::min(sink->limit, body.size());
  if (room < n) sink->response->body_truncated = true;
  body.append(data, std::min(n, room));
  return n;  // the rest is read and ignored
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * count);
  // A new status line (after "100 Continue" or a redirect) starts a new set of headers.
  if (line.starts_with("HTTP/")) {
    response->headers.clear();
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  response->headers.emplace_back(lower(line.substr(0, colon)), std::string(value));
  return line.size();
}

// A curl_slist that frees itself.
class HeaderList {
 public:
  ~HeaderList() { curl_slist_free_all(list_); }
  void add(const std::string& line) {
    curl_slist* next = curl_slist_append(list_, line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    list_ = next;
  }
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

}  // namespace

struct HttpClient::Curl {
  CURL* handle = nullptr;
  char error[CURL_ERROR_SIZE] = {};
};

const std::string* HttpResponse::header(std::string_view name) const {
  std::string key = lower(name);
  for (const auto& [k, v] : headers) {
    if (k == key) return &v;
  }
  return nullptr;
}

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), curl_(std::make_unique<Curl>()) {
  global_init();
  curl_->handle = curl_easy_init();
  if (curl_->handle == nullptr) throw std::runtime_error("cannot create an HTTP client (libcurl)");
  CURL* h = curl_->handle;
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM, safe in threads
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_->error);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  long timeout_ms = static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  if (timeout_ms > 0) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  std::string agent =
      options_.user_agent.empty() ? std::string("sluice/") + SLUICE_VERSION : options_.user_agent;
  curl_easy_setopt(h, CURLOPT_USERAGENT, agent.c_str());  // libcurl copies strings it keeps
  if (!options_.tls_ca.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.tls_ca.c_str());
  if (!options_.tls_cert.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, options_.tls_cert.c_str());
  if (!options_.tls_key.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, options_.tls_key.c_str());
  if (options_.insecure_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options_.proxy.empty()) curl_easy_setopt(h, CURLOPT_PROXY, options_.proxy.c_str());
  if (!options_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, options_.password.c_str());
  }
  if (options_.accept_compressed) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
}

HttpClient::~HttpClient() {
  if (curl_ && curl_->handle != nullptr) curl_easy_cleanup(curl_->handle);
}

HttpResponse HttpClient::send(const HttpRequest& request) {
  HttpResponse response;
  CURL* h = curl_->handle;
  curl_->error[0] = '\0';

  std::string_view body = request.body;
  HeaderList headers;
  if (options_.gzip && request.compress && !body.empty()) {
    if (!gzip_.compress(body, compressed_)) {
      response.error = "compressing the body with gzip failed";
      return response;
    }
    body = compressed_;
    headers.add("Content-Encoding: gzip");
  }
  if (!request.content_type.empty()) headers.add("Content-Type: " + request.content_type);
  // Without this, libcurl waits for "100 Continue" before sending bodies over 1 KiB: a round
  // trip per write for nothing.
  headers.add("Expect:");
  for (const auto& [name, value] : options_.headers) headers.add(name + ": " + value);
  for (const auto& [name, value] : request.headers) headers.add(name + ": " + value);

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    // Never a null pointer: libcurl would then read the body from stdin.
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
                     request.method == "POST" ? nullptr : request.method.c_str());
  }
  BodySink sink{&response, options_.max_response_body};
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response);

  CURLcode rc = curl_easy_perform(h);
  // The list dies with this call: libcurl must not keep a pointer to it.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  if (rc != CURLE_OK) {
    response.status = 0;
    response.error = curl_->error[0] != '\0' ? curl_->error : curl_easy_strerror(rc);
    return response;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  if (const std::string* value = response.header("retry-after")) {
    response.retry_after = parse_retry_after(*value, std::chrono::system_clock::now());
  }
  return response;
}

}  // namespace sluice::core
