#define BOOST_TEST_MODULE signoff_hostile
#include <boost/test/unit_test.hpp>

// Hostile input through HTTP: the real server over a real LMDB directory
// takes thousands of generated requests (garbage and wrong-typed JSON,
// bodies over the limit or nested 100,000 deep, keys with control bytes,
// NUL, LIKE and glob metacharacters, '..' and invalid UTF-8, forged,
// expired and replayed action links, missing, malformed and out-of-scope
// tokens, broken HTTP). Every answer must be the refusal the request owes
// (a 4xx; JSON endpoints answer a JSON error object), and a byte-exact
// dump of the whole LMDB environment must be the same before and after.
//
// SIGNOFF_HOSTILE_REQUESTS (default 5000), SIGNOFF_HOSTILE_SEED (default:
// random, printed) and SIGNOFF_HOSTILE_THREADS (default 2) set the run; the
// same seed and count send the same requests.
//
// The server answers every request it can parse, and a 400 (431 for a
// header over the limit) to bytes that are no HTTP request, then closes.
// It answers nothing only where there is no request to answer: a client
// that closes before its request is complete, or sends nothing for the
// idle timeout. No generated request does either.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "actors/fixtures.hpp"
#include "hostile/requests.hpp"
#include "http/client.hpp"
#include "http/signoffd_process.hpp"
#include "http/test_server.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "support/must.hpp"
#include "support/printing.hpp"
#include "support/raw_lmdb.hpp"
#include "support/temp_dir.hpp"

using namespace signoff;
using namespace signoff::test;
namespace hc = signoff::test::http_client;
using boost::json::value;
namespace hs = signoff::test::hostile;
using hs::hostile_request;

namespace {

/// Large enough for 100,000 levels of `[`, small enough that bodies over
/// it are cheap to send.
constexpr std::size_t max_body = 256 * 1024;

// --- The run's settings ------------------------------------------------------

std::uint64_t from_env(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text == nullptr || *text == '\0' ? fallback
                                          : std::stoull(text, nullptr, 0);
}

struct settings {
  std::uint64_t requests = from_env("SIGNOFF_HOSTILE_REQUESTS", 5000);
  std::uint64_t seed = from_env("SIGNOFF_HOSTILE_SEED", std::random_device{}());
  std::size_t threads = from_env("SIGNOFF_HOSTILE_THREADS", 2);
};

// --- The seeded state --------------------------------------------------------

const std::string special_key = "approval:finance:100%_sure/or not";
const std::string glob_key = "approval:finance:glob*?[x]";
const std::string utf8_key = "approval:finance:caf\xC3\xA9/\xE6\x97\xA5";

/// Runs that stay paused: their approvals are what a hostile request would
/// decide if it got through.
std::vector<seeded_run> waiting_runs() {
  return {
    gate_run("run-fin-1", "approval:finance:inv_1", "Invoices need finance",
             {{"vendor", "Wayne <x-hostile> & Co"}, {"amount", 7200}}),
    gate_run("run-fin-2", "approval:finance:inv_2", "Invoices need finance",
             {{"amount", 5100}}),
    gate_run("run-quorum", "approval:finance:q_2", "Two approvers",
             {{"amount", 250000}}, 2),
    gate_run("run/special%_\xC3\xBC", special_key, "Odd characters",
             {{"note", "100% sure"}}),
    gate_run("run-glob*?", glob_key, "Glob characters", {{"n", 1}}),
    gate_run("run-utf8", utf8_key, "Unicode", {{"city", "Z\xC3\xBCrich"}}),
    gate_run("run-order-1", "approval:order:1", "Orders need a manager",
             {{"total", 15000}}),
    gate_run("run-lookalike", "approval:finance_x", "Not under finance",
             {{"amount", 1}}),
    {"order", "run-manager-1", "approval:manager:ord_1", order_input("ord_1")},
  };
}

/// Runs whose approvals get decided while seeding, one way each.
std::vector<seeded_run> decided_runs() {
  auto late = gate_run("run-late", "approval:finance:late", "Too slow",
                       {{"amount", 3}});
  late.input.as_object()["expiresInMs"] = 0;
  return {
    gate_run("run-done", "approval:finance:done", "Approved by finance",
             {{"amount", 10}}),
    gate_run("run-linked", "approval:finance:linked", "Approved by link",
             {{"amount", 20}}),
    gate_run("run-carol", "approval:finance:carol", "Cancelled",
             {{"amount", 30}}),
    gate_run("run-rejected", "approval:order:rejected", "Rejected",
             {{"total", 40}}),
    gate_run("run-cancelled", "approval:order:cancelled", "Run cancelled",
             {{"total", 50}}),
    late,
  };
}

/// What the finance token decided while seeding; repeating it is the one
/// decision that succeeds without changing anything.
const value done_decision{{"key", "approval:finance:done"},
                          {"action", "approve"},
                          {"value", {{"ok", 1}}}};

/// The orchestrator and the HTTP server over stores opened by the caller,
/// serving until destruction. Nothing writes on its own (no wake polling;
/// every seeded deadline is days away or already expired), so the
/// directory changes only through requests.
class live_server {
public:
  explicit live_server(const persistence::lmdb_stores& stores,
                       std::size_t max_connections
                       = http::server_options{}.max_connections)
      : orch(options_for(stores)) {
    orch.register_workflow("gate", gate_workflow(after));
    orch.register_workflow("order",
                           order_workflow(std::make_shared<order_counters>()));
    auto options = test_server_options(max_body, std::string{test_link_secret});
    options.max_connections = max_connections;
    server = std::make_unique<http::http_server>(orch, std::move(options));
    must(server->start());
    port = server->port();
  }
  ~live_server() {
    server->stop();
  }
  live_server(const live_server&) = delete;
  live_server& operator=(const live_server&) = delete;

  hc::response post_json(std::string_view target, const value& body,
                         std::string_view token) const {
    auto headers = hc::bearer(token);
    headers.emplace_back("Content-Type", "application/json");
    return hc::send(port, "POST", target, headers,
                    boost::json::serialize(body));
  }
  hc::response get(std::string_view target) const {
    return hc::send(port, "GET", target, hc::bearer(admin_token));
  }
  hc::response confirm(const std::string& link) const {
    return hc::send(port, "POST", "/act/" + link,
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
  }

  std::shared_ptr<std::atomic<int>> after
    = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  std::unique_ptr<http::http_server> server;
  std::uint16_t port = 0;

private:
  static orchestrator_options
  options_for(const persistence::lmdb_stores& stores) {
    orchestrator_options options;
    options.use_lmdb_stores(stores, true);
    options.wake_poll_interval = model::duration::zero();
    return options;
  }
};

persistence::lmdb_stores open_stores(const std::string& path) {
  return must(persistence::open_lmdb_stores(
    {.path = path, .durability = persistence::lmdb_durability::no_sync}));
}

/// Starts every run, decides some approvals each way (through the API, an
/// action link, the orchestrator, expiry, cancelling a run) and returns
/// what the requests need to know of the result.
hs::world seed(live_server& s) {
  hs::world w;
  for (const auto& run : waiting_runs()) {
    auto started = must(s.orch.execute(run.workflow, run.input, {run.run_id}));
    BOOST_TEST_REQUIRE((started.status == model::run_status::paused));
    w.pending_keys.push_back(run.key);
    w.paused_runs.push_back({run.run_id, run.workflow, {run.key}});
  }
  for (const auto& run : decided_runs()) {
    must(s.orch.execute(run.workflow, run.input, {run.run_id}));
    w.decided_keys.push_back(run.key);
    w.finished_runs.push_back({run.run_id, run.workflow, {run.key}});
  }
  must(s.orch.expire_due());

  auto done = s.post_json("/api/approvals", done_decision, finance_token);
  BOOST_TEST_REQUIRE(done.status == 200U, done.body);
  const auto linked
    = link_for("approval:finance:linked", model::decision_kind::grant, "alice");
  BOOST_TEST_REQUIRE(s.confirm(linked).status == 200U);
  // One of two grants: the approval stays pending, the link is spent.
  const auto quorum
    = link_for("approval:finance:q_2", model::decision_kind::grant, "alice");
  BOOST_TEST_REQUIRE(s.confirm(quorum).status == 200U);
  const auto carol
    = link_for("approval:finance:carol", model::decision_kind::grant, "carol");
  must(s.orch.cancel_approval("approval:finance:carol",
                              {.cancelled_by = "seed-ops", .reason = "No"}));
  must(s.orch.reject_approval("approval:order:rejected", "Over budget",
                              {.rejected_by = "seed-ops"}));
  must(s.orch.cancel_run("run-cancelled", "Withdrawn"));
  w.used_links
    = {linked, quorum, carol,
       link_for("approval:finance:late", model::decision_kind::grant, "dave"),
       link_for("approval:finance:done", model::decision_kind::cancel, "erin")};
  w.reject_link
    = link_for("approval:finance:inv_2", model::decision_kind::reject, "bob");

  for (const auto& key : w.pending_keys)
    BOOST_TEST_REQUIRE(must(s.orch.get_approval(key))
                         .status_at(model::system_now())
                         .is_pending(),
                       key);
  for (const auto& key : w.decided_keys)
    BOOST_TEST_REQUIRE(!must(s.orch.get_approval(key))
                          .status_at(model::system_now())
                          .is_pending(),
                       key);
  for (const auto& run : w.finished_runs)
    BOOST_TEST_REQUIRE(
      model::is_finished(must(s.orch.get_workflow_status(run.id)).status),
      run.id);
  return w;
}

lmdb_dump dump_of(const std::string& path, std::size_t& last_txnid) {
  raw_lmdb raw{path, true};
  last_txnid = raw.last_txnid();
  return raw.dump();
}

// --- The oracle --------------------------------------------------------------

std::string expected_type(unsigned status) {
  switch (status) {
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "APPROVAL_CONFLICT|INVALID_RUN_STATE";
    default:
      return "INVALID_ARGUMENT";
  }
}

/// What is wrong with answer `a` to request `q`; nothing if it is right.
std::optional<std::string> problem_with(const hostile_request& q,
                                        const hc::response& a) {
  if (a.status == 0)
    return "no answer";
  if (std::find(q.statuses.begin(), q.statuses.end(), a.status)
      == q.statuses.end())
    return "status " + std::to_string(a.status);
  // Marks of internal text that no generated request contains, so that
  // an echoed key cannot raise them.
  for (std::string_view internal :
       {"std::", "boost::", "what()", "mdb_txn", "mdb_env", "mdb_cursor"})
    if (a.body.find(internal) != std::string::npos)
      return "internal text in the body";
  if (a.header("X-Content-Type-Options") != "nosniff")
    return "no X-Content-Type-Options: nosniff";
  if (a.header("Referrer-Policy") != "same-origin")
    return "no Referrer-Policy: same-origin";
  const auto content_type = a.header("Content-Type");
  if (q.format == hs::answer_format::html) {
    if (!content_type.starts_with("text/html"))
      return "Content-Type '" + content_type + "' instead of HTML";
    if (a.header("X-Frame-Options") != "DENY")
      return "a page that may be framed";
    if (a.body.find("<x-hostile") != std::string::npos)
      return "unescaped markup in the page";
    return std::nullopt;
  }
  if (content_type != "application/json")
    return "Content-Type '" + content_type + "' instead of JSON";
  boost::system::error_code ec;
  const auto body = boost::json::parse(a.body, ec);
  if (ec || !body.is_object())
    return "the body is not a JSON object (" + ec.message() + ")";
  const auto& obj = body.as_object();
  if (q.listing) {
    const auto* pending = obj.if_contains("pending");
    if (pending == nullptr || !pending->is_array())
      return "no pending list";
    std::vector<std::string> listed;
    for (const auto& v : pending->as_array())
      listed.emplace_back(v.is_string() ? v.get_string() : "?");
    std::sort(listed.begin(), listed.end());
    if (listed != *q.listing)
      return "listed " + printable(boost::json::serialize(*pending));
    return std::nullopt;
  }
  const auto* success = obj.if_contains("success");
  const auto* error = obj.if_contains("error");
  const auto* message = obj.if_contains("message");
  if (success == nullptr || *success != false || error == nullptr
      || !error->is_string() || message == nullptr || !message->is_string()
      || message->get_string().empty())
    return "not an error object";
  const auto type = expected_type(a.status);
  if (type.find(error->get_string()) == std::string::npos)
    return "error type " + std::string{error->get_string()};
  if (a.status == 401 && a.header("WWW-Authenticate") != "Bearer")
    return "no WWW-Authenticate: Bearer";
  if (error->get_string() == "APPROVAL_CONFLICT"
      && !(obj.contains("winner") && obj.at("winner").is_object()))
    return "a conflict without its winner";
  return std::nullopt;
}

// --- Figures -----------------------------------------------------------------

/// What the run saw, by category and status.
class tally {
public:
  void add(const hostile_request& q, const hc::response& a,
           const std::optional<std::string>& problem) {
    std::lock_guard guard{mutex_};
    ++statuses_[q.category][a.status];
    if (!problem)
      return;
    ++violations_;
    // One example of each kind of violation, with how often it happened.
    auto& [count, example]
      = reports_[q.category + ": " + q.what + ": " + problem->substr(0, 40)];
    if (count++ == 0)
      example = "sent: " + printable(q.wire, 300) + "\n      got:  "
                + std::to_string(a.status) + " " + printable(a.body, 300);
  }

  [[nodiscard]] std::uint64_t violations() const {
    std::lock_guard guard{mutex_};
    return violations_;
  }

  /// How many requests of `category` were sent.
  [[nodiscard]] std::uint64_t sent(std::string_view category) const {
    std::lock_guard guard{mutex_};
    std::uint64_t n = 0;
    if (auto it = statuses_.find(std::string{category}); it != statuses_.end())
      for (const auto& [status, count] : it->second)
        n += count;
    return n;
  }

  void print(std::ostream& out) const {
    std::lock_guard guard{mutex_};
    std::map<unsigned, std::uint64_t> all;
    std::uint64_t sent = 0;
    out << "category          sent  statuses\n";
    for (const auto& [category, by_status] : statuses_) {
      std::uint64_t n = 0;
      std::string line;
      for (const auto& [status, count] : by_status) {
        n += count;
        all[status] += count;
        line += " " + std::to_string(status) + ":" + std::to_string(count);
      }
      sent += n;
      out << "  " << category
          << std::string(16 - std::min<std::size_t>(16, category.size()), ' ')
          << n << " " << line << "\n";
    }
    out << "requests sent: " << sent << "; statuses:";
    for (const auto& [status, count] : all)
      out << " " << status << ":" << count;
    out << "\nviolations: " << violations_ << "\n";
    for (const auto& [kind, report] : reports_)
      out << "  " << report.first << " x " << kind << "\n      "
          << report.second << "\n";
  }

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::map<unsigned, std::uint64_t>> statuses_;
  std::uint64_t violations_ = 0;
  std::map<std::string, std::pair<std::uint64_t, std::string>> reports_;
};

void send_and_check(std::uint16_t port, const hostile_request& q, tally& t) {
  hc::response a;
  try {
    a = hc::send_raw(port, q.wire);
  } catch (const std::exception&) {
    a.status = 0; // the server is gone
  }
  t.add(q, a, problem_with(q, a));
}

/// Sends the regression cases, then `count` generated requests from
/// `threads` threads.
void attack(std::uint16_t port, const hs::world& w, const settings& s,
            tally& t) {
  for (const auto& q : hs::regression_requests(w, max_body))
    send_and_check(port, q, t);
  std::atomic<std::uint64_t> next{0};
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, s.threads); ++i)
    clients.emplace_back([&] {
      for (auto n = next++; n < s.requests; n = next++)
        send_and_check(port, hs::make_request(w, s.seed, n, max_body), t);
    });
  for (auto& c : clients)
    c.join();
}

/// Normal requests after the attack: the server reads and decides as
/// before, and nothing it answers differs from what was seeded.
void check_still_serving(const live_server& s, const hs::world& w) {
  auto health = s.get("/health");
  BOOST_TEST(health.status == 200U);
  BOOST_TEST(health.json() == (value{{"status", "ok"}}));
  auto listed = s.get("/api/approvals");
  BOOST_TEST_REQUIRE(listed.status == 200U, listed.body);
  std::vector<std::string> pending;
  const auto listing = listed.json();
  for (const auto& key : listing.at("pending").as_array())
    pending.emplace_back(key.as_string());
  auto expected = w.pending_keys;
  std::sort(pending.begin(), pending.end());
  std::sort(expected.begin(), expected.end());
  BOOST_TEST(pending == expected, boost::test_tools::per_element());
  auto inv = s.get(approval_path("approval:finance:inv_1"));
  BOOST_TEST_REQUIRE(inv.status == 200U, inv.body);
  BOOST_TEST(inv.json().at("status").at("status") == "pending");
  BOOST_TEST(inv.json().at("grants").as_array().empty());
  auto run = s.get(run_path("run-fin-1"));
  BOOST_TEST_REQUIRE(run.status == 200U, run.body);
  BOOST_TEST(run.json().at("status") == "paused");
  // A decision through the whole write path, idempotent so that the dump
  // stays as it was.
  auto repeat = s.post_json("/api/approvals", done_decision, finance_token);
  BOOST_TEST_REQUIRE(repeat.status == 200U, repeat.body);
  BOOST_TEST(repeat.json().at("applied") == false);
  BOOST_TEST(s.after->load() == 0, "a paused run got past its approval");
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile)

BOOST_AUTO_TEST_CASE(every_answer_is_a_refusal_and_nothing_changes) {
  const settings s;
  std::cout << "hostile: seed " << s.seed << ", " << s.requests << " requests, "
            << s.threads << " threads (SIGNOFF_HOSTILE_SEED=" << s.seed
            << " SIGNOFF_HOSTILE_REQUESTS=" << s.requests
            << " reproduces this run)" << std::endl;
  temp_dir dir;
  const auto path = dir.str();

  hs::world w;
  {
    auto stores = open_stores(path);
    {
      live_server server{stores};
      w = seed(server);
    }
    close_lmdb_stores(stores);
  }
  std::size_t txn_before = 0;
  const auto before = dump_of(path, txn_before);
  std::size_t records = 0;
  for (const auto& [name, db] : before)
    records += db.size();
  BOOST_TEST_REQUIRE(records > 0U);

  tally t;
  const auto started = std::chrono::steady_clock::now();
  {
    auto stores = open_stores(path);
    {
      live_server server{stores};
      attack(server.port, w, s, t);
      check_still_serving(server, w);
    }
    close_lmdb_stores(stores);
  }
  const std::chrono::duration<double> took
    = std::chrono::steady_clock::now() - started;

  std::size_t txn_after = 0;
  const auto after = dump_of(path, txn_after);
  std::ostringstream figures;
  t.print(figures);
  figures << "lmdb: " << before.size() << " databases, " << records
          << " records; " << (txn_after - txn_before)
          << " commits while attacked; "
          << (before == after ? "identical" : "CHANGED") << " after "
          << took.count() << " s\n";
  std::cout << figures.str() << std::flush;

  BOOST_TEST(t.violations() == 0U);
  BOOST_TEST(first_difference(before, after) == "");
  BOOST_TEST(txn_after == txn_before, "something was committed");
  // However short the run, every category was tried.
  for (const auto& category : hs::categories())
    BOOST_TEST(
      t.sent(category) >= std::min<std::uint64_t>(
        s.requests / hs::categories().size(), hs::every_category_first),
      category);
}

BOOST_AUTO_TEST_CASE(past_its_connection_cap_the_server_answers_503) {
  temp_dir dir;
  auto stores = open_stores(dir.str());
  constexpr std::size_t cap = 4;
  {
    live_server server{stores, cap};
    auto w = seed(server);
    // As many clients as it serves at once, each served once so that it
    // surely counts them.
    std::vector<std::unique_ptr<hc::connection>> held;
    for (std::size_t i = 0; i < cap; ++i) {
      held.push_back(std::make_unique<hc::connection>(server.port));
      BOOST_TEST_REQUIRE(
        held.back()->send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
      BOOST_TEST_REQUIRE(held.back()->read().status == 200U);
    }
    // Every other one is told, and closed.
    for (int i = 0; i < 20; ++i) {
      auto turned_away = hc::send(server.port, "GET", "/health");
      BOOST_TEST(turned_away.status == 503U, turned_away.body);
      BOOST_TEST(turned_away.header("Connection") == "close");
      BOOST_TEST(turned_away.json().at("error") == "SERVER_BUSY");
    }
    const auto key = w.pending_keys.front();
    auto decision = server.post_json("/api/approvals",
                                     value{{"key", key}, {"action", "approve"}},
                                     admin_token);
    BOOST_TEST(decision.status == 503U, decision.body);
    BOOST_TEST(must(server.orch.get_approval(key))
                 .status_at(model::system_now())
                 .is_pending());
    // Room again once one of them leaves.
    BOOST_TEST_REQUIRE(held.back()->send(
      "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    BOOST_TEST(held.back()->read().status == 200U);
    BOOST_TEST(held.back()->closed());
    held.pop_back();
    BOOST_TEST(
      test::eventually([&] { return server.get("/health").status == 200U; }));
  }
  close_lmdb_stores(stores);
}

/// Skips a case under the asan preset, whose UndefinedBehaviorSanitizer
/// tests memory with a pipe before it checks an object's type: with no
/// descriptor left that check fails, and the sanitizer ends the process
/// for undefined behaviour there is none of.
boost::test_tools::assertion_result
descriptors_to_spare(boost::unit_test::test_unit_id) {
#if defined(__SANITIZE_ADDRESS__)
  boost::test_tools::assertion_result spare{false};
  spare.message() << "the sanitizers need descriptors of their own";
  return spare;
#else
  return true;
#endif
}

BOOST_AUTO_TEST_CASE(descriptors_run_out_and_the_server_comes_back,
                     *boost::unit_test::precondition(descriptors_to_spare)) {
  temp_dir dir;
  signoffd_process server{dir.path(),
                          "descriptors",
                          {"--data", (dir.path() / "data").string(), "--port",
                           "0", "--no-seed", "--max-connections", "100000"}};
  BOOST_TEST_REQUIRE(server.wait_until_listening(), server.err());
  // A few descriptors more than it holds now, and no more.
  const auto open_now = static_cast<rlim_t>(std::distance(
    std::filesystem::directory_iterator{"/proc/" + std::to_string(server.pid())
                                        + "/fd"},
    std::filesystem::directory_iterator{}));
  const rlimit limit{open_now + 16, open_now + 16};
  BOOST_TEST_REQUIRE(::prlimit(server.pid(), RLIMIT_NOFILE, &limit, nullptr)
                     == 0);
  // Idle clients past that: it takes them until it cannot.
  std::vector<std::unique_ptr<hc::connection>> idle;
  for (int i = 0; i < 48; ++i)
    idle.push_back(std::make_unique<hc::connection>(server.port));
  BOOST_TEST_REQUIRE(test::eventually([&] {
    return server.err().find("cannot accept connections") != std::string::npos;
  }));
  // Once they leave, it serves again.
  idle.clear();
  auto health = hc::send(server.port, "GET", "/health");
  BOOST_TEST(health.status == 200U, health.body << server.err());
  // One line when it cannot accept, one when it can again: never a line per
  // attempt.
  std::istringstream lines{server.err()};
  std::vector<std::string> episodes;
  for (std::string line; std::getline(lines, line);)
    if (line.find("accept") != std::string::npos)
      episodes.push_back(line);
  BOOST_TEST_REQUIRE(episodes.size() >= 2U, server.err());
  BOOST_TEST(episodes.size() % 2 == 0U, server.err());
  for (std::size_t i = 0; i < episodes.size(); ++i)
    BOOST_TEST((episodes[i].find(i % 2 == 0 ? "cannot accept connections"
                                            : "accepting connections again")
                != std::string::npos),
               episodes[i]);
  BOOST_TEST(server.terminate() == 0, server.err());
}

BOOST_AUTO_TEST_SUITE_END()
