#pragma once

// Runs the built `signoff` binary (SIGNOFF_CLI) against a temporary LMDB
// directory that the fixture fills through the library, and reads back what
// the binary changed. The fixture keeps the stores open while the binary
// runs, as a server on the same directory would.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/time.hpp"
#include "signoff/model/workflow_state.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "support/temp_dir.hpp"

extern char** environ; // NOLINT: POSIX

namespace signoff::test {

namespace json = boost::json;

/// What one run of the binary did.
struct cli_run {
  int exit_code = -1;
  std::string out;
  std::string err;

  /// Standard output parsed as JSON (fails the test if it is not JSON).
  [[nodiscard]] json::value out_json() const {
    return parse(out);
  }
  /// Standard error parsed as JSON.
  [[nodiscard]] json::value err_json() const {
    return parse(err);
  }

private:
  static json::value parse(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "not JSON: " << text);
    return v;
  }
};

inline std::string read_file(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

class cli_fixture {
  temp_dir dir_; // first: outlives the stores open in it

public:
  /// The login name the binary sees, so the default `--by` is known.
  static constexpr std::string_view user = "tester";

  cli_fixture() {
    auto opened = persistence::open_lmdb_stores({.path = db()});
    BOOST_REQUIRE(opened.is_ok());
    stores = std::move(opened.value());
  }

  /// The LMDB directory.
  [[nodiscard]] std::string db() const {
    return (dir_.path() / "db").string();
  }

  /// Runs `signoff --db DIR args...`.
  cli_run run(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--db", db()});
    return run_raw(std::move(args));
  }

  /// Runs `signoff args...` (no `--db` added).
  cli_run run_raw(std::vector<std::string> args) const {
    const auto out_path = (dir_.path() / "stdout").string();
    const auto err_path = (dir_.path() / "stderr").string();
    args.insert(args.begin(), SIGNOFF_CLI);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    auto env = environment();
    std::vector<char*> envp;
    for (auto& e : env)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr,
                                      argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    BOOST_REQUIRE_EQUAL(spawned, 0);
    int status = 0;
    BOOST_REQUIRE_EQUAL(::waitpid(pid, &status, 0), pid);
    BOOST_REQUIRE(WIFEXITED(status));
    return {WEXITSTATUS(status), read_file(out_path), read_file(err_path)};
  }

  // -- filling the directory ------------------------------------------------

  /// Creates a pending approval `key` as a run would.
  void add_approval(const std::string& key, const std::string& reason,
                    std::uint32_t quorum = 1,
                    std::optional<model::time_point> expires_at = {}) {
    model::approval_spec spec;
    spec.pending_reason = reason;
    spec.quorum = quorum;
    spec.expires_at = expires_at;
    spec.metadata = {{"amount", 1200}};
    auto created
      = stores.approvals->create_approval(key, spec, "run:seed", now() - hour);
    BOOST_REQUIRE(created.is_ok() && created->created);
  }

  /// Decides `key` through the library (a grant by "boss").
  void grant(const std::string& key) {
    auto decided = stores.approvals->decide(
      model::decision::grant(key, {{"ok", true}}, "boss"), now());
    BOOST_REQUIRE(decided.is_ok());
  }

  /// Saves a run last updated `age` ago.
  void add_run(const std::string& run_id, const std::string& workflow,
               model::run_status status, std::vector<std::string> waiting_on,
               std::vector<std::string> approval_keys, model::duration age) {
    model::saved_workflow_state s;
    s.run_id = run_id;
    s.workflow_name = workflow;
    s.status = status;
    s.pending_approvals = std::move(waiting_on);
    s.approval_keys = std::move(approval_keys);
    s.pending_reason = s.pending_approvals.empty() ? "" : "Manager sign-off";
    s.input = {{"orderId", run_id}};
    s.checkpoints["create-order"] = json::value{{"orderId", run_id}};
    s.started_at = now() - age - hour;
    s.updated_at = now() - age;
    if (model::is_finished(status))
      s.outcome = json::value{{"done", true}};
    BOOST_REQUIRE(stores.runs->save(s).is_ok());
  }

  // -- reading back -----------------------------------------------------------

  [[nodiscard]] std::optional<model::approval_record>
  find(const std::string& key) const {
    auto found = stores.approvals->find_approval(key);
    BOOST_REQUIRE(found.is_ok());
    return found.value();
  }

  [[nodiscard]] model::approval_record approval(const std::string& key) const {
    auto found = find(key);
    BOOST_REQUIRE_MESSAGE(found.has_value(), "no approval " << key);
    return *found;
  }

  [[nodiscard]] std::size_t trail_length(const std::string& key) const {
    auto trail = stores.approvals->audit_trail(key);
    BOOST_REQUIRE(trail.is_ok());
    return trail->size();
  }

  [[nodiscard]] bool has_run(const std::string& run_id) const {
    auto found = stores.runs->load(run_id);
    BOOST_REQUIRE(found.is_ok());
    return found.value().has_value();
  }

  /// Everything stored about `keys` and every run, to compare before and
  /// after a command that must change nothing.
  [[nodiscard]] json::value
  snapshot(const std::vector<std::string>& keys) const {
    json::object out;
    for (const auto& key : keys) {
      auto trail = stores.approvals->audit_trail(key);
      BOOST_REQUIRE(trail.is_ok());
      auto record = find(key);
      out[key] = {{"record", record ? json::value_from(*record) : nullptr},
                  {"trail", json::value_from(trail.value())}};
    }
    auto runs = stores.runs->list({});
    BOOST_REQUIRE(runs.is_ok());
    for (const auto& id : runs.value()) {
      auto state = stores.runs->load(id);
      BOOST_REQUIRE(state.is_ok() && state.value());
      out["run:" + id] = json::value_from(*state.value());
    }
    return out;
  }

  static model::time_point now() {
    return model::system_now();
  }

  static constexpr model::duration hour = std::chrono::hours{1};
  static constexpr model::duration day = std::chrono::hours{24};

  persistence::lmdb_stores stores;

private:
  /// This process's environment with USER set to `user`.
  static std::vector<std::string> environment() {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (!std::string_view{*e}.starts_with("USER="))
        env.emplace_back(*e);
    env.push_back("USER=" + std::string{user});
    return env;
  }
};

} // namespace signoff::test
