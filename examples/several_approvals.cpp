// Steps that wait on several approvals: a contract signed by legal or by a
// director, whichever decides first (the other approval is cancelled), and
// a release that ships once security and QA both granted it. Exits
// non-zero if anything went otherwise. The README's "Steps" shows the
// region marked below.

#include <iostream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <signoff/signoff.hpp>

using boost::json::value;
using signoff::model::result;

signoff::workflow contract_workflow() {
  return [](signoff::step& step,
            const value& input) -> signoff::task<result<value>> {
    const std::string id{input.at("id").as_string()};
    // [readme:first-approval]
    // Legal or a director: the first decision decides, and the other
    // approval is cancelled by the run ("superseded by ...").
    std::vector<std::string> signers{"approval:contract:" + id + ":legal",
                                     "approval:contract:" + id + ":director"};
    auto signed_by = co_await step.first_approval(
      signers, signoff::model::approval_options{}.with_reason("Sign-off"));
    // signed_by.key names the approval that decided; a rejection of it
    // would have ended the run (try_first_approval returns it instead).
    // [readme:end]
    co_return value{{"signedBy", signed_by.key},
                    {"value", signed_by.status.value}};
  };
}

signoff::workflow release_workflow() {
  return [](signoff::step& step,
            const value& input) -> signoff::task<result<value>> {
    const std::string version{input.at("version").as_string()};
    // [readme:all-approvals]
    // Security and QA, in any order: the run goes on once both granted;
    // the first rejection ends it and cancels the other.
    std::vector<std::string> teams{"approval:release:" + version + ":security",
                                   "approval:release:" + version + ":qa"};
    auto all = co_await step.all_approvals(teams);
    for (const auto& each : all)
      std::cout << each.key << " granted by " << each.status.decided_by << '\n';
    // [readme:end]
    co_return value{{"released", version}};
  };
}

namespace {

bool check(bool ok, const std::string& what) {
  if (!ok)
    std::cerr << "several_approvals: " << what << '\n';
  return ok;
}

} // namespace

int main() {
  signoff::orchestrator orchestrator;
  orchestrator.register_workflow("contract", contract_workflow());
  orchestrator.register_workflow("release", release_workflow());
  bool ok = true;

  // The contract waits on both; the director signs first.
  auto contract = orchestrator.execute("contract", value{{"id", "7"}});
  ok &= check(contract.is_ok() && contract->pending_approvals.size() == 2,
              "the contract does not wait on both signers");
  auto director = orchestrator.grant_approval(
    "approval:contract:7:director", "signed", {.approved_by = "dana"});
  ok &= check(director.is_ok() && director->resumed_workflows.size() == 1,
              "the director's signature resumed nothing");
  if (contract.is_ok()) {
    auto done = orchestrator.get_workflow_status(contract->run_id);
    ok &= check(done.is_ok() && done->outcome && done->outcome->is_ok()
                  && done->outcome->value().at("signedBy")
                       == "approval:contract:7:director",
                "the contract was not signed by the director");
  }
  auto legal = orchestrator.get_approval("approval:contract:7:legal");
  ok &= check(legal.is_ok()
                && legal->status.state
                     == signoff::model::approval_state::cancelled,
              "legal's approval was not cancelled");
  if (legal.is_ok())
    std::cout << "legal: " << to_string(legal->status.state) << " by "
              << legal->status.decided_by << " (" << legal->status.reason
              << ")\n";

  // The release waits for both teams: QA alone resumes nothing.
  auto release = orchestrator.execute("release", value{{"version", "2.1"}});
  auto qa = orchestrator.grant_approval("approval:release:2.1:qa", true,
                                        {.approved_by = "quinn"});
  ok &= check(qa.is_ok() && qa->resumed_workflows.empty(),
              "QA alone resumed the release");
  auto security = orchestrator.grant_approval("approval:release:2.1:security",
                                              true, {.approved_by = "sam"});
  ok &= check(security.is_ok() && security->resumed_workflows.size() == 1,
              "security's grant did not resume the release");
  if (release.is_ok()) {
    auto done = orchestrator.get_workflow_status(release->run_id);
    ok &= check(done.is_ok()
                  && done->status == signoff::model::run_status::completed,
                "the release did not complete");
  }
  return ok ? 0 : 1;
}
