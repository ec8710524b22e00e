#pragma once

// The transport tests' nodes: cluster_node processes in the tests' world
// (world.hpp), read line by line.

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cluster/world.hpp"
#include "persistence/piped_child.hpp"

namespace signoff::test {

/// A cluster_node process (tests/cluster/cluster_node.cpp), its output
/// read line by line: a test waits for a line it expects (a blocking
/// read, never a sleep), and the lines it passed over stay for later.
class node_process {
public:
  explicit node_process(const std::string& settings_file)
      : child_(std::make_unique<piped_child>(
        std::vector<std::string>{SIGNOFF_CLUSTER_NODE, settings_file})) {
    BOOST_TEST_REQUIRE(child_->started());
  }

  /// The first line (not taken yet) that `matches`; fails the test when
  /// the output ends first.
  std::string wait_for(const std::function<bool(const std::string&)>& matches) {
    for (auto it = passed_.begin(); it != passed_.end(); ++it)
      if (matches(*it)) {
        auto line = *it;
        passed_.erase(it);
        return line;
      }
    for (;;) {
      auto line = child_->read_line();
      if (line.empty()) {
        std::string said;
        for (const auto& passed : passed_)
          said += "\n  " + passed;
        BOOST_TEST_REQUIRE(false, "the node's output ended; it said:" << said);
      }
      if (matches(line))
        return line;
      passed_.push_back(std::move(line));
    }
  }

  /// The first line (not taken yet) starting with `prefix`.
  std::string wait_for(const std::string& prefix) {
    return wait_for(
      [&](const std::string& line) { return line.starts_with(prefix); });
  }

  /// Sends a call through the node's link; read its answer with `answer`.
  void send_call(const std::string& node, const std::string& kind,
                 const std::string& body = "{}") {
    BOOST_TEST_REQUIRE(
      child_->write_line("call " + node + " " + kind + " " + body));
  }

  /// The answer to the call sent before: "KIND BODY".
  std::string answer() {
    return wait_for("answer ").substr(7);
  }

  /// A call and its answer.
  std::string call(const std::string& node, const std::string& kind,
                   const std::string& body = "{}") {
    send_call(node, kind, body);
    return answer();
  }

  /// The lines passed over so far.
  [[nodiscard]] const std::deque<std::string>& passed() const noexcept {
    return passed_;
  }

  [[nodiscard]] pid_t pid() const noexcept {
    return child_->pid();
  }

  void kill() {
    child_->kill();
  }

  /// Closes its input and waits for its exit code.
  int stop() {
    return child_->wait();
  }

private:
  std::unique_ptr<piped_child> child_;
  std::deque<std::string> passed_;
};

} // namespace signoff::test
