#include "export/hour_reader.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "core/guarded.h"
#include "core/json_writer.h"
#include "core/lease_pool.h"
#include "core/log.h"
#include "core/source_digest.h"
#include "core/transcode.h"
#include "export/window_filter.h"

namespace es::exporter {
namespace {

/// Shared state of the readers of one scan (one or several hours) or one query (one hour).
struct ReadContext {
  ReadContext(const std::vector<HourWindow>& w, const ExportConfig& c, const Ports& p, ReadProgress* pr,
              const ReadLimits& l)
      : windows(w),
        config(c),
        ports(p),
        progress(pr),
        limits(l),
        filter(make_span_filter(w.front().start_us, w.back().end_us(), c.time_attr)) {
    const auto span = static_cast<std::size_t>((w.back().start_us - w.front().start_us) / kMicrosPerHour) + 1;
    slot_of_hour.assign(span, -1);
    for (std::size_t i = 0; i < w.size(); ++i) {
      slot_of_hour[static_cast<std::size_t>((w[i].start_us - w.front().start_us) / kMicrosPerHour)] =
          static_cast<int>(i);
    }
  }

  /// The index in windows of the hour holding time_us, or -1 when no hour read holds it.
  [[nodiscard]] int slot(std::int64_t time_us) const {
    const std::int64_t first = windows.front().start_us;
    if (time_us < first) return -1;
    const auto index = static_cast<std::uint64_t>((time_us - first) / kMicrosPerHour);
    return index < slot_of_hour.size() ? slot_of_hour[index] : -1;
  }
  [[nodiscard]] std::string label() const {
    return windows.size() == 1 ? windows.front().label()
                               : fmt::format("{}..{}", windows.front().label(), windows.back().label());
  }

  const std::vector<HourWindow>& windows;
  const ExportConfig& config;
  const Ports& ports;
  ReadProgress* progress;
  const ReadLimits& limits;
  WindowFilter filter;
  std::vector<int> slot_of_hour;  ///< hour offset from the first window -> index in windows, or -1
  std::atomic<std::size_t> next_unit{0};
  std::vector<int> units;  ///< the scan segments / hour shards to read
  int total_segments = 0;
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::optional<Error> error;

  void fail(Error e) {
    std::lock_guard lock(error_mutex);
    if (!error) error = std::move(e);
    failed = true;
  }
};

/// What one reader thread holds of one hour.
struct HourSlot {
  ClientEventMap clients;
  std::vector<RejectedEvent> rejected;
  /// A client id already seen: why it is invalid, or where its events go. Validation runs once per
  /// client, and an event's client is looked up once (the events of `clients` never move).
  struct Route {
    std::optional<std::string> invalid;             ///< why the client's events are rejected
    std::string_view reason = "invalid_client_id";  ///< the rejection's code
    ClientEvents* events = nullptr;
  };
  std::unordered_map<std::string, Route, StringHash, std::equal_to<>> routes;
  std::unordered_map<std::string, std::vector<SpilledRun>, StringHash, std::equal_to<>> runs;
  std::uint64_t events_read = 0;
  SourceDigestSum digest;
};

/// What one reader thread accumulates.
struct ReaderState {
  BlockPool* blocks = nullptr;  ///< the memory of the clients' arenas, shared by the readers
  std::vector<HourSlot> hours;  ///< one per window read
  std::uint64_t scanned = 0;
  std::uint64_t returned = 0;
  std::uint64_t out_of_window = 0;
  std::uint64_t pages = 0;
  double consumed = 0;
  std::shared_ptr<SpillFile> spill_file;
  std::string run_buffer;  ///< where spilled runs are gathered
  std::uint64_t spills = 0;
  std::uint64_t spilled_bytes = 0;

  [[nodiscard]] std::uint64_t events_read() const {
    std::uint64_t n = 0;
    for (const HourSlot& h : hours) n += h.events_read;
    return n;
  }
  [[nodiscard]] std::uint64_t buffered_bytes() const {
    std::uint64_t n = 0;
    for (const HourSlot& h : hours) {
      for (const auto& [client, events] : h.clients) {
        n += events.arena.bytes_reserved() + events.events.capacity() * sizeof(StoredEvent);
      }
    }
    return n;
  }
};

/// Writes every client's buffered events as one sorted run each and empties them, their memory kept
/// for the events that follow.
Status spill(ReaderState& state, const ReadLimits& limits) {
  if (!state.spill_file) {
    ES_ASSIGN_OR_RETURN(state.spill_file, SpillFile::create(limits.spill_dir));
  }
  for (HourSlot& hour : state.hours) {
    for (auto& [client, events] : hour.clients) {
      if (events.events.empty()) continue;
      ES_ASSIGN_OR_RETURN(SpilledRun run, write_run(state.spill_file, events.events, state.run_buffer));
      state.spilled_bytes += run.bytes;
      auto it = hour.runs.find(client);
      if (it == hour.runs.end()) it = hour.runs.try_emplace(client).first;
      it->second.push_back(std::move(run));
      events.arena.clear();
      events.events.clear();
      events.body_bytes = 0;
    }
  }
  ++state.spills;
  return ok_status();
}

HourSlot::Route& client_route(HourSlot& hour, BlockPool& blocks, std::string_view client,
                              const ExportConfig& config) {
  auto it = hour.routes.find(client);
  if (it == hour.routes.end()) {
    HourSlot::Route route{validate_client_id(client, config.bucket_prefix)};
    if (!route.invalid) {
      route.invalid = config.reserved_bucket_reason(client);
      if (route.invalid) route.reason = "reserved_bucket";
    }
    if (!route.invalid) {
      route.invalid = config.client_not_allowed_reason(client);
      if (route.invalid) route.reason = "client_not_allowed";
    }
    if (!route.invalid) route.events = &hour.clients.try_emplace(std::string(client), blocks).first->second;
    it = hour.routes.emplace(std::string(client), std::move(route)).first;
  }
  return it->second;
}

void reject(HourSlot& hour, const DecodedPage& page, const DecodedRecord& r, std::string reason,
            std::string message) {
  hour.rejected.push_back(RejectedEvent{std::move(reason), std::move(message), std::string(page.event_id(r)),
                                        std::string(page.client_id(r)), std::string(page.body(r))});
  hour.digest.add(page.event_id(r), page.body(r));
  ++hour.events_read;
}

/// Sorts every record of a decoded page into the reader's hours.
void route_page(ReaderState& state, const DecodedPage& page, const ReadContext& ctx, bool query_mode) {
  for (const DecodedRecord& r : page.records()) {
    const int slot = r.has_time ? ctx.slot(r.time_us) : -1;
    if (!r.ok()) {
      // A rejection whose time is known belongs to that hour's run alone; one without a usable
      // time belongs to no hour and is reported by every run that reads it: by every hour read.
      if (!r.has_time) {
        for (HourSlot& hour : state.hours) {
          reject(hour, page, r, std::string(to_string(r.status)), std::string(page.message(r)));
        }
      } else if (slot >= 0 || query_mode) {
        reject(state.hours[slot >= 0 ? static_cast<std::size_t>(slot) : 0], page, r,
               std::string(to_string(r.status)), std::string(page.message(r)));
      } else {
        ++state.out_of_window;
      }
      continue;
    }
    if (slot < 0) {
      if (query_mode) {
        // The item sits in this hour's shards but its time says otherwise: the writer computed
        // the hour shard wrongly. Reject it so that it is seen, rather than skip it silently.
        reject(state.hours.front(), page, r, "hour_shard_mismatch",
               fmt::format("{} lies outside {} but the item is in that hour's shard",
                           format_iso8601_us(r.time_us), ctx.windows.front().label()));
      } else {
        ++state.out_of_window;
      }
      continue;
    }
    HourSlot& hour = state.hours[static_cast<std::size_t>(slot)];
    const std::string_view client = page.client_id(r);
    const HourSlot::Route& route = client_route(hour, *state.blocks, client, ctx.config);
    if (route.invalid) {
      reject(hour, page, r, std::string(route.reason), *route.invalid);
      continue;
    }
    route.events->add(r.time_us, page.body(r), page.event_id(r));
    hour.digest.add(page.event_id(r), page.body(r));
    ++hour.events_read;
  }
}

Status read_unit(int unit, EventTable& table, PageDecoder& decoder, LeasePool<DecodedPage>& pages,
                 ReaderState& state, ReadContext& ctx) {
  const ExportConfig& config = ctx.config;
  const bool query_mode = config.read_mode == ReadMode::kQuery;
  dynamodb::ScanRequest scan;
  dynamodb::QueryRequest query;
  if (query_mode) {
    query.table = config.table;
    query.index = config.index_name;
    query.key_condition_expression = "#s = :shard";
    query.attributes.names = {{"#s", config.shard_attr}};
    std::string shard_value = R"({"S":)";
    json::append_string(shard_value, hour_shard(ctx.windows.front(), unit));
    shard_value += '}';
    query.attributes.values_json = {{":shard", std::move(shard_value)}};
  } else {
    scan.table = config.table;
    scan.segment = unit;
    scan.total_segments = ctx.total_segments;
    scan.filter_expression = ctx.filter.expression;
    scan.consistent_read = config.consistent_read;
    scan.attributes = ctx.filter.attributes;
  }
  for (;;) {
    if (ctx.failed) return ok_status();
    auto result = query_mode ? table.query(query) : table.scan(scan);
    if (!result.ok()) return std::move(result).error();
    dynamodb::Page& raw = result.value();
    ensure_json_padding(raw.body);
    const std::uint64_t before = state.events_read();
    std::string next_key;
    std::size_t items = 0;
    {
      // A decoded page is only held while it is decoded and routed (CPU work).
      const LeasePool<DecodedPage>::Lease page(pages);
      ES_TRY(decoder.decode(raw.body, *page));
      ++state.pages;
      state.scanned += static_cast<std::uint64_t>(page->scanned_count());
      items = page->records().size();
      state.returned += items;
      if (auto units = page->consumed_capacity_units()) state.consumed += *units;
      route_page(state, *page, ctx, query_mode);
      next_key = page->last_evaluated_key();
    }
    if (ctx.limits.bytes_per_thread != UINT64_MAX && state.buffered_bytes() > ctx.limits.bytes_per_thread) {
      ES_TRY(spill(state, ctx.limits));
      log::debug("read.spilled",
                 {{"hour", ctx.label()}, {"spills", state.spills}, {"spilled_bytes", state.spilled_bytes}});
    }
    if (ctx.progress != nullptr) {
      ctx.progress->items_seen += items;
      ctx.progress->events_read += state.events_read() - before;
    }
    if (next_key.empty()) return ok_status();
    if (query_mode) {
      query.exclusive_start_key_json = std::move(next_key);
    } else {
      scan.exclusive_start_key_json = std::move(next_key);
    }
  }
}

}  // namespace

std::string hour_shard(const HourWindow& window, int shard) {
  return fmt::format("{}#{:02}", window.label(), shard);
}

namespace {

/// One scan over windows (or one query of windows.front()'s shards).
Result<MultiHourRead> read_windows(const std::vector<HourWindow>& windows, const ExportConfig& config,
                                   const Ports& ports, ReadProgress* progress, const ReadLimits& limits,
                                   const ReadScope& scope) {
  if (windows.empty()) return MultiHourRead{};
  if (!config.clients_object.empty() && !config.allowed_clients) {
    // Reading without the allow-list would deliver every client: the setup must load it first.
    return Error::internal("read_hours: the allow-list " + config.clients_object +
                           " (EAGLESENSE_CLIENTS) was not loaded");
  }
  for (std::size_t i = 1; i < windows.size(); ++i) {
    if (!(windows[i - 1] < windows[i])) {
      return Error::internal("read_hours: the hours must be distinct and in increasing order");
    }
  }
  const bool query_mode = config.read_mode == ReadMode::kQuery;
  if (query_mode && windows.size() != 1) return Error::internal("read_hours: a query reads one hour");
  ReadContext ctx(windows, config, ports, progress, limits);
  ctx.total_segments = scope.total_segments > 0 ? scope.total_segments : config.segments;
  if (scope.units.empty()) {
    const int all = query_mode ? config.shards : config.segments;
    for (int u = 0; u < all; ++u) ctx.units.push_back(u);
  } else {
    ctx.units = scope.units;
  }
  const int units = static_cast<int>(ctx.units.size());
  const int threads = std::max(std::min(units, std::max(config.segments, 1)), 1);
  if (progress != nullptr) progress->units_total = units;

  EventAttributes attributes;
  attributes.client = config.client_attr;
  attributes.id = config.id_attr;
  attributes.time = config.time_attr;
  for (const auto& a : config.required_attrs) {
    if (a != config.client_attr && a != config.id_attr && a != config.time_attr)
      attributes.required.push_back(a);
  }

  // The readers' decoded pages (~2 MB each), one per hardware thread in use: eight readers each
  // keeping their own faulted in 16 MB for what two cores decode into two at a time.
  LeasePool<DecodedPage> pages(static_cast<int>(std::max(2U, std::thread::hardware_concurrency())));
  // Declared first, so that the hours' arenas are destroyed before it.
  MultiHourRead result;
  result.blocks = std::make_unique<BlockPool>();
  std::vector<ReaderState> states(static_cast<std::size_t>(threads));
  for (ReaderState& s : states) {
    s.blocks = result.blocks.get();
    s.hours.resize(windows.size());
  }
  std::vector<aws::CallStats> stats(static_cast<std::size_t>(threads));
  // Reader t: units until none is left or one failed.
  const auto read_units = [&](int t) -> Status {
    ES_ASSIGN_OR_RETURN(const std::unique_ptr<EventTable> table, ports.make_table());
    PageDecoder decoder(attributes);
    ReaderState& state = states[static_cast<std::size_t>(t)];
    for (std::size_t i = ctx.next_unit++; i < ctx.units.size() && !ctx.failed; i = ctx.next_unit++) {
      const int unit = ctx.units[i];
      Status s = read_unit(unit, *table, decoder, pages, state, ctx);
      if (!s.ok()) {
        ctx.fail(std::move(s).error());
        break;
      }
      if (progress != nullptr) ++progress->units_done;
      log::debug("read.unit_done", {{"hour", ctx.label()}, {"unit", unit}, {"pages", state.pages}});
    }
    stats[static_cast<std::size_t>(t)] = table->stats();
    return ok_status();
  };
  {
    std::vector<std::jthread> workers;
    workers.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        // An exception in a reader (std::bad_alloc, a library's) fails the hours it reads, not the process.
        Status s = guarded(fmt::format("reading {}", ctx.label()), [&] { return read_units(t); });
        if (!s.ok()) ctx.fail(std::move(s).error());
      });
    }
  }
  if (ctx.error) return std::move(*ctx.error);

  result.blocks->trim();  // what spills emptied and the rest of the read did not fill again
  result.hours.resize(windows.size());
  std::vector<SourceDigestSum> digests(windows.size());
  ReadResult& first = result.hours.front();
  for (std::size_t t = 0; t < states.size(); ++t) {
    ReaderState& s = states[t];
    first.items_scanned += s.scanned;
    first.items_returned += s.returned;
    first.out_of_window += s.out_of_window;
    first.pages += s.pages;
    first.consumed_capacity += s.consumed;
    first.spills += s.spills;
    first.spilled_bytes += s.spilled_bytes;
    first.calls += stats[t];
    for (std::size_t h = 0; h < windows.size(); ++h) {
      HourSlot& slot = s.hours[h];
      ReadResult& hour = result.hours[h];
      hour.events_read += slot.events_read;
      for (auto& r : slot.rejected) hour.rejected.push_back(std::move(r));
      hour.partitions.push_back(std::move(slot.clients));
      for (auto& [client, runs] : slot.runs) {
        auto& all = hour.runs[client];
        for (auto& run : runs) all.push_back(std::move(run));
      }
      digests[h] += slot.digest;
    }
  }
  for (std::size_t h = 0; h < windows.size(); ++h) result.hours[h].source = digests[h].result();
  return result;
}

}  // namespace

Result<MultiHourRead> read_hours(const std::vector<HourWindow>& windows, const ExportConfig& config,
                                 const Ports& ports, ReadProgress* progress, const ReadLimits& limits) {
  return read_windows(windows, config, ports, progress, limits, {});
}

Result<ReadResult> read_hour(const HourWindow& window, const ExportConfig& config, const Ports& ports,
                             ReadProgress* progress, const ReadLimits& limits, const ReadScope& scope) {
  ES_ASSIGN_OR_RETURN(MultiHourRead read, read_windows({window}, config, ports, progress, limits, scope));
  ReadResult result = std::move(read.hours.front());
  result.blocks = std::move(read.blocks);
  return result;
}

}  // namespace es::exporter
