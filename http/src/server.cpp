#include "signoff/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "fault_hook.hpp"
#include "router.hpp"
#include "signoff/http/crypto.hpp"

namespace signoff::http {

namespace detail {

std::function<void(connection_step)> fault_hook;

} // namespace detail

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using detail::connection_step;
using detail::response;

/// A client that sends nothing, or reads nothing, for this long is
/// disconnected.
constexpr auto idle_timeout = std::chrono::seconds{30};

/// The first wait before accepting again after accepting failed (mostly:
/// no descriptor left), doubling up to the longest.
constexpr auto first_accept_retry = std::chrono::milliseconds{10};
constexpr auto longest_accept_retry = std::chrono::seconds{1};

/// The text of the exception being handled.
std::string current_failure() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

} // namespace

/// What every connection shares.
struct shared_state {
  shared_state(orchestrator& target, server_options opts)
      : options(std::move(opts)), routes(target, options) {}

  void log(const std::string& line) const noexcept {
    if (!options.logger)
      return;
    try {
      options.logger(line);
    } catch (...) { // NOLINT(bugprone-empty-catch): a logger must not kill us
    }
  }

  server_options options;
  detail::router routes;
  std::atomic<std::size_t> connections{0};
};

namespace {

/// One connection: read a request, answer it, repeat while kept alive.
/// Whatever its handlers throw closes it, and only it.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, shared_state& server)
      : stream_(std::move(socket)), server_(server),
        reader_(server.options.max_body_bytes) {
    ++server_.connections;
  }
  ~session() {
    --server_.connections;
  }
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->guarded(connection_step::accept, [&] { self->receive(); });
    });
  }

  /// Answers 503 and closes: the server has no room for the connection.
  void turn_away() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->guarded(connection_step::write,
                    [&] { self->write(detail::router::busy()); });
    });
  }

private:
  template <class Work>
  void guarded(connection_step step, const Work& work) noexcept {
    try {
      if (detail::fault_hook)
        detail::fault_hook(step);
      work();
    } catch (...) {
      server_.log("closed a connection after an unexpected failure: "
                  + current_failure());
      beast::error_code ignored;
      stream_.socket().close(ignored);
    }
  }

  void receive() {
    stream_.expires_after(idle_timeout);
    stream_.async_read_some(
      reader_.prepare(),
      [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        self->guarded(connection_step::read, [&] {
          if (ec == asio::error::eof)
            self->answer(self->reader_.end_of_input());
          else if (ec)
            self->close(); // silent for too long, or gone
          else {
            self->reader_.commit(n);
            self->parse();
          }
        });
      });
  }

  void parse() {
    const auto ec = reader_.parse();
    if (ec != beast::http::error::need_more)
      answer(ec);
    else if (reader_.take_continue())
      continue_body();
    else
      receive();
  }

  /// Tells a client that waits for it to send its body (RFC 9110, 10.1.1).
  void continue_body() {
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(idle_timeout);
    asio::async_write(
      stream_, asio::buffer(interim),
      [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->guarded(connection_step::write, [&] {
          if (ec)
            self->close();
          else
            self->receive();
        });
      });
  }

  void answer(beast::error_code read_error) {
    guarded(connection_step::route, [&] {
      if (auto res = server_.routes.respond(reader_.parser(), read_error))
        write(std::move(*res));
      else
        close();
    });
  }

  void write(response res) {
    auto owned = std::make_shared<response>(std::move(res));
    stream_.expires_after(idle_timeout);
    beast::http::async_write(
      stream_, *owned,
      [self = shared_from_this(), owned](beast::error_code ec, std::size_t) {
        self->guarded(connection_step::write, [&] {
          if (ec || owned->need_eof()) {
            self->close();
            return;
          }
          // Bytes already read may hold the next request.
          self->reader_.next();
          self->parse();
        });
      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  shared_state& server_;
  detail::request_reader reader_;
};

} // namespace

struct http_server::impl {
  impl(orchestrator& target, server_options options)
      : shared(target, std::move(options)) {}

  void accept();
  void accepted(tcp::socket socket);
  void retry_accept(const beast::error_code& ec);

  shared_state shared;
  // Only the one pending accept's handlers touch these, one after another.
  bool accept_failing = false;
  std::chrono::milliseconds accept_retry = first_accept_retry;

  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_timer{io};
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
};

void http_server::impl::accept() {
  try {
    acceptor.async_accept(asio::make_strand(io),
                          [this](beast::error_code ec, tcp::socket socket) {
                            if (ec == asio::error::operation_aborted)
                              return; // stopped
                            if (ec) {
                              retry_accept(ec);
                              return;
                            }
                            accepted(std::move(socket));
                            accept();
                          });
  } catch (...) {
    retry_accept(asio::error::no_memory);
  }
}

void http_server::impl::accepted(tcp::socket socket) {
  try {
    if (detail::fault_hook)
      detail::fault_hook(connection_step::accept);
    if (accept_failing) {
      accept_failing = false;
      accept_retry = first_accept_retry;
      shared.log("accepting connections again");
    }
    auto s = std::make_shared<session>(std::move(socket), shared);
    if (shared.connections.load() > shared.options.max_connections)
      s->turn_away();
    else
      s->start();
  } catch (...) {
    shared.log("closed a new connection after an unexpected failure: "
               + current_failure());
  }
}

void http_server::impl::retry_accept(const beast::error_code& ec) {
  // Out of descriptors, the pending connection stays in the backlog and
  // every accept fails at once: wait instead of spinning, and say so once.
  if (!accept_failing) {
    accept_failing = true;
    shared.log("cannot accept connections (" + ec.message()
               + "); trying again until it can");
  }
  accept_timer.expires_after(accept_retry);
  accept_retry = std::min<std::chrono::milliseconds>(accept_retry * 2,
                                                     longest_accept_retry);
  accept_timer.async_wait([this](beast::error_code waited) {
    if (!waited)
      accept();
  });
}

http_server::http_server(orchestrator& target, server_options options)
    : impl_(std::make_unique<impl>(target, std::move(options))) {
  auto& secret = impl_->shared.options.form_secret;
  if (secret.empty())
    secret = random_hex(32);
}

http_server::~http_server() {
  stop();
}

model::result<void> http_server::start() {
  auto& d = *impl_;
  beast::error_code ec;
  auto address = asio::ip::make_address(d.shared.options.address, ec);
  if (ec)
    return model::make_error(model::error_type::invalid_argument,
                             "bad address '" + d.shared.options.address + "'");
  tcp::endpoint endpoint{address, d.shared.options.port};
  if (d.acceptor.open(endpoint.protocol(), ec); !ec)
    d.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    d.acceptor.bind(endpoint, ec);
  if (!ec)
    d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return model::make_error(model::error_type::invalid_argument,
                             "cannot listen on " + d.shared.options.address
                               + ":" + std::to_string(d.shared.options.port)
                               + ": " + ec.message());
  d.port = d.acceptor.local_endpoint().port();
  d.accept();
  for (std::size_t i = 0;
       i < std::max<std::size_t>(1, d.shared.options.threads); ++i)
    d.threads.emplace_back([&d] {
      // The last resort: a handler that threw past every other catch
      // (none should) costs its connection, never the server.
      for (;;) {
        try {
          d.io.run();
          return;
        } catch (...) {
          d.shared.log("a connection handler failed: " + current_failure());
        }
      }
    });
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
