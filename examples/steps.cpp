// The kinds of steps in one expense workflow: a request to a typed actor,
// an approval with a quorum and a deadline whose expiry takes another
// branch, a blocking step and an async step. One report is approved by two
// approvers, another is left to expire (on a clock the program moves).
// Exits non-zero if anything went otherwise. The README's "Steps" and
// "Writing workflows" show the regions marked below.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <signoff/signoff.hpp>

using boost::json::value;
using signoff::model::result;

// [readme:budget-actor]
// The budget service: an actor with a typed interface.
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
using confirm_atom = caf::atom_constant<caf::atom("confirm")>;
constexpr reserve_atom reserve_atom_v{};
constexpr confirm_atom confirm_atom_v{};

using budget_actor = caf::typed_actor<
  // Reserves an amount for an expense; replies with the reservation's id.
  caf::replies_to<reserve_atom, std::string, std::int64_t>::with<std::string>,
  // Confirms a reservation.
  caf::replies_to<confirm_atom, std::string>::with<bool>>;
// [readme:end]

namespace {

/// What the services were asked, to prove that no step ran twice.
struct calls {
  std::atomic<int> reserved{0};
  std::atomic<int> confirmed{0};
  std::atomic<int> ledger_entries{0};
  std::atomic<int> escalated{0};
};

calls counted;

// Takes an argument besides its `self`: CAF 0.17 dereferences a null
// pointer (harmless, but UndefinedBehaviorSanitizer stops) when a function
// actor is spawned without one.
budget_actor::behavior_type budget_service(budget_actor::pointer, calls* n) {
  return {
    [n](reserve_atom, const std::string& expense, std::int64_t amount) {
      ++n->reserved;
      return "res-" + expense + "-" + std::to_string(amount);
    },
    [n](confirm_atom, const std::string&) {
      ++n->confirmed;
      return true;
    },
  };
}

/// The ledger is a database behind a blocking client.
std::int64_t append_to_ledger(const std::string&, std::int64_t) {
  std::this_thread::sleep_for(std::chrono::milliseconds{20});
  return ++counted.ledger_entries;
}

value escalate(const std::string& expense) {
  ++counted.escalated;
  return value{{"expense", expense}, {"escalatedTo", "cfo@example.com"}};
}

} // namespace

signoff::workflow expense_workflow(budget_actor budget) {
  return [budget](signoff::step& step,
                  const value& input) -> signoff::task<result<value>> {
    const std::string id{input.at("id").as_string()};
    const auto amount = input.at("amount").to_number<std::int64_t>();

    // [readme:request]
    // Asks the budget actor: its reply is the step's value and checkpoint,
    // and the run holds no thread while it waits.
    std::string reservation = co_await step.request("reserve-budget", budget,
                                                    reserve_atom_v, id, amount);
    // [readme:end]

    // [readme:try-approval]
    value details = {{"amount", amount}}; // built outside the co_await
    auto decided = co_await step.try_approval(
      "approval:expense:" + id,
      signoff::model::approval_options{}
        .with_reason("Finance sign-off")
        .with_quorum(2)                      // two distinct approvers
        .expiring_in(std::chrono::hours{48}) // default: 7 days
        .with_metadata(details));
    if (decided.is_err()) {
      if (decided.error().is(signoff::model::error_type::approval_expired))
        co_return co_await step.run("escalate", [&] { return escalate(id); });
      co_return decided.error(); // rejected or cancelled: the run fails
    }
    // [readme:end]

    // [readme:blocking-step]
    // A plain function runs on the step executor, where it may block.
    auto entry = co_await step.run(
      "write-ledger", [&] { return append_to_ledger(id, amount); });
    // [readme:end]

    // [readme:async-step]
    // A coroutine runs on the run's actor: it must not block, and it may
    // await other steps, here a request whose failure ends no run.
    bool confirmed = co_await step.run("confirm", [&]() -> signoff::task<bool> {
      auto reply
        = co_await step.try_request("confirm-budget", std::chrono::seconds{5},
                                    budget, confirm_atom_v, reservation);
      co_return reply.is_ok() && reply.value();
    });
    // [readme:end]

    co_return value{{"expense", id},
                    {"reservation", reservation},
                    {"ledgerEntry", entry},
                    {"confirmed", confirmed},
                    {"approval", decided.value()}};
  };
}

namespace {

bool check(bool ok, const std::string& what) {
  if (!ok)
    std::cerr << "steps: " << what << '\n';
  return ok;
}

/// Waits (at most 10 s) until the run ended: a decision's reply comes once
/// the run reached its next suspension, which may be a request in flight.
signoff::model::result<signoff::model::saved_workflow_state>
finished(signoff::orchestrator& orchestrator, const std::string& run_id) {
  const auto deadline
    = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  for (;;) {
    auto status = orchestrator.get_workflow_status(run_id);
    if (status.is_err() || status->outcome
        || std::chrono::steady_clock::now() > deadline)
      return status;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
}

} // namespace

int main() {
  // A clock the program moves, so the second report expires at once.
  auto now_ms = std::make_shared<std::atomic<std::int64_t>>(
    signoff::model::to_millis(signoff::model::system_now()));
  signoff::orchestrator_options options;
  options.clock = [now_ms] {
    return signoff::model::from_millis(*now_ms);
  };
  signoff::orchestrator orchestrator{std::move(options)};
  auto budget = orchestrator.system().spawn(budget_service, &counted);
  orchestrator.register_workflow("expense", expense_workflow(budget));
  bool ok = true;

  // Approved by two approvers: the first grant counts toward the quorum and
  // resumes nobody, the second approves.
  auto first
    = orchestrator.execute("expense", value{{"id", "42"}, {"amount", 1200}});
  ok &= check(first.is_ok() && to_string(first->status) == "paused",
              "the first report did not pause");
  auto alice = orchestrator.grant_approval(
    "approval:expense:42", {{"ok", true}}, {.approved_by = "alice"});
  ok &= check(alice.is_ok() && alice->resumed_workflows.empty()
                && alice->approval.status.is_pending(),
              "one grant of two approved the report");
  auto bob = orchestrator.grant_approval("approval:expense:42", {{"ok", true}},
                                         {.approved_by = "bob"});
  ok &= check(bob.is_ok() && first.is_ok()
                && bob->resumed_workflows
                     == std::vector<std::string>{first->run_id},
              "the second grant did not resume the run");
  if (first.is_ok()) {
    auto done = finished(orchestrator, first->run_id);
    ok &= check(done.is_ok() && to_string(done->status) == "completed",
                "the approved report did not complete");
    if (done.is_ok() && done->outcome && done->outcome->is_ok()) {
      const auto& out = done->outcome->value();
      std::cout << "approved -> " << boost::json::serialize(out) << '\n';
      ok &= check(out.at("reservation") == "res-42-1200",
                  "the reservation is not the budget actor's reply");
      ok &= check(out.at("confirmed") == true, "the budget was not confirmed");
      ok &= check(out.at("ledgerEntry") == 1, "the ledger entry is wrong");
    }
  }

  // Left to expire: 49 hours later the run takes its escalation branch.
  auto second
    = orchestrator.execute("expense", value{{"id", "43"}, {"amount", 90}});
  ok &= check(second.is_ok() && to_string(second->status) == "paused",
              "the second report did not pause");
  *now_ms += std::chrono::milliseconds{std::chrono::hours{49}}.count();
  auto expired = orchestrator.expire_due();
  ok &= check(expired.is_ok()
                && *expired == std::vector<std::string>{"approval:expense:43"},
              "the second report's approval did not expire");
  if (second.is_ok()) {
    auto done = finished(orchestrator, second->run_id);
    ok &= check(done.is_ok() && done->outcome && done->outcome->is_ok()
                  && done->outcome->value().at("escalatedTo")
                       == "cfo@example.com",
                "the expired report was not escalated");
    if (done.is_ok() && done->outcome && done->outcome->is_ok())
      std::cout << "expired  -> "
                << boost::json::serialize(done->outcome->value()) << '\n';
  }

  std::cout << "reserved " << counted.reserved << ", confirmed "
            << counted.confirmed << ", ledger entries "
            << counted.ledger_entries << ", escalated " << counted.escalated
            << '\n';
  ok &= check(counted.reserved == 2 && counted.confirmed == 1
                && counted.ledger_entries == 1 && counted.escalated == 1,
              "a step ran too often or not at all");

  // Actors of our own in the orchestrator's system quit before it does.
  caf::anon_send_exit(budget, caf::exit_reason::user_shutdown);
  return ok ? 0 : 1;
}
