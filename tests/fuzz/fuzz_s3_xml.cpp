// libFuzzer target: the parsers of S3's XML answers (s3/s3_xml.h): ListObjectsV2 pages, the
// multipart initiate and complete answers, DeleteObjects results, and is_error_document.
//
// Input: the body, given to every parser. Invariants: no crash or sanitizer report; an error is
// kInvalidData (a malformed answer, never an internal error); an accepted initiate answer has an
// upload id; an accepted list page's keys are each a string (decoded when the page says so).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "s3/s3_xml.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_s3_xml: invariant broken: %s\n", what);
    std::abort();
  }
}

template <typename T>
void check_error(const es::Result<T>& r) {
  if (!r.ok()) require(r.error().kind == es::ErrorKind::kInvalidData, "a malformed answer is kInvalidData");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  check_error(es::s3::parse_list_objects_v2(body));
  const auto upload = es::s3::parse_initiate_multipart_upload(body);
  check_error(upload);
  if (upload.ok()) require(!upload->empty(), "an upload id is never empty");
  check_error(es::s3::parse_complete_multipart_upload(body));
  const auto deleted = es::s3::parse_delete_objects(body, "bucket");
  check_error(deleted);
  static_cast<void>(es::s3::is_error_document(body));
  return 0;
}
