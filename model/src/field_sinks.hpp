#pragma once

// Two ways to write a type's JSON fields, so that each persisted type lists
// its fields once (`template <class Sink> void write_fields(const T&,
// Sink&)`): `value_sink` builds a JSON object (for `value_from`), and
// `text_sink` appends the same object as JSON text to a string, without
// building it first. The stores write an approval on every change; building
// its JSON value to serialize it cost about ten times the writing.

#include <charconv>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "signoff/model/time.hpp"

namespace signoff::model::detail {

class value_sink {
public:
  void string(std::string_view name, std::string_view text) {
    object_.emplace(name, text);
  }
  void number(std::string_view name, std::integral auto n) {
    object_.emplace(name, n);
  }
  void boolean(std::string_view name, bool b) {
    object_.emplace(name, b);
  }
  void json(std::string_view name, boost::json::value v) {
    object_.emplace(name, std::move(v));
  }
  /// Epoch milliseconds, or null for none.
  void time(std::string_view name, const std::optional<time_point>& t) {
    object_.emplace(name, t ? boost::json::value(to_millis(*t))
                            : boost::json::value{});
  }
  void strings(std::string_view name, const std::vector<std::string>& texts) {
    object_.emplace(name, boost::json::value_from(texts));
  }
  void millis(std::string_view name, const std::vector<duration>& spans) {
    boost::json::array out;
    out.reserve(spans.size());
    for (const auto& d : spans)
      out.emplace_back(d.count());
    object_.emplace(name, std::move(out));
  }
  /// A nested object, whose fields `write` gives.
  template <class Write>
  void object(std::string_view name, Write&& write) {
    value_sink inner;
    write(inner);
    object_.emplace(name, std::move(inner).take());
  }
  /// An array of objects: `write(item, sink)` gives each one's fields.
  template <class Items, class Write>
  void objects(std::string_view name, const Items& items, Write&& write) {
    boost::json::array out;
    out.reserve(items.size());
    for (const auto& item : items) {
      value_sink inner;
      write(item, inner);
      out.emplace_back(std::move(inner).take());
    }
    object_.emplace(name, std::move(out));
  }

  [[nodiscard]] boost::json::object take() && {
    return std::move(object_);
  }

private:
  boost::json::object object_;
};

/// Appends `text` as a JSON string, escaped as Boost.JSON's serializer does
/// (quote, backslash and control characters; other bytes as they are).
void append_quoted(std::string& out, std::string_view text);

/// Writes an object's fields as JSON text onto a string.
class text_sink {
public:
  /// Appends the object whose fields `write(sink)` gives to `out`.
  template <class Write>
  static void write_object(std::string& out, Write&& write) {
    out += '{';
    text_sink sink{out};
    write(sink);
    out += '}';
  }

  void string(std::string_view name, std::string_view text) {
    key(name);
    append_quoted(out_, text);
  }
  void number(std::string_view name, std::integral auto n) {
    key(name);
    append_number(n);
  }
  void boolean(std::string_view name, bool b) {
    key(name);
    out_ += b ? "true" : "false";
  }
  /// Boost's own text of `v`, as the stores always kept it.
  void json(std::string_view name, const boost::json::value& v);
  void time(std::string_view name, const std::optional<time_point>& t) {
    key(name);
    if (t)
      append_number(to_millis(*t));
    else
      out_ += "null";
  }
  void strings(std::string_view name, const std::vector<std::string>& texts) {
    key(name);
    out_ += '[';
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (i > 0)
        out_ += ',';
      append_quoted(out_, texts[i]);
    }
    out_ += ']';
  }
  void millis(std::string_view name, const std::vector<duration>& spans) {
    key(name);
    out_ += '[';
    for (std::size_t i = 0; i < spans.size(); ++i) {
      if (i > 0)
        out_ += ',';
      append_number(spans[i].count());
    }
    out_ += ']';
  }
  template <class Write>
  void object(std::string_view name, Write&& write) {
    key(name);
    write_object(out_, std::forward<Write>(write));
  }
  template <class Items, class Write>
  void objects(std::string_view name, const Items& items, Write&& write) {
    key(name);
    out_ += '[';
    bool first = true;
    for (const auto& item : items) {
      if (!std::exchange(first, false))
        out_ += ',';
      write_object(out_, [&](text_sink& inner) { write(item, inner); });
    }
    out_ += ']';
  }

private:
  explicit text_sink(std::string& out) : out_(out) {}

  /// Field names are the types' own literals: nothing to escape.
  void key(std::string_view name) {
    if (out_.back() != '{')
      out_ += ',';
    out_ += '"';
    out_ += name;
    out_ += "\":";
  }
  void append_number(std::integral auto n) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out_.append(digits, end);
  }

  std::string& out_;
};

} // namespace signoff::model::detail
