#include "signoff/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <variant>
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

/// How the outcome of a call reaches its connection from any thread (an
/// actor's, mostly): posted to the io threads while the server's
/// io_context is there, dropped once it stopped. Callbacks hold it, so it
/// outlives the server.
class call_gate {
public:
  explicit call_gate(asio::io_context& io) : io_(&io) {}

  template <class Handler>
  void post(Handler&& handler) {
    std::lock_guard guard{mutex_};
    if (io_ != nullptr)
      asio::post(*io_, std::forward<Handler>(handler));
  }

  /// Nothing is posted from now on; called before the io_context goes.
  void close() noexcept {
    std::lock_guard guard{mutex_};
    io_ = nullptr;
  }

private:
  std::mutex mutex_;
  asio::io_context* io_;
};

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
  /// Set once the io_context is there.
  std::shared_ptr<call_gate> gate;
};

namespace {

/// One connection: read a request, answer it, repeat while kept alive.
/// Whatever its handlers throw closes it, and only it. A request that
/// needs the orchestrator parks the connection: its call is sent, no
/// thread waits for it, and nothing more is read (so pipelined requests
/// keep their order) until the reply came and its response was written.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, shared_state& server)
      : stream_(std::move(socket)), parked_(stream_.get_executor()),
        server_(server), reader_(server.options.max_body_bytes) {
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
      unpark();
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
      auto out = server_.routes.answer_to(reader_.parser(), read_error);
      if (!out)
        close();
      else if (auto* call = std::get_if<detail::deferred>(&*out))
        start_call(*call);
      else
        write(std::move(std::get<detail::response>(*out)));
    });
  }

  /// Parks the connection and starts `call`; its outcome comes back
  /// through `answered`.
  void start_call(const detail::deferred& call) {
    // The wait never ends by itself: it keeps the connection alive until
    // `unpark` cancels it, or the server's io_context goes.
    waiting_ = true;
    parked_.expires_at(asio::steady_timer::time_point::max());
    parked_.async_wait([self = shared_from_this()](beast::error_code) {});
    call([gate = server_.gate, weak = weak_from_this()](detail::finish make) {
      // Any thread: only hand it to the io threads. A connection already
      // gone (or a server stopped) drops it.
      gate->post([weak, make = std::move(make)]() mutable {
        if (auto self = weak.lock())
          self->answered(std::move(make));
      });
    });
  }

  /// On an io thread: the call's outcome arrived; its response is made and
  /// written on the connection's strand.
  void answered(detail::finish make) {
    asio::dispatch(stream_.get_executor(),
                   [self = shared_from_this(), make = std::move(make)] {
                     self->guarded(connection_step::reply, [&] {
                       if (self->unpark()) // else the connection failed
                         self->write(make(self->reader_.parser().get()));
                     });
                   });
  }

  /// Ends the wait of the call in flight; false if there was none.
  bool unpark() noexcept {
    if (!waiting_)
      return false;
    waiting_ = false;
    try {
      parked_.cancel();
    } catch (...) { // NOLINT(bugprone-empty-catch): closing frees it anyway
    }
    return true;
  }

  void write(response res) {
    server_.routes.served().count(res.result_int());
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
  /// Waited on while a call is in flight (see `start_call`).
  asio::steady_timer parked_;
  bool waiting_ = false;
  shared_state& server_;
  detail::request_reader reader_;
};

} // namespace

struct http_server::impl {
  impl(orchestrator& target, server_options options)
      : shared(target, std::move(options)) {
    shared.gate = std::make_shared<call_gate>(io);
  }

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
  // Replies of calls still in flight are dropped from now on; their
  // connections go with the io_context.
  d.shared.gate->close();
  beast::error_code ignored;
  d.acceptor.close(ignored);
}

std::uint16_t http_server::port() const noexcept {
  return impl_->port;
}

} // namespace signoff::http
