#pragma once
/// The HTTP transport seen by every AWS client: a small interface with libcurl as one backend and
/// fakes in tests (the shape of DuckDB httpfs's HTTPClient).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace es::aws {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  /// Absolute URL with the path already URI-encoded, e.g. "http://127.0.0.1:4569/bucket/a%20b?list-type=2".
  std::string url;
  Headers headers;
  /// Request body; not owned: must outlive send(). Sent with Content-Length (never chunked).
  std::string_view body;
};

struct HttpResponse {
  int status = 0;
  /// Header names lower-cased, values trimmed, in arrival order.
  Headers headers;
  /// Body bytes. The transport reserves at least kBodyPadding bytes of spare capacity after the body
  /// so that simdjson can parse it in place.
  std::string body;

  static constexpr std::size_t kBodyPadding = 64;

  /// First header with this lower-case name, if present.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view lower_name) const;
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{3'000};
  /// Whole-request limit; 0 = none (then the low-speed limit below still ends stalled transfers).
  std::chrono::milliseconds request_timeout{120'000};
  /// Abort when fewer than low_speed_bytes per second flow for low_speed_time.
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{30};
  /// TLS peer and host verification. Only an explicit, loudly logged setting turns it off.
  bool verify_tls = true;
  std::string ca_bundle;  ///< empty: the system default
};

/// Sends one request and returns the complete response. Any HTTP status is a successful send();
/// an Error (kind kTransport, retryable) means no complete response was received: connection
/// refused/reset, timeout, TLS failure, truncated body.
///
/// An HttpClient is not thread-safe: each worker owns one (and so one keep-alive connection pool).
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  [[nodiscard]] virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
  /// Hands back a spent response body: a later send() may receive into its capacity instead of a
  /// fresh allocation. A reader fetching 1 MB page after page then allocates (and faults in) its
  /// receive buffer once instead of once per page. A hint only: transports may ignore it.
  virtual void recycle_body(std::string body) { static_cast<void>(body); }
};

/// libcurl backend with a reusable easy handle (keep-alive).
[[nodiscard]] std::unique_ptr<HttpClient> make_curl_http_client(const HttpOptions& options);

/// Must be called once before threads start (curl_global_init); safe to call repeatedly.
void global_http_init();

}  // namespace es::aws
