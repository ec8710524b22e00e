#include "engine.hpp"

#include <exception>
#include <functional>
#include <limits>
#include <string>

#include <caf/all.hpp>

#include "cluster_gateway.hpp"
#include "signoff/persistence/memory_store.hpp"

namespace signoff::actors::detail {

namespace {

constexpr auto never = std::numeric_limits<std::int64_t>::max();

void call_hook(const engine& eng, const char* name,
               const std::function<void(const approval_event&)>& hook,
               const approval_event& event) noexcept {
  if (!hook)
    return;
  try {
    hook(event);
  } catch (const std::exception& e) {
    eng.log(std::string{name} + " hook failed for '" + event.key
            + "': " + e.what());
  } catch (...) {
    eng.log(std::string{name} + " hook failed for '" + event.key + "'");
  }
}

} // namespace

engine::engine(orchestrator_config config, std::size_t workers)
    : config_(std::move(config)), armed_ms_(never) {
  if (!config_.approval_store)
    config_.approval_store = persistence::make_memory_approval_store();
  if (!config_.workflow_state_store)
    config_.workflow_state_store
      = persistence::make_memory_workflow_state_store();
  if (!config_.clock)
    config_.clock = model::system_now;
  if (config_.expiry_batch == 0)
    config_.expiry_batch = 1;
  if (config_.recovery_concurrency == 0)
    config_.recovery_concurrency = 1;
  if (config_.wakes_in_flight == 0)
    config_.wakes_in_flight = 1;
  shard_count_ = config_.registry_shards != 0
                   ? config_.registry_shards
                   : std::max<std::size_t>(1, workers);
  if (config_.step_threads != 0)
    executor_ = std::make_unique<step_executor>(config_.step_threads);
  counters_ = std::make_shared<detail::orchestrator_counters>(config_.clock());
}

void engine::start(caf::actor_system& system, directory_actor dir,
                   std::shared_ptr<engine> self) {
  directory_ = std::move(dir);
  if (config_.journal)
    writer_ = spawn_store_writer(system, config_.journal,
                                 config_.detached_writer, counters_);
  shards_.reserve(shard_count_);
  for (std::size_t i = 0; i < shard_count_; ++i)
    shards_.push_back(spawn_registry_shard(system, self));
  if (const auto& cluster = config_.cluster) {
    for (const auto& node : cluster->nodes)
      if (node != cluster->self)
        watchers_.emplace(node, spawn_peer_watcher(system, self, node));
    gateway_ = spawn_cluster_gateway(system, self);
    // From now on the link tells the gateway of each peer that comes up.
    caf::anon_send(cluster->link, cluster_atom_v, gateway_);
  }
  timer_ = spawn_expiry_timer(system, std::move(self));
}

bool engine::owns(std::string_view key) const {
  return !config_.cluster || owner_of(key) == config_.cluster->self;
}

const std::string& engine::owner_of(std::string_view key) const {
  return config_.cluster ? actors::owner_of(key, config_.cluster->nodes)
                         : node_name();
}

const std::string& engine::node_name() const noexcept {
  static const std::string alone;
  return config_.cluster ? config_.cluster->self : alone;
}

const cluster_link_actor& engine::link() const noexcept {
  static const cluster_link_actor none;
  return config_.cluster ? config_.cluster->link : none;
}

caf::actor engine::watcher_for(const std::string& node) const {
  auto it = watchers_.find(node);
  return it != watchers_.end() ? it->second : caf::actor{};
}

std::vector<caf::actor> engine::cluster_actors() const {
  std::vector<caf::actor> out;
  if (gateway_)
    out.push_back(caf::actor_cast<caf::actor>(gateway_));
  for (const auto& [node, watcher] : watchers_)
    out.push_back(watcher);
  return out;
}

void engine::stop() noexcept {
  shards_.clear();
  writer_ = nullptr;
  timer_ = nullptr;
  directory_ = nullptr;
  gateway_ = nullptr;
  watchers_.clear();
  if (executor_)
    executor_->stop();
}

const registry_shard_actor&
engine::shard_for(std::string_view key) const noexcept {
  return shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

void engine::log(std::string_view line) const noexcept {
  if (!config_.logger)
    return;
  try {
    config_.logger(line);
  } catch (...) { // NOLINT(bugprone-empty-catch): a logger must not kill us
  }
}

void engine::keep_event(const boost::json::value& event) const noexcept {
  if (!config_.outbox)
    return;
  try {
    if (auto kept = config_.outbox->append(event, now()); kept.is_err())
      log("keeping a notification failed: " + kept.error().message);
  } catch (const std::exception& e) {
    log(std::string{"keeping a notification failed: "} + e.what());
  }
}

void engine::approval_needed(
  const model::approval_record& record) const noexcept {
  if (config_.logger)
    log("run '" + record.spec.run_id + "' waits for approval '" + record.key
        + "'");
  if (config_.hooks.on_approval_needed)
    call_hook(*this, "on_approval_needed", config_.hooks.on_approval_needed,
              approval_event::of(record));
}

void engine::approval_resolved(
  const model::approval_record& record,
  std::vector<std::string> waiting) const noexcept {
  const auto& status = record.status;
  if (config_.logger)
    log("approval '" + record.key + "' " + std::string{to_string(status.state)}
        + (status.decided_by.empty() ? "" : " by " + status.decided_by));
  if (config_.hooks.on_approval_resolved)
    call_hook(*this, "on_approval_resolved", config_.hooks.on_approval_resolved,
              approval_event::of(record, std::move(waiting)));
}

void engine::approval_noticed(
  const model::approval_notice& notice) const noexcept {
  const auto& event = notice.event;
  const bool reminder = notice.type == model::approval_reminder;
  if (config_.logger)
    log("approval '" + event.key + "' "
        + (reminder
             ? std::string{"reminded"}
             : "escalated to level " + std::to_string(event.escalation_level)));
  const auto& hook = reminder ? config_.hooks.on_approval_reminder
                              : config_.hooks.on_approval_escalated;
  if (hook)
    call_hook(*this,
              reminder ? "on_approval_reminder" : "on_approval_escalated", hook,
              event);
}

orchestrator_metrics engine::metrics() const {
  auto gauge = [](model::result<std::optional<std::uint64_t>> counted) {
    return counted.is_ok() ? counted.value() : std::nullopt;
  };
  const auto& c = *counters_;
  const auto load = [](const std::atomic<std::uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  orchestrator_metrics out;
  out.started_at = c.started_at;
  out.pending_approvals = gauge(approvals().count_pending());
  out.resident_runs = load(c.resident_runs);
  out.paused_runs = gauge(runs().count_paused());
  if (out.paused_runs) {
    const auto parked = load(c.parked_runs);
    out.passivated_runs
      = *out.paused_runs > parked ? *out.paused_runs - parked : 0;
  }
  out.runs_completed = load(c.runs_completed);
  out.runs_failed = load(c.runs_failed);
  out.runs_cancelled = load(c.runs_cancelled);
  out.decisions = c.decisions.read();
  out.wakes_resumed = load(c.wakes_resumed);
  out.wakes_stale = load(c.wakes_stale);
  out.wakes_failed = load(c.wakes_failed);
  if (config_.journal) {
    out.commit_seconds = c.commit_seconds.read();
    out.commit_batches = c.commit_batches.read();
  }
  if (config_.outbox)
    out.outbox_backlog = gauge(config_.outbox->count());
  return out;
}

void engine::watch_deadline(model::time_point at) const {
  const auto ms = model::to_millis(at);
  auto armed = armed_ms_.load();
  while (ms < armed)
    if (armed_ms_.compare_exchange_weak(armed, ms)) {
      caf::anon_send(timer_, watch_atom_v, deadline{at});
      return;
    }
}

void engine::armed_for(model::time_point at) const noexcept {
  armed_ms_.store(at == model::time_point::max() ? never
                                                 : model::to_millis(at));
}

} // namespace signoff::actors::detail
