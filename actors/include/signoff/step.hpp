#pragma once

// Writing workflows: the coroutine type, the step handle (with requests to
// other actors) and the workflow function type.

#include <chrono>
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
  virtual std::uint64_t await_reply(model::step_waiter& waiter,
                                    model::checkpoint& out)
    = 0;

  /// Delivers the reply for `token` into its `out` and calls its waiter's
  /// `finished`; ignored once the run has moved on (the waiter is gone).
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

/// Sends a request as a step and suspends for its reply, delivered by the
/// run's actor: the step the workflow awaits for `step.request(...)`.
template <class Reply, class Handle, bool Ends, class... Ts>
class request_awaiter final
    : public model::detail::step_awaiter<
        typename model::detail::step_value<Reply>::type, Ends> {
  using base = model::detail::step_awaiter<
    typename model::detail::step_value<Reply>::type, Ends>;

public:
  request_awaiter(request_host& host, std::string key, model::duration timeout,
                  Handle dest, std::tuple<Ts...> args)
      : base(host, std::move(key)), requests_(&host), timeout_(timeout),
        dest_(std::move(dest)), args_(std::move(args)) {}

  void finished() override {
    this->resume_if(this->settle(std::move(reply_), true));
  }

private:
  bool begin() override {
    const auto token = requests_->await_reply(*this, reply_);
    auto* host = requests_;
    std::apply(
      [&](auto&... xs) {
        host->self()
          .request(dest_, timeout_, std::move(xs)...)
          .then(
            [host, token, key = this->key_](Reply& reply) {
              host->complete(
                token,
                model::detail::produce_outcome(key, std::move(reply)).result);
            },
            [host, token](caf::error& e) {
              host->complete(token, model::err(host->request_error(e)));
            });
      },
      args_);
    return false;
  }

  request_host* requests_;
  model::duration timeout_;
  Handle dest_;
  std::tuple<Ts...> args_;
  model::checkpoint reply_{};
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
               Ts&&... xs) {
    return make_request<true, Reply>(std::move(key), timeout, std::move(dest),
                                     std::forward<Ts>(xs)...);
  }

  /// As `request(key, timeout, dest, xs...)` with the orchestrator's
  /// `request_timeout`.
  template <class Reply = void, class Handle, class... Ts>
  requires(!std::is_convertible_v<Handle, model::duration>) auto request(
    std::string key, Handle dest, Ts&&... xs) {
    return request<Reply>(std::move(key), requests().request_timeout(),
                          std::move(dest), std::forward<Ts>(xs)...);
  }

  /// As `request`, but an error comes back to branch on instead of ending
  /// the run.
  template <class Reply = void, class Handle, class... Ts>
  auto try_request(std::string key, model::duration timeout, Handle dest,
                   Ts&&... xs) {
    return make_request<false, Reply>(std::move(key), timeout, std::move(dest),
                                      std::forward<Ts>(xs)...);
  }

  /// As `try_request(key, timeout, dest, xs...)` with the orchestrator's
  /// `request_timeout`.
  template <class Reply = void, class Handle, class... Ts>
  requires(!std::is_convertible_v<Handle, model::duration>) auto try_request(
    std::string key, Handle dest, Ts&&... xs) {
    return try_request<Reply>(std::move(key), requests().request_timeout(),
                              std::move(dest), std::forward<Ts>(xs)...);
  }

private:
  [[nodiscard]] request_host& requests() const noexcept {
    return static_cast<request_host&>(host());
  }

  template <bool Ends, class Reply, class Handle, class... Ts>
  auto make_request(std::string key, model::duration timeout, Handle dest,
                    Ts&&... xs) {
    static_assert((!model::detail::is_gcc12_doomed_temporary<Ts> && ...),
                  SIGNOFF_GCC12_TEMPORARY_ADVICE);
    using reply_type =
      typename detail::request_reply<Reply, Handle, std::decay_t<Ts>...>::type;
    return detail::request_awaiter<reply_type, Handle, Ends,
                                   std::decay_t<Ts>...>(
      requests(), std::move(key), timeout, std::move(dest),
      std::tuple<std::decay_t<Ts>...>{std::forward<Ts>(xs)...});
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
