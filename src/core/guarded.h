#pragma once
/// The body of a worker thread: an exception that escaped it would std::terminate the process (a
/// Lambda invocation lost, every hour of a run with it). A worker runs its work through guarded(), so
/// that anything thrown (std::bad_alloc, a library's exception) becomes the Error of the client or
/// hour that worker was on.

#include <exception>
#include <new>
#include <string_view>

#include <fmt/format.h>

#include "core/result.h"

namespace es {

/// fn() (returning a Status or a Result<T>); an exception it throws comes back as a kInternal Error
/// naming what (e.g. "reading hour 2026-11-29T10") and the exception's message.
template <typename F>
auto guarded(std::string_view what, F&& fn) noexcept -> decltype(fn()) {
  using R = decltype(fn());
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return R(
        Error::internal(fmt::format("{}: out of memory (std::bad_alloc); lower EAGLESENSE_MEMORY_MB or give "
                                    "the process more memory",
                                    what)));
  } catch (const std::exception& e) {
    return R(Error::internal(fmt::format("{}: unexpected exception: {}", what, e.what())));
  } catch (...) {
    return R(Error::internal(fmt::format("{}: unexpected exception of an unknown type", what)));
  }
}

}  // namespace es
