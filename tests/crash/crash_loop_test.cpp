// The crash loop: a worker process serving orders on an LMDB directory is
// killed with SIGKILL at random moments and restarted, again and again,
// while this process decides their approvals through the worker's HTTP
// endpoint and through the `signoff` CLI on the directory (also while no
// worker runs). In the end every run must have finished, every
// acknowledged decision must be in the audit trail and have decided its
// run's branch, no checkpointed step may have run again, and no run may
// have executed in two actors at once.
//
// SIGNOFF_CRASH_ORDERS (default 1000) and SIGNOFF_CRASH_KILLS (default 12)
// size it; scripts/reliability.sh runs the full version.

#define BOOST_TEST_MODULE signoff_crash
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "actors/child_process.hpp"
#include "http/client.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "support/env.hpp"
#include "support/temp_dir.hpp"

using namespace signoff;
using namespace std::chrono_literals;
namespace client = signoff::test::http_client;

namespace {

std::string order_of(const std::string& key) {
  return key.substr(key.find(':') + 1);
}

/// A decision somebody was told had been made.
struct acknowledged {
  std::string key;
  std::string action; // "approved" or "rejected", as in the audit trail
  std::string actor;
};

/// What the deciders did, for the checks and the figures.
struct decision_log {
  std::mutex mutex;
  std::vector<acknowledged> acks;
  std::map<std::string, int> counts;
  std::vector<std::string> unexpected;

  void ack(acknowledged a, const std::string& counter) {
    std::lock_guard lock{mutex};
    acks.push_back(std::move(a));
    ++counts[counter];
  }
  void count(const std::string& counter) {
    std::lock_guard lock{mutex};
    ++counts[counter];
  }
  void surprise(std::string what) {
    std::lock_guard lock{mutex};
    unexpected.push_back(std::move(what));
  }
};

constexpr std::string_view token = "crash-driver-secret";

/// The port the current worker serves on, 0 until it wrote it.
std::uint16_t read_port(const std::filesystem::path& file) {
  std::ifstream in{file};
  unsigned port = 0;
  in >> port;
  return static_cast<std::uint16_t>(port);
}

/// One request to the worker; status 0 when it is gone (killed before or
/// during the exchange).
client::response ask(std::uint16_t port, std::string_view method,
                     const std::string& target, std::string body = {}) {
  try {
    return client::send(port, method, target, client::bearer(token),
                        std::move(body));
  } catch (const std::runtime_error&) {
    return {};
  }
}

std::vector<std::string> pending_keys(std::uint16_t port) {
  auto answer = ask(port, "GET", "/api/approvals?prefix=approval:");
  std::vector<std::string> keys;
  if (answer.status != 200)
    return keys;
  const auto json = answer.json();
  for (const auto& k : json.at("pending").as_array())
    keys.emplace_back(k.as_string());
  return keys;
}

/// Decides approvals until told to stop: through HTTP while a worker
/// serves, through the CLI on the directory at any time.
class decider {
public:
  decider(const test::temp_dir& dir, decision_log& log, unsigned seed)
      : dir_(dir), log_(log), rng_(seed) {}

  /// One round: a few pending keys (as the worker or the store lists
  /// them), each decided through a channel picked at random.
  /// Each decision tried takes one from `budget`; none is tried at 0.
  void round(std::uint16_t port, std::atomic<int>& budget) {
    auto keys = port != 0 ? pending_keys(port) : cli_pending();
    std::shuffle(keys.begin(), keys.end(), rng_);
    keys.resize(std::min<std::size_t>(keys.size(), 8));
    for (const auto& key : keys) {
      if (budget.fetch_sub(1) <= 0)
        return;
      const bool reject = std::uniform_int_distribution{0, 3}(rng_) == 0;
      const bool through_cli
        = port == 0 || std::uniform_int_distribution{0, 2}(rng_) == 0;
      if (through_cli)
        decide_with_cli(key, reject);
      else
        decide_with_http(port, key, reject);
    }
  }

private:
  void decide_with_http(std::uint16_t port, const std::string& key,
                        bool reject) {
    boost::json::object body{{"key", key},
                             {"action", reject ? "reject" : "approve"}};
    if (reject)
      body["reason"] = "refused by the crash driver";
    else
      body["value"] = {{"channel", "http"}};
    auto answer
      = ask(port, "POST", "/api/approvals", boost::json::serialize(body));
    if (answer.status == 200)
      log_.ack({key, reject ? "rejected" : "approved", "driver"}, "http acked");
    else if (answer.status == 409)
      log_.count("http conflict");
    else if (answer.status == 0)
      log_.count("http unanswered (worker killed)");
    else
      log_.surprise("HTTP " + std::to_string(answer.status) + " for " + key
                    + ": " + answer.body);
  }

  void decide_with_cli(const std::string& key, bool reject) {
    std::vector<std::string> args{SIGNOFF_CLI, "--db", db()};
    if (reject)
      args.insert(args.end(), {"reject", key, "--reason", "refused by cli"});
    else
      args.insert(args.end(),
                  {"approve", key, "--value", R"({"channel":"cli"})"});
    args.insert(args.end(), {"--by", "cli"});
    // Its refusals ("already decided") are expected: not on our stderr.
    test::child_process cli{args, "/dev/null", "/dev/null"};
    switch (cli.wait(std::chrono::minutes{1})) {
      case 0:
        log_.ack({key, reject ? "rejected" : "approved", "cli"}, "cli acked");
        break;
      case 1:
        log_.count("cli refused (already decided)");
        break;
      default:
        log_.surprise("signoff CLI failed for " + key);
    }
  }

  std::vector<std::string> cli_pending() {
    const auto out = (dir_.path() / "pending.json").string();
    test::child_process cli{
      {SIGNOFF_CLI, "--db", db(), "--json", "pending", "--prefix", "approval:"},
      out,
      "/dev/null"};
    std::vector<std::string> keys;
    if (cli.wait(std::chrono::minutes{1}) == 0) {
      std::ifstream in{out};
      std::stringstream text;
      text << in.rdbuf();
      boost::system::error_code ec;
      auto json = boost::json::parse(text.str(), ec);
      if (!ec && json.is_object() && json.as_object().contains("approvals"))
        for (const auto& k : json.at("approvals").as_array())
          keys.emplace_back(k.at("key").as_string());
    }
    std::filesystem::remove(out);
    return keys;
  }

  [[nodiscard]] std::string db() const {
    return (dir_.path() / "db").string();
  }

  const test::temp_dir& dir_;
  decision_log& log_;
  std::mt19937 rng_;
};

/// A worker generation: started on construction, SIGKILLed on `kill`.
class worker {
public:
  worker(const test::temp_dir& dir, int orders, int generation)
      : port_file_(dir.path() / "port"),
        process_({SIGNOFF_CRASH_WORKER, dir.str(), std::to_string(orders),
                  std::to_string(generation), port_file_.string()},
                 (dir.path() / "worker.log").string()) {
    std::filesystem::remove(port_file_);
    BOOST_REQUIRE(process_.started());
  }

  /// The port, once the worker serves; 0 before.
  std::uint16_t port() {
    if (port_ == 0)
      port_ = read_port(port_file_);
    return port_;
  }

  void kill() {
    process_.kill();
  }

private:
  std::filesystem::path port_file_;
  test::child_process process_;
  std::uint16_t port_ = 0;
};

/// Every effect line: step, order, effect id "<generation>:<seq>".
struct effect {
  std::string step;
  std::string order;
  std::string id;
};

int generation_of(const std::string& effect_id) {
  return std::stoi(effect_id.substr(0, effect_id.find(':')));
}

struct effects_file {
  std::vector<effect> effects;
  std::vector<std::string> overlaps;
};

effects_file read_effects(const test::temp_dir& dir) {
  effects_file file;
  std::ifstream in{dir.path() / "effects.log"};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words{line};
    std::string what;
    std::string order;
    std::string id;
    words >> what >> order >> id;
    if (what == "overlap")
      file.overlaps.push_back(order);
    else if (what == "reserve" || what == "fulfil" || what == "refund")
      file.effects.push_back({what, order, id});
  }
  return file;
}

/// True once every order's run finished, as the worker reports it.
bool all_finished(std::uint16_t port, int orders) {
  if (port == 0 || !pending_keys(port).empty())
    return false;
  for (int i = 0; i < orders; ++i) {
    auto answer = ask(port, "GET", "/api/workflows/run-o" + std::to_string(i));
    if (answer.status != 200
        || answer.json().at("status").as_string() != "completed")
      return false;
  }
  return true;
}

} // namespace

BOOST_AUTO_TEST_SUITE(crash_loop)

BOOST_AUTO_TEST_CASE(kills_lose_nothing_acknowledged_and_repeat_no_step) {
  const int orders = test::count_from_env("SIGNOFF_CRASH_ORDERS", 1000);
  const int kills = test::count_from_env("SIGNOFF_CRASH_KILLS", 12);
  const auto seed
    = test::count_from_env("SIGNOFF_CRASH_SEED", std::random_device{}());
  BOOST_TEST_MESSAGE("crash loop: " << orders << " orders, " << kills
                                    << " kills, seed " << seed);
  test::temp_dir dir;
  decision_log decisions;
  std::mt19937 rng{seed};
  // Several deciders pick from the same pending list, so some decisions
  // race each other across channels and only one may be acknowledged.
  constexpr unsigned decider_count = 3;
  std::vector<decider> deciders;
  for (unsigned d = 0; d < decider_count; ++d)
    deciders.emplace_back(dir, decisions, seed + 1 + d);
  // Decisions a generation may try, so the work spreads over every
  // generation instead of being done before most of the kills.
  const int per_generation = std::max(8, 3 * orders / std::max(kills, 1));

  // Each generation lives a random while, the deciders working on it from
  // every thread, and is killed while they still work.
  for (int generation = 0; generation < kills; ++generation) {
    worker w{dir, orders, generation};
    const auto lifetime
      = std::chrono::milliseconds{std::uniform_int_distribution{50, 1500}(rng)};
    std::atomic<int> budget{per_generation};
    std::atomic<bool> stop{false};
    std::mutex port_mutex;
    {
      std::vector<std::jthread> threads;
      for (auto& d : deciders)
        threads.emplace_back([&] {
          while (!stop) {
            if (budget <= 0) {
              std::this_thread::sleep_for(5ms);
              continue;
            }
            std::uint16_t port = 0;
            {
              std::lock_guard lock{port_mutex};
              port = w.port();
            }
            d.round(port, budget);
          }
        });
      std::this_thread::sleep_for(lifetime);
      w.kill();
      stop = true;
    }
    // Between generations, decisions only the CLI can make.
    if (generation % 3 == 0) {
      std::atomic<int> cli_budget{8};
      deciders.front().round(0, cli_budget);
    }
  }

  // The last generation is left to finish every run, then killed too.
  {
    worker last{dir, orders, kills};
    const auto deadline = std::chrono::steady_clock::now() + 10min;
    std::atomic<int> unlimited{std::numeric_limits<int>::max()};
    while (!all_finished(last.port(), orders)) {
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "runs still unfinished after 10 minutes");
      deciders.front().round(last.port(), unlimited);
      std::this_thread::sleep_for(50ms);
    }
    last.kill();
  }

  auto stores
    = persistence::open_lmdb_stores({.path = (dir.path() / "db").string()});
  BOOST_REQUIRE(stores.is_ok());
  auto [effects, overlaps] = read_effects(dir);
  // Each broken promise is a failed check and one violation in the figures.
  int violations = 0;
  auto expect = [&violations](bool kept, const std::string& what) {
    violations += kept ? 0 : 1;
    BOOST_TEST(kept, what);
  };
  expect(overlaps.empty(),
         std::to_string(overlaps.size()) + " runs executed twice at once");

  // Each run finished on the branch its approval's decision chose; the
  // checkpointed effect ids are the ones its outcome carries.
  std::map<std::pair<std::string, std::string>, std::string> checkpointed;
  std::map<std::string, std::string> decided_state;
  for (int i = 0; i < orders; ++i) {
    const auto order = "o" + std::to_string(i);
    auto run = stores->runs->load("run-" + order);
    BOOST_REQUIRE(run.is_ok() && run.value());
    const std::string status{to_string(run.value()->status)};
    expect(status == "completed", order + " is " + status);
    if (status != "completed")
      continue;
    const auto& outcome = run.value()->outcome->value().as_object();
    auto approval = stores->approvals->find_approval("approval:" + order);
    BOOST_REQUIRE(approval.is_ok() && approval.value());
    const std::string state{to_string(approval.value()->status.state)};
    decided_state[order] = state;
    const std::string branch{outcome.at("branch").as_string()};
    expect((branch == "granted") == (state == "approved")
             && (branch == "rejected") == (state == "rejected"),
           order + " took the " + branch + " branch, its approval is " + state);
    for (const auto* step : {"reserve", "fulfil", "refund"})
      if (outcome.contains(step))
        checkpointed[{step, order}] = outcome.at(step).as_string();
  }

  // A step that ran without becoming the checkpoint must have run in a
  // generation before the one that checkpointed it (killed before its
  // checkpoint committed); otherwise a checkpointed step ran again.
  int reruns_after_kill = 0;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& e : effects) {
    auto saved = checkpointed.find({e.step, e.order});
    if (saved == checkpointed.end()) {
      expect(false, e.step + " of " + e.order + " ran on the branch not taken");
      continue;
    }
    if (saved->second == e.id) {
      seen.insert({e.step, e.order});
      continue;
    }
    ++reruns_after_kill;
    expect(generation_of(e.id) < generation_of(saved->second),
           e.step + " of " + e.order + " ran as " + e.id
             + " after its checkpoint " + saved->second);
  }
  expect(seen.size() == checkpointed.size(),
         "a checkpointed effect is missing from the log");

  // Every acknowledged decision is the one in the audit trail.
  // Two acknowledgements of one key must be one decision repeated (an
  // idempotent retry answers as the first did), never two different ones.
  std::map<std::string, const acknowledged*> first_ack;
  int repeats = 0;
  for (const auto& ack : decisions.acks) {
    auto [first, fresh] = first_ack.emplace(ack.key, &ack);
    if (!fresh) {
      ++repeats;
      expect(first->second->action == ack.action
               && first->second->actor == ack.actor,
             "two decisions on " + ack.key + " were acknowledged: "
               + first->second->action + " by " + first->second->actor + " and "
               + ack.action + " by " + ack.actor);
    }
    expect(decided_state[order_of(ack.key)] == ack.action,
           ack.key + " was acknowledged " + ack.action);
    auto trail = stores->approvals->audit_trail(ack.key);
    BOOST_REQUIRE(trail.is_ok());
    expect(std::count_if(trail->begin(), trail->end(),
                         [&](const model::audit_entry& e) {
                           return e.action == ack.action
                                  && e.actor == ack.actor;
                         })
             == 1,
           ack.key + " lacks its acknowledged " + ack.action);
  }
  for (const auto& surprise : decisions.unexpected)
    expect(false, "unexpected answer: " + surprise);

  std::ostringstream figures;
  figures << "crash loop figures: orders=" << orders
          << " workers_killed=" << kills + 1 << " effects=" << effects.size()
          << " steps_rerun_after_kill=" << reruns_after_kill
          << " acknowledged_decisions=" << decisions.acks.size()
          << " of_them_idempotent_repeats=" << repeats;
  for (const auto& [what, count] : decisions.counts)
    figures << " [" << what << "]=" << count;
  figures << " violations=" << violations;
  std::cout << figures.str() << std::endl;
}

BOOST_AUTO_TEST_SUITE_END()
