#include "dynamodb/dynamodb_client.h"

#include <charconv>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "aws/errors.h"
#include "core/hash.h"
#include "core/json_reader.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/transcode.h"

namespace es::dynamodb {
namespace {

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
constexpr std::size_t kBatchWriteMax = 25;

// Pages go to the transcoder as received: the transport's spare capacity must cover its padding.
static_assert(aws::HttpResponse::kBodyPadding >= kJsonPadding);

// The member at the path of names, if every step is an object that has it.
std::optional<json::Value> member_at(const json::Value& v, std::initializer_list<std::string_view> path) {
  std::optional<json::Value> at = v;
  for (const std::string_view name : path) {
    auto next = (*at)[name];
    if (!next.ok()) return std::nullopt;
    at = std::move(*next);
  }
  return at;
}

// The string member name of v, if v is an object that has it as a string.
std::optional<std::string_view> string_at(const json::Value& v, std::string_view name) {
  auto s = v.string(name);
  if (!s.ok()) return std::nullopt;
  return *s;
}

void write_attributes(json::Writer& w, const ExpressionAttributes& attributes) {
  if (!attributes.names.empty()) {
    w.key("ExpressionAttributeNames").begin_object();
    for (const auto& [placeholder, name] : attributes.names) w.key(placeholder).value(name);
    w.end_object();
  }
  if (!attributes.values_json.empty()) {
    w.key("ExpressionAttributeValues").begin_object();
    for (const auto& [placeholder, value] : attributes.values_json) w.key(placeholder).raw(value);
    w.end_object();
  }
}

template <typename Request>
void write_common(json::Writer& w, const Request& r) {
  w.key("TableName").value(r.table);
  if (r.index) w.key("IndexName").value(*r.index);
  if (!r.filter_expression.empty()) w.key("FilterExpression").value(r.filter_expression);
  if (!r.projection_expression.empty()) w.key("ProjectionExpression").value(r.projection_expression);
  write_attributes(w, r.attributes);
  if (r.exclusive_start_key_json) w.key("ExclusiveStartKey").raw(*r.exclusive_start_key_json);
  if (r.limit) w.key("Limit").value(*r.limit);
  if (r.consistent_read) w.key("ConsistentRead").value(true);
  if (r.return_consumed_capacity) w.key("ReturnConsumedCapacity").value("TOTAL");
  if (r.select_count) w.key("Select").value("COUNT");
}

std::string_view type_name(char type) {
  switch (type) {
    case 'N':
      return "N";
    case 'B':
      return "B";
    default:
      return "S";
  }
}

Error parse_error(std::string_view operation, std::string_view resource, std::string_view what) {
  Error e = Error::invalid_data(std::string(resource), fmt::format("unexpected response: {}", what));
  e.operation = std::string(operation);
  return e;
}

}  // namespace

std::optional<Error> check_crc32(const aws::HttpResponse& response, std::string_view operation,
                                 std::string_view resource) {
  const auto header = response.header("x-amz-crc32");
  if (!header) return std::nullopt;
  std::uint32_t expected = 0;
  const auto* end = header->data() + header->size();
  if (std::from_chars(header->data(), end, expected).ptr != end) {
    Error e =
        parse_error(operation, resource, fmt::format("x-amz-crc32 header '{}' is not a number", *header));
    e.code = "Crc32Mismatch";
    e.retryable = true;
    return e;
  }
  const std::uint32_t actual = crc32(response.body);
  if (actual == expected) return std::nullopt;
  Error e =
      parse_error(operation, resource,
                  fmt::format("response body CRC32 {} does not match x-amz-crc32 {} (corrupted in transit)",
                              actual, expected));
  e.code = "Crc32Mismatch";
  e.http_status = response.status;
  e.retryable = true;
  return e;
}

std::string scan_request_json(const ScanRequest& r) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  write_common(w, r);
  if (r.segment && r.total_segments) {
    w.key("Segment").value(*r.segment);
    w.key("TotalSegments").value(*r.total_segments);
  }
  w.end_object();
  return out;
}

std::string query_request_json(const QueryRequest& r) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  write_common(w, r);
  w.key("KeyConditionExpression").value(r.key_condition_expression);
  if (!r.scan_index_forward) w.key("ScanIndexForward").value(false);
  w.end_object();
  return out;
}

/// Where a dropped Page leaves its body for its client's next request.
class BodyRecycler {
 public:
  /// Below this a buffer is not worth keeping (a small answer, an empty or moved-from body).
  static constexpr std::size_t kMinCapacity = 64 << 10;

  void put(std::string body) noexcept {
    if (body.capacity() < kMinCapacity) return;
    std::lock_guard lock(mutex_);
    if (body.capacity() > spare_.capacity()) spare_ = std::move(body);
  }
  std::string take() noexcept {
    std::lock_guard lock(mutex_);
    return std::exchange(spare_, std::string());
  }

 private:
  std::mutex mutex_;
  std::string spare_;
};

Page& Page::operator=(const Page& other) {
  if (this != &other) body = other.body;
  return *this;
}

Page& Page::operator=(Page&& other) noexcept {
  if (this != &other) {
    recycle();
    body = std::move(other.body);
    recycler_ = std::move(other.recycler_);
  }
  return *this;
}

Page::~Page() {
  recycle();
}

void Page::recycle() noexcept {
  if (recycler_) recycler_->put(std::move(body));
}

Result<PageMeta> parse_page_meta(const Page& page) {
  auto doc = json::parse_document(page.body, "DynamoDB page");
  if (!doc.ok()) return Error::invalid_data("DynamoDB page", std::string(json::not_json_reason(doc.error())));
  PageMeta meta;
  if (auto n = doc->uint64("Count"); n.ok()) meta.count = *n;
  if (auto n = doc->uint64("ScannedCount"); n.ok()) meta.scanned_count = *n;
  if (auto key = member_at(*doc, {"LastEvaluatedKey"})) meta.last_evaluated_key_json = key->json();
  if (auto capacity = member_at(*doc, {"ConsumedCapacity"})) {
    if (auto units = capacity->number("CapacityUnits"); units.ok()) meta.consumed_capacity = *units;
  }
  return meta;
}

DynamoDbClient::DynamoDbClient(std::shared_ptr<const aws::ServiceContext> context,
                               std::unique_ptr<aws::HttpClient> http)
    : caller_(std::move(context), std::move(http)), recycler_(std::make_shared<BodyRecycler>()) {}

void DynamoDbClient::reuse_returned_body() {
  std::string spare = recycler_->take();
  if (spare.capacity() >= BodyRecycler::kMinCapacity) caller_.recycle_body(std::move(spare));
}

Result<aws::HttpResponse> DynamoDbClient::call(std::string_view operation, std::string_view resource,
                                               const std::string& body) {
  const std::string op_name = fmt::format("DynamoDB.{}", operation);
  aws::HttpRequest request;
  request.method = "POST";
  request.url = caller_.context().endpoint.base_url() + "/";
  request.headers = {
      {"Host", caller_.context().endpoint.authority()},
      {"Content-Type", "application/x-amz-json-1.0"},
      {"X-Amz-Target", fmt::format("{}{}", kTargetPrefix, operation)},
  };
  request.body = body;
  // A Scan/Query page holds at most 1 MB of items; every other answer is smaller.
  request.max_body_bytes = aws::HttpRequest::kMaxPageBody;
  return caller_.call(op_name, resource, request,
                      [&op_name, resource](const aws::HttpResponse& response) -> std::optional<Error> {
                        if (response.status < 200 || response.status >= 300) {
                          return aws::dynamodb_error(response, op_name, resource);
                        }
                        return check_crc32(response, op_name, resource);
                      });
}

Result<TableDescription> DynamoDbClient::describe_table(const std::string& table) {
  std::string body;
  json::Writer(body).begin_object().key("TableName").value(table).end_object();
  ES_ASSIGN_OR_RETURN(aws::HttpResponse response, call("DescribeTable", table, body));
  auto doc = json::parse_document(response.body, "DescribeTable response");
  if (!doc.ok()) return parse_error("DynamoDB.DescribeTable", table, "body is not JSON");
  const std::optional<json::Value> t = member_at(*doc, {"Table"});
  if (!t) return parse_error("DynamoDB.DescribeTable", table, "no Table");
  TableDescription d;
  if (auto s = string_at(*t, "TableName")) d.name = std::string(*s);
  if (auto s = string_at(*t, "TableStatus")) d.status = std::string(*s);
  if (auto count = t->uint64("ItemCount"); count.ok()) d.item_count = *count;
  if (auto schema = t->array("KeySchema"); schema.ok()) {
    for (const json::Value& k : *schema) {
      const auto type = string_at(k, "KeyType");
      const auto name = string_at(k, "AttributeName");
      if (type == std::optional<std::string_view>("HASH") && name) d.hash_key = std::string(*name);
    }
  }
  if (auto indexes = t->array("GlobalSecondaryIndexes"); indexes.ok()) {
    for (const json::Value& idx : *indexes) {
      if (auto name = string_at(idx, "IndexName")) d.index_names.emplace_back(*name);
    }
  }
  return d;
}

Status DynamoDbClient::create_table(const CreateTableRequest& r) {
  std::string body;
  json::Writer w(body);
  w.begin_object().key("TableName").value(r.table).key("BillingMode").value("PAY_PER_REQUEST");
  // AttributeDefinitions lists every key attribute once, whether of the table or an index.
  std::vector<KeyAttribute> defined;
  auto define = [&defined](const KeyAttribute& a) {
    for (const auto& d : defined) {
      if (d.name == a.name) return;
    }
    defined.push_back(a);
  };
  define(r.hash);
  if (r.range) define(*r.range);
  for (const auto& idx : r.indexes) {
    define(idx.hash);
    if (idx.range) define(*idx.range);
  }
  w.key("AttributeDefinitions").begin_array();
  for (const auto& a : defined) {
    w.begin_object()
        .key("AttributeName")
        .value(a.name)
        .key("AttributeType")
        .value(type_name(a.type))
        .end_object();
  }
  w.end_array();
  auto key_schema = [&w](const KeyAttribute& hash, const std::optional<KeyAttribute>& range) {
    w.key("KeySchema").begin_array();
    w.begin_object().key("AttributeName").value(hash.name).key("KeyType").value("HASH").end_object();
    if (range)
      w.begin_object().key("AttributeName").value(range->name).key("KeyType").value("RANGE").end_object();
    w.end_array();
  };
  key_schema(r.hash, r.range);
  if (!r.indexes.empty()) {
    w.key("GlobalSecondaryIndexes").begin_array();
    for (const auto& idx : r.indexes) {
      w.begin_object().key("IndexName").value(idx.name);
      key_schema(idx.hash, idx.range);
      w.key("Projection").begin_object().key("ProjectionType").value("ALL").end_object();
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();

  auto created = call("CreateTable", r.table, body);
  if (!created.ok() && created.error().code != "ResourceInUseException") return std::move(created).error();

  // Wait for ACTIVE: local servers are immediate, AWS takes seconds.
  for (int poll = 0; poll < 600; ++poll) {
    ES_ASSIGN_OR_RETURN(TableDescription d, describe_table(r.table));
    if (d.hash_key != r.hash.name) {
      return Error::invalid_argument(
          r.table, fmt::format("table exists with hash key '{}', expected '{}'", d.hash_key, r.hash.name));
    }
    if (d.status == "ACTIVE") return ok_status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error::io(r.table, "table did not become ACTIVE within 60 s");
}

Status DynamoDbClient::delete_table(const std::string& table) {
  std::string body;
  json::Writer(body).begin_object().key("TableName").value(table).end_object();
  auto deleted = call("DeleteTable", table, body);
  if (!deleted.ok()) return std::move(deleted).error();
  return ok_status();
}

Result<Page> DynamoDbClient::scan(const ScanRequest& request) {
  reuse_returned_body();
  ES_ASSIGN_OR_RETURN(aws::HttpResponse response, call("Scan", request.table, scan_request_json(request)));
  return Page(std::move(response.body), recycler_);
}

Result<Page> DynamoDbClient::query(const QueryRequest& request) {
  reuse_returned_body();
  ES_ASSIGN_OR_RETURN(aws::HttpResponse response, call("Query", request.table, query_request_json(request)));
  return Page(std::move(response.body), recycler_);
}

Result<BatchWriteResult> DynamoDbClient::batch_write(const std::string& table,
                                                     const std::vector<std::string>& items_json) {
  BatchWriteResult result;
  const aws::RetryPolicy& retry = *caller_.context().retry;
  // UnprocessedItems are DynamoDB pushing back (throttling); give them more room than a failed call.
  const int max_rounds = std::max(retry.max_attempts(), 10);
  std::vector<std::string> pending;
  for (std::size_t start = 0; start < items_json.size(); start += kBatchWriteMax) {
    const std::size_t end = std::min(items_json.size(), start + kBatchWriteMax);
    pending.assign(items_json.begin() + static_cast<std::ptrdiff_t>(start),
                   items_json.begin() + static_cast<std::ptrdiff_t>(end));
    for (int round = 1; !pending.empty(); ++round) {
      std::string body;
      json::Writer w(body);
      w.begin_object().key("RequestItems").begin_object().key(table).begin_array();
      for (const auto& item : pending) {
        w.begin_object().key("PutRequest").begin_object().key("Item").raw(item).end_object().end_object();
      }
      w.end_array().end_object().end_object();
      ES_ASSIGN_OR_RETURN(aws::HttpResponse response, call("BatchWriteItem", table, body));

      std::vector<std::string> unprocessed;
      auto doc = json::parse_document(response.body, "BatchWriteItem response");
      if (!doc.ok()) return parse_error("DynamoDB.BatchWriteItem", table, "body is not JSON");
      if (auto left = member_at(*doc, {"UnprocessedItems", table})) {
        if (auto requests = left->array(); requests.ok()) {
          for (const json::Value& req : *requests) {
            if (auto item = member_at(req, {"PutRequest", "Item"})) unprocessed.push_back(item->json());
          }
        }
      }
      result.written += pending.size() - unprocessed.size();
      pending = std::move(unprocessed);
      if (pending.empty()) break;
      if (round >= max_rounds) {
        log::warn("dynamodb.batch_write_unprocessed", {{"table", table}, {"items", pending.size()}});
        for (auto& item : pending) result.unprocessed.push_back(std::move(item));
        pending.clear();
        break;
      }
      Error throttled;
      throttled.kind = ErrorKind::kThrottled;
      throttled.retryable = true;
      caller_.context().sleeper(retry.delay(throttled, round));
    }
  }
  return result;
}

}  // namespace es::dynamodb
