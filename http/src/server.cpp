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
    if (auto res = routes_.respond(*parser_, ec))
      write(std::move(*res));
    else
      close();
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
  std::optional<detail::request_parser> parser_;
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
