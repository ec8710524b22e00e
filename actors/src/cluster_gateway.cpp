#include "cluster_gateway.hpp"

#include <algorithm>
#include <limits>

#include <caf/all.hpp>

namespace signoff::actors::detail {

namespace {

using answer_promise = caf::typed_response_promise<cluster_envelope>;

/// Keys a "watch" call carries at most: a node with more runs waiting on a
/// peer's keys sends several.
constexpr std::size_t watch_items_per_call = 512;

struct gateway_state {
  std::shared_ptr<engine> eng;

  static inline const char* name = "signoff.cluster_gateway";
};

using gateway_pointer = cluster_gateway_actor::stateful_pointer<gateway_state>;

model::error not_owner(const engine& eng, const std::string& key) {
  return model::make_error(model::error_type::invalid_argument,
                           "node '" + eng.node_name() + "' does not own '" + key
                             + "' (do the nodes list the same cluster?)");
}

/// Answers `rp` with what a local actor replies to `xs...`.
template <class T, class Handle, class... Ts>
void relay(gateway_pointer self, answer_promise rp, const Handle& dest,
           Ts&&... xs) {
  self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [self, rp](model::result<T>& r) mutable {
        rp.deliver(make_answer(self->state.eng->node_name(), r));
      },
      [self, rp](caf::error& e) mutable {
        rp.deliver(make_answer(
          self->state.eng->node_name(),
          model::result<T>{model::make_error(model::error_type::request_failed,
                                             self->system().render(e))}));
      });
}

/// Reads a call's body as `T` and checks this node owns `key_of(body)`;
/// on failure answers `rp` and returns nothing.
template <class T, class KeyOf>
std::optional<T> owned_call(gateway_pointer self, answer_promise& rp,
                            const boost::json::value& body,
                            std::string_view what, KeyOf key_of) {
  const auto& eng = *self->state.eng;
  auto call = read_as<T>(body, what);
  if (call.is_err()) {
    rp.deliver(make_failure(eng.node_name(), call.error()));
    return std::nullopt;
  }
  if (!eng.owns(key_of(call.value()))) {
    rp.deliver(
      make_failure(eng.node_name(), not_owner(eng, key_of(call.value()))));
    return std::nullopt;
  }
  return std::move(call.value());
}

/// A run of `from` reached one of our keys: the shard registers the
/// node's watcher as the waiter.
void reach(gateway_pointer self, answer_promise rp, const std::string& from,
           const boost::json::value& body) {
  auto call = owned_call<remote_reach>(
    self, rp, body, "a reach", [](const remote_reach& r) { return r.key; });
  if (!call)
    return;
  const auto& eng = *self->state.eng;
  auto watcher = eng.watcher_for(from);
  if (!watcher) {
    rp.deliver(make_failure(
      eng.node_name(), model::make_error(model::error_type::invalid_argument,
                                         "unknown node '" + from + "'")));
    return;
  }
  reach_request req{remote_run_id(from, call->run_id),
                    call->spec.workflow_name,
                    std::move(watcher),
                    call->key,
                    std::move(call->spec),
                    true};
  relay<model::approval_status>(self, rp, eng.shard_for(req.key), reach_atom_v,
                                std::move(req));
}

/// `from` has runs waiting on these keys of ours (it came back, or we
/// did): registers them again and answers each key's status.
void watch(gateway_pointer self, answer_promise rp, const std::string& from,
           const boost::json::value& body) {
  const auto& eng = *self->state.eng;
  auto items = read_as<std::vector<watch_item>>(body, "a watch");
  auto watcher = eng.watcher_for(from);
  if (items.is_err() || !watcher) {
    rp.deliver(make_failure(
      eng.node_name(),
      items.is_err() ? items.error()
                     : model::make_error(model::error_type::invalid_argument,
                                         "unknown node '" + from + "'")));
    return;
  }
  struct gathering {
    std::vector<watched_key> answers;
    std::size_t left = 0;
  };
  auto g = std::make_shared<gathering>();
  g->answers.resize(items.value().size());
  g->left = items.value().size() + 1;
  auto one_done = [self, rp, g]() mutable {
    if (--g->left == 0)
      rp.deliver(make_answer(
        self->state.eng->node_name(),
        model::result<std::vector<watched_key>>{std::move(g->answers)}));
  };
  for (std::size_t i = 0; i < items.value().size(); ++i) {
    auto& item = items.value()[i];
    g->answers[i].key = item.key;
    auto record = eng.owns(item.key)
                    ? eng.approvals().find_approval(item.key)
                    : model::result<std::optional<model::approval_record>>{};
    if (record.is_err() || !record.value()) {
      // Unknown here (removed, or not ours): the run asks again when woken
      // with no status, as for an approval removed by hand.
      one_done();
      continue;
    }
    reach_request req{remote_run_id(from, item.run_id),
                      record.value()->spec.workflow_name,
                      watcher,
                      item.key,
                      record.value()->spec,
                      true};
    self
      ->request(eng.shard_for(item.key), caf::infinite, reach_atom_v,
                std::move(req))
      .then(
        [g, i, one_done](model::result<model::approval_status>& r) mutable {
          if (r.is_ok())
            g->answers[i].status = std::move(r.value());
          one_done();
        },
        [one_done](caf::error&) mutable { one_done(); });
  }
  one_done();
}

/// A key of `from` was decided: wakes our run waiting on it, if it still
/// is (it may have been cancelled, or woken by a watch meanwhile).
void wake(gateway_pointer self, answer_promise rp,
          const boost::json::value& body) {
  const auto& eng = *self->state.eng;
  auto call = read_as<routed_wake>(body, "a wake");
  if (call.is_err()) {
    rp.deliver(make_failure(eng.node_name(), call.error()));
    return;
  }
  auto run = eng.runs().load(call->run_id);
  if (run.is_err()) {
    rp.deliver(make_answer(
      eng.node_name(), model::result<wake_report>{wake_report{false, true}}));
    return;
  }
  const auto& waits_on
    = run.value() ? run.value()->pending_approvals : std::vector<std::string>{};
  if (std::find(waits_on.begin(), waits_on.end(), call->wake.key)
      == waits_on.end()) {
    rp.deliver(
      make_answer(eng.node_name(), model::result<wake_report>{wake_report{}}));
    return;
  }
  self
    ->request(eng.directory(), caf::infinite, wake_atom_v,
              std::move(call.value()))
    .then(
      [self, rp](wake_report& report) mutable {
        rp.deliver(make_answer(self->state.eng->node_name(),
                               model::result<wake_report>{report}));
      },
      [self, rp](caf::error&) mutable {
        rp.deliver(
          make_answer(self->state.eng->node_name(),
                      model::result<wake_report>{wake_report{false, true}}));
      });
}

/// `peer` came up: hands it our runs waiting on its keys, and wakes those
/// whose approval it decided while the two were apart.
void resync(gateway_pointer self, const std::string& peer) {
  const auto& eng = *self->state.eng;
  persistence::run_filter paused;
  paused.status = model::run_status::paused;
  paused.has_pending_approvals = true;
  auto ids = eng.runs().list(paused);
  if (ids.is_err()) {
    eng.log("listing the runs waiting on node '" + peer
            + "' failed: " + ids.error().message);
    return;
  }
  std::vector<watch_item> items;
  for (const auto& id : ids.value()) {
    auto run = eng.runs().load(id);
    if (run.is_err() || !run.value())
      continue;
    for (const auto& key : run.value()->pending_approvals)
      if (eng.owner_of(key) == peer)
        items.push_back({id, key});
  }
  for (std::size_t first = 0; first < items.size();
       first += watch_items_per_call) {
    std::vector<watch_item> batch(
      items.begin() + static_cast<std::ptrdiff_t>(first),
      items.begin()
        + static_cast<std::ptrdiff_t>(
          std::min(items.size(), first + watch_items_per_call)));
    ask_node<std::vector<watched_key>>(
      self, eng, peer, call_kind::watch, boost::json::value_from(batch),
      [self, peer, batch](model::result<std::vector<watched_key>> r) {
        const auto& eng = *self->state.eng;
        if (r.is_err() || r.value().size() != batch.size()) {
          // The peer went away again: it comes up once more later.
          eng.log("handing node '" + peer + "' our waiting runs failed: "
                  + (r.is_err() ? r.error().message : "a short answer"));
          return;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
          auto& status = r.value()[i].status;
          // Pending keys wake the run later; a key the peer does not have
          // wakes it with a pending status, and it asks again.
          if (status && status->is_pending())
            continue;
          caf::anon_send(
            eng.directory(), wake_atom_v,
            routed_wake{
              batch[i].run_id,
              {batch[i].key, status.value_or(model::approval_status{})}});
        }
      });
  }
}

/// Answers a read of what this node holds: one of its approvals (record
/// or audit trail), its pending keys with a prefix, its runs matching a
/// filter or waiting on a key, one of its runs.
cluster_envelope read_call(const engine& eng, std::string_view kind,
                           const boost::json::value& body) {
  const auto& self = eng.node_name();
  if (kind == call_kind::runs) {
    auto filter = read_as<persistence::run_filter>(body, "a run filter");
    if (filter.is_err())
      return make_failure(self, filter.error());
    return make_answer(self, eng.runs().list(filter.value()));
  }
  const auto* text = body.if_string();
  if (text == nullptr)
    return make_failure(self, malformed_call(kind));
  const std::string arg{*text};
  if (kind == call_kind::pending)
    return make_answer(
      self, eng.approvals().list_pending(
              arg, eng.now(), std::numeric_limits<std::size_t>::max()));
  if (kind == call_kind::audit)
    return make_answer(self, eng.approvals().audit_trail(arg));
  if (kind == call_kind::waiting)
    return make_answer(self, eng.runs().find_by_pending_approval(arg));
  if (kind == call_kind::status)
    return make_answer(self, model::found_or(eng.runs().load(arg),
                                             "no run '" + arg + "' exists"));
  return make_answer(self, model::found_or(eng.approvals().find_approval(arg),
                                           "no approval '" + arg + "' exists"));
}

cluster_gateway_actor::behavior_type
gateway_behavior(gateway_pointer self, std::shared_ptr<engine> eng) {
  self->state.eng = std::move(eng);
  return {
    [self](cluster_atom,
           cluster_envelope& call) -> caf::result<cluster_envelope> {
      const auto& eng = *self->state.eng;
      auto body = read_body(call);
      if (body.is_err()) {
        eng.log("refused a call '" + call.kind + "' from node '" + call.from
                + "': " + body.error().message);
        return make_failure(eng.node_name(), body.error());
      }
      auto rp = self->make_response_promise<cluster_envelope>();
      const auto& b = body.value();
      const auto& kind = call.kind;
      if (kind == call_kind::decide) {
        if (auto req = owned_call<decision_request>(
              self, rp, b, "a decision",
              [](const decision_request& r) { return r.decision.key; }))
          relay<decision_report>(self, rp, eng.shard_for(req->decision.key),
                                 decide_atom_v, std::move(*req));
      } else if (kind == call_kind::comment) {
        if (auto req = owned_call<comment_request>(
              self, rp, b, "a comment",
              [](const comment_request& r) { return r.key; }))
          relay<model::audit_entry>(self, rp, eng.shard_for(req->key),
                                    comment_atom_v, std::move(*req));
      } else if (kind == call_kind::assign) {
        if (auto req = owned_call<model::assignment_change>(
              self, rp, b, "an assignment",
              [](const model::assignment_change& c) { return c.key; }))
          relay<model::decision_outcome>(self, rp, eng.shard_for(req->key),
                                         assign_atom_v, std::move(*req));
      } else if (kind == call_kind::reach) {
        reach(self, rp, call.from, b);
      } else if (kind == call_kind::watch) {
        watch(self, rp, call.from, b);
      } else if (kind == call_kind::wake) {
        wake(self, rp, b);
      } else if (kind == call_kind::approval || kind == call_kind::audit
                 || kind == call_kind::pending || kind == call_kind::runs
                 || kind == call_kind::waiting || kind == call_kind::status) {
        // Read from the store, never through the directory: it would ask
        // the other nodes in turn.
        rp.deliver(read_call(eng, kind, b));
      } else if (kind == call_kind::peer_up) {
        resync(self, call.from);
        rp.deliver(make_answer(eng.node_name(), model::result<bool>{true}));
      } else {
        rp.deliver(make_failure(
          eng.node_name(),
          model::make_error(model::error_type::invalid_argument,
                            "unknown cluster call '" + kind + "'")));
      }
      return rp;
    },
  };
}

struct watcher_state {
  std::shared_ptr<engine> eng;
  std::string node;

  static inline const char* name = "signoff.peer_watcher";
};

} // namespace

model::error node_unavailable(const std::string& node) {
  return model::make_error(model::error_type::unavailable,
                           "node '" + node + "' cannot be reached");
}

std::string remote_run_id(const std::string& node, const std::string& run_id) {
  return node + "/" + run_id;
}

cluster_gateway_actor spawn_cluster_gateway(caf::actor_system& system,
                                            std::shared_ptr<engine> eng) {
  return system.spawn(gateway_behavior, std::move(eng));
}

caf::actor spawn_peer_watcher(caf::actor_system& system,
                              std::shared_ptr<engine> eng, std::string node) {
  return system.spawn(
    [](caf::stateful_actor<watcher_state>* self, std::shared_ptr<engine> eng,
       std::string node) -> caf::behavior {
      self->state.eng = std::move(eng);
      self->state.node = std::move(node);
      return {
        [self](wake_atom, routed_wake& w) -> caf::result<wake_report> {
          const auto& st = self->state;
          auto rp = self->make_response_promise<wake_report>();
          const auto prefix = st.node + "/";
          if (w.run_id.rfind(prefix, 0) == 0)
            w.run_id.erase(0, prefix.size());
          ask_node<wake_report>(
            self, *st.eng, st.node, call_kind::wake, boost::json::value_from(w),
            [rp](model::result<wake_report> r) mutable {
              rp.deliver(r.is_ok() ? r.value() : wake_report{false, true});
            });
          return rp;
        },
      };
    },
    std::move(eng), std::move(node));
}

} // namespace signoff::actors::detail
