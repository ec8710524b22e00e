#pragma once

// What every scenario of signoff-bench measures with and reports through:
// wall-clock time, resident memory, latency percentiles, RESULT lines, and
// the one way a scenario fails.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace signoff::bench {

using bench_clock = std::chrono::steady_clock;

[[nodiscard]] double seconds_since(bench_clock::time_point start);

[[nodiscard]] double microseconds_since(bench_clock::time_point start);

/// The process's resident memory in bytes: all of it (VmRSS), anonymous
/// (RssAnon: heap, stacks) and file-backed (RssFile: LMDB's mapped pages,
/// code).
struct resident_memory {
  double total = 0;
  double anonymous = 0;
  double file = 0;

  friend resident_memory operator-(resident_memory a, resident_memory b) {
    return {a.total - b.total, a.anonymous - b.anonymous, a.file - b.file};
  }
};

/// The process's resident memory now, after handing freed heap back to the
/// system so that only live memory counts.
[[nodiscard]] resident_memory resident_now();

/// Bytes this process handed to write calls so far (`wchar` of
/// /proc/self/io). LMDB writes a commit's pages with pwrite, so the
/// difference across commits is what they wrote.
[[nodiscard]] double bytes_written_now();

/// Reports `grown` divided by `n` as `<label>.rss_per_<what>`,
/// `.rss_anon_per_<what>` and `.rss_file_per_<what>`, in bytes.
void report_memory_per(const std::string& label, const std::string& what,
                       const resident_memory& grown, std::size_t n);

/// The median and 99th percentile of a set of latencies.
struct percentiles {
  double p50 = 0;
  double p99 = 0;
};

/// Reorders `samples` while it picks the percentiles.
[[nodiscard]] percentiles percentiles_of(std::vector<double>& samples);

/// Prints one machine-readable figure:
/// `RESULT name=<name> value=<value> unit=<unit>`.
void report(std::string_view name, double value, std::string_view unit);

/// Prints `what` as the reason the benchmark failed and ends the process
/// with a non-zero status, from any thread.
[[noreturn]] void fail(const std::string& what);

/// Marks what callgrind counts when run with `--instr-atstart=no`: the
/// cycles themselves, not the set-up before them nor the checks and the
/// shutdown after. Does nothing outside valgrind.
class counted_section {
public:
  counted_section();
  ~counted_section();
  counted_section(const counted_section&) = delete;
  counted_section& operator=(const counted_section&) = delete;
};

/// Runs `body(i, thread)` for every i in [0, n) on `threads` threads, each
/// taking every `threads`-th index, and returns the wall time in seconds.
double parallel_for(std::size_t n, std::size_t threads,
                    const std::function<void(std::size_t, std::size_t)>& body);

} // namespace signoff::bench
