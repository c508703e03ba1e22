// The environment source: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.

#include "aws/credentials/source.h"

namespace es::aws {
namespace {

using internal::env_value;

class EnvironmentSource final : public CredentialSource {
 public:
  explicit EnvironmentSource(EnvLookup env) : env_(std::move(env)) {}
  [[nodiscard]] std::string_view name() const override { return "environment"; }

  [[nodiscard]] Lookup fetch() override {
    auto id = env_value(env_, "AWS_ACCESS_KEY_ID");
    auto secret = env_value(env_, "AWS_SECRET_ACCESS_KEY");
    if (!id && !secret)
      return Lookup::not_configured("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
    if (!secret) {
      return Lookup::failed(
          Error::invalid_argument("AWS_SECRET_ACCESS_KEY",
                                  "not set while AWS_ACCESS_KEY_ID is: set both, or neither to use another "
                                  "credentials source"));
    }
    if (!id) {
      return Lookup::failed(Error::invalid_argument(
          "AWS_ACCESS_KEY_ID",
          "not set while AWS_SECRET_ACCESS_KEY is: set both, or neither to use another "
          "credentials source"));
    }
    Credentials c;
    c.access_key_id = std::move(*id);
    c.secret_access_key = std::move(*secret);
    c.session_token = env_value(env_, "AWS_SESSION_TOKEN").value_or("");
    c.source = "environment";
    return Lookup::found(std::move(c));
  }

 private:
  EnvLookup env_;
};

}  // namespace

std::unique_ptr<CredentialSource> make_environment_source(EnvLookup env) {
  return std::make_unique<EnvironmentSource>(std::move(env));
}

}  // namespace es::aws
