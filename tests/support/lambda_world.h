#pragma once
/// The Lambda handler on the in-memory world (world.h): an Exporter whose clock is `now`, an EMF
/// publisher writing into memory, and the HandlerContext around them, as `eaglesense lambda` makes
/// them at init. The handler and report tests derive their World from it.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.h"
#include "export/metrics.h"
#include "lambda/handler.h"
#include "support/world.h"

namespace es::testing {

struct LambdaWorld : World {
  std::int64_t now;
  std::unique_ptr<exporter::Exporter> exporter;
  std::unique_ptr<exporter::MetricsPublisher> metrics;
  lambda::HandlerContext context;
  char* emf_buffer = nullptr;
  std::size_t emf_size = 0;
  std::FILE* emf = nullptr;

  /// The world of World(prefix, clients, segments, items) at now_us, its log silenced.
  LambdaWorld(std::string_view prefix, std::initializer_list<std::string_view> clients, int segments,
              std::vector<std::string> items, std::int64_t now_us)
      : World(prefix, clients, segments, std::move(items)), now(now_us) {
    log::set_sink([](std::string_view) {});
    exporter = std::make_unique<exporter::Exporter>(config, ports(), exporter::ExportOptions{},
                                                    [this] { return now; });
    metrics = exporter::MetricsPublisher::make(MetricsMode::kEmf, map_environment({}), config).value();
    emf = open_memstream(&emf_buffer, &emf_size);
    context.exporter = exporter.get();
    context.metrics = metrics.get();
    context.emf_out = emf;
    context.now_us = [this] { return now; };
  }
  ~LambdaWorld() {
    std::fclose(emf);
    std::free(emf_buffer);
    log::set_sink({});
  }
  LambdaWorld(const LambdaWorld&) = delete;
  LambdaWorld& operator=(const LambdaWorld&) = delete;

  /// One invocation with payload (deadline_ms 0: none), request id "req-1".
  Result<std::string> invoke(std::string_view payload, std::int64_t deadline_ms = 0) {
    lambda::InvocationRequest request;
    request.request_id = "req-1";
    request.deadline_ms = deadline_ms;
    request.payload = std::string(payload);
    return lambda::handle(request, context);
  }

  /// The EMF records written so far.
  std::string emf_text() {
    std::fflush(emf);
    return std::string(emf_buffer, emf_size);
  }
};

}  // namespace es::testing
