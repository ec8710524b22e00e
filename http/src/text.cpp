#include "text.hpp"

#include <algorithm>

#include <boost/locale/utf.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace signoff::http::detail {

namespace urls = boost::urls;

namespace {

namespace utf = boost::locale::utf;

/// The length of the well-formed UTF-8 sequence at the start of `in`, or 0.
std::size_t utf8_sequence(std::string_view in) {
  auto p = in.begin();
  const auto c = utf::utf_traits<char>::decode(p, in.end());
  return utf::is_valid_codepoint(c) ? static_cast<std::size_t>(p - in.begin())
                                    : 0;
}

/// The decoded parameters of an already validated query or form; nothing
/// if a decoded name or value is not UTF-8.
std::optional<parameters> decode(const urls::params_encoded_view& encoded,
                                 bool plus_is_space) {
  const urls::encoding_opts options{plus_is_space, false, false};
  parameters out;
  for (const auto& param : encoded) {
    auto name = param.key.decode(options);
    auto value = param.value.decode(options);
    if (!is_utf8(name) || !is_utf8(value))
      return std::nullopt;
    if (!name.empty())
      out.insert_or_assign(std::move(name), std::move(value));
  }
  return out;
}

} // namespace

bool is_utf8(std::string_view text) noexcept {
  while (!text.empty()) {
    const auto length = utf8_sequence(text);
    if (length == 0)
      return false;
    text.remove_prefix(length);
  }
  return true;
}

std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  while (!in.empty()) {
    const auto length = utf8_sequence(in);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      in.remove_prefix(1);
    } else {
      out += in.substr(0, length);
      in.remove_prefix(length);
    }
  }
  return out;
}

bool whole_authority(const urls::url_view& url) noexcept {
  const auto path = url.encoded_path();
  return !url.has_authority() || path.empty() || path.starts_with('/');
}

std::optional<request_target> parse_target(std::string_view in) {
  request_target out;
  auto url = urls::parse_origin_form(in);
  if (!url) {
    // The absolute form, as a proxy would send it: http(s) and a host,
    // without user information (RFC 9110, 4.2.4).
    url = urls::parse_absolute_uri(in);
    if (!url || !whole_authority(*url)
        || (url->scheme_id() != urls::scheme::http
            && url->scheme_id() != urls::scheme::https)
        || url->encoded_host().empty() || url->has_userinfo())
      return std::nullopt;
    out.authority = url->encoded_authority();
  }
  // Split here rather than by Boost.URL's segment views, which hide a
  // leading "/." (their way to write a path that starts with "//"): a
  // segment is what the client sent. The path was validated, so a '/' in
  // a segment is escaped.
  std::string_view path = url->encoded_path();
  if (path.starts_with('/'))
    path.remove_prefix(1);
  for (std::size_t start = 0; start <= path.size();) {
    auto end = std::min(path.find('/', start), path.size());
    auto segment
      = urls::make_pct_string_view(path.substr(start, end - start))->decode();
    if (!is_utf8(segment))
      return std::nullopt;
    out.path.push_back(std::move(segment));
    start = end + 1;
  }
  if (!out.path.empty() && out.path.back().empty())
    out.path.pop_back();
  auto query = decode(url->encoded_params(), true);
  if (!query)
    return std::nullopt;
  out.query = std::move(*query);
  return out;
}

std::optional<parameters> parse_form(std::string_view in) {
  auto encoded = urls::parse_query(in);
  if (!encoded)
    return std::nullopt;
  return decode(*encoded, true);
}

std::string url_encode(std::string_view in) {
  return urls::encode(in, urls::unreserved_chars);
}

std::string html_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

} // namespace signoff::http::detail
