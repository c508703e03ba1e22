// run_scaled_out_hour, the one driver of a scaled-out hour: in process against in-memory ports (the
// same objects, manifest and report as a single run), and against a scripted StageRunner (which
// stages run, how many at once, what fails the hour and what does not).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "export/exporter.h"
#include "export/scale_out.h"
#include "export/scale_out/run.h"
#include "support/fake_ports.h"

namespace es::exporter {
namespace {

using es::testing::FakeStoreData;
using es::testing::FakeTableData;

const HourWindow kHour = *HourWindow::parse_hour("2026-11-29T10");

/// 600 events over four clients (one without a bucket) and one rejected item.
struct World {
  FakeTableData table;
  FakeStoreData store;
  ExportConfig config;

  World() {
    config.bucket_prefix = "rt";
    config.ops_bucket = "rt-ops";
    config.segments = 2;
    config.upload_concurrency = 2;
    store.buckets = {"rt-ops", "rt-acme", "rt-beta", "rt-delta"};
    table.page_size = 50;
    std::mt19937 rng(11);
    const std::vector<std::string> clients = {"acme", "beta", "nobucket", "delta"};
    for (int i = 0; i < 600; ++i) {
      table.items.push_back(fmt::format(
          R"({{"eventId":{{"S":"e{:05}"}},"clientId":{{"S":"{}"}},"time":{{"S":"2026-11-29T10:{:02}:{:02}Z"}},)"
          R"("n":{{"N":"{}"}}}})",
          i, clients[static_cast<std::size_t>(i) % clients.size()], rng() % 60, rng() % 60, rng() % 1000));
    }
    table.items.push_back(R"({"eventId":{"S":"bad"},"time":{"S":"2026-11-29T10:10:00Z"}})");
  }

  Exporter exporter() {
    return Exporter(config, es::testing::fake_ports(table, store), {}, [] { return kHour.end_us(); });
  }

  std::map<std::string, std::string> outputs(bool staging) const {
    std::map<std::string, std::string> out;
    for (const auto& [id, obj] : store.objects) {
      if ((id.find("/staging/") != std::string::npos) == staging) out[id] = obj.body;
    }
    return out;
  }
};

TEST(RunScaledOutHour, InProcessWritesWhatASingleRunWrites) {
  World single;
  auto reference = single.exporter().export_hour(kHour);
  ASSERT_TRUE(reference.ok()) << reference.error().to_string();
  for (std::size_t parallel : {std::size_t{1}, std::size_t{3}}) {
    for (int workers : {1, 3}) {
      World w;
      Exporter exporter = w.exporter();
      InProcessStageRunner runner(exporter, parallel);
      auto report = run_scaled_out_hour(runner, kHour, workers);
      const std::string what = fmt::format("{} workers, {} at once", workers, parallel);
      ASSERT_TRUE(report.ok()) << report.error().to_string() << " with " << what;
      EXPECT_EQ(report->status, HourStatus::kUndeliverable) << what;
      EXPECT_EQ(report->events_read, reference->events_read) << what;
      EXPECT_EQ(report->events_delivered, reference->events_delivered) << what;
      EXPECT_EQ(report->events_rejected, reference->events_rejected) << what;
      EXPECT_EQ(report->events_undeliverable, reference->events_undeliverable) << what;
      EXPECT_EQ(report->clients, reference->clients) << what;
      EXPECT_EQ(report->objects, reference->objects) << what;
      EXPECT_EQ(report->bytes, reference->bytes) << what;
      EXPECT_EQ(report->manifest_key, reference->manifest_key) << what;
      ASSERT_EQ(report->objects_detail.size(), reference->objects_detail.size()) << what;
      for (std::size_t i = 0; i < report->objects_detail.size(); ++i) {
        EXPECT_EQ(render_manifest_object(report->objects_detail[i]),
                  render_manifest_object(reference->objects_detail[i]))
            << what;
      }
      const auto a = single.outputs(false);
      const auto b = w.outputs(false);
      EXPECT_EQ(a.size(), b.size()) << what;
      for (const auto& [id, body] : a) {
        // The manifest differs in generated_at and duration_ms only; client objects are identical.
        if (id.find("/manifests/") != std::string::npos) {
          EXPECT_TRUE(b.contains(id)) << id << " with " << what;
        } else {
          EXPECT_EQ(b.contains(id) ? b.at(id) : "(missing)", body) << id << " with " << what;
        }
      }
      EXPECT_TRUE(w.outputs(true).empty()) << "finish deletes staging/ (" << what << ")";
    }
  }
}

TEST(RunScaledOutHour, InProcessSkipsACompleteHourWhenAsked) {
  World w;
  ASSERT_TRUE(w.exporter().export_hour(kHour).ok());
  Exporter exporter = w.exporter();
  InProcessStageRunner runner(exporter);
  auto report = run_scaled_out_hour(runner, kHour, 2, true);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->status, HourStatus::kSkipped);
  EXPECT_TRUE(w.outputs(true).empty()) << "no plan written";
}

TEST(RunScaledOutHour, InProcessFailsWhenAStageFails) {
  World w;
  w.store.buckets.erase("rt-ops");  // nothing can be staged
  Exporter exporter = w.exporter();
  InProcessStageRunner runner(exporter);
  auto report = run_scaled_out_hour(runner, kHour, 2);
  ASSERT_FALSE(report.ok());
}

/// A StageRunner that records what it is asked and answers from a script.
class ScriptedRunner final : public StageRunner {
 public:
  int units = 4;
  bool complete = false;
  std::set<int> failing_units;
  std::vector<std::string> clients = {"a", "b", "c", "d", "e", "f"};
  std::set<std::string> undeliverable = {"c"};
  std::set<std::string> failing_clients;
  std::size_t parallel = 100;

  std::mutex mutex;
  std::vector<std::string> calls;
  std::atomic<int> running{0};
  int max_work_running = 0;
  int max_merge_running = 0;

  [[nodiscard]] std::size_t max_parallel() const override { return parallel; }

  Result<PlannedHour> plan(const HourWindow&, int workers, bool) override {
    record(fmt::format("plan {}", workers));
    return PlannedHour{complete ? 0 : units, complete};
  }
  Result<WorkedUnit> work(const HourWindow&, int unit) override {
    busy(max_work_running);
    record(fmt::format("work {}", unit));
    if (failing_units.contains(unit)) return Error::io(fmt::format("unit {}", unit), "failed");
    return WorkedUnit{10, 1, 2};
  }
  Result<std::vector<std::string>> list_clients(const HourWindow&) override {
    record("list");
    return clients;
  }
  Result<ManifestObject> merge(const HourWindow&, const std::string& client) override {
    busy(max_merge_running);
    record("merge " + client);
    if (failing_clients.contains(client)) return Error::io("client " + client, "failed");
    ManifestObject o;
    o.client = client;
    o.events = 5;
    o.status = undeliverable.contains(client) ? ObjectStatus::kUndeliverable : ObjectStatus::kDelivered;
    return o;
  }
  Result<HourReport> finish(const HourWindow& w) override {
    record("finish");
    HourReport r;
    r.window = w;
    r.status = HourStatus::kUndeliverable;
    r.events_read = 30;
    r.events_delivered = 25;
    r.events_undeliverable = 5;
    r.clients = clients.size();
    r.requests = 42;
    r.manifest_key = manifest_key(w);
    return r;
  }

  [[nodiscard]] std::size_t count(std::string_view prefix) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count_if(
        calls.begin(), calls.end(), [&](const std::string& c) { return c.starts_with(prefix); }));
  }

 private:
  void record(std::string call) {
    std::lock_guard lock(mutex);
    calls.push_back(std::move(call));
  }
  /// Counts this call as running for a while, noting the most running at once.
  void busy(int& max_running) {
    const int now = ++running;
    {
      std::lock_guard lock(mutex);
      max_running = std::max(max_running, now);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --running;
  }
};

TEST(RunScaledOutHour, RunsEveryStageInOrderAndBuildsTheReportFromTheirResults) {
  ScriptedRunner runner;
  auto report = run_scaled_out_hour(runner, kHour, 2);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(runner.calls.front(), "plan 2");
  EXPECT_EQ(runner.count("work "), 4u);
  EXPECT_EQ(runner.count("merge "), 6u);
  EXPECT_EQ(runner.calls.back(), "finish");
  // list-clients after every unit, finish after every merge.
  const auto at = [&](std::string_view c) { return std::find(runner.calls.begin(), runner.calls.end(), c); };
  EXPECT_EQ(std::count_if(at("list"), runner.calls.end(),
                          [](const std::string& c) { return c.starts_with("work"); }),
            0);
  EXPECT_EQ(report->status, HourStatus::kUndeliverable);
  EXPECT_EQ(report->events_read, 30u);
  EXPECT_EQ(report->requests, 42u);
  ASSERT_EQ(report->objects_detail.size(), 6u);
  EXPECT_EQ(report->objects_detail[2].client, "c");
  EXPECT_EQ(report->objects_detail[2].status, ObjectStatus::kUndeliverable);
  EXPECT_GE(report->duration_ms, 0);
}

TEST(RunScaledOutHour, UnitsRunUpToTheRunnersLimitAndMergesUpToWorkers) {
  ScriptedRunner runner;
  runner.units = 6;
  runner.clients = {"a", "b", "c", "d", "e", "f", "g", "h"};
  runner.parallel = 4;
  ASSERT_TRUE(run_scaled_out_hour(runner, kHour, 2).ok());
  EXPECT_GT(runner.max_work_running, 2);
  EXPECT_LE(runner.max_work_running, 4);
  EXPECT_GT(runner.max_merge_running, 1);
  EXPECT_LE(runner.max_merge_running, 2);

  ScriptedRunner one;
  one.parallel = 1;
  ASSERT_TRUE(run_scaled_out_hour(one, kHour, 3).ok());
  EXPECT_EQ(one.max_work_running, 1);
  EXPECT_EQ(one.max_merge_running, 1);
}

TEST(RunScaledOutHour, AFailedUnitFailsTheHourAfterEveryUnitRan) {
  ScriptedRunner runner;
  runner.failing_units = {1, 3};
  auto report = run_scaled_out_hour(runner, kHour, 2);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().resource, "unit 1") << "the first failed unit, in unit order";
  EXPECT_EQ(runner.count("work "), 4u);
  EXPECT_EQ(runner.count("list"), 0u);
  EXPECT_EQ(runner.count("finish"), 0u);
}

TEST(RunScaledOutHour, AnUndeliverableClientIsNotAFailureButAFailedMergeIs) {
  ScriptedRunner runner;
  runner.undeliverable = {"a", "b", "c", "d", "e", "f"};
  ASSERT_TRUE(run_scaled_out_hour(runner, kHour, 3).ok());

  ScriptedRunner failing;
  failing.failing_clients = {"e", "b"};
  auto report = run_scaled_out_hour(failing, kHour, 3);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().resource, "client b");
  EXPECT_EQ(failing.count("merge "), 6u) << "every merge runs";
  EXPECT_EQ(failing.count("finish"), 0u);
}

TEST(RunScaledOutHour, ACompleteHourIsSkippedWithoutRunningAStage) {
  ScriptedRunner runner;
  runner.complete = true;
  auto report = run_scaled_out_hour(runner, kHour, 4, true);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->status, HourStatus::kSkipped);
  EXPECT_EQ(report->manifest_key, manifest_key(kHour));
  EXPECT_EQ(runner.calls, std::vector<std::string>{"plan 4"});
}

}  // namespace
}  // namespace es::exporter
