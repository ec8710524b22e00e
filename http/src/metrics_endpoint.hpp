#pragma once

// `GET /metrics`: the orchestrator's figures, and the responses the server
// wrote, in the Prometheus text exposition format (version 0.0.4). Every
// name, type and label is documented in docs/metrics.md.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signoff/http/server.hpp"
#include "signoff/metrics.hpp"

namespace signoff::http::detail {

/// Responses the server wrote, by status class. Thread-safe: relaxed
/// counters, bumped by the io threads and read by a scrape.
class response_counts {
public:
  /// Counts one response with the HTTP status `status` (100 to 599; others
  /// are not counted).
  void count(unsigned status) noexcept;

  /// The counts of 1xx, 2xx, 3xx, 4xx and 5xx, in that order.
  [[nodiscard]] std::array<std::uint64_t, 5> read() const noexcept;

private:
  std::array<std::atomic<std::uint64_t>, 5> by_class_{};
};

/// Writes the text exposition format: families of samples, each family
/// led by its `# HELP` and `# TYPE` lines. Names are the caller's and must
/// be valid metric names; label values and help text may hold anything
/// and are escaped. A new metric (a cluster's `signoff_peer_up{peer}`) is
/// one `family` and a `sample` per label value.
class exposition {
public:
  enum class metric_type { counter, gauge, histogram };

  /// Label names (valid, and never `le`, which histograms add) with their
  /// values.
  using labels = std::vector<std::pair<std::string_view, std::string_view>>;

  /// Starts the family `name`.
  void family(std::string_view name, metric_type type, std::string_view help);

  /// One sample of the current family: `name{labels} value`.
  void sample(std::string_view name, const labels& with, std::uint64_t value);
  void sample(std::string_view name, const labels& with, double value);

  /// The samples of the histogram family `name`: a `name_bucket` per bound
  /// and `+Inf` (cumulative; `+Inf` is the count), `name_sum` and
  /// `name_count`.
  void histogram(std::string_view name, const labels& with,
                 const histogram_counts& h);

  [[nodiscard]] const std::string& text() const noexcept {
    return out_;
  }

private:
  void sample_line(std::string_view name, const labels& with,
                   std::string_view extra_label, std::string_view extra_value,
                   std::string_view value);

  std::string out_;
};

/// The whole `/metrics` page: `m`, `responses` (as `response_counts::read`
/// gives them), then the `extra` gauges.
[[nodiscard]] std::string
render_metrics(const orchestrator_metrics& m,
               const std::array<std::uint64_t, 5>& responses,
               const std::vector<gauge_family>& extra = {});

} // namespace signoff::http::detail
