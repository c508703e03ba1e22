#pragma once
/// Reading configuration from the environment, injectably (tests and the Lambda loop supply their own).

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace es {

/// Looks up one variable; std::nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (getenv).
EnvLookup process_environment();

/// A fixed map (tests, config files, the variables the Lambda runtime passes).
EnvLookup map_environment(std::map<std::string, std::string, std::less<>> values);

/// Values from `first` when set there, else from `second`.
EnvLookup layered_environment(EnvLookup first, EnvLookup second);

}  // namespace es
