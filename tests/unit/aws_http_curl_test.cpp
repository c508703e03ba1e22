// The curl transport's cap on response bodies, on a local file (curl's file:// protocol gives the
// same header and body callbacks as HTTP, with a Content-Length): no server needed.

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "aws/http.h"

namespace es::aws {
namespace {

struct TempFile {
  std::string path = "/tmp/eaglesense-http-cap-" + std::to_string(::getpid());
  explicit TempFile(std::size_t bytes) { std::ofstream(path, std::ios::binary) << std::string(bytes, 'x'); }
  ~TempFile() { std::remove(path.c_str()); }
};

Result<HttpResponse> get(const std::string& path, std::uint64_t max_body) {
  global_http_init();
  auto http = make_curl_http_client({});
  HttpRequest request;
  request.url = "file://" + path;
  request.max_body_bytes = max_body;
  return http->send(request);
}

TEST(HttpCurl, ABodyWithinItsCapIsReceivedWhole) {
  TempFile file(300'000);
  auto r = get(file.path, 300'000);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->body.size(), 300'000u);
  auto unlimited = get(file.path, 0);
  ASSERT_TRUE(unlimited.ok()) << unlimited.error().to_string();
  EXPECT_EQ(unlimited->body.size(), 300'000u);
}

TEST(HttpCurl, ABodyPastItsCapIsRefusedAsAProtocolError) {
  TempFile file(300'000);
  auto r = get(file.path, 100'000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidData);
  EXPECT_EQ(r.error().code, "ResponseTooLarge");
  EXPECT_FALSE(r.error().retryable);
  EXPECT_NE(r.error().message.find("limit of 100000 bytes"), std::string::npos) << r.error().to_string();
}

}  // namespace
}  // namespace es::aws
