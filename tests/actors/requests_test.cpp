// `step.request`: a step that asks another actor, on the deterministic test
// coordinator. Its reply (or the error, or the timeout) is the step's
// checkpoint: a replay never asks again. Time moves only when a case moves
// it, so a timeout is the test clock's, not the machine's.

#include "deterministic.hpp"

#include <limits>

using namespace signoff;
using namespace std::chrono_literals;
using test::deterministic_engine;
using value_task = task<model::result<boost::json::value>>;
using execution_reply = model::result<model::execution_result>;
using decision_reply = model::result<actors::decision_report>;

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::model::result<int>)

namespace {

using price_atom = caf::atom_constant<caf::atom("t_price")>;
constexpr price_atom price_atom_v{};
using stock_atom = caf::atom_constant<caf::atom("t_stock")>;
constexpr stock_atom stock_atom_v{};
using fail_atom = caf::atom_constant<caf::atom("t_fail")>;
constexpr fail_atom fail_atom_v{};

/// A typed service: prices (reply deduced from the handle) and stock
/// levels as `result<int>` (an error for an unknown item).
using shop_actor = caf::typed_actor<
  caf::replies_to<price_atom, std::string>::with<int>,
  caf::replies_to<stock_atom, std::string>::with<model::result<int>>>;

shop_actor::behavior_type shop(shop_actor::pointer,
                               std::shared_ptr<std::atomic<int>> asked) {
  return {
    [asked](price_atom, const std::string& item) {
      ++*asked;
      return static_cast<int>(item.size()) * 100;
    },
    [asked](stock_atom, const std::string& item) -> model::result<int> {
      ++*asked;
      if (item == "unicorn")
        return model::make_error("OUT_OF_STOCK", "no " + item);
      if (item == "comet")
        return model::make_error(
          "OUT_OF_RANGE", "too far",
          boost::json::value{
            {"distance", std::numeric_limits<double>::infinity()}});
      return 7;
    },
  };
}

/// A dynamically typed service answering `fail_atom` with an error. Its
/// unused argument is there for CAF 0.17: spawning a function actor with
/// none binds a reference to a null tuple, which UBSan reports.
caf::behavior failing(caf::event_based_actor*, int) {
  return {
    [](fail_atom) -> caf::result<std::string> {
      return caf::make_error(caf::sec::invalid_argument);
    },
  };
}

/// Options with no resident run allowed: every wake replays.
deterministic_engine::configure_fn passivating() {
  return [](actors::orchestrator_config& c) {
    c.max_resident_runs = 0;
  };
}

model::execution_result execute(deterministic_engine& env,
                                const std::string& workflow,
                                const std::string& run_id) {
  return env.execute(workflow, nullptr, run_id);
}

/// Grants `key` and runs until the decision is answered.
actors::decision_report grant(deterministic_engine& env,
                              const std::string& key) {
  env.send_grant(key);
  env.run();
  return test::must(env.reply<decision_reply>());
}

boost::json::value outcome(deterministic_engine& env,
                           const std::string& run_id) {
  auto run = env.stored(run_id);
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST_REQUIRE(
    run.outcome->is_ok(),
    (run.outcome->is_err() ? run.outcome->error().message : std::string{}));
  return run.outcome->value();
}

model::error failure(deterministic_engine& env, const std::string& run_id) {
  auto run = env.stored(run_id);
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST_REQUIRE(run.outcome->is_err());
  return run.outcome->error();
}

} // namespace

BOOST_AUTO_TEST_SUITE(requests)

// A typed handle: the reply type comes from its signature. The reply is
// the checkpoint, so the replay after the approval does not ask again.
BOOST_AUTO_TEST_CASE(a_typed_reply_is_kept_and_not_asked_again) {
  deterministic_engine env{passivating()};
  auto asked = std::make_shared<std::atomic<int>>(0);
  auto service = caf::actor_cast<shop_actor>(env.spawn(shop, asked));
  auto entries = std::make_shared<std::atomic<int>>(0);
  env.register_workflow(
    "priced",
    [service, entries](step& step, const boost::json::value&) -> value_task {
      ++*entries;
      std::string item{"lamp"};
      int price = co_await step.request("price", service, price_atom_v, item);
      co_await step.approval("buy");
      co_return boost::json::value(price);
    });
  BOOST_TEST(execute(env, "priced", "r").status == model::run_status::paused);
  BOOST_TEST(*asked == 1);
  BOOST_TEST(grant(env, "buy").resumed_workflows.size() == 1U);
  BOOST_TEST(*entries == 2);
  BOOST_TEST(*asked == 1);
  BOOST_TEST(outcome(env, "r") == boost::json::value(400));
  BOOST_TEST(env.stored("r").checkpoints.at("price").value()
             == boost::json::value(400));
}

// A dynamically typed actor: the caller names the reply type.
BOOST_AUTO_TEST_CASE(an_untyped_actor_with_a_named_reply_type) {
  deterministic_engine env;
  auto asked = std::make_shared<std::atomic<int>>(0);
  auto gate = env.spawn(test::gate_actor, asked);
  env.register_workflow(
    "asking", [gate](step& step, const boost::json::value&) -> value_task {
      std::string what{"why"};
      auto answer = co_await step.request<std::string>("ask", gate,
                                                       test::ask_atom_v, what);
      co_return boost::json::value(answer);
    });
  env.send_execute("asking", nullptr, "r");
  env.run();
  BOOST_TEST(!env.has_reply());
  caf::anon_send(gate, test::release_atom_v);
  env.run();
  auto done = test::must(env.reply<execution_reply>());
  BOOST_TEST(done.status == model::run_status::completed);
  BOOST_TEST(outcome(env, "r") == boost::json::value("answer"));
}

// A `result<T>` reply is unwrapped: its value is the step's; its error
// ends the run with that very error (and is kept like a reply).
BOOST_AUTO_TEST_CASE(a_result_reply_is_unwrapped) {
  deterministic_engine env;
  auto asked = std::make_shared<std::atomic<int>>(0);
  auto service = caf::actor_cast<shop_actor>(env.spawn(shop, asked));
  env.register_workflow(
    "stock", [service](step& step, const boost::json::value& in) -> value_task {
      std::string item{in.as_string()};
      int left = co_await step.request("stock", service, stock_atom_v, item);
      co_return boost::json::value(left);
    });
  auto ok = env.execute("stock", "lamp", "ok");
  BOOST_TEST(ok.status == model::run_status::completed);
  BOOST_TEST(outcome(env, "ok") == boost::json::value(7));
  auto missing = env.execute("stock", "unicorn", "missing");
  BOOST_TEST(missing.status == model::run_status::failed);
  auto e = failure(env, "missing");
  BOOST_TEST(e.type == "OUT_OF_STOCK");
  BOOST_TEST(e.message == "no unicorn");
  BOOST_TEST(env.stored("missing").checkpoints.at("stock").is_err());
}

// A `result<T>` reply whose error details JSON cannot carry (an infinity)
// is refused like such a step result: the run fails with an error naming
// the step, and LMDB keeps a run it can read back.
BOOST_AUTO_TEST_CASE(a_result_reply_json_cannot_carry_fails_readably) {
  deterministic_engine env{{}, test::store_kind::lmdb};
  auto asked = std::make_shared<std::atomic<int>>(0);
  auto service = caf::actor_cast<shop_actor>(env.spawn(shop, asked));
  env.register_workflow(
    "stock", [service](step& step, const boost::json::value& in) -> value_task {
      std::string item{in.as_string()};
      int left = co_await step.request("stock", service, stock_atom_v, item);
      co_return boost::json::value(left);
    });
  auto run = env.execute("stock", "comet", "far");
  BOOST_TEST(run.status == model::run_status::failed);
  auto e = failure(env, "far");
  BOOST_TEST(e.type == model::error_type::unexpected_error);
  BOOST_TEST(e.message.find("'stock'") != std::string::npos, e.message);
  BOOST_TEST(e.message.find("OUT_OF_RANGE") != std::string::npos, e.message);
}

// An error reply ends the run with REQUEST_FAILED.
BOOST_AUTO_TEST_CASE(an_error_reply_is_request_failed) {
  deterministic_engine env;
  auto service = env.spawn(failing, 0);
  env.register_workflow(
    "failing", [service](step& step, const boost::json::value&) -> value_task {
      auto x = co_await step.request<std::string>("fail", service, fail_atom_v);
      co_return boost::json::value(x);
    });
  auto run = env.execute("failing", nullptr, "r");
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST(failure(env, "r").type == model::error_type::request_failed);
}

// A request to an actor that is gone fails the same way, at once.
BOOST_AUTO_TEST_CASE(a_request_to_a_gone_actor_is_request_failed) {
  deterministic_engine env;
  auto service = env.spawn(failing, 0);
  caf::anon_send_exit(service, caf::exit_reason::user_shutdown);
  env.run();
  env.register_workflow(
    "failing", [service](step& step, const boost::json::value&) -> value_task {
      auto x = co_await step.request<std::string>("fail", service, fail_atom_v);
      co_return boost::json::value(x);
    });
  auto run = env.execute("failing", nullptr, "r");
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST(failure(env, "r").type == model::error_type::request_failed);
}

// No reply within the step's timeout (on the test clock): REQUEST_TIMEOUT.
// The reply that comes after is ignored.
BOOST_AUTO_TEST_CASE(no_reply_in_time_is_request_timeout) {
  deterministic_engine env;
  auto asked = std::make_shared<std::atomic<int>>(0);
  auto gate = env.spawn(test::gate_actor, asked);
  env.register_workflow(
    "asking", [gate](step& step, const boost::json::value&) -> value_task {
      std::string what{"why"};
      auto answer = co_await step.request<std::string>("ask", 5s, gate,
                                                       test::ask_atom_v, what);
      co_return boost::json::value(answer);
    });
  env.send_execute("asking", nullptr, "r");
  env.run();
  env.advance_time(4s);
  env.run();
  BOOST_TEST(!env.has_reply());
  env.advance_time(1s);
  env.run();
  auto run = test::must(env.reply<execution_reply>());
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST(failure(env, "r").type == model::error_type::request_timeout);
  caf::anon_send(gate, test::release_atom_v);
  env.run();
  BOOST_TEST(failure(env, "r").type == model::error_type::request_timeout);
  BOOST_TEST(*asked == 1);
}

// `try_request` hands the error to the workflow, which branches on it;
// the error is the checkpoint, so a replay takes the same branch without
// asking again. The default timeout is the orchestrator's.
BOOST_AUTO_TEST_CASE(try_request_branches_on_the_error) {
  deterministic_engine env{[](actors::orchestrator_config& c) {
    c.max_resident_runs = 0;
    c.request_timeout = 30s;
  }};
  auto asked = std::make_shared<std::atomic<int>>(0);
  auto gate = env.spawn(test::gate_actor, asked);
  env.register_workflow(
    "asking", [gate](step& step, const boost::json::value&) -> value_task {
      std::string what{"why"};
      auto answer = co_await step.try_request<std::string>(
        "ask", gate, test::ask_atom_v, what);
      std::string said = answer.is_ok() ? answer.value() : answer.error().type;
      co_await step.approval("go-on");
      co_return boost::json::value(said);
    });
  env.send_execute("asking", nullptr, "r");
  env.run();
  env.advance_time(30s);
  env.run();
  BOOST_TEST(test::must(env.reply<execution_reply>()).status
             == model::run_status::paused);
  grant(env, "go-on");
  BOOST_TEST(outcome(env, "r")
             == boost::json::value(model::error_type::request_timeout));
  BOOST_TEST(*asked == 1);
}

// A coroutine step function awaiting a request of its own: the outer step
// keeps the result, and a replay runs neither again.
BOOST_AUTO_TEST_CASE(an_async_step_awaits_a_nested_request) {
  deterministic_engine env{passivating()};
  auto asked = std::make_shared<std::atomic<int>>(0);
  auto service = caf::actor_cast<shop_actor>(env.spawn(shop, asked));
  auto outer_runs = std::make_shared<std::atomic<int>>(0);
  env.register_workflow(
    "nested",
    [service, outer_runs](step& step, const boost::json::value&) -> value_task {
      auto doubled = co_await step.run("double", [&]() -> task<int> {
        ++*outer_runs;
        std::string item{"desk"};
        int price
          = co_await step.request("inner-price", service, price_atom_v, item);
        co_return price * 2;
      });
      co_await step.approval("buy");
      co_return boost::json::value(doubled);
    });
  BOOST_TEST(execute(env, "nested", "r").status == model::run_status::paused);
  grant(env, "buy");
  BOOST_TEST(outcome(env, "r") == boost::json::value(800));
  BOOST_TEST(*asked == 1);
  BOOST_TEST(*outer_runs == 1);
  auto stored = env.stored("r");
  BOOST_TEST(stored.checkpoints.contains("inner-price"));
  BOOST_TEST(stored.checkpoints.contains("double"));
}

// A request to a null handle is a step error, not a crash.
BOOST_AUTO_TEST_CASE(a_request_to_no_actor_is_request_failed) {
  deterministic_engine env;
  env.register_workflow(
    "nobody", [](step& step, const boost::json::value&) -> value_task {
      caf::actor nobody;
      auto x = co_await step.request<std::string>("fail", nobody, fail_atom_v);
      co_return boost::json::value(x);
    });
  auto run = env.execute("nobody", nullptr, "r");
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST(failure(env, "r").type == model::error_type::request_failed);
}

BOOST_AUTO_TEST_SUITE_END()
