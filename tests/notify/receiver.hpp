#pragma once

// Webhook receivers on a loopback port: one records every POST it gets and
// answers 500 to the first `failures` of them; one accepts connections and
// never answers.

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace signoff::test {

struct received_request {
  std::string body;
  std::string event_id;
  std::string timestamp;
  std::string signature;
};

class receiver {
public:
  explicit receiver(int failures = 0, unsigned short port = 0)
      : failures_(failures),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), port}) {
    thread_ = std::thread{[this] {
      serve();
    }};
  }
  ~receiver() {
    stopping_ = true;
    // A blocking accept is not interrupted by closing the acceptor from
    // another thread: connect once to wake it.
    boost::system::error_code ignored;
    boost::asio::ip::tcp::socket poke{io_};
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port()}, ignored);
    thread_.join();
    acceptor_.close(ignored);
  }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  [[nodiscard]] unsigned short port() const {
    return acceptor_.local_endpoint().port();
  }
  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port()) + "/hook";
  }
  [[nodiscard]] std::vector<received_request> received() const {
    std::lock_guard guard{mutex_};
    return received_;
  }
  [[nodiscard]] int refused() const {
    return refused_;
  }
  /// The event id of every request, refused ones too, in order.
  [[nodiscard]] std::vector<std::string> attempts() const {
    std::lock_guard guard{mutex_};
    return attempts_;
  }

private:
  void serve() {
    namespace http = boost::beast::http;
    while (!stopping_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket{io_};
      acceptor_.accept(socket, ec);
      if (ec || stopping_)
        return;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec)
        continue;
      const bool fail = refused_ < failures_;
      {
        std::lock_guard guard{mutex_};
        attempts_.emplace_back(req["X-Signoff-Event-Id"]);
        if (fail)
          ++refused_;
        else
          received_.push_back({req.body(),
                               std::string{req["X-Signoff-Event-Id"]},
                               std::string{req["X-Signoff-Timestamp"]},
                               std::string{req["X-Signoff-Signature"]}});
      }
      http::response<http::string_body> res{
        fail ? http::status::internal_server_error : http::status::ok, 11};
      res.prepare_payload();
      http::write(socket, res, ec);
    }
  }

  int failures_;
  std::atomic<int> refused_{0};
  std::atomic<bool> stopping_{false};
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<received_request> received_;
  std::vector<std::string> attempts_;
};

/// Accepts every connection and keeps it open without reading a byte:
/// a receiver that hangs.
class silent_receiver {
public:
  silent_receiver()
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread{[this] {
      io_.run();
    }};
  }
  ~silent_receiver() {
    io_.stop();
    thread_.join();
  }
  silent_receiver(const silent_receiver&) = delete;
  silent_receiver& operator=(const silent_receiver&) = delete;

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:"
           + std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }
  /// How many connections it took so far.
  [[nodiscard]] int accepted() const {
    return accepted_;
  }

private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec,
                                  boost::asio::ip::tcp::socket socket) {
      if (ec)
        return;
      held_.push_back(std::move(socket));
      ++accepted_;
      accept();
    });
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<boost::asio::ip::tcp::socket> held_;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

/// A listener whose backlog is full: a connection to it never completes
/// (the kernel drops its SYNs), until the listener goes.
class unreachable_receiver {
public:
  unreachable_receiver() : acceptor_(io_) {
    boost::asio::ip::tcp::endpoint at{
      boost::asio::ip::make_address("127.0.0.1"), 0};
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen(0);
    // The one connection a backlog of 0 holds; it is never accepted.
    filler_.connect(acceptor_.local_endpoint());
  }

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:"
           + std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }

private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::socket filler_{io_};
};

} // namespace signoff::test
