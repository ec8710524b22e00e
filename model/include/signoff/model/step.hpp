#pragma once

#include <cstdint>
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
#include "signoff/model/workflow_state.hpp"

namespace signoff::model {

/// How a workflow asks for an approval.
struct approval_options {
  /// Shown to approvers while the run waits.
  std::string pending_reason{};
  /// Distinct approvers needed to grant; one rejection rejects.
  std::uint32_t quorum = 1;
  /// Time to decide; unset means the orchestrator's `default_expiration`.
  std::optional<duration> expires_in{};
  /// Context for approvers (an object), kept with the approval.
  boost::json::value metadata{};
};

/// One approval a step waits for: its global key and how to ask for it.
struct approval_request {
  std::string key{};
  approval_options options{};
};

/// How the step engine learns an approval's fate. The run actor implements
/// it over the approval store; tests can implement it over a map.
class approval_gate {
public:
  virtual ~approval_gate() = default;

  /// The status of `request.key` as of now, creating the approval as pending
  /// if nobody asked for it before. Errors are storage failures.
  virtual result<approval_status> reach(const approval_request& request) = 0;
};

/// What `make_approval_step` is built from: the reference's
/// `createApprovalStep` options.
struct approval_step_options {
  /// Maps the subject (an order id, ...) to the approval key.
  std::function<std::string(std::string_view subject)> key{};
  /// Everything else about the approval.
  approval_options options{};
};

/// A reusable approval step: `require_manager(order_id)` names the approval
/// that `step.run(key, require_manager(order_id))` waits for.
class approval_step {
public:
  explicit approval_step(approval_step_options options);

  /// The request for `subject`'s approval.
  [[nodiscard]] approval_request operator()(std::string_view subject) const;

private:
  approval_step_options options_;
};

namespace detail {

/// Thrown through the workflow function to end the run with `error`. Not a
/// std::exception, so a workflow's `catch (const std::exception&)` does not
/// swallow it.
struct step_exit {
  model::error error;
};

/// Thrown through the workflow function when an approval is still pending.
struct pause_signal {
  std::string key;
  std::string reason;
};

template <class R>
struct step_traits {
  using value_type = R;
  static constexpr bool is_result = false;
};

template <class T>
struct step_traits<result<T, error>> {
  using value_type = T;
  static constexpr bool is_result = true;
};

} // namespace detail

/// The handle a workflow function receives. Each `run` is a step whose
/// result is checkpointed: when the run resumes, the workflow function runs
/// again from the top and completed steps return their saved result without
/// calling their function. Not thread-safe; lives for one execution.
class step {
public:
  /// Steps record into `state.checkpoints`; approvals are asked of `gate`.
  step(saved_workflow_state& state, approval_gate& gate);

  /// Runs `fn` as the step `key` and returns its value. `fn` returns a
  /// `result<T>`, a plain `T` (converted with Boost.JSON) or nothing. An
  /// error result (or an exception, as `UNEXPECTED_ERROR`) ends the run with
  /// that error. Keys must be unique within a workflow.
  template <class F>
  requires std::is_invocable_v<F&>
  auto run(std::string key, F&& fn) {
    auto r = try_run(std::move(key), std::forward<F>(fn));
    if (r.is_err())
      throw detail::step_exit{r.error()};
    if constexpr (!std::is_void_v<typename decltype(r)::value_type>)
      return std::move(r).value();
  }

  /// As `run(key, fn)` with an implicit key from the call order ("#1", ...).
  /// Explicit keys survive edits to the workflow; prefer them.
  template <class F>
  requires std::is_invocable_v<F&>
  auto run(F&& fn) {
    return run(next_implicit_key(), std::forward<F>(fn));
  }

  /// As `run(key, fn)`, but an error is returned instead of ending the run,
  /// so the workflow can branch on it.
  template <class F>
  requires std::is_invocable_v<F&>
  auto try_run(std::string key, F&& fn) {
    using traits = detail::step_traits<std::invoke_result_t<F&>>;
    using value_type = typename traits::value_type;
    checkpoint saved = record(std::move(key), [&fn]() -> checkpoint {
      if constexpr (traits::is_result) {
        auto r = fn();
        if (r.is_err())
          return err(std::move(r.error()));
        if constexpr (std::is_void_v<value_type>)
          return ok(boost::json::value{});
        else
          return ok(boost::json::value_from(std::move(r).value()));
      } else if constexpr (std::is_void_v<value_type>) {
        fn();
        return ok(boost::json::value{});
      } else {
        return ok(boost::json::value_from(fn()));
      }
    });
    return replay<value_type>(std::move(saved));
  }

  /// Waits for the approval `request` names, checkpointed under `key`:
  /// returns the granted value; a rejection, expiry or cancellation ends the
  /// run with its error; a pending approval pauses the run.
  boost::json::value run(std::string key, const approval_request& request);

  /// As `run(key, request)`, but rejection, expiry and cancellation come
  /// back as errors (`APPROVAL_REJECTED`, ...) to branch on.
  result<boost::json::value> try_run(std::string key,
                                     const approval_request& request);

  /// Shorthand: the approval `key`, checkpointed under the same key.
  boost::json::value approval(std::string key, approval_options options = {});

  /// Shorthand for `try_run(key, {key, options})`.
  result<boost::json::value> try_approval(std::string key,
                                          approval_options options = {});

  /// The id of the run this step belongs to.
  [[nodiscard]] const std::string& run_id() const noexcept;

private:
  /// Returns the checkpoint under `key`, or runs `produce` and saves its
  /// result. Exceptions become `UNEXPECTED_ERROR` (not saved: a resumed run
  /// may retry); a `PENDING_APPROVAL` error pauses the run.
  checkpoint record(std::string key,
                    const std::function<checkpoint()>& produce);

  template <class T>
  result<T> replay(checkpoint saved) {
    if (saved.is_err())
      return err(std::move(saved.error()));
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

  saved_workflow_state& state_;
  approval_gate& gate_;
  std::uint64_t implicit_keys_ = 0;
};

} // namespace signoff::model
