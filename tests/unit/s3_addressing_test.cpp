// S3 addressing: path-style vs virtual-hosted URLs, key and query encoding, name validation.

#include "s3/s3_addressing.h"

#include <array>

#include <gtest/gtest.h>

namespace es::s3 {
namespace {

const aws::Endpoint kLocal{"http", "127.0.0.1", 4569, true};
const aws::Endpoint kAws{"https", "s3.eu-west-1.amazonaws.com", 0, false};

TEST(S3Addressing, PathStyleForCustomEndpoints) {
  EXPECT_EQ(addressing_style(kLocal, "events-acme"), AddressingStyle::kPath);
  EXPECT_EQ(s3_url(kLocal, "events-acme", "events-2026-11-29-10.json"),
            "http://127.0.0.1:4569/events-acme/events-2026-11-29-10.json");
  EXPECT_EQ(s3_url(kLocal, "events-acme", {}), "http://127.0.0.1:4569/events-acme");
}

TEST(S3Addressing, VirtualHostedForAws) {
  EXPECT_EQ(addressing_style(kAws, "events-acme"), AddressingStyle::kVirtualHosted);
  EXPECT_EQ(s3_url(kAws, "events-acme", "a/b.json"),
            "https://events-acme.s3.eu-west-1.amazonaws.com/a/b.json");
  EXPECT_EQ(s3_url(kAws, "events-acme", {}), "https://events-acme.s3.eu-west-1.amazonaws.com/");
}

TEST(S3Addressing, DottedOrLegacyBucketNamesFallBackToPathStyleOnAws) {
  EXPECT_EQ(addressing_style(kAws, "events.acme.com"), AddressingStyle::kPath);
  EXPECT_EQ(s3_url(kAws, "events.acme.com", "k.json"),
            "https://s3.eu-west-1.amazonaws.com/events.acme.com/k.json");
  EXPECT_EQ(addressing_style(kAws, "Legacy_Bucket"), AddressingStyle::kPath);
  EXPECT_EQ(addressing_style(kAws, "ab"), AddressingStyle::kPath);
  EXPECT_EQ(addressing_style(kAws, "-abc"), AddressingStyle::kPath);
}

TEST(S3Addressing, KeysAreUriEncodedWithSlashesKept) {
  EXPECT_EQ(s3_url(kLocal, "b", "dir/a b+c=d.json"), "http://127.0.0.1:4569/b/dir/a%20b%2Bc%3Dd.json");
  EXPECT_EQ(s3_url(kLocal, "b", "caf\xC3\xA9/\xE2\x9C\x93"), "http://127.0.0.1:4569/b/caf%C3%A9/%E2%9C%93");
  EXPECT_EQ(s3_url(kLocal, "b", "a~b_c-d.e"), "http://127.0.0.1:4569/b/a~b_c-d.e");
  EXPECT_EQ(s3_url(kLocal, "b", "a//b"), "http://127.0.0.1:4569/b/a//b");
}

TEST(S3Addressing, QueryParametersAreEncodedAndSubresourcesBare) {
  const std::array query{QueryParam{"list-type", "2"}, QueryParam{"prefix", "rejected/a b/"},
                         QueryParam{"continuation-token", "1/x+y=="}};
  EXPECT_EQ(
      s3_url(kLocal, "b", {}, query),
      "http://127.0.0.1:4569/b?list-type=2&prefix=rejected%2Fa%20b%2F&continuation-token=1%2Fx%2By%3D%3D");
  EXPECT_EQ(s3_url(kLocal, "b", "k", std::array{QueryParam{"uploads", "", false}}),
            "http://127.0.0.1:4569/b/k?uploads");
}

TEST(S3Addressing, BucketNameValidation) {
  EXPECT_TRUE(validate_bucket_name("events-acme").ok());
  EXPECT_TRUE(validate_bucket_name("Legacy_Bucket.1").ok());
  EXPECT_FALSE(validate_bucket_name("").ok());
  EXPECT_FALSE(validate_bucket_name("a/b").ok());
  EXPECT_FALSE(validate_bucket_name("a?b").ok());
  EXPECT_FALSE(validate_bucket_name(std::string(256, 'a')).ok());
  const Status bad = validate_bucket_name("a b");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(bad.error().resource, "a b");
}

TEST(S3Addressing, KeyValidation) {
  EXPECT_TRUE(validate_key("events-2026-11-29-10.json").ok());
  EXPECT_TRUE(validate_key("a..b/.c/d.").ok());
  EXPECT_FALSE(validate_key("").ok());
  EXPECT_FALSE(validate_key(std::string(1025, 'k')).ok());
  EXPECT_FALSE(validate_key("a\nb").ok());
  EXPECT_FALSE(validate_key("a/../b").ok());
  EXPECT_FALSE(validate_key("./b").ok());
  EXPECT_FALSE(validate_key("a/..").ok());
}

TEST(S3Addressing, UrlDecodeFormAsInListings) {
  std::string out;
  ASSERT_TRUE(url_decode_form("a+b%2Bc%2Fd%C3%A9", out));
  EXPECT_EQ(out, "a b+c/d\xC3\xA9");
  EXPECT_FALSE(url_decode_form("bad%2", out));
  EXPECT_FALSE(url_decode_form("bad%zz", out));
}

}  // namespace
}  // namespace es::s3
