#include "export/client_allow_list.h"

#include <fmt/format.h>

#include "core/log.h"

namespace es::exporter {

Status load_client_allow_list(ExportConfig& config, const Ports& ports) {
  if (config.clients_object.empty()) return ok_status();
  constexpr std::string_view kSetting = "EAGLESENSE_CLIENTS";
  // load_export_config checked the form: s3://bucket/key with a valid bucket and a key.
  const std::string_view path = std::string_view(config.clients_object).substr(5);
  const auto slash = path.find('/');
  const std::string_view bucket = path.substr(0, slash);
  const std::string_view key = path.substr(slash + 1);
  // A list that is not there (or not ours to read) is the configuration's fault; a throttled or
  // unreachable S3 keeps its own kind, so the run fails as it would on any other S3 outage.
  auto failed = [&](const Error& e) {
    Error out = e;
    if (e.kind == ErrorKind::kNotFound || e.kind == ErrorKind::kAccessDenied)
      out.kind = ErrorKind::kInvalidArgument;
    out.operation = "config";
    out.resource = std::string(kSetting);
    out.message = fmt::format("the allow-list {} cannot be read: {}", config.clients_object, e.to_string());
    return out;
  };
  auto store = ports.make_store();
  if (!store.ok()) return failed(store.error());
  auto got = (*store)->get(bucket, key);
  if (!got.ok()) return failed(got.error());
  ES_ASSIGN_OR_RETURN(config.allowed_clients, parse_client_list(got->body, config.bucket_prefix, kSetting));
  log::info("export.allow_list_loaded",
            {{"source", config.clients_object}, {"clients", config.allowed_clients->size()}});
  return ok_status();
}

}  // namespace es::exporter
