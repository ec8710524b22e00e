#include "text.hpp"

#include <cstdint>

namespace signoff::http::detail {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

bool is_utf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t continuations = 0;
    std::uint32_t code = 0;
    std::uint32_t smallest = 0;
    if (lead < 0x80U) {
      ++i;
      continue;
    }
    if ((lead & 0xE0U) == 0xC0U) {
      continuations = 1;
      code = lead & 0x1FU;
      smallest = 0x80;
    } else if ((lead & 0xF0U) == 0xE0U) {
      continuations = 2;
      code = lead & 0x0FU;
      smallest = 0x800;
    } else if ((lead & 0xF8U) == 0xF0U) {
      continuations = 3;
      code = lead & 0x07U;
      smallest = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i <= continuations)
      return false;
    for (std::size_t k = 1; k <= continuations; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0U) != 0x80U)
        return false;
      code = (code << 6U) | (next & 0x3FU);
    }
    if (code < smallest || code > 0x10FFFFU
        || (code >= 0xD800U && code <= 0xDFFFU))
      return false;
    i += continuations + 1;
  }
  return true;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size())
        return false;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return is_utf8(out);
}

std::string percent_encode(std::string_view in) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4U];
      out += digits[c & 0xFU];
    }
  }
  return out;
}

bool parse_pairs(std::string_view in, std::map<std::string, std::string>& out) {
  std::size_t start = 0;
  while (start < in.size()) {
    auto end = in.find('&', start);
    if (end == std::string_view::npos)
      end = in.size();
    auto pair = in.substr(start, end - start);
    auto eq = pair.find('=');
    std::string name;
    std::string value;
    if (!percent_decode(pair.substr(0, eq), name, true)
        || (eq != std::string_view::npos
            && !percent_decode(pair.substr(eq + 1), value, true)))
      return false;
    if (!name.empty())
      out[name] = value;
    start = end + 1;
  }
  return true;
}

bool split_path(std::string_view path, std::vector<std::string>& out) {
  out.clear();
  std::size_t start = path.starts_with('/') ? 1 : 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    std::string segment;
    if (!percent_decode(path.substr(start, end - start), segment))
      return false;
    out.push_back(std::move(segment));
    start = end + 1;
  }
  if (!out.empty() && out.back().empty())
    out.pop_back();
  return true;
}

namespace {

/// The length of the well-formed UTF-8 sequence starting `in`, or 0.
std::size_t utf8_sequence(std::string_view in) {
  const auto byte = [&](std::size_t i) {
    return static_cast<unsigned char>(in[i]);
  };
  const auto lead = byte(0);
  if (lead < 0x80)
    return 1;
  // The second byte's range rules out overlong forms, surrogates and
  // code points past U+10FFFF (RFC 3629, section 4).
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  std::size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : 0x80;
    high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (in.size() < length || byte(1) < low || byte(1) > high)
    return 0;
  for (std::size_t i = 2; i < length; ++i)
    if ((byte(i) & 0xC0U) != 0x80U)
      return 0;
  return length;
}

} // namespace

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
