// Who may decide: an invoice approval is assigned to alice and to the
// finance group. An outsider is refused and changes nothing; alice hands
// her place to dave, who approves, and the run goes on. Exits non-zero if
// anything went otherwise. The README's "Who may decide" shows the regions
// marked below.

#include <iostream>
#include <string>

#include <boost/json.hpp>

#include <signoff/signoff.hpp>

using boost::json::value;
using signoff::model::result;

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  std::cout << (ok ? "ok: " : "FAILED: ") << what << '\n';
  failures += ok ? 0 : 1;
}

} // namespace

int main() {
  signoff::orchestrator orch;
  // [readme:assigned-workflow]
  orch.register_workflow(
    "invoice",
    [](signoff::step& step,
       const value& input) -> signoff::task<result<value>> {
      std::string id{input.at("invoiceId").as_string()};
      // Built before the co_await (g++ 12 and braced lists inside one).
      auto options = signoff::model::approval_options{}
                       .with_reason("Invoices need finance")
                       .assigned_to({"alice"})
                       .for_groups({"finance"})
                       .with_priority(2);
      auto approval
        = co_await step.approval("approval:invoice:" + id, std::move(options));
      co_return value{{"invoiceId", id}, {"approval", approval}};
    });
  // [readme:end]
  auto run = orch.execute("invoice", value{{"invoiceId", "inv_7"}});
  expect(run.is_ok() && run->status == signoff::model::run_status::paused,
         "the run waits for the invoice's approval");

  // [readme:who-may-decide]
  using signoff::model::actor_rights;
  const std::string key = "approval:invoice:inv_7";
  // Calls in the process are trusted (an admin's rights) unless they say
  // who decides: here, someone in the ops group only.
  auto refused = orch.grant_approval(
    key, value{{"ok", true}},
    {.approved_by = "mallory", .rights = actor_rights::member_of({"ops"})});
  // refused.error().type == "FORBIDDEN"; nothing changed.

  // alice hands her place to dave (audited "delegated", and an
  // approval.reassigned event); a member of finance could decide too.
  auto delegated
    = orch.delegate_approval(key, "dave",
                             {.by = "alice",
                              .reason = "on holiday",
                              .rights = actor_rights::member_of()});
  auto granted = orch.grant_approval(
    key, value{{"ok", true}},
    {.approved_by = "dave", .rights = actor_rights::member_of()});
  // [readme:end]

  expect(refused.is_err()
           && refused.error().is(signoff::model::error_type::forbidden),
         "an outsider is refused with FORBIDDEN");
  expect(delegated.is_ok()
           && delegated->record.spec.assignees
                == std::vector<std::string>{"dave"},
         "alice delegated to dave");
  expect(granted.is_ok() && granted->resumed_workflows.size() == 1,
         "dave approved and the run went on");
  auto trail = orch.audit_trail(key);
  expect(trail.is_ok() && trail->size() == 3
           && (*trail)[1].action == "delegated"
           && (*trail)[2].action == "approved",
         "the audit trail has the delegation and the approval");
  return failures == 0 ? 0 : 1;
}
