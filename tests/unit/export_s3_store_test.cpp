// The S3 ObjectStore of make_aws_ports over a scripted HTTP client: every request it sends (puts,
// multipart create/part/complete, the HEAD after a lost Complete, the abort, GETs, lists, deletes)
// carries x-amz-expected-bucket-owner, the ops bucket's owner there, the client buckets' elsewhere,
// whatever owner the caller's options name.

#include <set>

#include <gtest/gtest.h>

#include "aws/credentials.h"
#include "aws/retry.h"
#include "export/ports.h"
#include "support/fake_http.h"

namespace es::exporter {
namespace {

using es::testing::FakeHttpClient;
using es::testing::RecordedRequest;

constexpr std::string_view kClientOwner = "111122223333";
constexpr std::string_view kOpsOwner = "444455556666";

aws::HttpResponse answer(int status, std::string body = {}, aws::Headers headers = {}) {
  aws::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

bool has(const RecordedRequest& r, std::string_view part) {
  return r.url.find(part) != std::string::npos;
}

/// What kind of S3 request r is, by method and query.
std::string kind_of(const RecordedRequest& r) {
  if (r.method == "POST" && has(r, "uploads")) return "CreateMultipartUpload";
  if (r.method == "PUT" && has(r, "partNumber=")) return "UploadPart";
  if (r.method == "POST" && has(r, "uploadId=")) return "CompleteMultipartUpload";
  if (r.method == "DELETE" && has(r, "uploadId=")) return "AbortMultipartUpload";
  if (r.method == "POST" && has(r, "delete")) return "DeleteObjects";
  if (r.method == "GET" && has(r, "list-type=2")) return "ListObjectsV2";
  if (r.method == "GET" && !r.header("range").empty()) return "GetObject(range)";
  return r.method == "PUT"    ? "PutObject"
         : r.method == "GET"  ? "GetObject"
         : r.method == "HEAD" ? "HeadObject"
                              : r.method;
}

aws::HttpResponse s3_answer(const RecordedRequest& r) {
  const std::string kind = kind_of(r);
  if (kind == "CreateMultipartUpload") {
    return answer(200,
                  "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>U1</UploadId>"
                  "</InitiateMultipartUploadResult>");
  }
  if (kind == "UploadPart" || kind == "PutObject") {
    return answer(200, {}, {{"etag", "\"5eb63bbbe01eeed093cb22bb8f5acdc3\""}});
  }
  // The Complete answer is lost (a 500 on every attempt): the store looks for the object (HEAD,
  // not found) and aborts the upload.
  if (kind == "CompleteMultipartUpload") return answer(500, "<Error><Code>InternalError</Code></Error>");
  if (kind == "HeadObject") return answer(404);
  if (kind == "AbortMultipartUpload") return answer(204);
  if (kind == "DeleteObjects") return answer(200, "<DeleteResult></DeleteResult>");
  if (kind == "DELETE") return answer(204);  // DeleteObject (a lease given back)
  if (kind == "ListObjectsV2") {
    return answer(200,
                  "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
                  "</ListBucketResult>");
  }
  if (kind == "GetObject(range)") return answer(206, "ell");
  return answer(200, "hello");
}

AwsPortsOptions owners() {
  AwsPortsOptions options;
  options.multipart_threshold = s3::kMinPartSize;
  options.part_size = s3::kMinPartSize;
  options.ops_bucket = "ce-ops";
  options.ops_bucket_owner = std::string(kOpsOwner);
  options.client_bucket_owner = std::string(kClientOwner);
  return options;
}

struct Fixture {
  FakeHttpClient* http = nullptr;
  std::unique_ptr<ObjectStore> store;

  explicit Fixture(const AwsPortsOptions& options = owners()) {
    auto context = std::make_shared<aws::ServiceContext>();
    context->endpoint = {"http", "127.0.0.1", 4569, true};
    context->signing = aws::SigningParams{"us-east-1", "s3", true};
    context->credentials = aws::make_static_credentials({"AKIDTEST", "secret", "", std::nullopt, "test"});
    context->retry = aws::make_no_delay_retry_policy(2);
    context->sleeper = [](std::chrono::milliseconds) {};
    auto fake = std::make_unique<FakeHttpClient>();
    http = fake.get();
    http->set_handler([](const RecordedRequest& r) -> Result<aws::HttpResponse> { return s3_answer(r); });
    auto client = s3::S3Client::make(context, std::move(fake));
    EXPECT_TRUE(client.ok());
    store = make_s3_store(std::move(client).value(), options);
  }
};

TEST(S3Store, EveryRequestCarriesItsBucketsExpectedOwner) {
  Fixture f;
  s3::PutOptions caller;  // a caller that names no owner, or the wrong one: the store decides
  caller.expected_bucket_owner = "999999999999";

  // Client bucket: a single PutObject, then a streamed multipart upload whose Complete is lost.
  EXPECT_TRUE(f.store->put("ce-acme", "small.json", "hello world", caller).ok());
  {
    auto upload = f.store->begin_upload("ce-acme", "big.json", caller);
    ASSERT_TRUE(upload.ok()) << upload.error().to_string();
    Status wrote = (*upload)->write(std::string(s3::kMinPartSize + 10, 'x'));
    ASSERT_TRUE(wrote.ok()) << wrote.error().to_string();
    EXPECT_FALSE((*upload)->finish().ok());
  }  // the destructor aborts the upload
  // A multipart upload in one call (put of a body past the threshold) fails and is aborted too.
  EXPECT_FALSE(f.store->put("ce-acme", "big2.json", std::string(s3::kMinPartSize + 10, 'y'), caller).ok());
  // verify's reads of a client object.
  EXPECT_TRUE(f.store->get("ce-acme", "small.json").ok());
  EXPECT_TRUE(f.store->get_range("ce-acme", "small.json", 1, 3).ok());
  const std::size_t client_requests = f.http->requests.size();

  // Ops bucket: manifest/rejected/lease writes, reads, lists, deletes.
  EXPECT_TRUE(f.store->put("ce-ops", "manifests/2026/11/29/10.json", "{}", caller).ok());
  EXPECT_TRUE(f.store->get("ce-ops", "manifests/2026/11/29/10.json").ok());
  EXPECT_TRUE(f.store->list("ce-ops", "manifests/").ok());
  EXPECT_TRUE(f.store->remove("ce-ops", {"undeliverable/acme/events.json"}).ok());
  EXPECT_TRUE(
      f.store->remove_if_match("ce-ops", "locks/2026-11-29T10.json", "5eb63bbbe01eeed093cb22bb8f5acdc3")
          .ok());

  std::set<std::string> kinds;
  for (std::size_t i = 0; i < f.http->requests.size(); ++i) {
    const RecordedRequest& r = f.http->requests[i];
    const std::string_view want = i < client_requests ? kClientOwner : kOpsOwner;
    kinds.insert(kind_of(r));
    EXPECT_EQ(r.header("x-amz-expected-bucket-owner"), want) << kind_of(r) << " " << r.url;
  }
  for (const char* kind : {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
                           "HeadObject", "AbortMultipartUpload", "GetObject", "GetObject(range)",
                           "ListObjectsV2", "DeleteObjects", "DELETE"}) {
    EXPECT_TRUE(kinds.contains(kind)) << kind << " was never sent";
  }
}

TEST(S3Store, NoOwnerConfiguredSendsNone) {
  Fixture f(AwsPortsOptions{});  // EAGLESENSE_EXPECTED_BUCKET_OWNER=none
  EXPECT_TRUE(f.store->put("ce-acme", "small.json", "hello", {}).ok());
  EXPECT_TRUE(f.store->get("ce-ops", "x").ok());
  ASSERT_EQ(f.http->requests.size(), 2u);
  for (const RecordedRequest& r : f.http->requests) EXPECT_EQ(r.header("x-amz-expected-bucket-owner"), "");
}

}  // namespace
}  // namespace es::exporter
