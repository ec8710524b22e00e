#include "signoff/http/notifier.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "signoff/http/crypto.hpp"

namespace signoff::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

struct endpoint {
  std::string host;
  std::string port;
  std::string target;
};

/// Splits `http://host[:port][/path]`; nothing for anything else.
std::optional<endpoint> parse_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme))
    return std::nullopt;
  url.remove_prefix(scheme.size());
  auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  endpoint out{
    std::string{authority}, "80",
    slash == std::string_view::npos ? "/" : std::string{url.substr(slash)}};
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  }
  if (out.host.empty())
    return std::nullopt;
  return out;
}

/// Posts `body` to `url`; true on a 2xx answer within `timeout`.
bool post(const std::string& url, const std::string& body,
          const std::string& event_id, const std::string& secret,
          model::duration timeout) {
  auto where = parse_url(url);
  if (!where)
    return false;
  try {
    asio::io_context io;
    beast::tcp_stream stream{io};
    stream.expires_after(timeout);
    asio::ip::tcp::resolver resolver{io};
    stream.connect(resolver.resolve(where->host, where->port));
    const auto timestamp
      = std::to_string(model::to_millis(model::system_now()));
    beast::http::request<beast::http::string_body> req{beast::http::verb::post,
                                                       where->target, 11};
    req.set(beast::http::field::host, where->host);
    req.set(beast::http::field::content_type, "application/json");
    req.set("X-Signoff-Event-Id", event_id);
    req.set("X-Signoff-Timestamp", timestamp);
    req.set("X-Signoff-Signature",
            "sha256=" + hmac_sha256_hex(secret, timestamp + "." + body));
    req.body() = body;
    req.prepare_payload();
    beast::http::write(stream, req);
    beast::flat_buffer buffer;
    beast::http::response<beast::http::string_body> res;
    beast::http::read(stream, buffer, res);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return res.result_int() >= 200 && res.result_int() < 300;
  } catch (const std::exception&) {
    return false; // unreachable, refused, timed out: retried later
  }
}

} // namespace

struct notifier::impl {
  std::shared_ptr<persistence::outbox> outbox;
  notifier_options options;
  std::thread worker;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;

  model::duration backoff(std::uint32_t attempts) const {
    auto wait = options.first_retry;
    for (std::uint32_t i = 1; i < attempts && wait < options.max_retry; ++i)
      wait *= 2;
    return std::min(wait, options.max_retry);
  }
};

notifier::notifier(std::shared_ptr<persistence::outbox> outbox,
                   notifier_options options)
    : impl_(std::make_unique<impl>()) {
  impl_->outbox = std::move(outbox);
  impl_->options = std::move(options);
}

notifier::~notifier() {
  stop();
}

model::result<std::size_t> notifier::deliver_due() {
  auto& d = *impl_;
  constexpr std::size_t batch = 64;
  auto due = d.outbox->due(model::system_now(), batch);
  if (due.is_err())
    return due.error();
  std::size_t delivered = 0;
  for (const auto& entry : due.value()) {
    auto event = entry.event;
    if (auto* obj = event.if_object())
      (*obj)["id"] = entry.id;
    const auto body = boost::json::serialize(event);
    const auto id = std::to_string(entry.id);
    const bool all = std::all_of(
      d.options.urls.begin(), d.options.urls.end(), [&](const auto& url) {
        return post(url, body, id, d.options.secret, d.options.timeout);
      });
    if (all) {
      if (auto removed = d.outbox->remove(entry.id); removed.is_err())
        return removed.error();
      ++delivered;
      continue;
    }
    const auto attempts = entry.attempts + 1;
    if (auto later = d.outbox->retry_later(
          entry.id, attempts, model::system_now() + d.backoff(attempts));
        later.is_err())
      return later.error();
  }
  return delivered;
}

void notifier::start() {
  auto& d = *impl_;
  if (d.worker.joinable() || d.options.urls.empty())
    return;
  d.stopping = false;
  d.worker = std::thread{[this] {
    auto& d = *impl_;
    std::unique_lock lock{d.mutex};
    while (!d.stopping) {
      lock.unlock();
      (void)deliver_due();
      lock.lock();
      d.wake.wait_for(lock, d.options.poll_interval,
                      [&d] { return d.stopping; });
    }
  }};
}

void notifier::stop() {
  auto& d = *impl_;
  {
    std::lock_guard guard{d.mutex};
    d.stopping = true;
  }
  d.wake.notify_all();
  if (d.worker.joinable())
    d.worker.join();
}

} // namespace signoff::http
