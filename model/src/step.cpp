#include "signoff/model/step.hpp"

#include <algorithm>
#include <exception>

namespace signoff::model {

approval_step::approval_step(approval_step_options options)
    : options_(std::move(options)) {}

approval_request approval_step::operator()(std::string_view subject) const {
  return {options_.key ? options_.key(subject) : std::string{subject},
          options_.options};
}

step::step(saved_workflow_state& state, approval_gate& gate)
    : state_(state), gate_(gate) {}

const std::string& step::run_id() const noexcept {
  return state_.run_id;
}

std::string step::next_implicit_key() {
  return "#" + std::to_string(++implicit_keys_);
}

error step::conversion_error(std::string what) {
  return make_error(error_type::unexpected_error,
                    "a step's saved value does not convert to the type "
                    "asked for: "
                      + what);
}

checkpoint step::record(std::string key,
                        const std::function<checkpoint()>& produce) {
  if (auto it = state_.checkpoints.find(key); it != state_.checkpoints.end())
    return it->second;
  checkpoint produced;
  try {
    produced = produce();
  } catch (const detail::step_exit&) {
    throw;
  } catch (const detail::pause_signal&) {
    throw;
  } catch (const std::exception& e) {
    return err(make_error(error_type::unexpected_error, e.what()));
  } catch (...) {
    return err(make_error(error_type::unexpected_error,
                          "a step threw a non-standard exception"));
  }
  // A step written like the reference's approval steps may itself answer
  // PENDING_APPROVAL: that pauses the run and is not a result to keep.
  if (produced.is_err() && produced.error().is(error_type::pending_approval))
    throw detail::pause_signal{key, produced.error().message};
  state_.checkpoints.emplace(std::move(key), produced);
  return produced;
}

result<boost::json::value> step::try_run(std::string key,
                                         const approval_request& request) {
  return record(std::move(key), [this, &request]() -> checkpoint {
    auto& keys = state_.approval_keys;
    if (std::find(keys.begin(), keys.end(), request.key) == keys.end())
      keys.push_back(request.key);
    auto status = gate_.reach(request);
    if (status.is_err())
      throw detail::step_exit{status.error()};
    const auto& s = status.value();
    auto details = boost::json::value_from(s);
    switch (s.state) {
      case approval_state::pending:
        throw detail::pause_signal{request.key, request.options.pending_reason};
      case approval_state::approved:
      case approval_state::edited:
        return ok(s.value);
      case approval_state::rejected:
        return err(make_error(error_type::approval_rejected, s.reason,
                              std::move(details)));
      case approval_state::expired:
        return err(make_error(error_type::approval_expired,
                              "approval '" + request.key + "' expired",
                              std::move(details)));
      case approval_state::cancelled:
        break;
    }
    return err(make_error(error_type::approval_cancelled,
                          s.reason.empty()
                            ? "approval '" + request.key + "' was cancelled"
                            : s.reason,
                          std::move(details)));
  });
}

boost::json::value step::run(std::string key, const approval_request& request) {
  auto r = try_run(std::move(key), request);
  if (r.is_err())
    throw detail::step_exit{r.error()};
  return std::move(r).value();
}

boost::json::value step::approval(std::string key, approval_options options) {
  approval_request request{key, std::move(options)};
  return run(std::move(key), request);
}

result<boost::json::value> step::try_approval(std::string key,
                                              approval_options options) {
  approval_request request{key, std::move(options)};
  return try_run(std::move(key), request);
}

} // namespace signoff::model
