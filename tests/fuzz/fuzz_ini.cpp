// libFuzzer target: the shared config/credentials files (aws::parse_ini) and EagleSense's KEY=VALUE
// config files (es::parse_config_file).
//
// Input: the file's text, given to both. Invariants: no crash or sanitizer report; an error is
// kInvalidData or kInvalidArgument naming the path; section names and keys are trimmed, keys lower
// case (parse_ini); every key parse_config_file accepts is a setting's name (non-empty).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "aws/ini.h"
#include "core/config.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_ini: invariant broken: %s\n", what);
    std::abort();
  }
}

bool trimmed(std::string_view s) {
  return s.empty() || (s.front() != ' ' && s.front() != '\t' && s.back() != ' ' && s.back() != '\t');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto ini = es::aws::parse_ini(text, "/fuzz/config");
  if (ini.ok()) {
    for (const auto& [name, section] : ini->sections()) {
      require(trimmed(name), "section names are trimmed");
      for (const auto& [key, value] : section) {
        require(trimmed(key), "keys are trimmed");
        for (const char ch : key) require(ch < 'A' || ch > 'Z', "keys are lower case");
      }
    }
  } else {
    require(ini.error().to_string().find("/fuzz/config") != std::string::npos, "an ini error names the file");
  }
  const auto config = es::parse_config_file(text, "/fuzz/eaglesense.env");
  if (config.ok()) {
    for (const auto& [key, value] : *config) require(!key.empty(), "config keys are never empty");
  } else {
    require(config.error().to_string().find("/fuzz/eaglesense.env") != std::string::npos,
            "a config error names the file");
  }
  return 0;
}
