// eaglesense: export each hour's DynamoDB events to one S3 object per client.

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <malloc.h>

#include "aws/http.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  // Reader threads allocate and free ~1 MiB page buffers continuously. With glibc's defaults each
  // thread gets its own heap arena and the mmap threshold drifts upward, so freed pages stay
  // resident: a 200,000-event hour peaked at 258 MB RSS; with these two settings at 166 MB.
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  CLI::App app{"EagleSense: exports each hour's events from DynamoDB to one S3 object per client per hour",
               "eaglesense"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("eaglesense ") + EAGLESENSE_VERSION);

  es::cli::RunCommand run;
  es::cli::SeedCommand seed;
  es::cli::LambdaCommand lambda;
  es::cli::VerifyCommand verify;
  es::cli::StatusCommand status;
  es::cli::PlanCommand plan;
  es::cli::WorkCommand work;
  es::cli::MergeCommand merge;
  run.add_to(*app.add_subcommand("run", "export hours (default: the last complete hour)"));
  seed.add_to(*app.add_subcommand("seed", "write synthetic events of the reference shape (load generator)"));
  lambda.add_to(
      *app.add_subcommand("lambda", "the AWS Lambda Runtime API loop (the packaged bootstrap runs it)"));
  verify.add_to(
      *app.add_subcommand("verify", "check an exported hour against its manifest (docs/VERIFY.md)"));
  status.add_to(*app.add_subcommand(
      "status",
      "the state of each hour and client, from the manifests in the ops bucket (table, json, html)"));

  plan.add_to(
      *app.add_subcommand("plan", "scale-out stage 1: split an hour into work units (docs/SCALING.md)"));
  work.add_to(
      *app.add_subcommand("work", "scale-out stage 2: read one work unit into sorted runs per client"));
  merge.add_to(*app.add_subcommand(
      "merge", "scale-out stages 3-5: list the clients, merge one client's runs, finish the hour"));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : es::cli::kExitConfig;
  }
  es::aws::global_http_init();
  // The one catch-all: anything unexpected becomes a clear message and exit code 1.
  try {
    if (app.got_subcommand("run")) return run.run();
    if (app.got_subcommand("seed")) return seed.run();
    if (app.got_subcommand("lambda")) return lambda.run();
    if (app.got_subcommand("verify")) return verify.run();
    if (app.got_subcommand("status")) return status.run();
    if (app.got_subcommand("plan")) return plan.run();
    if (app.got_subcommand("work")) return work.run();
    if (app.got_subcommand("merge")) return merge.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eaglesense: internal error: %s\n", e.what());
    return es::cli::kExitFailure;
  }
  return es::cli::kExitFailure;
}
