#pragma once
/// What the program was built from, for manifests and logs.

#include <string_view>

namespace es {

/// The git commit of the build (40 hex digits), or "" when it was built outside a git checkout.
[[nodiscard]] std::string_view git_commit();

}  // namespace es
