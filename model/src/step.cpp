#include "signoff/model/step.hpp"

#include <exception>

#include <boost/json/serialize.hpp>

#include "signoff/model/decision_rules.hpp"
#include "signoff/model/json_text.hpp"

namespace signoff::model {

approval_step::approval_step(approval_step_options options)
    : options_(std::move(options)) {}

approval_request approval_step::operator()(std::string_view subject) const {
  return {options_.key ? options_.key(subject) : std::string{subject},
          options_.options};
}

namespace detail {

step_outcome json_outcome(std::string_view key, boost::json::value v) {
  if (!is_storable(v))
    return {err(make_error(error_type::unexpected_error,
                           "step '" + std::string{key}
                             + "' returned a value that cannot be saved: it "
                               "holds NaN or an infinity, which JSON cannot "
                               "carry")),
            false};
  return {ok(std::move(v))};
}

step_outcome error_outcome(std::string_view key, error e) {
  if (!is_storable(e.details))
    return {err(make_error(error_type::unexpected_error,
                           "step '" + std::string{key} + "' returned an error ("
                             + e.type
                             + ") whose details cannot be saved: they hold "
                               "NaN or an infinity, which JSON cannot carry")),
            false};
  return {err(std::move(e))};
}

step_outcome thrown_outcome(std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::exception& x) {
    return {err(make_error(error_type::unexpected_error, x.what())), false};
  } catch (...) {
    return {err(make_error(error_type::unexpected_error,
                           "a step threw a non-standard exception")),
            false};
  }
}

error conversion_error(std::string what) {
  return make_error(error_type::unexpected_error,
                    "a step's saved value does not convert to the type "
                    "asked for: "
                      + what);
}

} // namespace detail

std::string step::next_implicit_key() {
  return "#" + std::to_string(++implicit_keys_);
}

checkpoint approval_checkpoint(const std::string& key, approval_status status) {
  auto details = [&status] {
    return boost::json::value_from(status);
  };
  switch (status.state) {
    case approval_state::pending:
      break;
    case approval_state::approved:
    case approval_state::edited:
      return ok(std::move(status.value));
    case approval_state::rejected:
      return err(
        make_error(error_type::approval_rejected, status.reason, details()));
    case approval_state::expired:
      return err(make_error(error_type::approval_expired,
                            "approval '" + key + "' expired", details()));
    case approval_state::cancelled:
      return err(make_error(error_type::approval_cancelled,
                            status.reason.empty()
                              ? "approval '" + key + "' was cancelled"
                              : status.reason,
                            details()));
  }
  return err(make_error(error_type::unexpected_error,
                        "approval '" + key + "' is still pending"));
}

namespace detail {

checkpoint several_checkpoint(const approval_wait& wait) {
  boost::json::array out;
  for (std::size_t i = 0; i < wait.keys.size(); ++i)
    out.push_back(boost::json::value_from(
      decided_approval{wait.keys[i], wait.statuses[i]}));
  return ok(boost::json::value(std::move(out)));
}

result<void> restore_wait(const checkpoint& saved, approval_wait& wait) {
  auto unlike = [] {
    return conversion_error(
      "the checkpoint of a wait on several approvals does not name its keys");
  };
  if (saved.is_err())
    return unlike();
  auto decided
    = boost::json::try_value_to<std::vector<decided_approval>>(saved.value());
  if (!decided || decided->size() != wait.keys.size())
    return unlike();
  for (std::size_t i = 0; i < wait.keys.size(); ++i) {
    if ((*decided)[i].key != wait.keys[i])
      return unlike();
    wait.statuses[i] = std::move((*decided)[i].status);
  }
  return ok();
}

std::string cancel_reason(const approval_wait& wait) {
  const auto deciding = wait.deciding();
  if (!deciding)
    return "the wait on it is over";
  const auto& key = wait.keys[*deciding];
  if (wait.rule == wait_rule::first)
    return "superseded by '" + key + "'";
  return "not needed: '" + key + "' was "
         + std::string{to_string(wait.statuses[*deciding].state)};
}

} // namespace detail

namespace {

/// The wait `rule` on `keys`, checkpointed under `prefix` and the keys as a
/// JSON array; refused whole if the keys are.
template <class Awaiter>
Awaiter several(step_host& host, std::string_view prefix, wait_rule rule,
                std::vector<std::string> keys, approval_options options) {
  std::optional<error> invalid;
  if (auto checked = check_wait_keys(keys); checked.is_err())
    invalid = std::move(checked.error());
  boost::json::array names(keys.begin(), keys.end());
  std::string key{prefix};
  key += boost::json::serialize(names);
  approval_wait wait;
  wait.rule = rule;
  wait.statuses.resize(keys.size());
  wait.keys = std::move(keys);
  return {host, std::move(key), std::move(wait), std::move(options),
          std::move(invalid)};
}

} // namespace

detail::first_approval_awaiter<true>
step::first_approval(std::vector<std::string> keys, approval_options options) {
  return several<detail::first_approval_awaiter<true>>(
    *host_, "first-of:", wait_rule::first, std::move(keys), std::move(options));
}

detail::first_approval_awaiter<false>
step::try_first_approval(std::vector<std::string> keys,
                         approval_options options) {
  return several<detail::first_approval_awaiter<false>>(
    *host_, "first-of:", wait_rule::first, std::move(keys), std::move(options));
}

detail::all_approvals_awaiter<true>
step::all_approvals(std::vector<std::string> keys, approval_options options) {
  return several<detail::all_approvals_awaiter<true>>(
    *host_, "all-of:", wait_rule::all_granted, std::move(keys),
    std::move(options));
}

detail::all_approvals_awaiter<false>
step::try_all_approvals(std::vector<std::string> keys,
                        approval_options options) {
  return several<detail::all_approvals_awaiter<false>>(
    *host_, "all-of:", wait_rule::all, std::move(keys), std::move(options));
}

detail::approval_awaiter<false> step::try_run(std::string key,
                                              approval_request request) {
  return {*host_, std::move(key), std::move(request)};
}

detail::approval_awaiter<true> step::run(std::string key,
                                         approval_request request) {
  return {*host_, std::move(key), std::move(request)};
}

detail::approval_awaiter<true> step::approval(std::string key,
                                              approval_options options) {
  approval_request request{key, std::move(options)};
  return {*host_, std::move(key), std::move(request)};
}

detail::approval_awaiter<false> step::try_approval(std::string key,
                                                   approval_options options) {
  approval_request request{key, std::move(options)};
  return {*host_, std::move(key), std::move(request)};
}

detail::approval_awaiter<true> step::approval(std::string key,
                                              std::string pending_reason) {
  return approval(std::move(key),
                  approval_options{}.with_reason(std::move(pending_reason)));
}

detail::approval_awaiter<false> step::try_approval(std::string key,
                                                   std::string pending_reason) {
  return try_approval(
    std::move(key), approval_options{}.with_reason(std::move(pending_reason)));
}

} // namespace signoff::model
