#pragma once

// What every signoff actor of one orchestrator shares: the stores, the
// clock, and the outward callbacks, wrapped so a throwing callback can
// never take an actor down.

#include <memory>
#include <string_view>

#include "signoff/actors/orchestrator_actor.hpp"
#include "store_writer.hpp"

namespace signoff::actors::detail {

class runtime {
public:
  /// Fills in the defaults and spawns the store writer in `system`.
  runtime(caf::actor_system& system, orchestrator_config config);

  [[nodiscard]] persistence::approval_store& approvals() const noexcept {
    return *config_.approval_store;
  }
  [[nodiscard]] persistence::workflow_state_store& runs() const noexcept {
    return *config_.workflow_state_store;
  }
  [[nodiscard]] model::time_point now() const {
    return config_.clock();
  }
  [[nodiscard]] const orchestrator_config& config() const noexcept {
    return config_;
  }
  /// The actor every store write goes through.
  [[nodiscard]] const store_writer_actor& writer() const noexcept {
    return writer_;
  }

  void log(std::string_view line) const noexcept;

  /// Appends the event to the outbox, if there is one. Call it inside the
  /// write job of the change it reports, so both commit together.
  [[nodiscard]] model::result<void> keep(const approval_event& event,
                                         std::string_view type) const;
  /// The event for the resolution of `record`, with the runs waiting on
  /// it; call it before they are woken.
  [[nodiscard]] approval_event
  resolved_event(const model::approval_record& record) const;
  void approval_needed(const approval_event& event) const noexcept;
  void approval_resolved(const approval_event& event) const noexcept;

private:
  orchestrator_config config_;
  store_writer_actor writer_;
};

/// The event describing `record` (and, for a pause, the run).
[[nodiscard]] approval_event make_event(const model::approval_record& record,
                                        const model::approval_status& status);

} // namespace signoff::actors::detail
