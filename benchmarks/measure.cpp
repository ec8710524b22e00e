#include "measure.hpp"

#if __has_include(<valgrind/callgrind.h>)
#  include <valgrind/callgrind.h>
#else
#  define CALLGRIND_START_INSTRUMENTATION
#  define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <thread>

#include <malloc.h>

namespace signoff::bench {

double seconds_since(bench_clock::time_point start) {
  return std::chrono::duration<double>(bench_clock::now() - start).count();
}

double microseconds_since(bench_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(bench_clock::now() - start)
    .count();
}

resident_memory resident_now() {
  // glibc keeps freed heap pages mapped; without the trim, memory freed by
  // an earlier phase would be counted against the runs parked now.
  malloc_trim(0);
  std::ifstream status{"/proc/self/status"};
  resident_memory out;
  int found = 0;
  std::string field;
  while (status >> field) {
    double* into = field == "VmRSS:"     ? &out.total
                   : field == "RssAnon:" ? &out.anonymous
                   : field == "RssFile:" ? &out.file
                                         : nullptr;
    if (into != nullptr) {
      std::size_t kib = 0;
      status >> kib;
      *into = static_cast<double>(kib) * 1024;
      ++found;
    }
    status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  if (found != 3)
    fail("/proc/self/status lacks VmRSS, RssAnon or RssFile");
  return out;
}

double bytes_written_now() {
  std::ifstream io{"/proc/self/io"};
  std::string field;
  while (io >> field) {
    if (field == "wchar:") {
      double bytes = 0;
      io >> bytes;
      return bytes;
    }
    io.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  fail("/proc/self/io lacks wchar");
}

void report_memory_per(const std::string& label, const std::string& what,
                       const resident_memory& grown, std::size_t n) {
  const auto count = static_cast<double>(n);
  report(label + ".rss_per_" + what, grown.total / count, "bytes");
  report(label + ".rss_anon_per_" + what, grown.anonymous / count, "bytes");
  report(label + ".rss_file_per_" + what, grown.file / count, "bytes");
}

percentiles percentiles_of(std::vector<double>& samples) {
  if (samples.empty())
    return {};
  auto at = [&](double q) {
    const auto k = static_cast<std::ptrdiff_t>(
      q * static_cast<double>(samples.size() - 1));
    std::nth_element(samples.begin(), samples.begin() + k, samples.end());
    return samples[static_cast<std::size_t>(k)];
  };
  return {at(0.50), at(0.99)};
}

void report(std::string_view name, double value, std::string_view unit) {
  std::printf("RESULT name=%.*s value=%.6g unit=%.*s\n",
              static_cast<int>(name.size()), name.data(), value,
              static_cast<int>(unit.size()), unit.data());
  std::fflush(stdout);
}

void fail(const std::string& what) {
  std::cerr << "signoff-bench FAILED: " << what << std::endl;
  std::fflush(stdout);
  // Other threads may be inside the orchestrator; running static
  // destructors under them could hang, so leave without them.
  std::_Exit(1);
}

double parallel_for(std::size_t n, std::size_t threads,
                    const std::function<void(std::size_t, std::size_t)>& body) {
  const auto start = bench_clock::now();
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (auto i = t; i < n; i += threads)
        body(i, t);
    });
  for (auto& w : workers)
    w.join();
  return seconds_since(start);
}

counted_section::counted_section() {
  CALLGRIND_START_INSTRUMENTATION;
}

counted_section::~counted_section() {
  CALLGRIND_STOP_INSTRUMENTATION;
}

} // namespace signoff::bench
