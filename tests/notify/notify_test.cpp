#include "signoff/http/notifier.hpp"

#include <fstream>
#include <regex>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "actors/child_process.hpp"
#include "actors/fixtures.hpp"
#include "receiver.hpp"
#include "signoff/http/crypto.hpp"
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
