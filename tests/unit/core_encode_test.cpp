#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include "core/encode.h"

namespace es {
namespace {

std::string encode(OutputFormat format, const std::vector<std::string_view>& events) {
  std::string out;
  StringSink sink(out);
  Status st = encode_events(format, events, sink);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().to_string());
  return out;
}

std::string gunzip(std::string_view data) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out;
  std::vector<char> buf(1 << 16);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));  // NOLINT: zlib's C API
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      ADD_FAILURE() << "inflate failed: " << rc;
      break;
    }
    out.append(buf.data(), buf.size() - zs.avail_out);
  }
  EXPECT_EQ(zs.avail_in, 0u);  // exactly one member, nothing after it
  inflateEnd(&zs);
  return out;
}

std::string unzstd(std::string_view data) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  std::string out;
  std::vector<char> buf(ZSTD_DStreamOutSize());
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  std::size_t rc = 1;
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    rc = ZSTD_decompressStream(ctx, &o, &in);
    if (ZSTD_isError(rc)) {
      ADD_FAILURE() << ZSTD_getErrorName(rc);
      break;
    }
    out.append(buf.data(), o.pos);
  }
  EXPECT_EQ(rc, 0u);  // the frame is complete
  ZSTD_freeDCtx(ctx);
  return out;
}

std::string compress(Compression c, std::string_view data, int level = Compressor::kDefaultLevel) {
  std::string out;
  StringSink sink(out);
  auto comp = Compressor::make(c, sink, level);
  EXPECT_TRUE(comp.ok());
  if (!comp.ok()) return out;
  // Feed in uneven pieces to exercise the streaming path.
  std::size_t pos = 0;
  std::size_t piece = 1;
  while (pos < data.size()) {
    const std::size_t n = std::min(piece, data.size() - pos);
    EXPECT_TRUE((*comp)->append(data.substr(pos, n)).ok());
    pos += n;
    piece = piece * 3 + 7;
  }
  EXPECT_TRUE((*comp)->finish().ok());
  EXPECT_EQ((*comp)->bytes_in(), data.size());
  EXPECT_EQ((*comp)->bytes_out(), out.size());
  return out;
}

std::string sample_data(std::size_t n) {
  std::string s;
  std::uint32_t x = 12345;
  while (s.size() < n) {
    x = x * 1103515245u + 12345u;
    s += R"({"eventId":"e-)" + std::to_string(x % 100000) + R"(","data":"hello world"})";
    s += '\n';
  }
  s.resize(n);
  return s;
}

TEST(Names, ExtensionsAndHeaders) {
  EXPECT_EQ(file_extension(OutputFormat::kJson, Compression::kNone), ".json");
  EXPECT_EQ(file_extension(OutputFormat::kNdjson, Compression::kGzip), ".ndjson.gz");
  EXPECT_EQ(file_extension(OutputFormat::kCsv, Compression::kZstd), ".csv.zst");
  EXPECT_EQ(format_extension(OutputFormat::kCsv), ".csv");
  EXPECT_EQ(compression_extension(Compression::kNone), "");
  EXPECT_EQ(content_type(OutputFormat::kJson), "application/json");
  EXPECT_EQ(content_type(OutputFormat::kNdjson), "application/x-ndjson");
  EXPECT_EQ(content_type(OutputFormat::kCsv), "text/csv; charset=utf-8");
  EXPECT_EQ(content_encoding(Compression::kNone), "");
  EXPECT_EQ(content_encoding(Compression::kGzip), "gzip");
  EXPECT_EQ(content_encoding(Compression::kZstd), "zstd");
}

TEST(Names, Parse) {
  EXPECT_EQ(*parse_output_format("json"), OutputFormat::kJson);
  EXPECT_EQ(*parse_output_format("NDJSON"), OutputFormat::kNdjson);
  EXPECT_EQ(*parse_output_format("jsonl"), OutputFormat::kNdjson);
  EXPECT_EQ(*parse_output_format("Csv"), OutputFormat::kCsv);
  auto bad = parse_output_format("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("json, ndjson, csv"), std::string::npos);
  EXPECT_EQ(*parse_compression("none"), Compression::kNone);
  EXPECT_EQ(*parse_compression("GZIP"), Compression::kGzip);
  EXPECT_EQ(*parse_compression("zst"), Compression::kZstd);
  EXPECT_FALSE(parse_compression("brotli").ok());
  for (auto f : {OutputFormat::kJson, OutputFormat::kNdjson, OutputFormat::kCsv}) {
    EXPECT_EQ(*parse_output_format(to_string(f)), f);
  }
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    EXPECT_EQ(*parse_compression(to_string(c)), c);
  }
}

TEST(Json, ArrayOneEventPerLine) {
  EXPECT_EQ(encode(OutputFormat::kJson, {}), "[]\n");
  EXPECT_EQ(encode(OutputFormat::kJson, {R"({"a":1})"}), "[\n{\"a\":1}\n]\n");
  EXPECT_EQ(encode(OutputFormat::kJson, {R"({"a":1})", R"({"a":2})", R"({"a":3})"}),
            "[\n{\"a\":1},\n{\"a\":2},\n{\"a\":3}\n]\n");
}

TEST(Ndjson, OneEventPerLine) {
  EXPECT_EQ(encode(OutputFormat::kNdjson, {}), "");
  EXPECT_EQ(encode(OutputFormat::kNdjson, {R"({"a":1})", R"({"b":"x"})"}), "{\"a\":1}\n{\"b\":\"x\"}\n");
}

TEST(Json, LargeOutputIsChunkedButComplete) {
  std::vector<std::string> storage;
  for (int i = 0; i < 5000; ++i)
    storage.push_back(R"({"i":)" + std::to_string(i) + R"(,"pad":")" + std::string(50, 'p') + "\"}");
  storage.push_back(R"({"big":")" + std::string(200'000, 'b') + "\"}");
  std::vector<std::string_view> events(storage.begin(), storage.end());
  std::string expected = "[\n";
  for (std::size_t i = 0; i < storage.size(); ++i) expected += (i ? ",\n" : "") + storage[i];
  expected += "\n]\n";
  // A sink that counts calls: writes arrive in a few large chunks, not per event.
  struct CountingSink : OutputSink {
    std::string data;
    int calls = 0;
    Status append(std::string_view b) override {
      ++calls;
      data.append(b);
      return ok_status();
    }
  } sink;
  ASSERT_TRUE(encode_events(OutputFormat::kJson, events, sink).ok());
  EXPECT_EQ(sink.data, expected);
  EXPECT_LT(sink.calls, 20);
}

TEST(Csv, ColumnsQuotingAndTypes) {
  const std::vector<std::string_view> events = {
      R"({"b":"plain","a":1.50,"n":null,"t":true,"m":{"x":[1,"y"]}})",
      R"({"a":-2E+5,"c":"has,comma","b":"say \"hi\"","l":[1,2]})",
      R"({"b":"line1\nline2","f":false,"c":"cr\rhere","é":"ü"})",
      R"({})",
  };
  const std::string csv = encode(OutputFormat::kCsv, events);
  EXPECT_EQ(csv,
            "a,b,c,f,l,m,n,t,\xC3\xA9\r\n"
            "1.50,plain,,,,\"{\"\"x\"\":[1,\"\"y\"\"]}\",,true,\r\n"
            "-2E+5,\"say \"\"hi\"\"\",\"has,comma\",,\"[1,2]\",,,,\r\n"
            ",\"line1\nline2\",\"cr\rhere\",false,,,,,\xC3\xBC\r\n"
            ",,,,,,,,\r\n");
}

TEST(Csv, ExactNumbersAndEscapedKeys) {
  const std::vector<std::string_view> events = {
      R"({"big":12345678901234567890123456789012345678,"tiny":1E-130,"q\"k":"\u00e9\t"})",
  };
  EXPECT_EQ(encode(OutputFormat::kCsv, events),
            "big,\"q\"\"k\",tiny\r\n"
            "12345678901234567890123456789012345678,\xC3\xA9\t,1E-130\r\n");
}

TEST(Csv, EmptyAndInvalid) {
  EXPECT_EQ(encode(OutputFormat::kCsv, {}), "");
  std::string out;
  StringSink sink(out);
  const std::vector<std::string_view> bad = {R"({"a":1})", R"([1,2])"};
  Status st = encode_events(OutputFormat::kCsv, bad, sink);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(st.error().resource.find("#1"), std::string::npos);
}

TEST(Gzip, RoundTripAndDeterministicHeader) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{3'000'000}}) {
    const std::string data = sample_data(n);
    const std::string gz = compress(Compression::kGzip, data);
    ASSERT_GE(gz.size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
    EXPECT_EQ(gz[3], 0);                               // no flags: no name, no comment
    EXPECT_EQ(gz.substr(4, 4), std::string(4, '\0'));  // mtime 0
    EXPECT_EQ(static_cast<unsigned char>(gz[9]), 3);   // OS: Unix, fixed
    EXPECT_EQ(gunzip(gz), data) << n;
    EXPECT_EQ(compress(Compression::kGzip, data), gz);  // same input, same bytes
  }
}

TEST(Gzip, Levels) {
  const std::string data = sample_data(200'000);
  const std::string fast = compress(Compression::kGzip, data, 1);
  const std::string best = compress(Compression::kGzip, data, 9);
  EXPECT_EQ(gunzip(fast), data);
  EXPECT_EQ(gunzip(best), data);
  EXPECT_LE(best.size(), fast.size());
  std::string out;
  StringSink sink(out);
  EXPECT_FALSE(Compressor::make(Compression::kGzip, sink, 10).ok());
  EXPECT_FALSE(Compressor::make(Compression::kZstd, sink, 0).ok());
}

TEST(Zstd, RoundTripDeterministic) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{3'000'000}}) {
    const std::string data = sample_data(n);
    const std::string z = compress(Compression::kZstd, data);
    EXPECT_EQ(z.substr(0, 4), "\x28\xb5\x2f\xfd");  // frame magic
    EXPECT_EQ(unzstd(z), data) << n;
    EXPECT_EQ(compress(Compression::kZstd, data), z);
  }
}

TEST(None, PassThrough) {
  const std::string data = sample_data(5000);
  EXPECT_EQ(compress(Compression::kNone, data), data);
}

TEST(Compressor, AppendAfterFinishIsAnError) {
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    std::string out;
    StringSink sink(out);
    auto comp = Compressor::make(c, sink);
    ASSERT_TRUE(comp.ok());
    ASSERT_TRUE((*comp)->finish().ok());
    EXPECT_FALSE((*comp)->append("x").ok());
    EXPECT_FALSE((*comp)->finish().ok());
  }
}

TEST(Compressor, SinkErrorsPropagate) {
  struct FailingSink : OutputSink {
    Status append(std::string_view) override { return Error::io("bucket/key", "disk full"); }
  } sink;
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    const std::vector<std::string_view> events = {R"({"a":1})"};
    Status st = encode_object(OutputFormat::kNdjson, c, events, sink);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message, "disk full");
  }
}

TEST(EncodeObject, AllFormatsAndCompressionsRoundTrip) {
  const std::vector<std::string_view> events = {R"({"a":1,"s":"x"})", R"({"a":2,"s":"y,z"})"};
  for (auto f : {OutputFormat::kJson, OutputFormat::kNdjson, OutputFormat::kCsv}) {
    const std::string plain = encode(f, events);
    for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
      std::string out;
      StringSink sink(out);
      ASSERT_TRUE(encode_object(f, c, events, sink).ok());
      const std::string back = c == Compression::kNone   ? out
                               : c == Compression::kGzip ? gunzip(out)
                                                         : unzstd(out);
      EXPECT_EQ(back, plain) << to_string(f) << " " << to_string(c);
    }
  }
}

}  // namespace
}  // namespace es

namespace es {
namespace {

TEST(StringSink, ReservedRoomIsFilledExactlyWhateverTheChunks) {
  // The sink faults reserved room in ahead of the copies; the bytes must be exactly those appended,
  // through reallocations too.
  std::string expected;
  for (int i = 0; expected.size() < (5 << 20); ++i) expected += "event-" + std::to_string(i) + ",";
  for (const std::size_t reserve :
       {std::size_t{0}, std::size_t{1} << 20, expected.size(), expected.size() * 2}) {
    std::string out;
    out.reserve(reserve);
    StringSink sink(out);
    std::size_t at = 0;
    for (std::size_t chunk = 1; at < expected.size(); chunk = chunk * 3 % 100'003 + 1) {
      const std::size_t n = std::min(chunk, expected.size() - at);
      ASSERT_TRUE(sink.append(std::string_view(expected).substr(at, n)).ok());
      at += n;
    }
    EXPECT_EQ(out, expected) << "reserve " << reserve;
  }
}

}  // namespace
}  // namespace es
