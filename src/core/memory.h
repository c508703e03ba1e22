#pragma once
/// Faulting memory in ahead of use: on this project's VMs a fresh 4 KiB page costs a few
/// microseconds to fault in, and the hour's events and objects are hundreds of megabytes written once.

#include <cstddef>

namespace es {

/// Faults [data, data + bytes) in for writing with one madvise(MADV_POPULATE_WRITE) instead of a page
/// fault per 4 KiB. data must be page-aligned. Returns false when the kernel lacks it (before Linux
/// 5.14; every later call then returns false at once): the pages fault in as they are touched.
bool populate_for_write(void* data, std::size_t bytes) noexcept;

}  // namespace es
