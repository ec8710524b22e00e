#pragma once

// What the crash loops (one worker, tests/crash/crash_loop_test.cpp; a
// cluster of three, tests/cluster/crash_test.cpp) share: the workers they
// start and kill (tests/crash/crash_worker.cpp), the decisions they post
// and book, the effects the workers log, and the invariants checked on
// what is left in the end.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "actors/child_process.hpp"
#include "http/client.hpp"
#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/workflow_state_store.hpp"
#include "support/env.hpp"

namespace signoff::test::crash {

namespace client = signoff::test::http_client;

/// A crash loop's size and seed.
struct loop_size {
  int orders = 0;
  int kills = 0;
  unsigned seed = 0;
};

/// `<prefix>_ORDERS`, `<prefix>_KILLS` and `<prefix>_SEED` from the
/// environment (the long runs set them), or `orders`, `kills` and a random
/// seed; said in the test's log as `label`'s.
inline loop_size size_from_env(const std::string& prefix, int orders, int kills,
                               const std::string& label) {
  loop_size size{
    test::count_from_env((prefix + "_ORDERS").c_str(), orders),
    test::count_from_env((prefix + "_KILLS").c_str(), kills),
    test::count_from_env((prefix + "_SEED").c_str(), std::random_device{}())};
  BOOST_TEST_MESSAGE(label << ": " << size.orders << " orders, " << size.kills
                           << " kills, seed " << size.seed);
  return size;
}

inline std::string order_of(const std::string& key) {
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

inline constexpr std::string_view token = "crash-driver-secret";

/// One request to a worker; status 0 when it is gone (killed before or
/// during the exchange).
inline client::response ask(std::uint16_t port, std::string_view method,
                            const std::string& target, std::string body = {}) {
  try {
    return client::send(port, method, target, client::bearer(token),
                        std::move(body));
  } catch (const std::runtime_error&) {
    return {};
  }
}

/// The pending approval keys the worker on `port` lists; nothing when it
/// did not answer them (killed, or a node of its cluster is down).
inline std::optional<std::vector<std::string>>
pending_keys(std::uint16_t port) {
  auto answer = ask(port, "GET", "/api/approvals?prefix=approval:");
  if (answer.status != 200)
    return std::nullopt;
  const auto json = answer.json();
  std::vector<std::string> keys;
  for (const auto& k : json.at("pending").as_array())
    keys.emplace_back(k.as_string());
  return keys;
}

/// Posts a decision on `key` to the worker on `port` as the driver and
/// returns the answer's status. A 200 is booked as acknowledged, a 409
/// (decided already) and 0, no answer (the worker was killed), are
/// counted; any other status is the caller's to book.
inline unsigned decide_over_http(std::uint16_t port, const std::string& key,
                                 bool reject, decision_log& log) {
  boost::json::object body{{"key", key},
                           {"action", reject ? "reject" : "approve"}};
  if (reject)
    body["reason"] = "refused by the crash driver";
  else
    body["value"] = {{"channel", "http"}};
  auto answer
    = ask(port, "POST", "/api/approvals", boost::json::serialize(body));
  if (answer.status == 200)
    log.ack({key, reject ? "rejected" : "approved", "driver"}, "http acked");
  else if (answer.status == 409)
    log.count("http conflict");
  else if (answer.status == 0)
    log.count("http unanswered (worker killed)");
  return answer.status;
}

/// Whether `decide_over_http` booked an answer of `status` itself.
inline bool booked(unsigned status) {
  return status == 200 || status == 409 || status == 0;
}

/// A worker generation: started on construction, SIGKILLed on `kill`. It
/// keeps its LMDB directory, effects log and output in `dir`; with
/// `cluster_settings`, it is that node of a cluster.
class worker {
public:
  worker(const std::filesystem::path& dir, int orders, int generation,
         const std::string& cluster_settings = "")
      : port_file_(dir / "port"),
        process_(arguments(dir, orders, generation, cluster_settings),
                 (dir / "worker.log").string()) {
    BOOST_REQUIRE(process_.started());
  }

  /// The port, once the worker serves; 0 before.
  std::uint16_t port() {
    if (port_ == 0) {
      std::ifstream in{port_file_};
      unsigned port = 0;
      in >> port;
      port_ = static_cast<std::uint16_t>(port);
    }
    return port_;
  }

  void kill() {
    process_.kill();
  }

private:
  /// The command line; removes the last generation's port file first, so
  /// `port` never reads it.
  std::vector<std::string> arguments(const std::filesystem::path& dir,
                                     int orders, int generation,
                                     const std::string& cluster_settings) {
    std::filesystem::remove(port_file_);
    std::vector<std::string> args{
      SIGNOFF_CRASH_WORKER, dir.string(), std::to_string(orders),
      std::to_string(generation), port_file_.string()};
    if (!cluster_settings.empty())
      args.push_back(cluster_settings);
    return args;
  }

  std::filesystem::path port_file_;
  test::child_process process_;
  std::uint16_t port_ = 0;
};

/// Every effect line: step, order, effect id "<generation>:<seq>", and
/// the node whose worker ran it.
struct effect {
  std::string step;
  std::string order;
  std::string id;
  std::string node;
};

inline int generation_of(const std::string& effect_id) {
  return std::stoi(effect_id.substr(0, effect_id.find(':')));
}

struct effects_file {
  std::vector<effect> effects;
  /// The orders whose run executed twice at once.
  std::vector<std::string> overlaps;
};

/// Adds the effects log the workers of node `node` wrote in `dir` to
/// `file`.
inline void read_effects(const std::filesystem::path& dir,
                         const std::string& node, effects_file& file) {
  std::ifstream in{dir / "effects.log"};
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
      file.effects.push_back({what, order, id, node});
  }
}

/// True once no approval is pending and the run of every order completed,
/// as the workers report it: `list_port` lists the pending approvals,
/// `port_of(i)` serves order i's run (0: not serving).
inline bool all_finished(std::uint16_t list_port,
                         const std::function<std::uint16_t(int)>& port_of,
                         int orders) {
  if (list_port == 0)
    return false;
  auto pending = pending_keys(list_port);
  if (!pending || !pending->empty())
    return false;
  for (int i = 0; i < orders; ++i) {
    const auto port = port_of(i);
    if (port == 0)
      return false;
    auto answer = ask(port, "GET", "/api/workflows/run-o" + std::to_string(i));
    if (answer.status != 200
        || answer.json().at("status").as_string() != "completed")
      return false;
  }
  return true;
}

/// Where the checks read what a crash loop left, once every worker is
/// gone.
struct crash_records {
  int orders = 0;
  /// The store holding order i's run, and the node it must run on.
  std::function<persistence::workflow_state_store&(int)> runs_of;
  std::function<std::string(int)> node_of;
  /// The store holding an approval key's record.
  std::function<persistence::approval_store&(const std::string&)> approvals_of;
  effects_file effects;
};

/// Checks the crash loop's promises, each broken one a failed check:
/// - no run executed in two actors at once;
/// - every run completed, on the branch its approval's decision chose;
/// - no checkpointed step ran again: a step that ran without becoming the
///   checkpoint ran in a generation before the one that checkpointed it
///   (killed before its checkpoint committed), on the run's own node;
/// - every acknowledged decision is the one in the key's audit trail, and
///   two acknowledgements of one key are one decision repeated.
/// Prints the figures on one line starting with `label`.
inline void check_invariants(const crash_records& records, decision_log& log,
                             const std::string& label,
                             const std::string& sizes) {
  int violations = 0;
  auto expect = [&violations](bool kept, const std::string& what) {
    violations += kept ? 0 : 1;
    BOOST_TEST(kept, what);
  };
  const auto& [effects, overlaps] = records.effects;
  expect(overlaps.empty(),
         std::to_string(overlaps.size()) + " runs executed twice at once");

  // The checkpointed effect ids are the ones each run's outcome carries.
  std::map<std::pair<std::string, std::string>, std::string> checkpointed;
  std::map<std::string, std::string> decided_state;
  for (int i = 0; i < records.orders; ++i) {
    const auto order = "o" + std::to_string(i);
    auto run = records.runs_of(i).load("run-" + order);
    BOOST_REQUIRE(run.is_ok() && run.value());
    const std::string status{to_string(run.value()->status)};
    expect(status == "completed", order + " is " + status);
    if (status != "completed")
      continue;
    const auto& outcome = run.value()->outcome->value().as_object();
    const auto key = "approval:" + order;
    auto approval = records.approvals_of(key).find_approval(key);
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

  int reruns_after_kill = 0;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& e : effects) {
    const auto home = records.node_of(std::stoi(e.order.substr(1)));
    if (e.node != home) {
      expect(false, e.step + " of " + e.order + " ran on node " + e.node
                      + ", not on its own (" + home + ")");
      continue;
    }
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

  std::map<std::string, const acknowledged*> first_ack;
  int repeats = 0;
  for (const auto& ack : log.acks) {
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
    auto trail = records.approvals_of(ack.key).audit_trail(ack.key);
    BOOST_REQUIRE(trail.is_ok());
    expect(std::count_if(trail->begin(), trail->end(),
                         [&](const model::audit_entry& e) {
                           return e.action == ack.action
                                  && e.actor == ack.actor;
                         })
             == 1,
           ack.key + " lacks its acknowledged " + ack.action);
  }
  for (const auto& surprise : log.unexpected)
    expect(false, "unexpected answer: " + surprise);

  std::ostringstream figures;
  figures << label << " figures: orders=" << records.orders << " " << sizes
          << " effects=" << effects.size()
          << " steps_rerun_after_kill=" << reruns_after_kill
          << " acknowledged_decisions=" << log.acks.size()
          << " of_them_idempotent_repeats=" << repeats;
  for (const auto& [what, count] : log.counts)
    figures << " [" << what << "]=" << count;
  figures << " violations=" << violations;
  std::cout << figures.str() << std::endl;
}

} // namespace signoff::test::crash
