#include "signoff/actors/cluster.hpp"

#include <cassert>
#include <limits>

namespace signoff::actors {

namespace {

/// FNV-1a over `bytes`, continuing from `h`.
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h) noexcept {
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// splitmix64's finalizer: FNV's low bits mix poorly, and rendezvous
/// hashing compares whole values.
std::uint64_t mix(std::uint64_t h) noexcept {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

/// The weight of `node` for `key`. The key's length goes in first, so
/// ("ab", "c") and ("a", "bc") weigh differently.
std::uint64_t weight(std::string_view key, std::string_view node) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto length = static_cast<std::uint64_t>(key.size());
  h = fnv1a(
    std::string_view{reinterpret_cast<const char*>(&length), sizeof length}, h);
  h = fnv1a(key, h);
  return mix(fnv1a(node, h));
}

} // namespace

const std::string& owner_of(std::string_view key,
                            const std::vector<std::string>& nodes) {
  assert(!nodes.empty());
  const std::string* best = &nodes.front();
  auto best_weight = weight(key, *best);
  for (const auto& node : nodes) {
    const auto w = weight(key, node);
    // Ties (astronomically rare) go to the smaller name, on every node.
    if (w > best_weight || (w == best_weight && node < *best)) {
      best = &node;
      best_weight = w;
    }
  }
  return *best;
}

model::result<std::vector<std::string>> pending_owned_elsewhere(
  const persistence::approval_store& store, const std::string& self,
  const std::vector<std::string>& nodes, std::size_t limit) {
  // As of the earliest instant, every pending approval reads unexpired:
  // those past their deadline are stranded too.
  auto pending = store.list_pending("", model::time_point::min(),
                                    std::numeric_limits<std::size_t>::max());
  if (pending.is_err())
    return pending;
  std::vector<std::string> out;
  for (auto& key : pending.value()) {
    if (out.size() == limit)
      break;
    if (owner_of(key, nodes) != self)
      out.push_back(std::move(key));
  }
  return out;
}

void add_cluster_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<cluster_envelope>("signoff.cluster_envelope");
}

} // namespace signoff::actors
