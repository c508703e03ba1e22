// Regression (fault suite, "multipart-complete"): a CompleteMultipartUpload whose answer is lost
// after S3 assembled the object must not make a delivered object undeliverable.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/hash.h"
#include "s3/s3_client.h"
#include "support/fake_http.h"

namespace es::s3 {
namespace {

using es::testing::FakeHttpClient;

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
};

std::vector<UploadedPart> parts() {
  std::vector<UploadedPart> p(2);
  p[0] = {1, hex_encode(md5("part one")), base64_encode(sha256("part one")), 8};
  p[1] = {2, hex_encode(md5("part two!")), base64_encode(sha256("part two!")), 9};
  return p;
}

std::string multipart_etag(const std::vector<UploadedPart>& p) {
  std::string raw;
  raw += std::string(reinterpret_cast<const char*>(md5("part one").data()), 16);   // NOLINT
  raw += std::string(reinterpret_cast<const char*>(md5("part two!").data()), 16);  // NOLINT
  return fmt::format("{}-{}", hex_encode(md5(raw)), p.size());
}

TEST(CompleteAnswerLost, TheAssembledObjectIsRecognisedAsOurs) {
  Fixture f;
  const auto p = parts();
  for (int i = 0; i < 3; ++i) f.http->fail();  // the answer never arrives
  f.http->reply(200, "", {{"content-length", "17"}, {"etag", "\"" + multipart_etag(p) + "\""}});
  auto done = f.client->complete_multipart_upload("b", "k", "upload-1", p, PutOptions{});
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->etag, multipart_etag(p));
  EXPECT_EQ(f.http->requests.back().method, "HEAD");
}

TEST(CompleteAnswerLost, AnotherObjectUnderTheKeyIsNotTakenForOurs) {
  Fixture f;
  const auto p = parts();
  f.http->reply(404, "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>");
  f.http->reply(200, "", {{"content-length", "17"}, {"etag", "\"0123456789abcdef0123456789abcdef-2\""}});
  auto done = f.client->complete_multipart_upload("b", "k", "upload-1", p, PutOptions{});
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, "NoSuchUpload");
}

TEST(CompleteAnswerLost, ASizeAloneIsNotEnough) {
  Fixture f;
  const auto p = parts();
  for (int i = 0; i < 3; ++i) f.http->fail();
  f.http->reply(200, "", {{"content-length", "17"}, {"etag", "\"d41d8cd98f00b204e9800998ecf8427e\""}});
  auto done = f.client->complete_multipart_upload("b", "k", "upload-1", p, PutOptions{});
  ASSERT_FALSE(done.ok());
}

}  // namespace
}  // namespace es::s3
