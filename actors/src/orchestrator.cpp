#include "signoff/orchestrator.hpp"

#include <atomic>
#include <future>
#include <limits>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_set>

#include <caf/all.hpp>

#include "engine.hpp"
#include "reply_sink.hpp"
#include "scheduler.hpp"
#include "signoff/persistence/memory_store.hpp"

namespace signoff {

namespace {

model::error bad_bulk(std::string message) {
  return model::make_error(model::error_type::invalid_argument,
                           std::move(message));
}

/// Gathers a bulk decision's outcomes as the decisions answer, on whatever
/// threads they answer on; the last one hands them all on. Each answer
/// writes only its own slot, and the counter orders the writes before the
/// hand-over.
struct bulk_collector {
  std::vector<bulk_outcome> outcomes;
  std::atomic<std::size_t> left{0};
  completion<std::vector<bulk_outcome>> then;
};

} // namespace

std::unique_ptr<caf::actor_system_config>
make_actor_system_config(std::size_t worker_threads,
                         std::chrono::microseconds idle_spin) {
  auto cfg = std::make_unique<caf::actor_system_config>();
  actors::detail::use_signoff_scheduler(*cfg, idle_spin);
  if (worker_threads == 0)
    worker_threads = std::max(2U, std::thread::hardware_concurrency());
  cfg->set("scheduler.max-threads", worker_threads);
  return cfg;
}

struct orchestrator::impl {
  /// CAF's actor system keeps a reference to its configuration.
  std::unique_ptr<caf::actor_system_config> own_config;
  std::unique_ptr<caf::actor_system> own_system;
  caf::actor_system* system = nullptr;
  actors::orchestrator_actor handle;
  /// The orchestrator's engine, read for metrics. Its actor handles are
  /// dropped once the orchestrator stopped, before the system goes.
  std::shared_ptr<const actors::detail::engine> engine;
  std::shared_ptr<persistence::approval_store> approvals;
  std::shared_ptr<persistence::workflow_state_store> runs;
  model::clock clock;

  /// True if the orchestrator is a node of a cluster: reads of what other
  /// nodes hold cross the orchestrator actor, which asks them.
  [[nodiscard]] bool clustered() const {
    return engine->config().cluster.has_value();
  }

  /// The result a reply of the orchestrator actor carries; a failed
  /// request (a `caf::error`) or a dropped one (an empty message) as
  /// UNEXPECTED_ERROR.
  template <class Reply>
  static model::result<Reply> unpack(caf::actor_system& sys,
                                     caf::message& reply) {
    if (reply.template match_elements<model::result<Reply>>())
      return std::move(reply.template get_mutable_as<model::result<Reply>>(0));
    if (reply.template match_elements<caf::error>())
      return model::make_error(
        model::error_type::unexpected_error,
        sys.render(reply.template get_as<caf::error>(0)));
    if (reply.empty())
      return model::make_error(model::error_type::unexpected_error,
                               "the orchestrator dropped the request");
    return model::make_error(model::error_type::unexpected_error,
                             "the orchestrator answered "
                               + caf::to_string(reply));
  }

  /// Sends one request to the orchestrator actor and blocks for its reply.
  template <class Reply, class... Ts>
  model::result<Reply> ask(Ts&&... xs) {
    auto reply
      = actors::detail::ask_blocking(*system, handle, std::forward<Ts>(xs)...);
    return unpack<Reply>(*system, reply);
  }

  /// Sends one request to the orchestrator actor; its reply goes to `then`
  /// on the thread that delivers it.
  template <class Reply, class... Ts>
  void ask_async(completion<Reply> then, Ts&&... xs) {
    actors::detail::ask_async(
      *system, handle,
      [sys = system, then = std::move(then)](caf::message reply) {
        then(unpack<Reply>(*sys, reply));
      },
      std::forward<Ts>(xs)...);
  }
};

orchestrator::orchestrator(orchestrator_options options)
    : impl_(std::make_unique<impl>()) {
  if (options.system == nullptr) {
    impl_->own_config
      = make_actor_system_config(options.worker_threads, options.idle_spin);
    impl_->own_system = std::make_unique<caf::actor_system>(*impl_->own_config);
    impl_->system = impl_->own_system.get();
  } else {
    impl_->system = options.system;
  }
  // The facade reads the stores itself, so it makes the defaults here.
  if (!options.approval_store)
    options.approval_store = persistence::make_memory_approval_store();
  if (!options.workflow_state_store)
    options.workflow_state_store
      = persistence::make_memory_workflow_state_store();
  if (!options.clock)
    options.clock = model::system_now;
  impl_->approvals = options.approval_store;
  impl_->runs = options.workflow_state_store;
  impl_->clock = options.clock;
  std::tie(impl_->handle, impl_->engine)
    = actors::detail::spawn_orchestrator_engine(
      *impl_->system, static_cast<actors::orchestrator_config&&>(options));
}

orchestrator::~orchestrator() {
  {
    // The orchestrator quits once every actor it owns has, and once no
    // blocking step runs any more.
    caf::scoped_actor self{*impl_->system};
    self->monitor(impl_->handle);
    self->send_exit(impl_->handle, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }
  if (impl_->own_system)
    impl_->own_system->await_all_actors_done();
}

model::result<void> orchestrator::register_workflow(std::string name,
                                                    workflow fn) {
  if (!fn)
    return model::make_error(model::error_type::invalid_argument,
                             "workflow '" + name + "' has no function");
  auto reply = actors::detail::ask_blocking(
    *impl_->system, impl_->handle, actors::register_atom_v,
    actors::workflow_registration{std::move(name), std::move(fn)});
  if (reply.template match_elements<bool>() && reply.get_as<bool>(0))
    return model::ok();
  return model::make_error(model::error_type::unexpected_error,
                           "the orchestrator did not register the workflow");
}

model::result<model::execution_result>
orchestrator::execute(const std::string& name, boost::json::value input,
                      execute_options options) {
  return impl_->ask<model::execution_result>(
    actors::execute_atom_v,
    actors::execute_request{name, std::move(input), std::move(options.run_id),
                            std::move(options.metadata)});
}

model::result<model::execution_result>
orchestrator::resume(const std::string& run_id) {
  return impl_->ask<model::execution_result>(actors::resume_atom_v, run_id);
}

model::result<decision_report> orchestrator::decide(model::decision d,
                                                    bool auto_resume) {
  return impl_->ask<decision_report>(
    actors::decide_atom_v, actors::decision_request{std::move(d), auto_resume});
}

model::result<decision_report>
orchestrator::grant_approval(const std::string& key, boost::json::value value,
                             grant_options options) {
  auto d = model::decision::grant(key, std::move(value),
                                  std::move(options.approved_by));
  d.rights = std::move(options.rights);
  return decide(std::move(d), options.auto_resume);
}

model::result<decision_report>
orchestrator::edit_approval(const std::string& key, boost::json::value value,
                            grant_options options) {
  auto d = model::decision::edit(key, std::move(value),
                                 std::move(options.approved_by));
  d.rights = std::move(options.rights);
  return decide(std::move(d), options.auto_resume);
}

model::result<decision_report>
orchestrator::reject_approval(const std::string& key, std::string reason,
                              reject_options options) {
  auto d = model::decision::reject(key, std::move(reason),
                                   std::move(options.rejected_by));
  d.rights = std::move(options.rights);
  return decide(std::move(d), options.auto_resume);
}

model::result<decision_report>
orchestrator::cancel_approval(const std::string& key, cancel_options options) {
  auto d = model::decision::cancel(key, std::move(options.reason),
                                   std::move(options.cancelled_by));
  d.rights = std::move(options.rights);
  return decide(std::move(d), options.auto_resume);
}

model::result<std::vector<bulk_outcome>>
orchestrator::decide_each(std::vector<std::string> keys,
                          const model::decision& d, bool auto_resume) {
  std::promise<model::result<std::vector<bulk_outcome>>> done;
  auto outcomes = done.get_future();
  async_decide_each(std::move(keys), d, auto_resume,
                    [&done](model::result<std::vector<bulk_outcome>> r) {
                      done.set_value(std::move(r));
                    });
  return outcomes.get();
}

model::result<std::vector<bulk_outcome>>
orchestrator::decide_pending(const std::string& prefix,
                             const model::decision& d, bool auto_resume) {
  // One more than the limit tells "too many" from "exactly the limit"; a
  // cluster lists every node's, all of them.
  auto keys = impl_->clustered()
                ? list_pending_approvals(prefix)
                : impl_->approvals->list_pending(prefix, impl_->clock(),
                                                 model::max_bulk_keys + 1);
  if (keys.is_err())
    return keys.error();
  if (keys->empty())
    return std::vector<bulk_outcome>{};
  if (keys->size() > model::max_bulk_keys)
    return bad_bulk("more than " + std::to_string(model::max_bulk_keys)
                    + " approvals are pending under '" + prefix
                    + "': narrow the prefix");
  return decide_each(std::move(keys.value()), d, auto_resume);
}

void orchestrator::async_decide_each(
  std::vector<std::string> keys, model::decision d, bool auto_resume,
  completion<std::vector<bulk_outcome>> then) {
  if (auto checked = model::check_bulk_keys(keys); checked.is_err()) {
    then(checked.error());
    return;
  }
  auto collector = std::make_shared<bulk_collector>();
  collector->then = std::move(then);
  collector->left = keys.size();
  collector->outcomes.reserve(keys.size());
  for (auto& key : keys)
    collector->outcomes.push_back({std::move(key), {}});
  // Counted before the first request: the last reply, on another thread,
  // moves the outcomes away, maybe before this loop has ended.
  const auto count = collector->outcomes.size();
  for (std::size_t i = 0; i < count; ++i) {
    auto one = d;
    one.key = collector->outcomes[i].key;
    async_decide(std::move(one), auto_resume,
                 [collector, i](model::result<decision_report> r) {
                   collector->outcomes[i].report = std::move(r);
                   if (collector->left.fetch_sub(1, std::memory_order_acq_rel)
                       == 1)
                     collector->then(std::move(collector->outcomes));
                 });
  }
}

model::result<model::audit_entry> orchestrator::comment(const std::string& key,
                                                        std::string text,
                                                        std::string actor) {
  return impl_->ask<model::audit_entry>(
    actors::comment_atom_v,
    actors::comment_request{key, std::move(text), std::move(actor)});
}

void orchestrator::async_comment(const std::string& key, std::string text,
                                 std::string actor,
                                 completion<model::audit_entry> then) {
  impl_->ask_async<model::audit_entry>(
    std::move(then), actors::comment_atom_v,
    actors::comment_request{key, std::move(text), std::move(actor)});
}

model::result<model::decision_outcome> orchestrator::reassign_approval(
  const std::string& key, std::vector<std::string> assignees,
  std::vector<std::string> candidate_groups, assignment_options options) {
  auto change = model::assignment_change::reassign(key, std::move(assignees),
                                                   std::move(candidate_groups),
                                                   std::move(options.by));
  change.reason = std::move(options.reason);
  change.rights = std::move(options.rights);
  return change_assignment(std::move(change));
}

model::result<model::decision_outcome>
orchestrator::delegate_approval(const std::string& key, std::string to,
                                assignment_options options) {
  auto change = model::assignment_change::delegate(key, std::move(to),
                                                   std::move(options.by));
  change.reason = std::move(options.reason);
  change.rights = std::move(options.rights);
  return change_assignment(std::move(change));
}

model::result<model::decision_outcome>
orchestrator::change_assignment(model::assignment_change change) {
  return impl_->ask<model::decision_outcome>(actors::assign_atom_v,
                                             std::move(change));
}

void orchestrator::async_change_assignment(
  model::assignment_change change, completion<model::decision_outcome> then) {
  impl_->ask_async<model::decision_outcome>(
    std::move(then), actors::assign_atom_v, std::move(change));
}

model::result<model::execution_result>
orchestrator::cancel_run(const std::string& run_id, std::string reason,
                         std::string actor) {
  return impl_->ask<model::execution_result>(
    actors::cancel_run_atom_v,
    actors::cancel_run_request{run_id, std::move(reason), std::move(actor)});
}

void orchestrator::async_execute(const std::string& name,
                                 boost::json::value input,
                                 execute_options options,
                                 completion<model::execution_result> then) {
  impl_->ask_async<model::execution_result>(
    std::move(then), actors::execute_atom_v,
    actors::execute_request{name, std::move(input), std::move(options.run_id),
                            std::move(options.metadata)});
}

void orchestrator::async_resume(const std::string& run_id,
                                completion<model::execution_result> then) {
  impl_->ask_async<model::execution_result>(std::move(then),
                                            actors::resume_atom_v, run_id);
}

void orchestrator::async_decide(model::decision d, bool auto_resume,
                                completion<decision_report> then) {
  impl_->ask_async<decision_report>(
    std::move(then), actors::decide_atom_v,
    actors::decision_request{std::move(d), auto_resume});
}

void orchestrator::async_cancel_run(const std::string& run_id,
                                    std::string reason, std::string actor,
                                    completion<model::execution_result> then) {
  impl_->ask_async<model::execution_result>(
    std::move(then), actors::cancel_run_atom_v,
    actors::cancel_run_request{run_id, std::move(reason), std::move(actor)});
}

void orchestrator::async_cleanup(model::duration max_age,
                                 completion<actors::cleanup_report> then) {
  impl_->ask_async<actors::cleanup_report>(
    std::move(then), actors::cleanup_atom_v, actors::cleanup_request{max_age});
}

void orchestrator::async_expire_due(completion<std::vector<std::string>> then) {
  impl_->ask_async<std::vector<std::string>>(std::move(then),
                                             actors::expire_atom_v);
}

model::result<model::approval_status>
orchestrator::poll_approval(const std::string& key,
                            const poll_options& options) {
  const auto started = impl_->clock();
  model::approval_status status;
  for (std::size_t polls = 1;; ++polls) {
    if (options.on_poll_start)
      options.on_poll_start();
    auto record = get_approval(key);
    if (record.is_ok())
      status = record->status_at(impl_->clock());
    else if (!record.error().is(model::error_type::not_found))
      return record.error();
    if (options.on_poll_complete)
      options.on_poll_complete(status);
    const bool out_of_polls = options.max_polls && polls >= *options.max_polls;
    const bool out_of_time
      = options.timeout
        && impl_->clock() - started + options.interval > *options.timeout;
    if (!status.is_pending() || out_of_polls || out_of_time)
      return status;
    std::this_thread::sleep_for(options.interval);
  }
}

model::result<model::saved_workflow_state>
orchestrator::get_workflow_status(const std::string& run_id) {
  auto here = impl_->runs->load(run_id);
  if (impl_->clustered() && here.is_ok() && !here.value())
    return impl_->ask<model::saved_workflow_state>(actors::status_atom_v,
                                                   run_id);
  return model::found_or(std::move(here), "no run '" + run_id + "' exists");
}

model::result<std::vector<std::string>>
orchestrator::list_pending_workflows(const std::string& workflow_name) {
  persistence::run_filter filter;
  filter.status = model::run_status::paused;
  if (!workflow_name.empty())
    filter.workflow_name = workflow_name;
  return list_runs(filter);
}

model::result<std::vector<std::string>>
orchestrator::list_runs(const persistence::run_filter& filter) {
  if (impl_->clustered())
    return impl_->ask<std::vector<std::string>>(actors::list_runs_atom_v,
                                                filter);
  return impl_->runs->list(filter);
}

model::result<actors::cleanup_report>
orchestrator::cleanup(model::duration max_age) {
  return impl_->ask<actors::cleanup_report>(actors::cleanup_atom_v,
                                            actors::cleanup_request{max_age});
}

model::result<std::vector<std::string>> orchestrator::expire_due() {
  return impl_->ask<std::vector<std::string>>(actors::expire_atom_v);
}

model::result<std::vector<model::audit_entry>>
orchestrator::audit_trail(const std::string& key) {
  if (!impl_->engine->owns(key))
    return impl_->ask<std::vector<model::audit_entry>>(actors::audit_atom_v,
                                                       key);
  return impl_->approvals->audit_trail(key);
}

model::result<std::vector<std::string>>
orchestrator::list_runs_waiting_on(const std::string& key) {
  if (impl_->clustered())
    return impl_->ask<std::vector<std::string>>(actors::waiting_atom_v, key);
  return impl_->runs->find_by_pending_approval(key);
}

model::result<model::approval_record>
orchestrator::get_approval(const std::string& key) {
  if (!impl_->engine->owns(key))
    return impl_->ask<model::approval_record>(actors::approval_atom_v, key);
  return model::found_or(impl_->approvals->find_approval(key),
                         "no approval '" + key + "' exists");
}

model::result<std::vector<std::string>>
orchestrator::list_pending_approvals(const std::string& prefix) {
  if (impl_->clustered())
    return impl_->ask<std::vector<std::string>>(actors::pending_atom_v, prefix);
  return impl_->approvals->list_pending(
    prefix, impl_->clock(), std::numeric_limits<std::size_t>::max());
}

model::result<std::vector<std::string>>
orchestrator::list_decided_approvals(model::duration within,
                                     std::size_t limit) {
  return impl_->approvals->list_decided(impl_->clock() - within, limit);
}

orchestrator_metrics orchestrator::metrics() const {
  return impl_->engine->metrics();
}

actors::orchestrator_actor orchestrator::handle() const {
  return impl_->handle;
}

caf::actor_system& orchestrator::system() const {
  return *impl_->system;
}

} // namespace signoff
