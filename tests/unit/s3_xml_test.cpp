// S3 XML documents: ListObjectsV2 pages, multipart results, <Error> in a 200, request bodies.

#include "s3/s3_xml.h"

#include <array>

#include <gtest/gtest.h>

namespace es::s3 {
namespace {

constexpr std::string_view kListPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>events-acme</Name><Prefix>events-</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>events-2026-11-29-10.json</Key><LastModified>2026-11-29T11:00:03.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>events-2026-11-29-11.json</Key><LastModified>2026-11-29T12:00:03.000Z</LastModified>
    <ETag>"d41d8cd98f00b204e9800998ecf8427e-3"</ETag><Size>17179869184</Size>
  </Contents>
</ListBucketResult>)";

TEST(S3Xml, ParsesListObjectsV2Page) {
  Result<ListPage> page = parse_list_objects_v2(kListPage);
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "events-2026-11-29-10.json");
  EXPECT_EQ(page->objects[0].size, 1234u);
  EXPECT_EQ(page->objects[0].etag, "9b2cf535f27731c974343645a3985328");
  EXPECT_EQ(page->objects[0].last_modified, "2026-11-29T11:00:03.000Z");
  EXPECT_EQ(page->objects[1].size, 17179869184u);
  EXPECT_EQ(page->objects[1].etag, "d41d8cd98f00b204e9800998ecf8427e-3");
}

TEST(S3Xml, ParsesLastAndEmptyPages) {
  Result<ListPage> empty = parse_list_objects_v2(
      "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></"
      "ListBucketResult>");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->is_truncated);
  EXPECT_TRUE(empty->objects.empty());
  EXPECT_TRUE(empty->next_continuation_token.empty());
}

TEST(S3Xml, DecodesUrlEncodedKeysOnlyWhenTheDocumentSaysSo) {
  Result<ListPage> encoded = parse_list_objects_v2(
      "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
      "<Contents><Key>dir/a+b%2Bc%C3%A9</Key><Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(encoded.ok()) << encoded.error().to_string();
  EXPECT_EQ(encoded->objects.at(0).key, "dir/a b+c\xC3\xA9");

  Result<ListPage> plain = parse_list_objects_v2(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>dir/a+b%2B</Key><Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->objects.at(0).key, "dir/a+b%2B");
}

TEST(S3Xml, RejectsMalformedListings) {
  EXPECT_EQ(parse_list_objects_v2("not xml <").error().kind, ErrorKind::kInvalidData);
  EXPECT_EQ(parse_list_objects_v2("<Error><Code>NoSuchBucket</Code></Error>").error().kind,
            ErrorKind::kInvalidData);
  const Result<ListPage> bad_size = parse_list_objects_v2(
      "<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents></ListBucketResult>");
  ASSERT_FALSE(bad_size.ok());
  EXPECT_EQ(bad_size.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(bad_size.error().message.find("Size"), std::string::npos);
  EXPECT_FALSE(
      parse_list_objects_v2("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>").ok());
}

TEST(S3Xml, ParsesInitiateMultipartUploadResult) {
  Result<std::string> id = parse_initiate_multipart_upload(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>)");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
  EXPECT_EQ(parse_initiate_multipart_upload("<InitiateMultipartUploadResult/>").error().kind,
            ErrorKind::kInvalidData);
}

TEST(S3Xml, ParsesCompleteMultipartUploadResult) {
  Result<CompletedUpload> done = parse_complete_multipart_upload(
      "<CompleteMultipartUploadResult><Location>http://x/b/k</Location><Bucket>b</Bucket><Key>k</Key>"
      "<ETag>\"3858f62230ac3c915f300c664312c11f-2\"</ETag><ChecksumSHA256>abc=-2</ChecksumSHA256>"
      "</CompleteMultipartUploadResult>");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->etag, "3858f62230ac3c915f300c664312c11f-2");
  EXPECT_EQ(done->checksum_sha256, "abc=-2");
}

TEST(S3Xml, AcceptsMotosCompleteMultipartUploadResponseRoot) {
  Result<CompletedUpload> done = parse_complete_multipart_upload(
      "<CompleteMultipartUploadResponse><Bucket>b</Bucket><Key>k</Key><ETag>&quot;abc-2&quot;</ETag>"
      "</CompleteMultipartUploadResponse>");
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->etag, "abc-2");
  EXPECT_FALSE(parse_complete_multipart_upload("<Error><Code>InternalError</Code></Error>").ok());
}

TEST(S3Xml, RecognizesAnErrorDocumentSentWithStatus200) {
  // S3 sends whitespace while it completes the upload, then either the result or an <Error>.
  EXPECT_TRUE(
      is_error_document("\n\n          \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<Error><Code>InternalError</Code><Message>We encountered an internal error."
                        "</Message><RequestId>656c76696e6727732072657175657374</RequestId></Error>"));
  EXPECT_FALSE(
      is_error_document("<CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>"));
  EXPECT_FALSE(is_error_document(""));
  EXPECT_FALSE(is_error_document("garbage"));
}

TEST(S3Xml, WritesCompleteMultipartUploadBody) {
  const std::array parts{UploadedPart{1, "etag1", "c1=="}, UploadedPart{2, "etag2", ""}};
  const std::string body = complete_multipart_upload_body(parts);
  EXPECT_EQ(
      body,
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Part><PartNumber>1</PartNumber><ETag>\"etag1\"</ETag><ChecksumSHA256>c1==</ChecksumSHA256></Part>"
      "<Part><PartNumber>2</PartNumber><ETag>\"etag2\"</ETag></Part>"
      "</CompleteMultipartUpload>");
}

TEST(S3Xml, WritesCreateBucketBodyOutsideUsEast1Only) {
  EXPECT_EQ(create_bucket_body("us-east-1"), "");
  EXPECT_EQ(create_bucket_body("eu-west-1"),
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>");
}

TEST(S3Xml, WritesDeleteBodyWithEscapedKeysAndParsesTheResult) {
  const std::array<std::string, 2> keys{"a&b<c>.json", "plain"};
  const std::string body = delete_objects_body(keys);
  EXPECT_NE(body.find("<Key>a&amp;b&lt;c&gt;.json</Key>"), std::string::npos) << body;
  EXPECT_NE(body.find("<Key>plain</Key>"), std::string::npos);

  Result<DeleteObjectsResult> result = parse_delete_objects(
      "<DeleteResult><Deleted><Key>plain</Key></Deleted>"
      "<Error><Key>a&amp;b</Key><Code>AccessDenied</Code><Message>Access "
      "Denied</Message></Error></DeleteResult>",
      "bkt");
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->deleted.size(), 1u);
  EXPECT_EQ(result->deleted[0], "plain");
  ASSERT_EQ(result->errors.size(), 1u);
  EXPECT_EQ(result->errors[0].resource, "bkt/a&b");
  EXPECT_EQ(result->errors[0].code, "AccessDenied");
  EXPECT_EQ(result->errors[0].kind, ErrorKind::kAccessDenied);
  EXPECT_EQ(result->errors[0].operation, "S3.DeleteObjects");
}

TEST(S3Xml, UnquotesEtags) {
  EXPECT_EQ(unquote_etag("\"abc\""), "abc");
  EXPECT_EQ(unquote_etag("abc"), "abc");
  EXPECT_EQ(unquote_etag("\""), "\"");
}

}  // namespace
}  // namespace es::s3
