#pragma once
// In-memory EventTable and ObjectStore for exporter tests: the same pipeline, no servers.

#include <functional>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/hash.h"
#include "export/ports.h"

namespace es::testing {

/// A table of DynamoDB-JSON items. Scan splits items among segments by index and pages them;
/// Query returns the items whose shard attribute equals the queried value. Filters are ignored
/// (the exporter's exact check must do the work).
class FakeTableData {
 public:
  std::vector<std::string> items;
  std::size_t page_size = 7;
  /// When set, every scan/query fails with this error.
  std::optional<Error> fail_with;
  /// When set, every scan/query throws std::bad_alloc (as a reader out of memory would).
  bool throw_bad_alloc = false;
  std::mutex mutex;
  int requests = 0;
  int scans_started = 0;  ///< Scans begun (segment 0's first page)
};

class FakeTable final : public exporter::EventTable {
 public:
  explicit FakeTable(FakeTableData& data) : data_(data) {}

  Result<dynamodb::Page> scan(const dynamodb::ScanRequest& r) override {
    std::lock_guard lock(data_.mutex);
    ++data_.requests;
    if (!r.exclusive_start_key_json && r.segment.value_or(0) == 0) ++data_.scans_started;
    if (data_.fail_with) return *data_.fail_with;
    if (data_.throw_bad_alloc) throw std::bad_alloc();
    const std::size_t segment = static_cast<std::size_t>(r.segment.value_or(0));
    const std::size_t total = static_cast<std::size_t>(r.total_segments.value_or(1));
    std::vector<std::size_t> mine;
    for (std::size_t i = segment; i < data_.items.size(); i += total) mine.push_back(i);
    return page(mine, r.exclusive_start_key_json);
  }

  Result<dynamodb::Page> query(const dynamodb::QueryRequest& r) override {
    std::lock_guard lock(data_.mutex);
    ++data_.requests;
    if (data_.fail_with) return *data_.fail_with;
    if (data_.throw_bad_alloc) throw std::bad_alloc();
    const std::string& value = r.attributes.values_json.at(0).second;  // {"S":"..."}
    const std::string needle = value.substr(6, value.size() - 8);
    std::vector<std::size_t> mine;
    for (std::size_t i = 0; i < data_.items.size(); ++i) {
      if (data_.items[i].find(fmt::format(R"("hourShard":{{"S":"{}"}})", needle)) != std::string::npos) {
        mine.push_back(i);
      }
    }
    return page(mine, r.exclusive_start_key_json);
  }

 private:
  dynamodb::Page page(const std::vector<std::size_t>& mine, const std::optional<std::string>& start_key) {
    std::size_t from = 0;
    if (start_key) from = std::stoul(start_key->substr(std::string(R"({"pos":{"N":")").size()));
    const std::size_t to = std::min(mine.size(), from + data_.page_size);
    std::string body = R"({"Items":[)";
    for (std::size_t i = from; i < to; ++i) {
      if (i > from) body += ',';
      body += data_.items[mine[i]];
    }
    body += fmt::format(R"(],"Count":{0},"ScannedCount":{0})", to - from);
    if (to < mine.size()) body += fmt::format(R"(,"LastEvaluatedKey":{{"pos":{{"N":"{}"}}}})", to);
    body += '}';
    return dynamodb::Page{std::move(body)};
  }
  FakeTableData& data_;
};

struct StoredObject {
  std::string body;
  s3::PutOptions options;
  std::string etag{};           ///< hex MD5 of the body, as S3 gives a single PUT's
  std::string last_modified{};  ///< HTTP date (FakeStoreData::last_modified when written)
};

class FakeStoreData {
 public:
  std::set<std::string> buckets;
  std::map<std::string, StoredObject> objects;  ///< "bucket/key" -> object
  std::vector<std::string> put_order;           ///< "bucket/key" in the order written
  int streamed_uploads = 0;                     ///< begin_upload calls
  int ranged_gets = 0;                          ///< get_range calls
  /// "bucket/key" prefix -> the error every write of an object under it answers (single PUT or the
  /// finish of an upload written in pieces), whether or not its bucket exists.
  std::map<std::string, Error, std::less<>> failing_writes;
  /// Like s3rver: If-None-Match and If-Match are not checked (every conditional write succeeds).
  bool ignore_conditions = false;
  /// The Last-Modified stamped on objects written from now on.
  std::string last_modified = "Sun, 29 Nov 2026 10:00:00 GMT";
  /// Called with the lock held by get() after the object was read ("GetObject") and by
  /// remove_if_match() before anything is deleted ("DeleteObject"): lets a test see the store then, or
  /// change it between a read and the caller's next request (another writer's race).
  std::function<void(FakeStoreData&, std::string_view operation, const std::string& id)> on_request;
  /// "bucket/key" prefixes whose writes throw std::runtime_error (a library's exception).
  std::set<std::string, std::less<>> throwing_writes;
  std::mutex mutex;

  /// The 412 S3 answers when a condition does not hold.
  static Error precondition_failed(std::string_view operation, std::string_view id) {
    Error e;
    e.kind = ErrorKind::kConflict;
    e.code = "PreconditionFailed";
    e.http_status = 412;
    e.operation = std::string(operation);
    e.resource = std::string(id);
    e.message = "At least one of the pre-conditions you specified did not hold";
    return e;
  }
  static Error no_such_key(std::string_view operation, std::string_view id) {
    Error e;
    e.kind = ErrorKind::kNotFound;
    e.code = "NoSuchKey";
    e.http_status = 404;
    e.operation = std::string(operation);
    e.resource = std::string(id);
    e.message = "The specified key does not exist.";
    return e;
  }
};

class FakeStore final : public exporter::ObjectStore {
 public:
  explicit FakeStore(FakeStoreData& data) : data_(data) {}

  Result<s3::PutResult> put(std::string_view bucket, std::string_view key, std::string_view body,
                            const s3::PutOptions& options) override {
    std::lock_guard lock(data_.mutex);
    const std::string id = fmt::format("{}/{}", bucket, key);
    for (const auto& [prefix, error] : data_.failing_writes) {
      if (id.starts_with(prefix)) return error;
    }
    for (const std::string& prefix : data_.throwing_writes) {
      if (id.starts_with(prefix)) throw std::runtime_error("the fake store threw writing " + id);
    }
    if (!data_.buckets.contains(std::string(bucket))) {
      Error e;
      e.kind = ErrorKind::kNotFound;
      e.code = "NoSuchBucket";
      e.http_status = 404;
      e.operation = "S3.PutObject";
      e.resource = fmt::format("{}/{}", bucket, key);
      e.message = "The specified bucket does not exist";
      return e;
    }
    if (!data_.ignore_conditions) {
      const auto existing = data_.objects.find(id);
      if (options.if_none_match && existing != data_.objects.end()) {
        return FakeStoreData::precondition_failed("S3.PutObject", id);
      }
      if (!options.if_match.empty()) {
        if (existing == data_.objects.end()) return FakeStoreData::no_such_key("S3.PutObject", id);
        if (existing->second.etag != options.if_match) {
          return FakeStoreData::precondition_failed("S3.PutObject", id);
        }
      }
    }
    const std::string etag = hex_encode(md5(body));
    data_.objects[id] = StoredObject{std::string(body), options, etag, data_.last_modified};
    data_.put_order.push_back(id);
    return s3::PutResult{etag, "", options.precomputed_sha256};
  }

  Result<std::unique_ptr<exporter::ObjectUpload>> begin_upload(std::string_view bucket, std::string_view key,
                                                               const s3::PutOptions& options) override {
    class Upload final : public exporter::ObjectUpload {
     public:
      Upload(FakeStore& store, std::string bucket, std::string key, s3::PutOptions options)
          : store_(store), bucket_(std::move(bucket)), key_(std::move(key)), options_(std::move(options)) {}
      Status write(std::string_view bytes) override {
        body_.append(bytes);
        return ok_status();
      }
      Result<s3::PutResult> finish() override { return store_.put(bucket_, key_, body_, options_); }

     private:
      FakeStore& store_;
      std::string bucket_, key_;
      s3::PutOptions options_;
      std::string body_;
    };
    {
      std::lock_guard lock(data_.mutex);
      ++data_.streamed_uploads;
    }
    return std::unique_ptr<exporter::ObjectUpload>(
        std::make_unique<Upload>(*this, std::string(bucket), std::string(key), options));
  }

  Result<s3::GetResult> get(std::string_view bucket, std::string_view key) override {
    std::lock_guard lock(data_.mutex);
    auto it = data_.objects.find(fmt::format("{}/{}", bucket, key));
    if (it == data_.objects.end()) {
      Error e;
      e.kind = ErrorKind::kNotFound;
      e.code = data_.buckets.contains(std::string(bucket)) ? "NoSuchKey" : "NoSuchBucket";
      return e;
    }
    s3::GetResult r;
    r.body = it->second.body;
    r.etag = it->second.etag;
    r.last_modified = it->second.last_modified;
    if (data_.on_request) data_.on_request(data_, "GetObject", std::string(it->first));
    return r;
  }

  Result<std::string> get_range(std::string_view bucket, std::string_view key, std::uint64_t first,
                                std::uint64_t last) override {
    ES_ASSIGN_OR_RETURN(s3::GetResult whole, get(bucket, key));
    std::lock_guard lock(data_.mutex);
    ++data_.ranged_gets;
    if (first > last || last >= whole.body.size()) {
      return Error::invalid_argument("range",
                                     fmt::format("{}-{} of {} bytes", first, last, whole.body.size()));
    }
    return whole.body.substr(first, last - first + 1);
  }

  Result<std::vector<std::string>> list(std::string_view bucket, std::string_view prefix) override {
    std::lock_guard lock(data_.mutex);
    const std::string from = fmt::format("{}/{}", bucket, prefix);
    std::vector<std::string> keys;
    for (auto it = data_.objects.lower_bound(from); it != data_.objects.end() && it->first.starts_with(from);
         ++it)
      keys.push_back(it->first.substr(bucket.size() + 1));
    return keys;
  }

  Status remove(std::string_view bucket, const std::vector<std::string>& keys) override {
    std::lock_guard lock(data_.mutex);
    for (const auto& key : keys) data_.objects.erase(fmt::format("{}/{}", bucket, key));
    return ok_status();
  }

  Status remove_if_match(std::string_view bucket, std::string_view key, std::string_view if_match) override {
    std::lock_guard lock(data_.mutex);
    const std::string id = fmt::format("{}/{}", bucket, key);
    if (data_.on_request) data_.on_request(data_, "DeleteObject", id);
    const auto it = data_.objects.find(id);
    if (!data_.ignore_conditions) {
      if (it == data_.objects.end()) return FakeStoreData::no_such_key("S3.DeleteObject", id);
      if (it->second.etag != if_match) return FakeStoreData::precondition_failed("S3.DeleteObject", id);
    }
    if (it != data_.objects.end()) data_.objects.erase(it);
    return ok_status();
  }

 private:
  FakeStoreData& data_;
};

inline exporter::Ports fake_ports(FakeTableData& table, FakeStoreData& store) {
  exporter::Ports p;
  p.make_table = [&table]() -> Result<std::unique_ptr<exporter::EventTable>> {
    return std::unique_ptr<exporter::EventTable>(std::make_unique<FakeTable>(table));
  };
  p.make_store = [&store]() -> Result<std::unique_ptr<exporter::ObjectStore>> {
    return std::unique_ptr<exporter::ObjectStore>(std::make_unique<FakeStore>(store));
  };
  return p;
}

}  // namespace es::testing
