#include "step_executor.hpp"

namespace signoff::actors::detail {

step_executor::step_executor(std::size_t threads) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { work(); });
}

step_executor::~step_executor() {
  stop();
}

void step_executor::post(std::function<void()> job) {
  {
    std::lock_guard guard{mutex_};
    if (stopping_)
      return;
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
}

void step_executor::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard guard{mutex_};
    stopping_ = true;
    dropped.swap(jobs_);
  }
  ready_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  // Destroyed here, outside the lock: a job may own the last reference to
  // a run's coroutine, whose destruction runs user destructors.
  dropped.clear();
}

void step_executor::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock guard{mutex_};
      ready_.wait(guard, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty())
        return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

} // namespace signoff::actors::detail
