// The status report at its stated size: a week (168 hours) of 1,000 clients, rendered as HTML, JSON and
// a table from manifests made in memory. Prints the time and size of each; asserts nothing (figures
// for docs/PERFORMANCE.md and scripts/bench.sh). Usage: status_bench [HOURS [CLIENTS [DIR]]]
// (DIR: also write the reports there, as status-bench.html, .json and .txt).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/manifest.h"
#include "export/status.h"
#include "export/status_report.h"

namespace {

using es::exporter::HourOverview;

/// A manifest of hour with clients objects of varying size; every 97th hour has client 7 undeliverable.
es::Manifest make_manifest(const es::HourWindow& hour, int index, int clients) {
  es::Manifest m;
  m.window = hour;
  m.revision = index % 50 == 3 ? 2 : 1;
  m.reason = m.revision > 1 ? es::RevisionReason::kLateEvents : es::RevisionReason::kFirstExport;
  for (int c = 0; c < clients; ++c) {
    es::ManifestObject o;
    o.client = fmt::format("client-{:04d}", c);
    o.bucket = "client-events-" + o.client;
    o.key = fmt::format("events-{}.json", hour.key_date_part());
    o.events = static_cast<std::uint64_t>(1 + (c * 7919 + index * 104729) % 5000) * (c < 20 ? 40 : 1);
    o.bytes = o.events * 480;
    if (c == 7 && index % 97 == 5) {
      o.status = es::ObjectStatus::kUndeliverable;
      o.undeliverable_key = "undeliverable/" + o.client + "/" + o.key;
      m.events_undeliverable += o.events;
    } else {
      m.events_delivered += o.events;
    }
    m.events_read += o.events;
    m.objects.push_back(std::move(o));
  }
  m.duration_ms = 4000;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const int hours = argc > 1 ? std::atoi(argv[1]) : 168;
  const int clients = argc > 2 ? std::atoi(argv[2]) : 1000;
  const char* out_dir = argc > 3 ? argv[3] : nullptr;
  const es::HourWindow first = *es::HourWindow::parse_hour("2026-11-22T00");
  // The manifests as the ops bucket holds them: parsing them is most of what `status` does after the GETs.
  std::vector<std::string> documents;
  std::size_t manifest_bytes = 0;
  for (int i = 0; i < hours; ++i) {
    const es::HourWindow hour{first.start_us + i * es::kMicrosPerHour};
    documents.push_back(i == 30 ? std::string() : es::render_manifest(make_manifest(hour, i, clients)));
    manifest_bytes += documents.back().size();
  }
  const auto parse_started = std::chrono::steady_clock::now();
  std::vector<HourOverview> overviews;
  for (int i = 0; i < hours; ++i) {
    const es::HourWindow hour{first.start_us + i * es::kMicrosPerHour};
    if (documents[static_cast<std::size_t>(i)].empty()) {
      overviews.push_back(es::exporter::hour_overview(hour, std::nullopt, std::nullopt, 0));  // missing
      continue;
    }
    auto manifest = es::parse_manifest(documents[static_cast<std::size_t>(i)]);
    if (!manifest.ok()) {
      std::fprintf(stderr, "%s\n", manifest.error().to_string().c_str());
      return 1;
    }
    overviews.push_back(es::exporter::hour_overview(hour, *manifest, std::nullopt, 0));
  }
  const double parse_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - parse_started).count();
  es::ExportConfig config;
  config.ops_bucket = "client-events-ops";
  const auto started = std::chrono::steady_clock::now();
  const es::exporter::StatusReport report = es::exporter::make_status_report(
      config, std::move(overviews), first.start_us + hours * es::kMicrosPerHour);
  const double model_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::printf("status report, %d hours x %d clients\n", hours, clients);
  std::printf("  parse %d manifests (%.1f MB, one thread) %.1f ms; the report's model %.1f ms\n", hours - 1,
              static_cast<double>(manifest_bytes) / 1e6, parse_ms, model_ms);
  for (const auto format : {es::exporter::StatusFormat::kHtml, es::exporter::StatusFormat::kJson,
                            es::exporter::StatusFormat::kTable}) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string text = es::exporter::render_status(report, format);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const std::string name(es::name_of(es::exporter::kStatusFormatNames, format));
    std::printf("  %-5s %8.1f ms %10.2f MB\n", name.c_str(), ms, static_cast<double>(text.size()) / 1e6);
    if (out_dir != nullptr) {
      // The page itself, to look at (scripts/bench.sh keeps it in the build directory).
      const std::string path = fmt::format("{}/status-bench.{}", out_dir, name == "table" ? "txt" : name);
      if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
      }
    }
  }
  return 0;
}
