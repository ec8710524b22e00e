#pragma once

// Decoding what arrives in URLs and forms, and escaping what goes into HTML.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace signoff::http::detail {

/// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or
/// code points past U+10FFFF).
[[nodiscard]] bool is_utf8(std::string_view text) noexcept;

/// Decodes %XX escapes (and '+' as space in forms); false on malformed
/// escapes and on text that is not UTF-8, which no JSON answer or HTML page
/// could show.
[[nodiscard]] bool percent_decode(std::string_view in, std::string& out,
                                  bool plus_is_space = false);

/// Encodes everything but unreserved characters.
[[nodiscard]] std::string percent_encode(std::string_view in);

/// Parses `a=1&b=2` (query strings and form bodies); false if malformed.
[[nodiscard]] bool parse_pairs(std::string_view in,
                               std::map<std::string, std::string>& out);

/// Splits a path into its '/'-separated segments, each percent-decoded;
/// false if malformed.
[[nodiscard]] bool split_path(std::string_view path,
                              std::vector<std::string>& out);

/// `in` with each byte that does not belong to a well-formed UTF-8
/// sequence replaced by U+FFFD.
[[nodiscard]] std::string valid_utf8(std::string_view in);

/// Escapes &, <, >, " and ' for HTML text and attributes.
[[nodiscard]] std::string html_escape(std::string_view in);

} // namespace signoff::http::detail
