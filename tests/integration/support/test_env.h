#pragma once
/// What an integration test needs to reach the local AWS servers that its ctest fixture started
/// (scripts/local-aws.sh start, see docs/LOCAL_AWS.md): endpoints and credentials read from the env
/// file named by EAGLESENSE_TEST_ENV_FILE, unique resource names, and an EnvLookup for the code under
/// test.

#include <map>
#include <string>
#include <string_view>

#include "core/env.h"

namespace es::testing {

/// The servers of one backend ("local": dynalite + s3rver, "moto": moto_server with SigV4 checking).
struct TestEnv {
  std::string backend;            ///< EAGLESENSE_BACKEND: "local" or "moto"
  std::string dynamodb_endpoint;  ///< AWS_ENDPOINT_URL_DYNAMODB, e.g. "http://127.0.0.1:41234"
  std::string s3_endpoint;        ///< AWS_ENDPOINT_URL_S3
  std::string access_key;         ///< AWS_ACCESS_KEY_ID
  std::string secret_key;         ///< AWS_SECRET_ACCESS_KEY
  std::string region;             ///< AWS_REGION
  /// Every KEY=VALUE line of the env file, the fields above included.
  std::map<std::string, std::string, std::less<>> variables;
};

/// Reads the env file named by EAGLESENSE_TEST_ENV_FILE. Throws std::runtime_error, with a message
/// that says what to do, when the variable is unset, the file cannot be read, or a required key
/// (EAGLESENSE_BACKEND, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_REGION) is missing.
[[nodiscard]] TestEnv load_test_env();

/// Same, from a given file.
[[nodiscard]] TestEnv load_test_env_file(const std::string& path);

/// A name no other test (in this or another process) uses: "<prefix>-<random hex>-<counter>",
/// lower case, only [a-z0-9-], 3 to 63 characters, so it is a valid S3 bucket name and DynamoDB
/// table name. The prefix is lower-cased, other characters become '-', and it is shortened to fit.
[[nodiscard]] std::string unique_name(std::string_view prefix);

/// An EnvLookup that serves the env file's variables (endpoints, credentials, region,
/// AWS_EC2_METADATA_DISABLED) and nothing from the process environment, so a developer's real AWS
/// settings never reach a test. The fields of `env` override `env.variables`.
[[nodiscard]] es::EnvLookup env_lookup(const TestEnv& env);

}  // namespace es::testing
