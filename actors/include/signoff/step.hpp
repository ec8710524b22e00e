#pragma once

// Writing workflows: the coroutine type, the step handle (with requests to
// other actors) and the workflow function type.

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/json/value.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_type.hpp>

#include "signoff/model/step.hpp"
#include "signoff/model/task.hpp"

namespace signoff {

/// A lazy coroutine; workflows and async steps return one.
template <class T = void>
using task = model::task<T>;

/// What `step::request` needs from the run's actor, which implements it.
class request_host : public model::step_host {
public:
  /// The run's actor: requests go out from it and replies come back to it.
  [[nodiscard]] virtual caf::event_based_actor& self() noexcept = 0;

  /// How long a request that names no timeout waits for its reply.
  [[nodiscard]] virtual model::duration request_timeout() const noexcept = 0;

  /// Marks `waiter` as waiting for a reply that `complete` will deliver
  /// into `out`; returns the token `complete` takes.
  virtual std::uint64_t await_reply(std::coroutine_handle<> waiter,
                                    model::checkpoint& out)
    = 0;

  /// Delivers the reply for `token` and resumes its waiter; ignored once
  /// the run has moved on (its coroutine was destroyed).
  virtual void complete(std::uint64_t token, model::checkpoint result) = 0;

  /// The error for a request's failure reply (or its timeout).
  [[nodiscard]] virtual model::error
  request_error(const caf::error& e) const = 0;
};

namespace detail {

/// The reply type of a request to `Handle` with arguments `Ts`: named by
/// the caller (`Reply`), or deduced from a typed handle's signature.
template <class Reply, class Handle, class... Ts>
struct request_reply {
  using type = Reply;
};

template <class Handle, class... Ts>
struct request_reply<void, Handle, Ts...> {
  using outputs = caf::response_type_t<
    typename Handle::signatures,
    typename caf::detail::implicit_conversions<std::decay_t<Ts>>::type...>;
  static_assert(!std::is_same_v<outputs, caf::message>,
                "a dynamically typed actor: name the reply type, as in "
                "step.request<reply_type>(key, actor, ...)");
  template <class List>
  struct single;
  template <class X>
  struct single<caf::detail::type_list<X>> {
    using type = X;
  };
  using type = typename single<outputs>::type;
};

/// Suspends for a request's reply, delivered by the run's actor.
template <class Reply, class Handle, class... Ts>
struct request_awaiter {
  // A constructor, not aggregate braces: see model::detail's awaiters.
  request_awaiter(request_host& h, std::string_view k, model::duration t,
                  Handle d, std::tuple<Ts...> xs, model::checkpoint& o)
      : host(h), key(k), timeout(t), dest(std::move(d)), args(std::move(xs)),
        out(o) {}

  request_host& host;
  std::string_view key;
  model::duration timeout;
  Handle dest;
  std::tuple<Ts...> args;
  model::checkpoint& out;

  [[nodiscard]] bool await_ready() const noexcept {
    return false;
  }

  void await_suspend(std::coroutine_handle<> waiter) {
    const auto token = host.await_reply(waiter, out);
    auto* h = &host;
    std::string step_key{key};
    std::apply(
      [&](auto&... xs) {
        host.self()
          .request(dest, timeout, std::move(xs)...)
          .then(
            [h, token, step_key](Reply& reply) {
              h->complete(token, model::detail::produce_outcome(
                                   step_key, std::move(reply))
                                   .result);
            },
            [h, token](caf::error& e) {
              h->complete(token, model::err(h->request_error(e)));
            });
      },
      args);
  }

  void await_resume() const noexcept {}
};

} // namespace detail

/// The step handle a workflow receives: everything of `model::step`, plus
/// steps that ask another actor.
class step : public model::step {
public:
  explicit step(request_host& host) : model::step(host) {}

  /// Sends `xs...` to the actor `dest` as a step: the reply (converted with
  /// Boost.JSON; a `result<T>` reply is unwrapped) is the step's value and
  /// its checkpoint, and the run holds no thread while it waits. An error
  /// reply (REQUEST_FAILED), no reply within `timeout` (REQUEST_TIMEOUT) or
  /// an error result ends the run with that error; all three are kept as
  /// the checkpoint, like a reply. For a typed handle the reply type is
  /// deduced; for `caf::actor`, name it: `request<receipt>(...)`.
  template <class Reply = void, class Handle, class... Ts>
  auto request(std::string key, model::duration timeout, Handle dest,
               Ts... xs)
    -> task<typename model::detail::step_value<
      typename detail::request_reply<Reply, Handle, Ts...>::type>::type> {
    auto r = co_await try_request<Reply>(std::move(key), timeout,
                                         std::move(dest), std::move(xs)...);
    if (r.is_err())
      co_await end_with(std::move(r.error()));
    if constexpr (!std::is_void_v<typename decltype(r)::value_type>)
      co_return std::move(r).value();
  }

  /// As `request(key, timeout, dest, xs...)` with the orchestrator's
  /// `request_timeout`.
  template <class Reply = void, class Handle, class... Ts>
  requires(!std::is_convertible_v<Handle, model::duration>)
  auto request(std::string key, Handle dest, Ts... xs) {
    return request<Reply>(std::move(key), requests().request_timeout(),
                          std::move(dest), std::move(xs)...);
  }

  /// As `request`, but an error comes back to branch on instead of ending
  /// the run.
  template <class Reply = void, class Handle, class... Ts>
  auto try_request(std::string key, model::duration timeout, Handle dest,
                   Ts... xs)
    -> task<model::result<typename model::detail::step_value<
      typename detail::request_reply<Reply, Handle, Ts...>::type>::type>> {
    using reply_type =
      typename detail::request_reply<Reply, Handle, Ts...>::type;
    using value_type = typename model::detail::step_value<reply_type>::type;
    if (const auto* saved = host().saved(key))
      co_return replay<value_type>(*saved);
    model::checkpoint made;
    co_await detail::request_awaiter<reply_type, Handle, Ts...>(
      requests(), key, timeout, std::move(dest),
      std::tuple<Ts...>{std::move(xs)...}, made);
    host().keep(std::move(key), made);
    co_return replay<value_type>(made);
  }

  /// As `try_request(key, timeout, dest, xs...)` with the orchestrator's
  /// `request_timeout`.
  template <class Reply = void, class Handle, class... Ts>
  requires(!std::is_convertible_v<Handle, model::duration>)
  auto try_request(std::string key, Handle dest, Ts... xs) {
    return try_request<Reply>(std::move(key), requests().request_timeout(),
                              std::move(dest), std::move(xs)...);
  }

private:
  [[nodiscard]] request_host& requests() const noexcept {
    return static_cast<request_host&>(host());
  }
};

/// A workflow: a coroutine that runs its steps on `input` and returns the
/// run's result. A resident run continues where it stopped; a run
/// re-activated from the store runs it again from the top over its
/// checkpoints, so anything with an effect belongs inside a step. The
/// function object is shared by every run of the workflow and kept alive
/// while any of them executes: capture shared state by value or through a
/// `shared_ptr`, never a reference to something that may go away.
using workflow = std::function<task<model::result<boost::json::value>>(
  step&, const boost::json::value&)>;

} // namespace signoff
