// The status report's renderers (export/status_report.h): the table, the JSON document (read back with
// core's reader) and the HTML page: its marks, its escaping of every text from a manifest, that it
// loads nothing, and the grid's limit.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/json_reader.h"
#include "core/manifest.h"
#include "export/status.h"
#include "export/status_report.h"

namespace es::exporter {
namespace {

const HourWindow kHour = *HourWindow::parse_hour("2026-11-29T10");
const std::int64_t kNow = *parse_iso8601_us("2026-11-29T15:05:00Z");

Manifest manifest(const HourWindow& hour, const std::vector<std::pair<std::string, std::uint64_t>>& clients,
                  std::string_view undeliverable = "", std::uint64_t revision = 1) {
  Manifest m;
  m.window = hour;
  m.revision = revision;
  m.reason = revision > 1 ? RevisionReason::kLateEvents : RevisionReason::kFirstExport;
  m.events_rejected = 1;
  m.events_read = 1;
  for (const auto& [client, events] : clients) {
    ManifestObject o;
    o.client = client;
    o.bucket = "rp-" + client;
    o.key = fmt::format("events-{}.json", hour.key_date_part());
    o.events = events;
    o.bytes = events * 10;
    if (client == undeliverable) {
      o.status = ObjectStatus::kUndeliverable;
      o.undeliverable_key = fmt::format("undeliverable/{}/{}", client, o.key);
      m.events_undeliverable += events;
    } else {
      m.events_delivered += events;
    }
    m.events_read += events;
    m.objects.push_back(o);
  }
  return m;
}

/// Five hours: complete, complete with beta undeliverable, revised (r2), missing, in progress.
StatusReport sample(std::string_view odd_client = "acme") {
  const std::string odd(odd_client);
  std::vector<HourOverview> hours;
  HourWindow h = kHour;
  hours.push_back(hour_overview(h, manifest(h, {{odd, 10}, {"beta", 20}}), {}, kNow));
  h = h.next();
  hours.push_back(hour_overview(h, manifest(h, {{odd, 11}, {"beta", 21}}, "beta"), {}, kNow));
  h = h.next();
  hours.push_back(hour_overview(h, manifest(h, {{odd, 12}, {"beta", 22}}, "", 2), {}, kNow));
  h = h.next();
  hours.push_back(hour_overview(h, std::nullopt, std::nullopt, kNow));
  h = h.next();
  hours.push_back(
      hour_overview(h, std::nullopt, HourLock{"run-9", "host", kNow - 1, kNow + kMicrosPerHour}, kNow));
  ExportConfig config;
  config.ops_bucket = "rp-ops";
  return make_status_report(config, std::move(hours), kNow);
}

std::size_t occurrences(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(StatusTable, OneLinePerHourAndClientAndTheVerdict) {
  const std::string table = render_status_table(sample());
  EXPECT_NE(table.find("2026-11-29T10  complete "), std::string::npos) << table;
  EXPECT_NE(table.find("2026-11-29T11  complete_undeliverable"), std::string::npos) << table;
  EXPECT_NE(table.find("revised r2 (late_events)"), std::string::npos) << table;
  EXPECT_NE(table.find("2026-11-29T13  missing"), std::string::npos) << table;
  EXPECT_NE(table.find("2026-11-29T14  in_progress"), std::string::npos) << table;
  EXPECT_NE(table.find("run run-9 on host"), std::string::npos) << table;
  EXPECT_NE(table.find("undeliverable: beta"), std::string::npos) << table;
  EXPECT_NE(table.find("2026-11-29T11\n"), std::string::npos) << "beta's undeliverable hour: " << table;
  EXPECT_NE(table.find("exit 1: 1 hour missing, 0 failed"), std::string::npos) << table;
}

TEST(StatusJson, EveryHourAndClientReadBack) {
  const std::string text = render_status_json(sample());
  auto doc = json::parse_document(text, "status");
  ASSERT_TRUE(doc.ok()) << doc.error().to_string() << "\n" << text;
  EXPECT_EQ(*doc->int64("exit_code"), 1);
  EXPECT_EQ(*doc->string("from"), "2026-11-29T10");
  EXPECT_EQ(*doc->string("to"), "2026-11-29T14");
  EXPECT_EQ(*doc->uint64("events_undeliverable"), 21u);
  const std::vector<json::Value> hours = *doc->array("hours");
  ASSERT_EQ(hours.size(), 5u);
  EXPECT_EQ(*hours[1].string("state"), "complete_undeliverable");
  EXPECT_EQ((*hours[1].array("undeliverable_clients")).size(), 1u);
  EXPECT_TRUE(*hours[2].boolean("revised"));
  EXPECT_EQ(*hours[2].uint64("revision"), 2u);
  EXPECT_EQ(*hours[3].string("state"), "missing");
  EXPECT_FALSE(hours[3].has("events_read"));
  EXPECT_EQ(*hours[4].string("state"), "in_progress");
  EXPECT_EQ(*(*hours[4]["lock"]).string("run_id"), "run-9");
  const std::vector<json::Value> clients = *doc->array("client_totals");
  ASSERT_EQ(clients.size(), 2u);
  EXPECT_EQ(*clients[1].string("client"), "beta");
  EXPECT_EQ(*clients[1].uint64("events_undeliverable"), 21u);
  const std::vector<json::Value> when = *clients[1].array("undeliverable_hours");
  ASSERT_EQ(when.size(), 1u);
  EXPECT_EQ(*when[0].string(), "2026-11-29T11");
  EXPECT_EQ(*(*doc)["hours_by_state"]->uint64("missing"), 1u);
}

TEST(StatusHtml, MarksEachStateAndKeepsEveryKeyInATooltip) {
  const std::string html = render_status_html(sample());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find(R"(<p class="verdict exit-1" id="verdict">)"), std::string::npos);
  EXPECT_NE(html.find(R"(class="col" data-hour="2026-11-29T13" data-state="missing")"), std::string::npos);
  EXPECT_NE(html.find(R"(class="col" data-hour="2026-11-29T14" data-state="in_progress")"),
            std::string::npos);
  EXPECT_NE(html.find(R"(class="rev" data-hour="2026-11-29T12" data-revision="2")"), std::string::npos);
  EXPECT_EQ(occurrences(html, R"(<use href="#cell" class="u")"), 1u) << "one undeliverable cell";
  EXPECT_NE(html.find("s3://rp-beta/events-2026-11-29-11.json"), std::string::npos);
  EXPECT_NE(html.find("kept at s3://rp-ops/undeliverable/beta/events-2026-11-29-11.json"), std::string::npos);
  EXPECT_EQ(occurrences(html, R"(<use href="#cell")"), 6u) << "a cell per object";
  EXPECT_NE(html.find(R"(<tr class="state-missing" data-hour="2026-11-29T13" data-state="missing")"),
            std::string::npos);
  EXPECT_NE(html.find(R"(<tr data-client="beta" class="state-complete_undeliverable">)"), std::string::npos);
  EXPECT_NE(html.find(R"(id="legend")"), std::string::npos);
  EXPECT_EQ(html.find("grid-limited"), std::string::npos);
}

TEST(StatusHtml, LoadsNothingAndRunsNothing) {
  const std::string html = render_status_html(sample());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // The only URL is the SVG namespace, which names and loads nothing.
  EXPECT_EQ(occurrences(html, "http"), occurrences(html, R"(xmlns="http://www.w3.org/2000/svg")"));
}

TEST(StatusHtml, EscapesEveryTextFromAManifest) {
  EXPECT_EQ(html_escape(R"(<a href="x">&'</a>)"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  const std::string odd = R"x(<img src=x onerror="alert('1')">&)x";
  StatusReport report = sample(odd);
  report.ops_bucket = "<ops>";
  report.hours[4].lock->holder = "<b>holder</b>";
  const std::string html = render_status_html(report);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<ops>"), std::string::npos);
  EXPECT_EQ(html.find("<b>holder"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;holder"), std::string::npos);
}

TEST(StatusHtml, PastTheCellLimitTheGridShowsTheUndeliverableAndTheLargestClients) {
  std::vector<HourOverview> hours;
  std::vector<std::pair<std::string, std::uint64_t>> clients;
  for (int c = 0; c < 50; ++c) clients.emplace_back(fmt::format("c{:02d}", c), 100 + c);
  for (int i = 0; i < 10; ++i) {
    const HourWindow h{kHour.start_us + i * kMicrosPerHour};
    hours.push_back(hour_overview(h, manifest(h, clients, i == 4 ? "c00" : ""), {}, kNow));
  }
  const StatusReport report = make_status_report(ExportConfig{}, std::move(hours), kNow);
  HtmlReportOptions options;
  options.max_grid_cells = 100;  // 10 hours: 10 rows
  const std::string html = render_status_html(report, options);
  EXPECT_NE(html.find(R"(id="grid-limited">The grid shows 10 of 50 clients)"), std::string::npos);
  EXPECT_EQ(occurrences(html, R"(<g class="row")"), 10u);
  EXPECT_NE(html.find(R"(<g class="row" data-client="c00")"), std::string::npos) << "the undeliverable one";
  for (int c = 41; c < 50; ++c) {
    EXPECT_NE(html.find(fmt::format(R"(<g class="row" data-client="c{}")", c)), std::string::npos) << c;
  }
  EXPECT_EQ(html.find(R"(<g class="row" data-client="c40")"), std::string::npos);
  EXPECT_EQ(occurrences(html, "<tr data-client="), 50u) << "the table lists every client";
}

TEST(HourRuns, ConsecutiveHoursBecomeOneRange) {
  const HourWindow h = kHour;
  EXPECT_EQ(hour_runs({h, h.next(), h.next().next(), h.next().next().next().next()}),
            (std::vector<std::string>{"2026-11-29T10..2026-11-29T12", "2026-11-29T14"}));
  EXPECT_TRUE(hour_runs({}).empty());
}

}  // namespace
}  // namespace es::exporter
