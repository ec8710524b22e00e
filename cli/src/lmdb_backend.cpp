// The commands on an LMDB directory, through the stores alone (no actor
// system), so they work beside a server running on the same directory.
// Decisions are one atomic, durable `decide` each; runs waiting on the key
// are not resumed here: a server on the directory picks the decision up.

#include <cstddef>
#include <filesystem>
#include <limits>
#include <utility>

#include "backend.hpp"
#include "signoff/model/decision_rules.hpp"
#include "signoff/persistence/cleanup.hpp"
#include "signoff/persistence/lmdb_store.hpp"

namespace signoff::cli {

namespace {

constexpr auto no_limit = std::numeric_limits<std::size_t>::max();

model::error not_found(std::string what) {
  return model::make_error(model::error_type::not_found, std::move(what));
}

class lmdb_backend final : public backend {
public:
  lmdb_backend(persistence::lmdb_stores stores, model::time_point now)
      : stores_(std::move(stores)), now_(now) {}

  model::result<pending_report> pending(const std::string& prefix) override {
    auto keys = stores_.approvals->list_pending(prefix, now_, no_limit);
    if (keys.is_err())
      return keys.error();
    pending_report out;
    for (const auto& key : keys.value()) {
      auto record = stores_.approvals->find_approval(key);
      if (record.is_err())
        return record.error();
      // A server may have removed it since the listing: skip it.
      if (record.value())
        out.approvals.push_back(std::move(*record.value()));
    }
    return out;
  }

  model::result<approval_report> approval(const std::string& key) override {
    auto record = stores_.approvals->find_approval(key);
    if (record.is_err())
      return record.error();
    if (!record.value())
      return not_found("no approval '" + key + "' exists");
    auto trail = stores_.approvals->audit_trail(key);
    if (trail.is_err())
      return trail.error();
    return approval_report{std::move(*record.value()), std::move(trail.value()),
                           now_};
  }

  model::result<decision_report> decide(model::decision d) override {
    auto outcome = stores_.approvals->decide(d, now_);
    if (outcome.is_err())
      return outcome.error();
    return decision_report{std::move(d), std::move(outcome.value())};
  }

  model::result<comment_report> comment(const std::string& key,
                                        const std::string& text,
                                        const std::string& actor) override {
    auto entry = stores_.approvals->comment(key, actor, text, now_);
    if (entry.is_err())
      return entry.error();
    return comment_report{std::move(entry.value())};
  }

  model::result<assignment_report>
  change_assignment(model::assignment_change change) override {
    auto outcome = stores_.approvals->change_assignment(change, now_);
    if (outcome.is_err())
      return outcome.error();
    return assignment_report{std::move(change), std::move(outcome.value())};
  }

  model::result<bulk_report> decide_bulk(const bulk_target& which,
                                         model::decision d) override {
    bulk_report out{d.kind, d.actor, {}};
    auto keys = which.keys;
    if (which.prefix) {
      // One more than a bulk takes tells "too many" apart.
      auto pending = stores_.approvals->list_pending(*which.prefix, now_,
                                                     model::max_bulk_keys + 1);
      if (pending.is_err())
        return pending.error();
      if (pending->empty())
        return out;
      keys = std::move(pending.value());
    }
    if (auto checked = model::check_bulk_keys(keys); checked.is_err())
      return checked.error();
    for (auto& key : keys) {
      d.key = key;
      auto decided = stores_.approvals->decide(d, now_);
      out.lines.push_back(
        {std::move(key),
         decided.is_ok()
           ? model::result<model::approval_state>{decided->record.status.state}
           : model::result<model::approval_state>{decided.error()}});
    }
    return out;
  }

  model::result<runs_report>
  runs(const persistence::run_filter& filter) override {
    auto ids = stores_.runs->list(filter);
    if (ids.is_err())
      return ids.error();
    runs_report out;
    for (const auto& id : ids.value()) {
      auto state = stores_.runs->load(id);
      if (state.is_err())
        return state.error();
      // A server may have removed it since the listing: skip it.
      if (state.value())
        out.runs.push_back(std::move(*state.value()));
    }
    return out;
  }

  model::result<run_report> run(const std::string& run_id) override {
    auto state = stores_.runs->load(run_id);
    if (state.is_err())
      return state.error();
    if (!state.value())
      return not_found("no run '" + run_id + "' exists");
    return run_report{std::move(*state.value())};
  }

  model::result<cleanup_report> cleanup(model::duration max_age) override {
    return persistence::remove_finished_runs(
      *stores_.approvals, *stores_.runs,
      persistence::cleanup_cutoff(now_, max_age));
  }

private:
  persistence::lmdb_stores stores_;
  model::time_point now_;
};

} // namespace

model::result<std::unique_ptr<backend>>
open_lmdb_backend(const std::string& dir, model::time_point now) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::path{dir} / "data.mdb",
                                        ec))
    return model::make_error(model::error_type::storage_error,
                             "no signoff database in '" + dir
                               + "' (data.mdb not found)");
  // Store-only: a server may be running the directory's workflows.
  auto stores
    = persistence::open_lmdb_stores({.path = dir, .execution_lock = false});
  if (stores.is_err())
    return stores.error();
  return std::unique_ptr<backend>{
    std::make_unique<lmdb_backend>(std::move(stores.value()), now)};
}

} // namespace signoff::cli
