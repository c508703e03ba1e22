#pragma once
/// The wall clock, in the program's one unit of time: microseconds since the Unix epoch (core/time.h).
/// Code that decides by the time takes a clock as a parameter (a std::function returning this value),
/// so that tests can set it; this is the one that reads the system's.

#include <chrono>
#include <cstdint>

namespace es {

[[nodiscard]] inline std::int64_t system_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace es
