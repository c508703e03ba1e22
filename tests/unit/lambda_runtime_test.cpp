// The Runtime API client and loop against a scripted HTTP client: next-invocation headers,
// response and error posts, init errors, a throwing handler, an unreachable API.

#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/log.h"
#include "lambda/event.h"
#include "lambda/runtime_loop.h"
#include "support/fake_http.h"

namespace es::lambda {
namespace {

using es::testing::FakeHttpClient;

struct Fixture {
  FakeHttpClient* http = nullptr;
  std::optional<RuntimeApiClient> api;
  std::vector<std::chrono::milliseconds> waits;
  LoopOptions options;

  Fixture() {
    log::set_sink([](std::string_view) {});
    auto fake = std::make_unique<FakeHttpClient>();
    http = fake.get();
    api.emplace(RuntimeApiClient::make("127.0.0.1:9001", std::move(fake)).value());
    options.sleeper = [this](std::chrono::milliseconds d) { waits.push_back(d); };
  }
  ~Fixture() { log::set_sink({}); }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  void invocation(std::string id, std::string payload) {
    http->reply(200, std::move(payload),
                {{"lambda-runtime-aws-request-id", std::move(id)},
                 {"lambda-runtime-deadline-ms", "1764414300000"},
                 {"lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:es"},
                 {"lambda-runtime-trace-id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1"}});
  }
};

TEST(RuntimeApiClient, RefusesAnEndpointThatIsNotHostPort) {
  for (std::string_view bad : {"", "http://127.0.0.1:9001", "127.0.0.1:9001/x", "a b:1"}) {
    auto api = RuntimeApiClient::make(bad, std::make_unique<FakeHttpClient>());
    ASSERT_FALSE(api.ok()) << bad;
    EXPECT_EQ(api.error().resource, "AWS_LAMBDA_RUNTIME_API");
  }
}

TEST(RuntimeApiClient, NextReadsTheInvocationHeaders) {
  Fixture f;
  f.invocation("8476a536-e9f4-11e8-9739-2dfe598c3fcd", R"({"hour":"2026-11-29T10"})");
  auto next = f.api->next();
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_EQ(next->request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
  EXPECT_EQ(next->deadline_ms, 1764414300000);
  EXPECT_EQ(next->function_arn, "arn:aws:lambda:us-east-1:123456789012:function:es");
  EXPECT_EQ(next->trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1");
  EXPECT_EQ(next->payload, R"({"hour":"2026-11-29T10"})");
  EXPECT_EQ(f.http->requests[0].method, "GET");
  EXPECT_EQ(f.http->requests[0].url, "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next");
}

TEST(RuntimeApiClient, NextWithoutRequestIdIsAnError) {
  Fixture f;
  f.http->reply(200, "{}");
  EXPECT_FALSE(f.api->next().ok());
  f.http->reply(500, "boom");
  auto next = f.api->next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().http_status, 500);
}

TEST(RuntimeApiClient, PostsErrorsInTheDocumentedShape) {
  Fixture f;
  f.http->reply(202, R"({"status":"OK"})");
  ASSERT_TRUE(f.api->post_error("id-1", {"InvalidEvent", "the payload is \"bad\""}).ok());
  const auto& r = f.http->requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:9001/2018-06-01/runtime/invocation/id-1/error");
  EXPECT_EQ(r.header("Lambda-Runtime-Function-Error-Type"), "InvalidEvent");
  EXPECT_EQ(r.body,
            R"({"errorMessage":"the payload is \"bad\"","errorType":"InvalidEvent","stackTrace":[]})");

  f.http->reply(202, "{}");
  ASSERT_TRUE(f.api->post_init_error({"InvalidConfiguration", "OUTPUT_FORMAT: 'xml'"}).ok());
  EXPECT_EQ(f.http->requests[1].url, "http://127.0.0.1:9001/2018-06-01/runtime/init/error");

  f.http->reply(413, R"({"errorMessage":"too large"})");
  EXPECT_FALSE(f.api->post_response("id-2", "{}").ok());
}

TEST(RuntimeLoop, RespondsOrReportsEachInvocation) {
  Fixture f;
  f.invocation("ok-1", R"({"hour":"2026-11-29T10"})");
  f.http->reply(202, "{}");
  f.invocation("bad-2", "not json");
  f.http->reply(202, "{}");
  f.invocation("boom-3", "throw");
  f.http->reply(202, "{}");
  f.options.max_invocations = 3;
  std::vector<std::string> seen;
  auto status = run_loop(
      *f.api,
      [&seen](const InvocationRequest& request) -> Result<std::string> {
        seen.push_back(request.request_id);
        if (request.payload == "throw") throw std::runtime_error("kaboom");
        auto event = parse_event(request.payload);
        if (!event.ok()) return event.error();
        return std::string(R"({"events_read":0})");
      },
      f.options);
  ASSERT_TRUE(status.ok()) << status.error().to_string();
  EXPECT_EQ(seen, (std::vector<std::string>{"ok-1", "bad-2", "boom-3"}));
  ASSERT_EQ(f.http->requests.size(), 6u);
  EXPECT_EQ(f.http->requests[1].url, "http://127.0.0.1:9001/2018-06-01/runtime/invocation/ok-1/response");
  EXPECT_EQ(f.http->requests[1].body, R"({"events_read":0})");

  EXPECT_EQ(f.http->requests[3].url, "http://127.0.0.1:9001/2018-06-01/runtime/invocation/bad-2/error");
  simdjson::dom::parser parser;
  simdjson::dom::element error = parser.parse(f.http->requests[3].body);
  EXPECT_EQ(std::string_view(error["errorType"]), "InvalidEvent");
  EXPECT_NE(std::string_view(error["errorMessage"]).find("not JSON"), std::string_view::npos);

  EXPECT_EQ(f.http->requests[5].url, "http://127.0.0.1:9001/2018-06-01/runtime/invocation/boom-3/error");
  simdjson::dom::element internal = parser.parse(f.http->requests[5].body);
  EXPECT_EQ(std::string_view(internal["errorType"]), "InternalError");
  EXPECT_NE(std::string_view(internal["errorMessage"]).find("kaboom"), std::string_view::npos);
  EXPECT_STREQ(std::getenv("_X_AMZN_TRACE_ID"), "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1");
}

TEST(RuntimeLoop, GivesUpWhenTheApiStaysUnreachable) {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.http->fail();
  f.options.max_next_failures = 3;
  auto status = run_loop(
      *f.api, [](const InvocationRequest&) -> Result<std::string> { return std::string("{}"); }, f.options);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(f.http->requests.size(), 3u);
  EXPECT_EQ(f.waits.size(), 2u);
}

TEST(RuntimeLoop, AnOversizedResponseBecomesAnError) {
  Fixture f;
  f.invocation("big-1", "{}");
  f.http->reply(202, "{}");
  f.options.max_invocations = 1;
  auto status = run_loop(
      *f.api,
      [](const InvocationRequest&) -> Result<std::string> { return std::string(kMaxResponseBytes + 1, ' '); },
      f.options);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(f.http->requests[1].header("Lambda-Runtime-Function-Error-Type"), "ResponseTooLarge");
}

}  // namespace
}  // namespace es::lambda
