#pragma once

// Runs the built `signoff` binary (SIGNOFF_CLI) against a temporary LMDB
// directory that the fixture fills through the library, and reads back what
// the binary changed. The fixture keeps the stores open while the binary
// runs, as a server on the same directory would.
//
// The same cases run against a server: with `cli_tests -- --server` (or a
// fixture made with `cli_target::server`), an orchestrator and the HTTP
// server run in this process over the same stores, and `run` points the
// binary at the server (`--server URL`, a token in SIGNOFF_TOKEN) instead of
// the directory. No workflow is registered, so the runs the cases save stay
// as they are when a decision tries to resume them.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "signoff/http/server.hpp"
#include "signoff/model/approval.hpp"
#include "signoff/model/time.hpp"
#include "signoff/model/workflow_state.hpp"
#include "signoff/orchestrator.hpp"
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

/// What the commands of a case work on.
enum class cli_target { directory, server };

/// `server` when the test binary was started with `-- --server`.
inline cli_target target_from_command_line() {
  const auto& suite = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i < suite.argc; ++i)
    if (std::string_view{suite.argv[i]} == "--server")
      return cli_target::server;
  return cli_target::directory;
}

/// Environment variables for one run of the binary.
using environment_vars = std::map<std::string, std::string>;

class cli_fixture {
  temp_dir dir_; // first: outlives the stores open in it

public:
  /// The login name the binary sees, so the default `--by` is known.
  static constexpr std::string_view user = "tester";

  /// People with a token for the server: every permission, every key.
  /// `user` is the one `run` calls the server as.
  static constexpr std::array<std::string_view, 7> people{
    user, "jane", "bob", "ann", "ben", "cfo", "ops"};

  /// On a server, `extra_tokens` are given to it besides those of `people`
  /// ("identity:secret:prefix|...:permission,...").
  explicit cli_fixture(cli_target target = target_from_command_line(),
                       const std::vector<std::string>& extra_tokens = {}) {
    auto opened = persistence::open_lmdb_stores({.path = db()});
    BOOST_REQUIRE(opened.is_ok());
    stores = std::move(opened.value());
    if (target == cli_target::server)
      start_server(extra_tokens);
  }

  ~cli_fixture() {
    if (server_)
      server_->stop();
  }
  cli_fixture(const cli_fixture&) = delete;
  cli_fixture& operator=(const cli_fixture&) = delete;

  /// The LMDB directory.
  [[nodiscard]] std::string db() const {
    return (dir_.path() / "db").string();
  }

  /// Writes `text` to the file `name` in the test's directory; its path.
  [[nodiscard]] std::string write_file(const std::string& name,
                                       const std::string& text) const {
    const auto path = dir_.path() / name;
    std::ofstream{path} << text;
    return path.string();
  }

  /// True when the commands go to a server.
  [[nodiscard]] bool on_server() const {
    return server_ != nullptr;
  }

  /// The server's URL (only `on_server()`).
  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port());
  }

  /// The bearer token of `person`, one of `people`.
  [[nodiscard]] static std::string token_of(std::string_view person) {
    return "token-of-" + std::string{person} + "-0123456789abcdef";
  }

  /// Runs `signoff --db DIR args...`, or on a server `signoff --server URL
  /// args...` as `user`.
  cli_run run(std::vector<std::string> args) const {
    if (!on_server()) {
      args.insert(args.begin(), {"--db", db()});
      return run_raw(std::move(args));
    }
    args.insert(args.begin(), {"--server", url()});
    return run_raw(std::move(args), {{"SIGNOFF_TOKEN", token_of(user)}});
  }

  /// Runs `args` (a command and its arguments) as `person`: with `--by`
  /// after the command on a directory, with the person's token on a server
  /// (where the token says who decides).
  cli_run run_as(std::string_view person, std::vector<std::string> args) const {
    if (on_server())
      args.insert(args.begin(), {"--token", token_of(person)});
    else
      args.insert(args.begin() + 1, {"--by", std::string{person}});
    return run(std::move(args));
  }

  /// Stops the server (only `on_server()`): its port refuses connections.
  void stop_server() {
    server_->stop();
  }

  /// Runs `signoff args...` (no `--db` or `--server` added), with `env`
  /// added to the environment.
  cli_run run_raw(std::vector<std::string> args,
                  const environment_vars& env = {}) const {
    const auto out_path = (dir_.path() / "stdout").string();
    const auto err_path = (dir_.path() / "stderr").string();
    args.insert(args.begin(), SIGNOFF_CLI);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    auto vars = environment(env);
    std::vector<char*> envp;
    for (auto& e : vars)
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
  /// Starts the orchestrator and the HTTP server over `stores`, with a
  /// token for each of `people` plus `extra`.
  void start_server(const std::vector<std::string>& extra) {
    orchestrator_options options;
    options.use_lmdb_stores(stores);
    orchestrator_ = std::make_unique<orchestrator>(std::move(options));
    http::server_options http;
    http.port = 0;
    for (const auto& person : people)
      BOOST_REQUIRE(!http.tokens.add_spec(std::string{person} + ":"
                                          + token_of(person) + "::*"));
    for (const auto& spec : extra)
      BOOST_REQUIRE(!http.tokens.add_spec(spec));
    server_
      = std::make_unique<http::http_server>(*orchestrator_, std::move(http));
    BOOST_REQUIRE(server_->start().is_ok());
  }

  /// This process's environment with USER set to `user`, without the
  /// SIGNOFF_ variables the caller may have set, plus `extra`.
  static std::vector<std::string> environment(const environment_vars& extra) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view var{*e};
      if (!var.starts_with("USER=") && !var.starts_with("SIGNOFF_SERVER=")
          && !var.starts_with("SIGNOFF_TOKEN="))
        env.emplace_back(var);
    }
    env.push_back("USER=" + std::string{user});
    for (const auto& [name, value] : extra)
      env.push_back(name + "=" + value);
    return env;
  }

  // Destroyed in reverse: the server, then the orchestrator, then the
  // stores it works on.
  std::unique_ptr<orchestrator> orchestrator_;
  std::unique_ptr<http::http_server> server_;
};

} // namespace signoff::test
