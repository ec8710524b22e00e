#pragma once

// Where plain step functions run: they may block (a database call, a slow
// service), so they never run on the scheduler threads that run the
// orchestrator, the registry and every timer.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace signoff::actors::detail {

/// A fixed pool of threads taking jobs in order. Jobs queue without bound:
/// how many runs wait for it is bounded by the runs themselves (each waits
/// for one job at a time).
class step_executor {
public:
  explicit step_executor(std::size_t threads);

  /// Drops the jobs not started yet, waits for those running.
  ~step_executor();

  step_executor(const step_executor&) = delete;
  step_executor& operator=(const step_executor&) = delete;

  /// Queues `job`; thread-safe. Jobs posted after `stop` are dropped.
  void post(std::function<void()> job);

  /// Drops the jobs not started yet and waits for those running; further
  /// posts are dropped. Idempotent; not from a job's own thread.
  void stop();

private:
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace signoff::actors::detail
