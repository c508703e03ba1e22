#include "s3/s3_client.h"

#include <array>
#include <utility>

#include <fmt/format.h>

#include "aws/errors.h"
#include "core/hash.h"
#include "s3/s3_addressing.h"
#include "s3/s3_request_internal.h"
#include "s3/s3_xml.h"

namespace es::s3 {

using aws::HttpRequest;
using aws::HttpResponse;
using detail::resource_of;

Result<S3Client> S3Client::make(std::shared_ptr<const aws::ServiceContext> context,
                                std::unique_ptr<aws::HttpClient> http) {
  if (!context) return Error::internal("S3Client::make: no ServiceContext");
  if (!http) return Error::internal("S3Client::make: no HttpClient");
  if (context->signing.service != "s3" || !context->signing.s3_rules) {
    return Error::invalid_argument("S3 client", "the service context must sign for \"s3\" with S3's rules");
  }
  if (!context->credentials) return Error::invalid_argument("S3 client", "no credentials provider");
  if (!context->retry) return Error::invalid_argument("S3 client", "no retry policy");
  return S3Client(aws::AwsCaller(std::move(context), std::move(http)));
}

Result<HttpResponse> S3Client::send(std::string_view operation, std::string_view resource,
                                    const HttpRequest& request, std::string_view expected_owner,
                                    bool check_error_body) {
  const aws::ResponseClassifier classify = [&](const HttpResponse& response) -> std::optional<Error> {
    if (response.status >= 200 && response.status < 300) {
      // CompleteMultipartUpload (and CopyObject) may answer 200 and report the failure in the body
      // ("CompleteMultipartUpload", S3 API reference): such a response is an error.
      if (check_error_body && is_error_document(response.body)) {
        return aws::s3_error(response, operation, resource);
      }
      return std::nullopt;
    }
    Error error = aws::s3_error(response, operation, resource);
    if (const auto region = response.header("x-amz-bucket-region"); region && response.status == 301) {
      detail::add_hint(error, fmt::format("The bucket is in region {}", *region));
    }
    return error;
  };
  Result<HttpResponse> response = caller_.call(operation, resource, request, classify);
  if (!response.ok()) {
    Error error = std::move(response).error();
    detail::explain(error, expected_owner);
    return error;
  }
  return response;
}

Result<ObjectHead> S3Client::head_object(std::string_view bucket, std::string_view key,
                                         std::string_view expected_owner) {
  static constexpr std::string_view kOperation = "S3.HeadObject";
  ES_TRY(detail::check_names(kOperation, bucket, key));
  HttpRequest request;
  request.method = "HEAD";
  request.url = s3_url(caller_.context().endpoint, bucket, key);
  request.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  detail::add_owner_header(request.headers, expected_owner);
  ES_ASSIGN_OR_RETURN(HttpResponse response,
                      send(kOperation, resource_of(bucket, key), request, expected_owner));
  ObjectHead head;
  const std::string length = detail::header_or_empty(response, "content-length");
  head.size = length.empty() ? 0 : std::stoull(length);
  head.etag = unquote_etag(detail::header_or_empty(response, "etag"));
  if (const auto checksum = response.header("x-amz-checksum-sha256"))
    head.checksum_sha256 = std::string(*checksum);
  return head;
}

Status S3Client::head_bucket(std::string_view bucket, std::string_view expected_owner) {
  static constexpr std::string_view kOperation = "S3.HeadBucket";
  ES_TRY(detail::check_names(kOperation, bucket, {}));
  HttpRequest request;
  request.method = "HEAD";
  request.url = s3_url(caller_.context().endpoint, bucket, {});
  detail::add_owner_header(request.headers, expected_owner);
  Result<HttpResponse> response = send(kOperation, bucket, request, expected_owner);
  if (response.ok()) return ok_status();
  Error error = std::move(response).error();
  // HEAD answers carry no body, so the code is only what the status implies; say it plainly.
  if (error.http_status == 404) {
    error.kind = ErrorKind::kNotFound;
    error.code = "NoSuchBucket";
    error.message = "bucket does not exist. Create the bucket or fix S3_BUCKET_PREFIX.";
  } else if (error.http_status == 403) {
    error.kind = ErrorKind::kAccessDenied;
    error.message =
        expected_owner.empty()
            ? std::string(
                  "access to the bucket is denied. Check the IAM policy of the role running EagleSense "
                  "(s3:ListBucket) and the bucket policy.")
            : fmt::format(
                  "access to the bucket is denied. The bucket is owned by another account than "
                  "EAGLESENSE_EXPECTED_BUCKET_OWNER ({}), or the IAM policy of the role running "
                  "EagleSense does not allow s3:ListBucket on it.",
                  expected_owner);
  }
  return error;
}

Status S3Client::create_bucket(std::string_view bucket) {
  static constexpr std::string_view kOperation = "S3.CreateBucket";
  ES_TRY(detail::check_names(kOperation, bucket, {}));
  const std::string body = create_bucket_body(caller_.context().signing.region);
  HttpRequest request;
  request.method = "PUT";
  request.url = s3_url(caller_.context().endpoint, bucket, {});
  request.headers.emplace_back("content-length", std::to_string(body.size()));
  if (!body.empty()) request.headers.emplace_back("content-type", "application/xml");
  request.body = body;
  Result<HttpResponse> response = send(kOperation, bucket, request, {});
  if (response.ok() || response.error().code == "BucketAlreadyOwnedByYou") return ok_status();
  return std::move(response).error();
}

Result<PutResult> S3Client::put_object(std::string_view bucket, std::string_view key, std::string_view body,
                                       const PutOptions& options) {
  return put(bucket, key, body, nullptr, options);
}

Result<PutResult> S3Client::put_object(std::string_view bucket, std::string_view key, aws::BodySource& source,
                                       const PutOptions& options) {
  if (options.precomputed_sha256.empty() || options.content_md5) {
    return Error::invalid_argument(
               "PutOptions", "an object read while it is sent needs precomputed_sha256 and no content_md5")
        .with_context("S3.PutObject", resource_of(bucket, key));
  }
  return put(bucket, key, {}, &source, options);
}

Result<PutResult> S3Client::put(std::string_view bucket, std::string_view key, std::string_view body,
                                aws::BodySource* source, const PutOptions& options) {
  static constexpr std::string_view kOperation = "S3.PutObject";
  ES_TRY(detail::check_names(kOperation, bucket, key));
  const std::string resource = resource_of(bucket, key);
  const std::uint64_t size = source != nullptr ? source->size() : body.size();
  if (size > kMaxSinglePutSize) {
    return Error::invalid_argument(resource, "a single PUT is limited to 5 GiB: use upload() (multipart)")
        .with_context(kOperation);
  }
  Result<detail::PayloadDigests> digests = detail::payload_digests(body, options.precomputed_sha256);
  if (!digests.ok()) return std::move(digests).error().with_context(kOperation, resource);

  HttpRequest request;
  request.method = "PUT";
  request.url = s3_url(caller_.context().endpoint, bucket, key);
  request.body = body;
  request.body_source = source;
  if (Status s = detail::add_object_headers(request.headers, options); !s.ok()) {
    return std::move(s).error().with_context(kOperation);
  }
  detail::add_payload_headers(request.headers, size, *digests, options, body);
  detail::add_condition_headers(request.headers, options);

  ES_ASSIGN_OR_RETURN(HttpResponse response,
                      send(kOperation, resource, request, options.expected_bucket_owner));
  PutResult result;
  result.etag = unquote_etag(detail::header_or_empty(response, "etag"));
  result.version_id = detail::header_or_empty(response, "x-amz-version-id");
  if (options.checksum_sha256) {
    result.checksum_sha256 = digests->base64;
    // S3 echoes the checksum it verified; a different one would mean it stored something else.
    const std::string echoed = detail::header_or_empty(response, "x-amz-checksum-sha256");
    if (!echoed.empty() && echoed != digests->base64) {
      Error error = Error::invalid_data(
          resource,
          fmt::format("S3 reports checksum {} for the object, expected {}", echoed, digests->base64));
      error.request_id = std::string(aws::request_id(response).value_or(""));
      return std::move(error).with_context(kOperation);
    }
  }
  return result;
}

Result<GetResult> S3Client::get_object(std::string_view bucket, std::string_view key,
                                       const GetOptions& options) {
  static constexpr std::string_view kOperation = "S3.GetObject";
  ES_TRY(detail::check_names(kOperation, bucket, key));
  const std::string resource = resource_of(bucket, key);
  HttpRequest request;
  request.method = "GET";
  request.url = s3_url(caller_.context().endpoint, bucket, key);
  if (options.range) {
    if (options.range->last < options.range->first) {
      return Error::invalid_argument(resource, "the byte range ends before it starts")
          .with_context(kOperation);
    }
    request.headers.emplace_back("range",
                                 fmt::format("bytes={}-{}", options.range->first, options.range->last));
  } else if (options.checksum_mode) {
    request.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  }
  detail::add_owner_header(request.headers, options.expected_bucket_owner);
  request.max_body_bytes = options.max_body_bytes;
  if (request.max_body_bytes == 0 && options.range) {
    // The range, or an error document (a 416's XML) when that is longer.
    request.max_body_bytes =
        std::max(options.range->last - options.range->first + 1, HttpRequest::kMaxDocumentBody);
  }

  ES_ASSIGN_OR_RETURN(HttpResponse response,
                      send(kOperation, resource, request, options.expected_bucket_owner));
  GetResult result;
  constexpr std::string_view kMetaPrefix = "x-amz-meta-";
  for (const auto& [name, value] : response.headers) {
    if (name.starts_with(kMetaPrefix)) result.metadata.emplace(name.substr(kMetaPrefix.size()), value);
  }
  result.etag = unquote_etag(detail::header_or_empty(response, "etag"));
  result.content_type = detail::header_or_empty(response, "content-type");
  result.content_encoding = detail::header_or_empty(response, "content-encoding");
  result.version_id = detail::header_or_empty(response, "x-amz-version-id");
  result.last_modified = detail::header_or_empty(response, "last-modified");
  if (const auto checksum = response.header("x-amz-checksum-sha256"))
    result.checksum_sha256 = std::string(*checksum);
  result.body = std::move(response.body);

  // A composite checksum ("...-N") covers the parts' digests, not the body, so only a full-object
  // checksum of a whole-object read can be checked here.
  if (!options.range && result.checksum_sha256 && result.checksum_sha256->find('-') == std::string::npos) {
    const std::string actual = base64_encode(sha256(result.body));
    if (actual != *result.checksum_sha256) {
      Error error = Error::invalid_data(
          resource, fmt::format("the body's SHA-256 is {}, S3 stored {}: the object was altered on the way",
                                actual, *result.checksum_sha256));
      error.request_id = std::string(aws::request_id(response).value_or(""));
      return std::move(error).with_context(kOperation);
    }
  }
  return result;
}

Result<ListPage> S3Client::list_objects_v2(std::string_view bucket, std::string_view prefix,
                                           std::string_view continuation_token, int max_keys,
                                           std::string_view expected_owner) {
  static constexpr std::string_view kOperation = "S3.ListObjectsV2";
  ES_TRY(detail::check_names(kOperation, bucket, {}));
  if (max_keys < 1 || max_keys > 1000) {
    return Error::invalid_argument(std::string(bucket), "max_keys must be 1..1000").with_context(kOperation);
  }
  std::vector<QueryParam> query{{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}};
  // encoding-type=url lets any key (even one with characters XML 1.0 cannot carry) come back intact.
  query.push_back({"encoding-type", "url"});
  if (!prefix.empty()) query.push_back({"prefix", std::string(prefix)});
  if (!continuation_token.empty()) query.push_back({"continuation-token", std::string(continuation_token)});
  HttpRequest request;
  request.method = "GET";
  request.url = s3_url(caller_.context().endpoint, bucket, {}, query);
  detail::add_owner_header(request.headers, expected_owner);

  const std::string resource = resource_of(bucket, prefix);
  ES_ASSIGN_OR_RETURN(HttpResponse response, send(kOperation, resource, request, expected_owner));
  Result<ListPage> page = parse_list_objects_v2(response.body);
  if (!page.ok()) {
    Error error = std::move(page).error();
    error.http_status = response.status;
    error.request_id = std::string(aws::request_id(response).value_or(""));
    error.resource = resource;
    return std::move(error).with_context(kOperation);
  }
  if (page->is_truncated && page->next_continuation_token.empty()) {
    Error error = Error::invalid_data(resource, "the page is truncated but carries no NextContinuationToken");
    error.request_id = std::string(aws::request_id(response).value_or(""));
    return std::move(error).with_context(kOperation);
  }
  return page;
}

Result<std::vector<ObjectInfo>> S3Client::list_all(std::string_view bucket, std::string_view prefix,
                                                   std::string_view expected_owner) {
  std::vector<ObjectInfo> objects;
  std::string token;
  while (true) {
    ES_ASSIGN_OR_RETURN(ListPage page, list_objects_v2(bucket, prefix, token, 1000, expected_owner));
    objects.insert(objects.end(), std::make_move_iterator(page.objects.begin()),
                   std::make_move_iterator(page.objects.end()));
    if (!page.is_truncated) break;
    if (page.next_continuation_token == token) {
      return Error::invalid_data(resource_of(bucket, prefix),
                                 "the listing returned the same continuation token twice")
          .with_context("S3.ListObjectsV2");
    }
    token = std::move(page.next_continuation_token);
  }
  return objects;
}

Status S3Client::delete_object(std::string_view bucket, std::string_view key, std::string_view expected_owner,
                               std::string_view if_match) {
  static constexpr std::string_view kOperation = "S3.DeleteObject";
  ES_TRY(detail::check_names(kOperation, bucket, key));
  HttpRequest request;
  request.method = "DELETE";
  request.url = s3_url(caller_.context().endpoint, bucket, key);
  if (!if_match.empty()) request.headers.emplace_back("if-match", fmt::format("\"{}\"", if_match));
  detail::add_owner_header(request.headers, expected_owner);
  Result<HttpResponse> response = send(kOperation, resource_of(bucket, key), request, expected_owner);
  if (response.ok()) return ok_status();
  return std::move(response).error();
}

Result<DeleteObjectsResult> S3Client::delete_objects(std::string_view bucket,
                                                     std::span<const std::string> keys,
                                                     std::string_view expected_owner) {
  static constexpr std::string_view kOperation = "S3.DeleteObjects";
  ES_TRY(detail::check_names(kOperation, bucket, {}));
  if (keys.empty()) return DeleteObjectsResult{};
  if (keys.size() > 1000) {
    return Error::invalid_argument(std::string(bucket), "DeleteObjects takes at most 1000 keys")
        .with_context(kOperation);
  }
  for (const std::string& key : keys) ES_TRY(detail::check_names(kOperation, bucket, key));
  const std::string body = delete_objects_body(keys);
  HttpRequest request;
  request.method = "POST";
  request.url = s3_url(caller_.context().endpoint, bucket, {}, std::array{QueryParam{"delete", "", false}});
  request.body = body;
  request.headers.emplace_back("content-type", "application/xml");
  request.headers.emplace_back("content-length", std::to_string(body.size()));
  // DeleteObjects requires a body checksum (Content-MD5 or x-amz-checksum-*).
  request.headers.emplace_back("content-md5", base64_encode(md5(body)));
  detail::add_owner_header(request.headers, expected_owner);
  ES_ASSIGN_OR_RETURN(HttpResponse response, send(kOperation, bucket, request, expected_owner));
  Result<DeleteObjectsResult> result = parse_delete_objects(response.body, bucket);
  if (!result.ok()) return std::move(result).error().with_context(kOperation, bucket);
  return result;
}

}  // namespace es::s3
