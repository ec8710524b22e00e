#include "field_sinks.hpp"

#include <array>

namespace signoff::model::detail {

void append_quoted(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  std::size_t clean_from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(text, clean_from, i - clean_from);
    clean_from = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
  }
  out.append(text, clean_from);
  out += '"';
}

void text_sink::json(std::string_view name, const boost::json::value& v) {
  key(name);
  boost::json::serializer writer;
  writer.reset(&v);
  std::array<char, 1024> buffer;
  while (!writer.done())
    out_ += writer.read(buffer.data(), buffer.size());
}

} // namespace signoff::model::detail
