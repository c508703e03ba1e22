#include "core/transcode/sorted_set.h"

#include <algorithm>
#include <utility>

namespace es::transcode {

bool SortedSet::write(char kind, json_text::JsonOut& out, std::string_view& bad) {
  out += '[';
  if (kind == 'N') {
    // Sets are small and rare on the hot path: sort by value with allocated keys.
    std::vector<std::pair<json_text::NumericKey, std::string_view>> keyed;
    keyed.reserve(elements_.size());
    for (std::string_view s : elements_) keyed.emplace_back(json_text::numeric_key(s), s);
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return json_text::numeric_less(a.first, b.first); });
    for (std::size_t i = 0; i < keyed.size(); ++i) {
      if (i != 0) out += ',';
      if (!json_text::write_json_number(out, keyed[i].second)) {
        bad = keyed[i].second;
        return false;
      }
    }
  } else {
    std::sort(elements_.begin(), elements_.end());
    for (std::size_t i = 0; i < elements_.size(); ++i) {
      if (i != 0) out += ',';
      json_text::write_json_string(out, elements_[i]);
    }
  }
  out += ']';
  return true;
}

}  // namespace es::transcode
