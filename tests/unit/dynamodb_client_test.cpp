// DynamoDbClient against a scripted transport: request bodies, CRC32 verification, batch retries.

#include "dynamodb/dynamodb_client.h"

#include <gtest/gtest.h>

#include "core/hash.h"
#include "support/fake_http.h"

namespace es::dynamodb {
namespace {

using es::testing::FakeHttpClient;

struct Fixture {
  FakeHttpClient* http = nullptr;
  std::unique_ptr<DynamoDbClient> client;

  Fixture() {
    auto ctx = std::make_shared<aws::ServiceContext>();
    ctx->endpoint = aws::Endpoint{"http", "127.0.0.1", 4567, true};
    ctx->signing = aws::SigningParams{"us-east-1", "dynamodb", false};
    ctx->credentials = aws::make_static_credentials({"AKID", "SECRET", "", std::nullopt, "test"});
    ctx->retry = aws::make_no_delay_retry_policy(4);
    ctx->sleeper = [](std::chrono::milliseconds) {};
    auto fake = std::make_unique<FakeHttpClient>();
    http = fake.get();
    client = std::make_unique<DynamoDbClient>(ctx, std::move(fake));
  }
};

aws::Headers crc_header(std::string_view body) {
  return {{"x-amz-crc32", std::to_string(crc32(body))}};
}

TEST(DynamoDbClient, ScanRequestCarriesSegmentFilterAndStartKey) {
  ScanRequest r;
  r.table = "events";
  r.segment = 3;
  r.total_segments = 8;
  r.filter_expression = "#t BETWEEN :lo AND :hi";
  r.attributes.names = {{"#t", "time"}};
  r.attributes.values_json = {{":lo", R"({"S":"2026-11-29T09"})"}, {":hi", R"({"S":"2026-11-29T12"})"}};
  r.exclusive_start_key_json = R"({"eventId":{"S":"e\"1"}})";
  EXPECT_EQ(scan_request_json(r),
            R"({"TableName":"events","FilterExpression":"#t BETWEEN :lo AND :hi",)"
            R"("ExpressionAttributeNames":{"#t":"time"},)"
            R"("ExpressionAttributeValues":{":lo":{"S":"2026-11-29T09"},":hi":{"S":"2026-11-29T12"}},)"
            R"("ExclusiveStartKey":{"eventId":{"S":"e\"1"}},"ReturnConsumedCapacity":"TOTAL",)"
            R"("Segment":3,"TotalSegments":8})");
}

TEST(DynamoDbClient, QueryRequestUsesIndexAndKeyCondition) {
  QueryRequest q;
  q.table = "events";
  q.index = "hourShard-time-index";
  q.key_condition_expression = "hourShard = :s";
  q.attributes.values_json = {{":s", R"({"S":"2026-11-29T10#07"})"}};
  const std::string body = query_request_json(q);
  EXPECT_NE(body.find(R"("IndexName":"hourShard-time-index")"), std::string::npos);
  EXPECT_NE(body.find(R"("KeyConditionExpression":"hourShard = :s")"), std::string::npos);
}

TEST(DynamoDbClient, ScanSendsJsonProtocolHeadersAndReturnsPaddedBody) {
  Fixture f;
  const std::string body =
      R"({"Items":[],"Count":0,"ScannedCount":5,"LastEvaluatedKey":{"eventId":{"S":"x"}},)"
      R"("ConsumedCapacity":{"TableName":"events","CapacityUnits":2.5}})";
  f.http->reply(200, body, crc_header(body));
  ScanRequest r;
  r.table = "events";
  auto page = f.client->scan(r);
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_GE(page->body.capacity(), page->body.size() + aws::HttpResponse::kBodyPadding);
  const auto& req = f.http->requests.at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "http://127.0.0.1:4567/");
  EXPECT_EQ(req.header("X-Amz-Target"), "DynamoDB_20120810.Scan");
  EXPECT_EQ(req.header("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(req.max_body_bytes, aws::HttpRequest::kMaxPageBody);  // a page, with room for its JSON
  auto meta = parse_page_meta(*page);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->scanned_count, 5u);
  EXPECT_EQ(meta->last_evaluated_key_json.value_or(""), R"({"eventId":{"S":"x"}})");
  EXPECT_DOUBLE_EQ(meta->consumed_capacity, 2.5);
}

TEST(DynamoDbClient, RetriesWhenBodyDoesNotMatchCrc32) {
  Fixture f;
  const std::string good = R"({"Items":[],"Count":0,"ScannedCount":0})";
  f.http->reply(200, R"({"Items":[],"Count":9,"ScannedCount":0})", crc_header(good));  // corrupted
  f.http->reply(200, good, crc_header(good));
  ScanRequest r;
  r.table = "events";
  auto page = f.client->scan(r);
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_EQ(page->body, good);
  EXPECT_EQ(f.http->requests.size(), 2u);
}

TEST(DynamoDbClient, PersistentCrc32MismatchIsAnErrorNamingIt) {
  Fixture f;
  for (int i = 0; i < 4; ++i) f.http->reply(200, "{}", {{"x-amz-crc32", "1"}});
  ScanRequest r;
  r.table = "events";
  auto page = f.client->scan(r);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, "Crc32Mismatch");
  EXPECT_EQ(page.error().operation, "DynamoDB.Scan");
}

TEST(DynamoDbClient, DroppedPageHandsItsBodyBackForTheNextRequest) {
  Fixture f;
  // Large enough to be worth keeping (small buffers are not recycled).
  const std::string body =
      R"({"Items":[],"Count":0,"ScannedCount":0,"x":")" + std::string(100'000, 'x') + "\"}";
  for (int i = 0; i < 3; ++i) f.http->reply(200, body, crc_header(body));
  ScanRequest r;
  r.table = "events";
  const void* first = nullptr;
  {
    auto page = f.client->scan(r);
    ASSERT_TRUE(page.ok()) << page.error().to_string();
    first = page->body.data();
    const Page copy = *page;  // a copy owns its own bytes and hands nothing back
    EXPECT_EQ(copy.body, page->body);
  }
  EXPECT_TRUE(f.http->recycled.empty());  // handed back lazily, by the next request
  auto second = f.client->scan(r);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(f.http->recycled.size(), 1u);
  EXPECT_EQ(f.http->recycled[0], first);
  EXPECT_EQ(second->body, body);
}

TEST(DynamoDbClient, PageMayOutliveItsClient) {
  const std::string body =
      R"({"Items":[],"Count":0,"ScannedCount":0,"x":")" + std::string(100'000, 'y') + "\"}";
  Page kept;
  {
    Fixture f;
    f.http->reply(200, body, crc_header(body));
    ScanRequest r;
    r.table = "events";
    auto page = f.client->scan(r);
    ASSERT_TRUE(page.ok());
    kept = std::move(*page);
  }
  EXPECT_EQ(kept.body, body);
  kept = Page{};  // hands the body to a recycler whose client is gone: harmless
}

TEST(DynamoDbClient, MissingTableNamesTheSetting) {
  Fixture f;
  f.http->reply(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
                     R"("message":"Requested resource not found"})");
  auto d = f.client->describe_table("nope");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(d.error().to_string().find("DYNAMODB_TABLE_NAME"), std::string::npos);
}

TEST(DynamoDbClient, BatchWriteSplitsInto25AndRetriesUnprocessedItems) {
  Fixture f;
  std::vector<std::string> items;
  for (int i = 0; i < 30; ++i) items.push_back(R"({"eventId":{"S":"e)" + std::to_string(i) + R"("}})");
  // First request (25 items): two come back unprocessed and are sent again on their own.
  f.http->reply(200, R"({"UnprocessedItems":{"events":[{"PutRequest":{"Item":{"eventId":{"S":"e3"}}}},)"
                     R"({"PutRequest":{"Item":{"eventId":{"S":"e7"}}}}]}})");
  f.http->reply(200, R"({"UnprocessedItems":{}})");
  f.http->reply(200, R"({"UnprocessedItems":{}})");
  auto r = f.client->batch_write("events", items);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->written, 30u);
  EXPECT_TRUE(r->unprocessed.empty());
  ASSERT_EQ(f.http->requests.size(), 3u);
  EXPECT_EQ(f.http->requests[1].body,
            R"({"RequestItems":{"events":[{"PutRequest":{"Item":{"eventId":{"S":"e3"}}}},)"
            R"({"PutRequest":{"Item":{"eventId":{"S":"e7"}}}}]}})");
}

}  // namespace
}  // namespace es::dynamodb
