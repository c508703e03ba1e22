#include "export/scale_out/staged_run.h"

#include <cstring>

#include <fmt/format.h>

namespace es::exporter {

Status StagedRun::read_at(std::uint64_t offset, char* out, std::size_t n) const {
  if (n == 0) return ok_status();
  ES_ASSIGN_OR_RETURN(std::string bytes, store_->get_range(bucket_, run_.key, offset, offset + n - 1));
  if (bytes.size() != n) {
    return Error::invalid_data(fmt::format("{}/{}", bucket_, run_.key),
                               fmt::format("a ranged GET of {} bytes returned {}", n, bytes.size()))
        .with_context("scale-out");
  }
  std::memcpy(out, bytes.data(), n);
  if (offset == 0) {
    hash_ = Sha256();
    hashed_ = 0;
  }
  if (offset == hashed_) {
    hash_.update(bytes);
    hashed_ += n;
    if (hashed_ == run_.bytes && hex_encode(hash_.finish()) != run_.sha256) {
      return Error::invalid_data(fmt::format("{}/{}", bucket_, run_.key),
                                 "the run's SHA-256 differs from its unit manifest")
          .with_context("scale-out");
    }
  }
  return ok_status();
}

}  // namespace es::exporter
