// S3Client against a scripted HttpClient: URLs, headers, checksums, multipart flow, errors, retries.

#include "s3/s3_client.h"

#include <deque>
#include <functional>
#include <map>

#include <gtest/gtest.h>
#include <strings.h>

#include "aws/credentials.h"
#include "aws/retry.h"
#include "core/hash.h"
#include "support/fake_http.h"

namespace es::s3 {
namespace {

using aws::Headers;
using aws::HttpResponse;

struct SentRequest {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;
  std::uint64_t max_body_bytes = 0;

  /// Value of the header (case-insensitive name); nullopt when absent.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() && strncasecmp(k.c_str(), std::string(name).c_str(), k.size()) == 0)
        return v;
    }
    return std::nullopt;
  }
  [[nodiscard]] bool url_has(std::string_view part) const { return url.find(part) != std::string::npos; }
};

/// Records requests; answers from a FIFO of scripted responses, then from a handler.
class FakeHttp final : public aws::HttpClient {
 public:
  using Handler = std::function<HttpResponse(const SentRequest&)>;

  Result<HttpResponse> send(const aws::HttpRequest& request) override {
    requests.push_back({request.method, request.url, request.headers, es::testing::sent_body(request),
                        request.max_body_bytes});
    if (!scripted.empty()) {
      HttpResponse r = std::move(scripted.front());
      scripted.pop_front();
      // The transport's cap, as the curl client applies it.
      if (request.max_body_bytes != 0 && r.body.size() > request.max_body_bytes) {
        return aws::response_too_large(request, r.body.size());
      }
      return r;
    }
    if (handler) return handler(requests.back());
    return response(500, "<Error><Code>InternalError</Code></Error>");
  }

  void reply(int status, std::string body = {}, Headers headers = {}) {
    scripted.push_back(response(status, std::move(body), std::move(headers)));
  }

  static HttpResponse response(int status, std::string body = {}, Headers headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }

  std::vector<SentRequest> requests;
  std::deque<HttpResponse> scripted;
  Handler handler;
};

std::string error_xml(std::string_view code, std::string_view message = "message") {
  return R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>)" + std::string(code) + "</Code><Message>" +
         std::string(message) + "</Message><RequestId>REQ123</RequestId></Error>";
}

struct Fixture {
  std::shared_ptr<aws::ServiceContext> context = std::make_shared<aws::ServiceContext>();
  FakeHttp* http = nullptr;
  std::optional<S3Client> client;

  explicit Fixture(aws::Endpoint endpoint = {"http", "127.0.0.1", 4569, true},
                   std::string region = "us-east-1") {
    context->endpoint = std::move(endpoint);
    context->signing = aws::SigningParams{std::move(region), "s3", true};
    context->credentials = aws::make_static_credentials({"AKIDTEST", "secret", "", std::nullopt, "test"});
    context->retry = aws::make_no_delay_retry_policy(3);
    context->sleeper = [](std::chrono::milliseconds) {};
    auto fake = std::make_unique<FakeHttp>();
    http = fake.get();
    Result<S3Client> made = S3Client::make(context, std::move(fake));
    EXPECT_TRUE(made.ok());
    client.emplace(std::move(made).value());
  }
  S3Client& s3() { return *client; }
  const SentRequest& last() const { return http->requests.back(); }
};

constexpr std::string_view kHelloSha256Hex =
    "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
constexpr std::string_view kHelloSha256B64 = "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=";
constexpr std::string_view kHelloMd5B64 = "XrY7u+Ae7tCTyyK7j1rNww==";

// ---------------------------------------------------------------- construction and addressing

TEST(S3Client, MakeRejectsAContextThatDoesNotSignForS3) {
  auto context = std::make_shared<aws::ServiceContext>();
  context->signing = aws::SigningParams{"us-east-1", "dynamodb", false};
  context->credentials = aws::make_static_credentials({"AKID", "secret", "", std::nullopt, "test"});
  context->retry = aws::make_no_delay_retry_policy(1);
  Result<S3Client> made = S3Client::make(context, std::make_unique<FakeHttp>());
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().kind, ErrorKind::kInvalidArgument);
}

TEST(S3Client, UsesPathStyleOnCustomEndpoints) {
  Fixture f;
  f.http->reply(200, {}, {{"etag", "\"e\""}});
  ASSERT_TRUE(f.s3().put_object("events-acme", "events-2026-11-29-10.json", "x").ok());
  EXPECT_EQ(f.last().url, "http://127.0.0.1:4569/events-acme/events-2026-11-29-10.json");
}

TEST(S3Client, UsesVirtualHostedStyleOnAwsAndSignsForS3) {
  Fixture f({"https", "s3.eu-west-1.amazonaws.com", 0, false}, "eu-west-1");
  f.http->reply(200, {}, {{"etag", "\"e\""}});
  ASSERT_TRUE(f.s3().put_object("events-acme", "a/b.json", "x").ok());
  EXPECT_EQ(f.last().url, "https://events-acme.s3.eu-west-1.amazonaws.com/a/b.json");
  const std::string auth = f.last().header("authorization").value_or("");
  EXPECT_NE(auth.find("/eu-west-1/s3/aws4_request"), std::string::npos) << auth;

  f.http->reply(200, {}, {{"etag", "\"e\""}});
  ASSERT_TRUE(f.s3().put_object("events.acme.com", "a/b.json", "x").ok());
  EXPECT_EQ(f.last().url, "https://s3.eu-west-1.amazonaws.com/events.acme.com/a/b.json");
}

TEST(S3Client, EncodesKeysWithSpacesUnicodePlusAndKeepsSlashes) {
  Fixture f;
  f.http->reply(200, "body");
  ASSERT_TRUE(f.s3().get_object("b-1", "dir one/caf\xC3\xA9+1.json").ok());
  EXPECT_EQ(f.last().url, "http://127.0.0.1:4569/b-1/dir%20one/caf%C3%A9%2B1.json");
}

TEST(S3Client, RejectsBadNamesWithoutSending) {
  Fixture f;
  const Result<PutResult> put = f.s3().put_object("b", "a/../b", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(put.error().operation, "S3.PutObject");
  EXPECT_FALSE(f.s3().head_bucket("bad/bucket").ok());
  EXPECT_TRUE(f.http->requests.empty());
}

// ---------------------------------------------------------------- PutObject

TEST(S3Client, PutObjectSendsChecksumsEncryptionMetadataAndOwner) {
  Fixture f;
  f.http->reply(200, {},
                {{"etag", "\"5eb63bbbe01eeed093cb22bb8f5acdc3\""},
                 {"x-amz-version-id", "v1"},
                 {"x-amz-checksum-sha256", std::string(kHelloSha256B64)}});
  PutOptions options;
  options.content_type = "application/json";
  options.content_encoding = "gzip";
  options.content_md5 = true;
  options.metadata = {{"event-count", "2"}, {"Window", "2026-11-29T10"}};
  options.expected_bucket_owner = "111122223333";
  options.if_none_match = true;
  Result<PutResult> put = f.s3().put_object("events-acme", "k.json", "hello world", options);
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(put->etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");
  EXPECT_EQ(put->version_id, "v1");
  EXPECT_EQ(put->checksum_sha256, kHelloSha256B64);

  const SentRequest& r = f.last();
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.header("content-length"), "11");
  EXPECT_EQ(r.header("x-amz-content-sha256"), kHelloSha256Hex);
  EXPECT_EQ(r.header("x-amz-checksum-sha256"), kHelloSha256B64);
  EXPECT_EQ(r.header("x-amz-sdk-checksum-algorithm"), "SHA256");
  EXPECT_EQ(r.header("content-md5"), kHelloMd5B64);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(r.header("x-amz-server-side-encryption"), "AES256");
  EXPECT_FALSE(r.header("x-amz-server-side-encryption-aws-kms-key-id"));
  EXPECT_EQ(r.header("x-amz-meta-event-count"), "2");
  EXPECT_EQ(r.header("x-amz-meta-window"), "2026-11-29T10");
  EXPECT_EQ(r.header("x-amz-expected-bucket-owner"), "111122223333");
  EXPECT_EQ(r.header("if-none-match"), "*");
  // Plain body, never aws-chunked streaming signatures.
  EXPECT_FALSE(r.header("x-amz-decoded-content-length"));
  EXPECT_FALSE(r.header("transfer-encoding"));
  for (const auto& [name, value] : r.headers) EXPECT_EQ(value.find("aws-chunked"), std::string::npos) << name;
  // The checksum and the payload hash are signed.
  const std::string auth = r.header("authorization").value_or("");
  EXPECT_NE(auth.find("x-amz-checksum-sha256"), std::string::npos) << auth;
  EXPECT_NE(auth.find("x-amz-content-sha256"), std::string::npos) << auth;
}

TEST(S3Client, PutObjectWithKmsAndWithoutChecksum) {
  Fixture f;
  f.http->reply(200, {}, {{"etag", "\"e\""}});
  PutOptions options;
  options.encryption = Encryption::kKms;
  options.kms_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abcd";
  options.checksum_sha256 = false;
  Result<PutResult> put = f.s3().put_object("b-1", "k", "hello world", options);
  ASSERT_TRUE(put.ok());
  EXPECT_TRUE(put->checksum_sha256.empty());
  EXPECT_EQ(f.last().header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(f.last().header("x-amz-server-side-encryption-aws-kms-key-id"), options.kms_key_id);
  EXPECT_FALSE(f.last().header("x-amz-checksum-sha256"));
  EXPECT_FALSE(f.last().header("x-amz-sdk-checksum-algorithm"));
  EXPECT_FALSE(f.last().header("content-md5"));
  EXPECT_EQ(f.last().header("x-amz-content-sha256"), kHelloSha256Hex);
}

TEST(S3Client, PutObjectUsesAPrecomputedChecksumAsGiven) {
  Fixture f;
  f.http->reply(200, {}, {{"etag", "\"e\""}});
  PutOptions options;
  options.precomputed_sha256 = "2SmKENGwc1g33EvYXaxkGw887yekfl1TpU8vP1svz/o=";  // sha256("other")
  ASSERT_TRUE(f.s3().put_object("b-1", "k", "hello world", options).ok());
  EXPECT_EQ(f.last().header("x-amz-checksum-sha256"), options.precomputed_sha256);
  EXPECT_EQ(f.last().header("x-amz-content-sha256"),
            "d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa");

  options.precomputed_sha256 = "not base64!";
  const Result<PutResult> bad = f.s3().put_object("b-1", "k", "hello world", options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(f.http->requests.size(), 1u);
}

TEST(S3Client, PutObjectFromASourceSendsItsBytesUnderTheGivenChecksum) {
  Fixture f;
  f.http->reply(200, {}, {{"etag", "\"e\""}});
  es::testing::PiecewiseSource source("hello world", 3);
  PutOptions options;
  options.precomputed_sha256 = std::string(kHelloSha256B64);
  const Result<PutResult> put = f.s3().put_object("b-1", "k", source, options);
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(f.last().method, "PUT");
  EXPECT_EQ(f.last().body, "hello world");
  EXPECT_EQ(f.last().header("content-length"), "11");
  EXPECT_EQ(f.last().header("x-amz-content-sha256"), std::string(kHelloSha256Hex));
  EXPECT_EQ(f.last().header("x-amz-checksum-sha256"), std::string(kHelloSha256B64));
  EXPECT_EQ(put->checksum_sha256, kHelloSha256B64);
}

TEST(S3Client, PutObjectFromASourceIsSentWholeAgainOnARetry) {
  Fixture f;
  f.http->reply(503, error_xml("SlowDown", "Please reduce your request rate."));
  f.http->reply(200, {}, {{"etag", "\"e\""}});
  es::testing::PiecewiseSource source("hello world", 4);
  PutOptions options;
  options.precomputed_sha256 = std::string(kHelloSha256B64);
  ASSERT_TRUE(f.s3().put_object("b-1", "k", source, options).ok());
  ASSERT_EQ(f.http->requests.size(), 2u);
  EXPECT_EQ(f.http->requests[0].body, "hello world");
  EXPECT_EQ(f.http->requests[1].body, "hello world");
  EXPECT_EQ(source.rewinds, 2);
}

TEST(S3Client, PutObjectFromASourceNeedsAPrecomputedChecksumAndNoMd5) {
  Fixture f;
  es::testing::PiecewiseSource source("hello world", 4);
  PutOptions options;
  const Result<PutResult> unhashed = f.s3().put_object("b-1", "k", source, options);
  ASSERT_FALSE(unhashed.ok());
  EXPECT_EQ(unhashed.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(unhashed.error().message.find("precomputed_sha256"), std::string::npos);
  options.precomputed_sha256 = std::string(kHelloSha256B64);
  options.content_md5 = true;
  EXPECT_FALSE(f.s3().put_object("b-1", "k", source, options).ok());
  EXPECT_TRUE(f.http->requests.empty());
}

TEST(S3Client, PutObjectRejectsUnsafeMetadata) {
  Fixture f;
  PutOptions options;
  options.metadata = {{"ok", "line\r\nx-amz-acl: public-read"}};
  EXPECT_EQ(f.s3().put_object("b-1", "k", "x", options).error().kind, ErrorKind::kInvalidArgument);
  options.metadata = {{"bad name", "v"}};
  EXPECT_EQ(f.s3().put_object("b-1", "k", "x", options).error().kind, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(f.http->requests.empty());
}

TEST(S3Client, PutObjectFailsWhenS3ReportsAnotherChecksum) {
  Fixture f;
  f.http->reply(200, {}, {{"etag", "\"e\""}, {"x-amz-checksum-sha256", "AAAA"}, {"x-amz-request-id", "R1"}});
  const Result<PutResult> put = f.s3().put_object("b-1", "k", "hello world");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kInvalidData);
  EXPECT_EQ(put.error().request_id, "R1");
}

TEST(S3Client, PutObjectToAMissingBucketSaysWhatToDo) {
  Fixture f;
  f.http->reply(404, error_xml("NoSuchBucket", "The specified bucket does not exist"),
                {{"x-amz-request-id", "4442587FB7D0A2F9"}});
  const Result<PutResult> put = f.s3().put_object("events-acme", "k.json", "x");
  ASSERT_FALSE(put.ok());
  const Error& e = put.error();
  EXPECT_EQ(e.kind, ErrorKind::kNotFound);
  EXPECT_EQ(e.code, "NoSuchBucket");
  EXPECT_EQ(e.operation, "S3.PutObject");
  EXPECT_EQ(e.resource, "events-acme/k.json");
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(e.request_id, "4442587FB7D0A2F9");
  EXPECT_FALSE(e.retryable);
  EXPECT_NE(e.message.find("S3_BUCKET_PREFIX"), std::string::npos) << e.message;
}

TEST(S3Client, AccessDeniedWithAnExpectedOwnerNamesTheSetting) {
  Fixture f;
  f.http->reply(403, error_xml("AccessDenied", "Access Denied"));
  PutOptions options;
  options.expected_bucket_owner = "111122223333";
  const Result<PutResult> put = f.s3().put_object("b-1", "k", "x", options);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kAccessDenied);
  EXPECT_NE(put.error().message.find("EAGLESENSE_EXPECTED_BUCKET_OWNER"), std::string::npos);
  EXPECT_EQ(f.http->requests.size(), 1u);  // not retried
}

TEST(S3Client, RetriesSlowDownThenSucceeds) {
  Fixture f;
  f.http->reply(503, error_xml("SlowDown", "Please reduce your request rate."));
  f.http->reply(200, {}, {{"etag", "\"e\""}});
  const Result<PutResult> put = f.s3().put_object("b-1", "k", "hello world");
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  ASSERT_EQ(f.http->requests.size(), 2u);
  EXPECT_EQ(f.http->requests[1].body, "hello world");
  EXPECT_EQ(f.s3().stats().retries, 1u);
  EXPECT_EQ(f.s3().stats().throttles, 1u);
}

TEST(S3Client, GivesUpOnPersistentSlowDownWithTheCode) {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.http->reply(503, error_xml("SlowDown"));
  const Result<PutResult> put = f.s3().put_object("b-1", "k", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kThrottled);
  EXPECT_EQ(put.error().code, "SlowDown");
  EXPECT_EQ(f.http->requests.size(), 3u);
}

// ---------------------------------------------------------------- buckets

TEST(S3Client, HeadBucketPassesTheExpectedOwner) {
  Fixture f;
  f.http->reply(200);
  ASSERT_TRUE(f.s3().head_bucket("events-acme", "111122223333").ok());
  EXPECT_EQ(f.last().method, "HEAD");
  EXPECT_EQ(f.last().url, "http://127.0.0.1:4569/events-acme");
  EXPECT_EQ(f.last().header("x-amz-expected-bucket-owner"), "111122223333");
}

TEST(S3Client, HeadBucketMissingIsNotFound) {
  Fixture f;
  f.http->reply(404, {}, {{"x-amz-request-id", "R404"}});
  const Status s = f.s3().head_bucket("events-acme");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(s.error().code, "NoSuchBucket");
  EXPECT_EQ(s.error().operation, "S3.HeadBucket");
  EXPECT_EQ(s.error().resource, "events-acme");
  EXPECT_EQ(s.error().request_id, "R404");
  EXPECT_NE(s.error().message.find("bucket does not exist"), std::string::npos);
}

TEST(S3Client, HeadBucketForbiddenIsAccessDeniedAndMentionsTheOwner) {
  Fixture f;
  f.http->reply(403);
  Status s = f.s3().head_bucket("events-acme");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kAccessDenied);
  EXPECT_EQ(s.error().message.find("EAGLESENSE_EXPECTED_BUCKET_OWNER"), std::string::npos);

  f.http->reply(403);
  s = f.s3().head_bucket("events-acme", "111122223333");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kAccessDenied);
  EXPECT_NE(s.error().message.find("owned by another account than EAGLESENSE_EXPECTED_BUCKET_OWNER"),
            std::string::npos);
}

TEST(S3Client, CreateBucketSendsALocationConstraintOutsideUsEast1) {
  Fixture east;
  east.http->reply(200);
  ASSERT_TRUE(east.s3().create_bucket("events-acme").ok());
  EXPECT_EQ(east.last().method, "PUT");
  EXPECT_TRUE(east.last().body.empty());

  Fixture west({"http", "127.0.0.1", 4569, true}, "eu-west-1");
  west.http->reply(200);
  ASSERT_TRUE(west.s3().create_bucket("events-acme").ok());
  EXPECT_NE(west.last().body.find("<LocationConstraint>eu-west-1</LocationConstraint>"), std::string::npos);
}

TEST(S3Client, CreateBucketAcceptsOursButNotSomeoneElses) {
  Fixture f;
  f.http->reply(409, error_xml("BucketAlreadyOwnedByYou"));
  EXPECT_TRUE(f.s3().create_bucket("events-acme").ok());
  f.http->reply(409, error_xml("BucketAlreadyExists"));
  const Status s = f.s3().create_bucket("events-acme");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "BucketAlreadyExists");
}

// ---------------------------------------------------------------- GetObject

TEST(S3Client, GetObjectReturnsBodyMetadataAndVerifiesTheChecksum) {
  Fixture f;
  f.http->reply(200, "hello world",
                {{"etag", "\"5eb6\""},
                 {"content-type", "application/json"},
                 {"content-encoding", "gzip"},
                 {"x-amz-meta-event-count", "2"},
                 {"x-amz-checksum-sha256", std::string(kHelloSha256B64)}});
  Result<GetResult> get = f.s3().get_object("b-1", "k");
  ASSERT_TRUE(get.ok()) << get.error().to_string();
  EXPECT_EQ(get->body, "hello world");
  EXPECT_EQ(get->etag, "5eb6");
  EXPECT_EQ(get->content_type, "application/json");
  EXPECT_EQ(get->content_encoding, "gzip");
  EXPECT_EQ(get->metadata, (std::map<std::string, std::string>{{"event-count", "2"}}));
  EXPECT_EQ(get->checksum_sha256, kHelloSha256B64);
  EXPECT_EQ(f.last().header("x-amz-checksum-mode"), "ENABLED");

  f.http->reply(200, "hello w0rld", {{"x-amz-checksum-sha256", std::string(kHelloSha256B64)}});
  get = f.s3().get_object("b-1", "k");
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().kind, ErrorKind::kInvalidData);
  EXPECT_EQ(get.error().operation, "S3.GetObject");
}

TEST(S3Client, GetObjectRangeAndMissingKey) {
  Fixture f;
  f.http->reply(206, "ello");
  GetOptions options;
  options.range = ByteRange{1, 4};
  Result<GetResult> get = f.s3().get_object("b-1", "k", options);
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->body, "ello");
  EXPECT_EQ(f.last().header("range"), "bytes=1-4");
  // A ranged GET accepts its range or an error document; a whole GET any size (its caller needs it
  // all); a list an XML document.
  EXPECT_EQ(f.last().max_body_bytes, aws::HttpRequest::kMaxDocumentBody);
  f.http->reply(206, std::string(aws::HttpRequest::kMaxDocumentBody + 2, 'x'));
  options.range = ByteRange{0, aws::HttpRequest::kMaxDocumentBody};
  get = f.s3().get_object("b-1", "k", options);
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().code, "ResponseTooLarge");
  f.http->reply(200, "whole");
  ASSERT_TRUE(f.s3().get_object("b-1", "k").ok());
  EXPECT_EQ(f.last().max_body_bytes, 0u);

  f.http->reply(404, error_xml("NoSuchKey", "The specified key does not exist."));
  get = f.s3().get_object("b-1", "missing.json");
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(get.error().code, "NoSuchKey");
  EXPECT_EQ(get.error().resource, "b-1/missing.json");
  EXPECT_EQ(get.error().request_id, "REQ123");
}

// ---------------------------------------------------------------- listing and deletes

std::string list_page(const std::vector<std::string>& keys, const std::string& next_token) {
  std::string xml = "<ListBucketResult><IsTruncated>" + std::string(next_token.empty() ? "false" : "true") +
                    "</IsTruncated>";
  if (!next_token.empty()) xml += "<NextContinuationToken>" + next_token + "</NextContinuationToken>";
  for (const auto& key : keys)
    xml += "<Contents><Key>" + key + "</Key><Size>3</Size><ETag>\"e\"</ETag></Contents>";
  return xml + "</ListBucketResult>";
}

TEST(S3Client, ListObjectsV2SendsTheQueryAndParsesThePage) {
  Fixture f;
  f.http->reply(200, list_page({"p/a", "p/b"}, "tok/1+="));
  Result<ListPage> page = f.s3().list_objects_v2("b-1", "p/", "prev token", 2);
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_EQ(page->objects.size(), 2u);
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "tok/1+=");
  const SentRequest& r = f.last();
  EXPECT_EQ(r.method, "GET");
  EXPECT_TRUE(r.url.starts_with("http://127.0.0.1:4569/b-1?")) << r.url;
  EXPECT_TRUE(r.url_has("list-type=2"));
  EXPECT_TRUE(r.url_has("max-keys=2"));
  EXPECT_TRUE(r.url_has("prefix=p%2F"));
  EXPECT_TRUE(r.url_has("continuation-token=prev%20token"));
  EXPECT_TRUE(r.url_has("encoding-type=url"));
  EXPECT_FALSE(f.s3().list_objects_v2("b-1", "", "", 1001).ok());
}

TEST(S3Client, ListAllFollowsContinuationTokens) {
  Fixture f;
  f.http->reply(200, list_page({"a", "b"}, "t1"));
  f.http->reply(200, list_page({"c"}, "t2"));
  f.http->reply(200, list_page({"d"}, ""));
  Result<std::vector<ObjectInfo>> all = f.s3().list_all("b-1");
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[3].key, "d");
  ASSERT_EQ(f.http->requests.size(), 3u);
  EXPECT_FALSE(f.http->requests[0].url_has("continuation-token"));
  EXPECT_TRUE(f.http->requests[1].url_has("continuation-token=t1"));
  EXPECT_TRUE(f.http->requests[2].url_has("continuation-token=t2"));
}

TEST(S3Client, ListAllStopsOnABrokenPagination) {
  Fixture f;
  f.http->reply(200, "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  EXPECT_EQ(f.s3().list_all("b-1").error().kind, ErrorKind::kInvalidData);
  f.http->reply(200, list_page({"a"}, "same"));
  f.http->reply(200, list_page({"a"}, "same"));
  EXPECT_EQ(f.s3().list_all("b-1").error().kind, ErrorKind::kInvalidData);
}

TEST(S3Client, DeletesObjects) {
  Fixture f;
  f.http->reply(204);
  ASSERT_TRUE(f.s3().delete_object("b-1", "a b").ok());
  EXPECT_EQ(f.last().method, "DELETE");
  EXPECT_EQ(f.last().url, "http://127.0.0.1:4569/b-1/a%20b");

  f.http->reply(
      200, "<DeleteResult><Deleted><Key>x</Key></Deleted><Deleted><Key>y</Key></Deleted></DeleteResult>");
  const std::vector<std::string> keys{"x", "y"};
  Result<DeleteObjectsResult> batch = f.s3().delete_objects("b-1", keys);
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  EXPECT_EQ(batch->deleted, keys);
  EXPECT_EQ(f.last().method, "POST");
  EXPECT_EQ(f.last().url, "http://127.0.0.1:4569/b-1?delete");
  EXPECT_EQ(f.last().header("content-md5"), base64_encode(md5(f.last().body)));
}

// ---------------------------------------------------------------- multipart

/// A small in-memory multipart server: records parts, answers each step.
struct MultipartServer {
  std::vector<std::string> part_bodies;
  std::string completed_body;
  int aborts = 0;
  std::function<std::optional<HttpResponse>(const SentRequest&)> override_response;

  HttpResponse operator()(const SentRequest& r) {
    if (override_response) {
      if (auto answer = override_response(r)) return *answer;
    }
    if (r.method == "POST" && r.url_has("?uploads")) {
      return FakeHttp::response(200,
                                "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                                "<UploadId>UP1</UploadId></InitiateMultipartUploadResult>");
    }
    if (r.method == "PUT" && r.url_has("partNumber=")) {
      part_bodies.push_back(r.body);
      return FakeHttp::response(200, {}, {{"etag", "\"etag" + std::to_string(part_bodies.size()) + "\""}});
    }
    if (r.method == "POST" && r.url_has("uploadId=UP1")) {
      completed_body = r.body;
      return FakeHttp::response(200,
                                "<CompleteMultipartUploadResult><ETag>\"final-3\"</ETag>"
                                "</CompleteMultipartUploadResult>",
                                {{"x-amz-version-id", "v9"}});
    }
    if (r.method == "DELETE" && r.url_has("uploadId=UP1")) {
      ++aborts;
      return FakeHttp::response(204);
    }
    return FakeHttp::response(400, error_xml("Unexpected"));
  }
};

constexpr std::size_t kMiB = std::size_t{1024} * 1024;

std::string make_body(std::size_t size) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return body;
}

TEST(S3Client, UploadBelowTheThresholdIsOnePut) {
  Fixture f;
  MultipartServer server;
  f.http->handler = [&](const SentRequest& r) { return server(r); };
  f.http->reply(200, {}, {{"etag", "\"single\""}});
  Result<PutResult> put = f.s3().upload("b-1", "k", "hello world", {}, 8 * kMiB, 5 * kMiB);
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->etag, "single");
  ASSERT_EQ(f.http->requests.size(), 1u);
  EXPECT_EQ(f.last().method, "PUT");
  EXPECT_FALSE(f.last().url_has("partNumber"));
}

TEST(S3Client, UploadAboveTheThresholdIsMultipartWithChecksummedParts) {
  Fixture f;
  MultipartServer server;
  f.http->handler = [&](const SentRequest& r) { return server(r); };
  const std::string body = make_body(11 * kMiB);
  PutOptions options;
  options.content_type = "application/json";
  options.metadata = {{"event-count", "42"}};
  options.expected_bucket_owner = "111122223333";
  Result<PutResult> put = f.s3().upload("b-1", "dir/k.json", body, options, 8 * kMiB, 5 * kMiB);
  ASSERT_TRUE(put.ok()) << put.error().to_string();

  ASSERT_EQ(f.http->requests.size(), 5u);  // create, 3 parts, complete
  const SentRequest& create = f.http->requests[0];
  EXPECT_EQ(create.url, "http://127.0.0.1:4569/b-1/dir/k.json?uploads");
  EXPECT_EQ(create.header("x-amz-checksum-algorithm"), "SHA256");
  EXPECT_EQ(create.header("content-type"), "application/json");
  EXPECT_EQ(create.header("x-amz-meta-event-count"), "42");
  EXPECT_EQ(create.header("x-amz-server-side-encryption"), "AES256");
  EXPECT_EQ(create.header("x-amz-expected-bucket-owner"), "111122223333");

  ASSERT_EQ(server.part_bodies.size(), 3u);
  EXPECT_EQ(server.part_bodies[0].size(), 5 * kMiB);
  EXPECT_EQ(server.part_bodies[1].size(), 5 * kMiB);
  EXPECT_EQ(server.part_bodies[2].size(), 1 * kMiB);
  EXPECT_EQ(server.part_bodies[0] + server.part_bodies[1] + server.part_bodies[2], body);
  std::vector<std::string> part_checksums;
  for (int i = 1; i <= 3; ++i) {
    const SentRequest& part = f.http->requests[static_cast<std::size_t>(i)];
    EXPECT_TRUE(part.url_has("partNumber=" + std::to_string(i))) << part.url;
    EXPECT_TRUE(part.url_has("uploadId=UP1"));
    EXPECT_EQ(part.header("content-length"), std::to_string(part.body.size()));
    EXPECT_EQ(part.header("x-amz-checksum-sha256"), base64_encode(sha256(part.body)));
    EXPECT_EQ(part.header("x-amz-content-sha256"), hex_encode(sha256(part.body)));
    EXPECT_EQ(part.header("x-amz-expected-bucket-owner"), "111122223333");
    part_checksums.push_back(base64_encode(sha256(part.body)));
  }
  for (int i = 1; i <= 3; ++i) {
    const std::string expected = "<Part><PartNumber>" + std::to_string(i) + "</PartNumber><ETag>\"etag" +
                                 std::to_string(i) + "\"</ETag><ChecksumSHA256>" +
                                 part_checksums[static_cast<std::size_t>(i - 1)] + "</ChecksumSHA256></Part>";
    EXPECT_NE(server.completed_body.find(expected), std::string::npos) << server.completed_body;
  }
  EXPECT_EQ(put->etag, "final-3");
  EXPECT_EQ(put->version_id, "v9");
  // The server returned no checksum: the composite one is computed from the parts.
  std::string raw_digests;
  for (const auto& part : server.part_bodies) {
    const Sha256Digest d = sha256(part);
    raw_digests.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  EXPECT_EQ(put->checksum_sha256, base64_encode(sha256(raw_digests)) + "-3");
  EXPECT_EQ(server.aborts, 0);
}

TEST(S3Client, UploadRejectsPartsBelowFiveMiB) {
  Fixture f;
  const Result<PutResult> put = f.s3().upload("b-1", "k", make_body(2 * kMiB), {}, kMiB, kMiB);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(f.http->requests.empty());
}

TEST(S3Client, UploadAbortsWhenAPartFails) {
  Fixture f;
  MultipartServer server;
  server.override_response = [](const SentRequest& r) -> std::optional<HttpResponse> {
    if (r.url_has("partNumber=2")) return FakeHttp::response(400, error_xml("InvalidArgument", "bad part"));
    return std::nullopt;
  };
  f.http->handler = [&](const SentRequest& r) { return server(r); };
  const Result<PutResult> put = f.s3().upload("b-1", "k", make_body(11 * kMiB), {}, 8 * kMiB, 5 * kMiB);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().operation, "S3.UploadPart");
  EXPECT_EQ(put.error().code, "InvalidArgument");
  EXPECT_NE(put.error().message.find("part 2 of upload UP1"), std::string::npos) << put.error().message;
  EXPECT_EQ(server.aborts, 1);
  EXPECT_EQ(f.last().method, "DELETE");
  EXPECT_TRUE(server.completed_body.empty());
}

TEST(S3Client, CompleteAnswering200WithAnErrorBodyIsAFailureAndAborts) {
  Fixture f;
  MultipartServer server;
  server.override_response = [](const SentRequest& r) -> std::optional<HttpResponse> {
    if (r.method == "POST" && r.url_has("uploadId=UP1")) {
      return FakeHttp::response(200, "\n   \n" + error_xml("InvalidPart",
                                                           "One or more of the specified parts "
                                                           "could not be found."));
    }
    return std::nullopt;
  };
  f.http->handler = [&](const SentRequest& r) { return server(r); };
  const Result<PutResult> put = f.s3().upload("b-1", "k", make_body(6 * kMiB), {}, 5 * kMiB, 5 * kMiB);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().operation, "S3.CompleteMultipartUpload");
  EXPECT_EQ(put.error().code, "InvalidPart");
  EXPECT_EQ(put.error().http_status, 200);
  EXPECT_EQ(put.error().resource, "b-1/k");
  EXPECT_EQ(server.aborts, 1);
}

TEST(S3Client, CompleteAnswering200WithInternalErrorIsRetried) {
  Fixture f;
  MultipartServer server;
  int completes = 0;
  server.override_response = [&](const SentRequest& r) -> std::optional<HttpResponse> {
    if (r.method == "POST" && r.url_has("uploadId=UP1") && ++completes == 1) {
      return FakeHttp::response(200, "   " + error_xml("InternalError", "We encountered an internal error."));
    }
    return std::nullopt;
  };
  f.http->handler = [&](const SentRequest& r) { return server(r); };
  const Result<PutResult> put = f.s3().upload("b-1", "k", make_body(6 * kMiB), {}, 5 * kMiB, 5 * kMiB);
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(completes, 2);
  EXPECT_EQ(server.aborts, 0);
}

TEST(S3Client, AbortTreatsAVanishedUploadAsDone) {
  Fixture f;
  f.http->reply(404, error_xml("NoSuchUpload"));
  EXPECT_TRUE(f.s3().abort_multipart_upload("b-1", "k", "UP1").ok());
  EXPECT_EQ(f.last().url, "http://127.0.0.1:4569/b-1/k?uploadId=UP1");
}

TEST(S3Client, CreateMultipartUploadWithoutAnUploadIdIsInvalidData) {
  Fixture f;
  f.http->reply(200, "<InitiateMultipartUploadResult></InitiateMultipartUploadResult>",
                {{"x-amz-request-id", "R9"}});
  const Result<std::string> id = f.s3().create_multipart_upload("b-1", "k");
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().kind, ErrorKind::kInvalidData);
  EXPECT_EQ(id.error().operation, "S3.CreateMultipartUpload");
  EXPECT_EQ(id.error().resource, "b-1/k");
  EXPECT_EQ(id.error().request_id, "R9");
}

}  // namespace
}  // namespace es::s3
