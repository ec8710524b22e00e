#pragma once

// Starting, waiting for and killing the durability child process, and
// reading the effects log it writes.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ; // NOLINT: POSIX

namespace signoff::test {

class child_process {
public:
  /// Starts `args[0]` with `args`; its standard output goes to `output`,
  /// its standard error to `errors` (or stays ours when empty).
  explicit child_process(std::vector<std::string> args,
                         const std::string& output = "/dev/null",
                         const std::string& errors = "") {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (!errors.empty())
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, errors.c_str(),
                                       O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ)
        != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~child_process() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  [[nodiscard]] bool started() const noexcept {
    return pid_ > 0;
  }

  /// Kills the process with SIGKILL and reaps it.
  void kill() {
    if (pid_ <= 0 || exited_)
      return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    exited_ = true;
  }

  /// Waits up to `limit` for the exit; the exit code, or -1 if it had to be
  /// killed or died of a signal.
  int wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    kill();
    return -1;
  }

private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

/// Runs `args` to its exit (killed after `limit`); the exit code, or -1 if
/// it did not start, had to be killed or died of a signal.
inline int run_to_exit(std::vector<std::string> args,
                       std::chrono::milliseconds limit
                       = std::chrono::minutes{3}) {
  child_process child{std::move(args)};
  return child.started() ? child.wait(limit) : -1;
}

/// An effects log as (what, order) lines in the order they were written.
inline std::vector<std::pair<std::string, std::string>>
read_effects(const std::filesystem::path& log) {
  std::ifstream in{log};
  std::vector<std::pair<std::string, std::string>> lines;
  std::string what;
  std::string order;
  while (in >> what >> order)
    lines.emplace_back(what, order);
  return lines;
}

} // namespace signoff::test
