// Hot-path throughput: decode (parse + extract + transcode) and decode + encode of Scan pages made
// of reference-shape items (~480 bytes of DynamoDB JSON each, ~2000 items per ~1 MB page).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "core/encode.h"
#include "core/time.h"
#include "core/transcode.h"
#include "export/client_events.h"
#include "export/spill.h"
#include "export/upload_stage.h"

namespace {

constexpr int kItemsPerPage = 2000;

// Deterministic generator: the same page on every run.
struct Lcg {
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  std::uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 17;
  }
  std::string hex(int n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < n; ++i) s += kHex[next() % 16];
    return s;
  }
};

std::string make_item(Lcg& rng, int i) {
  static constexpr std::string_view kWords[] = {"alpha", "bravo", "charlie", "delta",  "echo", "foxtrot",
                                                "golf",  "hotel", "india",   "juliet", "kilo", "lima"};
  const std::string uuid =
      rng.hex(8) + "-" + rng.hex(4) + "-" + rng.hex(4) + "-" + rng.hex(4) + "-" + rng.hex(12);
  char client[16];
  std::snprintf(client, sizeof client, "client-%02d", static_cast<int>(rng.next() % 20));
  const std::int64_t us =
      *es::parse_iso8601_us("2026-11-29T10:00:00Z") +
      static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(es::kMicrosPerHour));
  std::string time = es::format_iso8601_us(us);
  time.back() = '+';
  time += "00:00";
  std::string data;
  while (data.size() < 100) {
    data += kWords[rng.next() % 12];
    data += ' ';
  }
  data.resize(100);
  std::string item;
  // Attribute order as a service returns it: not sorted.
  item += R"({"payload_size":{"N":")" + std::to_string(rng.next() % 100000) + R"("},)";
  item += R"("eventId":{"S":")" + uuid + R"("},)";
  item += R"("metadata":{"M":{"source":{"S":"web"},"version":{"S":"1.4.)" + std::to_string(i % 10) +
          R"j("},"region":{"S":"eu-west-1"},"user_agent":{"S":"Mozilla/5.0 (X11; Linux x86_64)"}}},)j";
  item += R"("clientId":{"S":")" + std::string(client) + R"("},)";
  item += R"("params":{"L":[{"S":")" + std::string(kWords[rng.next() % 12]) + R"("},{"S":")" +
          std::string(kWords[rng.next() % 12]) + R"("},{"S":"p-)" + std::to_string(rng.next() % 1000) +
          R"("}]},)";
  item += R"("data":{"S":")" + data + R"("},)";
  item += R"("time":{"S":")" + time + R"("}})";
  return item;
}

struct Page {
  std::string body;
  std::size_t item_bytes = 0;
};

const Page& page() {
  static const Page p = [] {
    Page out;
    Lcg rng;
    out.body = R"({"Items":[)";
    for (int i = 0; i < kItemsPerPage; ++i) {
      const std::string item = make_item(rng, i);
      out.item_bytes += item.size();
      if (i != 0) out.body += ',';
      out.body += item;
    }
    out.body += R"(],"Count":2000,"ScannedCount":2000,"LastEvaluatedKey":{"eventId":{"S":"x"}},)"
                R"("ConsumedCapacity":{"TableName":"events","CapacityUnits":128.5}})";
    es::ensure_json_padding(out.body);
    return out;
  }();
  return p;
}

void report(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kItemsPerPage);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(page().body.size()));
  state.counters["item_bytes"] = static_cast<double>(page().item_bytes) / static_cast<double>(kItemsPerPage);
}

// Arg 1: the direct path (the default); arg 0: simdjson's DOM, which pages the direct path hands over
// take (PageDecoder::set_direct).
void BM_Decode(benchmark::State& state) {
  const Page& p = page();
  es::PageDecoder decoder;
  decoder.set_direct(state.range(0) == 1);
  es::DecodedPage decoded;
  for (auto _ : state) {
    if (!decoder.decode(p.body, decoded).ok() || decoded.rejected_count() != 0) {
      state.SkipWithError("decode failed");
      return;
    }
    benchmark::DoNotOptimize(decoded.records().data());
  }
  report(state);
  state.counters["direct"] =
      static_cast<double>(decoder.direct_pages()) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Decode)->ArgName("direct")->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

// Decode, group by client, sort each client's events by (time, event id) and encode them, as the
// pipeline does for one page's worth of events.
void encode_bench(benchmark::State& state, es::OutputFormat format, es::Compression compression) {
  const Page& p = page();
  es::PageDecoder decoder;
  es::DecodedPage decoded;
  std::unordered_map<std::string_view, std::size_t> group_of;
  std::vector<std::vector<std::uint32_t>> groups;
  std::vector<std::string_view> events;
  std::string object;
  std::size_t out_bytes = 0;
  for (auto _ : state) {
    if (!decoder.decode(p.body, decoded).ok()) {
      state.SkipWithError("decode failed");
      return;
    }
    const auto& records = decoded.records();
    group_of.clear();
    for (auto& g : groups) g.clear();
    for (std::uint32_t i = 0; i < records.size(); ++i) {
      auto [it, inserted] = group_of.try_emplace(decoded.client_id(records[i]), group_of.size());
      if (it->second >= groups.size()) groups.resize(it->second + 1);
      groups[it->second].push_back(i);
    }
    out_bytes = 0;
    for (auto& g : groups) {
      std::sort(g.begin(), g.end(), [&](std::uint32_t a, std::uint32_t b) {
        const es::DecodedRecord& ra = records[a];
        const es::DecodedRecord& rb = records[b];
        if (ra.time_us != rb.time_us) return ra.time_us < rb.time_us;
        return decoded.event_id(ra) < decoded.event_id(rb);
      });
      events.clear();
      for (std::uint32_t i : g) events.push_back(decoded.body(records[i]));
      object.clear();
      es::StringSink sink(object);
      if (!es::encode_object(format, compression, events, sink).ok()) {
        state.SkipWithError("encode failed");
        return;
      }
      out_bytes += object.size();
    }
    benchmark::DoNotOptimize(out_bytes);
  }
  report(state);
  state.counters["out_bytes"] = static_cast<double>(out_bytes);
}

void BM_DecodeEncodeJson(benchmark::State& state) {
  encode_bench(state, es::OutputFormat::kJson, es::Compression::kNone);
}
BENCHMARK(BM_DecodeEncodeJson)->Unit(benchmark::kMicrosecond);

void BM_DecodeEncodeJsonGzip(benchmark::State& state) {
  encode_bench(state, es::OutputFormat::kJson, es::Compression::kGzip);
}
BENCHMARK(BM_DecodeEncodeJsonGzip)->Unit(benchmark::kMicrosecond);

void BM_DecodeEncodeJsonZstd(benchmark::State& state) {
  encode_bench(state, es::OutputFormat::kJson, es::Compression::kZstd);
}
BENCHMARK(BM_DecodeEncodeJsonZstd)->Unit(benchmark::kMicrosecond);

void BM_DecodeEncodeCsv(benchmark::State& state) {
  encode_bench(state, es::OutputFormat::kCsv, es::Compression::kNone);
}
BENCHMARK(BM_DecodeEncodeCsv)->Unit(benchmark::kMicrosecond);

// The upload stage's encode as it meets memory: 200,000 events stored as the readers store them
// (8 reader threads x 20 clients, each a chain of 64 KiB blocks filled in arrival order), then per
// client gathered in output order (arrival order is unrelated to time order: random) and encoded
// into one object. Memory-bound, unlike the page-sized benchmarks above.
void BM_EncodeScatteredJson(benchmark::State& state) {
  constexpr int kThreads = 8;
  constexpr int kClients = 20;
  constexpr std::size_t kBlock = 64 << 10;
  constexpr int kPages = 100;
  const Page& p = page();
  es::PageDecoder decoder;
  es::DecodedPage decoded;
  std::vector<std::unique_ptr<char[]>> blocks;
  struct Tail {
    char* at = nullptr;
    std::size_t left = 0;
  };
  std::vector<Tail> tails(kThreads * kClients);
  std::vector<std::vector<std::pair<std::uint64_t, std::string_view>>> clients(kClients);
  Lcg rng;
  std::unordered_map<std::string_view, int> client_index;
  for (int page_no = 0; page_no < kPages; ++page_no) {
    if (!decoder.decode(p.body, decoded).ok()) {
      state.SkipWithError("decode failed");
      return;
    }
    for (const auto& r : decoded.records()) {
      const std::string_view body = decoded.body(r);
      const std::string client(decoded.client_id(r));
      const int c = static_cast<int>(std::hash<std::string>{}(client) % kClients);
      Tail& t = tails[static_cast<std::size_t>((page_no % kThreads) * kClients + c)];
      if (t.left < body.size()) {
        blocks.push_back(std::make_unique_for_overwrite<char[]>(kBlock));
        t.at = blocks.back().get();
        t.left = kBlock;
      }
      std::memcpy(t.at, body.data(), body.size());
      clients[static_cast<std::size_t>(c)].emplace_back(rng.next(), std::string_view(t.at, body.size()));
      t.at += body.size();
      t.left -= body.size();
    }
  }
  std::vector<std::vector<std::string_view>> ordered(kClients);
  std::size_t events = 0;
  for (int c = 0; c < kClients; ++c) {
    auto& list = clients[static_cast<std::size_t>(c)];
    std::sort(list.begin(), list.end());
    for (const auto& [key, body] : list) ordered[static_cast<std::size_t>(c)].push_back(body);
    events += list.size();
  }
  std::string object;
  for (auto _ : state) {
    for (const auto& list : ordered) {
      object.clear();
      es::StringSink sink(object);
      if (!es::encode_object(es::OutputFormat::kJson, es::Compression::kNone, list, sink).ok()) {
        state.SkipWithError("encode failed");
        return;
      }
      benchmark::DoNotOptimize(object.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events));
}
BENCHMARK(BM_EncodeScatteredJson)->Unit(benchmark::kMillisecond);

// The upload stage's two passes over a spilled client, as at 1,000,000 events with the default
// memory budget: one client's 50,000 events in 32 sorted runs in a local spill file (page cache) and
// a part still in memory, merged once to hash the object, then again to produce it into 64 KiB reads
// (curl's upload buffer). Single-threaded, no servers.
void BM_MergeSpilledRuns(benchmark::State& state) {
  constexpr int kEvents = 50'000;
  constexpr int kRuns = 32;
  constexpr std::size_t kRunBuffer = 64 << 10;
  const Page& p = page();
  es::PageDecoder decoder;
  es::DecodedPage decoded;
  if (!decoder.decode(p.body, decoded).ok()) {
    state.SkipWithError("decode failed");
    return;
  }
  std::vector<std::string> stored;  // body then id, as the arenas hold them
  stored.reserve(kEvents);
  std::vector<es::exporter::StoredEvent> events;
  Lcg rng;
  for (int i = 0; i < kEvents; ++i) {
    const auto& r = decoded.records()[static_cast<std::size_t>(i) % decoded.records().size()];
    const std::string_view body = decoded.body(r);
    const std::string id = std::to_string(i);
    stored.push_back(std::string(body) + id);
    es::exporter::StoredEvent e;
    e.time_us = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(es::kMicrosPerHour));
    e.data = stored.back().data();
    e.body_size = static_cast<std::uint32_t>(body.size());
    e.id_size = static_cast<std::uint32_t>(id.size());
    events.push_back(e);
  }
  auto file = es::exporter::SpillFile::create("/tmp");
  if (!file.ok()) {
    state.SkipWithError("no spill file in /tmp");
    return;
  }
  std::vector<es::exporter::SpilledRun> runs;
  std::string scratch;
  const std::size_t per_run = events.size() / (kRuns + 1);
  for (std::size_t r = 0; r < kRuns; ++r) {
    std::vector<es::exporter::StoredEvent> part(
        events.begin() + static_cast<std::ptrdiff_t>(r * per_run),
        events.begin() + static_cast<std::ptrdiff_t>((r + 1) * per_run));
    auto run = es::exporter::write_run(*file, part, scratch);
    if (!run.ok()) {
      state.SkipWithError("write_run failed");
      return;
    }
    runs.push_back(std::move(run).value());
  }
  std::vector<es::exporter::StoredEvent> memory(events.begin() + static_cast<std::ptrdiff_t>(kRuns * per_run),
                                                events.end());
  es::exporter::sort_events(memory);
  std::vector<char> buffer(64 << 10);
  for (auto _ : state) {
    es::exporter::MergedEvents source(memory, runs, kRunBuffer);
    auto pass = es::exporter::hash_object(es::OutputFormat::kJson, source);
    if (!pass.ok()) {
      state.SkipWithError("hash pass failed");
      return;
    }
    es::exporter::EventsBody body(es::OutputFormat::kJson, source, pass->bytes);
    std::uint64_t sent = 0;
    for (;;) {
      auto n = body.read(buffer.data(), buffer.size());
      if (!n.ok()) {
        state.SkipWithError("produce pass failed");
        return;
      }
      if (*n == 0) break;
      sent += *n;
    }
    if (sent != pass->bytes) {
      state.SkipWithError("produced bytes differ from the hashed ones");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_MergeSpilledRuns)->Unit(benchmark::kMillisecond);

// Parser choice: the cost of the DOM parse alone versus an On-Demand walk that touches every value
// (the least On-Demand would have to do for a full transcode).
void BM_ParseOnlyDom(benchmark::State& state) {
  const Page& p = page();
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element root;
    const simdjson::padded_string_view in(p.body.data(), p.body.size(), p.body.capacity());
    if (parser.parse(in).get(root) != simdjson::SUCCESS) {
      state.SkipWithError("parse failed");
      return;
    }
    benchmark::DoNotOptimize(root);
  }
  report(state);
}
BENCHMARK(BM_ParseOnlyDom)->Unit(benchmark::kMicrosecond);

std::size_t walk(simdjson::ondemand::value v) {
  std::size_t n = 0;
  simdjson::ondemand::json_type t;
  if (v.type().get(t) != simdjson::SUCCESS) return 0;
  switch (t) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object obj;
      if (v.get_object().get(obj) != simdjson::SUCCESS) return 0;
      for (auto field : obj) {
        std::string_view key;
        simdjson::ondemand::value child;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
            field.value().get(child) != simdjson::SUCCESS) {
          return 0;
        }
        n += key.size() + walk(child);
      }
      return n;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array arr;
      if (v.get_array().get(arr) != simdjson::SUCCESS) return 0;
      for (auto e : arr) {
        simdjson::ondemand::value child;
        if (e.get(child) != simdjson::SUCCESS) return 0;
        n += walk(child);
      }
      return n;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      return v.get_string().get(s) == simdjson::SUCCESS ? s.size() : 0;
    }
    default: {
      std::string_view raw = v.raw_json_token();
      return raw.size();
    }
  }
}

void BM_ParseWalkOnDemand(benchmark::State& state) {
  const Page& p = page();
  simdjson::ondemand::parser parser;
  for (auto _ : state) {
    simdjson::ondemand::document doc;
    const simdjson::padded_string_view in(p.body.data(), p.body.size(), p.body.capacity());
    simdjson::ondemand::value root;
    if (parser.iterate(in).get(doc) != simdjson::SUCCESS || doc.get_value().get(root) != simdjson::SUCCESS) {
      state.SkipWithError("parse failed");
      return;
    }
    benchmark::DoNotOptimize(walk(root));
  }
  report(state);
}
BENCHMARK(BM_ParseWalkOnDemand)->Unit(benchmark::kMicrosecond);

// Sorting one client's hour (10,000 events in scan order, i.e. random times) into output order:
// std::sort with event_before against sort_events (radix on the time).
std::vector<es::exporter::StoredEvent> client_hour_events() {
  static es::exporter::BlockPool pool;
  static es::exporter::ClientEvents client = [] {
    es::exporter::ClientEvents c(pool);
    Lcg rng;
    const std::int64_t start = *es::parse_iso8601_us("2026-11-29T10:00:00Z");
    for (int i = 0; i < 10'000; ++i) {
      const auto t =
          start + static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(es::kMicrosPerHour));
      c.add(t, "{}", rng.hex(32));
    }
    return c;
  }();
  return client.events;
}

void BM_SortEventsStdSort(benchmark::State& state) {
  const auto events = client_hour_events();
  for (auto _ : state) {
    auto copy = events;
    std::sort(copy.begin(), copy.end(), es::exporter::event_before);
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events.size()));
}
BENCHMARK(BM_SortEventsStdSort)->Unit(benchmark::kMicrosecond);

void BM_SortEventsRadix(benchmark::State& state) {
  const auto events = client_hour_events();
  for (auto _ : state) {
    auto copy = events;
    es::exporter::sort_events(copy);
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events.size()));
}
BENCHMARK(BM_SortEventsRadix)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
