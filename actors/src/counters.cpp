#include "counters.hpp"

#include <algorithm>

namespace signoff::actors::detail {

namespace {

/// Group commits take from a fraction of a millisecond (no sync, or a
/// fast disk) to seconds (a slow disk under load).
std::vector<double> commit_seconds_bounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
}

/// Batches per group commit, up to the writer's limit of 4096.
std::vector<double> commit_batches_bounds() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
}

} // namespace

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(
        std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void histogram::observe(double value) noexcept {
  const auto bucket
    = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  bump(buckets_[static_cast<std::size_t>(bucket)]);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

histogram_counts histogram::read() const {
  histogram_counts out;
  out.bounds = bounds_;
  out.cumulative.reserve(bounds_.size());
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    out.count += buckets_[i].load(std::memory_order_relaxed);
    out.cumulative.push_back(out.count);
  }
  out.count += buckets_[bounds_.size()].load(std::memory_order_relaxed);
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

decision_counters::~decision_counters() {
  for (const auto* n = head_.load(); n != nullptr;)
    delete std::exchange(n, n->next);
}

const decision_counters::node*
decision_counters::find(const node* from, model::decision_kind kind,
                        bool applied, std::string_view refused_with) noexcept {
  for (const auto* n = from; n != nullptr; n = n->next)
    if (n->key.kind == kind && n->key.applied == applied
        && n->key.refused_with == refused_with)
      return n;
  return nullptr;
}

void decision_counters::count(model::decision_kind kind, bool applied,
                              std::string_view refused_with) {
  // A node is complete before it is published (release), so a walk that
  // sees it (acquire) reads its key whole.
  if (const auto* n = find(head_.load(std::memory_order_acquire), kind, applied,
                           refused_with)) {
    bump(n->count);
    return;
  }
  std::lock_guard guard{adding_};
  auto* head = head_.load(std::memory_order_acquire);
  if (const auto* n = find(head, kind, applied, refused_with)) {
    bump(n->count);
    return;
  }
  auto* added
    = new node{{kind, std::string{refused_with}, applied, 0}, 1, head};
  head_.store(added, std::memory_order_release);
}

std::vector<decision_count> decision_counters::read() const {
  std::vector<decision_count> out;
  for (const auto* n = head_.load(std::memory_order_acquire); n != nullptr;
       n = n->next) {
    out.push_back(n->key);
    out.back().count = n->count.load(std::memory_order_relaxed);
  }
  return out;
}

orchestrator_counters::orchestrator_counters(model::time_point started)
    : started_at(started), commit_seconds(commit_seconds_bounds()),
      commit_batches(commit_batches_bounds()) {}

void orchestrator_counters::run_ended(model::run_status status) noexcept {
  switch (status) {
    case model::run_status::completed:
      bump(runs_completed);
      return;
    case model::run_status::failed:
      bump(runs_failed);
      return;
    case model::run_status::cancelled:
      bump(runs_cancelled);
      return;
    case model::run_status::running:
    case model::run_status::paused:
      return;
  }
}

} // namespace signoff::actors::detail
