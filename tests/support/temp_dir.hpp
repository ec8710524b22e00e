#pragma once

// A fresh directory under the system's temporary directory, removed with
// everything in it when the object goes away.

#include <atomic>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace signoff::test {

class temp_dir {
public:
  temp_dir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path()
            / ("signoff-test-" + std::to_string(::getpid()) + "-"
               + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept {
    return path_;
  }
  [[nodiscard]] std::string str() const {
    return path_.string();
  }

private:
  std::filesystem::path path_;
};

} // namespace signoff::test
