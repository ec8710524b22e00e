#pragma once

// What every actor of one orchestrator shares: the configuration with its
// defaults filled in, the stores, the handles of the other actors, the step
// executor, and the outward callbacks, wrapped so a throwing callback can
// never take an actor down.

#include <atomic>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "counters.hpp"
#include "directory.hpp"
#include "expiry_timer.hpp"
#include "registry_shard.hpp"
#include "signoff/actors/orchestrator_actor.hpp"
#include "step_executor.hpp"
#include "store_writer.hpp"

namespace signoff::actors::detail {

class engine {
public:
  /// Fills in the defaults; `workers` is the scheduler's thread count.
  engine(orchestrator_config config, std::size_t workers);

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  [[nodiscard]] const orchestrator_config& config() const noexcept {
    return config_;
  }
  [[nodiscard]] persistence::approval_store& approvals() const noexcept {
    return *config_.approval_store;
  }
  [[nodiscard]] persistence::workflow_state_store& runs() const noexcept {
    return *config_.workflow_state_store;
  }
  /// The journal changes are committed through, or null when the stores
  /// apply each change at once.
  [[nodiscard]] persistence::journal* journal() const noexcept {
    return config_.journal.get();
  }
  [[nodiscard]] model::time_point now() const {
    return config_.clock();
  }

  void log(std::string_view line) const noexcept;

  /// True if changes carry their notification event, for the outbox: a
  /// journal keeps it in the commit of its change, a store that applies
  /// changes at once has it appended after. Without an outbox nobody reads
  /// events, and none is made.
  [[nodiscard]] bool keeps_events() const noexcept {
    return config_.outbox != nullptr;
  }

  /// True if `approval_resolved` has anything to do: a hook or a logger.
  [[nodiscard]] bool tells_resolutions() const noexcept {
    return config_.hooks.on_approval_resolved || config_.logger;
  }

  /// Keeps an event in the outbox, for stores that apply changes at once
  /// (a journal keeps events in the commit of their change).
  void keep_event(const boost::json::value& event) const noexcept;

  /// Tells the hook and the log that a run waits for `record`.
  void approval_needed(const model::approval_record& record) const noexcept;

  /// Tells the hook and the log that `record` was resolved while `waiting`
  /// runs waited on it.
  void approval_resolved(const model::approval_record& record,
                         std::vector<std::string> waiting) const noexcept;

  /// Tells the hook and the log of a reminder sent or an escalation level
  /// applied.
  void approval_noticed(const model::approval_notice& notice) const noexcept;

  /// Tells the expiry timer about a new deadline, unless it is armed for an
  /// earlier one already (a message only when it matters).
  void watch_deadline(model::time_point at) const;

  /// The expiry timer armed for `at` (or disarmed, with max()).
  void armed_for(model::time_point at) const noexcept;

  /// True if this node owns `key`: always, outside a cluster.
  [[nodiscard]] bool owns(std::string_view key) const;
  /// The node owning `key` (this one outside a cluster).
  [[nodiscard]] const std::string& owner_of(std::string_view key) const;
  /// This node's name; empty outside a cluster.
  [[nodiscard]] const std::string& node_name() const noexcept;
  /// Carries calls to the other nodes (null outside a cluster).
  [[nodiscard]] const cluster_link_actor& link() const noexcept;
  /// The actor a key's owner wakes runs of `node` through (see
  /// `spawn_peer_watcher`); null for an unknown node.
  [[nodiscard]] caf::actor watcher_for(const std::string& node) const;

  /// The shard holding `key`'s operations: for a key another node owns,
  /// the shard forwards them there.
  [[nodiscard]] const registry_shard_actor&
  shard_for(std::string_view key) const noexcept;
  [[nodiscard]] const std::vector<registry_shard_actor>&
  shards() const noexcept {
    return shards_;
  }
  [[nodiscard]] const store_writer_actor& writer() const noexcept {
    return writer_;
  }
  [[nodiscard]] const expiry_timer_actor& timer() const noexcept {
    return timer_;
  }
  [[nodiscard]] const directory_actor& directory() const noexcept {
    return directory_;
  }
  /// The actor the other nodes of the cluster call; null outside a
  /// cluster.
  [[nodiscard]] const cluster_gateway_actor& gateway() const noexcept {
    return gateway_;
  }
  /// Where plain steps run; null runs them on the run's actor.
  [[nodiscard]] step_executor* executor() const noexcept {
    return executor_.get();
  }

  /// What the actors count for the metrics.
  [[nodiscard]] detail::orchestrator_counters& counters() const noexcept {
    return *counters_;
  }

  /// The counts, with the gauges the stores count (an index's size each:
  /// cheap at any number of records). A gauge whose store cannot count,
  /// or fails to, is left unknown. Thread-safe; crosses no mailbox.
  [[nodiscard]] orchestrator_metrics metrics() const;

  /// Spawns the shards, the timer and the writer in `system`, for the
  /// directory `dir`. Called once, before any message reaches them.
  void start(caf::actor_system& system, directory_actor dir,
             std::shared_ptr<engine> self);

  /// The gateway and the peer watchers, stopped with the orchestrator.
  [[nodiscard]] std::vector<caf::actor> cluster_actors() const;

  /// Drops every handle (they keep the actors' control blocks alive) and
  /// stops the executor, waiting for the steps it runs.
  void stop() noexcept;

private:
  orchestrator_config config_;
  std::size_t shard_count_;
  std::vector<registry_shard_actor> shards_;
  store_writer_actor writer_;
  expiry_timer_actor timer_;
  directory_actor directory_;
  cluster_gateway_actor gateway_;
  std::unordered_map<std::string, caf::actor> watchers_;
  std::unique_ptr<step_executor> executor_;
  std::shared_ptr<detail::orchestrator_counters> counters_;
  mutable std::atomic<std::int64_t> armed_ms_;
};

/// Spawns an orchestrator as `spawn_orchestrator` does, and hands back its
/// engine too, for the blocking facade to read metrics from.
[[nodiscard]] std::pair<orchestrator_actor, std::shared_ptr<const engine>>
spawn_orchestrator_engine(caf::actor_system& system,
                          orchestrator_config config);

} // namespace signoff::actors::detail
