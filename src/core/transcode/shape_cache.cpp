#include "core/transcode/shape_cache.h"

#include "core/json_text_internal.h"
#include "core/transcode.h"

namespace es::transcode {

void Shape::learn_keys(const std::vector<std::string_view>& came) {
  const std::size_t n = order.size();
  keys.clear();
  key_ends.assign(n, 0);
  rendered.clear();
  rendered_ends.clear();
  for (std::size_t i = 0; i < n; ++i) {
    rendered += i == 0 ? '{' : ',';
    append_json_string(rendered, came[order[i]]);
    rendered += ':';
    rendered_ends.push_back(static_cast<std::uint32_t>(rendered.size()));
  }
  plain = true;
  for (std::size_t i = 0; i < n; ++i) {
    keys.append(came[i]);
    key_ends[i] = static_cast<std::uint32_t>(keys.size());
    plain = plain && !json_text::any_to_escape(came[i].data(), came[i].size());
  }
}

}  // namespace es::transcode
