#include "core/json_reader.h"

#include <algorithm>
#include <type_traits>
#include <variant>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/json_writer.h"
#include "core/time.h"

namespace es::json {
namespace {

// Our documents nest a few levels; DynamoDB's answers carry items back (BatchWriteItem's
// UnprocessedItems), and an item nests up to 32 M/L levels, two JSON levels each. Past this depth the
// text is not one we read.
constexpr std::size_t kMaxDepth = 128;

Node convert(simdjson::dom::element e) {
  Node n;
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      n.value = nullptr;
      break;
    case simdjson::dom::element_type::BOOL:
      n.value = bool(e.get_bool());
      break;
    case simdjson::dom::element_type::INT64:
      n.value = std::int64_t(e.get_int64());
      break;
    case simdjson::dom::element_type::UINT64:
      n.value = std::uint64_t(e.get_uint64());
      break;
    case simdjson::dom::element_type::DOUBLE:
      n.value = double(e.get_double());
      break;
    case simdjson::dom::element_type::STRING:
      n.value = std::string(std::string_view(e.get_string()));
      break;
    case simdjson::dom::element_type::ARRAY: {
      Elements elements;
      for (simdjson::dom::element child : e.get_array()) elements.push_back(convert(child));
      n.value = std::move(elements);
      break;
    }
    case simdjson::dom::element_type::OBJECT: {
      Members members;
      for (simdjson::dom::key_value_pair kv : e.get_object()) {
        members.emplace_back(std::string(kv.key), convert(kv.value));
      }
      n.value = std::move(members);
      break;
    }
  }
  return n;
}

void write(Writer& w, const Node& n) {
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          w.null();
        } else if constexpr (std::is_same_v<T, Elements>) {
          w.begin_array();
          for (const Node& child : v) write(w, child);
          w.end_array();
        } else if constexpr (std::is_same_v<T, Members>) {
          w.begin_object();
          for (const auto& [key, child] : v) {
            w.key(key);
            write(w, child);
          }
          w.end_object();
        } else {
          w.value(v);
        }
      },
      n.value);
}

constexpr std::string_view kNotJson = "not JSON: ";

}  // namespace

std::string_view not_json_reason(const Error& error) {
  std::string_view reason = error.message;
  if (reason.starts_with(kNotJson)) reason.remove_prefix(kNotJson.size());
  return reason;
}

Result<Value> parse_document(std::string_view text, std::string_view document) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto err = parser.allocate(std::max<std::size_t>(text.size(), 64), kMaxDepth);
  if (err == simdjson::SUCCESS) err = parser.parse(text.data(), text.size()).get(root);
  if (err != simdjson::SUCCESS) {
    return Error::invalid_data(std::string(document),
                               fmt::format("{}{}", kNotJson, simdjson::error_message(err)));
  }
  auto parsed = std::make_shared<ParsedDocument>();
  parsed->name = std::string(document);
  parsed->root = convert(root);
  const Node& node = parsed->root;
  return Value(std::move(parsed), node, "");
}

Error Value::error(std::string_view message) const {
  const std::string where = path_.empty() ? std::string("(document)") : path_;
  return Error::invalid_data(document_->name, fmt::format("{}: {}", where, message));
}

std::string Value::child_path(std::string_view name) const {
  return path_.empty() ? std::string(name) : fmt::format("{}.{}", path_, name);
}

std::string_view Value::type_name() const {
  switch (node_->value.index()) {
    case 0:
      return "null";
    case 1:
      return "a boolean";
    case 2:
    case 3:
    case 4:
      return "a number";
    case 5:
      return "a string";
    case 6:
      return "an array";
    default:
      return "an object";
  }
}

Result<std::optional<Value>> Value::optional(std::string_view name) const {
  const auto* members = std::get_if<Members>(&node_->value);
  if (members == nullptr) return error(fmt::format("expected an object, found {}", type_name()));
  for (const auto& [key, child] : *members) {
    if (key != name) continue;
    if (std::holds_alternative<std::nullptr_t>(child.value)) return std::optional<Value>();
    return std::optional<Value>(Value(document_, child, child_path(name)));
  }
  return std::optional<Value>();
}

Result<Value> Value::operator[](std::string_view name) const {
  const auto* members = std::get_if<Members>(&node_->value);
  if (members == nullptr) return error(fmt::format("expected an object, found {}", type_name()));
  for (const auto& [key, child] : *members) {
    if (key == name) return Value(document_, child, child_path(name));
  }
  return Value(document_, *node_, child_path(name)).error("missing");
}

Result<std::string_view> Value::string() const {
  if (const auto* s = std::get_if<std::string>(&node_->value)) return std::string_view(*s);
  return error(fmt::format("expected a string, found {}", type_name()));
}

Result<bool> Value::boolean() const {
  if (const auto* b = std::get_if<bool>(&node_->value)) return *b;
  return error(fmt::format("expected true or false, found {}", type_name()));
}

Result<std::uint64_t> Value::uint64() const {
  if (const auto* u = std::get_if<std::uint64_t>(&node_->value)) return *u;
  if (const auto* i = std::get_if<std::int64_t>(&node_->value); i != nullptr && *i >= 0) {
    return static_cast<std::uint64_t>(*i);
  }
  return error(fmt::format("expected a whole number >= 0, found {}", type_name()));
}

Result<std::int64_t> Value::int64() const {
  if (const auto* i = std::get_if<std::int64_t>(&node_->value)) return *i;
  return error(fmt::format("expected a whole number, found {}", type_name()));
}

Result<double> Value::number() const {
  if (const auto* d = std::get_if<double>(&node_->value)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&node_->value)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&node_->value)) return static_cast<double>(*u);
  return error(fmt::format("expected a number, found {}", type_name()));
}

Result<std::vector<Value>> Value::array() const {
  const auto* elements = std::get_if<Elements>(&node_->value);
  if (elements == nullptr) return error(fmt::format("expected an array, found {}", type_name()));
  std::vector<Value> out;
  out.reserve(elements->size());
  for (std::size_t i = 0; i < elements->size(); ++i) {
    out.emplace_back(document_, (*elements)[i], fmt::format("{}[{}]", path_, i));
  }
  return out;
}

Result<std::vector<std::pair<std::string_view, Value>>> Value::members() const {
  const auto* members = std::get_if<Members>(&node_->value);
  if (members == nullptr) return error(fmt::format("expected an object, found {}", type_name()));
  std::vector<std::pair<std::string_view, Value>> out;
  out.reserve(members->size());
  for (const auto& [key, child] : *members) out.emplace_back(key, Value(document_, child, child_path(key)));
  return out;
}

Result<std::int64_t> Value::instant() const {
  ES_ASSIGN_OR_RETURN(const std::string_view text, string());
  auto us = parse_iso8601_us(text);
  if (!us.ok()) return error(us.error().message);
  return *us;
}

Result<std::string_view> Value::string(std::string_view name) const {
  ES_ASSIGN_OR_RETURN(const Value v, (*this)[name]);
  return v.string();
}

Result<bool> Value::boolean(std::string_view name) const {
  ES_ASSIGN_OR_RETURN(const Value v, (*this)[name]);
  return v.boolean();
}

Result<std::uint64_t> Value::uint64(std::string_view name) const {
  ES_ASSIGN_OR_RETURN(const Value v, (*this)[name]);
  return v.uint64();
}

Result<std::int64_t> Value::int64(std::string_view name) const {
  ES_ASSIGN_OR_RETURN(const Value v, (*this)[name]);
  return v.int64();
}

Result<double> Value::number(std::string_view name) const {
  ES_ASSIGN_OR_RETURN(const Value v, (*this)[name]);
  return v.number();
}

Result<std::vector<Value>> Value::array(std::string_view name) const {
  ES_ASSIGN_OR_RETURN(const Value v, (*this)[name]);
  return v.array();
}

Result<std::int64_t> Value::instant(std::string_view name) const {
  ES_ASSIGN_OR_RETURN(const Value v, (*this)[name]);
  return v.instant();
}

bool Value::has(std::string_view name) const {
  const auto* members = std::get_if<Members>(&node_->value);
  if (members == nullptr) return false;
  return std::any_of(members->begin(), members->end(), [&](const auto& m) { return m.first == name; });
}

std::string Value::json() const {
  std::string out;
  Writer w(out);
  write(w, *node_);
  return out;
}

Result<std::string> Value::string_or_empty(std::string_view name) const {
  ES_ASSIGN_OR_RETURN(const std::optional<Value> v, optional(name));
  if (!v) return std::string();
  ES_ASSIGN_OR_RETURN(const std::string_view s, v->string());
  return std::string(s);
}

}  // namespace es::json
