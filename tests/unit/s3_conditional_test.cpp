// S3Client's conditional requests (what hour leases stand on): If-None-Match and If-Match on
// PutObject and CompleteMultipartUpload, If-Match on DeleteObject; a condition that does not hold is
// kConflict and never retried, a conditional write racing another (409) is retried.

#include <gtest/gtest.h>

#include "aws/errors.h"
#include "s3/s3_client.h"
#include "support/fake_http.h"

namespace es::s3 {
namespace {

using es::testing::FakeHttpClient;

std::string error_xml(std::string_view code) {
  return R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>)" + std::string(code) +
         "</Code><Message>At least one of the pre-conditions you specified did not hold</Message>"
         "<RequestId>REQ1</RequestId></Error>";
}

struct Fixture {
  FakeHttpClient* http = nullptr;
  std::optional<S3Client> client;

  Fixture() {
    auto ctx = std::make_shared<aws::ServiceContext>();
    ctx->endpoint = aws::Endpoint{"http", "127.0.0.1", 9000, true};
    ctx->signing = aws::SigningParams{"us-east-1", "s3", true};
    ctx->credentials = aws::make_static_credentials({"AKID", "SECRET", "", std::nullopt, "test"});
    ctx->retry = aws::make_no_delay_retry_policy(3);
    ctx->sleeper = [](std::chrono::milliseconds) {};
    auto fake = std::make_unique<FakeHttpClient>();
    http = fake.get();
    auto made = S3Client::make(ctx, std::move(fake));
    EXPECT_TRUE(made.ok());
    client.emplace(std::move(made).value());
  }
  S3Client& s3() { return *client; }
};

TEST(S3Conditional, PutSendsIfMatchQuotedAndIfNoneMatch) {
  Fixture f;
  f.http->reply(200, "", {{"etag", "\"e2\""}});
  PutOptions options;
  options.if_match = "e1";
  auto put = f.s3().put_object("ops", "locks/2026-11-29T10.json", "{}", options);
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(put->etag, "e2");
  EXPECT_EQ(f.http->requests.back().header("if-match"), "\"e1\"");
  EXPECT_EQ(f.http->requests.back().header("if-none-match"), "");

  f.http->reply(200, "", {{"etag", "\"e3\""}});
  options = {};
  options.if_none_match = true;
  ASSERT_TRUE(f.s3().put_object("ops", "k", "{}", options).ok());
  EXPECT_EQ(f.http->requests.back().header("if-none-match"), "*");
  EXPECT_EQ(f.http->requests.back().header("if-match"), "");
}

TEST(S3Conditional, PreconditionFailedIsAConflictAndIsNotRetried) {
  Fixture f;
  f.http->reply(412, error_xml("PreconditionFailed"));
  PutOptions options;
  options.if_none_match = true;
  auto put = f.s3().put_object("ops", "k", "{}", options);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(put.error().code, "PreconditionFailed");
  EXPECT_EQ(put.error().http_status, 412);
  EXPECT_FALSE(put.error().retryable);
  EXPECT_EQ(f.http->requests.size(), 1u);
  EXPECT_NE(put.error().message.find("condition did not hold"), std::string::npos) << put.error().message;
}

TEST(S3Conditional, A412WithoutABodyIsAConflictToo) {
  aws::HttpResponse response;
  response.status = 412;
  const Error e = aws::s3_error(response, "S3.PutObject", "ops/k");
  EXPECT_EQ(e.kind, ErrorKind::kConflict);
  EXPECT_EQ(e.code, "PreconditionFailed");
  EXPECT_FALSE(e.retryable);
}

TEST(S3Conditional, ConditionalRequestConflictIsRetried) {
  Fixture f;
  f.http->reply(409, error_xml("ConditionalRequestConflict"));
  f.http->reply(200, "", {{"etag", "\"e\""}});
  PutOptions options;
  options.if_none_match = true;
  auto put = f.s3().put_object("ops", "k", "{}", options);
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(f.http->requests.size(), 2u);

  for (int i = 0; i < 3; ++i) f.http->reply(409, error_xml("ConditionalRequestConflict"));
  auto failed = f.s3().put_object("ops", "k", "{}", options);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "ConditionalRequestConflict");
  EXPECT_TRUE(failed.error().retryable);
  EXPECT_EQ(f.http->requests.size(), 5u);
}

TEST(S3Conditional, CompleteMultipartUploadCarriesTheConditions) {
  Fixture f;
  f.http->reply(200, "<CompleteMultipartUploadResult><ETag>\"m-1\"</ETag></CompleteMultipartUploadResult>",
                {{"etag", "\"m-1\""}});
  PutOptions options;
  options.checksum_sha256 = false;
  options.if_match = "old";
  const std::vector<UploadedPart> parts = {{1, "p1", "", 5}};
  auto done = f.s3().complete_multipart_upload("ops", "k", "u1", parts, options);
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(f.http->requests.back().header("if-match"), "\"old\"");
}

TEST(S3Conditional, DeleteWithIfMatch) {
  Fixture f;
  f.http->reply(204, "");
  ASSERT_TRUE(f.s3().delete_object("ops", "locks/h.json", {}, "e1").ok());
  EXPECT_EQ(f.http->requests.back().method, "DELETE");
  EXPECT_EQ(f.http->requests.back().header("if-match"), "\"e1\"");

  f.http->reply(412, error_xml("PreconditionFailed"));
  const Status other = f.s3().delete_object("ops", "locks/h.json", {}, "e1");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::kConflict);

  f.http->reply(404, error_xml("NoSuchKey"));
  const Status gone = f.s3().delete_object("ops", "locks/h.json", {}, "e1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::kNotFound);

  f.http->reply(204, "");
  ASSERT_TRUE(f.s3().delete_object("ops", "k").ok());
  EXPECT_EQ(f.http->requests.back().header("if-match"), "");
}

}  // namespace
}  // namespace es::s3
