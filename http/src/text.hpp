#pragma once

// Taking apart what arrives in request targets and forms (with Boost.URL),
// and escaping what goes into HTML.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/url/url_view.hpp>

namespace signoff::http::detail {

/// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or
/// code points past U+10FFFF).
[[nodiscard]] bool is_utf8(std::string_view text) noexcept;

/// `in` with each byte that does not belong to a well-formed UTF-8
/// sequence replaced by U+FFFD.
[[nodiscard]] std::string valid_utf8(std::string_view in);

/// Parameters of a query or form: the last of a repeated name wins, and
/// parameters without a name are dropped.
using parameters = std::map<std::string, std::string>;

/// False when Boost.URL 1.81 took the start of a host for the host: it
/// reads "http://127.0.0.1.evil.example" as host 127.0.0.1 and path
/// ".evil.example". Past an authority, a path is empty or starts with '/'
/// (RFC 3986, 3.3); check every URL with an authority with this.
[[nodiscard]] bool whole_authority(const boost::urls::url_view& url) noexcept;

/// A request target taken apart (RFC 9112, 3.2).
struct request_target {
  /// The path's segments, percent-decoded; a trailing empty one (from a
  /// final '/') is dropped, so "/" has none.
  std::vector<std::string> path;
  parameters query;
  /// The host and port of an absolute-form target, which stand in for the
  /// Host header (RFC 9112, 3.2.2); empty for the origin form.
  std::string authority;
};

/// Parses an origin-form target ("/path?query") or an absolute-form one
/// ("http://host:port/path?query"); nothing for any other form, a
/// malformed escape, or decoded text that is not UTF-8 (no JSON answer or
/// HTML page could show it).
[[nodiscard]] std::optional<request_target> parse_target(std::string_view in);

/// Parses an `application/x-www-form-urlencoded` body ('+' is a space);
/// nothing if it is malformed or its decoded text is not UTF-8.
[[nodiscard]] std::optional<parameters> parse_form(std::string_view in);

/// Encodes everything but unreserved characters: for one path segment or
/// one query value.
[[nodiscard]] std::string url_encode(std::string_view in);

/// Escapes &, <, >, " and ' for HTML text and attributes.
[[nodiscard]] std::string html_escape(std::string_view in);

} // namespace signoff::http::detail
