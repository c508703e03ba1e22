// Spill files, sorted runs and the k-way merge that lets an hour of any size go out with bounded memory.

#include <cstring>
#include <memory>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "export/spill.h"

namespace es::exporter {
namespace {

std::vector<StoredEvent> make_events(ClientEvents& store, int n, std::mt19937& rng,
                                     std::size_t big_every = 0) {
  for (int i = 0; i < n; ++i) {
    const std::int64_t t = static_cast<std::int64_t>(rng() % 1000);  // many ties on time
    const std::string id = fmt::format("id{:05}", rng() % 100000);
    std::string body = fmt::format(R"({{"eventId":"{}","n":{}}})", id, i);
    if (big_every != 0 && i % static_cast<int>(big_every) == 0) body += std::string(200'000, 'x');
    store.add(t, body, id);
  }
  return store.events;
}

// The merger yields exactly `expected`, in order.
void expect_merges_to(EventMerger& merger, const std::vector<StoredEvent>& expected) {
  std::size_t i = 0;
  StoredEvent e;
  for (;;) {
    auto more = merger.next(e);
    ASSERT_TRUE(more.ok()) << more.error().to_string();
    if (!*more) break;
    ASSERT_LT(i, expected.size());
    ASSERT_EQ(e.time_us, expected[i].time_us) << "at " << i;
    ASSERT_EQ(e.id(), expected[i].id()) << "at " << i;
    ASSERT_EQ(e.body(), expected[i].body()) << "at " << i;
    ++i;
  }
  EXPECT_EQ(i, expected.size());
}

TEST(Spill, RunsMergeBackIntoTheSameOrderAsAnInMemorySort) {
  std::mt19937 rng(42);
  auto file = SpillFile::create("/tmp");
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  BlockPool pool;
  ClientEvents a(pool);
  ClientEvents b(pool);
  ClientEvents c(pool);
  ClientEvents mem(pool);
  auto ea = make_events(a, 1300, rng);  // more than one flush of the run buffer
  auto eb = make_events(b, 1, rng);
  auto ec = make_events(c, 300, rng, 97);  // records larger than the read buffer
  auto em = make_events(mem, 200, rng);
  std::vector<StoredEvent> expected;
  for (auto* v : {&ea, &eb, &ec, &em}) expected.insert(expected.end(), v->begin(), v->end());
  std::sort(expected.begin(), expected.end(), event_before);

  std::vector<SpilledRun> runs;
  std::string scratch;
  for (auto* v : {&ea, &eb, &ec}) {
    auto run = write_run(*file, *v, scratch);
    ASSERT_TRUE(run.ok()) << run.error().to_string();
    runs.push_back(*run);
  }
  std::vector<StoredEvent> empty;
  auto none = write_run(*file, empty, scratch);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->events, 0u);
  runs.push_back(*none);
  std::sort(em.begin(), em.end(), event_before);

  EventMerger merger(em, runs, 8192);
  expect_merges_to(merger, expected);
}

TEST(Spill, ManyRunsOfUnevenLengthsMergeInOrder) {
  // As many sources as a spilling hour gives a client (a deep heap), ending at different times.
  std::mt19937 rng(7);
  auto file = SpillFile::create("/tmp");
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  BlockPool pool;
  std::vector<std::unique_ptr<ClientEvents>> stores;
  std::vector<StoredEvent> expected;
  std::vector<SpilledRun> runs;
  std::string scratch;
  for (int r = 0; r < 40; ++r) {
    stores.push_back(std::make_unique<ClientEvents>(pool));
    auto events = make_events(*stores.back(), static_cast<int>(rng() % 120), rng);
    expected.insert(expected.end(), events.begin(), events.end());
    auto run = write_run(*file, events, scratch);
    ASSERT_TRUE(run.ok()) << run.error().to_string();
    runs.push_back(*run);
  }
  std::sort(expected.begin(), expected.end(), event_before);

  EventMerger merger({}, runs, 4096);
  expect_merges_to(merger, expected);
}

TEST(Spill, ARunIsTheRecordLayoutInOutputOrder) {
  auto file = SpillFile::create("/tmp");
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  BlockPool pool;
  ClientEvents client(pool);
  client.add(20, "{\"b\":1}", "id-b");
  client.add(10, "{\"a\":1}", "id-a");
  std::string expected;
  append_run_record(expected, client.events[1]);
  append_run_record(expected, client.events[0]);
  std::string scratch;
  auto run = write_run(*file, client.events, scratch);
  ASSERT_TRUE(run.ok()) << run.error().to_string();
  EXPECT_EQ(run->events, 2u);
  EXPECT_EQ(run->body_bytes, 14u);
  ASSERT_EQ(run->bytes, expected.size());
  std::string bytes(expected.size(), '\0');
  ASSERT_TRUE((*file)->read_at(run->offset, bytes.data(), bytes.size()).ok());
  EXPECT_EQ(bytes, expected);
}

// A run held in memory, counting the bytes asked of it.
class BytesRun final : public RunSource {
 public:
  explicit BytesRun(std::string bytes) : bytes_(std::move(bytes)) {}
  Status read_at(std::uint64_t offset, char* out, std::size_t n) const override {
    if (offset + n > bytes_.size()) return Error::io("bytes", "read past the end");
    std::memcpy(out, bytes_.data() + offset, n);
    return ok_status();
  }
  [[nodiscard]] std::string name() const override { return "ops/staging/run-7"; }

 private:
  std::string bytes_;
};

// Reads a whole run of these bytes; the first error, if any.
Status read_all(std::string bytes) {
  SpilledRun run;
  run.bytes = bytes.size();
  run.file = std::make_shared<BytesRun>(std::move(bytes));
  RunReader reader(run, 4096);
  StoredEvent e;
  for (;;) {
    ES_ASSIGN_OR_RETURN(const bool more, reader.next(e));
    if (!more) return ok_status();
  }
}

std::string two_records() {
  BlockPool pool;
  ClientEvents client(pool);
  client.add(10, "{\"a\":1}", "id-a");
  client.add(20, std::string(5000, 'b'), "id-b");  // larger than the reader's buffer
  std::string bytes;
  for (const StoredEvent& e : client.events) append_run_record(bytes, e);
  return bytes;
}

TEST(Spill, ACorruptedLengthFailsTheRunBeforeAnyAllocation) {
  ASSERT_TRUE(read_all(two_records()).ok());
  for (const std::size_t at : {std::size_t{8}, std::size_t{12}}) {  // body length, id length
    std::string bytes = two_records();
    const std::uint32_t huge = 0xfffffff0u;  // 4 GiB: allocating it would be the failure
    std::memcpy(bytes.data() + at, &huge, sizeof huge);
    const Status read = read_all(bytes);
    ASSERT_FALSE(read.ok()) << at;
    EXPECT_EQ(read.error().kind, ErrorKind::kInvalidData) << read.error().to_string();
    EXPECT_NE(read.error().to_string().find("ops/staging/run-7"), std::string::npos)
        << read.error().to_string();
  }
  // The second record's body length, one byte more than the run holds.
  std::string bytes = two_records();
  const std::size_t second = 16 + 7 + 4;
  std::uint32_t body = 0;
  std::memcpy(&body, bytes.data() + second + 8, sizeof body);
  ++body;
  std::memcpy(bytes.data() + second + 8, &body, sizeof body);
  const Status read = read_all(bytes);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().kind, ErrorKind::kInvalidData) << read.error().to_string();
}

TEST(Spill, ATruncatedRunFailsWithInvalidData) {
  const std::string bytes = two_records();
  for (const std::size_t keep : {std::size_t{5}, std::size_t{16 + 3}, bytes.size() - 1}) {
    const Status read = read_all(bytes.substr(0, keep));
    ASSERT_FALSE(read.ok()) << keep;
    EXPECT_EQ(read.error().kind, ErrorKind::kInvalidData) << read.error().to_string();
  }
}

TEST(Spill, EmptyMergeEndsAtOnce) {
  EventMerger merger({}, {}, 4096);
  StoredEvent e;
  auto more = merger.next(e);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(Spill, AMissingDirectoryIsAnIoErrorNamingIt) {
  auto file = SpillFile::create("/nonexistent/eaglesense");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().kind, ErrorKind::kIo);
  EXPECT_NE(file.error().to_string().find("EAGLESENSE_SPILL_DIR"), std::string::npos)
      << file.error().to_string();
}

}  // namespace
}  // namespace es::exporter
