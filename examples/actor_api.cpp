// The typed actor API: an actor of the program's own (an approval desk,
// as a server that is itself an actor would be) registers a workflow with
// the orchestrator actor, executes a run, grants its approval and reads the
// run's status, all by typed messages. Then a blocking orchestrator runs on
// the same actor system. Everything shuts down cleanly; exits non-zero if
// anything went otherwise.

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <signoff/signoff.hpp>

using boost::json::value;
using signoff::model::result;

namespace {

signoff::workflow order_workflow() {
  return [](signoff::step& step,
            const value& input) -> signoff::task<result<value>> {
    auto order = co_await step.run("create-order", [&] {
      return value{{"orderId", input.at("orderId")}};
    });
    std::string id{order.at("orderId").as_string()};
    auto approval = co_await step.approval("approval:manager:" + id,
                                           "Waiting for manager approval");
    co_return value{{"orderId", id}, {"approvedBy", approval.at("approvedBy")}};
  };
}

/// What the desk saw; read once every actor quit.
struct desk_report {
  std::vector<std::string> lines;
};

// [readme:actor-api]
namespace actors = signoff::actors;
using signoff::model::execution_result;
using signoff::model::saved_workflow_state;

// An actor of the program's own: it registers a workflow, starts a run,
// grants its approval and reads the run's result. Linked to the
// orchestrator, it takes it along when it quits (or fails).
void approval_desk(caf::event_based_actor* self,
                   actors::orchestrator_actor orch,
                   std::shared_ptr<desk_report> report) {
  self->link_to(orch);
  self
    ->request(orch, caf::infinite, actors::register_atom_v,
              actors::workflow_registration{"order-approval", order_workflow()})
    .then([](bool) {});
  self
    ->request(orch, caf::infinite, actors::execute_atom_v,
              actors::execute_request{.workflow_name = "order-approval",
                                      .input = {{"orderId", "ord_7"}}})
    .then([=](result<execution_result>& run) {
      if (run.is_err()) // errors arrive as values, with their codes
        return self->quit(caf::exit_reason::user_shutdown);
      report->lines.emplace_back(to_string(run->status)); // paused
      auto grant = signoff::model::decision::grant(
        run->pending_approvals.at(0), {{"approvedBy", "jane"}}, "jane");
      self
        ->request(orch, caf::infinite, actors::decide_atom_v,
                  actors::decision_request{std::move(grant)})
        .then([=](result<actors::decision_report>& decided) {
          if (decided.is_ok()) // resumed_workflows == {run->run_id}
            report->lines.push_back(decided->resumed_workflows.at(0));
          self->request(orch, caf::infinite, actors::status_atom_v, run->run_id)
            .then([=](result<saved_workflow_state>& state) {
              if (state.is_ok()) // completed, with its outcome
                report->lines.emplace_back(to_string(state->status));
              self->quit(caf::exit_reason::user_shutdown);
            });
        });
    });
}
// [readme:end]

bool check(bool ok, const char* what) {
  if (!ok)
    std::cerr << "actor_api: " << what << '\n';
  return ok;
}

} // namespace

int main() {
  bool ok = true;
  {
    // [readme:actor-api-spawn]
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    auto orch = signoff::actors::spawn_orchestrator(sys, {}); // in memory
    auto report = std::make_shared<desk_report>();
    sys.spawn(approval_desk, orch, report);
    sys.await_all_actors_done(); // the desk stopped the orchestrator
    // [readme:end]
    for (const auto& line : report->lines)
      std::cout << line << '\n';
    ok &= check(report->lines.size() == 3 && report->lines[0] == "paused"
                  && report->lines[1].starts_with("run_")
                  && report->lines[2] == "completed",
                "the desk's run did not pause, resume and complete");
  }
  {
    // [readme:own-system]
    auto cfg = signoff::make_actor_system_config();
    caf::actor_system sys{*cfg}; // keeps a reference to cfg

    signoff::orchestrator_options options;
    options.system = &sys; // must outlive the orchestrator
    signoff::orchestrator orchestrator{std::move(options)};
    // [readme:end]
    orchestrator.register_workflow("order-approval", order_workflow());
    auto run = orchestrator.execute("order-approval", {{"orderId", "ord_8"}});
    auto granted = orchestrator.grant_approval("approval:manager:ord_8",
                                               {{"approvedBy", "sam"}},
                                               {.approved_by = "sam"});
    ok &= check(run.is_ok() && granted.is_ok(), "the run was refused");
    if (run.is_ok()) {
      auto state = orchestrator.get_workflow_status(run->run_id);
      ok &= check(state.is_ok() && to_string(state->status) == "completed",
                  "the run on the shared system did not complete");
      if (state.is_ok())
        std::cout << "own system: " << boost::json::value_from(*state) << '\n';
    }
  }
  return ok ? 0 : 1;
}
