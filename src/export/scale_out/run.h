#pragma once
/// One scaled-out hour driven stage by stage: plan, the work units, list-clients, the merges, finish,
/// in the order and with the concurrency the Step Functions state machine gives them. How a stage
/// runs is a StageRunner's business: in this process (InProcessStageRunner), or as child processes of
/// the program (the CLI's `run --workers`, src/cli/scale_out_runner.cpp).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "core/time.h"
#include "export/exporter.h"
#include "export/scale_out/stages.h"

namespace es::exporter {

/// What the plan stage decided.
struct PlannedHour {
  int units = 0;
  bool complete = false;  ///< the hour has its manifest: nothing to run
  /// Another run holds the hour's lease: nothing to run. Who, and until when.
  bool leased = false;
  std::string leased_by{};
  std::int64_t leased_until_us = 0;
};

/// What a work unit did.
struct WorkedUnit {
  std::uint64_t events_read = 0;
  std::uint64_t events_rejected = 0;
  std::uint64_t clients = 0;
};

/// Runs the stages of an hour, one call per stage; calls may come from several threads at once (at
/// most max_parallel()). An Error is the stage's failure, naming what to run again.
class StageRunner {
 public:
  virtual ~StageRunner() = default;

  /// Work units (and merges) run at once at most.
  [[nodiscard]] virtual std::size_t max_parallel() const = 0;
  [[nodiscard]] virtual Result<PlannedHour> plan(const HourWindow& window, int workers,
                                                 bool skip_complete) = 0;
  [[nodiscard]] virtual Result<WorkedUnit> work(const HourWindow& window, int unit) = 0;
  /// The hour's clients, sorted.
  [[nodiscard]] virtual Result<std::vector<std::string>> list_clients(const HourWindow& window) = 0;
  /// The client's manifest entry. An undeliverable client (its copy kept in the ops bucket) is a
  /// result, not an error.
  [[nodiscard]] virtual Result<ManifestObject> merge(const HourWindow& window, const std::string& client) = 0;
  /// The hour's report once its manifest is written.
  [[nodiscard]] virtual Result<HourReport> finish(const HourWindow& window) = 0;
};

/// Runs window through every stage: the plan; every work unit, at most runner.max_parallel() at once
/// (all of them run even when one fails; the first failed unit fails the hour); list-clients; one
/// merge per client, at most workers (and max_parallel()) at once; finish. The report is finish's,
/// with the merges' objects and the whole hour's duration; an hour the plan finds complete (with
/// skip_complete) is reported skipped, one whose lease another run holds leased.
[[nodiscard]] Result<HourReport> run_scaled_out_hour(StageRunner& runner, const HourWindow& window,
                                                     int workers, bool skip_complete = false);

/// The stages called directly on an exporter (ScaleOut), parallel stages on up to parallel threads.
class InProcessStageRunner final : public StageRunner {
 public:
  explicit InProcessStageRunner(Exporter& exporter, std::size_t parallel = 1)
      : stages_(exporter), parallel_(parallel) {}

  [[nodiscard]] std::size_t max_parallel() const override { return parallel_; }
  [[nodiscard]] Result<PlannedHour> plan(const HourWindow& window, int workers, bool skip_complete) override;
  [[nodiscard]] Result<WorkedUnit> work(const HourWindow& window, int unit) override;
  [[nodiscard]] Result<std::vector<std::string>> list_clients(const HourWindow& window) override;
  [[nodiscard]] Result<ManifestObject> merge(const HourWindow& window, const std::string& client) override;
  [[nodiscard]] Result<HourReport> finish(const HourWindow& window) override;

 private:
  ScaleOut stages_;
  std::size_t parallel_;
};

}  // namespace es::exporter
