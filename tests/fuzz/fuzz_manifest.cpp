// libFuzzer target: the hour manifest and its object entries (parse_manifest, parse_manifest_object).
//
// Input: the document. Invariants: no crash or sanitizer report; an error is kInvalidData; what is
// accepted renders to a document that parses back to the same rendering (render . parse is a fixed
// point after one step).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/manifest.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_manifest: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const auto m = es::parse_manifest(json);
  if (m.ok()) {
    const std::string once = es::render_manifest(*m);
    const auto again = es::parse_manifest(once);
    require(again.ok(), "a rendered manifest parses");
    require(es::render_manifest(*again) == once, "render(parse(render(m))) == render(m)");
  } else {
    require(m.error().kind == es::ErrorKind::kInvalidData, "a malformed manifest is kInvalidData");
  }
  const auto o = es::parse_manifest_object(json);
  if (o.ok()) {
    const std::string once = es::render_manifest_object(*o);
    const auto again = es::parse_manifest_object(once);
    require(again.ok(), "a rendered object entry parses");
    require(es::render_manifest_object(*again) == once, "an object entry round-trips");
  } else {
    require(o.error().kind == es::ErrorKind::kInvalidData, "a malformed object entry is kInvalidData");
  }
  return 0;
}
