#include "order_workflow.hpp"

#include <boost/json.hpp>

#include "measure.hpp"

namespace signoff::bench {

namespace {

constexpr const char* approver = "manager@example.com";

std::string order_id(std::size_t i) {
  return "o" + std::to_string(i);
}

std::string describe(const model::error& e) {
  return e.type + ": " + e.message;
}

/// Shared by the stored state and the reply of a resume.
void expect_outcome(model::run_status status,
                    const std::optional<model::result<boost::json::value>>& out,
                    std::size_t i) {
  if (status != model::run_status::completed)
    fail(run_id(i) + " is " + std::string{to_string(status)}
         + ", not completed");
  const boost::json::value expected{{"orderId", order_id(i)},
                                    {"approvedBy", approver}};
  if (!out || out->is_err() || out->value() != expected)
    fail(run_id(i) + " completed with an unexpected value");
}

} // namespace

std::string run_id(std::size_t i) {
  return "run-" + order_id(i);
}

std::string approval_key(std::size_t i) {
  return "approval:manager:" + order_id(i);
}

boost::json::value order_input(std::size_t i) {
  return {{"orderId", order_id(i)}};
}

model::decision grant_decision(std::size_t i) {
  return model::decision::grant(approval_key(i), {{"approvedBy", approver}},
                                approver);
}

workflow order_workflow(std::shared_ptr<step_counts> n) {
  return [n](step& step, const boost::json::value& in)
           -> task<model::result<boost::json::value>> {
    auto order
      = co_await step.run("create-order", [&]() -> task<boost::json::value> {
          ++n->created;
          co_return boost::json::value{{"orderId", in.at("orderId")},
                                       {"total", 15000}};
        });
    const std::string id{order.at("orderId").as_string()};
    auto approval = co_await step.approval("approval:manager:" + id);
    co_await step.run("fulfil-order", [&]() -> task<boost::json::value> {
      ++n->fulfilled;
      co_return boost::json::value{{"shipped", true}};
    });
    co_return boost::json::value{{"orderId", id},
                                 {"approvedBy", approval.at("approvedBy")}};
  };
}

void expect_paused(const model::result<model::execution_result>& r,
                   std::size_t i) {
  if (r.is_err())
    fail("executing " + run_id(i) + " failed: " + describe(r.error()));
  if (r->status != model::run_status::paused || r->run_id != run_id(i)
      || r->pending_approvals != std::vector<std::string>{approval_key(i)})
    fail(run_id(i) + " did not pause on " + approval_key(i) + " but is "
         + std::string{to_string(r->status)});
}

void expect_granted(const model::result<actors::decision_report>& r,
                    std::size_t i, bool auto_resume) {
  if (r.is_err())
    fail("granting " + approval_key(i) + " failed: " + describe(r.error()));
  const auto& resumed = r->resumed_workflows;
  // The owner of a key in a cluster names a run of another node
  // "NODE/RUN".
  const bool resumed_its_run
    = resumed.size() == 1
      && (resumed.front() == run_id(i)
          || resumed.front().ends_with("/" + run_id(i)));
  if (!r->applied || (auto_resume ? !resumed_its_run : !resumed.empty()))
    fail("granting " + approval_key(i) + " resumed "
         + std::to_string(resumed.size()) + " runs, expected "
         + (auto_resume ? "its own" : "none"));
}

void expect_completed(const model::saved_workflow_state& s, std::size_t i) {
  expect_outcome(s.status, s.outcome, i);
}

void expect_completed(const model::result<model::execution_result>& r,
                      std::size_t i) {
  if (r.is_err())
    fail("resuming " + run_id(i) + " failed: " + describe(r.error()));
  expect_outcome(r->status, r->outcome, i);
}

void expect_all_completed(const persistence::workflow_state_store& runs,
                          std::size_t first, std::size_t count) {
  for (auto i = first; i < first + count; ++i) {
    auto state = runs.load(run_id(i));
    if (state.is_err() || !state.value())
      fail(run_id(i) + " is missing from the store");
    expect_completed(*state.value(), i);
  }
}

void expect_step_counts(const step_counts& n, std::uint64_t created,
                        std::uint64_t fulfilled) {
  if (n.created != created || n.fulfilled != fulfilled)
    fail("steps ran " + std::to_string(n.created) + " (create) and "
         + std::to_string(n.fulfilled) + " (fulfil) times, expected "
         + std::to_string(created) + " and " + std::to_string(fulfilled));
}

} // namespace signoff::bench
