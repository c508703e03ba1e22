#include "export/put_options.h"

#include <string>

namespace es::exporter {

s3::PutOptions encrypted_put_options(const ExportConfig& config) {
  s3::PutOptions o;
  o.encryption = config.sse == Sse::kKms ? s3::Encryption::kKms : s3::Encryption::kAes256;
  o.kms_key_id = config.kms_key_id;
  // The ops bucket's documents (manifest, rejected, staging, reports); object_put_options sets the
  // client buckets' owner instead.
  o.expected_bucket_owner = config.ops_bucket_owner;
  return o;
}

s3::PutOptions object_put_options(const ExportConfig& config, const HourWindow& w, std::uint64_t events,
                                  const Sha256Digest& digest) {
  s3::PutOptions o = encrypted_put_options(config);
  o.content_type = std::string(content_type(config.format));
  o.content_encoding = std::string(content_encoding(config.compression));
  o.checksum_sha256 = true;
  o.precomputed_sha256 = base64_encode(digest);
  o.expected_bucket_owner = config.expected_bucket_owner;
  o.metadata = {{"event-count", std::to_string(events)},
                {"window-start", format_iso8601_us(w.start_us)},
                {"window-end", format_iso8601_us(w.end_us())}};
  return o;
}

}  // namespace es::exporter
