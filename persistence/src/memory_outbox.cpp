#include <map>
#include <mutex>

#include "signoff/persistence/outbox.hpp"

namespace signoff::persistence {

namespace {

class memory_outbox final : public outbox {
public:
  model::result<void> append(const boost::json::value& event,
                             model::time_point now) override {
    std::lock_guard guard{mutex_};
    ++last_id_;
    entries_.emplace(last_id_, outbox_entry{last_id_, event, 0, now});
    return model::ok();
  }

  model::result<std::vector<outbox_entry>>
  due(model::time_point now, std::size_t limit) const override {
    std::lock_guard guard{mutex_};
    std::vector<outbox_entry> out;
    for (const auto& [id, entry] : entries_)
      if (entry.next_attempt <= now && out.size() < limit)
        out.push_back(entry);
    return out;
  }

  model::result<void> remove(std::uint64_t id) override {
    std::lock_guard guard{mutex_};
    entries_.erase(id);
    return model::ok();
  }

  model::result<void> retry_later(std::uint64_t id, std::uint32_t attempts,
                                  model::time_point at) override {
    std::lock_guard guard{mutex_};
    if (auto it = entries_.find(id); it != entries_.end()) {
      it->second.attempts = attempts;
      it->second.next_attempt = at;
    }
    return model::ok();
  }

  model::result<std::optional<std::uint64_t>> count() const override {
    std::lock_guard guard{mutex_};
    return std::optional<std::uint64_t>{entries_.size()};
  }

private:
  mutable std::mutex mutex_;
  std::uint64_t last_id_ = 0;
  std::map<std::uint64_t, outbox_entry> entries_;
};

} // namespace

std::shared_ptr<outbox> make_memory_outbox() {
  return std::make_shared<memory_outbox>();
}

} // namespace signoff::persistence
