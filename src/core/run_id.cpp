#include "core/run_id.h"

#include <random>

#include <fmt/format.h>

#include "core/time.h"

namespace es {

std::string make_run_id(std::int64_t now_us) {
  // "2026-11-29T10:05:12.123456Z" without separators and fraction: short, and still sorts by time.
  std::string compact;
  for (const char c : format_iso8601_us(now_us)) {
    if (c == '.') break;
    if (c != '-' && c != ':') compact += c;
  }
  compact += 'Z';
  std::random_device device;
  const std::uint64_t random = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  return fmt::format("{}-{:016x}", compact, random);
}

}  // namespace es
