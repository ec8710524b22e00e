#pragma once

// signoffd (SIGNOFFD, the path the build defines) as a child process on a
// loopback port, its standard output and error going to files.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ; // NOLINT: POSIX

namespace signoff::test {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// signoffd as a child process, its stdout and stderr going to files.
class signoffd_process {
public:
  signoffd_process(const std::filesystem::path& dir, const std::string& name,
                   std::vector<std::string> args)
      : out_(dir / (name + ".out")), err_(dir / (name + ".err")) {
    args.insert(args.begin(), SIGNOFFD);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ)
        != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~signoffd_process() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  signoffd_process(const signoffd_process&) = delete;
  signoffd_process& operator=(const signoffd_process&) = delete;

  [[nodiscard]] std::string out() const {
    return read_file(out_);
  }
  [[nodiscard]] std::string err() const {
    return read_file(err_);
  }

  /// The exit code if it exited (-1 for a signal); nothing while running.
  std::optional<int> exited() {
    if (exit_code_ || pid_ <= 0)
      return exit_code_ ? exit_code_ : std::optional<int>{-1};
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_)
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_code_;
  }

  /// Polls (bounded) until stdout shows the whole start banner, which
  /// ends with the flushed "data:" line; false if it exited or never did.
  bool wait_until_listening(std::chrono::seconds limit
                            = std::chrono::seconds{60}) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto text = out();
      if (parse_banner(text))
        return true;
      if (exited())
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return false;
  }

  /// Polls (bounded) until it exits or listens; its exit code, or nothing
  /// if it listened (or hung).
  std::optional<int> wait_exit_or_listen(std::chrono::seconds limit
                                         = std::chrono::seconds{60}) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto code = exited())
        return code;
      if (parse_banner(out()))
        return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return std::nullopt;
  }

  /// SIGTERM, then waits (bounded) for the exit; its code, or -1 if it had
  /// to be killed.
  int terminate(std::chrono::seconds limit = std::chrono::seconds{30}) {
    if (auto code = exited())
      return *code;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto code = exited())
        return *code;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    exit_code_ = -1;
    return -1;
  }

  /// Its process id (-1 if it did not start).
  [[nodiscard]] pid_t pid() const noexcept {
    return pid_;
  }

  std::uint16_t port = 0;
  std::string admin_token{};

private:
  bool parse_banner(const std::string& text) {
    constexpr std::string_view listening
      = "signoffd listening on http://127.0.0.1:";
    constexpr std::string_view token = "admin token: ";
    const auto l = text.find(listening);
    const auto t = text.find(token);
    const auto data = text.find("\ndata: ");
    if (l == std::string::npos || t == std::string::npos
        || data == std::string::npos || text.find('\n', data + 1) == text.npos)
      return false;
    port = static_cast<std::uint16_t>(
      std::stoi(text.substr(l + listening.size())));
    const auto start = t + token.size();
    admin_token = text.substr(start, text.find('\n', start) - start);
    return port != 0 && !admin_token.empty();
  }

  std::filesystem::path out_;
  std::filesystem::path err_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_{};
};

} // namespace signoff::test
