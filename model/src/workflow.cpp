#include "signoff/model/workflow.hpp"

#include <exception>

namespace signoff::model {

namespace {

void finish(saved_workflow_state& state, result<boost::json::value> outcome) {
  state.status = outcome.is_ok() ? run_status::completed : run_status::failed;
  state.outcome = std::move(outcome);
}

} // namespace

void run_workflow(const workflow& fn, saved_workflow_state& state,
                  approval_gate& gate, time_point now) {
  state.status = run_status::running;
  state.pending_approvals.clear();
  state.pending_reason.clear();
  state.updated_at = now;
  step s{state, gate};
  try {
    finish(state, fn(s, state.input));
  } catch (const detail::pause_signal& pause) {
    state.status = run_status::paused;
    state.pending_approvals = {pause.key};
    state.pending_reason = pause.reason;
  } catch (const detail::step_exit& exit) {
    finish(state, err(exit.error));
  } catch (const std::exception& e) {
    finish(state, err(make_error(error_type::unexpected_error, e.what())));
  } catch (...) {
    finish(state, err(make_error(error_type::unexpected_error,
                                 "the workflow threw a non-standard "
                                 "exception")));
  }
}

} // namespace signoff::model
