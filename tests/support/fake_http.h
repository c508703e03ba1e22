#pragma once
// A scripted HttpClient for unit tests: records every request and answers from a queue.

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "aws/http.h"

namespace es::testing {

struct RecordedRequest {
  std::string method;
  std::string url;
  aws::Headers headers;
  std::string body;
  std::uint64_t max_body_bytes = 0;      ///< the request's cap on its response body
  std::chrono::milliseconds timeout{0};  ///< the request's own time limit (0: the client's)

  [[nodiscard]] std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() && strncasecmp(k.c_str(), std::string(name).c_str(), k.size()) == 0)
        return v;
    }
    return {};
  }
};

/// A BodySource handing out its body in pieces of at most `piece` bytes; counts its rewinds.
class PiecewiseSource final : public aws::BodySource {
 public:
  PiecewiseSource(std::string body, std::size_t piece) : body_(std::move(body)), piece_(piece) {}
  [[nodiscard]] std::uint64_t size() const override { return body_.size(); }
  void rewind() override {
    at_ = 0;
    ++rewinds;
  }
  [[nodiscard]] Result<std::size_t> read(char* out, std::size_t room) override {
    const std::size_t n = std::min({piece_, room, body_.size() - at_});
    if (n > 0) std::memcpy(out, body_.data() + at_, n);
    at_ += n;
    return n;
  }
  int rewinds = 0;

 private:
  std::string body_;
  std::size_t piece_;
  std::size_t at_ = 0;
};

/// The bytes a transport sends for request: its body, or all its body source produces.
inline std::string sent_body(const aws::HttpRequest& request) {
  if (request.body_source == nullptr) return std::string(request.body);
  Result<std::string> body = aws::read_body(*request.body_source);
  return body.ok() ? std::move(body).value() : "<the body source failed: " + body.error().message + ">";
}

class FakeHttpClient final : public aws::HttpClient {
 public:
  using Handler = std::function<Result<aws::HttpResponse>(const RecordedRequest&)>;

  /// Answers the next request with this response (FIFO).
  void reply(int status, std::string body, aws::Headers headers = {}) {
    aws::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.body.reserve(r.body.size() + aws::HttpResponse::kBodyPadding);
    r.headers = std::move(headers);
    replies_.emplace_back(std::move(r));
  }
  /// Answers the next request with a transport error.
  void fail(std::string code = "ConnectionError") {
    Error e;
    e.kind = ErrorKind::kTransport;
    e.code = std::move(code);
    e.message = "connection reset by peer";
    e.retryable = true;
    replies_.emplace_back(std::move(e));
  }
  /// When no scripted reply is queued, the handler answers (default: HTTP 500).
  void set_handler(Handler h) { handler_ = std::move(h); }

  Result<aws::HttpResponse> send(const aws::HttpRequest& request) override {
    requests.push_back({request.method, request.url, request.headers, sent_body(request),
                        request.max_body_bytes, request.timeout});
    if (!replies_.empty()) {
      auto r = std::move(replies_.front());
      replies_.pop_front();
      return capped(request, std::move(r));
    }
    if (handler_) return capped(request, handler_(requests.back()));
    aws::HttpResponse r;
    r.status = 500;
    return r;
  }

  void recycle_body(std::string body) override { recycled.push_back(body.data()); }

  std::vector<RecordedRequest> requests;
  /// Where each body handed back by recycle_body() lived (addresses only, never dereferenced).
  std::vector<const void*> recycled;

 private:
  // The transport's cap on the response body, as the curl client applies it.
  static Result<aws::HttpResponse> capped(const aws::HttpRequest& request, Result<aws::HttpResponse> r) {
    if (r.ok() && request.max_body_bytes != 0 && r->body.size() > request.max_body_bytes) {
      return aws::response_too_large(request, r->body.size());
    }
    return r;
  }
  std::deque<Result<aws::HttpResponse>> replies_;
  Handler handler_;
};

}  // namespace es::testing
