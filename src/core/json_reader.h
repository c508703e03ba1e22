#pragma once
/// A reader for the project's own small JSON documents (manifests, scale-out plans and unit manifests,
/// run summaries, Lambda events, credential documents): parsed whole into a small tree, read field by
/// field, and every error names the document and the field's path ("manifest: objects[3].status: not
/// one of delivered, undeliverable"), so that a damaged document says where. Event pages are not read
/// this way: the transcoder reads those (core/transcode.h).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/names.h"
#include "core/result.h"

namespace es::json {

struct Node;
using Members = std::vector<std::pair<std::string, Node>>;
using Elements = std::vector<Node>;

/// A JSON value. Integers that fit keep their exact value (int64 or uint64); others are doubles.
struct Node {
  std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, Elements, Members>
      value;
};

/// A parsed document: its name (for errors) and its tree.
struct ParsedDocument {
  std::string name;
  Node root;
};

/// A node of a document and where it is: reads typed values, and makes errors that say where. It
/// keeps its document alive.
class Value {
 public:
  Value(std::shared_ptr<const ParsedDocument> document, const Node& node, std::string path)
      : document_(std::move(document)), node_(&node), path_(std::move(path)) {}

  /// The member name of an object; kInvalidData when this is not an object or it has no such member.
  [[nodiscard]] Result<Value> operator[](std::string_view name) const;
  /// The member, or nullopt when absent or null (kInvalidData when this is not an object).
  [[nodiscard]] Result<std::optional<Value>> optional(std::string_view name) const;
  [[nodiscard]] bool is_null() const { return std::holds_alternative<std::nullptr_t>(node_->value); }
  [[nodiscard]] bool is_object() const { return std::holds_alternative<Members>(node_->value); }

  [[nodiscard]] Result<std::string_view> string() const;
  [[nodiscard]] Result<bool> boolean() const;
  [[nodiscard]] Result<std::uint64_t> uint64() const;
  [[nodiscard]] Result<std::int64_t> int64() const;
  /// Any number, as a double.
  [[nodiscard]] Result<double> number() const;
  /// The elements of an array.
  [[nodiscard]] Result<std::vector<Value>> array() const;
  /// The members of an object, in document order.
  [[nodiscard]] Result<std::vector<std::pair<std::string_view, Value>>> members() const;
  /// An ISO-8601 instant (core/time.h), in microseconds since the epoch.
  [[nodiscard]] Result<std::int64_t> instant() const;
  /// A string naming one value of a closed set (core/names.h).
  template <typename E, std::size_t N>
  [[nodiscard]] Result<E> named(const std::array<Named<E>, N>& table) const {
    ES_ASSIGN_OR_RETURN(const std::string_view name, string());
    if (auto value = value_named(table, name)) return *value;
    return error("'" + std::string(name) + "' is not one of " + names_of(table));
  }

  /// Shorthands for a required member: v.string("client") is v["client"] then .string().
  [[nodiscard]] Result<std::string_view> string(std::string_view name) const;
  [[nodiscard]] Result<bool> boolean(std::string_view name) const;
  [[nodiscard]] Result<std::uint64_t> uint64(std::string_view name) const;
  [[nodiscard]] Result<std::int64_t> int64(std::string_view name) const;
  [[nodiscard]] Result<double> number(std::string_view name) const;
  [[nodiscard]] Result<std::vector<Value>> array(std::string_view name) const;
  [[nodiscard]] Result<std::int64_t> instant(std::string_view name) const;
  template <typename E, std::size_t N>
  [[nodiscard]] Result<E> named(std::string_view name, const std::array<Named<E>, N>& table) const {
    ES_ASSIGN_OR_RETURN(const Value v, (*this)[name]);
    return v.named(table);
  }
  /// Whether this object has the member, whatever its value (null included); false when this is not an
  /// object.
  [[nodiscard]] bool has(std::string_view name) const;
  /// The value as compact JSON text (strings escaped as core/json_writer.h does, whole numbers with
  /// their digits), e.g. a DynamoDB key or item to send back.
  [[nodiscard]] std::string json() const;

  /// An optional string member: "" when absent or null.
  [[nodiscard]] Result<std::string> string_or_empty(std::string_view name) const;

  /// "objects[3].status" ("" for the root).
  [[nodiscard]] const std::string& path() const { return path_; }
  /// kInvalidData naming the document and this value's path.
  [[nodiscard]] Error error(std::string_view message) const;

 private:
  [[nodiscard]] std::string child_path(std::string_view name) const;
  [[nodiscard]] std::string_view type_name() const;

  std::shared_ptr<const ParsedDocument> document_;
  const Node* node_;
  std::string path_;
};

/// Parses text, a document that errors call document ("manifest", "plan", "lambda event", ...), and
/// returns its root. kInvalidData naming the document when the text is not JSON.
[[nodiscard]] Result<Value> parse_document(std::string_view text, std::string_view document);

/// The parser's reason in an error of parse_document ("not JSON: <reason>" gives "<reason>"), for a
/// caller that words the error its own way; the whole message for any other error.
[[nodiscard]] std::string_view not_json_reason(const Error& error);

}  // namespace es::json
