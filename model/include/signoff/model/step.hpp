#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/task.hpp"
#include "signoff/model/workflow_state.hpp"

namespace signoff::model {

/// How a workflow asks for an approval, built with setters:
/// `approval_options{}.with_reason("Needs a manager").with_quorum(2)`.
///
/// Not an aggregate, on purpose: g++ 12 destroys an aggregate temporary
/// made inside a `co_await` expression at the wrong time (a bad free or a
/// use after free; GCC bug 100611 and kin), and options are written right
/// there, in `co_await step.approval(key, options)`. A class with a
/// constructor is initialized correctly.
struct approval_options {
  approval_options() noexcept {} // NOLINT: user-provided, see above

  /// Shown to approvers while the run waits.
  std::string pending_reason{};
  /// Distinct approvers needed to grant; one rejection rejects.
  std::uint32_t quorum = 1;
  /// Time to decide; unset means the orchestrator's `default_expiration`.
  std::optional<duration> expires_in{};
  /// Context for approvers (an object), kept with the approval.
  boost::json::value metadata{};

  approval_options& with_reason(std::string reason) & {
    pending_reason = std::move(reason);
    return *this;
  }
  approval_options&& with_reason(std::string reason) && {
    return std::move(with_reason(std::move(reason)));
  }
  approval_options& with_quorum(std::uint32_t n) & {
    quorum = n;
    return *this;
  }
  approval_options&& with_quorum(std::uint32_t n) && {
    return std::move(with_quorum(n));
  }
  approval_options& expiring_in(duration d) & {
    expires_in = d;
    return *this;
  }
  approval_options&& expiring_in(duration d) && {
    return std::move(expiring_in(d));
  }
  approval_options& with_metadata(boost::json::value m) & {
    metadata = std::move(m);
    return *this;
  }
  approval_options&& with_metadata(boost::json::value m) && {
    return std::move(with_metadata(std::move(m)));
  }
};

/// One approval a step waits for: its global key and how to ask for it.
/// Not an aggregate either (see `approval_options`).
struct approval_request {
  approval_request() noexcept {} // NOLINT: user-provided, see above
  approval_request(std::string k, approval_options o = {})
      : key(std::move(k)), options(std::move(o)) {}

  std::string key{};
  approval_options options{};
};

/// What `approval_step` is built from: the reference's `createApprovalStep`
/// options.
struct approval_step_options {
  /// Maps the subject (an order id, ...) to the approval key.
  std::function<std::string(std::string_view subject)> key{};
  /// Everything else about the approval.
  approval_options options{};
};

/// A reusable approval step: `require_manager(order_id)` names the approval
/// that `co_await step.run(key, require_manager(order_id))` waits for.
class approval_step {
public:
  explicit approval_step(approval_step_options options);

  /// The request for `subject`'s approval.
  [[nodiscard]] approval_request operator()(std::string_view subject) const;

private:
  approval_step_options options_;
};

/// A step function that may block, run where blocking is allowed. The
/// host calls `run` once, on any thread, while the step's coroutine is
/// suspended; `run` never throws.
class blocking_job {
public:
  virtual void run() noexcept = 0;

protected:
  ~blocking_job() = default;
};

/// What the step engine needs from whoever executes a run (its actor):
/// the checkpoints, approvals, a place to block, and a way to end the run.
/// Every call comes from the thread executing the run's coroutine, and the
/// host resumes a suspended coroutine only from that same context.
class step_host {
public:
  virtual ~step_host() = default;

  /// The id of the run being executed.
  [[nodiscard]] virtual const std::string& run_id() const noexcept = 0;

  /// The checkpoint step `key` saved in an earlier execution, or null.
  [[nodiscard]] virtual const checkpoint*
  saved(std::string_view key) const noexcept = 0;

  /// Keeps `result` as the checkpoint of step `key`; persisted with the
  /// run's next pause or end at the latest.
  virtual void keep(std::string key, checkpoint result) = 0;

  /// Asks for the approval `request` names. Returns true with `out` set if
  /// it is decided already; otherwise returns false and resumes `waiter`
  /// with `out` set once it is decided (the run is paused meanwhile).
  virtual bool reach(const approval_request& request, approval_status& out,
                     std::coroutine_handle<> waiter)
    = 0;

  /// Runs `job` where it may block; resumes `waiter` once it ran. Returns
  /// false if it ran `job` already and `waiter` goes on at once.
  virtual bool run_blocking(blocking_job& job, std::coroutine_handle<> waiter)
    = 0;

  /// Ends the run with `e` once control returns to the host; the
  /// coroutine that asked is never resumed.
  virtual void end_run(error e) = 0;
};

namespace detail {

/// What a step function returns (`R`): a `task<X>` makes an async step, and
/// `X` (or `R` for a plain function) is a `result<T>`, a plain `T` or void.
template <class R>
struct step_return {
  using produced = R;
  static constexpr bool is_async = false;
};

template <class X>
struct step_return<task<X>> {
  using produced = X;
  static constexpr bool is_async = true;
};

template <class R>
struct step_value {
  using type = R;
  static constexpr bool is_result = false;
};

template <class T>
struct step_value<result<T, error>> {
  using type = T;
  static constexpr bool is_result = true;
};

template <class F>
using step_produced_t =
  typename step_return<std::invoke_result_t<F&>>::produced;

template <class F>
using step_value_t = typename step_value<step_produced_t<F>>::type;

/// What a step function's call came to: its checkpoint, and whether to
/// keep it. An exception, or a value that cannot be stored, is reported
/// but not kept, so a re-activated run tries the step again.
struct step_outcome {
  checkpoint result;
  bool keep = true;
};

/// The outcome for a step's JSON value: kept as it is, or refused with an
/// error naming the step if JSON cannot carry it back (NaN, infinity).
[[nodiscard]] step_outcome json_outcome(std::string_view key,
                                        boost::json::value v);

/// The outcome for what a step function returned.
template <class Produced>
step_outcome produce_outcome(std::string_view key, Produced&& produced) {
  using traits = step_value<std::decay_t<Produced>>;
  if constexpr (traits::is_result) {
    if (produced.is_err())
      return {err(std::move(produced.error()))};
    if constexpr (std::is_void_v<typename traits::type>)
      return {ok(boost::json::value{})};
    else
      return json_outcome(key,
                          boost::json::value_from(std::move(produced).value()));
  } else {
    return json_outcome(
      key, boost::json::value_from(std::forward<Produced>(produced)));
  }
}

/// The outcome of an exception a step function threw: UNEXPECTED_ERROR
/// with its message, not kept.
[[nodiscard]] step_outcome thrown_outcome(std::exception_ptr e);

/// Runs a plain step function as a `blocking_job`.
template <class F>
class call_job final : public blocking_job {
public:
  call_job(F& fn, std::string_view key, step_outcome& out)
      : fn_(fn), key_(key), out_(out) {}

  void run() noexcept override {
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
        fn_();
        out_ = {ok(boost::json::value{})};
      } else {
        out_ = produce_outcome(key_, fn_());
      }
    } catch (...) {
      out_ = thrown_outcome(std::current_exception());
    }
  }

private:
  F& fn_;
  std::string_view key_;
  step_outcome& out_;
};

// The awaiters have constructors: g++ 12 miscompiled `co_await
// awaiter{...}` with aggregate braces around a std::string (a bad free
// under ASan), and works with a constructor.

/// Suspends for a blocking job on the host.
struct blocking_awaiter {
  blocking_awaiter(step_host& h, blocking_job& j) noexcept : host(h), job(j) {}

  step_host& host;
  blocking_job& job;

  [[nodiscard]] bool await_ready() const noexcept {
    return false;
  }
  bool await_suspend(std::coroutine_handle<> h) {
    return host.run_blocking(job, h);
  }
  void await_resume() const noexcept {}
};

/// Suspends until the approval is decided (a pause when it is pending).
struct approval_awaiter {
  approval_awaiter(step_host& h, const approval_request& r,
                   approval_status& o) noexcept
      : host(h), request(r), out(o) {}

  step_host& host;
  const approval_request& request;
  approval_status& out;

  [[nodiscard]] bool await_ready() const noexcept {
    return false;
  }
  bool await_suspend(std::coroutine_handle<> h) {
    return !host.reach(request, out, h);
  }
  void await_resume() const noexcept {}
};

/// Never resumes: the host ends the run with the error.
struct ending_awaiter {
  ending_awaiter(step_host& h, error x) noexcept : host(h), e(std::move(x)) {}

  step_host& host;
  error e;

  [[nodiscard]] bool await_ready() const noexcept {
    return false;
  }
  void await_suspend(std::coroutine_handle<>) {
    host.end_run(std::move(e));
  }
  [[noreturn]] void await_resume() const noexcept {
    std::terminate(); // the host never resumes an ended run
  }
};

} // namespace detail

/// The handle a workflow coroutine receives. Each step is awaited and its
/// result checkpointed: a resident run that waits for an approval stays
/// suspended and continues where it stopped; a run re-activated from the
/// store runs the workflow again from the top, and completed steps return
/// their saved result without calling their function again.
///
/// An error that ends the run (`run` on an error, `approval` on a
/// rejection) and a pause are not exceptions: the coroutine is simply never
/// resumed, so no `catch` in the workflow can swallow them.
///
/// Not thread-safe; lives for one execution of the workflow.
class step {
public:
  explicit step(step_host& host) : host_(&host), run_id_(host.run_id()) {}

  step(const step&) = delete;
  step& operator=(const step&) = delete;

  /// Runs `fn` as the step `key` and returns its value. `fn` returns a
  /// `result<T>`, a plain `T` (converted with Boost.JSON) or nothing; or it
  /// is a coroutine returning `task<...>` of those (an async step, run on
  /// the run's actor: it must await what is slow, never block). A plain
  /// function runs on the step executor, where it may block. An error
  /// result (or an exception, as `UNEXPECTED_ERROR`) ends the run with that
  /// error. Keys must be unique within a workflow.
  template <class F>
  requires std::is_invocable_v<F&>
  task<detail::step_value_t<F>> run(std::string key, F fn) {
    auto r = co_await try_run(std::move(key), std::move(fn));
    if (r.is_err())
      co_await end_with(std::move(r.error()));
    if constexpr (!std::is_void_v<detail::step_value_t<F>>)
      co_return std::move(r).value();
  }

  /// As `run(key, fn)` with an implicit key from the call order ("#1", ...).
  /// Explicit keys survive edits to the workflow; prefer them.
  template <class F>
  requires std::is_invocable_v<F&>
  task<detail::step_value_t<F>> run(F fn) {
    return run(next_implicit_key(), std::move(fn));
  }

  /// As `run(key, fn)`, but an error is returned instead of ending the run,
  /// so the workflow can branch on it.
  template <class F>
  requires std::is_invocable_v<F&>
  task<result<detail::step_value_t<F>>> try_run(std::string key, F fn) {
    using value_type = detail::step_value_t<F>;
    if (const auto* saved = host_->saved(key))
      co_return replay<value_type>(*saved);
    detail::step_outcome made;
    for (;;) {
      if constexpr (detail::step_return<std::invoke_result_t<F&>>::is_async) {
        std::exception_ptr thrown;
        try {
          made = detail::produce_outcome(key, co_await fn());
        } catch (...) {
          thrown = std::current_exception();
        }
        if (thrown)
          made = detail::thrown_outcome(thrown);
      } else {
        detail::call_job<F> job{fn, key, made};
        co_await detail::blocking_awaiter(*host_, job);
      }
      // A step written like the reference's approval steps may answer
      // PENDING_APPROVAL: the run waits for the approval named by the
      // step's key, then runs the step again.
      const auto& r = made.result;
      if (r.is_ok() || !r.error().is(error_type::pending_approval))
        break;
      approval_request request{
        key, approval_options{}.with_reason(r.error().message)};
      approval_status decided;
      co_await detail::approval_awaiter(*host_, request, decided);
    }
    if (made.keep)
      host_->keep(std::move(key), made.result);
    co_return replay<value_type>(made.result);
  }

  /// Waits for the approval `request` names, checkpointed under `key`:
  /// returns the granted value; a rejection, expiry or cancellation ends the
  /// run with its error; a pending approval pauses the run.
  task<boost::json::value> run(std::string key, approval_request request);

  /// As `run(key, request)`, but rejection, expiry and cancellation come
  /// back as errors (`APPROVAL_REJECTED`, ...) to branch on.
  task<result<boost::json::value>> try_run(std::string key,
                                           approval_request request);

  /// Shorthand: the approval `key`, checkpointed under the same key.
  task<boost::json::value> approval(std::string key,
                                    approval_options options = {});

  /// Shorthand: the approval `key` with only a pending reason.
  task<boost::json::value> approval(std::string key,
                                    std::string pending_reason);

  /// Shorthand for `try_run(key, {key, options})`.
  task<result<boost::json::value>> try_approval(std::string key,
                                                approval_options options = {});

  /// Shorthand: the approval `key` with only a pending reason.
  task<result<boost::json::value>> try_approval(std::string key,
                                                std::string pending_reason);

  /// The id of the run this step belongs to. Kept here, so a blocking
  /// step may read it on the executor's thread.
  [[nodiscard]] const std::string& run_id() const noexcept {
    return run_id_;
  }

protected:
  [[nodiscard]] step_host& host() const noexcept {
    return *host_;
  }

  /// Never resumes: ends the run with `e`.
  [[nodiscard]] detail::ending_awaiter end_with(error e) const {
    return {*host_, std::move(e)};
  }

  template <class T>
  static result<T> replay(const checkpoint& saved) {
    if (saved.is_err())
      return err(saved.error());
    if constexpr (std::is_void_v<T>) {
      return ok();
    } else {
      auto value = boost::json::try_value_to<T>(saved.value());
      if (!value)
        return err(conversion_error(value.error().message()));
      return ok(std::move(*value));
    }
  }

  static error conversion_error(std::string what);

  std::string next_implicit_key();

private:
  step_host* host_;
  std::string run_id_;
  std::uint64_t implicit_keys_ = 0;
};

/// The checkpoint an approval step keeps for a decided status: the granted
/// value, or APPROVAL_REJECTED / _EXPIRED / _CANCELLED with the status as
/// details.
[[nodiscard]] checkpoint approval_checkpoint(const std::string& key,
                                             const approval_status& status);

} // namespace signoff::model
