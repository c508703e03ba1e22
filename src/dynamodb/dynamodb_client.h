#pragma once
/// DynamoDB over its JSON 1.0 protocol: DescribeTable, CreateTable, Scan, Query, BatchWriteItem.
///
/// Items cross this interface as DynamoDB JSON text ({"eventId":{"S":"..."},...}); Scan and Query
/// return the response body untouched (with core's JSON padding, kJsonPadding) so the pipeline parses each
/// page once, in place. One DynamoDbClient per worker thread: it owns an AwsCaller and its keep-alive
/// connection.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/caller.h"
#include "core/result.h"

namespace es::dynamodb {

/// ExpressionAttributeNames ("#t" -> "time") and ExpressionAttributeValues (":lo" -> {"S":"..."}
/// given as DynamoDB JSON text).
struct ExpressionAttributes {
  std::vector<std::pair<std::string, std::string>> names;
  std::vector<std::pair<std::string, std::string>> values_json;
};

struct ScanRequest {
  std::string table;
  std::optional<std::string> index;
  std::optional<int> segment;  ///< with total_segments: parallel scan
  std::optional<int> total_segments;
  std::string filter_expression;      ///< empty: none
  std::string projection_expression;  ///< empty: all attributes
  ExpressionAttributes attributes;
  std::optional<std::string> exclusive_start_key_json;  ///< LastEvaluatedKey of the previous page
  std::optional<int> limit;
  bool consistent_read = false;
  bool return_consumed_capacity = true;  ///< TOTAL
  bool select_count = false;             ///< Select=COUNT: counts only
};

struct QueryRequest {
  std::string table;
  std::optional<std::string> index;
  std::string key_condition_expression;
  std::string filter_expression;
  std::string projection_expression;
  ExpressionAttributes attributes;
  std::optional<std::string> exclusive_start_key_json;
  std::optional<int> limit;
  bool consistent_read = false;
  bool return_consumed_capacity = true;
  bool select_count = false;
  bool scan_index_forward = true;
};

class BodyRecycler;

/// A Scan/Query response. body is the raw JSON ({"Items":[...],"Count":..,"LastEvaluatedKey":..})
/// with at least aws::HttpResponse::kBodyPadding spare bytes of capacity after size().
///
/// A page from DynamoDbClient hands its body back to that client when it is destroyed, and the
/// client's next Scan/Query receives into it: a reader that decodes a page and drops it before
/// asking for the next one allocates its ~1 MB receive buffer once, not once per page (the fresh
/// buffers' page faults were ~7 % of the exporter's CPU). Safe from any thread, and after the client
/// is gone.
struct Page {
  std::string body;

  Page() = default;
  explicit Page(std::string b) : body(std::move(b)) {}
  Page(std::string b, std::shared_ptr<BodyRecycler> recycler)
      : body(std::move(b)), recycler_(std::move(recycler)) {}
  Page(const Page& other) : body(other.body) {}
  Page(Page&& other) noexcept = default;
  Page& operator=(const Page& other);
  Page& operator=(Page&& other) noexcept;
  ~Page();

 private:
  void recycle() noexcept;
  std::shared_ptr<BodyRecycler> recycler_;
};

/// The bookkeeping part of a page, for callers that do not decode items themselves.
struct PageMeta {
  std::uint64_t count = 0;
  std::uint64_t scanned_count = 0;
  std::optional<std::string> last_evaluated_key_json;
  double consumed_capacity = 0;
};

/// Parses Count, ScannedCount, LastEvaluatedKey and ConsumedCapacity.CapacityUnits of a page.
[[nodiscard]] Result<PageMeta> parse_page_meta(const Page& page);

struct KeyAttribute {
  std::string name;
  char type = 'S';  ///< 'S', 'N' or 'B'
};

struct GlobalSecondaryIndex {
  std::string name;
  KeyAttribute hash;
  std::optional<KeyAttribute> range;
};

struct CreateTableRequest {
  std::string table;
  KeyAttribute hash;
  std::optional<KeyAttribute> range;
  std::vector<GlobalSecondaryIndex> indexes;  ///< projection ALL, on-demand billing
};

struct TableDescription {
  std::string name;
  std::string status;  ///< "ACTIVE", "CREATING", ...
  std::uint64_t item_count = 0;
  std::string hash_key;
  std::vector<std::string> index_names;
};

struct BatchWriteResult {
  std::size_t written = 0;
  /// Items still unprocessed after every retry (DynamoDB JSON text); empty on full success.
  std::vector<std::string> unprocessed;
};

class DynamoDbClient {
 public:
  DynamoDbClient(std::shared_ptr<const aws::ServiceContext> context, std::unique_ptr<aws::HttpClient> http);

  [[nodiscard]] Result<TableDescription> describe_table(const std::string& table);
  /// Creates the table (on-demand billing) and waits until it is ACTIVE. A table that already
  /// exists is success when its hash key matches.
  [[nodiscard]] Status create_table(const CreateTableRequest& request);
  [[nodiscard]] Status delete_table(const std::string& table);

  [[nodiscard]] Result<Page> scan(const ScanRequest& request);
  [[nodiscard]] Result<Page> query(const QueryRequest& request);

  /// Writes up to 25 items per request (more are split), retrying UnprocessedItems with the retry
  /// policy's backoff until they are written or the attempts run out.
  [[nodiscard]] Result<BatchWriteResult> batch_write(const std::string& table,
                                                     const std::vector<std::string>& items_json);

  /// Sends one request of any operation with the JSON body given (for tools and tests).
  [[nodiscard]] Result<aws::HttpResponse> call(std::string_view operation, std::string_view resource,
                                               const std::string& body);

  [[nodiscard]] const aws::CallStats& stats() const { return caller_.stats(); }

 private:
  /// Passes the body of the last page dropped (if any) to the transport for the next response.
  void reuse_returned_body();

  aws::AwsCaller caller_;
  std::shared_ptr<BodyRecycler> recycler_;
};

/// Builds the JSON body of a Scan request (exposed for tests).
[[nodiscard]] std::string scan_request_json(const ScanRequest& request);
/// Builds the JSON body of a Query request (exposed for tests).
[[nodiscard]] std::string query_request_json(const QueryRequest& request);
/// The error (kInvalidData, retryable, code "Crc32Mismatch") when a response's x-amz-crc32 header
/// does not match its body; nullopt when it matches or is absent.
[[nodiscard]] std::optional<Error> check_crc32(const aws::HttpResponse& response, std::string_view operation,
                                               std::string_view resource);

}  // namespace es::dynamodb
