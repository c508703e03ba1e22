#pragma once
/// The headers of every object a run writes: client objects (format, checksum, metadata, expected
/// owner) and the ops bucket's documents (manifest, rejected events, staging); both carry the
/// server-side encryption of EAGLESENSE_SSE / EAGLESENSE_KMS_KEY_ID.

#include <cstdint>

#include "core/config.h"
#include "core/hash.h"
#include "core/time.h"
#include "s3/s3_types.h"

namespace es::exporter {

/// The encryption every write asks for: SSE-S3, or SSE-KMS with the configured key; and the ops
/// bucket's expected owner (the documents written with these options go there).
[[nodiscard]] s3::PutOptions encrypted_put_options(const ExportConfig& config);

/// A client's object of hour w: its format's headers, the checksum (digest, when known), metadata
/// (event-count, window-start, window-end) and the expected bucket owner.
[[nodiscard]] s3::PutOptions object_put_options(const ExportConfig& config, const HourWindow& w,
                                                std::uint64_t events, const Sha256Digest& digest);

}  // namespace es::exporter
