#pragma once
/// The output formats and compressions, and everything that depends only on which one it is (its
/// name, key suffix, Content-Type or Content-Encoding): one traits table each.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace es {

enum class OutputFormat : std::uint8_t {
  kJson,    ///< "[\n" + events joined by ",\n" + "\n]\n"; no events: "[]\n"
  kNdjson,  ///< each event followed by "\n"; no events: ""
  kCsv,     ///< header + one row per event, CRLF line ends (RFC 4180); no events: ""
};

enum class Compression : std::uint8_t { kNone, kGzip, kZstd };

struct FormatTraits {
  OutputFormat format;
  std::string_view name;          ///< "json": OUTPUT_FORMAT's value, the manifest's "format"
  std::string_view alias;         ///< another name parse_output_format accepts ("" when none)
  std::string_view extension;     ///< ".json"
  std::string_view content_type;  ///< of the uncompressed bytes
};

struct CompressionTraits {
  Compression compression;
  std::string_view name;              ///< "gzip": EAGLESENSE_COMPRESSION's value
  std::string_view alias;             ///< another name parse_compression accepts ("" when none)
  std::string_view extension;         ///< ".gz" ("" for none)
  std::string_view content_encoding;  ///< "gzip" ("" for none: no header is sent)
};

[[nodiscard]] const FormatTraits& traits(OutputFormat format);
[[nodiscard]] const CompressionTraits& traits(Compression compression);

/// "json", "ndjson" (also "jsonl"), "csv", case-insensitive. Error kInvalidArgument names the choices.
[[nodiscard]] Result<OutputFormat> parse_output_format(std::string_view text);
/// "none" (also ""), "gzip" (also "gz"), "zstd" (also "zst"), case-insensitive.
[[nodiscard]] Result<Compression> parse_compression(std::string_view text);
/// The exact names only (settings): std::nullopt for anything else.
[[nodiscard]] std::optional<OutputFormat> output_format_named(std::string_view name);
[[nodiscard]] std::optional<Compression> compression_named(std::string_view name);
/// "json, ndjson, csv" and "none, gzip, zstd".
[[nodiscard]] std::string output_format_names();
[[nodiscard]] std::string compression_names();

[[nodiscard]] inline std::string_view to_string(OutputFormat format) {
  return traits(format).name;
}
[[nodiscard]] inline std::string_view to_string(Compression compression) {
  return traits(compression).name;
}
/// ".json", ".ndjson" or ".csv".
[[nodiscard]] inline std::string_view format_extension(OutputFormat format) {
  return traits(format).extension;
}
/// "", ".gz" or ".zst".
[[nodiscard]] inline std::string_view compression_extension(Compression compression) {
  return traits(compression).extension;
}
/// The object key suffix, e.g. ".json", ".ndjson.gz", ".csv.zst".
[[nodiscard]] std::string file_extension(OutputFormat format, Compression compression);
/// Content-Type of the uncompressed format: "application/json", "application/x-ndjson",
/// "text/csv; charset=utf-8".
[[nodiscard]] inline std::string_view content_type(OutputFormat format) {
  return traits(format).content_type;
}
/// Content-Encoding for the compression: "" (send no header), "gzip" or "zstd".
[[nodiscard]] inline std::string_view content_encoding(Compression compression) {
  return traits(compression).content_encoding;
}

}  // namespace es
