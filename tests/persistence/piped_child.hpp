#pragma once

// A child process with pipes on its standard input and output: a test
// waits for what the child says with a blocking read instead of sleeping,
// and the child sees its input close when the test is done with it (or
// dies).

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ; // NOLINT: POSIX

namespace signoff::test {

class piped_child {
public:
  /// Starts `args[0]` with `args` and our environment plus `extra_env`
  /// ("NAME=value" entries, which come first and so win). Its standard
  /// error stays ours.
  explicit piped_child(std::vector<std::string> args,
                       const std::vector<std::string>& extra_env = {}) {
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
      return;
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings = extra_env;
    for (char** e = environ; *e != nullptr; ++e)
      env_strings.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_strings)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    if (::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(),
                      envp.data())
        != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
  }

  ~piped_child() {
    kill();
    if (to_child_ >= 0)
      ::close(to_child_);
    if (from_child_ >= 0)
      ::close(from_child_);
  }

  piped_child(const piped_child&) = delete;
  piped_child& operator=(const piped_child&) = delete;

  [[nodiscard]] bool started() const noexcept {
    return pid_ > 0;
  }

  [[nodiscard]] pid_t pid() const noexcept {
    return pid_;
  }

  /// The next line the child writes, without its newline; empty once its
  /// output ends.
  std::string read_line() {
    std::string line;
    char c = 0;
    while (from_child_ >= 0 && ::read(from_child_, &c, 1) == 1 && c != '\n')
      line += c;
    return line;
  }

  /// Writes `line` and a newline to the child's input; false once the
  /// child stopped reading it.
  bool write_line(const std::string& line) {
    const auto text = line + '\n';
    std::size_t written = 0;
    while (to_child_ >= 0 && written < text.size()) {
      const auto n
        = ::write(to_child_, text.data() + written, text.size() - written);
      if (n <= 0)
        return false;
      written += static_cast<std::size_t>(n);
    }
    return written == text.size();
  }

  /// Kills the child with SIGKILL and reaps it; when this returns, the
  /// kernel has released everything it held.
  void kill() {
    if (pid_ <= 0 || reaped_)
      return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }

  /// Closes the child's input and waits for it to exit: its exit code, or
  /// -1 if it died of a signal.
  int wait() {
    if (to_child_ >= 0) {
      ::close(to_child_);
      to_child_ = -1;
    }
    if (pid_ <= 0 || reaped_)
      return -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int to_child_ = -1;
  int from_child_ = -1;
};

} // namespace signoff::test
