#include "signoff/persistence/commit_group.hpp"

#include <atomic>

namespace signoff::persistence {

namespace {

class immediate_commit_group final : public commit_group {
public:
  model::result<void> commit(const std::function<void()>& writes) override {
    writes();
    ++commits_;
    return model::ok();
  }

  [[nodiscard]] std::uint64_t commit_count() const override {
    return commits_.load();
  }

private:
  std::atomic<std::uint64_t> commits_{0};
};

} // namespace

std::shared_ptr<commit_group> make_immediate_commit_group() {
  return std::make_shared<immediate_commit_group>();
}

} // namespace signoff::persistence
