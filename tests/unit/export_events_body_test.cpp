// EventsBody: an uncompressed object produced from its events while it is sent is byte for byte the
// object encode_object builds, however the transport sizes its reads, and again after a rewind.

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "aws/http.h"
#include "core/encode.h"
#include "export/upload_stage.h"

namespace es::exporter {
namespace {

std::vector<std::string> sample_events() {
  std::vector<std::string> events;
  for (int i = 0; i < 200; ++i) {
    events.push_back(R"({"eventId":"e)" + std::to_string(i) + R"(","data":")" +
                     std::string(static_cast<std::size_t>(i * 37 % 300), 'x') + "\"}");
  }
  events.push_back(R"({"eventId":"big","data":")" + std::string(100'000, 'y') + "\"}");  // > any read
  events.push_back(R"({"eventId":"last"})");
  return events;
}

std::string encoded(OutputFormat format, std::span<const std::string_view> events) {
  std::string object;
  StringSink sink(object);
  EXPECT_TRUE(encode_object(format, Compression::kNone, events, sink).ok());
  return object;
}

// Reads the whole body in reads of `room` bytes, as a transport would.
std::string drain(EventsBody& body, std::size_t room) {
  std::string out;
  std::string buffer(room, '\0');
  for (;;) {
    Result<std::size_t> n = body.read(buffer.data(), room);
    EXPECT_TRUE(n.ok());
    if (!n.ok() || *n == 0) break;
    EXPECT_LE(*n, room);
    out.append(buffer, 0, *n);
  }
  return out;
}

TEST(EventsBody, ProducesTheEncodedObjectWhateverTheReadSize) {
  const std::vector<std::string> storage = sample_events();
  const std::vector<std::string_view> events(storage.begin(), storage.end());
  for (const OutputFormat format : {OutputFormat::kJson, OutputFormat::kNdjson}) {
    const std::string expected = encoded(format, events);
    for (const std::size_t room :
         {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{65536}, std::size_t{1} << 20}) {
      EventsBody body(format, events, expected.size());
      EXPECT_EQ(body.size(), expected.size());
      EXPECT_EQ(drain(body, room), expected) << "format " << to_string(format) << ", reads of " << room;
      body.rewind();
      EXPECT_EQ(drain(body, room), expected) << "after a rewind, reads of " << room;
    }
  }
}

TEST(EventsBody, RewindsInTheMiddleOfAnEvent) {
  const std::vector<std::string> storage = sample_events();
  const std::vector<std::string_view> events(storage.begin(), storage.end());
  const std::string expected = encoded(OutputFormat::kJson, events);
  EventsBody body(OutputFormat::kJson, events, expected.size());
  std::string buffer(5000, '\0');
  ASSERT_TRUE(body.read(buffer.data(), buffer.size()).ok());  // leaves part of an event pending
  body.rewind();
  EXPECT_EQ(drain(body, 4096), expected);
}

TEST(EventsBody, AnObjectWithoutEventsIsAnEmptyArray) {
  const std::vector<std::string_view> none;
  EventsBody body(OutputFormat::kJson, none, 3);
  EXPECT_EQ(drain(body, 64), "[]\n");
}

TEST(EventsBody, ReadBodyGathersItAndChecksTheSize) {
  const std::vector<std::string> storage = sample_events();
  const std::vector<std::string_view> events(storage.begin(), storage.end());
  const std::string expected = encoded(OutputFormat::kNdjson, events);
  EventsBody exact(OutputFormat::kNdjson, events, expected.size());
  Result<std::string> whole = aws::read_body(exact);
  ASSERT_TRUE(whole.ok()) << whole.error().to_string();
  EXPECT_EQ(*whole, expected);

  // A size that does not match what the source produces is refused, either way.
  EventsBody longer(OutputFormat::kNdjson, events, expected.size() + 1);
  const Result<std::string> short_read = aws::read_body(longer);
  ASSERT_FALSE(short_read.ok());
  EXPECT_EQ(short_read.error().kind, ErrorKind::kInvalidData);
  EventsBody shorter(OutputFormat::kNdjson, events, expected.size() - 1);
  const Result<std::string> long_read = aws::read_body(shorter);
  ASSERT_FALSE(long_read.ok());
  EXPECT_NE(long_read.error().message.find("more than"), std::string::npos) << long_read.error().message;
}

}  // namespace
}  // namespace es::exporter
