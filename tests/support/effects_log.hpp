#pragma once

// The log a test's child process appends its side effects and the
// acknowledgements it received to, for the parent to check what ran after
// what, even when the child was killed.

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace signoff::test {

/// Appends whole "<what> <subject>" lines to a file: one write(2) each with
/// O_APPEND keeps lines from many threads whole, and the page cache keeps
/// them past a SIGKILL. Exits the process if the file cannot be written.
class effects_log {
public:
  explicit effects_log(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644)) {
    if (fd_ < 0) {
      std::perror(path.c_str());
      std::exit(2);
    }
  }
  ~effects_log() {
    ::close(fd_);
  }
  effects_log(const effects_log&) = delete;
  effects_log& operator=(const effects_log&) = delete;

  void line(const std::string& what, const std::string& subject) {
    const auto text = what + " " + subject + "\n";
    if (::write(fd_, text.data(), text.size())
        != static_cast<ssize_t>(text.size()))
      std::exit(3);
  }

private:
  int fd_;
};

} // namespace signoff::test
