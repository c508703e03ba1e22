#pragma once
/// A reader for the INI dialect of the AWS shared `config` and `credentials` files
/// (AWS SDKs and Tools Reference Guide, "Shared config and credentials files").

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace es::aws {

/// One parsed file: section name -> (key -> value).
class IniFile {
 public:
  using Section = std::map<std::string, std::string, std::less<>>;

  /// The section named exactly `name` (after trimming), or nullptr.
  [[nodiscard]] const Section* find(std::string_view name) const;
  [[nodiscard]] const std::map<std::string, Section, std::less<>>& sections() const { return sections_; }

 private:
  friend Result<IniFile> parse_ini(std::string_view text, std::string_view path);
  std::map<std::string, Section, std::less<>> sections_;
};

/// Parses the text of a shared config/credentials file. Rules:
/// - `[name]` starts a section (whitespace around the name is trimmed; a `#`/`;` comment may follow);
///   a section seen twice is merged, a key seen twice keeps its last value;
/// - `key = value` (or `key: value`): key lower-cased, both trimmed; the value is taken verbatim,
///   inline `#` is part of it (as in the AWS CLI);
/// - lines starting with `#` or `;` and blank lines are ignored; indented lines continue the previous
///   property (nested settings such as `s3 =` blocks) and are ignored.
/// Errors (kInvalidData) name `path` and the line number but never quote the line: it may hold a secret.
[[nodiscard]] Result<IniFile> parse_ini(std::string_view text, std::string_view path);

}  // namespace es::aws
