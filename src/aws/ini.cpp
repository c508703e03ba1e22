#include "aws/ini.h"

#include <fmt/format.h>

#include "core/text.h"

namespace es::aws {
namespace {
using text::trim;
constexpr auto lower = [](std::string_view s) { return text::to_lower(s); };

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

const IniFile::Section* IniFile::find(std::string_view name) const {
  const auto it = sections_.find(trim(name));
  return it == sections_.end() ? nullptr : &it->second;
}

Result<IniFile> parse_ini(std::string_view text, std::string_view path) {
  IniFile file;
  IniFile::Section* section = nullptr;
  bool in_property = false;  // an indented line continues the last property only
  std::size_t line_no = 0;
  const auto bad_line = [&](std::string_view what) {
    return Error::invalid_data(std::string(path), fmt::format("line {}: {}", line_no, what));
  };

  while (!text.empty()) {
    ++line_no;
    const std::size_t eol = text.find('\n');
    std::string_view raw = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (line_no == 1 && raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);  // UTF-8 BOM

    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;

    if (is_space(raw.front())) {
      // Continuation of the previous value (e.g. the settings nested under "s3 ="). The AWS CLI
      // treats it as part of that value; no credential setting is ever written that way.
      if (!in_property) return bad_line("indented line outside of a property");
      continue;
    }

    if (line.front() == '[') {
      const std::size_t close = line.find(']');
      if (close == std::string_view::npos) return bad_line("section header without closing ']'");
      const std::string_view rest = trim(line.substr(close + 1));
      if (!rest.empty() && rest.front() != '#' && rest.front() != ';') {
        return bad_line("unexpected text after the section header");
      }
      const std::string_view name = trim(line.substr(1, close - 1));
      if (name.empty()) return bad_line("empty section name");
      section = &file.sections_[std::string(name)];
      in_property = false;
      continue;
    }

    const std::size_t delim = line.find_first_of("=:");
    if (delim == std::string_view::npos) return bad_line("expected 'key = value' or '[section]'");
    const std::string_view key = trim(line.substr(0, delim));
    if (key.empty()) return bad_line("property without a name");
    if (section == nullptr) return bad_line("property before the first [section]");
    (*section)[lower(key)] = std::string(trim(line.substr(delim + 1)));
    in_property = true;
  }
  return file;
}

}  // namespace es::aws
