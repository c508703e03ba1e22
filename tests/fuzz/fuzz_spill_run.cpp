// libFuzzer target: the run reader (export/spill.h RunReader) over arbitrary run bytes, as a
// corrupted spill file or staged run would give it.
//
// Input: byte 0 picks the reader's buffer size, the rest is the run. Invariants: no crash, sanitizer
// report or allocation beyond the run's size (libFuzzer's -rss_limit_mb and -malloc_limit_mb catch
// one); every record returned lies within the run; the reader ends (true records, then false) or
// fails with kInvalidData naming the run.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "export/spill.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_spill_run: invariant broken: %s\n", what);
    std::abort();
  }
}

class BytesRun final : public es::exporter::RunSource {
 public:
  explicit BytesRun(std::string bytes) : bytes_(std::move(bytes)) {}
  es::Status read_at(std::uint64_t offset, char* out, std::size_t n) const override {
    require(offset + n <= bytes_.size(), "the reader never reads past the run");
    std::memcpy(out, bytes_.data() + offset, n);
    return es::ok_status();
  }
  [[nodiscard]] std::string name() const override { return "fuzz-run"; }

 private:
  std::string bytes_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t buffer = 4096u << (data[0] % 4);
  es::exporter::SpilledRun run;
  run.bytes = size - 1;
  run.file = std::make_shared<BytesRun>(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  es::exporter::RunReader reader(run, buffer);
  es::exporter::StoredEvent e;
  std::uint64_t consumed = 0;
  for (;;) {
    const auto more = reader.next(e);
    if (!more.ok()) {
      require(more.error().kind == es::ErrorKind::kInvalidData, "a corrupted run is kInvalidData");
      require(more.error().to_string().find("fuzz-run") != std::string::npos, "the error names the run");
      break;
    }
    if (!*more) {
      require(consumed == run.bytes, "the reader ends exactly at the run's end");
      break;
    }
    consumed += 16 + std::uint64_t{e.body_size} + e.id_size;
    require(consumed <= run.bytes, "a record lies within the run");
  }
  return 0;
}
