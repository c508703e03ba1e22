#include "integration/support/test_env.h"

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include <unistd.h>

namespace es::testing {
namespace {

constexpr std::string_view kEnvFileVariable = "EAGLESENSE_TEST_ENV_FILE";
constexpr std::size_t kMaxNameLength = 63;  // S3 bucket names: 3 to 63 characters

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

std::string required(const std::map<std::string, std::string, std::less<>>& vars, std::string_view key,
                     const std::string& path) {
  const auto it = vars.find(key);
  if (it == vars.end() || it->second.empty()) {
    throw std::runtime_error("test env file " + path + " has no " + std::string(key) +
                             ": it is written by scripts/local-aws.sh start; restart the backend");
  }
  return it->second;
}

std::uint64_t process_random() {
  std::random_device device;
  std::seed_seq seed{device(), device(), static_cast<unsigned>(::getpid())};
  std::mt19937_64 engine(seed);
  return engine();
}

}  // namespace

TestEnv load_test_env() {
  const char* path = std::getenv(std::string(kEnvFileVariable).c_str());  // NOLINT(concurrency-mt-unsafe)
  if (path == nullptr || *path == '\0') {
    throw std::runtime_error(
        "EAGLESENSE_TEST_ENV_FILE is not set: integration tests run under ctest, whose fixture starts the "
        "local servers (ctest --test-dir build -L integration); to run one by hand, start a backend with "
        "scripts/local-aws.sh start --backend local and set EAGLESENSE_TEST_ENV_FILE=.local-aws/local/env");
  }
  return load_test_env_file(path);
}

TestEnv load_test_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("cannot read test env file " + path +
                             ": is the backend running? (scripts/local-aws.sh status)");
  }
  TestEnv env;
  std::string line;
  while (std::getline(in, line)) {
    const std::string text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    env.variables.insert_or_assign(trim(std::string_view(text).substr(0, eq)), text.substr(eq + 1));
  }
  env.backend = required(env.variables, "EAGLESENSE_BACKEND", path);
  env.dynamodb_endpoint = required(env.variables, "AWS_ENDPOINT_URL_DYNAMODB", path);
  env.s3_endpoint = required(env.variables, "AWS_ENDPOINT_URL_S3", path);
  env.access_key = required(env.variables, "AWS_ACCESS_KEY_ID", path);
  env.secret_key = required(env.variables, "AWS_SECRET_ACCESS_KEY", path);
  env.region = required(env.variables, "AWS_REGION", path);
  return env;
}

std::string unique_name(std::string_view prefix) {
  static const std::uint64_t kProcessTag = process_random();
  static std::atomic<std::uint64_t> counter{0};

  std::string name;
  for (const char c : prefix) {
    const auto u = static_cast<unsigned char>(c);
    const bool keep = std::isalnum(u) != 0 && u < 0x80;
    name.push_back(keep ? static_cast<char>(std::tolower(u)) : '-');
  }
  // A bucket name starts and ends with a letter or digit.
  while (!name.empty() && name.front() == '-') name.erase(name.begin());
  if (name.empty()) name = "es";

  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag;
  for (int shift = 44; shift >= 0; shift -= 4) {
    tag.push_back(kHex[(kProcessTag >> static_cast<unsigned>(shift)) & 0xFU]);
  }
  const std::string suffix = "-" + tag + "-" + std::to_string(counter.fetch_add(1) + 1);
  if (name.size() + suffix.size() > kMaxNameLength) name.resize(kMaxNameLength - suffix.size());
  while (!name.empty() && name.back() == '-') name.pop_back();
  if (name.empty()) name = "es";
  return name + suffix;
}

es::EnvLookup env_lookup(const TestEnv& env) {
  auto values = env.variables;
  values.insert_or_assign("EAGLESENSE_BACKEND", env.backend);
  values.insert_or_assign("AWS_ENDPOINT_URL_DYNAMODB", env.dynamodb_endpoint);
  values.insert_or_assign("AWS_ENDPOINT_URL_S3", env.s3_endpoint);
  values.insert_or_assign("AWS_ACCESS_KEY_ID", env.access_key);
  values.insert_or_assign("AWS_SECRET_ACCESS_KEY", env.secret_key);
  values.insert_or_assign("AWS_REGION", env.region);
  values.try_emplace("AWS_DEFAULT_REGION", env.region);
  values.try_emplace("AWS_EC2_METADATA_DISABLED", "true");
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace es::testing
