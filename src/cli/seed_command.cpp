// `eaglesense seed`: a load generator writing events of the reference shape (the shape the earlier
// Python processor's tables hold) spread over one hour, plus optional bad events.

#include <atomic>
#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "aws/endpoint.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/time.h"
#include "dynamodb/dynamodb_client.h"
#include "export/hour_reader.h"
#include "s3/s3_client.h"

namespace es::cli {
namespace {

constexpr std::string_view kWords[] = {"alpha", "bravo",    "charlie", "delta",  "echo", "foxtrot",
                                       "golf",  "hotel",    "india",   "juliet", "kilo", "lima",
                                       "mike",  "november", "oscar",   "papa"};

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

void put_s(json::Writer& w, std::string_view name, std::string_view value) {
  w.key(name).begin_object().key("S").value(value).end_object();
}

/// Builds items of the reference shape, deterministically from (seed, index).
class EventFactory {
 public:
  EventFactory(const ExportConfig& config, HourWindow hour, int clients, std::uint64_t seed, double skew)
      : config_(config), hour_(hour), clients_(clients), seed_(seed), skew_(skew) {}

  std::string client_name(int i) const { return fmt::format("client-{:03}", i); }

  std::string good(std::uint64_t index) const {
    std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + index);
    const std::string id = event_id(rng);
    // With skew s, client-000 gets a fraction s of the events and the rest share the others.
    const double draw = static_cast<double>(rng() % 1'000'000) / 1e6;
    const int client = (draw < skew_ || clients_ == 1)
                           ? 0
                           : 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(clients_ - 1));
    const std::int64_t t = hour_.start_us + static_cast<std::int64_t>(rng() % kMicrosPerHour);
    std::string time = format_iso8601_us(t);
    time.pop_back();
    time += "+00:00";
    return item(id, client_name(client), time, t, rng);
  }

  /// Bad events cycle through the ways an item can be rejected.
  std::string bad(std::uint64_t index) const {
    std::mt19937_64 rng(seed_ * 31 + index + 0xBADULL);
    const std::string id = fmt::format("bad-{}", event_id(rng));
    const std::int64_t t = hour_.start_us + static_cast<std::int64_t>(rng() % kMicrosPerHour);
    std::string time = format_iso8601_us(t);
    switch (index % 5) {
      case 0:
        return item(id, "", time, t, rng);  // empty client id
      case 1:
        return item(id, "Upper-Case", time, t, rng);  // not bucket-safe
      case 2:
        return item(id, "../../etc", time, t, rng);  // path traversal
      case 3:
        return item(id, "client_under", time, t, rng);  // '_' cannot be in a bucket name
      default: {
        std::string bad_time = hour_.label() + ":75:00Z";  // minute 75: unparseable, in this hour's range
        return item(id, client_name(0), bad_time, t, rng);
      }
    }
  }

 private:
  static std::string event_id(std::mt19937_64& rng) {
    const std::uint64_t a = rng();
    const std::uint64_t b = rng();
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFF,
                       (b >> 48) | 0x8000, b & 0xFFFFFFFFFFFFULL);
  }

  std::string item(const std::string& id, const std::string& client, const std::string& time, std::int64_t t,
                   std::mt19937_64& rng) const {
    std::string out;
    json::Writer w(out);
    w.begin_object();
    put_s(w, config_.id_attr, id);
    if (!client.empty() || rng() % 2 == 0) put_s(w, config_.client_attr, client);
    put_s(w, config_.time_attr, time);
    const int shard = static_cast<int>(fnv1a(id) % static_cast<std::uint32_t>(config_.shards));
    put_s(w, config_.shard_attr, exporter::hour_shard(HourWindow::containing(t), shard));
    w.key("params").begin_object().key("L").begin_array();
    for (int i = 0; i < 3; ++i) {
      w.begin_object().key("S").value(kWords[rng() % std::size(kWords)]).end_object();
    }
    w.end_array().end_object();
    std::string data;
    while (data.size() < 100) {
      data += kWords[rng() % std::size(kWords)];
      data += ' ';
    }
    put_s(w, "data", data);
    w.key("metadata").begin_object().key("M").begin_object();
    put_s(w, "source", "api");
    put_s(w, "version", fmt::format("1.{}", rng() % 10));
    put_s(w, "region", "us-east-1");
    put_s(w, "agent", fmt::format("sdk/{}", rng() % 100));
    w.end_object().end_object();
    w.key("payload_size").begin_object().key("N").value(fmt::format("{}", 100 + rng() % 10000)).end_object();
    w.end_object();
    return out;
  }

  const ExportConfig& config_;
  HourWindow hour_;
  int clients_;
  std::uint64_t seed_;
  double skew_;
};

}  // namespace

void SeedCommand::add_to(CLI::App& app) {
  app.add_option("--events", events, "number of good events")->check(CLI::Range(0ULL, 100'000'000ULL));
  app.add_option("--clients", clients, "number of clients (client-000, client-001, ...)")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--hour", hour, "the hour to fill (default: the last complete hour)");
  app.add_flag("--create-table", create_table, "create the table (and the hour-shard index) if missing");
  app.add_flag("!--no-index", with_index, "create the table without the query-mode index");
  app.add_flag("--create-buckets", create_buckets, "create the client buckets and the ops bucket");
  app.add_option("--missing-bucket-clients", missing_bucket_clients,
                 "with --create-buckets: leave the last N clients without a bucket");
  app.add_option("--bad", bad, "also write N events that must be rejected");
  app.add_option("--writers", writers, "parallel BatchWriteItem writers")->check(CLI::Range(1, 64));
  app.add_option("--seed", seed, "random seed (same seed, same events)");
  app.add_option("--skew", skew, "fraction of the events that go to client-000 (default: even spread)")
      ->check(CLI::Range(0.0, 1.0));
  settings.add_to(app);
}

int SeedCommand::run() {
  const auto started = std::chrono::steady_clock::now();
  auto env = settings.environment();
  if (!env.ok()) return report_error(env.error());
  auto config = load_export_config(*env);
  if (!config.ok()) return report_error(config.error());
  configure_logging(*config, false);
  HourWindow window = HourWindow::last_complete_hour(system_now_us());
  if (!hour.empty()) {
    auto h = HourWindow::parse_hour(hour);
    if (!h.ok()) return report_error(Error(h.error()).with_context("config", "--hour"));
    window = *h;
  }

  const std::string region = aws::resolve_region(*env);
  auto ddb_endpoint = aws::resolve_endpoint("dynamodb", *env, region);
  if (!ddb_endpoint.ok()) return report_error(Error(ddb_endpoint.error()).with_context("config"));
  auto s3_endpoint = aws::resolve_endpoint("s3", *env, region);
  if (!s3_endpoint.ok()) return report_error(Error(s3_endpoint.error()).with_context("config"));
  auto credentials = aws::make_default_credentials_chain(*env, [] { return aws::make_curl_http_client({}); });
  aws::StandardRetryOptions retry_options;
  retry_options.max_attempts = config->max_attempts;
  auto ddb = std::make_shared<aws::ServiceContext>();
  ddb->endpoint = *ddb_endpoint;
  ddb->signing = {region, "dynamodb", false};
  ddb->credentials = credentials;
  ddb->retry = aws::make_standard_retry_policy(retry_options);
  ddb->sleeper = aws::real_sleeper();
  auto s3 = std::make_shared<aws::ServiceContext>(*ddb);
  s3->endpoint = *s3_endpoint;
  s3->signing = {region, "s3", true};

  EventFactory factory(*config, window, clients, seed, skew < 0 ? 1.0 / clients : skew);
  if (create_table) {
    dynamodb::DynamoDbClient client(ddb, aws::make_curl_http_client({}));
    dynamodb::CreateTableRequest request;
    request.table = config->table;
    request.hash = {config->id_attr, 'S'};
    if (with_index) {
      // Built field by field: GCC 12 warns (maybe-uninitialized, a false positive) on the nested
      // aggregate initializer at -O3.
      dynamodb::GlobalSecondaryIndex index;
      index.name = config->index_name;
      index.hash.name = config->shard_attr;
      index.range = dynamodb::KeyAttribute{};
      index.range->name = config->time_attr;
      request.indexes.push_back(std::move(index));
    }
    if (Status s = client.create_table(request); !s.ok()) return report_error(s.error());
  }
  if (create_buckets) {
    auto client = s3::S3Client::make(s3, aws::make_curl_http_client({}));
    if (!client.ok()) return report_error(client.error());
    std::vector<std::string> buckets = {config->ops_bucket};
    for (int i = 0; i < clients - missing_bucket_clients; ++i) {
      buckets.push_back(config->client_bucket(factory.client_name(i)));
    }
    for (const auto& b : buckets) {
      if (Status s = client->create_bucket(b); !s.ok()) return report_error(s.error());
    }
  }

  const std::uint64_t total = events + bad;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> written{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::optional<Error> first_error;
  constexpr std::uint64_t kChunk = 500;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < writers; ++t) {
      threads.emplace_back([&] {
        dynamodb::DynamoDbClient client(ddb, aws::make_curl_http_client({}));
        std::vector<std::string> items;
        for (std::uint64_t start = next.fetch_add(kChunk); start < total && !failed;
             start = next.fetch_add(kChunk)) {
          items.clear();
          for (std::uint64_t i = start; i < std::min(total, start + kChunk); ++i) {
            items.push_back(i < events ? factory.good(i) : factory.bad(i - events));
          }
          auto r = client.batch_write(config->table, items);
          if (!r.ok() || !r->unprocessed.empty()) {
            std::lock_guard lock(error_mutex);
            if (!first_error) {
              first_error = r.ok() ? Error::io(config->table, fmt::format("{} items stayed unprocessed",
                                                                          r->unprocessed.size()))
                                   : r.error();
            }
            failed = true;
            return;
          }
          written += r->written;
        }
      });
    }
  }
  if (first_error) return report_error(*first_error);

  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
          .count();
  std::string out;
  json::Writer w(out);
  w.begin_object()
      .key("table")
      .value(config->table)
      .key("hour")
      .value(window.label())
      .key("events_written")
      .value(written.load())
      .key("good_events")
      .value(events)
      .key("bad_events")
      .value(bad)
      .key("clients")
      .value(clients)
      .key("duration_ms")
      .value(static_cast<std::int64_t>(ms))
      .end_object();
  std::cout << out << "\n";
  return kExitOk;
}

}  // namespace es::cli
