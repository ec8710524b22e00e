#include "signoff/http/notifier.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "signoff/http/crypto.hpp"
#include "signoff/model/json_text.hpp"
#include "text.hpp"

namespace signoff::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;

/// At most this many entries are read from the outbox per pass.
constexpr std::size_t batch = 64;

struct endpoint {
  std::string host;
  std::string port;
  std::string target;
};

/// `http://host[:port][/path][?query]`; nothing for anything else.
std::optional<endpoint> parse_url(std::string_view text) {
  auto url = urls::parse_absolute_uri(text);
  if (!url || !detail::whole_authority(*url)
      || url->scheme_id() != urls::scheme::http || url->encoded_host().empty()
      || url->has_userinfo())
    return std::nullopt;
  std::string target(url->encoded_path());
  if (target.empty())
    target = "/";
  if (url->has_query())
    target += "?" + std::string{url->encoded_query()};
  return endpoint{url->host_address(), url->has_port() ? url->port() : "80",
                  std::move(target)};
}

} // namespace

struct notifier::impl {
  class lane;

  impl(std::shared_ptr<persistence::outbox> box, notifier_options opts);

  model::duration backoff(std::uint32_t attempts) const {
    auto wait = options.first_retry;
    for (std::uint32_t i = 1; i < attempts && wait < options.max_retry; ++i)
      wait *= 2;
    return std::min(wait, options.max_retry);
  }

  /// Gives every idle receiver the due entries it has not had.
  void pass();
  /// A pass every poll interval, until stopped.
  void tick();
  /// Receiver `by` has had entry `id`; the entry leaves the outbox once
  /// every receiver has.
  void delivered(std::uint64_t id);
  void failed(const model::error& e) {
    if (!failure)
      failure = e;
  }

  std::shared_ptr<persistence::outbox> outbox;
  notifier_options options;
  asio::io_context io;
  asio::steady_timer poll_timer{io};
  std::vector<std::shared_ptr<lane>> lanes;
  std::thread worker;
  // For deliver_due: what the pass did.
  std::size_t removed = 0;
  std::optional<model::error> failure;
};

/// One receiver's deliveries, one attempt at a time, on the notifier's
/// thread.
class notifier::impl::lane : public std::enable_shared_from_this<lane> {
public:
  lane(impl& owner, const std::string& url)
      : owner_(owner), where_(parse_url(url)), resolver_(owner.io),
        socket_(owner.io), deadline_(owner.io) {}

  [[nodiscard]] bool has(std::uint64_t id) const {
    return delivered_.contains(id);
  }
  void forget(std::uint64_t id) {
    delivered_.erase(id);
  }

  /// Starts on the entries of `due` it has not had, unless still busy with
  /// earlier ones.
  void begin(const std::vector<persistence::outbox_entry>& due) {
    if (!queue_.empty() || in_flight_)
      return;
    for (const auto& entry : due)
      if (!has(entry.id))
        queue_.push_back(entry);
    next();
  }

  /// Drops what is in flight and queued; their entries stay owed.
  void abandon() {
    ++attempt_; // what is still under way finds itself stale
    queue_.clear();
    in_flight_ = false;
    close();
  }

private:
  void next() {
    if (queue_.empty())
      return;
    in_flight_ = true;
    const auto entry = queue_.front();
    queue_.pop_front();
    if (!where_) {
      finish(entry, false);
      return;
    }
    auto event = entry.event;
    if (auto* obj = event.if_object())
      (*obj)["id"] = entry.id;
    const auto body = model::write_json(event);
    const auto timestamp
      = std::to_string(model::to_millis(model::system_now()));
    request_ = {beast::http::verb::post, where_->target, 11};
    request_.set(beast::http::field::host, where_->host);
    request_.set(beast::http::field::content_type, "application/json");
    request_.set("X-Signoff-Event-Id", std::to_string(entry.id));
    request_.set("X-Signoff-Timestamp", timestamp);
    request_.set(
      "X-Signoff-Signature",
      "sha256="
        + hmac_sha256_hex(owner_.options.secret, timestamp + "." + body));
    request_.body() = body;
    request_.prepare_payload();
    response_ = {};
    buffer_.clear();

    const auto attempt = ++attempt_;
    // Each step checks that its attempt is still the current one: a
    // deadline or a stop may have ended it meanwhile.
    auto current = [self = shared_from_this(), attempt] {
      return self->attempt_ == attempt;
    };
    expire_after(owner_.options.connect_timeout, attempt);
    resolver_.async_resolve(
      where_->host, where_->port,
      [self = shared_from_this(), entry, current](
        beast::error_code ec, const tcp::resolver::results_type& found) {
        if (!current())
          return;
        if (ec) {
          self->finish(entry, false);
          return;
        }
        asio::async_connect(
          self->socket_, found,
          [self, entry, current](beast::error_code ec, const tcp::endpoint&) {
            if (!current())
              return;
            if (ec) {
              self->finish(entry, false);
              return;
            }
            self->expire_after(self->owner_.options.response_timeout,
                               self->attempt_);
            self->exchange(entry, current);
          });
      });
  }

  template <class Current>
  void exchange(const persistence::outbox_entry& entry, Current current) {
    beast::http::async_write(
      socket_, request_,
      [self = shared_from_this(), entry, current](beast::error_code ec,
                                                  std::size_t) {
        if (!current())
          return;
        if (ec) {
          self->finish(entry, false);
          return;
        }
        beast::http::async_read(
          self->socket_, self->buffer_, self->response_,
          [self, entry, current](beast::error_code ec, std::size_t) {
            if (!current())
              return;
            const auto code = self->response_.result_int();
            self->finish(entry, !ec && code >= 200 && code < 300);
          });
      });
  }

  /// Ends attempt `attempt` by closing its connection once `after` passed.
  void expire_after(model::duration after, std::uint64_t attempt) {
    deadline_.expires_after(after);
    deadline_.async_wait(
      [self = shared_from_this(), attempt](beast::error_code ec) {
        if (!ec && self->attempt_ == attempt)
          self->close();
      });
  }

  void close() {
    resolver_.cancel();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    deadline_.cancel();
  }

  void finish(const persistence::outbox_entry& entry, bool ok) {
    ++attempt_;
    close();
    if (ok) {
      delivered_.insert(entry.id);
      owner_.delivered(entry.id);
    } else {
      const auto attempts = entry.attempts + 1;
      if (auto later = owner_.outbox->retry_later(
            entry.id, attempts, model::system_now() + owner_.backoff(attempts));
          later.is_err())
        owner_.failed(later.error());
    }
    in_flight_ = false;
    next();
  }

  impl& owner_;
  std::optional<endpoint> where_;
  /// Entries this receiver had that others have not had yet.
  std::set<std::uint64_t> delivered_;
  std::deque<persistence::outbox_entry> queue_;
  bool in_flight_ = false;
  /// Numbers the attempts; a step of an earlier one does nothing.
  std::uint64_t attempt_ = 0;
  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  beast::flat_buffer buffer_;
  beast::http::request<beast::http::string_body> request_;
  beast::http::response<beast::http::string_body> response_;
};

notifier::impl::impl(std::shared_ptr<persistence::outbox> box,
                     notifier_options opts)
    : outbox(std::move(box)), options(std::move(opts)) {
  for (const auto& url : options.urls)
    lanes.push_back(std::make_shared<lane>(*this, url));
}

void notifier::impl::pass() {
  auto due = outbox->due(model::system_now(), batch);
  if (due.is_err()) {
    failed(due.error());
    return;
  }
  if (lanes.empty()) {
    // No receiver is configured: every one of them (none) has the events,
    // so they leave the outbox instead of piling up in it.
    for (const auto& entry : due.value())
      delivered(entry.id);
    return;
  }
  for (auto& l : lanes)
    l->begin(due.value());
}

void notifier::impl::tick() {
  pass();
  poll_timer.expires_after(options.poll_interval);
  poll_timer.async_wait([this](beast::error_code ec) {
    if (!ec)
      tick();
  });
}

void notifier::impl::delivered(std::uint64_t id) {
  if (!std::all_of(lanes.begin(), lanes.end(),
                   [id](const auto& l) { return l->has(id); }))
    return;
  if (auto gone = outbox->remove(id); gone.is_err()) {
    failed(gone.error());
    return;
  }
  for (auto& l : lanes)
    l->forget(id);
  ++removed;
}

notifier::notifier(std::shared_ptr<persistence::outbox> outbox,
                   notifier_options options)
    : impl_(std::make_unique<impl>(std::move(outbox), std::move(options))) {}

notifier::~notifier() {
  stop();
}

model::result<std::size_t> notifier::deliver_due() {
  auto& d = *impl_;
  d.removed = 0;
  d.failure.reset();
  d.io.restart();
  d.pass();
  d.io.run();
  if (d.failure)
    return *d.failure;
  return d.removed;
}

void notifier::start() {
  auto& d = *impl_;
  if (d.worker.joinable())
    return;
  d.io.restart();
  asio::post(d.io, [&d] { d.tick(); });
  d.worker = std::thread{[&d] {
    d.io.run();
  }};
}

void notifier::stop() {
  auto& d = *impl_;
  if (!d.worker.joinable())
    return;
  d.io.stop();
  d.worker.join();
  // The thread is gone: what was under way is dropped here, and its
  // handlers, should it start again, find themselves stale.
  d.poll_timer.cancel();
  for (auto& l : d.lanes)
    l->abandon();
}

} // namespace signoff::http
