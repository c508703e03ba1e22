// `eaglesense lambda`: the AWS Lambda custom runtime. Everything is made once at init (settings,
// ports, one Exporter, the metrics publisher) and reused by every warm invocation; the loop in
// src/lambda owns the Runtime API I/O and the handler does the work.

#include <chrono>
#include <optional>

#include "aws/http.h"
#include "aws/stepfunctions_client.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/log.h"
#include "export/client_allow_list.h"
#include "export/exporter.h"
#include "export/metrics.h"
#include "lambda/handler.h"
#include "lambda/runtime_loop.h"

namespace es::cli {
namespace {

/// Reports a failed init to Lambda (which then shows it and stops the environment) and to the log.
int init_failed(lambda::RuntimeApiClient& api, const Error& error) {
  const int code = report_error(error);
  lambda::FunctionError f;
  f.type = code == kExitConfig ? "InvalidConfiguration" : "InitFailed";
  f.message = error.to_string();
  auto posted = api.post_init_error(f);
  if (!posted.ok()) log::error("lambda.init_error_not_posted", {{"error", posted.error().to_string()}});
  return code;
}

}  // namespace

void LambdaCommand::add_to(CLI::App& app) {
  settings.add_to(app);
}

int LambdaCommand::run() {
  const EnvLookup process = process_environment();
  const std::string runtime_api = process("AWS_LAMBDA_RUNTIME_API").value_or("");
  auto api = lambda::RuntimeApiClient::make(runtime_api,
                                            aws::make_curl_http_client(lambda::runtime_api_http_options()));
  if (!api.ok()) {
    return report_error(Error(api.error()).with_context("config", "AWS_LAMBDA_RUNTIME_API"));
  }

  auto env = settings.environment();
  if (!env.ok()) return init_failed(*api, Error(env.error()).with_context("config"));
  // Unless EAGLESENSE_MEMORY_MB says otherwise, the budget follows the function's memory.
  if (const auto mb = lambda::default_memory_budget_mb(process("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"));
      mb && !(*env)("EAGLESENSE_MEMORY_MB")) {
    *env = layered_environment(*env, map_environment({{"EAGLESENSE_MEMORY_MB", std::to_string(*mb)}}));
  }
  auto config = load_export_config(*env);
  if (!config.ok()) return init_failed(*api, config.error());
  configure_logging(*config, false);

  // The ports are made here to check the endpoints at init, and again at the first invocation
  // when the bucket owner is known (below).
  auto ports = exporter::make_aws_ports(*env, exporter::port_options_for(*config));
  if (!ports.ok()) return init_failed(*api, Error(ports.error()).with_context("config"));
  const MetricsMode metrics_mode = config->metrics.value_or(MetricsMode::kEmf);
  auto metrics = exporter::MetricsPublisher::make(metrics_mode, *env, *config);
  if (!metrics.ok()) return init_failed(*api, metrics.error());

  // Hours stopped by the deadline go to the scale-out state machine, when the stack has one.
  auto deadline = std::make_shared<Deadline>();
  std::unique_ptr<aws::StepFunctionsClient> states;
  if (!config->state_machine_arn.empty()) {
    aws::StepFunctionsOptions sfn;
    sfn.max_attempts = config->max_attempts;
    sfn.insecure_tls = config->insecure_tls;
    sfn.ca_bundle = config->ca_bundle;
    sfn.deadline = deadline;
    auto made = aws::make_stepfunctions_client(*env, sfn);
    if (!made.ok())
      return init_failed(*api, Error(made.error()).with_context("config", "EAGLESENSE_STATE_MACHINE_ARN"));
    states = std::move(*made);
  }

  std::optional<exporter::Exporter> exporter;
  lambda::HandlerContext context;
  context.deadline = deadline;
  if (states) {
    context.start_execution = [&states, arn = config->state_machine_arn](std::string_view name,
                                                                         std::string_view input) {
      return states->start_execution(arn, name, input);
    };
  }
  context.metrics = metrics->get();
  context.emf_out = stdout;
  context.function_name = process("AWS_LAMBDA_FUNCTION_NAME").value_or("");
  context.catch_up_hours = config->catch_up_hours;
  context.hour_budget_us = std::int64_t{config->hour_budget_seconds} * kMicrosPerSecond;
  context.now_us = system_now_us;
  context.peak_rss_bytes = peak_rss_bytes;
  context.report = config->report;
  log::info("lambda.init", {{"function", context.function_name},
                            {"table", config->table},
                            {"ops_bucket", config->ops_bucket},
                            {"metrics", to_string(metrics_mode)},
                            {"catch_up_hours", config->catch_up_hours},
                            {"hour_budget_s", config->hour_budget_seconds},
                            {"report", to_string(config->report)},
                            {"state_machine", config->state_machine_arn}});

  // The exporter is made at the first invocation: its ARN names the function's own account, the
  // default expected owner of every bucket, and the allow-list (EAGLESENSE_CLIENTS=s3://...) is
  // read then, once per environment. A failure fails that invocation; the next one tries again.
  auto loop = lambda::run_loop(*api, [&](const lambda::InvocationRequest& request) -> Result<std::string> {
    if (!exporter) {
      ExportConfig ready = *config;
      if (auto account = lambda::account_of_function_arn(request.function_arn)) {
        ready.default_bucket_owner(*account);
      } else if (!ready.expected_bucket_owner_given) {
        log::warn("lambda.no_account", {{"function_arn", request.function_arn}});
      }
      exporter::AwsPortsOptions port_options = exporter::port_options_for(ready);
      port_options.deadline = deadline;
      ES_ASSIGN_OR_RETURN(exporter::Ports made, exporter::make_aws_ports(*env, port_options));
      ES_TRY(exporter::load_client_allow_list(ready, made));
      log::info("lambda.buckets",
                {{"expected_bucket_owner", ready.expected_bucket_owner},
                 {"ops_bucket_owner", ready.ops_bucket_owner},
                 {"allow_list", ready.allowed_clients ? ready.allowed_clients->size() : 0}});
      exporter.emplace(ready, std::move(made));
      context.exporter = &*exporter;
    }
    return lambda::handle(request, context);
  });
  if (!loop.ok()) {
    log::error("lambda.stopped", {{"error", loop.error().to_string()}});
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace es::cli
