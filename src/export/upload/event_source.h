#pragma once
/// A client's events in output order, read again for each pass over an object that is never
/// built: from memory (sorted), or from memory merged with the client's spilled runs.

#include <cstddef>
#include <optional>
#include <span>

#include "core/result.h"
#include "export/client_events.h"
#include "export/spill.h"

namespace es::exporter {

/// A client's events in output order, for the passes over an object that is never built: from
/// the first again after rewind().
class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual void rewind() = 0;
  /// The next event (valid until the next call); false at the end.
  [[nodiscard]] virtual Result<bool> next(StoredEvent& event) = 0;
  /// Whether reading an event failed (a spill file, a staged run): no fault of the object's
  /// destination.
  [[nodiscard]] virtual bool failed() const noexcept { return false; }
};

/// Events held in memory, already sorted (they must outlive the source).
class SortedEvents final : public EventSource {
 public:
  explicit SortedEvents(std::span<const StoredEvent> events) : events_(events) {}
  void rewind() override { next_ = 0; }
  [[nodiscard]] Result<bool> next(StoredEvent& event) override;

 private:
  std::span<const StoredEvent> events_;
  std::size_t next_ = 0;
};

/// Sorted events in memory merged with spilled runs (an EventMerger, started again by rewind()).
/// failed(): a run could not be read, which is no fault of the object's destination.
class MergedEvents final : public EventSource {
 public:
  MergedEvents(std::span<const StoredEvent> memory, std::span<const SpilledRun> runs,
               std::size_t buffer_bytes)
      : memory_(memory), runs_(runs), buffer_bytes_(buffer_bytes) {}
  void rewind() override { merger_.reset(); }
  [[nodiscard]] Result<bool> next(StoredEvent& event) override;
  [[nodiscard]] bool failed() const noexcept override { return failed_; }

 private:
  std::span<const StoredEvent> memory_;
  std::span<const SpilledRun> runs_;
  std::size_t buffer_bytes_;
  std::optional<EventMerger> merger_;
  bool failed_ = false;
};

}  // namespace es::exporter
