#pragma once
/// The status report (export/status.h) as a person or a program reads it: a text table for the
/// terminal, one JSON document, and one self-contained HTML page (inline CSS and SVG, no script,
/// nothing from the network).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "export/status.h"

namespace es::exporter {

/// The output formats of `status`.
enum class StatusFormat { kTable, kJson, kHtml };
inline constexpr std::array<Named<StatusFormat>, 3> kStatusFormatNames = {{
    {StatusFormat::kTable, "table"},
    {StatusFormat::kJson, "json"},
    {StatusFormat::kHtml, "html"},
}};

/// Hours, oldest first, as runs of consecutive hours: "2026-11-29T03..2026-11-29T05", "2026-11-29T08".
[[nodiscard]] std::vector<std::string> hour_runs(const std::vector<HourWindow>& hours);

/// The verdict in words, with the exit code: "exit 1: 2 hours missing, 1 failed", ...
[[nodiscard]] std::string status_verdict(const StatusReport& report);

/// The text table: one line per hour, the totals, then one line per client and the verdict.
[[nodiscard]] std::string render_status_table(const StatusReport& report);

/// One JSON document: the range, the totals, each hour and each client.
[[nodiscard]] std::string render_status_json(const StatusReport& report);

struct HtmlReportOptions {
  /// Largest number of cells of the hour x client grid: past it, the grid shows only the clients with
  /// undeliverable hours and then the most events (as many rows as fit) and says so. 20,000 keeps a
  /// week of 1,000 clients (119 of them in the grid) well under 5 MB; the per-client table lists every
  /// client whatever this is.
  std::size_t max_grid_cells = 20'000;
};

/// The HTML page. Every text that comes from a manifest or a setting is escaped.
[[nodiscard]] std::string render_status_html(const StatusReport& report,
                                             const HtmlReportOptions& options = {});

/// s with &, <, >, " and ' replaced by their character references (text and attribute values alike).
[[nodiscard]] std::string html_escape(std::string_view s);

/// The report in format.
[[nodiscard]] std::string render_status(const StatusReport& report, StatusFormat format);

}  // namespace es::exporter
