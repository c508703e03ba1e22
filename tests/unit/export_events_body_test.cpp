// Objects produced while they are sent (EventsBody over an EventSource): byte for byte the object
// encode_object builds, however the transport sizes its reads, again after a rewind, and from events
// merged with spilled runs as from events in memory; hash_object describes exactly those bytes.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "aws/http.h"
#include "core/encode.h"
#include "core/hash.h"
#include "export/spill.h"
#include "export/upload_stage.h"

namespace es::exporter {
namespace {

// A client's events and the memory they lie in.
struct Sample {
  std::unique_ptr<BlockPool> pool = std::make_unique<BlockPool>();
  ClientEvents client{*pool};
  std::vector<StoredEvent> events;
};

// 202 events in time order; one larger than any read below.
Sample sample_events() {
  Sample sample;
  ClientEvents& client = sample.client;
  for (int i = 0; i < 200; ++i) {
    client.add(1000 + i,
               R"({"eventId":"e)" + std::to_string(i) + R"(","data":")" +
                   std::string(static_cast<std::size_t>(i * 37 % 300), 'x') + "\"}",
               "e" + std::to_string(i));
  }
  client.add(2000, R"({"eventId":"big","data":")" + std::string(100'000, 'y') + "\"}", "big");
  client.add(2001, R"({"eventId":"last"})", "last");
  sample.events = client.events;
  return sample;
}

std::string encoded(OutputFormat format, const std::vector<StoredEvent>& events) {
  std::vector<std::string_view> bodies;
  for (const StoredEvent& e : events) bodies.push_back(e.body());
  std::string object;
  StringSink sink(object);
  EXPECT_TRUE(encode_object(format, Compression::kNone, bodies, sink).ok());
  return object;
}

// Reads the whole body in reads of `room` bytes, as a transport would.
std::string drain(EventsBody& body, std::size_t room) {
  std::string out;
  std::string buffer(room, '\0');
  for (;;) {
    Result<std::size_t> n = body.read(buffer.data(), room);
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().to_string());
    if (!n.ok() || *n == 0) break;
    EXPECT_LE(*n, room);
    out.append(buffer, 0, *n);
  }
  return out;
}

TEST(EventsBody, ProducesTheEncodedObjectWhateverTheReadSize) {
  const Sample client = sample_events();
  SortedEvents source(client.events);
  for (const OutputFormat format : {OutputFormat::kJson, OutputFormat::kNdjson}) {
    const std::string expected = encoded(format, client.events);
    for (const std::size_t room :
         {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{65536}, std::size_t{1} << 20}) {
      EventsBody body(format, source, expected.size());
      EXPECT_EQ(body.size(), expected.size());
      EXPECT_EQ(drain(body, room), expected) << "format " << to_string(format) << ", reads of " << room;
      body.rewind();
      EXPECT_EQ(drain(body, room), expected) << "after a rewind, reads of " << room;
    }
  }
}

TEST(EventsBody, RewindsInTheMiddleOfAnEvent) {
  const Sample client = sample_events();
  const std::string expected = encoded(OutputFormat::kJson, client.events);
  SortedEvents source(client.events);
  EventsBody body(OutputFormat::kJson, source, expected.size());
  std::string buffer(5000, '\0');
  ASSERT_TRUE(body.read(buffer.data(), buffer.size()).ok());  // leaves part of an event pending
  body.rewind();
  EXPECT_EQ(drain(body, 4096), expected);
}

TEST(EventsBody, AnObjectWithoutEventsIsAnEmptyArray) {
  const std::vector<StoredEvent> none;
  SortedEvents source(none);
  EventsBody body(OutputFormat::kJson, source, 3);
  EXPECT_EQ(drain(body, 64), "[]\n");
}

TEST(EventsBody, HashObjectDescribesTheBytesTheBodyProduces) {
  const Sample client = sample_events();
  SortedEvents source(client.events);
  const std::string expected = encoded(OutputFormat::kNdjson, client.events);
  Result<ObjectPass> pass = hash_object(OutputFormat::kNdjson, source);
  ASSERT_TRUE(pass.ok()) << pass.error().to_string();
  EXPECT_EQ(pass->bytes, expected.size());
  EXPECT_EQ(pass->digest, sha256(expected));
  EXPECT_EQ(pass->events, client.events.size());
  EXPECT_EQ(pass->min_time_us, 1000);
  EXPECT_EQ(pass->max_time_us, 2001);

  EventsBody exact(OutputFormat::kNdjson, source, pass->bytes);
  Result<std::string> whole = aws::read_body(exact);
  ASSERT_TRUE(whole.ok()) << whole.error().to_string();
  EXPECT_EQ(*whole, expected);
  // A size that does not match what the source produces is refused, either way.
  EventsBody longer(OutputFormat::kNdjson, source, pass->bytes + 1);
  const Result<std::string> short_read = aws::read_body(longer);
  ASSERT_FALSE(short_read.ok());
  EXPECT_EQ(short_read.error().kind, ErrorKind::kInvalidData);
  EventsBody shorter(OutputFormat::kNdjson, source, pass->bytes - 1);
  const Result<std::string> long_read = aws::read_body(shorter);
  ASSERT_FALSE(long_read.ok());
  EXPECT_NE(long_read.error().message.find("more than"), std::string::npos) << long_read.error().message;
}

TEST(EventsBody, EventsMergedWithSpilledRunsGiveTheSameObject) {
  const Sample client = sample_events();
  const std::string expected = encoded(OutputFormat::kJson, client.events);
  // Every third event in memory, the others in two runs of a spill file.
  std::vector<StoredEvent> memory;
  std::vector<StoredEvent> first;
  std::vector<StoredEvent> second;
  for (std::size_t i = 0; i < client.events.size(); ++i) {
    (i % 3 == 0 ? memory : i % 3 == 1 ? first : second).push_back(client.events[i]);
  }
  Result<std::shared_ptr<SpillFile>> file = SpillFile::create("/tmp");
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  std::vector<SpilledRun> runs;
  std::string scratch;
  for (std::vector<StoredEvent>* part : {&first, &second}) {
    Result<SpilledRun> run = write_run(*file, *part, scratch);
    ASSERT_TRUE(run.ok()) << run.error().to_string();
    runs.push_back(std::move(run).value());
  }
  ASSERT_TRUE(runs.front().file->local());

  MergedEvents source(memory, runs, 4096);
  Result<ObjectPass> pass = hash_object(OutputFormat::kJson, source);
  ASSERT_TRUE(pass.ok()) << pass.error().to_string();
  EXPECT_EQ(pass->digest, sha256(expected));
  EXPECT_EQ(pass->events, client.events.size());
  EventsBody body(OutputFormat::kJson, source, pass->bytes);
  EXPECT_EQ(drain(body, 65536), expected);
  body.rewind();
  EXPECT_EQ(drain(body, 1000), expected);
  EXPECT_FALSE(source.failed());
}

// A run whose reads fail, as a spill file on a failing disk would.
class BrokenRun final : public RunSource {
 public:
  Status read_at(std::uint64_t, char*, std::size_t) const override {
    return Error::io("spill file", "read failed: Input/output error");
  }
  [[nodiscard]] bool local() const override { return true; }
  [[nodiscard]] std::string name() const override { return "a broken run"; }
};

TEST(EventsBody, ARunThatCannotBeReadFailsTheReadAndSaysSo) {
  const std::vector<StoredEvent> memory;
  std::vector<SpilledRun> runs(1);
  runs[0].file = std::make_shared<BrokenRun>();
  runs[0].bytes = 100;
  runs[0].events = 1;
  MergedEvents source(memory, runs, 4096);
  EventsBody body(OutputFormat::kJson, source, 100);
  std::string buffer(64, '\0');
  const Result<std::size_t> n = body.read(buffer.data(), buffer.size());
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("Input/output error"), std::string::npos) << n.error().to_string();
  EXPECT_TRUE(source.failed());
}

}  // namespace
}  // namespace es::exporter
