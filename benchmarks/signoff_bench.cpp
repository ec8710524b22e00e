// signoff-bench: the approval cycle (execute, the run pauses, grant, the
// run completes) measured at scale, one scenario per process. Figures are
// printed as `RESULT name=... value=... unit=...` lines; after every
// scenario each run is checked to have completed with its order's value and
// each step to have run once, and any mismatch ends the process non-zero.

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actor_scenarios.hpp"
#include "bench_options.hpp"
#include "cluster_scenario.hpp"
#include "cycle_driver.hpp"
#include "http_scenario.hpp"
#include "lmdb_floor.hpp"
#include "measure.hpp"
#include "order_workflow.hpp"
#include "rounds_workflow.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "signoff/persistence/memory_store.hpp"

namespace signoff::bench {

namespace {

namespace fs = std::filesystem;

constexpr double mebibyte = 1024.0 * 1024.0;

/// The stores an orchestrator runs on; `journal` groups and counts LMDB
/// commits (null for the in-memory stores, as the library defaults).
struct bench_stores {
  std::shared_ptr<persistence::approval_store> approvals;
  std::shared_ptr<persistence::workflow_state_store> runs;
  std::shared_ptr<persistence::journal> journal;
};

bench_stores memory_stores() {
  return {persistence::make_memory_approval_store(),
          persistence::make_memory_workflow_state_store(), nullptr};
}

bench_stores lmdb_stores(const fs::path& dir, bool sync) {
  auto stores = persistence::open_lmdb_stores(
    {.path = dir.string(),
     .durability = sync ? persistence::lmdb_durability::sync
                        : persistence::lmdb_durability::no_sync});
  if (stores.is_err())
    fail("opening LMDB in " + dir.string() + ": " + stores.error().message);
  return {stores->approvals, stores->runs, stores->journal};
}

/// Stores of `options.store`; an LMDB directory is emptied first.
bench_stores fresh_stores(const bench_options& options, const fs::path& dir) {
  if (options.store == "memory")
    return memory_stores();
  fs::remove_all(dir);
  return lmdb_stores(dir, options.sync);
}

std::unique_ptr<orchestrator>
start_orchestrator(const bench_stores& stores, std::size_t max_resident,
                   std::shared_ptr<step_counts> counts) {
  orchestrator_options options;
  options.approval_store = stores.approvals;
  options.workflow_state_store = stores.runs;
  options.journal = stores.journal;
  options.max_resident_runs = max_resident;
  auto orch = std::make_unique<orchestrator>(std::move(options));
  orch->register_workflow(workflow_name, order_workflow(std::move(counts)));
  return orch;
}

/// The library's default resident limit, for scenarios that measure what a
/// default setup does.
std::size_t default_resident_limit() {
  return actors::orchestrator_config{}.max_resident_runs;
}

std::size_t resident_runs(orchestrator& orch) {
  caf::scoped_actor self{orch.system()};
  std::size_t n = 0;
  self->request(orch.handle(), caf::infinite, actors::resident_atom_v)
    .receive([&n](std::size_t resident) { n = resident; },
             [](caf::error& e) { fail("resident: " + caf::to_string(e)); });
  return n;
}

void report_cycles(const std::string& label, std::size_t n, double seconds) {
  report(label + ".cycles_per_s", static_cast<double>(n) / seconds, "cycles/s");
  report(label + ".cycle_time", seconds * 1e6 / static_cast<double>(n), "us");
}

// ---- cycle: sequential cycles in memory -----------------------------------

void cycle_scenario(const bench_options& o) {
  auto stores = memory_stores();
  auto counts = std::make_shared<step_counts>();
  auto orch = start_orchestrator(stores, default_resident_limit(), counts);
  std::size_t done = 0;
  if (o.api != "facade") {
    double seconds = 0;
    {
      counted_section counted;
      seconds
        = drive_typed_cycles(orch->system(), orch->handle(), done, o.cycles, 1);
    }
    report_cycles("cycle.typed", o.cycles, seconds);
    done += o.cycles;
  }
  if (o.api != "typed") {
    double seconds = 0;
    std::vector<double> wake_us;
    wake_us.reserve(o.cycles);
    {
      counted_section counted;
      seconds = drive_facade_cycles(*orch, done, o.cycles, &wake_us);
    }
    report_cycles("cycle.facade", o.cycles, seconds);
    // One decision at a time, in memory: from the grant call to its run's
    // completion, as the grant returns once the run completed.
    report("cycle.facade.wake_p50", percentiles_of(wake_us).p50, "us");
    done += o.cycles;
  }
  expect_all_completed(*stores.runs, 0, done);
  expect_step_counts(*counts, done, done);
}

// ---- pending: many runs paused at once, then all granted ------------------

/// Pauses the runs of orders [0, n) from `threads` threads; returns the
/// wall time in seconds.
double park_all(orchestrator& orch, std::size_t n, std::size_t threads) {
  return parallel_for(n, threads, [&orch](std::size_t i, std::size_t) {
    expect_paused(
      orch.execute(workflow_name, order_input(i), {.run_id = run_id(i)}), i);
  });
}

struct wake_figures {
  double seconds = 0;
  /// Per run: from the grant call to the run's completion.
  std::vector<double> latencies_us;
};

/// Grants every order in [0, n) from `threads` threads. With auto-resume
/// the grant returns once the run completed; without, the caller resumes.
wake_figures wake_all(orchestrator& orch, std::size_t n, std::size_t threads,
                      bool auto_resume) {
  std::vector<std::vector<double>> per_thread(threads);
  wake_figures out;
  out.seconds = parallel_for(n, threads, [&](std::size_t i, std::size_t t) {
    const auto start = bench_clock::now();
    expect_granted(orch.decide(grant_decision(i), auto_resume), i, auto_resume);
    if (!auto_resume)
      expect_completed(orch.resume(run_id(i)), i);
    per_thread[t].push_back(microseconds_since(start));
  });
  for (auto& samples : per_thread)
    out.latencies_us.insert(out.latencies_us.end(), samples.begin(),
                            samples.end());
  return out;
}

/// Names the variant measured: `lmdb-nosync-passivated-resume`, say.
std::string pending_variant(const bench_options& o) {
  auto name = o.store;
  if (o.store == "lmdb" && !o.sync)
    name += "-nosync";
  if (o.resident_limit != 0)
    name += "-passivated";
  if (!o.auto_resume)
    name += "-resume";
  return name;
}

void report_pending(const std::string& label, std::size_t runs, double pause_s,
                    const resident_memory& parked, wake_figures& wake) {
  const auto n = static_cast<double>(runs);
  const auto latency = percentiles_of(wake.latencies_us);
  report(label + ".pause_rate", n / pause_s, "runs/s");
  report(label + ".wake_rate", n / wake.seconds, "runs/s");
  report_memory_per(label, "run", parked, runs);
  report(label + ".wake_p50", latency.p50, "us");
  report(label + ".wake_p99", latency.p99, "us");
  report(label + ".cycle_time", (pause_s + wake.seconds) * 1e6 / n, "us");
}

void pending_scenario(const bench_options& o) {
  const auto variant = pending_variant(o);
  const auto label = "pending." + variant + ".n" + std::to_string(o.pending);
  const auto dir = o.dir / ("pending-" + variant);
  const auto limit = o.resident_limit != 0 ? o.resident_limit : o.pending;
  {
    auto stores = fresh_stores(o, dir);
    auto counts = std::make_shared<step_counts>();
    auto orch = start_orchestrator(stores, limit, counts);
    const auto before = resident_now();
    const auto pause_s = park_all(*orch, o.pending, o.threads);
    const auto parked = resident_now() - before;
    if (auto r = resident_runs(*orch); r != std::min(o.pending, limit))
      fail(std::to_string(r) + " run actors resident, expected "
           + std::to_string(std::min(o.pending, limit)));
    auto wake = wake_all(*orch, o.pending, o.threads, o.auto_resume);
    expect_all_completed(*stores.runs, 0, o.pending);
    expect_step_counts(*counts, o.pending, o.pending);
    report_pending(label, o.pending, pause_s, parked, wake);
  }
  fs::remove_all(dir);
}

// ---- durable: LMDB with fsync, and the raw-LMDB floor ---------------------

/// Drives `count` cycles, `window` at a time, and reports them; returns
/// cycles per second.
double durable_cycles(orchestrator& orch, const persistence::journal& group,
                      const std::string& label, std::size_t first,
                      std::size_t count, std::size_t window) {
  const auto commits_before = group.commit_count();
  const auto bytes_before = bytes_written_now();
  const auto timed_before = *orch.metrics().commit_seconds;
  const auto seconds
    = drive_typed_cycles(orch.system(), orch.handle(), first, count, window);
  report_cycles(label, count, seconds);
  const auto n = static_cast<double>(count);
  report(label + ".commits_per_cycle",
         static_cast<double>(group.commit_count() - commits_before) / n,
         "commits");
  // Beside the cycle's time: what is not commits is the engine's own.
  const auto timed = *orch.metrics().commit_seconds;
  const auto committing = timed.sum - timed_before.sum;
  report(label + ".commit_time",
         committing * 1e6
           / static_cast<double>(timed.count - timed_before.count),
         "us");
  // One thread commits, one commit at a time: at 1.0 it is the ceiling,
  // and cycles_per_s / commit_thread_busy is the most it allows.
  report(label + ".commit_thread_busy", committing / seconds, "x");
  report(label + ".bytes_written_per_cycle",
         (bytes_written_now() - bytes_before) / n, "bytes");
  return n / seconds;
}

/// Runs that pause again and again: the bytes written per round (its
/// grant, the next step and the next pause), early rounds against late
/// ones. Alike, they show a pause writes only what is new, whatever the
/// run's length; were the run rewritten, late rounds would write more.
void durable_rounds(orchestrator& orch, std::size_t runs) {
  constexpr std::size_t rounds = 16;
  constexpr std::size_t quarter = rounds / 4;
  auto steps = std::make_shared<std::atomic<std::uint64_t>>(0);
  orch.register_workflow(rounds_workflow_name, rounds_workflow(rounds, steps));
  std::vector<double> written(rounds, 0);
  for (std::size_t r = 0; r < runs; ++r) {
    const auto id = rounds_run_id(r);
    auto started
      = orch.execute(rounds_workflow_name, {{"run", r}}, {.run_id = id});
    if (started.is_err() || started->status != model::run_status::paused)
      fail(id + " did not pause on its first round");
    for (std::size_t round = 0; round < rounds; ++round) {
      const auto before = bytes_written_now();
      auto granted = orch.grant_approval(
        round_key(r, round), {{"round", round}}, {.approved_by = "bench"});
      written[round] += bytes_written_now() - before;
      if (granted.is_err())
        fail("granting round " + std::to_string(round) + " of " + id
             + " failed: " + granted.error().message);
      if (granted->resumed_workflows != std::vector<std::string>{id})
        fail("round " + std::to_string(round) + " of " + id + " resumed "
             + std::to_string(granted->resumed_workflows.size())
             + " runs, applied " + std::to_string(granted->applied));
    }
    auto stored = orch.get_workflow_status(id);
    if (stored.is_err() || !stored->outcome || stored->outcome->is_err()
        || stored->outcome->value().at("granted").to_number<std::size_t>()
             != rounds)
      fail(id + " did not complete with every round granted");
  }
  if (*steps != runs * rounds)
    fail("round steps ran " + std::to_string(*steps) + " times, expected "
         + std::to_string(runs * rounds));
  // The last round completes the run instead of pausing it: left out.
  const auto mean_of = [&](std::size_t from) {
    double sum = 0;
    for (auto i = from; i < from + quarter; ++i)
      sum += written[i];
    return sum / static_cast<double>(quarter * runs);
  };
  report("durable.rounds.bytes_per_round_first4", mean_of(0), "bytes");
  report("durable.rounds.bytes_per_round_last4", mean_of(rounds - 1 - quarter),
         "bytes");
}

void durable_scenario(const bench_options& o) {
  // The floor is measured on the filesystem the store uses, in this run,
  // just before and just after the sequential cycles, so the two are
  // comparable on a shared, noisy machine: the cycles are set against the
  // mean of the two.
  const auto floor = measure_lmdb_floor(o.dir / "floor", 2000, 50, 1000);
  report("floor.single_put_commits", floor.single_put_commits_per_s,
         "commits/s");
  report("floor.batch1000_puts", floor.batched_puts_per_s, "puts/s");
  const auto dir = o.dir / "durable";
  {
    fs::remove_all(dir);
    auto stores = lmdb_stores(dir, true);
    auto counts = std::make_shared<step_counts>();
    auto orch = start_orchestrator(stores, default_resident_limit(), counts);
    const auto sequential = durable_cycles(
      *orch, *stores.journal, "durable.sequential", 0, o.cycles, 1);
    const auto after = measure_lmdb_floor(o.dir / "floor", 2000, 0, 0);
    report("floor.single_put_commits_after", after.single_put_commits_per_s,
           "commits/s");
    report(
      "durable.sequential.vs_floor",
      sequential * 2
        / (floor.single_put_commits_per_s + after.single_put_commits_per_s),
      "x");
    durable_cycles(*orch, *stores.journal,
                   "durable.in_flight" + std::to_string(o.in_flight), o.cycles,
                   o.in_flight_cycles, o.in_flight);
    const auto total = o.cycles + o.in_flight_cycles;
    expect_all_completed(*stores.runs, 0, total);
    expect_step_counts(*counts, total, total);
    durable_rounds(*orch, 20);
  }
  fs::remove_all(dir);
}

// ---- restart: a new process over many parked runs -------------------------

fs::path parked_dir(const bench_options& o) {
  return o.dir / ("restart-n" + std::to_string(o.pending));
}

/// Runs this program again with `args` and fails unless it succeeds.
void run_child(std::vector<std::string> args) {
  args.insert(args.begin(), "/proc/self/exe");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
    fail("cannot start " + args[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)
      || WEXITSTATUS(status) != 0)
    fail("signoff-bench --scenario " + args[2] + " failed");
}

void restart_scenario(const bench_options& o) {
  const auto n = std::to_string(o.pending);
  // Parking writes without fsync only to save time: the new process reads
  // the same files either way.
  run_child({"--scenario", "park", "--pending", n, "--threads",
             std::to_string(o.threads), "--resident-limit", "1000", "--sync",
             "off", "--dir", o.dir.string()});
  run_child({"--scenario", "recover", "--pending", n, "--dir", o.dir.string()});
  fs::remove_all(parked_dir(o));
}

void park_scenario(const bench_options& o) {
  fs::remove_all(parked_dir(o));
  auto stores = lmdb_stores(parked_dir(o), o.sync);
  auto counts = std::make_shared<step_counts>();
  auto orch = start_orchestrator(stores, o.resident_limit, counts);
  park_all(*orch, o.pending, o.threads);
  expect_step_counts(*counts, o.pending, 0);
}

/// Grants a sample of the parked runs spread over all of them: each must
/// complete from its checkpoints, without creating its order again.
void expect_parked_runs_resume(orchestrator& orch, std::size_t parked,
                               const step_counts& counts) {
  const auto sample = std::min<std::size_t>(parked, 100);
  for (std::size_t k = 0; k < sample; ++k) {
    const auto i = k * parked / sample;
    expect_granted(orch.decide(grant_decision(i)), i, true);
    auto state = orch.get_workflow_status(run_id(i));
    if (state.is_err())
      fail(run_id(i) + " vanished after its grant");
    expect_completed(state.value(), i);
  }
  expect_step_counts(counts, 0, sample);
}

void recover_scenario(const bench_options& o, bench_clock::time_point start) {
  const auto label = "restart.n" + std::to_string(o.pending);
  auto stores = lmdb_stores(parked_dir(o), true);
  auto counts = std::make_shared<step_counts>();
  auto orch = start_orchestrator(stores, default_resident_limit(), counts);
  // Ready: the orchestrator answers about a parked run.
  auto first = orch->get_workflow_status(run_id(0));
  if (first.is_err() || first->status != model::run_status::paused)
    fail(run_id(0) + " is not paused after the restart");
  report(label + ".ready_time", seconds_since(start) * 1e3, "ms");
  report(label + ".rss_after_start", resident_now().total / mebibyte, "MiB");
  auto paused = stores.runs->list({.status = model::run_status::paused});
  if (paused.is_err() || paused->size() != o.pending)
    fail("the store does not hold " + std::to_string(o.pending)
         + " paused runs after the restart");
  expect_parked_runs_resume(*orch, o.pending, *counts);
}

} // namespace

} // namespace signoff::bench

int main(int argc, char** argv) {
  using namespace signoff::bench;
  // A restart's time to ready counts from here: the process has started.
  const auto start = bench_clock::now();
  const auto options = parse_options(argc, argv);
  const std::map<std::string, std::function<void()>> scenarios{
    {"cycle",
     [&] {
       cycle_scenario(options);
     }},
    {"pending",
     [&] {
       pending_scenario(options);
     }},
    {"durable",
     [&] {
       durable_scenario(options);
     }},
    {"restart",
     [&] {
       restart_scenario(options);
     }},
    {"park",
     [&] {
       park_scenario(options);
     }},
    {"recover",
     [&] {
       recover_scenario(options, start);
     }},
    {"bare-actor",
     [&] {
       bare_actor_scenario(options);
     }},
    {"slow-actor",
     [&] {
       slow_actor_scenario(options);
     }},
    {"http",
     [&] {
       http_scenario(options);
     }},
    {"cluster",
     [&] {
       cluster_scenario(options);
     }},
    {"cluster-node",
     [&] {
       cluster_node_scenario(options);
     }},
  };
  scenarios.at(options.scenario)();
  return 0;
}
