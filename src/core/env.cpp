#include "core/env.h"

#include <cstdlib>

namespace es {

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe): read-only
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

EnvLookup map_environment(std::map<std::string, std::string, std::less<>> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

EnvLookup layered_environment(EnvLookup first, EnvLookup second) {
  return [first = std::move(first), second = std::move(second)](std::string_view name) {
    if (auto v = first(name)) return v;
    return second(name);
  };
}

}  // namespace es
