// core/json_reader.h: typed reads, the document and field path in every error, missing and null
// members, nesting, text that is not JSON; and core/event_json.h, the event-line reads of `verify`.

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "core/event_json.h"
#include "core/json_reader.h"

namespace es::json {
namespace {

Value parse(std::string_view text, std::string_view name = "manifest") {
  auto v = parse_document(text, name);
  EXPECT_TRUE(v.ok()) << text << ": " << (v.ok() ? "" : v.error().message);
  return *v;
}

template <typename T>
std::string error_of(const Result<T>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidData);
  return r.error().resource + ": " + r.error().message;
}

TEST(JsonReader, ReadsEachType) {
  const Value v = parse(
      R"({"s":"text","t":true,"f":false,"i":-5,"u":18446744073709551615,"d":1.5,"z":0,"a":[1,2],"o":{"k":"v"},"n":null})");
  EXPECT_EQ(*v.string("s"), "text");
  EXPECT_TRUE(*v.boolean("t"));
  EXPECT_FALSE(*v.boolean("f"));
  EXPECT_EQ(*v.int64("i"), -5);
  EXPECT_EQ(*v.uint64("u"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(*v.uint64("z"), 0u);
  EXPECT_DOUBLE_EQ(*v.number("d"), 1.5);
  EXPECT_DOUBLE_EQ(*v.number("i"), -5.0);
  EXPECT_EQ(v.array("a")->size(), 2u);
  EXPECT_TRUE((*v["o"]).is_object());
  EXPECT_TRUE((*v["n"]).is_null());
  const auto members = v.members();
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 10u);
  EXPECT_EQ((*members)[0].first, "s");  // document order
  EXPECT_EQ((*members)[9].first, "n");
}

TEST(JsonReader, WrongTypesNameTheFieldAndWhatWasFound) {
  const Value v = parse(R"({"s":"text","i":-5,"d":1.5,"a":[],"o":{}})");
  EXPECT_EQ(error_of(v.int64("s")), "manifest: s: expected a whole number, found a string");
  EXPECT_EQ(error_of(v.uint64("i")), "manifest: i: expected a whole number >= 0, found a number");
  EXPECT_EQ(error_of(v.int64("d")), "manifest: d: expected a whole number, found a number");
  EXPECT_EQ(error_of(v.string("a")), "manifest: a: expected a string, found an array");
  EXPECT_EQ(error_of(v.boolean("o")), "manifest: o: expected true or false, found an object");
  EXPECT_EQ(error_of(v.array("o")), "manifest: o: expected an array, found an object");
  EXPECT_EQ(error_of((*v["s"])["x"]), "manifest: s: expected an object, found a string");
  EXPECT_EQ(error_of(v.string()), "manifest: (document): expected a string, found an object");
}

TEST(JsonReader, PathsThroughArraysAndObjects) {
  const Value v =
      parse(R"({"objects":[{"status":"delivered"},{"status":7,"window":{"start":"not a time"}}]})");
  const auto objects = v.array("objects");
  ASSERT_TRUE(objects.ok());
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[1].path(), "objects[1]");
  EXPECT_EQ(*(*objects)[0].string("status"), "delivered");
  EXPECT_EQ(error_of((*objects)[1].string("status")),
            "manifest: objects[1].status: expected a string, found a number");
  const auto window = (*objects)[1]["window"];
  ASSERT_TRUE(window.ok());
  EXPECT_EQ(window->path(), "objects[1].window");
  EXPECT_NE(error_of(window->instant("start")).find("manifest: objects[1].window.start: "),
            std::string::npos);
  EXPECT_EQ(window->error("bad").message, "objects[1].window: bad");
}

TEST(JsonReader, MissingAndNullMembers) {
  const Value v = parse(R"({"present":"x","nothing":null})");
  EXPECT_EQ(error_of(v["absent"]), "manifest: absent: missing");
  EXPECT_EQ(error_of(v.string("absent")), "manifest: absent: missing");
  EXPECT_EQ(error_of(v.string("nothing")), "manifest: nothing: expected a string, found null");
  // optional: absent and null are both "not there"
  EXPECT_FALSE(v.optional("absent")->has_value());
  EXPECT_FALSE(v.optional("nothing")->has_value());
  EXPECT_EQ((*v.optional("present"))->path(), "present");
  EXPECT_EQ(*v.string_or_empty("absent"), "");
  EXPECT_EQ(*v.string_or_empty("nothing"), "");
  EXPECT_EQ(*v.string_or_empty("present"), "x");
  // has: null is there, absent is not
  EXPECT_TRUE(v.has("nothing"));
  EXPECT_TRUE(v.has("present"));
  EXPECT_FALSE(v.has("absent"));
  EXPECT_FALSE((*v["present"]).has("x"));  // not an object
  // a nested missing member names its whole path
  const Value n = parse(R"({"a":{"b":[{"c":{}}]}})");
  EXPECT_EQ(error_of((*(*(*n["a"]).array("b"))[0]["c"]).string("d")), "manifest: a.b[0].c.d: missing");
}

TEST(JsonReader, NestedValuesKeepTheirDocumentAlive) {
  Value inner = parse("{}");
  {
    const Value doc = parse(R"({"a":{"b":{"c":"deep"}}})", "plan");
    inner = *(*doc["a"])["b"];
  }
  EXPECT_EQ(*inner.string("c"), "deep");
  EXPECT_EQ(error_of(inner.string("x")), "plan: a.b.x: missing");
}

TEST(JsonReader, WritesAValueBackAsCompactJson) {
  const Value v = parse(R"({ "key" : { "eventId" : { "S" : "a\"b\n" } , "n" : [ 1 , -2 , true , null ] } })");
  EXPECT_EQ((*v["key"]).json(), R"({"eventId":{"S":"a\"b\n"},"n":[1,-2,true,null]})");
}

TEST(JsonReader, TextThatIsNotJsonNamesTheDocument) {
  for (const std::string_view text : {"", "{", "not json", R"({"a":1,})", "[1 2]", R"({"a":"\x"})"}) {
    auto v = parse_document(text, "lambda event");
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.error().kind, ErrorKind::kInvalidData);
    EXPECT_EQ(v.error().resource, "lambda event");
    EXPECT_TRUE(v.error().message.starts_with("not JSON: ")) << v.error().message;
    EXPECT_FALSE(not_json_reason(v.error()).empty());
    EXPECT_FALSE(not_json_reason(v.error()).starts_with("not JSON"));
  }
  // Not an object at the root is JSON: the reads say what was found.
  const Value array = parse("[1,2]");
  EXPECT_FALSE(array.is_object());
  EXPECT_EQ(error_of(array["a"]), "manifest: (document): expected an object, found an array");
  EXPECT_EQ(error_of(array.members()), "manifest: (document): expected an object, found an array");
  EXPECT_EQ(array.array()->at(1).path(), "[1]");
}

TEST(JsonReader, NestingBeyondTheLimitIsNotOneOfOurDocuments) {
  // A DynamoDB item nested 32 levels deep, inside an answer, is read; far deeper text is not.
  EXPECT_TRUE(parse_document(std::string(100, '[') + std::string(100, ']'), "doc").ok());
  EXPECT_FALSE(parse_document(std::string(200, '[') + std::string(200, ']'), "doc").ok());
}

}  // namespace
}  // namespace es::json

namespace es {
namespace {

TEST(EventLineReader, ReadsTimeAndIdInAnyOrder) {
  EventLineReader reader("time", "eventId");
  auto a = reader.read(R"({"clientId":"c","eventId":"e1","time":"2026-11-29T10:00:00Z"})");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->id, "e1");
  auto b = reader.read(R"({"time":1795946400,"eventId":42})");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->time_us, a->time_us);
  EXPECT_EQ(b->id, "42");
  auto c = reader.read(R"({"time":1795946400000})");  // milliseconds, no id
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->time_us, a->time_us);
  EXPECT_EQ(c->id, "");
}

TEST(EventLineReader, SaysWhatIsWrong) {
  EventLineReader reader("time", "eventId");
  EXPECT_EQ(reader.read("[1]").error().message, "not a JSON object");
  EXPECT_EQ(reader.read("nope").error().message, "not a JSON object");
  EXPECT_EQ(reader.read(R"({"eventId":"e"})").error().message, "no time attribute 'time'");
  EXPECT_EQ(reader.read(R"({"time":true})").error().message,
            "attribute 'time' is neither a string nor a number");
  EXPECT_TRUE(reader.read(R"({"time":"yesterday"})")
                  .error()
                  .message.starts_with("time 'yesterday' does not parse: "));
}

TEST(CountJsonArrayElements, CountsOrSaysWhy) {
  EXPECT_EQ(*count_json_array_elements("[]", "rejected file"), 0u);
  EXPECT_EQ(*count_json_array_elements(R"([{"a":[1,2]},{"b":{}}, 3])", "rejected file"), 3u);
  auto not_array = count_json_array_elements(R"({"a":1})", "rejected file");
  ASSERT_FALSE(not_array.ok());
  EXPECT_EQ(not_array.error().resource, "rejected file");
  EXPECT_TRUE(not_array.error().message.starts_with("not a JSON array")) << not_array.error().message;
  EXPECT_FALSE(count_json_array_elements("[1,", "rejected file").ok());
}

}  // namespace
}  // namespace es
