#pragma once
/// The allow-list of onboarded clients (EAGLESENSE_CLIENTS) in its s3:// form: read once per run,
/// before any hour is read, so that a missing list fails the run instead of letting every client
/// through or rejecting them all.

#include "core/config.h"
#include "core/result.h"
#include "export/ports.h"

namespace es::exporter {

/// When config.clients_object names an object, reads it with a store of ports and fills
/// config.allowed_clients. An object that cannot be read or holds a bad id is an error naming
/// EAGLESENSE_CLIENTS. Nothing to do for the inline form or without a list.
[[nodiscard]] Status load_client_allow_list(ExportConfig& config, const Ports& ports);

}  // namespace es::exporter
