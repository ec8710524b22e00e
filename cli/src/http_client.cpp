#include "http_client.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cli_error.hpp"

namespace signoff::cli {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using request = http::request<http::string_body>;

/// Answers larger than this are refused (a listing of a million keys is
/// well below it).
constexpr std::uint64_t max_answer_bytes = std::uint64_t{256} << 20U;

constexpr std::string_view scheme = "http://";

model::error bad_url(std::string_view text, std::string_view why) {
  return make_usage_error("--server '" + std::string{text} + "' "
                          + std::string{why}
                          + "; expected a URL such as http://127.0.0.1:8080");
}

/// True if `text` is printable ASCII without spaces: safe in a request
/// line or a header.
bool is_visible_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c > ' ' && c < '\x7f'; });
}

bool is_port(std::string_view text) {
  if (text.empty() || text.size() > 5)
    return false;
  unsigned n = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n >= 1 && n <= 65535;
}

/// "10 s", or "300 ms" for what is not whole seconds.
std::string duration_text(std::chrono::milliseconds d) {
  if (d % std::chrono::seconds{1} != std::chrono::milliseconds::zero())
    return std::to_string(d.count()) + " ms";
  return std::to_string(
           std::chrono::duration_cast<std::chrono::seconds>(d).count())
         + " s";
}

} // namespace

model::result<server_url> parse_server_url(std::string_view text) {
  if (text.starts_with("https://"))
    return bad_url(text, "uses https, which signoff does not speak (reach "
                         "the server over http, e.g. on its host)");
  if (!text.starts_with(scheme))
    return bad_url(text, "is not an http URL");
  if (!is_visible_ascii(text))
    return bad_url(text, "has spaces, control or non-ASCII characters");
  auto rest = text.substr(scheme.size());
  const auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  server_url out{std::string{text}, {}, "80", {}};
  if (slash != std::string_view::npos)
    out.base = rest.substr(slash);
  while (out.base.ends_with('/'))
    out.base.pop_back();
  if (rest.find_first_of("?#") != std::string_view::npos
      || authority.find('@') != std::string_view::npos)
    return bad_url(text, "has a query, fragment or user name");
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos)
      return bad_url(text, "has an unclosed IPv6 address");
    out.host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':'))
      return bad_url(text, "has something after its IPv6 address");
    port = after.empty() ? std::string_view{"80"} : after.substr(1);
  } else {
    const auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view{"80"}
                                           : authority.substr(colon + 1);
  }
  if (out.host.empty())
    return bad_url(text, "has no host");
  if (!is_port(port))
    return bad_url(text, "has no valid port (1 to 65535)");
  out.port = port;
  return out;
}

model::result<void> check_token(std::string_view token) {
  if (!is_visible_ascii(token))
    return make_usage_error("the token has spaces, control or non-ASCII "
                            "characters; a signoff token has none");
  return model::ok();
}

std::string percent_encode(std::string_view text) {
  static constexpr std::string_view digits = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4U];
      out += digits[c & 0xFU];
    }
  }
  return out;
}

struct http_client::impl {
  impl(server_url u, std::string t, http_limits l)
      : url(std::move(u)), token(std::move(t)), limits(l) {}

  server_url url;
  std::string token;
  http_limits limits;
  asio::io_context io{};
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer{};
  bool connected = false;

  [[nodiscard]] model::error unreachable(const std::string& what) const {
    return model::make_error(unreachable_error, what);
  }

  /// Runs the operations started until they are done (each has a timer).
  void run() {
    io.restart();
    io.run();
  }

  model::result<void> connect() {
    asio::ip::tcp::resolver resolver{io};
    beast::error_code ec;
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec)
      return unreachable("cannot find the signoff server at " + url.text + ": "
                         + ec.message());
    stream.expires_after(limits.connect);
    stream.async_connect(endpoints,
                         [&](const beast::error_code& e,
                             const asio::ip::tcp::endpoint&) { ec = e; });
    run();
    if (ec == beast::error::timeout)
      return unreachable("the signoff server at " + url.text
                         + " accepted no connection within "
                         + duration_text(limits.connect));
    if (ec)
      return unreachable("cannot connect to the signoff server at " + url.text
                         + ": " + ec.message());
    connected = true;
    buffer.clear();
    return model::ok();
  }

  void disconnect() {
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream.close();
    connected = false;
  }

  /// Sends `req` on the open connection and reads the answer into `out`.
  beast::error_code exchange(const request& req, http_answer& out) {
    beast::error_code ec;
    stream.expires_after(limits.answer);
    http::async_write(stream, req,
                      [&](const beast::error_code& e, std::size_t) { ec = e; });
    run();
    if (ec)
      return ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_answer_bytes);
    http::async_read(stream, buffer, parser,
                     [&](const beast::error_code& e, std::size_t) { ec = e; });
    run();
    if (ec)
      return ec;
    const auto& res = parser.get();
    out.status = res.result_int();
    boost::system::error_code parse_ec;
    auto body = boost::json::parse(res.body(), parse_ec);
    out.body = parse_ec ? boost::json::value{} : std::move(body);
    if (!res.keep_alive())
      disconnect();
    return {};
  }

  model::result<http_answer> send(const request& req, bool repeatable) {
    const bool reused = connected;
    if (!connected)
      if (auto opened = connect(); opened.is_err())
        return opened.error();
    http_answer out;
    auto ec = exchange(req, out);
    if (ec && ec != beast::error::timeout && reused && repeatable) {
      // The server may have closed the kept-alive connection meanwhile.
      disconnect();
      if (auto opened = connect(); opened.is_err())
        return opened.error();
      ec = exchange(req, out);
    }
    if (!ec)
      return out;
    disconnect();
    if (ec == beast::error::timeout)
      return unreachable(
        "the signoff server at " + url.text + " did not answer within "
        + duration_text(limits.answer)
        + (repeatable ? "" : "; what was asked may still take effect"));
    return unreachable("the connection to the signoff server at " + url.text
                       + " failed: " + ec.message());
  }

  [[nodiscard]] request make_request(http::verb method,
                                     const std::string& path) const {
    request req{method, url.base + path, 11};
    const bool ipv6 = url.host.find(':') != std::string::npos;
    req.set(http::field::host,
            (ipv6 ? "[" + url.host + "]" : url.host) + ":" + url.port);
    req.set(http::field::user_agent, "signoff-cli");
    req.set(http::field::accept, "application/json");
    if (!token.empty())
      req.set(http::field::authorization, "Bearer " + token);
    req.keep_alive(true);
    return req;
  }
};

http_client::http_client(server_url url, std::string token, http_limits limits)
    : impl_(std::make_unique<impl>(std::move(url), std::move(token), limits)) {}

http_client::~http_client() = default;

model::result<http_answer> http_client::get(const std::string& path) {
  auto req = impl_->make_request(http::verb::get, path);
  req.prepare_payload();
  return impl_->send(req, true);
}

model::result<http_answer> http_client::post(const std::string& path,
                                             const boost::json::value& body) {
  auto req = impl_->make_request(http::verb::post, path);
  req.set(http::field::content_type, "application/json");
  req.body() = boost::json::serialize(body);
  req.prepare_payload();
  return impl_->send(req, false);
}

} // namespace signoff::cli
