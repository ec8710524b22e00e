#include "signoff/model/step.hpp"

#include <exception>

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

checkpoint approval_checkpoint(const std::string& key,
                               const approval_status& status) {
  auto details = [&status] {
    return boost::json::value_from(status);
  };
  switch (status.state) {
    case approval_state::pending:
      break;
    case approval_state::approved:
    case approval_state::edited:
      return ok(status.value);
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
