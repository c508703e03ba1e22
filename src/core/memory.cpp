#include "core/memory.h"

#include <atomic>
#include <cerrno>

#include <sys/mman.h>

namespace es {
namespace {
constexpr int kMadvPopulateWrite = 23;  // MADV_POPULATE_WRITE (Linux 5.14); older kernels say EINVAL
std::atomic<bool> supported{true};
}  // namespace

bool populate_for_write(void* data, std::size_t bytes) noexcept {
  if (!supported.load(std::memory_order_relaxed)) return false;
  if (madvise(data, bytes, kMadvPopulateWrite) != 0 && errno == EINVAL) {
    supported.store(false, std::memory_order_relaxed);
    return false;
  }
  return true;
}

}  // namespace es
