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
#include <vector>

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/approval_wait.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/task.hpp"
#include "signoff/model/workflow_state.hpp"

/// Why a step refuses a temporary argument on g++ 12, and what to write.
#define SIGNOFF_GCC12_TEMPORARY_ADVICE                                         \
  "g++ 12 destroys a temporary lambda (or aggregate) written inside a "        \
  "co_await expression twice when it holds something with a destructor "       \
  "(a capture by copy of a shared_ptr, a string, ...). Name it first and "     \
  "pass it by name: `auto charge = [order] { ... }; co_await "                 \
  "step.run(\"charge\", charge);`, or capture by reference."

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
  /// Who may decide (see `approval_spec::assignees`).
  std::vector<std::string> assignees{};
  std::vector<std::string> candidate_groups{};
  /// Higher comes first in the inbox.
  std::int32_t priority = 0;
  /// Where the approval goes when its deadline passes undecided.
  std::vector<escalation_level> escalations{};
  /// Reminders, each this long before the current deadline.
  std::vector<duration> reminders{};

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

  approval_options& assigned_to(std::vector<std::string> identities) & {
    assignees = std::move(identities);
    return *this;
  }
  approval_options&& assigned_to(std::vector<std::string> identities) && {
    return std::move(assigned_to(std::move(identities)));
  }
  approval_options& for_groups(std::vector<std::string> groups) & {
    candidate_groups = std::move(groups);
    return *this;
  }
  approval_options&& for_groups(std::vector<std::string> groups) && {
    return std::move(for_groups(std::move(groups)));
  }
  approval_options& with_priority(std::int32_t p) & {
    priority = p;
    return *this;
  }
  approval_options&& with_priority(std::int32_t p) && {
    return std::move(with_priority(p));
  }
  /// Adds a level after those already given.
  approval_options& escalating_to(escalation_level level) & {
    escalations.push_back(std::move(level));
    return *this;
  }
  approval_options&& escalating_to(escalation_level level) && {
    return std::move(escalating_to(std::move(level)));
  }
  /// Adds a reminder `before` each deadline.
  approval_options& reminding_before(duration before) & {
    reminders.push_back(before);
    return *this;
  }
  approval_options&& reminding_before(duration before) && {
    return std::move(reminding_before(before));
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

/// A step suspended until its host has something for it. The host calls
/// exactly one of these, from the context that executes the run; the step
/// then resumes its coroutine, or ends the run (`step_host::end_run`) and
/// leaves it suspended.
class step_waiter {
public:
  /// The approval the step waits for was decided.
  virtual void decided(approval_status status) = 0;
  /// The blocking job (or the reply) the step waits for is done.
  virtual void finished() = 0;

protected:
  ~step_waiter() = default;
};

/// What the step engine needs from whoever executes a run (its actor):
/// the checkpoints, approvals, a place to block, and a way to end the run.
/// Every call comes from the context executing the run's coroutine.
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

  /// Asks for the approval `request` names. Returns its status if it is
  /// decided already; otherwise nothing: the run pauses, and the host calls
  /// `waiter.decided` once it is decided.
  virtual std::optional<approval_status> reach(const approval_request& request,
                                               step_waiter& waiter)
    = 0;

  /// Asks for every approval `wait.keys` names (each created pending with
  /// `options` if nobody asked for it yet) until `wait.over()`, filling in
  /// `wait.statuses` as it learns them. Returns true if the wait is over
  /// already; otherwise the run pauses on the keys still pending, and the
  /// host calls `waiter.finished` once it is over. `wait` and `options`
  /// live until then.
  virtual bool reach_several(approval_wait& wait,
                             const approval_options& options,
                             step_waiter& waiter)
    = 0;

  /// Cancels, as the run, those of `keys` still pending, with `reason`,
  /// after making the checkpoints kept so far durable (so a restart that
  /// replays them cancels again whatever was left). Returns false if
  /// nothing is left to cancel; otherwise the host calls `waiter.finished`
  /// once every cancel was answered (a key decided meanwhile stays as it
  /// was decided).
  virtual bool cancel_pending(std::vector<std::string> keys, std::string reason,
                              step_waiter& waiter)
    = 0;

  /// Runs `job` where it may block, then calls `waiter.finished`. Returns
  /// false if it ran `job` at once instead (the caller goes on itself).
  virtual bool run_blocking(blocking_job& job, step_waiter& waiter) = 0;

  /// Ends the run with `e` once control returns to the host; the
  /// coroutine that asked is never resumed.
  virtual void end_run(error e) = 0;
};

/// The checkpoint an approval step keeps for a decided status: the granted
/// value, or APPROVAL_REJECTED / _EXPIRED / _CANCELLED with the status as
/// details. Takes `status` by value: a caller done with it moves it in and
/// the granted value is not copied.
[[nodiscard]] checkpoint approval_checkpoint(const std::string& key,
                                             approval_status status);

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

template <class F>
inline constexpr bool is_async_step
  = step_return<std::invoke_result_t<F&>>::is_async;

/// True for an argument g++ 12 destroys twice: a temporary closure (or
/// another aggregate) whose members have destructors, made inside a
/// `co_await` expression, is destroyed once more when the coroutine goes
/// on (a bug of g++ before 13: a shared_ptr it captured by copy loses a
/// reference it never had, and is freed under its owners). A closure with
/// such captures cannot be assigned, which tells it from a class with
/// constructors (std::function, a functor), which g++ handles right.
template <class T>
inline constexpr bool is_gcc12_doomed_temporary =
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
  !std::is_lvalue_reference_v<
    T> && !std::is_trivially_destructible_v<std::decay_t<T>> && (std::is_aggregate_v<std::decay_t<T>> || !std::is_copy_assignable_v<std::decay_t<T>>);
#else
  false;
#endif

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

/// The outcome for a step's error result: kept as it is, or refused like a
/// value if JSON cannot carry its details back (a store could not read the
/// run again).
[[nodiscard]] step_outcome error_outcome(std::string_view key, error e);

/// The outcome for what a step function returned.
template <class Produced>
step_outcome produce_outcome(std::string_view key, Produced&& produced) {
  using traits = step_value<std::decay_t<Produced>>;
  if constexpr (traits::is_result) {
    if (produced.is_err())
      return error_outcome(key, std::move(produced.error()));
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

/// The UNEXPECTED_ERROR for a saved value of another type than asked for.
[[nodiscard]] error conversion_error(std::string what);

/// A step's saved result as the type the workflow asked for.
template <class T>
result<T> replay(checkpoint saved) {
  if (saved.is_err())
    return err(std::move(saved.error()));
  if constexpr (std::is_void_v<T>) {
    return ok();
  } else if constexpr (std::is_same_v<T, boost::json::value>) {
    return ok(std::move(saved.value()));
  } else {
    auto value = boost::json::try_value_to<T>(saved.value());
    if (!value)
      return err(conversion_error(value.error().message()));
    return ok(std::move(*value));
  }
}

/// The part every step awaiter shares: its key, and what it came to. Once
/// its outcome is known, a step made by `run` ends the run on an error
/// (`Ends`); one made by `try_run` hands the error to the workflow.
///
/// Awaiters live in the awaiting coroutine's frame, with no frame of their
/// own; they have constructors (g++ 12 mishandles aggregate temporaries in
/// a co_await expression) and are awaited once, where they were made.
template <class T, bool Ends>
class step_awaiter : public step_waiter {
public:
  step_awaiter(step_host& host, std::string key)
      : host_(&host), key_(std::move(key)) {}

  step_awaiter(const step_awaiter&) = delete;
  step_awaiter& operator=(const step_awaiter&) = delete;

  void decided(approval_status) override {
    std::terminate(); // asked only of steps that reach approvals
  }
  void finished() override {
    std::terminate(); // asked only of steps that wait for a job or a reply
  }

  bool await_ready() {
    return replayed();
  }

  bool await_suspend(std::coroutine_handle<> h) {
    if (ended_)
      return true; // a replayed error ended the run
    handle_ = h;
    return !begin();
  }

  decltype(auto) await_resume() {
    if constexpr (Ends) {
      if constexpr (!std::is_void_v<T>)
        return std::move(*value_).value();
    } else {
      return std::move(*value_);
    }
  }

protected:
  ~step_awaiter() = default;

  /// Starts the step: true if its value is settled and the coroutine goes
  /// on at once; false if it waits for the host's call (or for nothing,
  /// once the run ended).
  virtual bool begin() = 0;

  /// Settles on `made` (kept as the step's checkpoint when `keep`): true if
  /// the coroutine goes on, false if the run ended.
  bool settle(checkpoint made, bool keep) {
    if (keep)
      host_->keep(key_, made);
    value_.emplace(replay<T>(std::move(made)));
    if (Ends && value_->is_err()) {
      host_->end_run(std::move(value_->error()));
      return false;
    }
    return true;
  }

  /// Settles on a checkpoint saved earlier, if there is one: true if the
  /// coroutine goes on without suspending.
  bool replayed() {
    const auto* saved = host_->saved(key_);
    if (saved == nullptr)
      return false;
    ended_ = !settle(*saved, false);
    return !ended_;
  }

  /// Goes on with the suspended coroutine when `go_on`; the last thing a
  /// callback does (the coroutine may destroy this awaiter).
  void resume_if(bool go_on) {
    auto h = handle_;
    if (go_on)
      h.resume();
  }

  step_host* host_;
  std::string key_;
  std::coroutine_handle<> handle_{};
  /// Set by a replay that ended the run: it suspends for good.
  bool ended_ = false;
  std::optional<result<T>> value_{};
};

/// Waits for an approval: the step the workflow awaits for
/// `step.approval(key)` or `step.run(key, request)`.
template <bool Ends>
class approval_awaiter final : public step_awaiter<boost::json::value, Ends> {
  using base = step_awaiter<boost::json::value, Ends>;

public:
  approval_awaiter(step_host& host, std::string key, approval_request request)
      : base(host, std::move(key)), request_(std::move(request)) {}

  void decided(approval_status status) override {
    this->resume_if(settle(std::move(status)));
  }

private:
  bool begin() override {
    auto status = this->host_->reach(request_, *this);
    return status && settle(std::move(*status));
  }

  bool settle(approval_status status) {
    return base::settle(approval_checkpoint(request_.key, std::move(status)),
                        true);
  }

  approval_request request_;
};

/// The checkpoint of a wait on several approvals: each key with its status
/// when the wait was over, in the workflow's order.
[[nodiscard]] checkpoint several_checkpoint(const approval_wait& wait);

/// The statuses a checkpoint of `several_checkpoint` saved, into `wait`
/// (whose keys it must name, in order); UNEXPECTED_ERROR otherwise.
[[nodiscard]] result<void> restore_wait(const checkpoint& saved,
                                        approval_wait& wait);

/// Why the step cancels the keys still pending once `wait` is over:
/// superseded by the key that won a first-of wait, or not needed since a
/// key of an all-of wait was decided otherwise than granted.
[[nodiscard]] std::string cancel_reason(const approval_wait& wait);

/// Waits on several approvals: the step the workflow awaits for
/// `step.first_approval(keys)` (`Value` is the `decided_approval` that
/// decided) or `step.all_approvals(keys)` (`Value` is every key's, in
/// order). Once the wait is over, its statuses are the step's checkpoint,
/// then the keys still pending are cancelled, then the step returns; a
/// replay returns what the checkpoint says and cancels again whatever is
/// still pending (a crash may have come between). With `Ends`, a deciding
/// key not granted ends the run with its error (APPROVAL_REJECTED, ...).
template <class Value, bool Ends>
class several_awaiter final : public step_waiter {
public:
  /// `invalid` is set when the keys were refused: the step ends the run
  /// with it, asking for nothing.
  several_awaiter(step_host& host, std::string key, approval_wait wait,
                  approval_options options, std::optional<error> invalid)
      : host_(&host), key_(std::move(key)), wait_(std::move(wait)),
        options_(std::move(options)), error_(std::move(invalid)) {}

  several_awaiter(const several_awaiter&) = delete;
  several_awaiter& operator=(const several_awaiter&) = delete;

  void decided(approval_status) override {
    std::terminate(); // a wait on several is told `finished`
  }

  void finished() override {
    resume_if(phase_ == phase::reaching ? after_wait() : conclude());
  }

  bool await_ready() {
    if (error_)
      return false;
    const auto* saved = host_->saved(key_);
    if (saved == nullptr)
      return false;
    replayed_ = true;
    if (auto restored = restore_wait(*saved, wait_); restored.is_err()) {
      error_ = std::move(restored.error());
      return false;
    }
    if (cancel_losers())
      return false; // suspends until the cancels are answered
    return conclude();
  }

  bool await_suspend(std::coroutine_handle<> h) {
    handle_ = h;
    if (error_) {
      host_->end_run(std::move(*error_));
      return true; // never resumed
    }
    if (replayed_)
      return true; // cancels in flight, or the replay ended the run
    phase_ = phase::reaching;
    if (!host_->reach_several(wait_, options_, *this))
      return true; // the host calls `finished`
    return !after_wait();
  }

  Value await_resume() {
    return std::move(*value_);
  }

private:
  enum class phase { starting, reaching, cancelling, done };

  /// The wait is over: keeps its checkpoint, then cancels the keys left.
  /// True if the coroutine goes on now.
  bool after_wait() {
    host_->keep(key_, several_checkpoint(wait_));
    if (cancel_losers())
      return false; // the host calls `finished`
    return conclude();
  }

  /// True if the host cancels keys still pending and calls `finished`.
  bool cancel_losers() {
    auto losers = wait_.pending_keys();
    if (losers.empty())
      return false;
    phase_ = phase::cancelling;
    return host_->cancel_pending(std::move(losers), cancel_reason(wait_),
                                 *this);
  }

  /// What the step returns, or the end of the run: true if the coroutine
  /// goes on.
  bool conclude() {
    phase_ = phase::done;
    const auto deciding = wait_.deciding();
    if constexpr (Ends) {
      if (deciding && !wait_.statuses[*deciding].is_granted()) {
        host_->end_run(
          approval_checkpoint(wait_.keys[*deciding], wait_.statuses[*deciding])
            .error());
        return false;
      }
    }
    if constexpr (std::is_same_v<Value, decided_approval>) {
      value_.emplace(decided_approval{wait_.keys[deciding.value_or(0)],
                                      wait_.statuses[deciding.value_or(0)]});
    } else {
      Value all;
      for (std::size_t i = 0; i < wait_.keys.size(); ++i)
        all.push_back({wait_.keys[i], wait_.statuses[i]});
      value_.emplace(std::move(all));
    }
    return true;
  }

  /// Goes on with the suspended coroutine when `go_on`; the last thing a
  /// callback does (the coroutine may destroy this awaiter).
  void resume_if(bool go_on) {
    auto h = handle_;
    if (go_on)
      h.resume();
  }

  step_host* host_;
  std::string key_;
  approval_wait wait_;
  approval_options options_;
  std::optional<error> error_;
  phase phase_ = phase::starting;
  bool replayed_ = false;
  std::coroutine_handle<> handle_{};
  std::optional<Value> value_{};
};

template <bool Ends>
using first_approval_awaiter = several_awaiter<decided_approval, Ends>;

template <bool Ends>
using all_approvals_awaiter
  = several_awaiter<std::vector<decided_approval>, Ends>;

/// Runs a plain step function where it may block: the step the workflow
/// awaits for `step.run(key, fn)`. A function answering PENDING_APPROVAL
/// (as the reference's approval steps do) makes the run wait for the
/// approval named by the step's key, then runs again.
template <class F, bool Ends>
class call_awaiter final : public step_awaiter<step_value_t<F>, Ends>,
                           public blocking_job {
  using base = step_awaiter<step_value_t<F>, Ends>;

public:
  call_awaiter(step_host& host, std::string key, F fn)
      : base(host, std::move(key)), fn_(std::move(fn)) {}

  /// On the executor's thread: calls the function, keeps what it came to.
  void run() noexcept override {
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
        fn_();
        outcome_ = {ok(boost::json::value{})};
      } else {
        outcome_ = produce_outcome(this->key_, fn_());
      }
    } catch (...) {
      outcome_ = thrown_outcome(std::current_exception());
    }
  }

  void finished() override {
    this->resume_if(after_run());
  }

  void decided(approval_status) override {
    this->resume_if(start());
  }

private:
  bool begin() override {
    return start();
  }

  /// Runs the function (again): true if the coroutine goes on now.
  bool start() {
    if (this->host_->run_blocking(*this, *this))
      return false; // the host calls `finished`
    return after_run();
  }

  /// What the function came to: true if the coroutine goes on now.
  bool after_run() {
    const auto& r = outcome_.result;
    if (r.is_err() && r.error().is(error_type::pending_approval)) {
      approval_.emplace(this->key_,
                        approval_options{}.with_reason(r.error().message));
      if (!this->host_->reach(*approval_, *this))
        return false; // the host calls `decided`
      return start();
    }
    return this->settle(std::move(outcome_.result), outcome_.keep);
  }

  F fn_;
  step_outcome outcome_{};
  std::optional<approval_request> approval_{};
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
  requires std::is_invocable_v < std::decay_t<F>
  & > auto run(std::string key, F&& fn) {
    return make_step<true>(std::move(key), std::forward<F>(fn));
  }

  /// As `run(key, fn)` with an implicit key from the call order ("#1", ...).
  /// Explicit keys survive edits to the workflow; prefer them.
  template <class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > auto run(F&& fn) {
    return run(next_implicit_key(), std::forward<F>(fn));
  }

  /// As `run(key, fn)`, but an error is returned instead of ending the run,
  /// so the workflow can branch on it.
  template <class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > auto try_run(std::string key, F&& fn) {
    return make_step<false>(std::move(key), std::forward<F>(fn));
  }

  /// Waits for the approval `request` names, checkpointed under `key`:
  /// returns the granted value; a rejection, expiry or cancellation ends the
  /// run with its error; a pending approval pauses the run.
  detail::approval_awaiter<true> run(std::string key, approval_request request);

  /// As `run(key, request)`, but rejection, expiry and cancellation come
  /// back as errors (`APPROVAL_REJECTED`, ...) to branch on.
  detail::approval_awaiter<false> try_run(std::string key,
                                          approval_request request);

  /// Shorthand: the approval `key`, checkpointed under the same key.
  detail::approval_awaiter<true> approval(std::string key,
                                          approval_options options = {});

  /// Shorthand: the approval `key` with only a pending reason.
  detail::approval_awaiter<true> approval(std::string key,
                                          std::string pending_reason);

  /// Shorthand for `try_run(key, {key, options})`.
  detail::approval_awaiter<false> try_approval(std::string key,
                                               approval_options options = {});

  /// Shorthand: the approval `key` with only a pending reason.
  detail::approval_awaiter<false> try_approval(std::string key,
                                               std::string pending_reason);

  /// Waits for the first decision on any of `keys` (at most
  /// `max_wait_keys`, each asked for with `options`) and returns that key
  /// with its granted status. The first decision of any kind decides: a
  /// rejection, expiry or cancellation of it ends the run with its error.
  /// Keys decided before the run got here count too: of several, the
  /// earliest decided (on a tie, the first in `keys`). Once decided, the
  /// other keys still pending are cancelled by the run ("run:<id>"), with
  /// "superseded by '<key>'" as the reason. Checkpointed under
  /// "first-of:" and the keys as a JSON array, so a replay returns the
  /// same key. Bad keys (none, too many, empty, too long, given twice)
  /// end the run with INVALID_ARGUMENT before anything is asked for.
  detail::first_approval_awaiter<true>
  first_approval(std::vector<std::string> keys, approval_options options = {});

  /// As `first_approval`, but any decision comes back, to branch on its
  /// `status.state`.
  detail::first_approval_awaiter<false>
  try_first_approval(std::vector<std::string> keys,
                     approval_options options = {});

  /// Waits until every one of `keys` is granted and returns each key's
  /// status, in the order given. The first key seen decided otherwise ends
  /// the run with its error (APPROVAL_REJECTED, ...) and the keys still
  /// pending are cancelled by the run. Checkpointed under "all-of:" and
  /// the keys as a JSON array; bad keys as for `first_approval`.
  detail::all_approvals_awaiter<true>
  all_approvals(std::vector<std::string> keys, approval_options options = {});

  /// As `all_approvals`, but waits until every key is decided, whichever
  /// way, and returns them all to branch on.
  detail::all_approvals_awaiter<false>
  try_all_approvals(std::vector<std::string> keys,
                    approval_options options = {});

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

  std::string next_implicit_key();

private:
  template <bool Ends, class F>
  auto make_step(std::string key, F&& fn) {
    static_assert(!detail::is_gcc12_doomed_temporary<F>,
                  SIGNOFF_GCC12_TEMPORARY_ADVICE);
    using function = std::decay_t<F>;
    if constexpr (detail::is_async_step<function>)
      return async_step<Ends>(std::move(key), function(std::forward<F>(fn)));
    else
      return detail::call_awaiter<function, Ends>(*host_, std::move(key),
                                                  std::forward<F>(fn));
  }

  /// A coroutine step function, awaited here on the run's actor.
  template <bool Ends, class F>
  task<std::conditional_t<Ends, detail::step_value_t<F>,
                          result<detail::step_value_t<F>>>>
  async_step(std::string key, F fn) {
    using value_type = detail::step_value_t<F>;
    detail::step_outcome made;
    if (const auto* saved = host_->saved(key)) {
      made = {*saved, false};
    } else {
      std::exception_ptr thrown;
      try {
        // A task<void> step keeps a null value, as a plain void step does.
        if constexpr (std::is_void_v<detail::step_produced_t<F>>) {
          co_await fn();
          made = {ok(boost::json::value{})};
        } else {
          made = detail::produce_outcome(key, co_await fn());
        }
      } catch (...) {
        thrown = std::current_exception();
      }
      if (thrown)
        made = detail::thrown_outcome(thrown);
      if (made.keep)
        host_->keep(key, made.result);
    }
    auto r = detail::replay<value_type>(std::move(made.result));
    if constexpr (Ends) {
      if (r.is_err())
        co_await end_with(std::move(r.error()));
      if constexpr (!std::is_void_v<value_type>)
        co_return std::move(r).value();
    } else {
      co_return r;
    }
  }

  step_host* host_;
  std::string run_id_;
  std::uint64_t implicit_keys_ = 0;
};

} // namespace signoff::model
