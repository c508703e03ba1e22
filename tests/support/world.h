#pragma once
/// The in-memory world the exporter, scale-out, verify and Lambda handler tests export hours in: a
/// table of items, an object store with the ops bucket and the client buckets, and an export
/// configuration naming them. Each test file derives its World from it with its own items, settings
/// and helpers.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.h"
#include "export/exporter.h"
#include "support/fake_ports.h"

namespace es::testing {

struct World {
  FakeTableData table;
  FakeStoreData store;
  ExportConfig config;

  /// Buckets are "{prefix}-{client}" for each of clients and "{prefix}-ops"; the table holds items.
  World(std::string_view prefix, std::initializer_list<std::string_view> clients, int segments,
        std::vector<std::string> items) {
    config.bucket_prefix = std::string(prefix);
    config.ops_bucket = fmt::format("{}-ops", prefix);
    config.segments = segments;
    store.buckets = {config.ops_bucket};
    for (const std::string_view client : clients) store.buckets.insert(fmt::format("{}-{}", prefix, client));
    table.items = std::move(items);
  }

  /// Ports reading this world's table and writing its store.
  exporter::Ports ports() { return fake_ports(table, store); }

  /// An exporter on this world whose clock says now_us.
  exporter::Exporter exporter_at(std::int64_t now_us, exporter::ExportOptions options = {}) {
    return exporter::Exporter(config, ports(), options, [now_us] { return now_us; });
  }
};

}  // namespace es::testing
