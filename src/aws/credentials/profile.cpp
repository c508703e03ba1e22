// The shared files source: a profile (AWS_PROFILE, else default) of the shared credentials and config
// files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, else ~/.aws/credentials and ~/.aws/config).

#include <utility>

#include <fmt/format.h>

#include "aws/credentials/source.h"
#include "aws/ini.h"

namespace es::aws {
namespace {

using internal::env_value;

constexpr std::size_t kMaxSharedFileBytes = 1 << 20;

struct SharedFile {
  std::string path;            ///< empty: no path (HOME unset and no override)
  std::optional<IniFile> ini;  ///< none: the file does not exist
  [[nodiscard]] std::string describe() const {
    if (path.empty()) return "(no path: HOME is not set)";
    return ini ? path : path + " (not found)";
  }
};

class ProfileSource final : public CredentialSource {
 public:
  explicit ProfileSource(EnvLookup env) : env_(std::move(env)) {}
  [[nodiscard]] std::string_view name() const override { return "shared files"; }
  [[nodiscard]] Lookup fetch() override;

 private:
  Result<SharedFile> load(std::string_view setting, std::string_view default_name) const;
  EnvLookup env_;
};

Result<SharedFile> ProfileSource::load(std::string_view setting, std::string_view default_name) const {
  const auto home = env_value(env_, "HOME");
  SharedFile file;
  if (auto path = env_value(env_, setting)) {
    file.path = std::move(*path);
    if (home && file.path.starts_with("~/")) file.path = *home + file.path.substr(1);
  } else if (home) {
    file.path = fmt::format("{}/.aws/{}", *home, default_name);
  } else {
    return file;
  }
  auto text = internal::read_text_file(file.path, kMaxSharedFileBytes);
  if (!text) {
    if (text.error().kind == ErrorKind::kNotFound) return file;
    return std::move(text).error();
  }
  ES_ASSIGN_OR_RETURN(file.ini, parse_ini(*text, file.path));
  return file;
}

Lookup ProfileSource::fetch() {
  const auto chosen = env_value(env_, "AWS_PROFILE");
  const std::string profile = chosen.value_or("default");

  auto credentials_file = load("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  if (!credentials_file) return Lookup::failed(std::move(credentials_file).error());
  auto config_file = load("AWS_CONFIG_FILE", "config");
  if (!config_file) return Lookup::failed(std::move(config_file).error());

  // The credentials file names sections after the profile; the config file uses "[profile name]",
  // except for the default profile, which may also be "[default]".
  const IniFile::Section* in_credentials =
      credentials_file->ini ? credentials_file->ini->find(profile) : nullptr;
  const IniFile::Section* in_config = nullptr;
  if (config_file->ini) {
    in_config = config_file->ini->find("profile " + profile);
    if (in_config == nullptr && profile == "default") in_config = config_file->ini->find("default");
  }
  const std::string where = fmt::format("{} or {}", credentials_file->describe(), config_file->describe());

  if (in_credentials == nullptr && in_config == nullptr) {
    if (chosen) {
      return Lookup::failed(Error::invalid_argument(
          "AWS_PROFILE", fmt::format("profile '{}' not found in {}", profile, where)));
    }
    return Lookup::not_configured(fmt::format("no profile 'default' in {}", where));
  }

  // These make the AWS CLI and the SDKs take credentials from elsewhere (and before any static keys
  // of the same profile); using the static keys or a later source instead would silently run as
  // another identity.
  static constexpr std::pair<std::string_view, std::string_view> kUnsupported[] = {
      {"role_arn", "assume role"},
      {"credential_process", "external credential process"},
      {"sso_session", "IAM Identity Center (SSO)"},
      {"sso_start_url", "IAM Identity Center (SSO)"},
      {"web_identity_token_file", "web identity federation"},
  };
  const std::pair<const IniFile::Section*, const SharedFile*> sections[] = {
      {in_credentials, &credentials_file.value()}, {in_config, &config_file.value()}};
  for (const auto& [section, file] : sections) {
    if (section == nullptr) continue;
    for (const auto& [key, what] : kUnsupported) {
      if (section->find(key) == section->end()) continue;
      return Lookup::failed(Error::invalid_argument(
          file->path,
          fmt::format("profile '{}' uses {} ({}), which EagleSense does not support: give the "
                      "profile aws_access_key_id and aws_secret_access_key, set AWS_ACCESS_KEY_ID "
                      "and AWS_SECRET_ACCESS_KEY, or run with a container or instance role",
                      profile, key, what)));
    }
  }

  for (const auto& [section, file] : sections) {
    if (section == nullptr) continue;
    const auto get = [section = section](std::string_view key) -> std::optional<std::string> {
      const auto it = section->find(key);
      if (it == section->end() || it->second.empty()) return std::nullopt;
      return it->second;
    };
    auto id = get("aws_access_key_id");
    auto secret = get("aws_secret_access_key");
    if (!id && !secret) continue;
    if (!id || !secret) {
      return Lookup::failed(Error::invalid_argument(
          file->path, fmt::format("profile '{}' has {} but no {}", profile,
                                  id ? "aws_access_key_id" : "aws_secret_access_key",
                                  id ? "aws_secret_access_key" : "aws_access_key_id")));
    }
    Credentials c;
    c.access_key_id = std::move(*id);
    c.secret_access_key = std::move(*secret);
    c.session_token = get("aws_session_token").value_or("");
    c.source = "profile " + profile;
    return Lookup::found(std::move(c));
  }
  return Lookup::not_configured(
      fmt::format("profile '{}' in {} has no aws_access_key_id/aws_secret_access_key", profile, where));
}

}  // namespace

std::unique_ptr<CredentialSource> make_profile_source(EnvLookup env) {
  return std::make_unique<ProfileSource>(std::move(env));
}

}  // namespace es::aws
