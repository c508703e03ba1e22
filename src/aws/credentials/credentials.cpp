// aws/credentials.h besides the chain: fixed credentials and the masked form of an access key id.

#include "aws/credentials.h"

#include <utility>

#include <fmt/format.h>

namespace es::aws {
namespace {

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : credentials_(with_source(std::move(c))) {}
  [[nodiscard]] Result<Credentials> get(std::int64_t /*now_us*/) override { return credentials_; }

 private:
  static Credentials with_source(Credentials c) {
    if (c.source.empty()) c.source = "static";
    return c;
  }
  const Credentials credentials_;
};

}  // namespace

std::string mask_access_key_id(std::string_view access_key_id) {
  if (access_key_id.size() < 12) return "****";
  return fmt::format("{}****{}", access_key_id.substr(0, 4), access_key_id.substr(access_key_id.size() - 4));
}

std::shared_ptr<CredentialsProvider> make_static_credentials(Credentials c) {
  return std::make_shared<StaticProvider>(std::move(c));
}

}  // namespace es::aws
