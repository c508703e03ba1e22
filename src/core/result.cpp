#include "core/result.h"

#include <fmt/format.h>

namespace es {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return "invalid argument";
    case ErrorKind::kInvalidData:
      return "invalid data";
    case ErrorKind::kNotFound:
      return "not found";
    case ErrorKind::kAccessDenied:
      return "access denied";
    case ErrorKind::kConflict:
      return "condition failed";
    case ErrorKind::kThrottled:
      return "throttled";
    case ErrorKind::kServiceError:
      return "service error";
    case ErrorKind::kTransport:
      return "transport error";
    case ErrorKind::kIo:
      return "I/O error";
    case ErrorKind::kInternal:
      return "internal error";
  }
  return "unknown error";
}

std::string Error::to_string() const {
  std::string out;
  if (!operation.empty()) out += operation;
  if (!resource.empty()) {
    if (!out.empty()) out += ' ';
    out += resource;
  }
  if (!out.empty()) out += ": ";
  if (http_status != 0) out += fmt::format("HTTP {} ", http_status);
  if (!code.empty()) {
    out += code;
    out += ": ";
  } else if (http_status == 0 && kind != ErrorKind::kInvalidArgument) {
    out += es::to_string(kind);
    out += ": ";
  }
  out += message;
  if (!request_id.empty()) out += fmt::format(" (request id {})", request_id);
  return out;
}

Error Error::invalid_argument(std::string resource, std::string message) {
  Error e;
  e.kind = ErrorKind::kInvalidArgument;
  e.resource = std::move(resource);
  e.message = std::move(message);
  return e;
}

Error Error::invalid_data(std::string resource, std::string message) {
  Error e;
  e.kind = ErrorKind::kInvalidData;
  e.resource = std::move(resource);
  e.message = std::move(message);
  return e;
}

Error Error::io(std::string resource, std::string message) {
  Error e;
  e.kind = ErrorKind::kIo;
  e.resource = std::move(resource);
  e.message = std::move(message);
  return e;
}

Error Error::internal(std::string message) {
  Error e;
  e.kind = ErrorKind::kInternal;
  e.message = std::move(message);
  return e;
}

Error&& Error::with_context(std::string_view op, std::string_view res) && {
  if (operation.empty()) operation = std::string(op);
  if (resource.empty()) resource = std::string(res);
  return std::move(*this);
}

}  // namespace es
