// AwsCaller: signing on every attempt, retry decisions, error classification and context.

#include <array>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "aws/caller.h"
#include "aws/errors.h"
#include "core/deadline.h"
#include "core/time.h"
#include "support/fake_http.h"

namespace es::aws {
namespace {

using es::testing::FakeHttpClient;

struct Fixture {
  std::shared_ptr<ServiceContext> context = std::make_shared<ServiceContext>();
  FakeHttpClient* http = nullptr;
  std::unique_ptr<AwsCaller> caller;
  std::vector<std::chrono::milliseconds> waits;

  explicit Fixture(int attempts = 4) {
    context->endpoint = Endpoint{"http", "127.0.0.1", 8000, true};
    context->signing = SigningParams{"us-east-1", "dynamodb", false};
    context->credentials = make_static_credentials({"AKIDTEST", "secret", "", std::nullopt, "test"});
    context->retry =
        make_standard_retry_policy({attempts, std::chrono::milliseconds(10), std::chrono::milliseconds(100),
                                    std::chrono::milliseconds(1000)},
                                   42);
    context->sleeper = [this](std::chrono::milliseconds d) { waits.push_back(d); };
    auto fake = std::make_unique<FakeHttpClient>();
    http = fake.get();
    caller = std::make_unique<AwsCaller>(context, std::move(fake));
  }

  Result<HttpResponse> call() {
    HttpRequest r;
    r.method = "POST";
    r.url = "http://127.0.0.1:8000/";
    r.headers = {{"X-Amz-Target", "DynamoDB_20120810.Scan"}};
    r.body = "{}";
    return caller->call("DynamoDB.Scan", "events", r, [](const HttpResponse& resp) -> std::optional<Error> {
      if (resp.status == 200) return std::nullopt;
      return dynamodb_error(resp, "DynamoDB.Scan", "events");
    });
  }
};

constexpr std::string_view kThrottle =
    R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"})";

TEST(AwsCaller, SignsEveryAttemptAndRetriesThrottling) {
  Fixture f;
  f.http->reply(400, std::string(kThrottle));
  f.http->reply(200, "{}");
  auto r = f.call();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(f.http->requests.size(), 2u);
  for (const auto& req : f.http->requests) {
    EXPECT_NE(req.header("Authorization").find("AWS4-HMAC-SHA256 Credential=AKIDTEST/"), std::string::npos);
    EXPECT_FALSE(req.header("X-Amz-Date").empty());
  }
  EXPECT_EQ(f.caller->stats().requests, 2u);
  EXPECT_EQ(f.caller->stats().retries, 1u);
  EXPECT_EQ(f.caller->stats().throttles, 1u);
  ASSERT_EQ(f.waits.size(), 1u);
  EXPECT_LE(f.waits[0].count(), 100);  // throttle base delay, first attempt
}

TEST(AwsCaller, RetriesServerErrorsAndTransportFailures) {
  Fixture f;
  f.http->reply(500, R"({"__type":"InternalServerError","message":"boom"})");
  f.http->fail();
  f.http->reply(503, "");
  f.http->reply(200, "{}");
  auto r = f.call();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(f.http->requests.size(), 4u);
}

TEST(AwsCaller, GivesUpAfterMaxAttemptsWithContext) {
  Fixture f(3);
  for (int i = 0; i < 3; ++i) f.http->reply(400, std::string(kThrottle), {{"x-amzn-requestid", "REQ123"}});
  auto r = f.call();
  ASSERT_FALSE(r.ok());
  const Error& e = r.error();
  EXPECT_EQ(e.kind, ErrorKind::kThrottled);
  EXPECT_EQ(e.code, "ProvisionedThroughputExceededException");
  EXPECT_EQ(e.operation, "DynamoDB.Scan");
  EXPECT_EQ(e.resource, "events");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.request_id, "REQ123");
  EXPECT_TRUE(e.retryable);
  EXPECT_NE(e.to_string().find("gave up after 3 attempts"), std::string::npos) << e.to_string();
  EXPECT_EQ(f.http->requests.size(), 3u);
}

TEST(AwsCaller, NeverRetriesValidationErrors) {
  Fixture f;
  f.http->reply(400, R"({"__type":"com.amazon.coral.validate#ValidationException","message":"bad filter"})");
  auto r = f.call();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ValidationException");
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(f.http->requests.size(), 1u);
}

TEST(AwsCaller, AccessErrorsAreFinalAndSayWhatToDo) {
  Fixture f;
  f.http->reply(400,
                R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","Message":"bad key"})");
  auto r = f.call();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kAccessDenied);
  EXPECT_NE(r.error().message.find("Check the access key id"), std::string::npos);
  EXPECT_EQ(f.http->requests.size(), 1u);
}

// A body past the request's cap is a protocol error: kInvalidData, named, never retried.
TEST(AwsCaller, AResponseBodyPastItsCapIsAProtocolErrorNotRetried) {
  Fixture f;
  f.http->reply(200, std::string(HttpRequest::kMaxDocumentBody + 1, ' '));
  auto r = f.call();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidData);
  EXPECT_EQ(r.error().code, "ResponseTooLarge");
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().operation, "DynamoDB.Scan");
  EXPECT_NE(r.error().message.find("limit of 8388608 bytes"), std::string::npos) << r.error().to_string();
  EXPECT_EQ(f.http->requests.size(), 1u);
  EXPECT_TRUE(f.waits.empty());
}

// The run's deadline (core/deadline.h) reaches every call: a retry whose wait would end after it is
// not made, and the error says why, quoting the last one.
TEST(AwsCaller, ARetryThatWouldEndAfterTheDeadlineIsNotMade) {
  Fixture f(10);
  auto deadline = std::make_shared<Deadline>();
  const std::int64_t now = f.context->clock();
  deadline->set(now + 5'000, now + 60 * kMicrosPerSecond);  // 5 ms: less than any retry's wait
  f.context->deadline = deadline;
  f.http->reply(503, "");
  f.http->reply(200, "{}");
  auto r = f.call();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_deadline_exceeded(r.error())) << r.error().to_string();
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().operation, "DynamoDB.Scan");
  EXPECT_EQ(r.error().resource, "events");
  EXPECT_NE(r.error().message.find("no time left to retry after 1 attempts"), std::string::npos);
  EXPECT_NE(r.error().message.find("HTTP 503"), std::string::npos) << r.error().to_string();
  EXPECT_EQ(f.http->requests.size(), 1u);
  EXPECT_TRUE(f.waits.empty());
}

// Past the stop, no request is sent at all; inside a CleanupScope (an abort, a lease given back) the
// call may still run until the end.
TEST(AwsCaller, PastTheStopOnlyCleanUpCallsAreSent) {
  Fixture f;
  auto deadline = std::make_shared<Deadline>();
  const std::int64_t now = f.context->clock();
  deadline->set(now - kMicrosPerSecond, now + 30 * kMicrosPerSecond);
  f.context->deadline = deadline;
  f.http->reply(200, "{}");
  auto refused = f.call();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kDeadlineExceeded);
  EXPECT_TRUE(f.http->requests.empty());

  Deadline::CleanupScope cleanup;
  auto sent = f.call();
  ASSERT_TRUE(sent.ok()) << sent.error().to_string();
  ASSERT_EQ(f.http->requests.size(), 1u);
  // Its HTTP timeout ends at the end: about 30 s, never the client's 120 s.
  EXPECT_GT(f.http->requests[0].timeout.count(), 25'000);
  EXPECT_LE(f.http->requests[0].timeout.count(), 30'000);
}

// Without a deadline, a request keeps the client's own timeout.
TEST(AwsCaller, WithoutADeadlineTheClientsTimeoutHolds) {
  Fixture f;
  f.http->reply(200, "{}");
  ASSERT_TRUE(f.call().ok());
  EXPECT_EQ(f.http->requests[0].timeout.count(), 0);
}

// A request cut short by the deadline (its timeout ended there) is the deadline's error, not retried.
TEST(AwsCaller, ATimeoutAtTheDeadlineIsTheDeadlinesError) {
  Fixture f(10);
  auto deadline = std::make_shared<Deadline>();
  std::int64_t now = 1'000 * kMicrosPerSecond;
  f.context->clock = [&now] { return now; };
  deadline->set(now + kMicrosPerSecond, now + 2 * kMicrosPerSecond);
  f.context->deadline = deadline;
  f.http->set_handler([&now](const es::testing::RecordedRequest&) -> Result<HttpResponse> {
    now += 2 * kMicrosPerSecond;  // the request ran until its timeout, set at the stop
    Error timeout;
    timeout.kind = ErrorKind::kTransport;
    timeout.code = "Timeout";
    timeout.retryable = true;
    timeout.message = "Timeout was reached";
    return timeout;
  });
  auto r = f.call();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kDeadlineExceeded);
  EXPECT_NE(r.error().message.find("Timeout was reached"), std::string::npos) << r.error().to_string();
  EXPECT_EQ(f.http->requests.size(), 1u);
}

TEST(RetryPolicy, FullJitterIsCappedAndGrows) {
  auto p = make_standard_retry_policy(
      {8, std::chrono::milliseconds(50), std::chrono::milliseconds(500), std::chrono::milliseconds(2000)}, 7);
  Error e;
  e.retryable = true;
  e.kind = ErrorKind::kServiceError;
  for (int attempt = 1; attempt < 8; ++attempt) {
    for (int i = 0; i < 50; ++i) {
      const auto d = p->delay(e, attempt);
      EXPECT_GE(d.count(), 0);
      EXPECT_LE(d.count(), std::min<std::int64_t>(2000, 50LL << (attempt - 1)));
    }
  }
  EXPECT_TRUE(p->should_retry(e, 7));
  EXPECT_FALSE(p->should_retry(e, 8));
  e.retryable = false;
  EXPECT_FALSE(p->should_retry(e, 1));
}

TEST(ErrorClassification, S3XmlErrorsAndHeadResponses) {
  HttpResponse r;
  r.status = 503;
  r.body =
      "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message>"
      "<RequestId>ABC</RequestId></Error>";
  Error e = s3_error(r, "S3.PutObject", "bucket/key");
  EXPECT_EQ(e.code, "SlowDown");
  EXPECT_EQ(e.kind, ErrorKind::kThrottled);
  EXPECT_TRUE(e.retryable);
  EXPECT_EQ(e.request_id, "ABC");

  HttpResponse head;
  head.status = 404;
  Error missing = s3_error(head, "S3.HeadBucket", "client-events-acme");
  EXPECT_EQ(missing.code, "NoSuchBucket");
  EXPECT_EQ(missing.kind, ErrorKind::kNotFound);
  EXPECT_FALSE(missing.retryable);
  EXPECT_NE(missing.to_string().find("S3_BUCKET_PREFIX"), std::string::npos);

  HttpResponse forbidden;
  forbidden.status = 403;
  EXPECT_EQ(s3_error(forbidden, "S3.HeadBucket", "b").kind, ErrorKind::kAccessDenied);

  HttpResponse timeout;
  timeout.status = 400;
  timeout.body = "<Error><Code>RequestTimeout</Code><Message>idle</Message></Error>";
  EXPECT_TRUE(s3_error(timeout, "S3.PutObject", "b/k").retryable);
}

TEST(ErrorClassification, DynamoDbErrorInAnXmlErrorResponse) {
  // moto answers a DynamoDB request with a bad signature this way.
  HttpResponse r;
  r.status = 403;
  r.body = R"(<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match.</Message><Type>Sender</Type></Error></Errors></ErrorResponse>)";
  Error e = dynamodb_error(r, "DynamoDB.Scan", "events");
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(e.kind, ErrorKind::kAccessDenied);
  EXPECT_FALSE(e.retryable);
  EXPECT_NE(e.to_string().find("secret access key"), std::string::npos) << e.to_string();
}

// The throttling error codes of the SDKs' standard retry mode, as the boto3 and AWS CLI retry guides
// list them ("Standard retry mode": service-side throttling/limit errors and exceptions). Written
// here, not taken from the code under test, so that a code dropped from the product fails.
constexpr std::array<std::string_view, 13> kDocumentedThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
};

TEST(ErrorClassification, EveryDocumentedThrottlingCodeIsThrottlingInBothProtocols) {
  for (const std::string_view code : kDocumentedThrottlingCodes) {
    HttpResponse json;
    json.status = 400;
    json.body =
        fmt::format(R"({{"__type":"com.amazonaws.dynamodb.v20120810#{}","message":"slow down"}})", code);
    const Error d = dynamodb_error(json, "DynamoDB.Scan", "events");
    EXPECT_EQ(d.code, code);
    EXPECT_EQ(d.kind, ErrorKind::kThrottled) << code;
    EXPECT_TRUE(d.retryable) << code;

    HttpResponse xml;
    xml.status = 503;
    xml.body = fmt::format("<Error><Code>{}</Code><Message>slow down</Message></Error>", code);
    const Error s = s3_error(xml, "S3.PutObject", "bucket/key");
    EXPECT_EQ(s.code, code);
    EXPECT_EQ(s.kind, ErrorKind::kThrottled) << code;
    EXPECT_TRUE(s.retryable) << code;
  }
}

TEST(AwsCaller, RetriesEveryDocumentedThrottlingCodeWithTheThrottlingBackoff) {
  for (const std::string_view code : kDocumentedThrottlingCodes) {
    Fixture f;
    f.http->reply(400, fmt::format(R"({{"__type":"{}","message":"slow down"}})", code));
    f.http->reply(200, "{}");
    auto r = f.call();
    ASSERT_TRUE(r.ok()) << code << ": " << r.error().to_string();
    EXPECT_EQ(f.caller->stats().retries, 1u) << code;
    EXPECT_EQ(f.caller->stats().throttles, 1u) << code;
  }
}

TEST(ErrorClassification, OtherCodesAreNotThrottling) {
  for (const std::string_view code :
       {"ValidationException", "ConditionalCheckFailedException", "AccessDenied", "InternalServerError",
        "ThrottlingExceptionX", "throttling", ""}) {
    HttpResponse json;
    json.status = 400;
    json.body = fmt::format(R"({{"__type":"{}","message":"no"}})", code);
    EXPECT_NE(dynamodb_error(json, "DynamoDB.Scan", "events").kind, ErrorKind::kThrottled) << code;
  }
}

TEST(ErrorClassification, DocumentedTransientCodesAreRetriedButNotThrottling) {
  for (const std::string_view code :
       {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}) {
    HttpResponse xml;
    xml.status = 400;
    xml.body = fmt::format("<Error><Code>{}</Code><Message>later</Message></Error>", code);
    const Error e = s3_error(xml, "S3.PutObject", "bucket/key");
    EXPECT_TRUE(e.retryable) << code;
    EXPECT_NE(e.kind, ErrorKind::kThrottled) << code;
  }
}

}  // namespace
}  // namespace es::aws
