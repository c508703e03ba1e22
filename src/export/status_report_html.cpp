// The status report as one self-contained HTML page: inline CSS and SVG, no script, nothing loaded from
// the network, so that it opens from a file, an e-mail or a presigned URL alike. Colours: the grid's
// volume is a sequential viridis scale (light = few events, dark = many), the bars are Okabe-Ito blue,
// orange and vermillion; undeliverable, missing, failed and in-progress also differ by pattern, so that
// nothing rests on telling two hues apart.

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include "export/status_report.h"

namespace es::exporter {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// Viridis, reversed so that the page's white stands for "nothing" and more events are darker.
constexpr std::array<std::string_view, 8> kVolumeColours = {"#fde725", "#a0da39", "#4ac16d", "#1fa187",
                                                            "#277f8e", "#365c8d", "#46327e", "#440154"};
constexpr int kLabelWidth = 190;  // the grid's and the bars' column of names, in px
constexpr int kRowHeight = 12;
constexpr int kBarHeight = 160;
constexpr int kBandHeight = 12;  // each band of marks above the grid (state, revised)

std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string human_bytes(std::uint64_t n) {
  constexpr std::array<std::string_view, 5> kUnits = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  std::size_t unit = 0;
  while (v >= 1000.0 && unit + 1 < kUnits.size()) {
    v /= 1000.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, kUnits[unit]);
}

/// 0..7: the cell's events against the largest cell, on a log scale (volumes span orders of magnitude).
int volume_level(std::uint64_t events, std::uint64_t largest) {
  if (events == 0 || largest <= 1) return 0;
  const double f = std::log1p(static_cast<double>(events)) / std::log1p(static_cast<double>(largest));
  return std::clamp(static_cast<int>(f * 7.999), 0, 7);
}

std::string_view state_words(HourState s) {
  switch (s) {
    case HourState::kComplete:
      return "complete";
    case HourState::kCompleteUndeliverable:
      return "complete, some clients undeliverable";
    case HourState::kInProgress:
      return "in progress (a run holds its lease)";
    case HourState::kFailed:
      return "failed (no manifest, the run's lease expired)";
    case HourState::kMissing:
      return "missing (no manifest, no lease)";
  }
  return "";
}

constexpr std::string_view kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;margin:24px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555;margin:0 0 12px}
.verdict{font-weight:600;padding:8px 12px;border-left:6px solid #009E73;background:#f2f8f5}
.verdict.exit-3{border-color:#D55E00;background:#fbf1ea}.verdict.exit-1{border-color:#CC79A7;background:#f9eff4}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:2px 8px;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0}td.l,th.l{text-align:left}
tr.state-missing td,tr.state-failed td{background:#f7eef3}tr.state-complete_undeliverable td{background:#fbf1ea}
tr.state-in_progress td{background:#eef6fb}
.scroll{overflow-x:auto;max-width:100%}
svg text{font-size:10px;fill:#333}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center;margin:8px 0}
.legend span{display:inline-flex;align-items:center;gap:4px}
.sw{display:inline-block;width:14px;height:12px;border:1px solid #888}
.note{color:#7a3d00}
)";

/// The SVG patterns the marks use, defined once per SVG element that refers to them.
constexpr std::string_view kPatterns =
    R"svg(<defs><pattern id="%ID%-u" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">)svg"
    R"svg(<rect width="4" height="4" fill="#fff"/><rect width="2" height="4" fill="#D55E00"/></pattern>)svg"
    R"svg(<pattern id="%ID%-m" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)">)svg"
    R"svg(<rect width="6" height="6" fill="#f0f0f0"/><rect width="1.5" height="6" fill="#8c8c8c"/></pattern>)svg"
    R"svg(<pattern id="%ID%-f" width="6" height="6" patternUnits="userSpaceOnUse">)svg"
    R"svg(<rect width="6" height="6" fill="#f9eff4"/><path d="M0 0L6 6M6 0L0 6" stroke="#CC79A7" stroke-width="1.5"/></pattern>)svg"
    R"svg(<pattern id="%ID%-p" width="5" height="5" patternUnits="userSpaceOnUse">)svg"
    R"svg(<rect width="5" height="5" fill="#eef6fb"/><circle cx="2.5" cy="2.5" r="1.2" fill="#56B4E9"/></pattern></defs>)svg";

std::string patterns(std::string_view id) {
  std::string out(kPatterns);
  for (std::size_t at = out.find("%ID%"); at != std::string::npos; at = out.find("%ID%", at)) {
    out.replace(at, 4, id);
  }
  return out;
}

/// The fill of a column or bar for an hour without a manifest, in the SVG whose patterns are id's.
std::string absent_fill(HourState s, std::string_view id) {
  const char letter = s == HourState::kMissing ? 'm' : s == HourState::kFailed ? 'f' : 'p';
  return fmt::format("url(#{}-{})", id, letter);
}

struct Geometry {
  int cell_width = 6;
  int hours = 0;
  [[nodiscard]] int x(std::size_t hour) const { return kLabelWidth + static_cast<int>(hour) * cell_width; }
  [[nodiscard]] int width() const { return kLabelWidth + hours * cell_width + 8; }
};

/// Day labels at midnight (and at the first hour), hour-of-day labels as often as they fit.
void append_axis(std::string& out, const StatusReport& r, const Geometry& g, int y) {
  const int every = g.cell_width >= 22   ? 1
                    : g.cell_width >= 11 ? 2
                    : g.cell_width >= 7  ? 3
                    : g.cell_width >= 4  ? 6
                                         : 12;
  for (std::size_t i = 0; i < r.hours.size(); ++i) {
    const std::string label = r.hours[i].window.label();  // YYYY-MM-DDTHH
    const int hour_of_day = std::stoi(label.substr(11, 2));
    if (i == 0 || hour_of_day == 0) {
      out += fmt::format(R"(<text x="{}" y="{}">{}</text>)", g.x(i), y, label.substr(0, 10));
      out +=
          fmt::format(R"(<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="#bbb"/>)", g.x(i), y + 2, y + 8);
    }
    if (hour_of_day % every == 0) {
      out += fmt::format(R"(<text x="{}" y="{}">{}</text>)", g.x(i), y + 12, label.substr(11, 2));
    }
  }
}

void append_bars(std::string& out, const StatusReport& r, const Geometry& g) {
  std::uint64_t largest = 1;
  for (const HourOverview& h : r.hours) largest = std::max(largest, h.events_read);
  const int height = kBarHeight + 30;
  out += fmt::format(
      R"(<div class="scroll"><svg id="bars" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img" aria-label="events per hour">)",
      g.width(), height);
  out += patterns("b");
  out += fmt::format(R"(<text x="0" y="10">{} events</text><text x="0" y="{}">0</text>)", grouped(largest),
                     kBarHeight);
  for (std::size_t i = 0; i < r.hours.size(); ++i) {
    const HourOverview& h = r.hours[i];
    const int w = std::max(1, g.cell_width - (g.cell_width > 3 ? 1 : 0));
    out += fmt::format(R"(<g data-hour="{}" data-state="{}"><title>{}: {})", h.window.label(),
                       to_string(h.state), h.window.label(), state_words(h.state));
    if (!h.complete()) {
      out += fmt::format(R"(</title><rect x="{}" y="{}" width="{}" height="12" fill="{}"/></g>)", g.x(i),
                         kBarHeight - 12, w, absent_fill(h.state, "b"));
      continue;
    }
    out += fmt::format("\nread {} = delivered {} + rejected {} + undeliverable {}</title>",
                       grouped(h.events_read), grouped(h.events_delivered), grouped(h.events_rejected),
                       grouped(h.events_undeliverable));
    double y = kBarHeight;
    const auto segment = [&](std::uint64_t n, std::string_view cls) {
      if (n == 0) return;
      const double hgt =
          static_cast<double>(kBarHeight - 12) * static_cast<double>(n) / static_cast<double>(largest);
      y -= hgt;
      out += fmt::format(R"(<rect class="{}" x="{}" y="{:.1f}" width="{}" height="{:.1f}"/>)", cls, g.x(i), y,
                         w, hgt);
    };
    segment(h.events_delivered, "d");
    segment(h.events_rejected, "r");
    segment(h.events_undeliverable, "x");
    out += "</g>";
  }
  append_axis(out, r, g, kBarHeight + 12);
  out += "</svg></div>";
}

/// The clients the grid shows: all when they fit in max_cells, else those with undeliverable hours
/// first and then the largest, as many as fit; in name order.
std::vector<const ClientOverview*> grid_clients(const StatusReport& r, std::size_t max_cells) {
  std::vector<const ClientOverview*> chosen;
  for (const ClientOverview& c : r.clients) chosen.push_back(&c);
  const std::size_t fit = std::max<std::size_t>(1, max_cells / std::max<std::size_t>(1, r.hours.size()));
  if (chosen.size() <= fit) return chosen;
  std::stable_sort(chosen.begin(), chosen.end(), [](const ClientOverview* a, const ClientOverview* b) {
    if (a->undeliverable_hours.empty() != b->undeliverable_hours.empty())
      return !a->undeliverable_hours.empty();
    return a->events > b->events;
  });
  chosen.resize(fit);
  std::sort(chosen.begin(), chosen.end(),
            [](const ClientOverview* a, const ClientOverview* b) { return a->client < b->client; });
  return chosen;
}

void append_grid(std::string& out, const StatusReport& r, const Geometry& g,
                 const HtmlReportOptions& options) {
  const std::vector<const ClientOverview*> shown = grid_clients(r, options.max_grid_cells);
  if (shown.size() < r.clients.size()) {
    out += fmt::format(
        R"(<p class="note" id="grid-limited">The grid shows {} of {} clients: those with undeliverable hours, then the largest by events ({} cells at most). The table of clients below lists all of them.</p>)",
        shown.size(), r.clients.size(), grouped(options.max_grid_cells));
  }
  std::unordered_map<std::string_view, std::size_t> row_of;
  for (std::size_t i = 0; i < shown.size(); ++i) row_of.emplace(shown[i]->client, i);
  // Each shown client's objects, by hour (hours are walked in order, so each row is in hour order).
  std::vector<std::vector<std::pair<std::size_t, const StatusObject*>>> rows(shown.size());
  std::uint64_t largest = 1;
  for (std::size_t i = 0; i < r.hours.size(); ++i) {
    for (const StatusObject& o : r.hours[i].objects) {
      largest = std::max(largest, o.events);
      if (auto it = row_of.find(o.client); it != row_of.end()) rows[it->second].emplace_back(i, &o);
    }
  }
  const int top = 2 * kBandHeight + 30;  // day and hour labels, then the state and revised bands
  const int height = top + static_cast<int>(shown.size()) * kRowHeight + 4;
  out += fmt::format(
      R"(<div class="scroll"><svg id="grid" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img" aria-label="events per client and hour">)",
      g.width(), height);
  out += patterns("g");
  out += fmt::format(R"(<defs><rect id="cell" width="{}" height="{}"/></defs>)",
                     g.cell_width - (g.cell_width > 3 ? 1 : 0), kRowHeight - 1);
  append_axis(out, r, g, 10);
  out += fmt::format(R"(<text x="0" y="{}">hour state</text><text x="0" y="{}">revised</text>)",
                     28 + kBandHeight - 2, 28 + 2 * kBandHeight - 2);
  const int grid_height = static_cast<int>(shown.size()) * kRowHeight;
  for (std::size_t i = 0; i < r.hours.size(); ++i) {
    const HourOverview& h = r.hours[i];
    const std::string fill = h.state == HourState::kComplete                ? "#009E73"
                             : h.state == HourState::kCompleteUndeliverable ? fmt::format("url(#g-u)")
                                                                            : absent_fill(h.state, "g");
    out += fmt::format(
        R"(<rect class="hs" data-hour="{}" data-state="{}" x="{}" y="28" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>)",
        h.window.label(), to_string(h.state), g.x(i), g.cell_width, kBandHeight - 2, fill, h.window.label(),
        state_words(h.state));
    if (!h.complete()) {
      // The whole column: nothing is known of any client in this hour.
      out += fmt::format(
          R"(<rect class="col" data-hour="{}" data-state="{}" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>)",
          h.window.label(), to_string(h.state), g.x(i), top, g.cell_width, grid_height,
          absent_fill(h.state, "g"), h.window.label(), state_words(h.state));
    }
    if (h.revised()) {
      const int cx = g.x(i) + g.cell_width / 2;
      const int cy = 28 + kBandHeight + kBandHeight / 2 - 1;
      out += fmt::format(
          R"(<path class="rev" data-hour="{}" data-revision="{}" d="M{} {}l4 4l-4 4l-4 -4z"><title>{}: revised, revision {} ({})</title></path>)",
          h.window.label(), h.revision, cx, cy - 4, h.window.label(), h.revision, html_escape(h.reason));
      out += fmt::format(R"(<rect class="revcol" x="{}" y="{}" width="{}" height="{}"/>)", g.x(i), top,
                         g.cell_width, grid_height);
    }
  }
  for (std::size_t row = 0; row < shown.size(); ++row) {
    const ClientOverview& c = *shown[row];
    const std::string name = html_escape(c.client);
    const int y = top + static_cast<int>(row) * kRowHeight;
    const std::string label = c.client.size() > 30 ? html_escape(c.client.substr(0, 29)) + "&#8230;" : name;
    // A row is moved into place as a whole, and each cell is a <use> of one rect: a week of cells
    // costs a third less than rects with their own geometry.
    out += fmt::format(
        R"row(<g class="row" data-client="{}" transform="translate(0,{})"><text x="0" y="{}">{}<title>{}</title></text>)row",
        name, y, kRowHeight - 3, label, name);
    for (const auto& [hour, o] : rows[row]) {
      const bool undeliverable = o->status == ObjectStatus::kUndeliverable;
      out += fmt::format(
          R"(<use href="#cell" class="{}" x="{}"><title>{} {}: {} events, {}{}&#10;s3://{}/{})",
          undeliverable ? std::string("u") : fmt::format("v{}", volume_level(o->events, largest)), g.x(hour),
          name, r.hours[hour].window.label(), grouped(o->events), human_bytes(o->bytes),
          undeliverable ? ", UNDELIVERABLE" : "", html_escape(o->bucket), html_escape(o->key));
      if (undeliverable)
        out += fmt::format("&#10;kept at s3://{}/{}", html_escape(r.ops_bucket),
                           html_escape(o->undeliverable_key));
      out += "</title></use>";
    }
    out += "</g>";
  }
  out += "</svg></div>";
}

void append_legend(std::string& out) {
  out += R"(<div class="legend" id="legend"><b>Grid:</b> events of a client in an hour, few&#8594;many)";
  for (std::size_t i = 0; i < kVolumeColours.size(); ++i) {
    out += fmt::format(R"(<span class="sw" style="background:{}"></span>)", kVolumeColours[i]);
  }
  out +=
      R"(<span><svg width="16" height="14"><rect width="16" height="14" fill="#fff" stroke="#888"/><path d="M0 14L14 0M4 14L16 2M0 8L8 0" stroke="#D55E00" stroke-width="2"/></svg>undeliverable</span>)"
      R"(<span><svg width="16" height="14"><rect width="16" height="14" fill="#f0f0f0" stroke="#888"/><path d="M0 0L14 14M6 0L16 10M0 6L8 14" stroke="#8c8c8c" stroke-width="1.5"/></svg>missing hour</span>)"
      R"(<span><svg width="16" height="14"><rect width="16" height="14" fill="#f9eff4" stroke="#888"/><path d="M0 0L16 14M16 0L0 14" stroke="#CC79A7" stroke-width="1.5"/></svg>failed hour</span>)"
      R"(<span><svg width="16" height="14"><rect width="16" height="14" fill="#eef6fb" stroke="#888"/><circle cx="5" cy="5" r="1.5" fill="#56B4E9"/><circle cx="11" cy="10" r="1.5" fill="#56B4E9"/></svg>in progress</span>)"
      R"(<span><svg width="12" height="12"><path d="M6 1l5 5l-5 5l-5 -5z" fill="#000"/></svg>revised hour (dashed outline)</span>)"
      R"(<span class="sw" style="background:#009E73"></span>complete hour)"
      R"(</div><div class="legend"><b>Bars:</b><span class="sw" style="background:#0072B2"></span>delivered)"
      R"(<span class="sw" style="background:#E69F00"></span>rejected)"
      R"(<span><svg width="16" height="14"><rect width="16" height="14" fill="#D55E00" stroke="#888"/></svg>undeliverable</span></div>)";
}

void append_tables(std::string& out, const StatusReport& r) {
  out +=
      R"(<h2>Hours</h2><table id="hours"><tr><th class="l">hour</th><th class="l">state</th><th>revision</th><th>read</th><th>delivered</th><th>rejected</th><th>undeliverable</th><th>clients</th><th>bytes</th><th>seconds</th><th class="l">note</th></tr>)";
  for (auto it = r.hours.rbegin(); it != r.hours.rend(); ++it) {
    const HourOverview& h = *it;
    out += fmt::format(
        R"(<tr class="state-{0}" data-hour="{1}" data-state="{0}" data-revised="{2}"><td class="l">{1}</td><td class="l">{0}{3}</td>)",
        to_string(h.state), h.window.label(), h.revised() ? "true" : "false",
        h.revised() ? fmt::format(", revised (r{})", h.revision) : "");
    std::string note = html_escape(h.note);
    if (h.lock && h.state == HourState::kInProgress) {
      note = fmt::format("run {} on {} until {}", html_escape(h.lock->run_id), html_escape(h.lock->holder),
                         format_iso8601_us(h.lock->expires_at_us));
    }
    if (h.revised()) note = fmt::format("{}{}", html_escape(h.reason), note.empty() ? "" : "; " + note);
    if (h.complete()) {
      std::string who;
      for (const StatusObject& o : h.objects) {
        if (o.status == ObjectStatus::kUndeliverable)
          who += (who.empty() ? "" : ", ") + html_escape(o.client);
      }
      if (!who.empty()) note += (note.empty() ? "undeliverable: " : "; undeliverable: ") + who;
      out += fmt::format(
          "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td>",
          h.revision, grouped(h.events_read), grouped(h.events_delivered), grouped(h.events_rejected),
          grouped(h.events_undeliverable), grouped(h.clients), human_bytes(h.bytes),
          static_cast<double>(h.duration_ms) / 1000.0);
    } else {
      out += "<td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td>";
    }
    out += fmt::format(R"(<td class="l">{}</td></tr>)", note);
  }
  out += "</table>";
  out +=
      R"(<h2>Clients</h2><table id="clients"><tr><th class="l">client</th><th>hours</th><th>events</th><th>delivered</th><th>undeliverable</th><th>bytes</th><th class="l">undeliverable in</th></tr>)";
  for (const ClientOverview& c : r.clients) {
    std::string when;
    for (const std::string& run : hour_runs(c.undeliverable_hours)) when += (when.empty() ? "" : ", ") + run;
    out += fmt::format(
        R"(<tr data-client="{}"{}><td class="l">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="l">{}</td></tr>)",
        html_escape(c.client), when.empty() ? "" : R"( class="state-complete_undeliverable")",
        html_escape(c.client), c.hours, grouped(c.events), grouped(c.events_delivered),
        grouped(c.events_undeliverable), human_bytes(c.bytes), when.empty() ? "-" : when);
  }
  out += "</table>";
}

}  // namespace

std::string render_status_html(const StatusReport& r, const HtmlReportOptions& options) {
  Geometry g;
  g.hours = static_cast<int>(r.hours.size());
  g.cell_width = std::clamp(g.hours == 0 ? 32 : 1100 / g.hours, 4, 32);
  std::string out;
  out.reserve(1 << 20);
  const std::string range = fmt::format("{} .. {}", r.from.label(), r.to.label());
  out += fmt::format(
      R"(<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>EagleSense status {}</title><style>{})",
      range, kStyle);
  for (std::size_t i = 0; i < kVolumeColours.size(); ++i)
    out += fmt::format("#grid .v{}{{fill:{}}}", i, kVolumeColours[i]);
  out +=
      "#grid .u{fill:url(#g-u)}#grid .revcol{fill:none;stroke:#000;stroke-dasharray:2 2}"
      "#bars .d{fill:#0072B2}#bars .r{fill:#E69F00}#bars .x{fill:#D55E00}</style></head><body>";
  out += fmt::format(
      R"(<h1>EagleSense status</h1><p class="meta">{} UTC ({} hour{}), ops bucket {}, generated {}</p>)",
      range, r.hours.size(), r.hours.size() == 1 ? "" : "s", html_escape(r.ops_bucket),
      format_iso8601_us(r.generated_at_us));
  out += fmt::format(R"(<p class="verdict exit-{}" id="verdict">{}</p>)", status_exit_code(r),
                     html_escape(status_verdict(r)));
  out += fmt::format(
      R"(<table id="totals"><tr><th class="l">hours</th><th>complete</th><th>complete, undeliverable</th><th>revised</th><th>in progress</th><th>failed</th><th>missing</th></tr>)"
      R"(<tr><td class="l">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>)",
      r.hours.size(), r.count(HourState::kComplete), r.count(HourState::kCompleteUndeliverable),
      r.revised_hours(), r.count(HourState::kInProgress), r.count(HourState::kFailed),
      r.count(HourState::kMissing));
  out += fmt::format(
      R"(<p>Events read {} = delivered {} + rejected {} + undeliverable {}; {} clients; {}.</p>)",
      grouped(r.totals.events_read), grouped(r.totals.events_delivered), grouped(r.totals.events_rejected),
      grouped(r.totals.events_undeliverable), grouped(r.clients.size()), human_bytes(r.bytes));
  out += "<h2>Events per hour</h2>";
  append_bars(out, r, g);
  out += "<h2>Clients by hour</h2>";
  append_legend(out);
  append_grid(out, r, g, options);
  append_tables(out, r);
  out += "</body></html>\n";
  return out;
}

}  // namespace es::exporter
