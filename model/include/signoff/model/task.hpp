#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace signoff::model {

template <class T = void>
class task;

namespace detail {

/// How a task's start relates to the coroutine that awaits it. A task that
/// finishes while its awaiter is still starting it hands control back by
/// returning, not by resuming the awaiter: a long run of tasks that finish
/// at once (a replay over many checkpoints) then never deepens the stack,
/// even where the compiler does not turn symmetric transfer into a tail
/// call (g++ at -O0).
enum class task_start : unsigned char {
  /// Not started, or started and suspended: finishing resumes the awaiter.
  detached,
  /// The awaiter is inside `await_suspend`, running the task.
  inline_start,
  /// The task finished during its inline start.
  finished_inline,
};

struct task_promise_base {
  std::coroutine_handle<> continuation{};
  task_start start = task_start::detached;
  std::exception_ptr failure{};

  std::suspend_always initial_suspend() noexcept {
    return {};
  }

  struct final_awaiter {
    [[nodiscard]] bool await_ready() const noexcept {
      return false;
    }
    template <class Promise>
    std::coroutine_handle<>
    await_suspend(std::coroutine_handle<Promise> self) noexcept {
      auto& p = self.promise();
      if (p.start == task_start::inline_start) {
        p.start = task_start::finished_inline;
        return std::noop_coroutine();
      }
      return p.continuation ? p.continuation : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  final_awaiter final_suspend() noexcept {
    return {};
  }

  /// Kept for whoever awaits the task; a workflow's root task turns it into
  /// the run's UNEXPECTED_ERROR. Rethrown out of `resume()` it would reach
  /// the actor running it instead.
  void unhandled_exception() noexcept {
    failure = std::current_exception();
  }
};

template <class T>
struct task_promise : task_promise_base {
  std::optional<T> value;

  task<T> get_return_object() noexcept;

  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& x) {
    value.emplace(std::forward<U>(x));
  }

  T take() {
    if (failure)
      std::rethrow_exception(failure);
    return std::move(*value);
  }
};

template <>
struct task_promise<void> : task_promise_base {
  task<void> get_return_object() noexcept;

  void return_void() noexcept {}

  void take() const {
    if (failure)
      std::rethrow_exception(failure);
  }
};

} // namespace detail

/// A lazy coroutine: nothing runs until it is awaited (or started by its
/// owner with `resume`), and it owns its frame, so destroying the task of
/// a suspended coroutine destroys every task it awaits in turn. Awaiting a
/// task transfers control into it and back when it ends; its value, or the
/// exception that escaped it, is the result of the `co_await`.
///
/// Workflows and async steps are written as tasks:
/// `signoff::task<result<value>> order(step& s, const value& in)`.
/// Not thread-safe: a task is resumed by one thread at a time (a run's
/// actor).
template <class T>
class [[nodiscard]] task {
public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : handle_(h) {}

  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}

  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }

  task(const task&) = delete;
  task& operator=(const task&) = delete;

  ~task() {
    reset();
  }

  /// True if this task holds a coroutine.
  explicit operator bool() const noexcept {
    return static_cast<bool>(handle_);
  }

  /// True once the coroutine ran to its end.
  [[nodiscard]] bool done() const noexcept {
    return handle_ && handle_.done();
  }

  /// Runs the coroutine until it first suspends or ends. For the owner of
  /// a root task, which nobody awaits.
  void start() {
    handle_.resume();
  }

  /// The value of a task that is `done()`; rethrows what escaped it.
  decltype(auto) result() {
    return handle_.promise().take();
  }

  /// Destroys the coroutine (and every task it is suspended in).
  void reset() noexcept {
    if (handle_)
      std::exchange(handle_, {}).destroy();
  }

  auto operator co_await() && noexcept {
    struct awaiter {
      handle_type child;

      [[nodiscard]] bool await_ready() const noexcept {
        return child.done();
      }

      bool await_suspend(std::coroutine_handle<> parent) {
        auto& p = child.promise();
        p.continuation = parent;
        p.start = detail::task_start::inline_start;
        child.resume();
        // Finished at once: go on without suspending (see task_start).
        if (p.start == detail::task_start::finished_inline)
          return false;
        p.start = detail::task_start::detached;
        return true;
      }

      decltype(auto) await_resume() {
        return child.promise().take();
      }
    };
    return awaiter{handle_};
  }

private:
  handle_type handle_{};
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}

inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>{
    std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}

} // namespace detail

/// True for `task<T>`: a step function returning one runs as an async step.
template <class T>
inline constexpr bool is_task_v = false;

template <class T>
inline constexpr bool is_task_v<task<T>> = true;

} // namespace signoff::model
