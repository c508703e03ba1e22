#pragma once
/// Error values and Result<T>: how every module boundary in EagleSense reports failure.
///
/// Exceptions never cross a module; a function that can fail returns Result<T>. An Error carries
/// enough context (operation, resource, HTTP status, AWS code, request id, retryability) for an
/// operator to act on it without reading the code.

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace es {

/// Broad classes of failure; the AWS error code (if any) is in Error::code.
enum class ErrorKind {
  kInvalidArgument,  ///< bad input from a user, a file or the environment (config errors)
  kInvalidData,      ///< malformed data from a service or an item (unparseable JSON, bad checksum)
  kNotFound,         ///< a table, bucket or object that does not exist
  kAccessDenied,     ///< forbidden, wrong owner, bad signature
  /// a conditional write's condition did not hold (S3 412 PreconditionFailed: the object exists
  /// under If-None-Match: *, or has another ETag than If-Match): another writer came first. Final.
  kConflict,
  kThrottled,     ///< throttling / SlowDown
  kServiceError,  ///< any other error answered by a service (4xx/5xx with an AWS code)
  kTransport,     ///< connection refused/reset, timeout, TLS failure
  kIo,            ///< local file or process I/O
  kInternal,      ///< a bug: should never happen
};

std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;     ///< what went wrong and, where possible, what to do about it
  std::string operation;   ///< e.g. "DynamoDB.Scan", "S3.PutObject", "config"
  std::string resource;    ///< table, "bucket/key", setting name, file path
  int http_status = 0;     ///< 0 when no HTTP response was received
  std::string code;        ///< AWS error code ("ThrottlingException", "NoSuchBucket") or ""
  std::string request_id;  ///< x-amzn-RequestId / x-amz-request-id, when the service gave one
  bool retryable = false;

  /// One line for logs and the terminal: "S3.PutObject bucket/key: HTTP 403 AccessDenied: ... (request id
  /// X)".
  [[nodiscard]] std::string to_string() const;

  static Error invalid_argument(std::string resource, std::string message);
  static Error invalid_data(std::string resource, std::string message);
  static Error io(std::string resource, std::string message);
  static Error internal(std::string message);

  /// Adds the operation/resource if not set yet (innermost context wins).
  Error&& with_context(std::string_view operation, std::string_view resource = {}) &&;
};

/// Either a T or an Error. Cheap to move; [[nodiscard]] so that a failure is never ignored silently.
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error)
      : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, Error> &&
           !std::is_same_v<std::remove_cvref_t<U>, Result<T>>) Result(U&& value)
      : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

/// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() {
  return {};
}

}  // namespace es

#define ES_CONCAT_INNER(a, b) a##b
#define ES_CONCAT(a, b) ES_CONCAT_INNER(a, b)

/// Returns the error of a Result/Status expression from the enclosing function.
#define ES_TRY(expr)                                                    \
  do {                                                                  \
    auto&& es_try_result_ = (expr);                                     \
    if (!es_try_result_.ok()) return std::move(es_try_result_).error(); \
  } while (false)

/// ES_ASSIGN_OR_RETURN(auto x, f()); declares x from f()'s value or returns f()'s error.
#define ES_ASSIGN_OR_RETURN(lhs, expr) ES_ASSIGN_OR_RETURN_IMPL(ES_CONCAT(es_result_, __LINE__), lhs, expr)
#define ES_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).error();  \
  lhs = std::move(tmp).value()
