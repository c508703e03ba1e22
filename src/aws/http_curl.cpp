#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <mutex>
#include <optional>

#include <curl/curl.h>
#include <fmt/format.h>

#include "aws/http.h"
#include "core/log.h"

namespace es::aws {
namespace {

struct CurlEasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Curl reports redirects, 100-continue and proxies as several header blocks; only the last one is
// the response. A status line starts a new block.
// What the header and body callbacks share: the response, and its body's cap.
struct Receive {
  HttpResponse* response = nullptr;
  std::uint64_t max_body = 0;      // 0: none
  std::uint64_t too_large_at = 0;  // set when the body passed max_body (then the transfer is aborted)
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* receive = static_cast<Receive*>(user);
  HttpResponse* response = receive->response;
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    response->headers.clear();
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(trim(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string_view value = trim(line.substr(colon + 1));
  if (name == "content-length") {
    // One allocation of the right size (plus the JSON padding, kBodyPadding) instead of doubling and copying
    // a 1 MB Scan page up from 4 KB: the copies were 10% of the exporter's CPU. A large body gets an eighth
    // of headroom: Scan pages of one reader differ by a few bytes, and a recycled buffer grown to each new
    // maximum exactly was reallocated (and faulted in) again and again. Unused capacity of a large (mmap'd)
    // buffer costs address space, not memory.
    std::uint64_t length = 0;
    const bool parsed = std::from_chars(value.data(), value.data() + value.size(), length).ec == std::errc();
    if (parsed && receive->max_body != 0 && length > receive->max_body) {
      receive->too_large_at = length;  // refused before a byte of it arrives (or is reserved)
      return 0;
    }
    if (parsed && length <= (256ULL << 20)) {
      const auto needed = static_cast<std::size_t>(length) + HttpResponse::kBodyPadding;
      if (response->body.capacity() < needed) {
        response->body.reserve(needed < (64 << 10) ? needed : needed + needed / 8);
      }
    }
  }
  response->headers.emplace_back(std::move(name), std::string(value));
  return n;
}

// The body of a request with a BodySource, and the error that made read() abort it.
struct Upload {
  BodySource* source = nullptr;
  std::optional<Error> error;
};

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  Result<std::size_t> n = upload->source->read(buffer, size * count);
  if (!n.ok()) {
    upload->error = std::move(n).error();
    return CURL_READFUNC_ABORT;
  }
  return *n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* receive = static_cast<Receive*>(user);
  std::string* body = &receive->response->body;
  const size_t n = size * count;
  // A body without a Content-Length (chunked) or longer than it said is cut at the cap.
  if (receive->max_body != 0 && body->size() + n > receive->max_body) {
    receive->too_large_at = body->size() + n;
    return 0;
  }
  // Keep spare capacity for the JSON padding (kBodyPadding) so that parsing needs no copy.
  if (body->capacity() < body->size() + n + HttpResponse::kBodyPadding) {
    body->reserve(std::max(body->capacity() * 2, body->size() + n + HttpResponse::kBodyPadding));
  }
  body->append(data, n);
  return n;
}

bool is_retryable_curl_code(CURLcode code) {
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_OUT_OF_MEMORY:
      return false;
    default:
      return true;
  }
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(HttpOptions options) : options_(std::move(options)), easy_(curl_easy_init()) {
    if (!options_.verify_tls) {
      log::warn("http.tls_verification_disabled",
                {{"message", "TLS certificate verification is OFF for this client: use only for testing"}});
    }
  }

  Result<HttpResponse> send(const HttpRequest& request) override {
    if (!easy_) return Error::internal("curl_easy_init failed");
    CURL* h = easy_.get();
    // curl_easy_reset clears options but keeps live connections, so keep-alive survives.
    curl_easy_reset(h);
    HttpResponse response;
    if (spare_body_.capacity() > 4096) {
      response.body = std::move(spare_body_);
      response.body.clear();
      spare_body_ = std::string();
    } else {
      response.body.reserve(4096);
    }

    CurlSlist headers;
    Upload upload;
    bool has_content_type = false;
    for (const auto& [name, value] : request.headers) {
      if (name.size() == 12 && strncasecmp(name.c_str(), "content-type", 12) == 0) has_content_type = true;
      // "Name;" is curl's syntax for a header with an empty value.
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      curl_slist* next = curl_slist_append(headers.get(), line.c_str());
      if (next == nullptr) return Error::internal("curl_slist_append failed");
      static_cast<void>(headers.release());
      headers.reset(next);
    }
    // Never let curl add headers we did not sign or ask for.
    for (const char* suppressed : {"Expect:", "Transfer-Encoding:"}) {
      curl_slist* next = curl_slist_append(headers.get(), suppressed);
      static_cast<void>(headers.release());
      headers.reset(next);
    }
    if (!has_content_type) {
      curl_slist* next = curl_slist_append(headers.get(), "Content-Type:");
      static_cast<void>(headers.release());
      headers.reset(next);
    }

    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    std::chrono::milliseconds timeout = options_.request_timeout;
    if (request.timeout.count() > 0 && (timeout.count() == 0 || request.timeout < timeout))
      timeout = request.timeout;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_bundle.c_str());
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    // Read 128 KiB per recv() instead of curl's 16 KiB: a 1.75 MB Scan page took ~110 syscalls.
    // (Below glibc's mmap threshold, so the buffer is reused from the heap, not faulted in anew.)
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 128L << 10);
    // S3 keys are opaque: never let curl squash "/./" or "/../" in a path.
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    Receive receive{&response, request.max_body_bytes, 0};
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &receive);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &receive);
    // Decode nothing: checksums (x-amz-crc32) are over the bytes on the wire.
    curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);

    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (request.body_source != nullptr) {
        upload.source = request.body_source;
        upload.source->rewind();
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(upload.source->size()));
        curl_easy_setopt(h, CURLOPT_READFUNCTION, &on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &upload);
      } else if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      }
    }

    const CURLcode rc = curl_easy_perform(h);
    if (upload.error) return std::move(*upload.error);
    if (receive.too_large_at != 0) {
      // The connection is mid-response: close it rather than reuse it.
      easy_.reset(curl_easy_init());
      return response_too_large(request, receive.too_large_at);
    }
    if (rc != CURLE_OK) {
      Error e;
      e.kind = ErrorKind::kTransport;
      e.code = rc == CURLE_OPERATION_TIMEDOUT ? "Timeout" : "ConnectionError";
      e.message = fmt::format("{} (curl error {}) for {} {}", curl_easy_strerror(rc), static_cast<int>(rc),
                              request.method, request.url);
      e.retryable = is_retryable_curl_code(rc);
      return e;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

  void recycle_body(std::string body) override {
    // The largest buffer wins, up to a cap: a stray huge GET must not stay resident.
    if (body.capacity() > spare_body_.capacity() && body.capacity() <= kMaxSpareBody) {
      spare_body_ = std::move(body);
    }
  }

 private:
  static constexpr std::size_t kMaxSpareBody = 16 << 20;

  HttpOptions options_;
  CurlEasy easy_;
  std::string spare_body_;  // a recycled response body, received into by the next send()
};

}  // namespace

Error response_too_large(const HttpRequest& request, std::uint64_t received) {
  Error e = Error::invalid_data(
      {}, fmt::format("the response body passed its limit of {} bytes ({} or more) for {} {}: not read "
                      "further (a broken or hostile endpoint?)",
                      request.max_body_bytes, received, request.method, request.url));
  e.code = "ResponseTooLarge";
  e.retryable = false;
  return e;
}

Result<std::string> read_body(BodySource& source) {
  source.rewind();
  std::string body(source.size(), '\0');
  std::size_t at = 0;
  for (;;) {
    char spare = 0;  // one byte past the end: a source longer than its size() shows here
    char* out = at < body.size() ? body.data() + at : &spare;
    ES_ASSIGN_OR_RETURN(const std::size_t n, source.read(out, at < body.size() ? body.size() - at : 1));
    if (n == 0) break;
    at += n;
    if (at > body.size()) break;
  }
  if (at != body.size()) {
    return Error::invalid_data("request body",
                               fmt::format("the body source produced {}{} bytes for a size of {}",
                                           at > body.size() ? "more than " : "", at, body.size()));
  }
  return body;
}

std::optional<std::string_view> HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

void global_http_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::unique_ptr<HttpClient> make_curl_http_client(const HttpOptions& options) {
  global_http_init();
  return std::make_unique<CurlHttpClient>(options);
}

}  // namespace es::aws
