#pragma once

// The command line of signoff-bench.

#include <cstddef>
#include <filesystem>
#include <string>

namespace signoff::bench {

struct bench_options {
  /// cycle, pending, durable, restart (park and recover are restart's
  /// two processes), bare-actor, slow-actor, http or cluster (its nodes
  /// are cluster-node processes).
  std::string scenario{};
  /// memory or lmdb.
  std::string store = "memory";
  /// Which API the cycle scenario drives: typed, facade or both.
  std::string api = "both";
  /// Runs paused at once.
  std::size_t pending = 1000;
  /// Caller threads that pause and grant.
  std::size_t threads = 4;
  /// Sequential cycles.
  std::size_t cycles = 2000;
  /// Cycles kept in flight by the durable scenario, and how many it runs.
  std::size_t in_flight = 1000;
  std::size_t in_flight_cycles = 20'000;
  /// Nodes of the cluster scenario, and which one a cluster-node is.
  std::size_t nodes = 3;
  std::size_t node = 0;
  /// Parked run actors kept in memory; 0 keeps every paused run resident.
  std::size_t resident_limit = 0;
  /// Grant with auto-resume, or grant and then resume.
  bool auto_resume = true;
  /// fsync every LMDB commit.
  bool sync = true;
  /// Where LMDB directories are created (and removed after).
  std::filesystem::path dir = "benchmarks/out/data";
};

/// Parses `argv`; prints the usage and exits with status 2 on a bad flag.
[[nodiscard]] bench_options parse_options(int argc, char** argv);

} // namespace signoff::bench
