#include "bench_options.hpp"

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string_view>

namespace signoff::bench {

namespace {

constexpr const char* usage = R"(usage: signoff-bench --scenario NAME [flags]

scenarios:
  cycle    sequential in-memory cycles (execute, grant, complete)
  pending  --pending runs paused at once, then all granted
  durable  LMDB with fsync: the raw-LMDB floor, then cycles one at a time
           and --in-flight at a time
  restart  --pending parked runs in LMDB, then a new process: time to
           ready and resident memory (runs park and recover)
  bare-actor   --pending bare CAF actors: resident memory per actor
  slow-actor   --pending runs awaiting a slow actor at once, on 2 scheduler
               threads, and a decision on another key meanwhile
  http     an HTTP server on loopback: --cycles decisions of distinct keys
           over --in-flight connections, then /health while one decision
           wakes --pending runs
  cluster  --nodes processes linked over loopback with TLS: each runs
           --cycles cycles, --in-flight at a time, all at once; then the
           first alone times --pending decisions on keys it owns and on
           keys another node owns

flags (default):
  --store memory|lmdb (memory)    --pending N (1000)    --threads N (4)
  --api typed|facade|both (both)  --cycles N (2000)
  --in-flight N (1000)            --in-flight-cycles N (20000)
  --resident-limit N (0: every paused run stays resident)
  --nodes N (3)
  --auto-resume on|off (on)       --sync on|off (on)
  --dir PATH (benchmarks/out/data)   --help
)";

[[noreturn]] void usage_error(const std::string& why) {
  std::cerr << "signoff-bench: " << why << "\n\n" << usage;
  std::exit(2);
}

/// A whole number; zero only where `zero_ok`.
std::size_t count(const std::string& text, bool zero_ok) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()
      || (n == 0 && !zero_ok))
    usage_error("'" + text + "' is not a valid count");
  return n;
}

bool on_off(const std::string& text) {
  if (text != "on" && text != "off")
    usage_error("'" + text + "' is neither on nor off");
  return text == "on";
}

struct choice_flag {
  std::string bench_options::*field;
  std::set<std::string> choices;
};

const std::map<std::string_view, choice_flag> choice_flags{
  {"--scenario",
   {&bench_options::scenario,
    {"cycle", "pending", "durable", "restart", "park", "recover", "bare-actor",
     "slow-actor", "http", "cluster", "cluster-node"}}},
  {"--store", {&bench_options::store, {"memory", "lmdb"}}},
  {"--api", {&bench_options::api, {"typed", "facade", "both"}}},
};

const std::map<std::string_view, std::size_t bench_options::*> count_flags{
  {"--pending", &bench_options::pending},
  {"--threads", &bench_options::threads},
  {"--cycles", &bench_options::cycles},
  {"--in-flight", &bench_options::in_flight},
  {"--in-flight-cycles", &bench_options::in_flight_cycles},
  {"--resident-limit", &bench_options::resident_limit},
  {"--nodes", &bench_options::nodes},
  {"--node", &bench_options::node},
};

const std::map<std::string_view, bool bench_options::*> switch_flags{
  {"--auto-resume", &bench_options::auto_resume},
  {"--sync", &bench_options::sync},
};

void set(bench_options& o, std::string_view flag, const std::string& value) {
  if (auto c = choice_flags.find(flag); c != choice_flags.end()) {
    if (!c->second.choices.contains(value))
      usage_error("'" + value + "' is not a valid " + std::string{flag});
    o.*(c->second.field) = value;
  } else if (auto n = count_flags.find(flag); n != count_flags.end()) {
    o.*(n->second)
      = count(value, flag == "--resident-limit" || flag == "--node");
  } else if (auto s = switch_flags.find(flag); s != switch_flags.end()) {
    o.*(s->second) = on_off(value);
  } else if (flag == "--dir") {
    o.dir = value;
  } else {
    usage_error("unknown flag '" + std::string{flag} + "'");
  }
}

} // namespace

bench_options parse_options(int argc, char** argv) {
  bench_options options;
  for (int k = 1; k < argc; k += 2) {
    if (std::string_view{argv[k]} == "--help") {
      std::cout << usage;
      std::exit(0);
    }
    if (k + 1 == argc)
      usage_error(std::string{"flag '"} + argv[k] + "' needs a value");
    set(options, argv[k], argv[k + 1]);
  }
  if (options.scenario.empty())
    usage_error("--scenario is required");
  return options;
}

} // namespace signoff::bench
