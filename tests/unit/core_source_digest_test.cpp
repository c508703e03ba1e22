#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/source_digest.h"

namespace es {
namespace {

struct Event {
  std::string id;
  std::string bytes;
};

SourceDigest digest_of(const std::vector<Event>& events) {
  SourceDigestSum sum;
  for (const Event& e : events) sum.add(e.id, e.bytes);
  return sum.result();
}

const std::vector<Event> kEvents = {
    {"e1", R"({"eventId":"e1","n":1})"}, {"e2", R"({"eventId":"e2","n":2})"}, {"e3", R"({"eventId":"e3"})"}};

TEST(SourceDigest, TheOrderOfEventsDoesNotMatter) {
  const std::vector<Event> reversed(kEvents.rbegin(), kEvents.rend());
  EXPECT_EQ(digest_of(kEvents), digest_of(reversed));
  EXPECT_EQ(digest_of(kEvents).events, 3U);
  EXPECT_EQ(digest_of(kEvents).digest.size(), 64U);
}

TEST(SourceDigest, PartialSumsAddUpToTheWhole) {
  SourceDigestSum a;
  a.add(kEvents[0].id, kEvents[0].bytes);
  SourceDigestSum b;
  b.add(kEvents[1].id, kEvents[1].bytes);
  b.add(kEvents[2].id, kEvents[2].bytes);
  a += b;
  EXPECT_EQ(a.result(), digest_of(kEvents));
}

TEST(SourceDigest, ALateChangedOrRemovedEventChangesIt) {
  const SourceDigest base = digest_of(kEvents);
  std::vector<Event> late = kEvents;
  late.push_back({"e4", "{}"});
  EXPECT_NE(digest_of(late).digest, base.digest);
  std::vector<Event> changed = kEvents;
  changed[1].bytes = R"({"eventId":"e2","n":3})";
  EXPECT_NE(digest_of(changed).digest, base.digest);
  EXPECT_EQ(digest_of(changed).events, base.events);
  std::vector<Event> removed(kEvents.begin(), kEvents.end() - 1);
  EXPECT_NE(digest_of(removed).digest, base.digest);
  // The id and the bytes are kept apart: moving a byte from one to the other is a change.
  EXPECT_NE(digest_of({{"ab", "c"}}).digest, digest_of({{"a", "bc"}}).digest);
  // A duplicate is not cancelled (a sum, not an exclusive or).
  EXPECT_NE(digest_of({kEvents[0], kEvents[0]}).digest, digest_of({}).digest);
}

TEST(SourceDigest, TheEmptyHourIsZero) {
  EXPECT_EQ(digest_of({}).digest, std::string(64, '0'));
  EXPECT_EQ(digest_of({}).events, 0U);
}

TEST(SourceDigest, ParseReadsBackWhatResultWrote) {
  // Many events, so that additions carry across every 64-bit word.
  SourceDigestSum sum;
  for (int i = 0; i < 1000; ++i) sum.add(std::to_string(i), "x");
  SourceDigestSum back;
  ASSERT_TRUE(SourceDigestSum::parse(sum.result(), back));
  EXPECT_EQ(back.result(), sum.result());
  // Adding to the parsed sum is adding to the original.
  sum.add("more", "y");
  back.add("more", "y");
  EXPECT_EQ(back.result(), sum.result());

  SourceDigestSum bad;
  EXPECT_FALSE(SourceDigestSum::parse({1, "abc"}, bad));
  EXPECT_FALSE(SourceDigestSum::parse({1, std::string(63, '0') + "G"}, bad));
  EXPECT_FALSE(SourceDigestSum::parse({1, std::string(64, 'A')}, bad));
}

}  // namespace
}  // namespace es
