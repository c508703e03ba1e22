#include "core/output_format.h"

#include <array>
#include <optional>

#include "core/text.h"

namespace es {
namespace {

constexpr std::array<FormatTraits, 3> kFormats = {{
    {OutputFormat::kJson, "json", "", ".json", "application/json"},
    {OutputFormat::kNdjson, "ndjson", "jsonl", ".ndjson", "application/x-ndjson"},
    {OutputFormat::kCsv, "csv", "", ".csv", "text/csv; charset=utf-8"},
}};

constexpr std::array<CompressionTraits, 3> kCompressions = {{
    {Compression::kNone, "none", "", "", ""},
    {Compression::kGzip, "gzip", "gz", ".gz", "gzip"},
    {Compression::kZstd, "zstd", "zst", ".zst", "zstd"},
}};

template <typename Table>
std::string names(const Table& table) {
  std::string out;
  for (const auto& t : table) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

}  // namespace

const FormatTraits& traits(OutputFormat format) {
  return kFormats[static_cast<std::size_t>(format)];
}

const CompressionTraits& traits(Compression compression) {
  return kCompressions[static_cast<std::size_t>(compression)];
}

std::optional<OutputFormat> output_format_named(std::string_view name) {
  for (const auto& t : kFormats) {
    if (t.name == name) return t.format;
  }
  return std::nullopt;
}

std::optional<Compression> compression_named(std::string_view name) {
  for (const auto& t : kCompressions) {
    if (t.name == name) return t.compression;
  }
  return std::nullopt;
}

std::string output_format_names() {
  return names(kFormats);
}

std::string compression_names() {
  return names(kCompressions);
}

Result<OutputFormat> parse_output_format(std::string_view name) {
  const std::string t = text::to_lower(name);
  for (const auto& f : kFormats) {
    if (t == f.name || (!f.alias.empty() && t == f.alias)) return f.format;
  }
  return Error::invalid_argument("output format", "unknown output format \"" + std::string(name) +
                                                      "\" (allowed: " + output_format_names() + ")");
}

Result<Compression> parse_compression(std::string_view name) {
  const std::string t = text::to_lower(name);
  if (t.empty()) return Compression::kNone;
  for (const auto& c : kCompressions) {
    if (t == c.name || (!c.alias.empty() && t == c.alias)) return c.compression;
  }
  return Error::invalid_argument("compression", "unknown compression \"" + std::string(name) +
                                                    "\" (allowed: " + compression_names() + ")");
}

std::string file_extension(OutputFormat format, Compression compression) {
  std::string out(format_extension(format));
  out += compression_extension(compression);
  return out;
}

}  // namespace es
