#include "s3/s3_xml.h"

#include <charconv>
#include <cstring>
#include <utility>

#include <pugixml.hpp>

#include "s3/s3_addressing.h"

namespace es::s3 {
namespace {

constexpr const char* kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

class StringWriter : public pugi::xml_writer {
 public:
  void write(const void* data, std::size_t size) override {
    out_.append(static_cast<const char*>(data), size);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string to_xml(const pugi::xml_document& doc) {
  StringWriter writer;
  doc.save(writer, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return writer.take();
}

/// Parses body into doc and returns its root element, or an error naming what was expected. With
/// any_root_name, any root but <Error> is accepted.
Result<pugi::xml_node> load_root(pugi::xml_document& doc, std::string_view body, const char* expected_root,
                                 bool any_root_name = false) {
  const pugi::xml_parse_result parsed =
      doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return Error::invalid_data(expected_root,
                               std::string("the response is not well-formed XML: ") + parsed.description());
  }
  pugi::xml_node root = doc.document_element();
  if (any_root_name && root && std::strcmp(root.name(), "Error") != 0) return root;
  if (std::strcmp(root.name(), expected_root) != 0) {
    return Error::invalid_data(
        expected_root, std::string("expected a <") + expected_root + "> document, got <" + root.name() + ">");
  }
  return root;
}

bool parse_u64(std::string_view text, std::uint64_t& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

}  // namespace

std::string unquote_etag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

Result<ListPage> parse_list_objects_v2(std::string_view body) {
  pugi::xml_document doc;
  ES_ASSIGN_OR_RETURN(pugi::xml_node root, load_root(doc, body, "ListBucketResult"));
  const bool url_encoded = std::string_view(root.child_value("EncodingType")) == "url";
  ListPage page;
  page.is_truncated = std::string_view(root.child_value("IsTruncated")) == "true";
  page.next_continuation_token = root.child_value("NextContinuationToken");
  for (pugi::xml_node contents : root.children("Contents")) {
    ObjectInfo info;
    const std::string_view raw_key = contents.child_value("Key");
    if (url_encoded) {
      if (!url_decode_form(raw_key, info.key)) {
        return Error::invalid_data(std::string(raw_key), "a listed key has a malformed URL escape");
      }
    } else {
      info.key = raw_key;
    }
    if (info.key.empty()) return Error::invalid_data("ListBucketResult", "a listed object has no <Key>");
    if (!parse_u64(contents.child_value("Size"), info.size)) {
      return Error::invalid_data(info.key, std::string("a listed object has a malformed <Size>: '") +
                                               contents.child_value("Size") + "'");
    }
    info.etag = unquote_etag(contents.child_value("ETag"));
    info.last_modified = contents.child_value("LastModified");
    page.objects.push_back(std::move(info));
  }
  return page;
}

Result<std::string> parse_initiate_multipart_upload(std::string_view body) {
  pugi::xml_document doc;
  ES_ASSIGN_OR_RETURN(pugi::xml_node root, load_root(doc, body, "InitiateMultipartUploadResult"));
  std::string upload_id = root.child_value("UploadId");
  if (upload_id.empty())
    return Error::invalid_data("InitiateMultipartUploadResult", "the response has no <UploadId>");
  return upload_id;
}

Result<CompletedUpload> parse_complete_multipart_upload(std::string_view body) {
  pugi::xml_document doc;
  // moto 5 names the root <CompleteMultipartUploadResponse>; the SDKs do not look at the name either.
  ES_ASSIGN_OR_RETURN(pugi::xml_node root,
                      load_root(doc, body, "CompleteMultipartUploadResult", /*any_root_name=*/true));
  CompletedUpload completed;
  completed.etag = unquote_etag(root.child_value("ETag"));
  completed.checksum_sha256 = root.child_value("ChecksumSHA256");
  return completed;
}

Result<DeleteObjectsResult> parse_delete_objects(std::string_view body, std::string_view bucket) {
  pugi::xml_document doc;
  ES_ASSIGN_OR_RETURN(pugi::xml_node root, load_root(doc, body, "DeleteResult"));
  DeleteObjectsResult result;
  for (pugi::xml_node deleted : root.children("Deleted"))
    result.deleted.emplace_back(deleted.child_value("Key"));
  for (pugi::xml_node failed : root.children("Error")) {
    Error error;
    error.kind = ErrorKind::kServiceError;
    error.operation = "S3.DeleteObjects";
    error.resource = std::string(bucket) + "/" + failed.child_value("Key");
    error.code = failed.child_value("Code");
    error.message = failed.child_value("Message");
    if (error.code == "AccessDenied") error.kind = ErrorKind::kAccessDenied;
    error.retryable = error.code == "InternalError" || error.code == "SlowDown";
    result.errors.push_back(std::move(error));
  }
  return result;
}

bool is_error_document(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) return false;
  return std::strcmp(doc.document_element().name(), "Error") == 0;
}

std::string complete_multipart_upload_body(std::span<const UploadedPart> parts) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = kS3Namespace;
  for (const UploadedPart& part : parts) {
    pugi::xml_node node = root.append_child("Part");
    node.append_child("PartNumber").text().set(part.part_number);
    // ETags go back quoted, as UploadPart returned them and as the SDKs send them.
    node.append_child("ETag").text().set(("\"" + part.etag + "\"").c_str());
    if (!part.checksum_sha256.empty())
      node.append_child("ChecksumSHA256").text().set(part.checksum_sha256.c_str());
  }
  return to_xml(doc);
}

std::string create_bucket_body(std::string_view region) {
  // us-east-1 rejects an explicit LocationConstraint naming itself (CreateBucket API reference).
  if (region.empty() || region == "us-east-1") return {};
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CreateBucketConfiguration");
  root.append_attribute("xmlns") = kS3Namespace;
  root.append_child("LocationConstraint").text().set(std::string(region).c_str());
  return to_xml(doc);
}

std::string delete_objects_body(std::span<const std::string> keys) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Delete");
  root.append_attribute("xmlns") = kS3Namespace;
  for (const std::string& key : keys) root.append_child("Object").append_child("Key").text().set(key.c_str());
  return to_xml(doc);
}

}  // namespace es::s3
