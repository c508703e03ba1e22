#pragma once
/// The HTTP transport seen by every AWS client: a small interface with libcurl as one backend and
/// fakes in tests (the shape of DuckDB httpfs's HTTPClient).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace es::aws {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// A request body produced while it is sent, for one too large to hold in memory as a whole (an
/// object written from its events): the transport asks for it piece by piece, and from the first
/// byte again for every attempt.
class BodySource {
 public:
  virtual ~BodySource() = default;
  /// Its length in bytes (the Content-Length); read() produces exactly that many.
  [[nodiscard]] virtual std::uint64_t size() const = 0;
  /// Starts over from the first byte (called by the transport before every attempt).
  virtual void rewind() = 0;
  /// Writes the next bytes to out, at most `room` (> 0), and returns how many; 0 only at the end.
  /// An error aborts the request with it.
  [[nodiscard]] virtual Result<std::size_t> read(char* out, std::size_t room) = 0;
};

/// Everything source produces, from its first byte (for transports and stores that need the body
/// whole). kInvalidData when it produces more or fewer bytes than its size().
[[nodiscard]] Result<std::string> read_body(BodySource& source);

struct HttpRequest {
  std::string method = "GET";
  /// Absolute URL with the path already URI-encoded, e.g. "http://127.0.0.1:4569/bucket/a%20b?list-type=2".
  std::string url;
  Headers headers;
  /// Request body; not owned: must outlive send(). Sent with Content-Length (never chunked).
  std::string_view body;
  /// When set, the body is read from it instead (`body` stays empty); not owned. SigV4 signs the
  /// payload hash given in an x-amz-content-sha256 header, else "UNSIGNED-PAYLOAD" (S3 only).
  BodySource* body_source = nullptr;
  /// The largest response body accepted, in bytes; 0: no limit (a caller that reads objects of any
  /// size whole). Past it the transport stops receiving (a Content-Length above it is refused before
  /// the body arrives) and send() fails with response_too_large(): never an out-of-memory from a
  /// broken or hostile endpoint. Each operation sets its own (see kMaxDocumentBody, kMaxPageBody).
  std::uint64_t max_body_bytes = kMaxDocumentBody;
  /// The whole request's time limit when shorter than the client's (HttpOptions::request_timeout): the
  /// run's deadline (AwsCaller sets it). 0: the client's.
  std::chrono::milliseconds timeout{0};

  /// An XML or JSON document answered by a service: S3's lists, multipart answers, errors.
  static constexpr std::uint64_t kMaxDocumentBody = 8ULL << 20;
  /// A DynamoDB Scan/Query page: at most 1 MB of items, in DynamoDB JSON (types, names, escapes).
  static constexpr std::uint64_t kMaxPageBody = 16ULL << 20;
  /// A credentials document (container, IMDS): a few hundred bytes.
  static constexpr std::uint64_t kMaxCredentialsBody = 1ULL << 20;
};

/// The error of a response whose body passed request.max_body_bytes (at least `received` bytes, or
/// a Content-Length of that many): kInvalidData, code "ResponseTooLarge", not retryable (a protocol
/// error: the same request gets the same answer).
[[nodiscard]] Error response_too_large(const HttpRequest& request, std::uint64_t received);

struct HttpResponse {
  int status = 0;
  /// Header names lower-cased, values trimmed, in arrival order.
  Headers headers;
  /// Body bytes. The transport reserves at least kBodyPadding bytes of spare capacity after the body
  /// so that core's transcoder can parse a page in place (core/transcode.h, kJsonPadding).
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
