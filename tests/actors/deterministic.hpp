#pragma once

// An orchestrator under CAF's deterministic test coordinator: no scheduler
// threads, every message runs when the test says so, timers fire when the
// test moves the clock (the orchestrator's injected clock moves with it),
// plain steps run inline on their run's actor and the store writer runs on
// the scheduler too. A test sends typed messages from `self`, steps the
// actors one message at a time with `expect_next<Ts...>(dest)`, and reads
// the replies `self` got.
//
// The private protocol (atoms, reach and wake messages) comes from the
// engine's own header, so a test names each message it expects.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "engine.hpp"
#include "fixtures.hpp"
#include "protocol.hpp"
#include "signoff/actors/orchestrator_actor.hpp"
#include "support/must.hpp"
#include "support/printing.hpp"

namespace signoff::test {

/// Entries into a workflow function and into its steps, by run.
struct entry_counters {
  std::mutex mutex;
  std::map<std::string, int> entries;
  std::map<std::string, int> steps;

  void enter(const std::string& run_id) {
    std::lock_guard guard{mutex};
    ++entries[run_id];
  }
  void step(const std::string& run_id, const std::string& name) {
    std::lock_guard guard{mutex};
    ++steps[run_id + "/" + name];
  }
  int entries_of(const std::string& run_id) {
    std::lock_guard guard{mutex};
    return entries[run_id];
  }
  int steps_of(const std::string& run_id, const std::string& name) {
    std::lock_guard guard{mutex};
    return steps[run_id + "/" + name];
  }
};

/// Counts its entries, runs the step "before", then for each key of
/// `in.keys` waits for the approval (branching on its error) and runs the
/// step "after-<key>". Returns the branch taken per key.
inline workflow counted_workflow(std::shared_ptr<entry_counters> n,
                                 model::approval_options options = {}) {
  return [n, options](step& step, const boost::json::value& in)
           -> task<model::result<boost::json::value>> {
    n->enter(step.run_id());
    co_await step.run("before", [&] { n->step(step.run_id(), "before"); });
    boost::json::array branches;
    for (const auto& k : in.at("keys").as_array()) {
      const std::string key{k.as_string()};
      auto decided = co_await step.try_approval(key, options);
      const std::string branch
        = decided.is_ok() ? std::string{"approved"} : decided.error().type;
      co_await step.run("after-" + key, [&] {
        n->step(step.run_id(), "after-" + key);
        n->step(step.run_id(), branch);
      });
      branches.emplace_back(branch);
    }
    co_return boost::json::value(std::move(branches));
  };
}

inline boost::json::value keys_input(std::initializer_list<std::string> keys) {
  boost::json::array out;
  for (const auto& k : keys)
    out.emplace_back(k);
  return boost::json::object{{"keys", std::move(out)}};
}

using ask_atom = caf::atom_constant<caf::atom("t_ask")>;
constexpr ask_atom ask_atom_v{};
using release_atom = caf::atom_constant<caf::atom("t_release")>;
constexpr release_atom release_atom_v{};

/// A service that holds every request until told to answer them all.
struct gate_state {
  std::vector<caf::typed_response_promise<std::string>> held;
  static inline const char* name = "test.gate";
};

/// `(ask_atom, what) -> what + "!"`, answered only on `release_atom`;
/// `asked` counts the requests.
inline caf::behavior gate_actor(caf::stateful_actor<gate_state>* self,
                                std::shared_ptr<std::atomic<int>> asked) {
  return {
    [self, asked](ask_atom, std::string& what) -> caf::result<std::string> {
      ++*asked;
      auto rp = self->make_response_promise<std::string>();
      self->state.held.push_back(rp);
      (void)what;
      return rp;
    },
    [self](release_atom) {
      for (auto& rp : self->state.held)
        rp.deliver(std::string{"answer"});
      self->state.held.clear();
    },
  };
}

/// Waits for `in.first`, asks the gate (a step whose reply is its
/// checkpoint), then waits for `in.second`; counts entries and steps.
inline workflow asking_workflow(std::shared_ptr<entry_counters> n,
                                caf::actor gate) {
  return [n, gate](step& step, const boost::json::value& in)
           -> task<model::result<boost::json::value>> {
    n->enter(step.run_id());
    const std::string first{in.at("first").as_string()};
    const std::string second{in.at("second").as_string()};
    co_await step.approval(first);
    std::string what{"question"};
    auto answer
      = co_await step.request<std::string>("ask", gate, ask_atom_v, what);
    n->step(step.run_id(), "answered");
    co_await step.approval(second);
    co_return boost::json::value(answer);
  };
}

/// A message some actor is about to take, and that actor.
struct delivery {
  caf::actor to;
  caf::message content;

  template <class T>
  const T& get(std::size_t i) const {
    return content.template get_as<T>(i);
  }
};

/// The orchestrator actor under the test coordinator.
class deterministic_engine {
public:
  using configure_fn = std::function<void(actors::orchestrator_config&)>;

  /// Memory stores unless `kind` is lmdb (then with its journal and a
  /// writer on the scheduler); one registry shard, inline steps, no
  /// owed-wake polling and no idle passivation unless `configure` says.
  explicit deterministic_engine(const configure_fn& configure = {},
                                store_kind kind = store_kind::memory)
      : sys_(init_config(cfg_)),
        sched(
          dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())),
        self(sys_, true) {
    actors::orchestrator_config config;
    if (kind == store_kind::lmdb) {
      auto opened = persistence::open_lmdb_stores(
        {.path = dir_.emplace().str(),
         .durability = persistence::lmdb_durability::no_sync});
      BOOST_TEST_REQUIRE(opened.is_ok());
      lmdb = opened.value();
      config.approval_store = lmdb->approvals;
      config.workflow_state_store = lmdb->runs;
      config.journal = lmdb->journal;
    } else {
      config.approval_store = persistence::make_memory_approval_store();
      config.workflow_state_store
        = persistence::make_memory_workflow_state_store();
    }
    config.clock = clock.fn();
    config.registry_shards = 1;
    config.step_threads = 0;
    config.detached_writer = false;
    config.wake_poll_interval = model::duration::zero();
    config.idle_passivation = model::duration::zero();
    if (configure)
      configure(config);
    approvals = config.approval_store;
    runs = config.workflow_state_store;
    std::tie(orch, engine)
      = actors::detail::spawn_orchestrator_engine(sys_, std::move(config));
    run();
  }

  /// Configures `cfg` for the test coordinator, quietly (also for other
  /// systems of a test, such as the network between cluster nodes).
  static caf::actor_system_config& init_config(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    return cfg;
  }

  deterministic_engine(const deterministic_engine&) = delete;
  deterministic_engine& operator=(const deterministic_engine&) = delete;

  /// Stops the orchestrator and runs every message left, so the actor
  /// system finds nothing alive (it would wait forever).
  ~deterministic_engine() {
    caf::anon_send_exit(orch, caf::exit_reason::user_shutdown);
    for (auto& other : others_)
      caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
    run();
  }

  /// Spawns a helper actor of the test, stopped with the orchestrator.
  template <class... Ts>
  caf::actor spawn(Ts&&... xs) {
    auto hdl = sys_.spawn(std::forward<Ts>(xs)...);
    others_.push_back(caf::actor_cast<caf::actor>(hdl));
    return caf::actor_cast<caf::actor>(hdl);
  }

  /// Lets every actor take its messages one at a time, oldest job first,
  /// calling `before(actor, message)` before each, until `done()` holds or
  /// nothing is left. Returns whether `done()` held.
  template <class Before, class Done>
  bool step_until(Before before, Done done) {
    while (!done()) {
      if (!sched.has_job())
        return false;
      auto& job = sched.next_job<caf::scheduled_actor>();
      if (auto* next = job.peek_at_next_mailbox_element())
        before(job, next->copy_content_to_message());
      sched.run_once();
    }
    return true;
  }

  // -- stepping ---------------------------------------------------------------

  /// Requires that `dest` takes a message matching `Ts...` next, lets it,
  /// and returns that message.
  template <class... Ts, class Handle>
  delivery expect_next(const Handle& dest) {
    auto to = caf::actor_cast<caf::actor>(dest);
    BOOST_TEST_REQUIRE(static_cast<bool>(to));
    auto* actor = dynamic_cast<caf::scheduled_actor*>(
      caf::actor_cast<caf::abstract_actor*>(to));
    BOOST_TEST_REQUIRE(actor != nullptr);
    BOOST_TEST_REQUIRE(sched.prioritize(to),
                       "no message waits for " << actor->name());
    auto* next = actor->peek_at_next_mailbox_element();
    BOOST_TEST_REQUIRE(next != nullptr, actor->name()
                                          << " waits for something else");
    auto content = next->copy_content_to_message();
    BOOST_TEST_REQUIRE(content.template match_elements<Ts...>(),
                       actor->name()
                         << " is about to take " << to_string(content));
    sched.run_once();
    return {std::move(to), std::move(content)};
  }

  /// As `expect_next`, for the first actor named `name` ("signoff.run",
  /// "signoff.registry_shard", ...) with a message waiting.
  template <class... Ts>
  delivery expect_next(std::string_view name) {
    auto to = waiting(name);
    BOOST_TEST_REQUIRE(static_cast<bool>(to), "no " << name << " has mail");
    return expect_next<Ts...>(to);
  }

  /// Requires a response matching `T` in `dest`'s mailbox and that `dest`
  /// takes it next: an actor awaiting a response (`request(...).await`)
  /// takes it before the messages queued ahead of it.
  template <class... Ts, class Handle>
  delivery expect_response(const Handle& dest) {
    auto to = caf::actor_cast<caf::actor>(dest);
    auto* actor = dynamic_cast<caf::scheduled_actor*>(
      caf::actor_cast<caf::abstract_actor*>(to));
    BOOST_TEST_REQUIRE(actor != nullptr);
    BOOST_TEST_REQUIRE(scheduled(actor), actor->name() << " has no mail");
    auto* found = find_in_mailbox(*actor, [](const caf::mailbox_element& x) {
      return x.mid.is_response()
             && x.content().template match_elements<Ts...>();
    });
    BOOST_TEST_REQUIRE(found != nullptr, actor->name()
                                           << " has no such response waiting");
    auto content = found->copy_content_to_message();
    BOOST_TEST_REQUIRE(sched.prioritize(to));
    sched.run_once();
    BOOST_TEST_REQUIRE(
      (!scheduled(actor)
       || find_in_mailbox(
            *actor,
            [found](const caf::mailbox_element& x) { return &x == found; })
            == nullptr),
      actor->name() << " took another message first");
    return {std::move(to), std::move(content)};
  }

  /// True if a message matching `Ts...` waits anywhere in `dest`'s mailbox.
  template <class... Ts, class Handle>
  bool holds(const Handle& dest) {
    auto* actor = dynamic_cast<caf::scheduled_actor*>(
      caf::actor_cast<caf::abstract_actor*>(dest));
    if (!scheduled(actor))
      return false;
    return find_in_mailbox(
             *actor,
             [](const caf::mailbox_element& x) {
               return x.content().template match_elements<Ts...>();
             })
           != nullptr;
  }

  /// True if `dest` has a message waiting whose next is `Ts...`.
  template <class... Ts, class Handle>
  bool has_next(const Handle& dest) {
    auto* actor = caf::actor_cast<caf::abstract_actor*>(dest);
    if (!scheduled(actor))
      return false;
    auto* next = actor->peek_at_next_mailbox_element();
    return next != nullptr
           && next->copy_content_to_message().template match_elements<Ts...>();
  }

  /// The first actor named `name` with a message waiting, or null.
  caf::actor waiting(std::string_view name) {
    for (auto* job : sched.jobs) {
      auto* actor = dynamic_cast<caf::scheduled_actor*>(job);
      if (actor != nullptr && name == actor->name()
          && actor->peek_at_next_mailbox_element() != nullptr)
        return caf::actor_cast<caf::actor>(actor);
    }
    return {};
  }

  /// Runs one message of `dest` whatever it is.
  template <class Handle>
  void run_once(const Handle& dest) {
    BOOST_TEST_REQUIRE(sched.prioritize(dest));
    sched.run_once();
  }

  /// Runs every message queued, and those they send; fires no timer.
  std::size_t run() {
    return sched.run();
  }

  /// Moves the orchestrator's clock and the scheduler's together, firing
  /// the timers that fall due.
  void advance_time(model::duration d) {
    clock.advance(d);
    sched.advance_time(d);
  }

  // -- talking to the orchestrator -------------------------------------------

  /// Sends `xs...` to the orchestrator from `self`; the reply comes back to
  /// `self`'s mailbox (see `reply`).
  template <class... Ts>
  void send(Ts&&... xs) {
    self->send(orch, std::forward<Ts>(xs)...);
  }

  /// True if `self` got a message.
  bool has_reply() {
    return self->peek_at_next_mailbox_element() != nullptr;
  }

  /// The message `self` got, which must be a `T`.
  template <class T>
  T reply() {
    auto* next = self->peek_at_next_mailbox_element();
    BOOST_TEST_REQUIRE(next != nullptr, "no reply yet");
    BOOST_TEST_REQUIRE(next->content().template match_elements<T>(),
                       "the reply is "
                         << to_string(next->copy_content_to_message()));
    std::optional<T> out;
    self->receive([&](T& x) { out = std::move(x); });
    return std::move(*out);
  }

  void register_workflow(const std::string& name, workflow fn) {
    send(actors::register_atom_v,
         actors::workflow_registration{name, std::move(fn)});
    run();
    BOOST_TEST_REQUIRE(reply<bool>());
  }

  /// Sends an `execute` of `workflow` as run `run_id`; nothing runs yet.
  void send_execute(const std::string& workflow, boost::json::value input,
                    const std::string& run_id) {
    actors::execute_request req;
    req.workflow_name = workflow;
    req.input = std::move(input);
    req.run_id = run_id;
    send(actors::execute_atom_v, std::move(req));
  }

  /// Executes until the reply and returns it.
  model::execution_result execute(const std::string& workflow,
                                  boost::json::value input,
                                  const std::string& run_id) {
    send_execute(workflow, std::move(input), run_id);
    run();
    return must(reply<model::result<model::execution_result>>());
  }

  void send_decide(model::decision d, bool auto_resume = true) {
    send(actors::decide_atom_v,
         actors::decision_request{std::move(d), auto_resume});
  }

  void send_grant(const std::string& key, const std::string& by = "jane") {
    send_decide(
      model::decision::grant(key, boost::json::value{{"by", by}}, by));
  }

  /// Run actors (parked or working) the directory has in memory.
  std::size_t resident() {
    send(actors::resident_atom_v);
    run();
    return reply<std::size_t>();
  }

  model::saved_workflow_state stored(const std::string& run_id) {
    auto loaded = must(runs->load(run_id));
    BOOST_TEST_REQUIRE(loaded.has_value(), "no run " << run_id);
    return *loaded;
  }

  model::approval_record approval(const std::string& key) {
    auto found = must(approvals->find_approval(key));
    BOOST_TEST_REQUIRE(found.has_value(), "no approval " << key);
    return *found;
  }

private:
  /// True if `actor` waits in the job queue. Only such an actor may be
  /// peeked at: peeking at the mailbox of an idle actor takes its inbox out
  /// of the blocked state, and the next message would never schedule it.
  bool scheduled(caf::abstract_actor* actor) const {
    auto* job = dynamic_cast<caf::resumable*>(actor);
    return job != nullptr
           && std::find(sched.jobs.begin(), sched.jobs.end(), job)
                != sched.jobs.end();
  }

  /// The first message waiting in `queue` that `pred` accepts. Walks only
  /// as many nodes as the queue counts: CAF's `peek_all` casts the list's
  /// end sentinel to a mailbox element, which UBSan's vptr check then reads
  /// as an object (a crash under the asan preset).
  template <class Queue, class Predicate>
  static const caf::mailbox_element* find_in_queue(Queue& queue,
                                                   Predicate& pred) {
    auto left = queue.total_task_size();
    const caf::mailbox_element* x = queue.peek();
    for (; x != nullptr && left > 0; --left) {
      if (pred(*x))
        return x;
      if (left > 1)
        x = static_cast<const caf::mailbox_element*>(x->next);
    }
    return nullptr;
  }

  template <class Predicate>
  static const caf::mailbox_element*
  find_in_mailbox(caf::scheduled_actor& actor, Predicate pred) {
    // Moves new mail into the queue through CAF's compiled code: its
    // inline `fetch_more`, built here, casts the empty queue's sentinel to
    // a mailbox element, which UBSan reports.
    (void)actor.peek_at_next_mailbox_element();
    auto& queues = actor.mailbox().queue().queues();
    if (const auto* found = find_in_queue(std::get<0>(queues), pred))
      return found;                                  // urgent
    return find_in_queue(std::get<1>(queues), pred); // normal
  }

  std::optional<temp_dir> dir_;
  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  std::vector<caf::actor> others_;

public:
  caf::scheduler::test_coordinator& sched;
  caf::scoped_actor self;
  manual_clock clock;
  std::optional<persistence::lmdb_stores> lmdb;
  std::shared_ptr<persistence::approval_store> approvals;
  std::shared_ptr<persistence::workflow_state_store> runs;
  actors::orchestrator_actor orch;
  /// The orchestrator's engine: its metrics.
  std::shared_ptr<const actors::detail::engine> engine;

  [[nodiscard]] caf::actor_system& system() noexcept {
    return sys_;
  }
};

} // namespace signoff::test
