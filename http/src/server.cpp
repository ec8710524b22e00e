#include "signoff/http/server.hpp"

#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "router.hpp"

namespace signoff::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using detail::request;
using detail::response;

/// A client that sends nothing for this long is disconnected.
constexpr auto idle_timeout = std::chrono::seconds{30};

/// One connection: read a request, answer it, repeat while kept alive.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, const detail::router& routes,
          std::size_t max_body)
      : stream_(std::move(socket)), routes_(routes), max_body_(max_body) {}

  void start() {
    asio::dispatch(stream_.get_executor(),
                   [self = shared_from_this()] { self->read(); });
  }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(max_body_);
    stream_.expires_after(idle_timeout);
    beast::http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->on_read(ec);
      });
  }

  void on_read(beast::error_code ec) {
    if (ec == beast::http::error::body_limit) {
      auto res = detail::router::too_large(parser_->get().version());
      res.keep_alive(false);
      write(std::move(res));
      return;
    }
    if (unanswerable(ec)) {
      close();
      return;
    }
    // A coding other than chunked leaves the body's end unknown, and what
    // follows would be read as another request (RFC 9112, 6.3): refused
    // like any request that is not valid HTTP.
    if (ec
        || (parser_->get().count(beast::http::field::transfer_encoding) != 0
            && !parser_->chunked())) {
      auto res
        = detail::router::malformed(ec == beast::http::error::header_limit);
      res.keep_alive(false);
      write(std::move(res));
      return;
    }
    write(routes_.handle(parser_->get()));
  }

  /// True when there is nobody to answer: the client closed before its
  /// request was complete, went silent, or the socket failed. Any other
  /// failure is bytes that are no HTTP request, which get an answer.
  static bool unanswerable(const beast::error_code& ec) {
    if (!ec)
      return false;
    const auto& http_errors
      = beast::http::make_error_code(beast::http::error::end_of_stream)
          .category();
    return ec.category() != http_errors
           || ec == beast::http::error::end_of_stream
           || ec == beast::http::error::partial_message
           || ec == beast::http::error::short_read;
  }

  void write(response res) {
    auto owned = std::make_shared<response>(std::move(res));
    beast::http::async_write(
      stream_, *owned,
      [self = shared_from_this(), owned](beast::error_code ec, std::size_t) {
        if (ec || owned->need_eof())
          self->close();
        else
          self->read();
      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  const detail::router& routes_;
  std::size_t max_body_;
};

} // namespace

struct http_server::impl {
  impl(orchestrator& target, server_options opts)
      : options(std::move(opts)), routes(target, options) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io),
                          [this](beast::error_code ec, tcp::socket socket) {
                            if (ec)
                              return; // stopped
                            std::make_shared<session>(std::move(socket), routes,
                                                      options.max_body_bytes)
                              ->start();
                            accept();
                          });
  }

  server_options options;
  detail::router routes;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
};

http_server::http_server(orchestrator& target, server_options options)
    : impl_(std::make_unique<impl>(target, std::move(options))) {}

http_server::~http_server() {
  stop();
}

model::result<void> http_server::start() {
  auto& d = *impl_;
  beast::error_code ec;
  auto address = asio::ip::make_address(d.options.address, ec);
  if (ec)
    return model::make_error(model::error_type::invalid_argument,
                             "bad address '" + d.options.address + "'");
  tcp::endpoint endpoint{address, d.options.port};
  if (d.acceptor.open(endpoint.protocol(), ec); !ec)
    d.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    d.acceptor.bind(endpoint, ec);
  if (!ec)
    d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return model::make_error(model::error_type::invalid_argument,
                             "cannot listen on " + d.options.address + ":"
                               + std::to_string(d.options.port) + ": "
                               + ec.message());
  d.port = d.acceptor.local_endpoint().port();
  d.accept();
  for (std::size_t i = 0; i < std::max<std::size_t>(1, d.options.threads); ++i)
    d.threads.emplace_back([&io = d.io] { io.run(); });
  return model::ok();
}

void http_server::stop() {
  auto& d = *impl_;
  d.io.stop();
  for (auto& t : d.threads)
    t.join();
  d.threads.clear();
  beast::error_code ignored;
  d.acceptor.close(ignored);
}

std::uint16_t http_server::port() const noexcept {
  return impl_->port;
}

} // namespace signoff::http
