// What is particular to `signoff --server`: the output is the same as on
// the directory for the same state, the token decides who acts and what
// may be seen, SIGNOFF_SERVER and SIGNOFF_TOKEN stand in for the flags, and
// a wrong token, a server that is down or silent, or a command line naming
// both a directory and a server get clear errors and exit codes.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace signoff;
using test::cli_fixture;
using test::cli_run;
using test::cli_target;
namespace json = boost::json;

namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

const std::string orders_token = "orders-secret-0123456789abcdef";
const std::string reader_token = "reader-secret-0123456789abcdef";

/// A server with approvals and runs, and two limited tokens besides the
/// people's: "orders" (read and approve under approval:order:) and
/// "auditor" (read everything).
struct on_server : cli_fixture {
  on_server()
      : cli_fixture(cli_target::server,
                    {"orders:" + orders_token + ":approval:order::read,approve",
                     "auditor:" + reader_token + "::read"}) {
    add_approval("approval:order:1", "Manager sign-off");
    add_approval("approval:order:2", "Two directors", 2);
    add_approval("approval:expense:9", "Finance sign-off");
    add_approval("approval:order:done", "Decided");
    grant("approval:order:done");
    add_run("run-1", "order-approval", model::run_status::paused,
            {"approval:order:1"}, {"approval:order:1"}, hour);
    add_run("run-2", "order-approval", model::run_status::completed, {},
            {"approval:order:done"}, day);
    add_run("run-3", "expense", model::run_status::paused,
            {"approval:expense:9"}, {"approval:expense:9"}, hour);
  }

  /// Runs `args` against the server with `token`.
  [[nodiscard]] cli_run with_token(const std::string& token,
                                   std::vector<std::string> args) const {
    args.insert(args.begin(), {"--server", url(), "--token", token});
    return run_raw(std::move(args));
  }

  [[nodiscard]] json::value everything() const {
    return snapshot({"approval:order:1", "approval:order:2",
                     "approval:expense:9", "approval:order:done"});
  }
};

/// A loopback port that takes connections (the kernel completes them) and
/// never answers: a hung server.
class silent_port {
public:
  silent_port() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    BOOST_REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto* any = reinterpret_cast<sockaddr*>(&address); // NOLINT: POSIX
    socklen_t length = sizeof address;
    BOOST_REQUIRE(::bind(fd_, any, length) == 0);
    BOOST_REQUIRE(::listen(fd_, 8) == 0);
    BOOST_REQUIRE(::getsockname(fd_, any, &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~silent_port() {
    ::close(fd_);
  }
  silent_port(const silent_port&) = delete;
  silent_port& operator=(const silent_port&) = delete;

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

private:
  int fd_;
  std::uint16_t port_ = 0;
};

} // namespace

BOOST_AUTO_TEST_SUITE(cli_server)

BOOST_FIXTURE_TEST_CASE(prints_what_the_directory_prints, on_server) {
  const std::vector<std::vector<std::string>> commands{
    {"pending"},
    {"pending", "--prefix", "approval:order:"},
    {"show", "approval:order:done"},
    {"show", "approval:order:2"},
    {"runs"},
    {"runs", "--status", "paused", "--workflow", "expense"},
    {"status", "run-2"},
    {"status", "run-404"},
    {"show", "approval:order:nope"},
  };
  for (const auto& command : commands)
    for (const bool as_json : {false, true}) {
      auto args = command;
      if (as_json)
        args.emplace_back("--json");
      std::vector<std::string> local{"--db", db()};
      local.insert(local.end(), args.begin(), args.end());
      const auto expected = run_raw(local);
      const auto got = run(args);
      BOOST_TEST_INFO("signoff " << args.front() << (as_json ? " --json" : ""));
      BOOST_TEST(got.exit_code == expected.exit_code);
      BOOST_TEST(got.out == expected.out);
      BOOST_TEST(got.err == expected.err);
    }
}

BOOST_FIXTURE_TEST_CASE(decisions_are_the_token_identitys, on_server) {
  // --by is sent along, but a server that checks tokens records the
  // token's identity.
  auto r = with_token(token_of("jane"),
                      {"approve", "approval:order:1", "--by", "mallory"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "approved by jane"), r.out);
  BOOST_TEST(approval("approval:order:1").status.decided_by == "jane");
  auto grant
    = with_token(orders_token, {"approve", "approval:order:2", "--json"});
  BOOST_TEST(grant.exit_code == 0, grant.err);
  BOOST_TEST(grant.out_json()
               .at("approval")
               .at("grants")
               .at(0)
               .at("approver")
               .as_string()
             == "orders");
  auto text = with_token(token_of("ann"), {"approve", "approval:order:2"});
  BOOST_TEST(contains(text.out, "approved by ann"), text.out);
}

BOOST_FIXTURE_TEST_CASE(the_environment_names_the_server_and_token, on_server) {
  auto r
    = run_raw({"approve", "approval:order:1"},
              {{"SIGNOFF_SERVER", url()}, {"SIGNOFF_TOKEN", token_of("ben")}});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(approval("approval:order:1").status.decided_by == "ben");
  // The flags win over the variables.
  auto flagged
    = run_raw({"--token", token_of("ann"), "show", "approval:order:1"},
              {{"SIGNOFF_SERVER", url()}, {"SIGNOFF_TOKEN", "wrong"}});
  BOOST_TEST(flagged.exit_code == 0, flagged.err);
  auto local = run_raw({"--db", db(), "pending"},
                       {{"SIGNOFF_SERVER", "http://127.0.0.1:1"},
                        {"SIGNOFF_TOKEN", token_of("ann")}});
  BOOST_TEST(local.exit_code == 0, local.err);
  BOOST_TEST(contains(local.out, "approval:order:2"));
}

BOOST_FIXTURE_TEST_CASE(server_options_go_after_the_command_too, on_server) {
  auto r = run_raw({"approve", "approval:order:1", "--server", url(), "--token",
                    token_of("ann"), "--timeout", "30s", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out_json().at("applied").as_bool(), r.out);
  BOOST_TEST(approval("approval:order:1").status.decided_by == "ann");
}

BOOST_FIXTURE_TEST_CASE(a_wrong_or_missing_token_is_refused, on_server) {
  const auto before = everything();
  auto wrong
    = with_token("not-a-token-0123456789", {"approve", "approval:order:1"});
  BOOST_TEST(wrong.exit_code == 1);
  BOOST_TEST(wrong.out.empty());
  BOOST_TEST(contains(wrong.err, "does not accept this token"), wrong.err);
  BOOST_TEST(contains(wrong.err, url()), wrong.err);
  auto as_json = with_token("not-a-token-0123456789", {"pending", "--json"});
  BOOST_TEST(as_json.exit_code == 1);
  BOOST_TEST(as_json.err_json().at("error").at("type").as_string()
             == "UNAUTHORIZED");
  auto missing = run_raw({"--server", url(), "runs"});
  BOOST_TEST(missing.exit_code == 1);
  BOOST_TEST(contains(missing.err, "needs a token"), missing.err);
  BOOST_TEST(everything() == before);
}

BOOST_FIXTURE_TEST_CASE(a_token_outside_its_prefix_is_refused, on_server) {
  const auto before = everything();
  auto show = with_token(orders_token, {"show", "approval:expense:9"});
  BOOST_TEST(show.exit_code == 1);
  BOOST_TEST(contains(show.err, "refused"), show.err);
  BOOST_TEST(contains(show.err, "approval:expense:9"), show.err);
  auto decide
    = with_token(orders_token, {"approve", "approval:expense:9", "--json"});
  BOOST_TEST(decide.exit_code == 1);
  BOOST_TEST(decide.err_json().at("error").at("type").as_string()
             == "FORBIDDEN");
  auto reader = with_token(reader_token,
                           {"reject", "approval:order:1", "--reason", "no"});
  BOOST_TEST(reader.exit_code == 1);
  BOOST_TEST(contains(reader.err, "may not reject"), reader.err);
  auto cleanup = with_token(orders_token, {"cleanup", "--older-than", "1s"});
  BOOST_TEST(cleanup.exit_code == 1);
  BOOST_TEST(contains(cleanup.err, "clean up"), cleanup.err);
  BOOST_TEST(everything() == before);
  // What it may not read, it does not see.
  auto listed = with_token(orders_token, {"pending"});
  BOOST_TEST(listed.exit_code == 0);
  BOOST_TEST(contains(listed.out, "approval:order:1"));
  BOOST_TEST(!contains(listed.out, "approval:expense:9"));
  auto runs = with_token(orders_token, {"runs"});
  BOOST_TEST(contains(runs.out, "run-1"));
  BOOST_TEST(!contains(runs.out, "run-3"));
}

BOOST_FIXTURE_TEST_CASE(a_server_that_is_down_is_unreachable, on_server) {
  stop_server();
  auto r = run({"pending"});
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(
    contains(r.err, "cannot connect to the signoff server at " + url()), r.err);
  auto j = run({"approve", "approval:order:1", "--json"});
  BOOST_TEST(j.exit_code == 3);
  BOOST_TEST(j.err_json().at("error").at("type").as_string()
             == "SERVER_UNREACHABLE");
}

BOOST_AUTO_TEST_CASE(a_silent_server_times_out) {
  silent_port silent;
  cli_fixture local{cli_target::directory};
  auto r = local.run_raw(
    {"--server", silent.url(), "--timeout", "300ms", "status", "run-1"});
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(contains(r.err, silent.url() + " did not answer within 300 ms"),
             r.err);
  // A decision that timed out may still have been made: it says so.
  auto d = local.run_raw({"--server", silent.url(), "--timeout", "300ms",
                          "approve", "approval:order:1"});
  BOOST_TEST(d.exit_code == 3);
  BOOST_TEST(contains(d.err, "may still take effect"), d.err);
}

BOOST_FIXTURE_TEST_CASE(target_usage_errors, on_server) {
  struct bad_line {
    std::vector<std::string> args;
    std::string_view says;
  };
  const std::vector<bad_line> lines{
    {{"--db", db(), "--server", url(), "pending"}, "cannot be used together"},
    {{"--db", db(), "--token", "t", "pending"}, "not with --db"},
    {{"--db", db(), "--timeout", "5s", "pending"}, "not with --db"},
    {{"--server", url(), "--server", url(), "pending"}, "--server: At Most 1"},
    {{"--server", "127.0.0.1:8080", "pending"}, "not an http URL"},
    {{"--server", "https://example.com", "pending"}, "https"},
    {{"--server", "http://:8080", "pending"}, "no host"},
    {{"--server", "http://127.0.0.1:8080?x=1", "pending"}, "query"},
    {{"--server", "http://[::1:8080", "pending"}, "unclosed IPv6"},
    {{"--server", "http://127.0.0.1:99999", "pending"}, "no valid port"},
    {{"--server", "http://127.0.0.1:80/a b", "pending"}, "spaces"},
    {{"--server", url(), "--token", "two\nlines", "pending"}, "the token"},
    {{"--server", url(), "--timeout", "0s", "pending"}, "--timeout"},
    {{"--server", url(), "--timeout", "soon", "pending"}, "--timeout 'soon'"},
    {{"--server", url(), "approve", "approval:order:1", "--value", "{"},
     "--value"},
  };
  const auto before = everything();
  for (const auto& line : lines) {
    auto r = run_raw(line.args);
    BOOST_TEST(r.exit_code == 2, line.says);
    BOOST_TEST(r.out.empty(), line.says);
    BOOST_TEST(contains(r.err, line.says), r.err);
  }
  BOOST_TEST(everything() == before);
}

BOOST_AUTO_TEST_SUITE_END()
