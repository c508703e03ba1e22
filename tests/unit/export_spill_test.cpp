// Spill files, sorted runs and the k-way merge that lets an hour of any size go out with bounded memory.

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
