// StepFunctionsClient: the StartExecution request (JSON 1.0, target, signing name "states"), its
// answer, and its errors (ExecutionAlreadyExists is a final error naming the state machine).

#include <gtest/gtest.h>

#include "aws/stepfunctions_client.h"
#include "core/json_reader.h"
#include "support/fake_http.h"

namespace es::aws {
namespace {

using es::testing::FakeHttpClient;

constexpr std::string_view kArn = "arn:aws:states:us-east-1:123456789012:stateMachine:es-export";

struct Fixture {
  FakeHttpClient* http = nullptr;
  std::unique_ptr<StepFunctionsClient> client;

  Fixture() {
    auto context = std::make_shared<ServiceContext>();
    context->endpoint = Endpoint{"http", "127.0.0.1", 4566, true};
    context->signing = SigningParams{"us-east-1", "states", false};
    context->credentials = make_static_credentials({"AKIDTEST", "secret", "", std::nullopt, "test"});
    context->retry = make_standard_retry_policy(
        {3, std::chrono::milliseconds(1), std::chrono::milliseconds(2), std::chrono::milliseconds(10)}, 7);
    context->sleeper = [](std::chrono::milliseconds) {};
    auto fake = std::make_unique<FakeHttpClient>();
    http = fake.get();
    client = std::make_unique<StepFunctionsClient>(std::move(context), std::move(fake));
  }
};

TEST(StepFunctionsClient, StartsAnExecutionAndReturnsItsArn) {
  Fixture f;
  f.http->reply(
      200,
      R"({"executionArn":"arn:aws:states:us-east-1:123456789012:execution:es-export:hour-2026-11-29T10",)"
      R"("startDate":1.7e9})");
  auto arn = f.client->start_execution(kArn, "hour-2026-11-29T10", R"({"hour":"2026-11-29T10"})");
  ASSERT_TRUE(arn.ok()) << arn.error().to_string();
  EXPECT_EQ(*arn, "arn:aws:states:us-east-1:123456789012:execution:es-export:hour-2026-11-29T10");
  ASSERT_EQ(f.http->requests.size(), 1u);
  const auto& sent = f.http->requests[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.header("X-Amz-Target"), "AWSStepFunctions.StartExecution");
  EXPECT_EQ(sent.header("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_NE(sent.header("Authorization").find("/us-east-1/states/aws4_request"), std::string::npos);
  auto body = json::parse_document(sent.body, "request");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body->string("stateMachineArn"), kArn);
  EXPECT_EQ(*body->string("name"), "hour-2026-11-29T10");
  EXPECT_EQ(*body->string("input"), R"({"hour":"2026-11-29T10"})");  // a JSON document as a string
}

TEST(StepFunctionsClient, ASecondExecutionOfTheSameNameIsAFinalError) {
  Fixture f;
  f.http->reply(400, R"({"__type":"ExecutionAlreadyExists","message":"Execution Already Exists: 'x'"})");
  auto arn = f.client->start_execution(kArn, "hour-2026-11-29T10", "{}");
  ASSERT_FALSE(arn.ok());
  EXPECT_EQ(arn.error().code, kExecutionAlreadyExists);
  EXPECT_FALSE(arn.error().retryable);
  EXPECT_EQ(arn.error().operation, "StepFunctions.StartExecution");
  EXPECT_EQ(arn.error().resource, kArn);
  EXPECT_EQ(f.http->requests.size(), 1u);
}

TEST(StepFunctionsClient, ThrottlingIsRetried) {
  Fixture f;
  f.http->reply(400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})");
  f.http->reply(200, R"({"executionArn":"arn:x","startDate":1})");
  auto arn = f.client->start_execution(kArn, "hour-2026-11-29T10", "{}");
  ASSERT_TRUE(arn.ok()) << arn.error().to_string();
  EXPECT_EQ(f.http->requests.size(), 2u);
}

TEST(StepFunctionsClient, ExecutionNamesAreCheckedBeforeAnyRequest) {
  EXPECT_TRUE(valid_execution_name("hour-2026-11-29T10"));
  EXPECT_TRUE(valid_execution_name(std::string(80, 'a')));
  EXPECT_FALSE(valid_execution_name(""));
  EXPECT_FALSE(valid_execution_name(std::string(81, 'a')));
  EXPECT_FALSE(valid_execution_name("hour 10"));
  EXPECT_FALSE(valid_execution_name("hour:10"));
  Fixture f;
  auto refused = f.client->start_execution(kArn, "hour:10", "{}");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(f.http->requests.empty());
}

}  // namespace
}  // namespace es::aws
