#include "signoff/http/notifier.hpp"

#include <fstream>
#include <map>
#include <regex>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "actors/child_process.hpp"
#include "actors/fixtures.hpp"
#include "receiver.hpp"
#include "signoff/http/crypto.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "support/temp_dir.hpp"

using namespace signoff;
using namespace std::chrono_literals;

namespace {

const std::string secret = "notification-secret";

boost::json::value some_event(const std::string& key) {
  return {{"type", "approval.resolved"}, {"key", key}};
}

/// True if the request carries a valid signature of its body.
bool signed_right(const test::received_request& r) {
  return r.signature
         == "sha256="
              + http::hmac_sha256_hex(secret, r.timestamp + "." + r.body);
}

} // namespace

BOOST_AUTO_TEST_SUITE(notifications)

BOOST_AUTO_TEST_CASE(deliveries_are_signed_and_leave_the_outbox) {
  test::receiver hook;
  auto outbox = persistence::make_memory_outbox();
  BOOST_REQUIRE(outbox->append(some_event("k1"), model::system_now()).is_ok());
  http::notifier deliver{outbox, {.urls = {hook.url()}, .secret = secret}};
  auto delivered = deliver.deliver_due();
  BOOST_REQUIRE(delivered.is_ok());
  BOOST_TEST(delivered.value() == 1U);
  auto got = hook.received();
  BOOST_REQUIRE_EQUAL(got.size(), 1U);
  BOOST_TEST(signed_right(got[0]));
  auto body = boost::json::parse(got[0].body);
  BOOST_TEST(body.at("key").as_string() == "k1");
  BOOST_TEST(std::to_string(body.at("id").to_number<std::uint64_t>())
             == got[0].event_id);
  // A forged body does not verify.
  auto forged = got[0];
  forged.body += " ";
  BOOST_TEST(!signed_right(forged));
  BOOST_TEST(outbox->due(model::system_now() + 1h, 10)->empty());
}

BOOST_AUTO_TEST_CASE(failures_are_retried_with_backoff) {
  test::receiver hook{2};
  auto outbox = persistence::make_memory_outbox();
  BOOST_REQUIRE(outbox->append(some_event("k2"), model::system_now()).is_ok());
  http::notifier deliver{outbox,
                         {.urls = {hook.url()},
                          .secret = secret,
                          .first_retry = model::duration{40ms},
                          .max_retry = model::duration{1s}}};
  BOOST_TEST(deliver.deliver_due().value() == 0U);
  auto first = outbox->due(model::system_now() + 1h, 10).value();
  BOOST_REQUIRE_EQUAL(first.size(), 1U);
  BOOST_TEST(first[0].attempts == 1U);
  // Not due again before its backoff.
  BOOST_TEST(deliver.deliver_due().value() == 0U);
  BOOST_TEST(hook.refused() == 1);
  std::this_thread::sleep_for(60ms);
  BOOST_TEST(deliver.deliver_due().value() == 0U);
  auto second = outbox->due(model::system_now() + 1h, 10).value();
  BOOST_REQUIRE_EQUAL(second.size(), 1U);
  BOOST_TEST(second[0].attempts == 2U);
  // The wait doubled: the second retry is later than the first was.
  BOOST_TEST(
    (second[0].next_attempt - model::system_now() > model::duration{40ms}));
  deliver.start();
  BOOST_TEST(test::eventually([&] { return hook.received().size() == 1; }));
  deliver.stop();
  BOOST_TEST(hook.refused() == 2);
  BOOST_TEST(signed_right(hook.received()[0]));
}

BOOST_AUTO_TEST_CASE(every_attempt_repeats_the_event_id) {
  test::receiver hook{2};
  auto outbox = persistence::make_memory_outbox();
  BOOST_REQUIRE(outbox->append(some_event("k"), model::system_now()).is_ok());
  BOOST_REQUIRE(outbox->append(some_event("k"), model::system_now()).is_ok());
  http::notifier deliver{outbox,
                         {.urls = {hook.url()},
                          .secret = secret,
                          .poll_interval = model::duration{5ms},
                          .first_retry = model::duration{1ms},
                          .max_retry = model::duration{1ms}}};
  deliver.start();
  BOOST_TEST(test::eventually([&] { return hook.received().size() == 2; }));
  deliver.stop();
  std::map<std::string, int> tries;
  for (const auto& id : hook.attempts())
    ++tries[id];
  // Two events, two ids; the refused attempts repeated theirs.
  BOOST_TEST(tries.size() == 2U);
  BOOST_TEST(hook.attempts().size() == 4U);
  for (const auto& r : hook.received())
    BOOST_TEST(std::to_string(
                 boost::json::parse(r.body).at("id").to_number<std::uint64_t>())
               == r.event_id);
}

BOOST_AUTO_TEST_CASE(event_ids_are_never_given_twice) {
  const auto now = model::system_now();
  auto drain = [&](persistence::outbox& box) {
    const auto owed = box.due(now + 1h, 100).value();
    for (const auto& e : owed)
      BOOST_REQUIRE(box.remove(e.id).is_ok());
  };
  auto last_id = [&](persistence::outbox& box) {
    return box.due(now + 1h, 100).value().back().id;
  };
  // In memory: for the outbox's life, also once it was empty.
  auto memory = persistence::make_memory_outbox();
  BOOST_REQUIRE(memory->append(some_event("a"), now).is_ok());
  BOOST_REQUIRE(memory->append(some_event("b"), now).is_ok());
  drain(*memory);
  BOOST_REQUIRE(memory->append(some_event("c"), now).is_ok());
  BOOST_TEST(last_id(*memory) == 3U);

  // On LMDB: for the directory's life, also across restarts.
  test::temp_dir dir;
  {
    auto stores = persistence::open_lmdb_stores({.path = dir.str()}).value();
    BOOST_REQUIRE(stores.notifications->append(some_event("a"), now).is_ok());
    BOOST_REQUIRE(stores.notifications->append(some_event("b"), now).is_ok());
    drain(*stores.notifications);
    BOOST_REQUIRE(stores.notifications->append(some_event("c"), now).is_ok());
    BOOST_TEST(last_id(*stores.notifications) == 3U);
    drain(*stores.notifications);
  }
  {
    auto stores = persistence::open_lmdb_stores({.path = dir.str()}).value();
    BOOST_REQUIRE(stores.notifications->append(some_event("d"), now).is_ok());
    BOOST_TEST(last_id(*stores.notifications) == 4U);
  }
}

BOOST_AUTO_TEST_CASE(a_receiver_that_never_answers_delays_no_other) {
  test::silent_receiver silent;
  test::receiver hook;
  auto outbox = persistence::make_memory_outbox();
  for (const auto* key : {"k1", "k2", "k3"})
    BOOST_REQUIRE(outbox->append(some_event(key), model::system_now()).is_ok());
  // The silent one first: a notifier that goes through the receivers in
  // turn is stuck on it for the hour.
  http::notifier deliver{outbox,
                         {.urls = {silent.url(), hook.url()},
                          .secret = secret,
                          .poll_interval = model::duration{5ms},
                          .response_timeout = model::duration{1h}}};
  deliver.start();
  BOOST_TEST(test::eventually([&] { return hook.received().size() == 3; }));
  BOOST_TEST(test::eventually([&] { return silent.accepted() >= 1; }));
  // Owed until the silent one has them too.
  BOOST_TEST(outbox->due(model::system_now() + 1h, 10)->size() == 3U);
  // And stopping does not wait for it.
  deliver.stop();
}

BOOST_AUTO_TEST_CASE(an_attempt_ends_at_its_deadlines) {
  auto attempts_of = [](persistence::outbox& box) {
    return box.due(model::system_now() + 2h, 10).value().at(0).attempts;
  };
  // Connected, but no answer.
  test::silent_receiver silent;
  auto waiting = persistence::make_memory_outbox();
  BOOST_REQUIRE(waiting->append(some_event("k"), model::system_now()).is_ok());
  http::notifier answer{waiting,
                        {.urls = {silent.url()},
                         .secret = secret,
                         .response_timeout = model::duration{20ms}}};
  BOOST_TEST(answer.deliver_due().value() == 0U);
  BOOST_TEST(attempts_of(*waiting) == 1U);
  // It took the connection (its thread may only now see it).
  BOOST_TEST(test::eventually([&] { return silent.accepted() == 1; }));
  // Never connected.
  test::unreachable_receiver unreachable;
  auto connecting = persistence::make_memory_outbox();
  BOOST_REQUIRE(
    connecting->append(some_event("k"), model::system_now()).is_ok());
  http::notifier connect{connecting,
                         {.urls = {unreachable.url()},
                          .secret = secret,
                          .connect_timeout = model::duration{20ms}}};
  BOOST_TEST(connect.deliver_due().value() == 0U);
  BOOST_TEST(attempts_of(*connecting) == 1U);
}

BOOST_AUTO_TEST_CASE(with_no_receiver_events_leave_the_outbox) {
  auto outbox = persistence::make_memory_outbox();
  BOOST_REQUIRE(outbox->append(some_event("k1"), model::system_now()).is_ok());
  BOOST_REQUIRE(outbox->append(some_event("k2"), model::system_now()).is_ok());
  http::notifier nobody{outbox, {}};
  auto delivered = nobody.deliver_due();
  BOOST_REQUIRE(delivered.is_ok());
  BOOST_TEST(delivered.value() == 2U);
  BOOST_TEST(outbox->due(model::system_now() + 1h, 10)->empty());
}

BOOST_AUTO_TEST_CASE(without_an_outbox_a_journal_keeps_no_event) {
  test::temp_dir dir;
  auto stores = persistence::open_lmdb_stores(
    {.path = dir.path().string(),
     .durability = persistence::lmdb_durability::no_sync});
  BOOST_REQUIRE(stores.is_ok());
  {
    orchestrator_options options;
    options.use_lmdb_stores(*stores);
    orchestrator orch{std::move(options)};
    auto after = std::make_shared<std::atomic<int>>(0);
    orch.register_workflow("single",
                           test::single_approval_workflow(after, true));
    BOOST_REQUIRE(orch.execute("single", test::key_input("k")).is_ok());
    BOOST_REQUIRE(
      orch.reject_approval("k", "no", {.rejected_by = "jo"}).is_ok());
    BOOST_TEST(after->load() == 1);
  }
  BOOST_TEST(stores->notifications->due(model::system_now() + 1h, 10)->empty());
}

BOOST_AUTO_TEST_CASE(the_orchestrator_keeps_every_pause_and_decision) {
  auto outbox = persistence::make_memory_outbox();
  orchestrator_options options;
  options.outbox = outbox;
  orchestrator orch{std::move(options)};
  auto after = std::make_shared<std::atomic<int>>(0);
  orch.register_workflow("single", test::single_approval_workflow(after, true));
  auto run = orch.execute("single", test::key_input("k"));
  BOOST_REQUIRE(run.is_ok());
  BOOST_REQUIRE(orch.reject_approval("k", "no", {.rejected_by = "jo"}).is_ok());
  auto owed = outbox->due(model::system_now() + 1h, 10).value();
  BOOST_REQUIRE_EQUAL(owed.size(), 2U);
  BOOST_TEST(owed[0].event.at("type").as_string() == "approval.needed");
  BOOST_TEST(owed[0].event.at("runId").as_string() == run->run_id);
  BOOST_TEST(owed[1].event.at("type").as_string() == "approval.resolved");
  BOOST_TEST(owed[1].event.at("status").at("status").as_string() == "rejected");
  BOOST_TEST(owed[1].event.at("status").at("decidedBy").as_string() == "jo");
  // The run the decision resumes.
  BOOST_TEST(owed[1].event.at("runId").as_string() == run->run_id);
  BOOST_TEST(owed[1].event.at("workflowName").as_string() == "single");
  BOOST_TEST(owed[1].event.at("runIds")
             == (boost::json::array{boost::json::value(run->run_id)}));
}

BOOST_AUTO_TEST_CASE(a_resolution_names_every_run_waiting_on_it) {
  auto outbox = persistence::make_memory_outbox();
  test::manual_clock clock;
  orchestrator_options options;
  options.outbox = outbox;
  options.clock = clock.fn();
  orchestrator orch{std::move(options)};
  auto after = std::make_shared<std::atomic<int>>(0);
  orch.register_workflow(
    "single",
    test::single_approval_workflow(
      after, true, signoff::model::approval_options{}.expiring_in(1h)));
  for (const auto* id : {"run-b", "run-a"})
    BOOST_REQUIRE(orch.execute("single", test::key_input("shared"), {id}));
  BOOST_REQUIRE(orch.execute("single", test::key_input("late"), {"run-late"}));
  BOOST_REQUIRE(orch.grant_approval("shared", "yes").is_ok());
  clock.advance(2h);
  BOOST_REQUIRE(orch.expire_due().is_ok());
  std::map<std::string, boost::json::value> resolved;
  const auto owed = outbox->due(clock.now() + 1h, 10).value();
  for (const auto& e : owed)
    if (e.event.at("type") == "approval.resolved")
      resolved[std::string{e.event.at("key").as_string()}] = e.event;
  BOOST_REQUIRE(resolved.size() == 2U);
  const auto& shared = resolved.at("shared");
  BOOST_TEST(shared.at("runIds") == (boost::json::array{"run-a", "run-b"}));
  // runId names the run that asked first.
  BOOST_TEST(shared.at("runId") == "run-b");
  BOOST_TEST(shared.at("workflowName") == "single");
  const auto& late = resolved.at("late");
  BOOST_TEST(late.at("status").at("status") == "expired");
  BOOST_TEST(late.at("runId") == "run-late");
  BOOST_TEST(late.at("workflowName") == "single");
}

// signoffd owes a notification to a receiver that is down, is killed, and
// delivers it after its restart.
BOOST_AUTO_TEST_CASE(an_owed_notification_survives_a_kill) {
  test::temp_dir dir;
  unsigned short hook_port = 0;
  {
    test::receiver probe; // find a free port, then free it again
    hook_port = probe.port();
  }
  const auto hook_url
    = "http://127.0.0.1:" + std::to_string(hook_port) + "/hook";
  const auto log = (dir.path() / "signoffd.out").string();
  auto start = [&] {
    return std::make_unique<test::child_process>(
      std::vector<std::string>{SIGNOFFD, "--data",
                               (dir.path() / "data").string(), "--port", "0",
                               "--notify", hook_url, "--notify-secret", secret},
      log);
  };
  {
    auto server = start();
    BOOST_REQUIRE(server->started());
    // The seeded runs paused: their notifications are owed, the receiver is
    // down. Wait until the server reports it listens, then kill it.
    BOOST_REQUIRE(test::eventually([&] {
      std::ifstream in{log};
      std::string text{std::istreambuf_iterator<char>{in}, {}};
      return text.find("listening on") != std::string::npos;
    }));
    std::this_thread::sleep_for(300ms);
    server->kill();
  }
  test::receiver hook{0, hook_port};
  auto server = start();
  BOOST_REQUIRE(server->started());
  BOOST_TEST(test::eventually([&] {
    for (const auto& r : hook.received())
      if (r.body.find("approval:order:ord_123") != std::string::npos)
        return true;
    return false;
  }));
  for (const auto& r : hook.received())
    BOOST_TEST(signed_right(r));
}

BOOST_AUTO_TEST_SUITE_END()
