#pragma once
/// The id of one run (a CLI invocation, a Lambda invocation, a scale-out execution): it names the
/// holder of an hour's lease (export/hour_lease.h) and is what a log or a manifest can be traced to.

#include <cstdint>
#include <string>

namespace es {

/// "20261129T100512Z-3f9a1c2b7e4d6a80": the UTC second of now_us and 64 random bits in hex. Sorts by
/// time; two runs started in the same second differ with overwhelming probability.
[[nodiscard]] std::string make_run_id(std::int64_t now_us);

}  // namespace es
