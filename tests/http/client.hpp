#pragma once

// A small synchronous HTTP/1.1 client for servers on 127.0.0.1, for the
// HTTP tests: one connection per request, a bounded wait, and the request
// written while the response is read, so a server that answers before it
// read the whole body (413) is heard instead of blocking the writer.

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace signoff::test::http_client {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// What the server answered. `status` is 0 when it answered nothing.
struct response {
  unsigned status = 0;
  /// Every header field as sent (names as the server spelled them).
  header_list headers{};
  std::string body{};

  /// The first value of header `name` (case-insensitive); empty if absent.
  [[nodiscard]] std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (n.size() == name.size()
          && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a))
                      == std::tolower(static_cast<unsigned char>(b));
             }))
        return v;
    return {};
  }

  /// The body parsed as JSON; null if it is not JSON.
  [[nodiscard]] boost::json::value json() const {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    return ec ? boost::json::value{} : v;
  }
};

/// How long one exchange may take before the client gives up.
inline constexpr auto exchange_limit = std::chrono::seconds{20};

/// The response `parser` read; status 0 if it read no header.
inline response response_of(
  const boost::beast::http::response_parser<boost::beast::http::string_body>&
    parser) {
  response out;
  if (!parser.is_header_done())
    return out;
  const auto& res = parser.get();
  out.status = res.result_int();
  for (const auto& field : res)
    out.headers.emplace_back(std::string{field.name_string()},
                             std::string{field.value()});
  out.body = res.body();
  return out;
}

/// One connection to 127.0.0.1:`port` for exchanges in steps (send part of
/// a request, read an interim answer, send the rest), each bounded by
/// `exchange_limit`. Throws std::runtime_error if it cannot connect.
class connection {
public:
  explicit connection(std::uint16_t port) {
    boost::beast::error_code connect_ec;
    socket_.async_connect(
      {boost::asio::ip::make_address("127.0.0.1"), port},
      [&](boost::beast::error_code ec) { connect_ec = ec; });
    run();
    if (connect_ec)
      throw std::runtime_error("cannot connect to 127.0.0.1:"
                               + std::to_string(port) + ": "
                               + connect_ec.message());
  }

  /// Sends `bytes`; false if they could not all be sent.
  bool send(std::string_view bytes) {
    boost::beast::error_code sent;
    boost::asio::async_write(
      socket_, boost::asio::buffer(bytes),
      [&](boost::beast::error_code ec, std::size_t) { sent = ec; });
    run();
    return !sent;
  }

  /// Reads the next response, interim ones (1xx) included; for the answer
  /// to a HEAD, pass `head` (it has no body). Status 0 if none came.
  response read(bool head = false) {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(boost::none);
    parser.header_limit(1U << 20U);
    parser.skip(head);
    boost::beast::http::async_read(
      socket_, buffer_, parser,
      [this](boost::beast::error_code ec, std::size_t) { saw_end(ec); });
    run();
    return response_of(parser);
  }

  /// True if the server closed the connection: the next read finds its
  /// end (and no byte).
  bool closed() {
    if (ended_ || buffer_.size() != 0)
      return ended_;
    std::array<char, 1> byte{};
    socket_.async_read_some(
      boost::asio::buffer(byte),
      [this](boost::beast::error_code ec, std::size_t) { saw_end(ec); });
    run();
    return ended_;
  }

private:
  void saw_end(const boost::beast::error_code& ec) {
    ended_ = ended_ || ec == boost::asio::error::eof
             || ec == boost::asio::error::connection_reset
             || ec == boost::beast::http::error::end_of_stream;
  }

  /// Runs what was started until it is done or `exchange_limit` passed
  /// (then it is cancelled).
  void run() {
    io_.restart();
    io_.run_for(exchange_limit);
    if (!io_.stopped()) {
      boost::beast::error_code ignored;
      socket_.cancel(ignored);
      io_.restart();
      io_.run();
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_{io_};
  boost::beast::flat_buffer buffer_;
  /// The server closed the connection (or reset it).
  bool ended_ = false;
};

/// Sends `bytes` as they are to 127.0.0.1:`port` and reads one response
/// (past interim ones, 1xx). Throws std::runtime_error if the connection
/// cannot be made.
inline response send_raw(std::uint16_t port, std::string bytes) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  asio::io_context io;
  beast::tcp_stream stream{io};
  stream.expires_after(exchange_limit);
  beast::error_code connect_ec;
  stream.async_connect(
    asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), port},
    [&](beast::error_code ec) { connect_ec = ec; });
  io.run();
  io.restart();
  if (connect_ec)
    throw std::runtime_error("cannot connect to 127.0.0.1:"
                             + std::to_string(port) + ": "
                             + connect_ec.message());
  // Write and read at once: the answer may come before the body is read.
  bool read_done = false;
  bool write_done = false;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  std::function<void()> read_next = [&] {
    parser.emplace();
    parser->body_limit(boost::none);
    parser->header_limit(1U << 20U);
    http::async_read(stream, buffer, *parser,
                     [&](beast::error_code ec, std::size_t) {
                       const auto status = parser->get().result_int();
                       if (!ec && status >= 100 && status < 200) {
                         read_next();
                         return;
                       }
                       read_done = true;
                       if (!write_done)
                         stream.socket().cancel();
                     });
  };
  asio::async_write(stream, asio::buffer(bytes),
                    [&](beast::error_code, std::size_t) {
                      write_done = true;
                      if (read_done)
                        stream.socket().close();
                    });
  read_next();
  io.run();
  return response_of(*parser);
}

/// Sends one request (HTTP/1.1, `Connection: close`) and reads the answer.
/// A body gets a Content-Length; `headers` may add Content-Type and more.
inline response send(std::uint16_t port, std::string_view method,
                     std::string_view target, const header_list& headers = {},
                     std::string body = {}) {
  namespace http = boost::beast::http;
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : headers)
    req.set(name, value);
  req.body() = std::move(body);
  req.prepare_payload();
  std::ostringstream text;
  text << req;
  return send_raw(port, text.str());
}

/// `Authorization: Bearer <token>` (nothing for an empty token).
inline header_list bearer(std::string_view token) {
  if (token.empty())
    return {};
  return {{"Authorization", "Bearer " + std::string{token}}};
}

/// Percent-encodes everything but unreserved characters (so '/' becomes
/// %2F and '%' becomes %25): for one path segment or one query value.
inline std::string url_encode(std::string_view in) {
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

/// `application/x-www-form-urlencoded` of `fields`, in order.
inline std::string form_encode(const header_list& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty())
      out += '&';
    out += url_encode(name) + "=" + url_encode(value);
  }
  return out;
}

} // namespace signoff::test::http_client
