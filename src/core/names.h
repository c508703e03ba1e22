#pragma once
/// Closed sets with names: one table per enum pairs each value with the name it has in settings,
/// documents and logs, so that parsing, printing and the "one of ..." message all read the same
/// table (and a new value is added in one place).

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace es {

template <typename E>
struct Named {
  E value;
  std::string_view name;
};

/// The name of value in table ("" when the table lacks it, which a complete table never does).
template <typename E, std::size_t N>
[[nodiscard]] constexpr std::string_view name_of(const std::array<Named<E>, N>& table, E value) {
  for (const Named<E>& n : table) {
    if (n.value == value) return n.name;
  }
  return {};
}

/// The value named name (exact match), or nullopt.
template <typename E, std::size_t N>
[[nodiscard]] constexpr std::optional<E> value_named(const std::array<Named<E>, N>& table,
                                                     std::string_view name) {
  for (const Named<E>& n : table) {
    if (n.name == name) return n.value;
  }
  return std::nullopt;
}

/// "a, b, c": the names, for a message saying what is allowed.
template <typename E, std::size_t N>
[[nodiscard]] std::string names_of(const std::array<Named<E>, N>& table) {
  std::string out;
  for (const Named<E>& n : table) {
    if (!out.empty()) out += ", ";
    out += n.name;
  }
  return out;
}

}  // namespace es
