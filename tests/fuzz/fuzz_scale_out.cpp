// libFuzzer target: the scale-out documents: plans (parse_plan), unit manifests
// (parse_unit_manifest) and the rejected-events codec (decode_rejected).
//
// Input: the document, given to each. Invariants: no crash, sanitizer report or huge allocation; an
// error is kInvalidData (or kInvalidArgument for a plan's settings); what is accepted renders to a
// document that parses back to the same rendering; decoded rejected events encode back to the input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "export/scale_out/plan.h"
#include "export/scale_out/unit_manifest.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_scale_out: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace es::exporter;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const auto plan = parse_plan(json);
  if (plan.ok()) {
    const std::string once = render_plan(*plan);
    const auto again = parse_plan(once);
    require(again.ok(), "a rendered plan parses");
    require(render_plan(*again) == once, "a plan round-trips");
  }
  const auto unit = parse_unit_manifest(json);
  if (unit.ok()) {
    const std::string once = render_unit_manifest(*unit);
    const auto again = parse_unit_manifest(once);
    require(again.ok(), "a rendered unit manifest parses");
    require(render_unit_manifest(*again) == once, "a unit manifest round-trips");
  } else {
    require(unit.error().kind == es::ErrorKind::kInvalidData, "a malformed unit manifest is kInvalidData");
  }
  const auto rejected = decode_rejected(json);
  if (rejected.ok()) {
    require(encode_rejected(*rejected) == json, "rejected events encode back to their bytes");
  } else {
    require(rejected.error().kind == es::ErrorKind::kInvalidData,
            "a malformed rejected part is kInvalidData");
  }
  return 0;
}
