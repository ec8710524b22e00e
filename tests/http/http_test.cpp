#define BOOST_TEST_MODULE signoff_http
#include <boost/test/unit_test.hpp>

// The HTTP adapter through a real server on a loopback port: every
// endpoint, every refusal (each leaves the stored state as it was), signed
// action links, the approver inbox, and signoffd end to end.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "actors/fixtures.hpp"
#include "client.hpp"
#include "fault_hook.hpp"
#include "notify/receiver.hpp"
#include "signoff/http/action_links.hpp"
#include "signoff/http/auth.hpp"
#include "signoff/http/server.hpp"
#include "signoff/model/limits.hpp"
#include "signoff/persistence/memory_store.hpp"
#include "signoffd_process.hpp"
#include "support/forwarding_stores.hpp"
#include "support/temp_dir.hpp"
#include "test_server.hpp"

using namespace signoff;
using namespace signoff::test;
namespace hc = signoff::test::http_client;
using boost::json::value;

namespace {

// --- Configuration every in-process server shares ---------------------------

/// Small, so oversized bodies are cheap to send.
constexpr std::size_t test_max_body = 64 * 1024;

/// A key with '%', '_', '/' and a space in it.
const std::string special_key = "approval:finance:100%_sure/or not";
const std::string special_run = "run/special%_\xC3\xBC"; // "run/special%_ü"
/// A key in UTF-8: "approval:finance:café/日本".
const std::string utf8_key
  = "approval:finance:caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC";

/// Internal text a failing store reports; no response may show it.
constexpr std::string_view internal_detail
  = "mdb_txn_commit /var/lib/signoff/data.mdb: Input/output error";

// --- Small helpers
// -------------------------------------------------------------

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::size_t count_of(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

#define SIGNOFF_CHECK_HAS(page, needle)                                        \
  BOOST_TEST(contains(page, needle), "the page lacks: " << (needle))
#define SIGNOFF_CHECK_LACKS(page, needle)                                      \
  BOOST_TEST(!contains(page, needle), "the page shows: " << (needle))

/// A JSON string's text, or the serialized value if it is not a string.
std::string text(const value& v) {
  if (const auto* s = v.if_string())
    return std::string{*s};
  return boost::json::serialize(v);
}

std::string join(std::vector<std::string> items, bool sorted = true) {
  if (sorted)
    std::sort(items.begin(), items.end());
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : " | ") + item;
  return out;
}

std::vector<std::string> strings_of(const value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.as_array())
    out.push_back(text(v));
  return out;
}

std::string inbox_path(std::string_view key) {
  return "/inbox/approval?key=" + hc::url_encode(key);
}

std::int64_t now_ms() {
  return model::to_millis(model::system_now());
}

hc::response get_as(std::uint16_t port, std::string_view target,
                    std::string_view token) {
  return hc::send(port, "GET", target, hc::bearer(token));
}

hc::response post_json_as(std::uint16_t port, std::string_view target,
                          std::string body, std::string_view token) {
  auto headers = hc::bearer(token);
  headers.emplace_back("Content-Type", "application/json");
  return hc::send(port, "POST", target, headers, std::move(body));
}

/// The `pending` list of a GET that must succeed.
std::vector<std::string> pending_of(std::uint16_t port, std::string_view target,
                                    std::string_view token) {
  auto r = get_as(port, target, token);
  BOOST_TEST_REQUIRE(r.status == 200U, target << ": " << r.body);
  return strings_of(r.json().at("pending"));
}

/// An error answer of the JSON API: `{"success": false, "error": type,
/// "message": ...}` and never internal text.
void check_error_body(const hc::response& r, std::string_view type) {
  BOOST_TEST(r.header("Content-Type") == "application/json");
  auto body = r.json();
  BOOST_TEST_REQUIRE(body.is_object(), "not a JSON object: " << r.body);
  const auto& obj = body.as_object();
  BOOST_TEST(obj.contains("success"));
  BOOST_TEST((obj.contains("success") && obj.at("success") == false));
  BOOST_TEST((obj.contains("error") ? text(obj.at("error")) : "") == type);
  BOOST_TEST((obj.contains("message") && obj.at("message").is_string()
              && !obj.at("message").as_string().empty()));
}

/// No response may carry internal failure text.
void check_no_internal_text(const hc::response& r) {
  SIGNOFF_CHECK_LACKS(r.body, internal_detail);
  SIGNOFF_CHECK_LACKS(r.body, "std::");
  SIGNOFF_CHECK_LACKS(r.body, "exception");
  SIGNOFF_CHECK_LACKS(r.body, "what()");
}

// --- The test workflow
// ---------------------------------------------------------

/// The runs every in-process server starts with, each paused on its key.
std::vector<seeded_run> seed_runs() {
  return {
    gate_run("run-fin-1", "approval:finance:inv_1",
             "Invoices above 5,000 need finance",
             {{"vendor", "Wayne <Enterprises> & Co"}, {"amount", 7200}}),
    gate_run("run-fin-2", "approval:finance:inv_2",
             "Invoices above 5,000 need finance",
             {{"vendor", "Acme"}, {"amount", 5100}}),
    gate_run("run-quorum", "approval:finance:q_2",
             "Large payments need two approvers", {{"amount", 250000}}, 2),
    gate_run(special_run, special_key, "A key with odd characters",
             {{"note", "100% sure"}}),
    gate_run("run-utf8", utf8_key, "A key in Unicode",
             {{"city", "Z\xC3\xBCrich"}}),
    // A double, as a price computed by code is.
    gate_run("run-order-1", "approval:order:1", "Orders need a manager",
             {{"total", 15000.0}}),
    gate_run("run-lookalike", "approval:finance_x",
             "Looks like finance but is not under its prefix", {{"amount", 1}}),
    {"order", "run-manager-1", "approval:manager:ord_1",
     test::order_input("ord_1")},
  };
}

/// The seeded keys a token limited to `finance_prefix` may see.
std::vector<std::string> finance_keys() {
  return {"approval:finance:inv_1", "approval:finance:inv_2",
          "approval:finance:q_2", special_key, utf8_key};
}

// --- A store that fails on demand
// ------------------------------------------------

struct fault_switch {
  std::atomic<bool> fail_decide{false};
  std::atomic<bool> fail_reads{false};
  /// The error type the store reports; set before switching a fault on.
  std::string type{model::error_type::storage_error};
};

/// The memory store, failing decisions or reads with internal text while
/// told to.
class faulty_store final : public test::forwarding_approval_store {
public:
  faulty_store(std::shared_ptr<persistence::approval_store> inner,
               std::shared_ptr<fault_switch> faults)
      : forwarding_approval_store(std::move(inner)),
        faults_(std::move(faults)) {}

  model::result<void> apply(persistence::approval_change change) override {
    // A decision changes a record that exists; a run's first reach of a
    // key creates one, and goes through.
    if (faults_->fail_decide && change.before)
      return failure();
    return forwarding_approval_store::apply(std::move(change));
  }
  model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const override {
    if (faults_->fail_reads)
      return failure();
    return forwarding_approval_store::find_approval(key);
  }

private:
  [[nodiscard]] model::error failure() const {
    return model::make_error(faults_->type, std::string{internal_detail});
  }

  std::shared_ptr<fault_switch> faults_;
};

// --- The in-process server
// ------------------------------------------------------

struct server_config {
  bool no_auth = false;
  std::string link_secret{test_link_secret};
  /// Connections served at once (the default's, unless a test needs few).
  std::size_t max_connections = http::server_options{}.max_connections;
};

/// An orchestrator over memory stores with the seeded runs paused, and the
/// HTTP server over it on a free loopback port. Tokens: admin (everything),
/// finance-bot (read + approve under "approval:finance:"), auditor (read),
/// finance-ops (read + cancel-run under "approval:finance:"), finance-admin
/// (everything under "approval:finance:").
class server_fixture {
public:
  explicit server_fixture(server_config config = {})
      : orch(orchestrator_options_for(faults)) {
    orch.register_workflow("gate", gate_workflow(after));
    orch.register_workflow(
      "order", test::order_workflow(std::make_shared<test::order_counters>()));
    for (const auto& run : runs) {
      auto started = orch.execute(run.workflow, run.input, {run.run_id, {}});
      BOOST_REQUIRE(started.is_ok());
      BOOST_REQUIRE(started->status == model::run_status::paused);
    }
    auto options = test::test_server_options(test_max_body, config.link_secret,
                                             config.no_auth);
    options.max_connections = config.max_connections;
    options.logger = [log = log](std::string_view line) {
      std::lock_guard guard{log->mutex};
      log->lines.emplace_back(line);
    };
    server = std::make_unique<http::http_server>(orch, std::move(options));
    auto started = server->start();
    BOOST_REQUIRE(started.is_ok());
    port = server->port();
    BOOST_REQUIRE(port != 0);
  }
  ~server_fixture() {
    if (server)
      server->stop();
  }
  server_fixture(const server_fixture&) = delete;
  server_fixture& operator=(const server_fixture&) = delete;

  // JSON API calls.
  hc::response get(std::string_view target,
                   std::string_view token = admin_token) const {
    return get_as(port, target, token);
  }
  hc::response post_json(std::string_view target, std::string body,
                         std::string_view token = admin_token) const {
    return post_json_as(port, target, std::move(body), token);
  }
  hc::response decide(const value& body,
                      std::string_view token = admin_token) const {
    return post_json("/api/approvals", boost::json::serialize(body), token);
  }
  value approval(std::string_view key) const {
    auto r = get(approval_path(key));
    BOOST_TEST_REQUIRE(r.status == 200U, key << ": " << r.body);
    return r.json();
  }
  value trail(std::string_view key) const {
    auto r = get(approval_path(key) + "/audit");
    BOOST_TEST_REQUIRE(r.status == 200U, key << ": " << r.body);
    return r.json().at("trail");
  }
  value run(std::string_view run_id) const {
    auto r = get(run_path(run_id));
    BOOST_TEST_REQUIRE(r.status == 200U, run_id << ": " << r.body);
    return r.json();
  }
  std::vector<std::string> pending(std::string_view prefix,
                                   std::string_view token = admin_token) const {
    return pending_of(port,
                      prefix.empty()
                        ? std::string{"/api/approvals"}
                        : "/api/approvals?prefix=" + hc::url_encode(prefix),
                      token);
  }

  // Inbox calls, authenticated by the cookie (none for an empty token).
  hc::response page(std::string_view target, std::string_view token) const {
    hc::header_list headers;
    if (!token.empty())
      headers.emplace_back("Cookie", "signoff_token=" + std::string{token});
    return hc::send(port, "GET", target, headers);
  }
  /// POSTs the form `body` as an inbox page of `token`'s would: with the
  /// cookie, and the page's form token first.
  hc::response post_form(std::string_view target, const std::string& body,
                         std::string_view token) const {
    return send_form(target,
                     "form=" + form_token_for(token)
                       + (body.empty() ? "" : "&" + body),
                     token);
  }
  /// POSTs `body` as it is, with the cookie of `token` and `headers`.
  hc::response send_form(std::string_view target, std::string body,
                         std::string_view token,
                         hc::header_list headers = {}) const {
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    if (!token.empty())
      headers.emplace_back("Cookie", "signoff_token=" + std::string{token});
    return hc::send(port, "POST", target, headers, std::move(body));
  }
  /// What the server logged so far.
  std::vector<std::string> logged() const {
    std::lock_guard guard{log->mutex};
    return log->lines;
  }

  /// Everything a refused request must leave as it was: each seeded
  /// approval, its audit trail and its run, both pending lists, and how
  /// often a run got past its approval.
  std::string snapshot() const {
    std::string out;
    auto add = [&](const std::string& target) {
      auto r = get(target);
      out += target + " " + std::to_string(r.status) + " " + r.body + "\n";
    };
    for (const auto& run : runs) {
      add(approval_path(run.key));
      add(approval_path(run.key) + "/audit");
      add(run_path(run.run_id));
    }
    add("/api/approvals");
    add("/api/workflows");
    out += "after=" + std::to_string(after->load());
    return out;
  }

  /// Sends a request that must be refused with `status` (and, for JSON
  /// answers, the error `type`), and checks nothing stored changed.
  hc::response expect_refused(const std::string& what, unsigned status,
                              std::string_view type,
                              const std::function<hc::response()>& send) const {
    BOOST_TEST_INFO_SCOPE(what);
    const auto before = snapshot();
    BOOST_TEST(!contains(before, " 404 "), "the snapshot itself failed");
    auto r = send();
    BOOST_TEST(r.status == status,
               what << " answered " << r.status << ": " << r.body);
    if (!type.empty() && r.status == status)
      check_error_body(r, type);
    check_no_internal_text(r);
    BOOST_TEST(snapshot() == before, what << " changed the stored state");
    return r;
  }

  struct server_log {
    std::mutex mutex;
    std::vector<std::string> lines;
  };
  std::shared_ptr<server_log> log = std::make_shared<server_log>();
  std::shared_ptr<std::atomic<int>> after
    = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<fault_switch> faults = std::make_shared<fault_switch>();
  std::vector<seeded_run> runs = seed_runs();
  orchestrator orch;
  std::unique_ptr<http::http_server> server;
  std::uint16_t port = 0;

private:
  static orchestrator_options
  orchestrator_options_for(const std::shared_ptr<fault_switch>& faults) {
    orchestrator_options options;
    options.approval_store = std::make_shared<faulty_store>(
      persistence::make_memory_approval_store(), faults);
    options.workflow_state_store
      = persistence::make_memory_workflow_state_store();
    return options;
  }
};

struct api_fixture : server_fixture {};

struct no_auth_fixture : server_fixture {
  no_auth_fixture() : server_fixture(server_config{true, {}}) {}
};

struct no_links_fixture : server_fixture {
  no_links_fixture() : server_fixture(server_config{false, {}}) {}
};

} // namespace

// ============================================================================
// api: the JSON endpoints and every error status
// ============================================================================

BOOST_AUTO_TEST_SUITE(api)

BOOST_FIXTURE_TEST_CASE(health_needs_no_token, api_fixture) {
  auto r = get("/health", "");
  BOOST_TEST(r.status == 200U);
  BOOST_TEST(r.header("Content-Type") == "application/json");
  BOOST_TEST(r.json() == (value{{"status", "ok"}}));
  auto root = get("/", "");
  BOOST_TEST(root.status == 303U);
  BOOST_TEST(root.header("Location") == "/inbox");
  expect_refused("an unknown path", 404, "NOT_FOUND",
                 [&] { return get("/no/such/thing", ""); });
  expect_refused("an unknown API path", 404, "NOT_FOUND",
                 [&] { return get("/api/nothing"); });
  expect_refused("DELETE on an approval", 404, "NOT_FOUND", [&] {
    return hc::send(port, "DELETE", approval_path("approval:finance:inv_1"),
                    hc::bearer(admin_token));
  });
}

BOOST_FIXTURE_TEST_CASE(lists_pending_approvals_by_literal_prefix,
                        api_fixture) {
  std::vector<std::string> all;
  for (const auto& run : runs)
    all.push_back(run.key);
  BOOST_TEST(join(pending("")) == join(all));
  BOOST_TEST(join(pending(finance_prefix)) == join(finance_keys()));
  BOOST_TEST(join(pending("approval:order:")) == "approval:order:1");
  // '%' and '_' are literal characters, not wildcards.
  BOOST_TEST(join(pending("approval:finance:100%")) == special_key);
  BOOST_TEST(join(pending("approval:finance_")) == "approval:finance_x");
  BOOST_TEST(join(pending("approval:finance:caf\xC3\xA9")) == utf8_key);
  BOOST_TEST(pending("approval:nothing:").empty());
  // A token sees only what it may read, whatever prefix it asks for.
  BOOST_TEST(join(pending("", finance_token)) == join(finance_keys()));
  BOOST_TEST(pending("approval:order:", finance_token).empty());
  BOOST_TEST(join(pending("", reader_token)) == join(all));
  // Decided approvals leave the list.
  BOOST_TEST_REQUIRE(
    decide({{"key", "approval:order:1"}, {"action", "approve"}}).status
    == 200U);
  BOOST_TEST(pending("approval:order:").empty());
}

BOOST_FIXTURE_TEST_CASE(reads_one_approval_and_its_audit_trail, api_fixture) {
  auto r = get(approval_path("approval:finance:inv_1"), finance_token);
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  BOOST_TEST(r.header("Content-Type") == "application/json");
  auto a = r.json();
  BOOST_TEST(text(a.at("key")) == "approval:finance:inv_1");
  BOOST_TEST(a.at("status") == (value{{"status", "pending"}}));
  BOOST_TEST(text(a.at("pendingReason"))
             == "Invoices above 5,000 need finance");
  BOOST_TEST(a.at("metadata") == runs[0].input.at("metadata"));
  BOOST_TEST(a.at("quorum").to_number<int>() == 1);
  BOOST_TEST(a.at("expiresAt").to_number<std::int64_t>() > now_ms());
  // No escalation levels or reminders: the current deadline is the last.
  BOOST_TEST(a.at("finalExpiresAt") == a.at("expiresAt"));
  BOOST_TEST(a.at("nextReminderAt").is_null());
  BOOST_TEST(a.at("escalationLevel").to_number<int>() == 0);
  BOOST_TEST(a.at("createdAt").to_number<std::int64_t>() <= now_ms());
  BOOST_TEST(a.at("grants").as_array().empty());
  BOOST_TEST(!a.as_object().contains("version"));

  auto audit
    = get(approval_path("approval:finance:inv_1") + "/audit", reader_token);
  BOOST_TEST_REQUIRE(audit.status == 200U, audit.body);
  const auto entries = audit.json().at("trail").as_array();
  BOOST_TEST_REQUIRE(entries.size() == 1U);
  BOOST_TEST(text(entries[0].at("key")) == "approval:finance:inv_1");
  BOOST_TEST(entries[0].at("sequence").to_number<int>() == 1);
  BOOST_TEST(text(entries[0].at("action")) == "created");
  BOOST_TEST(text(entries[0].at("actor")) == "run:run-fin-1");

  expect_refused("an unknown key", 404, "NOT_FOUND", [&] {
    return get(approval_path("approval:finance:missing"));
  });
  expect_refused("the audit trail of an unknown key", 404, "NOT_FOUND", [&] {
    return get(approval_path("approval:finance:missing") + "/audit");
  });
  expect_refused("an unknown sub-resource", 404, "NOT_FOUND", [&] {
    return get(approval_path("approval:finance:inv_1") + "/grants");
  });
}

BOOST_FIXTURE_TEST_CASE(keys_with_percent_underscore_slash_and_unicode,
                        api_fixture) {
  for (const auto& [key, run_id] :
       std::vector<std::pair<std::string, std::string>>{
         {special_key, special_run}, {utf8_key, "run-utf8"}}) {
    BOOST_TEST_INFO_SCOPE(key);
    auto a = approval(key);
    BOOST_TEST(text(a.at("key")) == key);
    auto entries = trail(key);
    BOOST_TEST_REQUIRE(entries.as_array().size() == 1U);
    BOOST_TEST(text(entries.at(0).at("key")) == key);
    BOOST_TEST(text(entries.at(0).at("actor")) == "run:" + run_id);
    auto r = run(run_id);
    BOOST_TEST(text(r.at("runId")) == run_id);
    BOOST_TEST(join(strings_of(r.at("pendingApprovals"))) == key);
  }

  // Decide the special key by its exact bytes in the body.
  auto approved = decide(
    {{"key", special_key}, {"action", "approve"}, {"value", {{"sure", true}}}},
    finance_token);
  BOOST_TEST_REQUIRE(approved.status == 200U, approved.body);
  BOOST_TEST(text(approved.json().at("approval").at("key")) == special_key);
  BOOST_TEST(join(strings_of(approved.json().at("resumedWorkflows")))
             == special_run);
  auto finished = run(special_run);
  BOOST_TEST(text(finished.at("status")) == "completed");
  BOOST_TEST(finished.at("result").at("value").at("value")
             == (value{{"sure", true}}));

  // The UTF-8 key, written with JSON escapes in the body.
  auto rejected = post_json(
    "/api/approvals", R"({"key":"approval:finance:caf\u00e9/\u65e5\u672c",)"
                      R"("action":"reject","reason":"Pas cette fois"})");
  BOOST_TEST_REQUIRE(rejected.status == 200U, rejected.body);
  BOOST_TEST(text(approval(utf8_key).at("status").at("status")) == "rejected");
  BOOST_TEST(text(run("run-utf8").at("result").at("value").at("branch"))
             == "APPROVAL_REJECTED");

  // An unescaped '/' splits the path: that is not the key.
  expect_refused("a key with a raw slash", 404, "", [&] {
    return get("/api/approvals/approval:finance:100%25_sure/or%20not");
  });
  expect_refused("a malformed escape", 400, "INVALID_ARGUMENT",
                 [&] { return get("/api/approvals/approval%zzfinance"); });
  expect_refused("a truncated escape", 400, "INVALID_ARGUMENT",
                 [&] { return get("/api/approvals/approval%4"); });
  expect_refused("a malformed query", 400, "INVALID_ARGUMENT",
                 [&] { return get("/api/approvals?prefix=%G1"); });
  // Found by fuzz/http_request: a key that is not UTF-8 came back in the
  // error message, and the answer was not JSON. Raw or escaped, such URLs
  // are refused before they reach a handler.
  for (const std::string path :
       {"/api/approvals/approval%E4x", "/api/approvals/approval\xE4x",
        "/api/approvals?prefix=%C0%AF", "/api/workflows/run%ED%A0%80"}) {
    auto r = expect_refused("a URL that is not UTF-8", 400, "INVALID_ARGUMENT",
                            [&] { return get(path); });
    BOOST_TEST(contains(text(r.json().at("message")), "malformed"), r.body);
  }
}

BOOST_FIXTURE_TEST_CASE(approve_acts_as_the_token_and_resumes_the_run,
                        api_fixture) {
  const value body{{"key", "approval:finance:inv_1"},
                   {"action", "approve"},
                   {"value", {{"approvedBy", "jane"}}},
                   {"actorId", "someone-else@example.com"}};
  auto r = decide(body, finance_token);
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  auto answer = r.json();
  BOOST_TEST(answer.at("success") == true);
  BOOST_TEST(text(answer.at("message")) == "approval approved");
  BOOST_TEST(text(answer.at("actorId")) == "finance-bot");
  BOOST_TEST(answer.at("applied") == true);
  const auto& status = answer.at("approval").at("status");
  BOOST_TEST(text(status.at("status")) == "approved");
  // The actor is the token's identity, not what the body claims.
  BOOST_TEST(text(status.at("decidedBy")) == "finance-bot");
  BOOST_TEST(status.at("value") == (value{{"approvedBy", "jane"}}));
  BOOST_TEST(
    std::abs(status.at("decidedAt").to_number<std::int64_t>() - now_ms())
    < 60'000);
  BOOST_TEST(join(strings_of(answer.at("resumedWorkflows"))) == "run-fin-1");

  auto finished = run("run-fin-1");
  BOOST_TEST(text(finished.at("status")) == "completed");
  BOOST_TEST(finished.at("result")
             == (value{{"ok", true},
                       {"value",
                        {{"branch", "approved"},
                         {"value", {{"approvedBy", "jane"}}}}}}));
  BOOST_TEST(after->load() == 1);
  auto entries = trail("approval:finance:inv_1").as_array();
  BOOST_TEST_REQUIRE(entries.size() == 2U);
  BOOST_TEST(text(entries[1].at("action")) == "approved");
  BOOST_TEST(text(entries[1].at("actor")) == "finance-bot");

  // The same decision again is acknowledged and changes nothing.
  const auto before = snapshot();
  auto again = decide(body, finance_token);
  BOOST_TEST(again.status == 200U, again.body);
  BOOST_TEST(again.json().at("applied") == false);
  BOOST_TEST(snapshot() == before);
}

// One call decides a list of keys, each on its own: its own audit entry,
// its own outcome, in the caller's order.
BOOST_FIXTURE_TEST_CASE(a_bulk_decision_reports_each_key, api_fixture) {
  auto r = post_json("/api/approvals/bulk",
                     R"({"keys":["approval:finance:inv_1","approval:order:1",)"
                     R"("approval:nobody"],"action":"approve","value":1})");
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  const auto answer = r.json();
  BOOST_TEST(answer.at("decided") == 2);
  BOOST_TEST(answer.at("failed") == 1);
  const auto& lines = answer.at("results").as_array();
  BOOST_TEST_REQUIRE(lines.size() == 3U);
  BOOST_TEST(text(lines[0].at("key")) == "approval:finance:inv_1");
  BOOST_TEST(text(lines[0].at("status")) == "approved");
  BOOST_TEST(join(strings_of(lines[0].at("resumedWorkflows"))) == "run-fin-1");
  BOOST_TEST(text(lines[1].at("key")) == "approval:order:1");
  BOOST_TEST(lines[1].at("success") == true);
  BOOST_TEST(text(lines[2].at("error")) == "NOT_FOUND");
  BOOST_TEST(text(run("run-fin-1").at("status")) == "completed");
  BOOST_TEST(text(run("run-order-1").at("status")) == "completed");
  for (const auto* key : {"approval:finance:inv_1", "approval:order:1"}) {
    auto entries = trail(key).as_array();
    BOOST_TEST_REQUIRE(entries.size() == 2U, key);
    BOOST_TEST(text(entries[1].at("actor")) == "admin");
  }
}

// Under a prefix: what is pending there now, as far as the token may read
// it; a key it may read but not decide is reported and left alone.
BOOST_FIXTURE_TEST_CASE(a_bulk_decision_under_a_prefix_checks_each_key,
                        api_fixture) {
  auto r
    = post_json("/api/approvals/bulk",
                R"({"prefix":"approval:","action":"approve"})", finance_token);
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  const auto answer = r.json();
  BOOST_TEST(text(answer.at("actorId")) == "finance-bot");
  std::vector<std::string> keys;
  for (const auto& line : answer.at("results").as_array()) {
    keys.push_back(text(line.at("key")));
    BOOST_TEST(line.at("success") == true, line);
  }
  BOOST_TEST(join(keys) == join(finance_keys()));
  BOOST_TEST(pending("approval:finance:", admin_token)
             == std::vector<std::string>{"approval:finance:q_2"});
  BOOST_TEST(join(pending("approval:order:")) == "approval:order:1");

  // The reader may read every key and decide none.
  const auto before = snapshot();
  auto refused = post_json("/api/approvals/bulk",
                           R"({"prefix":"approval:order:","action":"reject",)"
                           R"("reason":"no"})",
                           reader_token);
  BOOST_TEST_REQUIRE(refused.status == 200U, refused.body);
  const auto refusal = refused.json();
  BOOST_TEST(refusal.at("decided") == 0);
  const auto& line = refusal.at("results").at(0);
  BOOST_TEST(text(line.at("error")) == "FORBIDDEN");
  BOOST_TEST(snapshot() == before);
}

BOOST_FIXTURE_TEST_CASE(a_malformed_bulk_decision_changes_nothing,
                        api_fixture) {
  for (const auto& [what, body] :
       std::vector<std::pair<std::string, std::string>>{
         {"no keys nor prefix", R"({"action":"approve"})"},
         {"keys and prefix",
          R"({"keys":["a"],"prefix":"a","action":"approve"})"},
         {"a key", R"({"key":"a","keys":["a"],"action":"approve"})"},
         {"keys not an array",
          R"({"keys":"approval:order:1","action":"approve"})"},
         {"a key not a string",
          R"({"keys":["approval:order:1",7],"action":"approve"})"},
         {"no keys", R"({"keys":[],"action":"approve"})"},
         {"an empty key",
          R"({"keys":["approval:order:1",""],"action":"approve"})"},
         {"a key twice", R"({"keys":["approval:order:1","approval:order:1"],)"
                         R"("action":"approve"})"},
         {"a rejection without reason",
          R"({"keys":["approval:order:1"],"action":"reject"})"},
         {"an unknown action",
          R"({"keys":["approval:order:1"],"action":"ok"})"},
         {"not JSON", "{"}}) {
    expect_refused(what, 400U, "INVALID_ARGUMENT",
                   [&] { return post_json("/api/approvals/bulk", body); });
  }
  std::string many = R"({"action":"approve","keys":[)";
  for (std::size_t i = 0; i <= model::max_bulk_keys; ++i)
    many += (i == 0 ? "\"" : ",\"") + std::to_string(i) + "\"";
  many += "]}";
  expect_refused("too many keys", 400U, "INVALID_ARGUMENT",
                 [&] { return post_json("/api/approvals/bulk", many); });
  expect_refused("a GET", 404U, "NOT_FOUND",
                 [&] { return get("/api/approvals/bulk/x"); });
}

BOOST_FIXTURE_TEST_CASE(reject_edit_and_cancel, api_fixture) {
  auto rejected = decide({{"key", "approval:finance:inv_2"},
                          {"action", "reject"},
                          {"reason", "Duplicate invoice"}});
  BOOST_TEST_REQUIRE(rejected.status == 200U, rejected.body);
  BOOST_TEST(text(rejected.json().at("message")) == "approval rejected");
  auto a = approval("approval:finance:inv_2");
  BOOST_TEST(text(a.at("status").at("status")) == "rejected");
  BOOST_TEST(text(a.at("status").at("reason")) == "Duplicate invoice");
  BOOST_TEST(text(a.at("status").at("decidedBy")) == "admin");
  BOOST_TEST(text(run("run-fin-2").at("result").at("value").at("branch"))
             == "APPROVAL_REJECTED");

  auto edited = decide({{"key", "approval:order:1"},
                        {"action", "edit"},
                        {"value", {{"total", 900}}}});
  BOOST_TEST_REQUIRE(edited.status == 200U, edited.body);
  BOOST_TEST(text(approval("approval:order:1").at("status").at("status"))
             == "edited");
  BOOST_TEST(run("run-order-1").at("result").at("value")
             == (value{{"branch", "approved"}, {"value", {{"total", 900}}}}));

  auto cancelled = decide({{"key", "approval:finance_x"},
                           {"action", "cancel"},
                           {"reason", "Not needed"}});
  BOOST_TEST_REQUIRE(cancelled.status == 200U, cancelled.body);
  auto c = approval("approval:finance_x");
  BOOST_TEST(text(c.at("status").at("status")) == "cancelled");
  BOOST_TEST(text(c.at("status").at("decidedBy")) == "admin");
  BOOST_TEST(text(run("run-lookalike").at("result").at("value").at("branch"))
             == "APPROVAL_CANCELLED");
  BOOST_TEST(after->load() == 3);
}

BOOST_FIXTURE_TEST_CASE(a_quorum_counts_distinct_tokens, api_fixture) {
  auto first = decide({{"key", "approval:finance:q_2"}, {"action", "approve"}},
                      finance_token);
  BOOST_TEST_REQUIRE(first.status == 200U, first.body);
  BOOST_TEST(text(first.json().at("message")) == "grant recorded");
  BOOST_TEST(text(first.json().at("approval").at("status").at("status"))
             == "pending");
  BOOST_TEST(first.json().at("resumedWorkflows").as_array().empty());
  BOOST_TEST(text(run("run-quorum").at("status")) == "paused");

  auto second
    = decide({{"key", "approval:finance:q_2"}, {"action", "approve"}});
  BOOST_TEST_REQUIRE(second.status == 200U, second.body);
  auto a = approval("approval:finance:q_2");
  BOOST_TEST(text(a.at("status").at("status")) == "approved");
  std::vector<std::string> approvers;
  for (const auto& g : a.at("grants").as_array())
    approvers.push_back(text(g.at("approver")));
  BOOST_TEST(join(approvers) == "admin | finance-bot");
  BOOST_TEST(text(run("run-quorum").at("status")) == "completed");
}

BOOST_FIXTURE_TEST_CASE(already_decided_is_409_naming_the_winner, api_fixture) {
  BOOST_TEST_REQUIRE(decide({{"key", "approval:finance:inv_1"},
                             {"action", "approve"},
                             {"value", {{"ok", 1}}}},
                            finance_token)
                       .status
                     == 200U);
  const auto decided = approval("approval:finance:inv_1").at("status");
  auto r = expect_refused("a reject after the approval", 409,
                          "APPROVAL_CONFLICT", [&] {
                            return decide({{"key", "approval:finance:inv_1"},
                                           {"action", "reject"},
                                           {"reason", "Too late"}});
                          });
  const auto winner = r.json().at("winner");
  BOOST_TEST(text(winner.at("status")) == "approved");
  BOOST_TEST(text(winner.at("decidedBy")) == "finance-bot");
  BOOST_TEST(winner.at("decidedAt") == decided.at("decidedAt"));
  BOOST_TEST(winner.at("value") == (value{{"ok", 1}}));
  BOOST_TEST(contains(text(r.json().at("message")), "finance-bot"));

  expect_refused("another approver's grant", 409, "APPROVAL_CONFLICT", [&] {
    return decide({{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  });
  expect_refused("an edit", 409, "APPROVAL_CONFLICT", [&] {
    return decide({{"key", "approval:finance:inv_1"},
                   {"action", "edit"},
                   {"value", {{"ok", 2}}}});
  });
  expect_refused("a cancel", 409, "APPROVAL_CONFLICT", [&] {
    return decide({{"key", "approval:finance:inv_1"}, {"action", "cancel"}});
  });
  // The same token with another value: still the first decision that won.
  expect_refused("the winner changing its value", 409, "APPROVAL_CONFLICT",
                 [&] {
                   return decide({{"key", "approval:finance:inv_1"},
                                  {"action", "approve"},
                                  {"value", {{"ok", 2}}}},
                                 finance_token);
                 });
}

BOOST_FIXTURE_TEST_CASE(an_expired_approval_is_409_naming_the_expiry,
                        api_fixture) {
  auto started = orch.execute("gate",
                              value{{"key", "approval:finance:late"},
                                    {"reason", "Too slow"},
                                    {"metadata", nullptr},
                                    {"expiresInMs", 0}},
                              {"run-late", {}});
  BOOST_TEST_REQUIRE(started.is_ok());
  BOOST_TEST_REQUIRE(orch.expire_due().is_ok());
  BOOST_TEST(text(run("run-late").at("status")) == "completed");
  BOOST_TEST(text(run("run-late").at("result").at("value").at("branch"))
             == "APPROVAL_EXPIRED");
  auto late_state = [&] {
    return get(approval_path("approval:finance:late")).body
           + get(approval_path("approval:finance:late") + "/audit").body
           + get(run_path("run-late")).body;
  };
  const auto before = late_state();
  auto r = expect_refused(
    "approving an expired approval", 409, "APPROVAL_CONFLICT", [&] {
      return decide({{"key", "approval:finance:late"}, {"action", "approve"}},
                    finance_token);
    });
  BOOST_TEST(text(r.json().at("winner").at("status")) == "expired");
  BOOST_TEST(text(r.json().at("winner").at("decidedBy")) == "system");
  BOOST_TEST(late_state() == before);
}

BOOST_FIXTURE_TEST_CASE(bad_input_is_400_and_changes_nothing, api_fixture) {
  const std::string key = "approval:finance:inv_1";
  const std::string long_key = "approval:finance:" + std::string(480, 'k');
  struct bad_body {
    std::string what;
    std::string body;
    std::string message_part;
  };
  const std::vector<bad_body> bodies{
    {"malformed JSON", R"({"key":"approval:finance:inv_1","action":)",
     "not valid JSON"},
    {"an empty body", "", "not valid JSON"},
    {"trailing garbage", R"({"key":"x","action":"approve"} and more)",
     "not valid JSON"},
    {"invalid UTF-8",
     "{\"key\":\"approval:finance:inv_1\xff\","
     "\"action\":\"approve\"}",
     "not valid JSON"},
    {"an array", R"([{"key":"approval:finance:inv_1","action":"approve"}])",
     "JSON object"},
    {"a string", R"("approve")", "JSON object"},
    {"no key", R"({"action":"approve"})", "'key'"},
    {"a null key", R"({"key":null,"action":"approve"})", "'key'"},
    {"a numeric key", R"({"key":42,"action":"approve"})", "'key'"},
    {"an empty key", R"({"key":"","action":"approve"})", "'key'"},
    {"a key over the size limit",
     R"({"key":")" + long_key + R"(","action":"approve"})", "key"},
    {"no action", R"({"key":"approval:finance:inv_1"})", "'action'"},
    {"a numeric action", R"({"key":"approval:finance:inv_1","action":1})",
     "'action'"},
    {"an unknown action",
     R"({"key":"approval:finance:inv_1","action":"approve-all"})",
     "unknown action"},
    {"a reject without reason",
     R"({"key":"approval:finance:inv_1","action":"reject"})", "'reason'"},
    {"a reject with an empty reason",
     R"({"key":"approval:finance:inv_1","action":"reject","reason":""})",
     "'reason'"},
    {"a numeric reason",
     R"({"key":"approval:finance:inv_1","action":"reject","reason":42})",
     "'reason'"},
    {"an edit without value",
     R"({"key":"approval:finance:inv_1","action":"edit"})", "'value'"},
    {"a numeric actorId",
     R"({"key":"approval:finance:inv_1","action":"approve","actorId":7})",
     "'actorId'"},
  };
  for (const auto& bad : bodies) {
    auto r = expect_refused(bad.what, 400, "INVALID_ARGUMENT", [&] {
      return post_json("/api/approvals", bad.body);
    });
    BOOST_TEST(contains(text(r.json().at("message")), bad.message_part),
               bad.what << ": " << r.body);
  }
  // The same refusals reach a restricted token before its permissions do.
  expect_refused(
    "malformed JSON from the finance token", 400, "INVALID_ARGUMENT",
    [&] { return post_json("/api/approvals", "{", finance_token); });
  BOOST_TEST(text(approval(key).at("status").at("status")) == "pending");
}

BOOST_FIXTURE_TEST_CASE(an_unknown_key_is_404_and_is_not_created, api_fixture) {
  for (const std::string action : {"approve", "reject", "edit", "cancel"}) {
    expect_refused("deciding an unknown key: " + action, 404, "NOT_FOUND", [&] {
      return decide({{"key", "approval:finance:nobody-asked"},
                     {"action", action},
                     {"reason", "why"},
                     {"value", {{"v", 1}}}});
    });
  }
  expect_refused("reading it afterwards", 404, "NOT_FOUND", [&] {
    return get(approval_path("approval:finance:nobody-asked"));
  });
}

BOOST_FIXTURE_TEST_CASE(a_missing_or_unknown_token_is_401, api_fixture) {
  const std::string approve_body = boost::json::serialize(
    value{{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  struct call {
    std::string method;
    std::string target;
    std::string body;
  };
  const std::vector<call> calls{
    {"GET", "/api/approvals", ""},
    {"GET", "/api/approvals?prefix=approval%3A", ""},
    {"GET", approval_path("approval:finance:inv_1"), ""},
    {"GET", approval_path("approval:finance:inv_1") + "/audit", ""},
    {"GET", approval_path("approval:finance:missing"), ""},
    {"POST", "/api/approvals", approve_body},
    {"GET", "/api/workflows", ""},
    {"GET", "/api/workflows?name=gate", ""},
    {"GET", run_path("run-fin-1"), ""},
    {"POST", run_path("run-fin-1") + "/cancel", R"({"reason":"x"})"},
  };
  const std::vector<std::pair<std::string, hc::header_list>> credentials{
    {"no token", {}},
    {"an unknown token", hc::bearer("not-a-token-0123456789")},
    {"an empty bearer token", {{"Authorization", "Bearer "}}},
    {"another scheme",
     {{"Authorization", "Basic " + std::string{admin_token}}}},
    {"a token with trailing bytes", hc::bearer(std::string{admin_token} + "x")},
    // The API takes no cookies: a page cannot make it decide.
    {"the inbox cookie",
     {{"Cookie", "signoff_token=" + std::string{admin_token}}}},
  };
  for (const auto& c : calls)
    for (const auto& [who, headers] : credentials) {
      auto with_type = headers;
      with_type.emplace_back("Content-Type", "application/json");
      auto r = expect_refused(
        c.method + " " + c.target + " with " + who, 401, "UNAUTHORIZED",
        [&] { return hc::send(port, c.method, c.target, with_type, c.body); });
      BOOST_TEST(r.header("WWW-Authenticate") == "Bearer");
    }
}

BOOST_FIXTURE_TEST_CASE(a_token_outside_its_prefix_or_actions_is_403,
                        api_fixture) {
  auto refused
    = [&](const std::string& what, const std::function<hc::response()>& send) {
        expect_refused(what, 403, "FORBIDDEN", send);
      };
  refused("finance reads an order", [&] {
    return get(approval_path("approval:order:1"), finance_token);
  });
  refused("finance reads an order's audit trail", [&] {
    return get(approval_path("approval:order:1") + "/audit", finance_token);
  });
  refused("finance reads a look-alike key", [&] {
    return get(approval_path("approval:finance_x"), finance_token);
  });
  // Outside the prefix, existence is not revealed: 403, not 404.
  refused("finance reads an unknown order", [&] {
    return get(approval_path("approval:order:missing"), finance_token);
  });
  refused("finance approves an order", [&] {
    return decide({{"key", "approval:order:1"}, {"action", "approve"}},
                  finance_token);
  });
  refused("finance approves a look-alike key", [&] {
    return decide({{"key", "approval:finance_x"}, {"action", "approve"}},
                  finance_token);
  });
  refused("finance rejects (no reject permission)", [&] {
    return decide({{"key", "approval:finance:inv_1"},
                   {"action", "reject"},
                   {"reason", "No"}},
                  finance_token);
  });
  refused("finance edits (no edit permission)", [&] {
    return decide({{"key", "approval:finance:inv_1"},
                   {"action", "edit"},
                   {"value", {{"amount", 1}}}},
                  finance_token);
  });
  refused("finance cancels (no cancel permission)", [&] {
    return decide({{"key", "approval:finance:inv_1"}, {"action", "cancel"}},
                  finance_token);
  });
  refused("the reader approves", [&] {
    return decide({{"key", "approval:finance:inv_1"}, {"action", "approve"}},
                  reader_token);
  });
  refused("the reader cancels a run", [&] {
    return post_json(run_path("run-fin-1") + "/cancel", "", reader_token);
  });
  refused("finance cancels a run", [&] {
    return post_json(run_path("run-fin-1") + "/cancel", "", finance_token);
  });
  // What a token may read is all a listing shows it (see the prefix test);
  // its own keys stay readable.
  BOOST_TEST(get(approval_path("approval:finance:inv_1"), finance_token).status
             == 200U);
}

BOOST_FIXTURE_TEST_CASE(workflow_endpoints, api_fixture) {
  std::vector<std::string> all;
  std::vector<std::string> gates;
  for (const auto& r : runs) {
    all.push_back(r.run_id);
    if (r.workflow == "gate")
      gates.push_back(r.run_id);
  }
  BOOST_TEST(join(pending_of(port, "/api/workflows", reader_token))
             == join(all));
  BOOST_TEST(join(pending_of(port, "/api/workflows?name=gate", reader_token))
             == join(gates));
  BOOST_TEST(join(pending_of(port, "/api/workflows?name=order", admin_token))
             == "run-manager-1");
  BOOST_TEST(
    pending_of(port, "/api/workflows?name=nothing", admin_token).empty());

  auto r = get(run_path("run-fin-1"), reader_token);
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  auto s = r.json();
  BOOST_TEST(text(s.at("runId")) == "run-fin-1");
  BOOST_TEST(text(s.at("workflowName")) == "gate");
  BOOST_TEST(text(s.at("status")) == "paused");
  BOOST_TEST(join(strings_of(s.at("pendingApprovals")))
             == "approval:finance:inv_1");
  BOOST_TEST(text(s.at("pendingReason"))
             == "Invoices above 5,000 need finance");
  BOOST_TEST(s.at("input") == runs[0].input);
  BOOST_TEST(s.at("resumeState").at("prepare")
             == (value{{"ok", true},
                       {"value", {{"prepared", "approval:finance:inv_1"}}}}));
  BOOST_TEST(s.at("result").is_null());
  BOOST_TEST(!s.as_object().contains("version"));

  // A run id with '/', '%', '_' and UTF-8 in it, percent-encoded.
  BOOST_TEST(text(run(special_run).at("runId")) == special_run);

  expect_refused("an unknown run", 404, "NOT_FOUND",
                 [&] { return get(run_path("run-nobody")); });
  expect_refused("a sub-resource of a run", 404, "NOT_FOUND",
                 [&] { return get(run_path("run-fin-1") + "/steps"); });
  expect_refused("GET on cancel", 404, "NOT_FOUND",
                 [&] { return get(run_path("run-fin-1") + "/cancel"); });
  expect_refused("POST on the list", 404, "NOT_FOUND",
                 [&] { return post_json("/api/workflows", "{}"); });
}

BOOST_FIXTURE_TEST_CASE(lists_runs_in_any_status, api_fixture) {
  BOOST_TEST_REQUIRE(
    decide({{"key", "approval:finance:inv_1"}, {"action", "approve"}}).status
    == 200U);
  std::vector<std::string> all;
  std::vector<std::string> paused_gates;
  for (const auto& r : runs) {
    all.push_back(r.run_id);
    if (r.workflow == "gate" && r.run_id != "run-fin-1")
      paused_gates.push_back(r.run_id);
  }
  auto runs_of = [&](std::string_view target, std::string_view token) {
    auto r = get(target, token);
    BOOST_TEST_REQUIRE(r.status == 200U, target << ": " << r.body);
    return strings_of(r.json().at("runs"));
  };
  // In id order, like the store lists them.
  auto everything = runs_of("/api/runs", reader_token);
  BOOST_TEST(std::is_sorted(everything.begin(), everything.end()));
  BOOST_TEST(join(everything) == join(all));
  BOOST_TEST(join(runs_of("/api/runs?status=completed", reader_token))
             == "run-fin-1");
  BOOST_TEST(join(runs_of("/api/runs?workflow=gate&status=paused", admin_token))
             == join(paused_gates));
  BOOST_TEST(join(runs_of("/api/runs?workflow=order", admin_token))
             == "run-manager-1");
  BOOST_TEST(runs_of("/api/runs?status=failed", admin_token).empty());
  BOOST_TEST(runs_of("/api/runs?workflow=", admin_token).empty());
  // A token sees the runs whose approvals it may read.
  const auto finance = join(runs_of("/api/runs", finance_token));
  BOOST_TEST(contains(finance, "run-fin-1"), finance);
  BOOST_TEST(!contains(finance, "run-order-1"), finance);

  expect_refused("an unknown status", 400, "INVALID_ARGUMENT",
                 [&] { return get("/api/runs?status=sleeping"); });
  expect_refused("an empty status", 400, "INVALID_ARGUMENT",
                 [&] { return get("/api/runs?status="); });
  expect_refused("no token", 401, "UNAUTHORIZED",
                 [&] { return get("/api/runs", ""); });
  expect_refused("POST on the list", 404, "NOT_FOUND",
                 [&] { return post_json("/api/runs", "{}"); });
  expect_refused("a path below it", 404, "NOT_FOUND",
                 [&] { return get("/api/runs/run-fin-1"); });
}

BOOST_FIXTURE_TEST_CASE(cleanup_needs_an_unprefixed_cleanup_token,
                        api_fixture) {
  auto approved
    = decide({{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  BOOST_TEST_REQUIRE(approved.status == 200U, approved.body);
  const auto finished_at = run("run-fin-1").at("updatedAt").as_int64();

  expect_refused("a token without the permission", 403, "FORBIDDEN", [&] {
    return post_json("/api/cleanup", R"({"olderThanMs":0})", reader_token);
  });
  expect_refused("a token limited to a prefix", 403, "FORBIDDEN", [&] {
    return post_json("/api/cleanup", R"({"olderThanMs":0})",
                     finance_admin_token);
  });
  for (const auto& [what, body] :
       std::vector<std::pair<std::string, std::string>>{
         {"no body", ""},
         {"malformed JSON", "{"},
         {"no age", "{}"},
         {"a negative age", R"({"olderThanMs":-1})"},
         {"a text age", R"({"olderThanMs":"30d"})"},
         {"a fractional age", R"({"olderThanMs":1.5})"},
       })
    expect_refused("cleanup with " + what, 400, "INVALID_ARGUMENT",
                   [&] { return post_json("/api/cleanup", body); });
  expect_refused("GET", 404, "NOT_FOUND", [&] { return get("/api/cleanup"); });
  // An age that reaches back before the epoch removes nothing.
  const auto before = snapshot();
  auto nothing
    = post_json("/api/cleanup", R"({"olderThanMs":9223372036854775807})");
  BOOST_TEST_REQUIRE(nothing.status == 200U, nothing.body);
  BOOST_TEST(nothing.json().at("runsRemoved").as_array().empty());
  BOOST_TEST(nothing.json().at("cutoff").as_int64() == 0);
  BOOST_TEST(snapshot() == before);

  // Age 0 removes what finished before now: let the clock pass the run's
  // last update first.
  while (now_ms() <= finished_at)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  auto r = post_json("/api/cleanup", R"({"olderThanMs":0})");
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  auto answer = r.json();
  BOOST_TEST(join(strings_of(answer.at("runsRemoved"))) == "run-fin-1");
  BOOST_TEST(join(strings_of(answer.at("approvalsRemoved")))
             == "approval:finance:inv_1");
  BOOST_TEST(answer.at("cutoff").as_int64() > finished_at);
  BOOST_TEST(get(run_path("run-fin-1")).status == 404U);
  BOOST_TEST(get(approval_path("approval:finance:inv_1")).status == 404U);
  // Paused runs and their approvals stay.
  BOOST_TEST(text(run("run-fin-2").at("status")) == "paused");
}

BOOST_FIXTURE_TEST_CASE(cancel_a_run_200_404_409, api_fixture) {
  auto r = post_json(run_path("run-order-1") + "/cancel",
                     R"({"reason":"Customer withdrew"})");
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  BOOST_TEST(text(r.json().at("status")) == "cancelled");
  BOOST_TEST(text(r.json().at("runId")) == "run-order-1");
  auto s = run("run-order-1");
  BOOST_TEST(text(s.at("status")) == "cancelled");
  BOOST_TEST(s.at("result").at("ok") == false);
  BOOST_TEST(text(s.at("result").at("error").at("type"))
             == "APPROVAL_CANCELLED");
  auto a = approval("approval:order:1");
  BOOST_TEST(text(a.at("status").at("status")) == "cancelled");
  BOOST_TEST(text(a.at("status").at("reason")) == "Customer withdrew");
  BOOST_TEST(pending("approval:order:").empty());
  BOOST_TEST(!contains(get("/api/workflows").body, "run-order-1"));

  // Without a body the reason is empty.
  auto quiet = post_json(run_path("run-fin-2") + "/cancel", "");
  BOOST_TEST(quiet.status == 200U, quiet.body);
  BOOST_TEST(text(run("run-fin-2").at("status")) == "cancelled");

  expect_refused("cancelling it again", 409, "INVALID_RUN_STATE", [&] {
    return post_json(run_path("run-order-1") + "/cancel", "{}");
  });
  BOOST_TEST_REQUIRE(
    decide({{"key", "approval:finance:inv_1"}, {"action", "approve"}}).status
    == 200U);
  expect_refused("cancelling a completed run", 409, "INVALID_RUN_STATE", [&] {
    return post_json(run_path("run-fin-1") + "/cancel", "{}");
  });
  expect_refused("cancelling an unknown run", 404, "NOT_FOUND", [&] {
    return post_json(run_path("run-nobody") + "/cancel", "{}");
  });
  for (const auto& [what, body] :
       std::vector<std::pair<std::string, std::string>>{
         {"malformed JSON", "{"},
         {"an array", "[]"},
         {"a numeric reason", R"({"reason":5})"},
       })
    expect_refused("cancelling with " + what, 400, "INVALID_ARGUMENT", [&] {
      return post_json(run_path("run-quorum") + "/cancel", body);
    });
}

BOOST_FIXTURE_TEST_CASE(an_oversized_body_is_413, api_fixture) {
  // A valid decision padded to exactly the limit is taken...
  const std::string head
    = R"({"key":"approval:finance:inv_2","action":"approve","value":{"pad":")";
  const std::string tail = R"("}})";
  auto padded = [&](std::size_t size) {
    return head + std::string(size - head.size() - tail.size(), 'x') + tail;
  };
  // ...one byte more is refused before anything is decided.
  auto r = expect_refused(
    "a body one byte over the limit", 413, "INVALID_ARGUMENT",
    [&] { return post_json("/api/approvals", padded(test_max_body + 1)); });
  BOOST_TEST(contains(text(r.json().at("message")), "too large"));
  expect_refused("a body far over the limit", 413, "INVALID_ARGUMENT", [&] {
    return post_json("/api/approvals", padded(test_max_body * 8));
  });
  expect_refused("a chunked body over the limit", 413, "INVALID_ARGUMENT", [&] {
    const std::string body = padded(test_max_body + 100);
    std::ostringstream chunked;
    for (std::size_t at = 0; at < body.size(); at += 4096) {
      auto piece = body.substr(at, 4096);
      chunked << std::hex << piece.size() << "\r\n" << piece << "\r\n";
    }
    chunked << "0\r\n\r\n";
    return hc::send_raw(port, "POST /api/approvals HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\n"
                              "Authorization: Bearer "
                                + std::string{admin_token}
                                + "\r\n"
                                  "Content-Type: application/json\r\n"
                                  "Transfer-Encoding: chunked\r\n"
                                  "Connection: close\r\n\r\n"
                                + chunked.str());
  });
  expect_refused("an oversized cancel", 413, "INVALID_ARGUMENT", [&] {
    return post_json(run_path("run-fin-1") + "/cancel",
                     R"({"reason":")" + std::string(test_max_body, 'r')
                       + R"("})");
  });
  auto at_limit = post_json("/api/approvals", padded(test_max_body));
  BOOST_TEST(at_limit.status == 200U, at_limit.body.substr(0, 300));
  BOOST_TEST(text(approval("approval:finance:inv_2").at("status").at("status"))
             == "approved");
}

BOOST_FIXTURE_TEST_CASE(store_failures_never_show_internal_text, api_fixture) {
  const value approve{{"key", "approval:finance:inv_1"}, {"action", "approve"}};
  faults->type = std::string{model::error_type::storage_error};
  faults->fail_decide = true;
  auto unavailable
    = expect_refused("a decision the store fails", 503, "STORAGE_ERROR",
                     [&] { return decide(approve); });
  BOOST_TEST(text(unavailable.json().at("message"))
             == "the store is unavailable; try again");

  faults->fail_decide = false;
  faults->type = std::string{model::error_type::unexpected_error};
  faults->fail_decide = true;
  auto failed
    = expect_refused("a decision failing unexpectedly", 500, "UNEXPECTED_ERROR",
                     [&] { return decide(approve); });
  BOOST_TEST(text(failed.json().at("message")) == "the request failed");
  faults->fail_decide = false;

  faults->type = std::string{model::error_type::storage_error};
  faults->fail_reads = true;
  auto read = get(approval_path("approval:finance:inv_1"));
  faults->fail_reads = false;
  BOOST_TEST(read.status == 503U, read.body);
  check_error_body(read, "STORAGE_ERROR");
  check_no_internal_text(read);

  // Once the store recovers, the same decision goes through.
  BOOST_TEST(decide(approve).status == 200U);
}

BOOST_FIXTURE_TEST_CASE(concurrent_decisions_have_exactly_one_winner,
                        api_fixture) {
  constexpr int n = 8;
  const std::string key = "approval:finance:inv_1";
  std::vector<hc::response> answers(n);
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
      threads.emplace_back([&, i] {
        try {
          answers[i]
            = i % 2 == 0
                ? decide({{"key", key},
                          {"action", "reject"},
                          {"reason", "reason " + std::to_string(i)}})
                : decide(
                  {{"key", key}, {"action", "approve"}, {"value", {{"n", i}}}},
                  finance_token);
        } catch (const std::exception&) {
          answers[i] = {}; // status 0: reported below
        }
      });
    for (auto& t : threads)
      t.join();
  }
  const auto stored = approval(key).at("status");
  int won = 0;
  for (int i = 0; i < n; ++i) {
    BOOST_TEST_INFO_SCOPE("request " << i);
    const auto& r = answers[i];
    if (r.status == 200U) {
      ++won;
      BOOST_TEST(r.json().at("approval").at("status") == stored);
      continue;
    }
    BOOST_TEST(r.status == 409U, r.body);
    check_error_body(r, "APPROVAL_CONFLICT");
    BOOST_TEST(r.json().at("winner") == stored);
  }
  BOOST_TEST(won == 1);
  BOOST_TEST(trail(key).as_array().size() == 2U);
  BOOST_TEST(after->load() == 1);
}

BOOST_FIXTURE_TEST_CASE(the_auth_scheme_is_case_insensitive, api_fixture) {
  // RFC 9110, 11.1: the authentication scheme is a case-insensitive token.
  for (const std::string scheme : {"bearer ", "BEARER "}) {
    auto r = hc::send(port, "GET", "/api/approvals",
                      {{"Authorization", scheme + std::string{admin_token}}});
    BOOST_TEST(r.status == 200U, scheme << "-> " << r.body);
  }
}

BOOST_FIXTURE_TEST_CASE(cancelling_runs_is_limited_by_the_token_prefix,
                        api_fixture) {
  // Cancelling a run cancels the approvals it waits on, so a token limited
  // to a prefix may cancel only runs waiting on keys under it.
  expect_refused("finance-ops cancels an order's run", 403, "FORBIDDEN", [&] {
    return post_json(run_path("run-order-1") + "/cancel",
                     R"({"reason":"not mine"})", finops_token);
  });
  auto own = post_json(run_path("run-fin-2") + "/cancel",
                       R"({"reason":"duplicate"})", finops_token);
  BOOST_TEST(own.status == 200U, own.body);
  BOOST_TEST(text(approval("approval:finance:inv_2").at("status").at("status"))
             == "cancelled");
}

BOOST_FIXTURE_TEST_CASE(cancelling_a_run_records_the_token_identity,
                        api_fixture) {
  const auto check = [&](std::string_view token, std::string_view run_id,
                         std::string_view key, std::string_view identity) {
    auto r
      = post_json(run_path(run_id) + "/cancel", R"({"reason":"dup"})", token);
    BOOST_TEST_REQUIRE(r.status == 200U, r.body);
    BOOST_TEST(
      text(r.json().at("result").at("error").at("details").at("cancelledBy"))
      == identity);
    auto s = run(run_id);
    BOOST_TEST(text(s.at("status")) == "cancelled");
    BOOST_TEST(text(s.at("cancelledBy")) == identity);
    BOOST_TEST(text(approval(key).at("status").at("decidedBy")) == identity);
    const auto audit = trail(key);
    const auto& entries = audit.as_array();
    BOOST_TEST_REQUIRE(!entries.empty());
    BOOST_TEST(text(entries.back().at("action")) == "cancelled");
    BOOST_TEST(text(entries.back().at("actor")) == identity);
  };
  check(finops_token, "run-fin-2", "approval:finance:inv_2", "finance-ops");
  check(admin_token, "run-order-1", "approval:order:1", "admin");
}

BOOST_FIXTURE_TEST_CASE(reading_runs_is_limited_by_the_token_prefix,
                        api_fixture) {
  // A run shows its input and the keys it waits on: a token that may not
  // read an approval does not see the runs waiting on it either.
  BOOST_TEST(get(run_path("run-fin-1"), finance_token).status == 200U);
  expect_refused("finance reads an order's run", 403, "FORBIDDEN",
                 [&] { return get(run_path("run-order-1"), finance_token); });
  const auto listed = join(pending_of(port, "/api/workflows", finance_token));
  BOOST_TEST(contains(listed, "run-fin-1"), listed);
  BOOST_TEST(!contains(listed, "run-order-1"), listed);
  BOOST_TEST(!contains(listed, "run-manager-1"), listed);
}

BOOST_AUTO_TEST_CASE(token_specs_take_prefixes_with_colons) {
  // Approval keys are colon-separated ("approval:order:..."), so the
  // prefixes of a token spec contain colons; the permissions come last.
  http::token_registry tokens;
  auto problem = tokens.add_spec(
    "manager:manager-secret-0123456789:approval:order:|approval:manager:"
    ":read,approve");
  BOOST_TEST(!problem.has_value(), problem.value_or(""));
  const auto* grant = tokens.find("manager-secret-0123456789");
  BOOST_TEST_REQUIRE(grant != nullptr);
  BOOST_TEST(grant->identity == "manager");
  BOOST_TEST(join(grant->prefixes, false)
             == "approval:order: | approval:manager:");
  BOOST_TEST(grant->covers("approval:order:1"));
  BOOST_TEST(!grant->covers("approval:finance:inv_1"));
  BOOST_TEST((grant->permissions
              == std::set{http::permission::read, http::permission::approve}));

  BOOST_TEST(!tokens.add_spec("ops:ops-secret-0123456789::read,cleanup"));
  BOOST_TEST((tokens.find("ops-secret-0123456789")->permissions
              == std::set{http::permission::read, http::permission::cleanup}));
  BOOST_TEST(!tokens.add_spec("root:root-secret-0123456789::*"));
  BOOST_TEST(tokens.find("root-secret-0123456789")
               ->permissions.contains(http::permission::cleanup));
}

// A comment decides nothing, so any token that may read a key may discuss
// it, before and after its decision; the entry names the token's identity.
BOOST_FIXTURE_TEST_CASE(comments_are_audited_as_the_token_s_identity,
                        api_fixture) {
  const std::string key = "approval:finance:inv_1";
  const auto target = approval_path(key) + "/comments";
  auto r = post_json(target, R"({"text":"why so much?"})", reader_token);
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  BOOST_TEST(r.json().at("success") == true);
  const auto entry = r.json().at("entry");
  BOOST_TEST(text(entry.at("action")) == "commented");
  BOOST_TEST(text(entry.at("actor")) == "auditor");
  BOOST_TEST(text(entry.at("reason")) == "why so much?");
  BOOST_TEST(entry.at("sequence") == 2);
  BOOST_TEST(entry.at("value").is_null());
  const auto first_trail = trail(key);
  BOOST_TEST(first_trail.as_array().back() == entry);
  BOOST_TEST(text(approval(key).at("status").at("status")) == "pending");
  BOOST_TEST(text(run("run-fin-1").at("status")) == "paused");

  BOOST_TEST_REQUIRE(
    decide({{"key", key}, {"action", "approve"}}, finance_token).status
    == 200U);
  auto later = post_json(target, R"({"text":"paid on Monday"})", finance_token);
  BOOST_TEST_REQUIRE(later.status == 200U, later.body);
  BOOST_TEST(text(later.json().at("entry").at("actor")) == "finance-bot");
  const auto a = approval(key);
  BOOST_TEST(text(a.at("status").at("status")) == "approved");
  BOOST_TEST(text(a.at("status").at("decidedBy")) == "finance-bot");
  std::vector<std::string> actions;
  const auto full_trail = trail(key);
  for (const auto& e : full_trail.as_array())
    actions.push_back(text(e.at("action")));
  BOOST_TEST(actions
               == (std::vector<std::string>{"created", "commented", "approved",
                                            "commented"}),
             boost::test_tools::per_element());
  BOOST_TEST(after->load() == 1);
}

BOOST_FIXTURE_TEST_CASE(refused_comments_change_nothing, api_fixture) {
  const auto on = [](std::string_view key) {
    return approval_path(key) + "/comments";
  };
  expect_refused("a token that may not read the key", 403, "FORBIDDEN", [&] {
    return post_json(on("approval:order:1"), R"({"text":"hi"})", finance_token);
  });
  expect_refused("no token", 401, "UNAUTHORIZED", [&] {
    return post_json(on("approval:finance:inv_1"), R"({"text":"hi"})", "");
  });
  const std::string too_long(model::max_comment_bytes + 1, 'x');
  for (const auto& body : std::vector<std::string>{
         "{", "[]", "{}", R"({"text":1})", R"({"text":null})", R"({"text":""})",
         R"({"text":")" + too_long + R"("})", R"({"text":"hi","actorId":5})"})
    expect_refused(body.substr(0, 40), 400, "INVALID_ARGUMENT", [&] {
      return post_json(on("approval:finance:inv_1"), body, admin_token);
    });
  expect_refused("an unknown key", 404, "NOT_FOUND", [&] {
    return post_json(on("approval:finance:nobody-asked"), R"({"text":"hi"})",
                     admin_token);
  });
  BOOST_TEST(get(approval_path("approval:finance:nobody-asked")).status
             == 404U);
  expect_refused("GET on comments", 404, "NOT_FOUND",
                 [&] { return get(on("approval:finance:inv_1")); });
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// links: single-use signed action links
// ============================================================================

BOOST_AUTO_TEST_SUITE(links)

hc::response open_link(std::uint16_t port, const std::string& token) {
  return hc::send(port, "GET", "/act/" + token);
}

hc::response confirm_link(std::uint16_t port, const std::string& token,
                          std::string form = {}) {
  return hc::send(port, "POST", "/act/" + token,
                  {{"Content-Type", "application/x-www-form-urlencoded"}},
                  std::move(form));
}

BOOST_FIXTURE_TEST_CASE(get_asks_for_confirmation_and_changes_nothing,
                        api_fixture) {
  const auto token
    = link_for("approval:finance:inv_1", model::decision_kind::grant, "alice");
  const auto before = snapshot();
  auto r = open_link(port, token);
  BOOST_TEST(r.status == 200U, r.body);
  BOOST_TEST(contains(r.header("Content-Type"), "text/html"));
  SIGNOFF_CHECK_HAS(r.body, "<h1>approval:finance:inv_1</h1>");
  SIGNOFF_CHECK_HAS(r.body, "Invoices above 5,000 need finance");
  SIGNOFF_CHECK_HAS(r.body, "<form method=\"post\">");
  SIGNOFF_CHECK_HAS(r.body, "<button>Confirm grant</button>");
  SIGNOFF_CHECK_LACKS(r.body, "name=\"reason\"");
  // Mail scanners open links: any number of GETs decide nothing.
  BOOST_TEST(open_link(port, token).status == 200U);
  BOOST_TEST(snapshot() == before);
}

BOOST_FIXTURE_TEST_CASE(post_decides_as_the_link_approver, api_fixture) {
  const auto token
    = link_for("approval:finance:inv_1", model::decision_kind::grant, "alice");
  auto r = confirm_link(port, token);
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  SIGNOFF_CHECK_HAS(r.body, "<h1>Done</h1>");
  SIGNOFF_CHECK_HAS(r.body, "approval:finance:inv_1: grant recorded.");
  auto a = approval("approval:finance:inv_1");
  BOOST_TEST(text(a.at("status").at("status")) == "approved");
  BOOST_TEST(text(a.at("status").at("decidedBy")) == "link:alice");
  BOOST_TEST(a.at("status").at("value") == (value{{"approvedBy", "alice"}}));
  BOOST_TEST(text(run("run-fin-1").at("status")) == "completed");
  BOOST_TEST(after->load() == 1);
  const auto entries = trail("approval:finance:inv_1").as_array();
  BOOST_TEST(text(entries.back().at("actor")) == "link:alice");
}

BOOST_FIXTURE_TEST_CASE(a_replayed_link_is_409_and_changes_nothing,
                        api_fixture) {
  const auto token
    = link_for("approval:finance:inv_1", model::decision_kind::grant, "alice");
  BOOST_TEST_REQUIRE(confirm_link(port, token).status == 200U);
  auto replay = expect_refused("replaying the link", 409, "",
                               [&] { return confirm_link(port, token); });
  SIGNOFF_CHECK_HAS(replay.body, "Already decided");
  expect_refused("opening the used link", 409, "",
                 [&] { return open_link(port, token); });

  // Toward a quorum, one approver's link counts once.
  const auto alice
    = link_for("approval:finance:q_2", model::decision_kind::grant, "alice");
  BOOST_TEST_REQUIRE(confirm_link(port, alice).status == 200U);
  auto a = approval("approval:finance:q_2");
  BOOST_TEST(text(a.at("status").at("status")) == "pending");
  BOOST_TEST_REQUIRE(a.at("grants").as_array().size() == 1U);
  expect_refused("alice's link again", 409, "",
                 [&] { return confirm_link(port, alice); });
  const auto bob
    = link_for("approval:finance:q_2", model::decision_kind::grant, "bob");
  BOOST_TEST_REQUIRE(confirm_link(port, bob).status == 200U);
  BOOST_TEST(text(approval("approval:finance:q_2").at("status").at("status"))
             == "approved");
  BOOST_TEST(text(run("run-quorum").at("status")) == "completed");

  // A link for an approval someone else decided meanwhile.
  const auto carol
    = link_for("approval:finance:inv_2", model::decision_kind::grant, "carol");
  BOOST_TEST_REQUIRE(decide({{"key", "approval:finance:inv_2"},
                             {"action", "reject"},
                             {"reason", "Duplicate"}})
                       .status
                     == 200U);
  expect_refused("a link for a decided approval", 409, "",
                 [&] { return confirm_link(port, carol); });
  expect_refused("opening a link for a decided approval", 409, "",
                 [&] { return open_link(port, carol); });
}

BOOST_FIXTURE_TEST_CASE(a_forged_link_is_403, api_fixture) {
  const auto valid = link_for("approval:finance:inv_1",
                              model::decision_kind::grant, "mallory");
  const auto other
    = link_for("approval:order:1", model::decision_kind::grant, "mallory");
  const auto dot = valid.find('.');
  BOOST_TEST_REQUIRE(dot != std::string::npos);
  auto flipped = valid;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  auto upper = valid;
  std::transform(upper.begin() + static_cast<std::ptrdiff_t>(dot), upper.end(),
                 upper.begin() + static_cast<std::ptrdiff_t>(dot), [](char c) {
                   return static_cast<char>(
                     std::toupper(static_cast<unsigned char>(c)));
                 });
  const std::vector<std::pair<std::string, std::string>> forged{
    {"a link signed with another secret",
     link_for("approval:order:1", model::decision_kind::grant, "mallory",
              std::chrono::hours{1}, "not-the-server-secret-0123")},
    {"a changed signature", flipped},
    {"an upper-cased signature", upper},
    {"another link's payload with this signature",
     other.substr(0, other.find('.')) + valid.substr(dot)},
    {"no signature", valid.substr(0, dot)},
    {"an empty signature", valid.substr(0, dot + 1)},
    {"garbage", "not-a-link"},
  };
  for (const auto& [what, token] : forged) {
    auto r = expect_refused("opening " + what, 403, "",
                            [&] { return open_link(port, token); });
    SIGNOFF_CHECK_HAS(r.body, "This link cannot be used");
    expect_refused("confirming " + what, 403, "",
                   [&] { return confirm_link(port, token); });
  }
}

BOOST_FIXTURE_TEST_CASE(an_expired_link_is_410, api_fixture) {
  const auto token
    = link_for("approval:finance:inv_1", model::decision_kind::grant, "alice",
               -std::chrono::seconds{1});
  auto r = expect_refused("opening an expired link", 410, "",
                          [&] { return open_link(port, token); });
  SIGNOFF_CHECK_HAS(r.body, "expired");
  expect_refused("confirming an expired link", 410, "",
                 [&] { return confirm_link(port, token); });
}

BOOST_FIXTURE_TEST_CASE(a_reject_link_needs_a_reason, api_fixture) {
  const auto token
    = link_for("approval:finance:inv_2", model::decision_kind::reject, "bob");
  auto form = open_link(port, token);
  BOOST_TEST_REQUIRE(form.status == 200U, form.body);
  SIGNOFF_CHECK_HAS(form.body, "<input name=\"reason\" required");
  SIGNOFF_CHECK_HAS(form.body, "<button>Confirm reject</button>");
  expect_refused("a reject without reason", 400, "",
                 [&] { return confirm_link(port, token); });
  expect_refused("a reject with an empty reason", 400, "",
                 [&] { return confirm_link(port, token, "reason="); });
  auto r = confirm_link(port, token, "reason=Duplicate+invoice");
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  auto a = approval("approval:finance:inv_2");
  BOOST_TEST(text(a.at("status").at("status")) == "rejected");
  BOOST_TEST(text(a.at("status").at("decidedBy")) == "link:bob");
  BOOST_TEST(text(a.at("status").at("reason")) == "Duplicate invoice");
  BOOST_TEST(text(run("run-fin-2").at("result").at("value").at("branch"))
             == "APPROVAL_REJECTED");
  expect_refused("the used reject link", 409, "",
                 [&] { return confirm_link(port, token, "reason=Again"); });
}

BOOST_FIXTURE_TEST_CASE(cancel_links_and_keys_with_odd_characters,
                        api_fixture) {
  const auto cancel
    = link_for(special_key, model::decision_kind::cancel, "carol");
  auto page = open_link(port, cancel);
  BOOST_TEST(page.status == 200U, page.body);
  SIGNOFF_CHECK_HAS(page.body, "<h1>" + special_key + "</h1>");
  BOOST_TEST_REQUIRE(confirm_link(port, cancel).status == 200U);
  auto c = approval(special_key);
  BOOST_TEST(text(c.at("status").at("status")) == "cancelled");
  BOOST_TEST(text(c.at("status").at("decidedBy")) == "link:carol");

  const auto grant = link_for(utf8_key, model::decision_kind::grant, "dave");
  BOOST_TEST_REQUIRE(confirm_link(port, grant).status == 200U);
  auto g = approval(utf8_key);
  BOOST_TEST(text(g.at("status").at("status")) == "approved");
  BOOST_TEST(text(g.at("status").at("decidedBy")) == "link:dave");
  BOOST_TEST(text(run("run-utf8").at("status")) == "completed");
}

BOOST_FIXTURE_TEST_CASE(a_link_for_an_unknown_key_is_404, api_fixture) {
  const auto token = link_for("approval:finance:nobody-asked",
                              model::decision_kind::grant, "alice");
  expect_refused("opening it", 404, "", [&] { return open_link(port, token); });
  expect_refused("confirming it", 404, "",
                 [&] { return confirm_link(port, token); });
  BOOST_TEST(get(approval_path("approval:finance:nobody-asked")).status
             == 404U);
  expect_refused("/act alone", 404, "",
                 [&] { return hc::send(port, "GET", "/act"); });
  expect_refused("/act with two segments", 404, "", [&] {
    return hc::send(port, "POST", "/act/" + token + "/more");
  });
}

BOOST_FIXTURE_TEST_CASE(links_are_off_without_a_secret, no_links_fixture) {
  for (const auto& secret : {std::string{test_link_secret}, std::string{}}) {
    const auto token
      = link_for("approval:finance:inv_1", model::decision_kind::grant, "alice",
                 std::chrono::hours{1}, secret);
    expect_refused("opening a link", 404, "",
                   [&] { return open_link(port, token); });
    expect_refused("confirming a link", 404, "",
                   [&] { return confirm_link(port, token); });
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// inbox: the approver pages and their forms
// ============================================================================

BOOST_AUTO_TEST_SUITE(inbox)

const std::string decide_form
  = "<form method=\"post\" action=\"/inbox/decide\">";

std::string hidden_key(std::string_view key) {
  return "<input type=\"hidden\" name=\"key\" value=\"" + std::string{key}
         + "\">";
}

std::string notice_location(std::string_view key) {
  return inbox_path(key) + "&notice=recorded";
}

BOOST_FIXTURE_TEST_CASE(login_sets_a_cookie_and_redirects, api_fixture) {
  // The sign-in page: a form that POSTs the token.
  auto form = hc::send(port, "GET", "/login");
  BOOST_TEST(form.status == 200U, form.body);
  SIGNOFF_CHECK_HAS(form.body, "<form method=\"post\" action=\"/login\">");
  SIGNOFF_CHECK_HAS(form.body, "<input type=\"password\" name=\"token\"");

  auto r = send_form("/login", "token=" + hc::url_encode(finance_token), "");
  BOOST_TEST(r.status == 303U, r.body);
  BOOST_TEST(r.header("Location") == "/inbox");
  const auto cookie = r.header("Set-Cookie");
  BOOST_TEST(
    cookie.starts_with("signoff_token=" + std::string{finance_token} + ";"),
    cookie);
  BOOST_TEST(contains(cookie, "HttpOnly"), cookie);
  BOOST_TEST(contains(cookie, "SameSite=Strict"), cookie);
  BOOST_TEST(contains(cookie, "Path=/"), cookie);

  // The browser sends the cookie back (among others) and is let in.
  auto inbox
    = hc::send(port, "GET", r.header("Location"),
               {{"Cookie", "theme=dark; " + cookie.substr(0, cookie.find(';'))
                             + "; lang=en"}});
  BOOST_TEST(inbox.status == 200U, inbox.body);
  BOOST_TEST(contains(inbox.header("Content-Type"), "text/html"));
  SIGNOFF_CHECK_HAS(inbox.body, "Signed in as finance-bot");
  // A bearer header works as well.
  BOOST_TEST(hc::send(port, "GET", "/inbox", hc::bearer(reader_token)).status
             == 200U);

  for (const auto& [what, body] :
       std::vector<std::pair<std::string, std::string>>{
         {"an unknown token", "token=not-a-token-0123456789"},
         {"no token", ""},
         {"an empty token", "token="}}) {
    auto refused = expect_refused("logging in with " + what, 401, "", [&] {
      return send_form("/login", body, "");
    });
    BOOST_TEST(refused.header("Set-Cookie").empty());
    SIGNOFF_CHECK_HAS(refused.body, "<h1>Sign in</h1>");
  }
  for (const auto& [what, token] :
       std::vector<std::pair<std::string, std::string>>{
         {"no cookie", ""}, {"an unknown cookie", "not-a-token-0123456789"}}) {
    auto refused = expect_refused("the inbox with " + what, 401, "",
                                  [&] { return page("/inbox", token); });
    SIGNOFF_CHECK_HAS(refused.body, "action=\"/login\"");
    SIGNOFF_CHECK_LACKS(refused.body, "approval:finance:inv_1");
  }
}

BOOST_FIXTURE_TEST_CASE(the_token_never_travels_in_a_url, api_fixture) {
  // The link signoffd used to print: it signs nobody in.
  auto old_link
    = hc::send(port, "GET", "/login?token=" + hc::url_encode(admin_token));
  BOOST_TEST(old_link.status == 200U, old_link.body);
  BOOST_TEST(old_link.header("Set-Cookie").empty());
  SIGNOFF_CHECK_LACKS(old_link.body, admin_token);
  // Nor does a form posted with the token in its URL.
  auto in_url
    = send_form("/login?token=" + hc::url_encode(admin_token), "", "");
  BOOST_TEST(in_url.status == 401U, in_url.body);
  BOOST_TEST(in_url.header("Set-Cookie").empty());
  // Neither is a sign-in from a page on another site, or not as a form.
  auto cross = send_form("/login", "token=" + hc::url_encode(admin_token), "",
                         {{"Origin", "http://evil.example"}});
  BOOST_TEST(cross.status == 403U, cross.body);
  BOOST_TEST(cross.header("Set-Cookie").empty());
  auto plain
    = hc::send(port, "POST", "/login", {{"Content-Type", "text/plain"}},
               "token=" + std::string{admin_token});
  BOOST_TEST(plain.status == 415U, plain.body);
  BOOST_TEST(plain.header("Set-Cookie").empty());
}

BOOST_FIXTURE_TEST_CASE(sign_out_forgets_the_cookie, api_fixture) {
  auto inbox = page("/inbox", finance_token);
  BOOST_TEST_REQUIRE(inbox.status == 200U);
  SIGNOFF_CHECK_HAS(inbox.body, "<form method=\"post\" action=\"/logout\">"
                                "<input type=\"hidden\" name=\"form\" value=\""
                                  + form_token_for(finance_token) + "\">");
  auto out = post_form("/logout", "", finance_token);
  BOOST_TEST(out.status == 303U, out.body);
  BOOST_TEST(out.header("Location") == "/login?notice=signed-out");
  const auto cookie = out.header("Set-Cookie");
  BOOST_TEST(cookie.starts_with("signoff_token=;"), cookie);
  BOOST_TEST(contains(cookie, "Max-Age=0"), cookie);
  auto shown = hc::send(port, "GET", out.header("Location"));
  SIGNOFF_CHECK_HAS(shown.body, "<p class=\"notice\">You are signed out.</p>");
  // Only our page may sign someone out.
  auto forged = send_form("/logout", "", finance_token);
  BOOST_TEST(forged.status == 403U, forged.body);
  BOOST_TEST(forged.header("Set-Cookie").empty());
  BOOST_TEST(page("/logout", finance_token).status == 404U);
}

/// Whether `page` shows the time left of an approval made `days` days from
/// its deadline: rounded down, so "in 2 d 23 h" for 3 days once a
/// millisecond passed, and "in 3 d" if the page was made in the same one.
bool shows_time_left(const std::string& page, int days) {
  const auto whole = "(in " + std::to_string(days) + " d)";
  const auto less = "(in " + std::to_string(days - 1) + " d 23 h)";
  return contains(page, less) || contains(page, whole);
}

BOOST_FIXTURE_TEST_CASE(the_inbox_lists_what_the_token_may_read, api_fixture) {
  auto r = page("/inbox", finance_token);
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  const auto& body = r.body;
  for (const auto& key : finance_keys()) {
    SIGNOFF_CHECK_HAS(body,
                      "<a href=\"" + inbox_path(key) + "\">" + key + "</a>");
  }
  BOOST_TEST(count_of(body, "<tr><td><a href=") == finance_keys().size());
  SIGNOFF_CHECK_LACKS(body, "approval:order:1");
  SIGNOFF_CHECK_LACKS(body, "approval:finance_x");
  SIGNOFF_CHECK_LACKS(body, "approval:manager:ord_1");
  SIGNOFF_CHECK_LACKS(body, "Orders need a manager");
  // Why, details as fields (escaped), grants and time left.
  SIGNOFF_CHECK_HAS(body, "<td>Invoices above 5,000 need finance</td>");
  SIGNOFF_CHECK_HAS(body, "<dt>vendor</dt><dd>Wayne &lt;Enterprises&gt; "
                          "&amp; Co</dd>");
  SIGNOFF_CHECK_LACKS(body, "<Enterprises>");
  SIGNOFF_CHECK_HAS(body, "<dt>amount</dt><dd>250000</dd>");
  SIGNOFF_CHECK_HAS(body, "<td>0 of 2</td>");
  SIGNOFF_CHECK_HAS(body, "<td>0 of 1</td>");
  BOOST_TEST(shows_time_left(body, 3), body);

  auto all = page("/inbox", admin_token);
  BOOST_TEST_REQUIRE(all.status == 200U);
  BOOST_TEST(count_of(all.body, "<tr><td><a href=") == runs.size());
  SIGNOFF_CHECK_HAS(all.body, "<a href=\""
                                + inbox_path("approval:manager:ord_1")
                                + "\">approval:manager:ord_1</a>");
  SIGNOFF_CHECK_HAS(all.body, "<td>Waiting for manager approval</td>");
  // The default deadline: a week.
  BOOST_TEST(shows_time_left(all.body, 7), all.body);

  // Decided approvals leave the inbox.
  BOOST_TEST_REQUIRE(
    decide({{"key", "approval:finance:inv_1"}, {"action", "approve"}}).status
    == 200U);
  auto later = page("/inbox", finance_token);
  SIGNOFF_CHECK_LACKS(later.body, inbox_path("approval:finance:inv_1"));
  BOOST_TEST(count_of(later.body, "<tr><td><a href=")
             == finance_keys().size() - 1);
}

// Pages are made without JavaScript, so the reader picks a zone once (a
// cookie keeps it); times are dates in it with how long ago or how soon,
// and the soonest due approval comes first.
BOOST_FIXTURE_TEST_CASE(the_inbox_shows_dates_in_the_readers_zone,
                        api_fixture) {
  auto utc = page("/inbox", admin_token);
  BOOST_TEST_REQUIRE(utc.status == 200U, utc.body);
  SIGNOFF_CHECK_HAS(utc.body, "<option value=\"UTC\" selected>UTC</option>");
  SIGNOFF_CHECK_HAS(utc.body, "<option value=\"+05:45\">UTC+05:45</option>");
  SIGNOFF_CHECK_HAS(utc.body, " UTC</time> <small>(in ");
  SIGNOFF_CHECK_LACKS(utc.body, "UTC+05:45</time>");
  // The week-long default deadline comes after the three-day ones.
  const auto three_days = utc.body.find(inbox_path("approval:finance:inv_1"));
  const auto week = utc.body.find(inbox_path("approval:manager:ord_1"));
  BOOST_TEST_REQUIRE(week != std::string::npos);
  BOOST_TEST(three_days < week);

  auto set = post_form("/inbox/zone", "zone=%2B05%3A45", admin_token);
  BOOST_TEST(set.status == 303U, set.body);
  BOOST_TEST(set.header("Location") == "/inbox");
  const auto cookie = set.header("Set-Cookie");
  BOOST_TEST(cookie.starts_with("signoff_zone=+05:45;"), cookie);
  BOOST_TEST(contains(cookie, "SameSite=Strict"), cookie);
  const hc::header_list both{
    {"Cookie",
     "signoff_token=" + std::string{admin_token} + "; signoff_zone=+05:45"}};
  auto zoned = hc::send(port, "GET", "/inbox", both);
  BOOST_TEST_REQUIRE(zoned.status == 200U, zoned.body);
  SIGNOFF_CHECK_HAS(zoned.body, "<option value=\"+05:45\" selected>");
  SIGNOFF_CHECK_HAS(zoned.body, " UTC+05:45</time> <small>(in ");
  SIGNOFF_CHECK_LACKS(zoned.body, " UTC</time>");
  // The audit trail too: made moments ago.
  auto detail
    = hc::send(port, "GET", inbox_path("approval:finance:inv_1"), both);
  BOOST_TEST_REQUIRE(detail.status == 200U, detail.body);
  SIGNOFF_CHECK_HAS(detail.body, "<th>When</th>");
  SIGNOFF_CHECK_HAS(detail.body, " UTC+05:45</time> <small>(just now)</small>");
  SIGNOFF_CHECK_LACKS(detail.body, "When (ms)");

  // A zone we do not know, or a form not from our page, sets nothing; a
  // cookie we did not set reads as UTC.
  auto unknown = post_form("/inbox/zone", "zone=Mars", admin_token);
  BOOST_TEST(unknown.status == 400U, unknown.body);
  BOOST_TEST(unknown.header("Set-Cookie").empty());
  auto forged = send_form("/inbox/zone", "zone=UTC", admin_token);
  BOOST_TEST(forged.status == 403U, forged.body);
  BOOST_TEST(forged.header("Set-Cookie").empty());
  auto odd = hc::send(port, "GET", "/inbox",
                      {{"Cookie", "signoff_token=" + std::string{admin_token}
                                    + "; signoff_zone=<script>"}});
  BOOST_TEST_REQUIRE(odd.status == 200U, odd.body);
  SIGNOFF_CHECK_HAS(odd.body, " UTC</time>");
  SIGNOFF_CHECK_LACKS(odd.body, "<script>");
}

// Boost.JSON writes the double 15000 as 1.5E4; people and the JavaScript
// original write 15000, in the API's answers as on the inbox's pages.
BOOST_FIXTURE_TEST_CASE(numbers_show_as_people_write_them, api_fixture) {
  const std::string key = "approval:order:1";
  auto api = get(approval_path(key));
  BOOST_TEST_REQUIRE(api.status == 200U, api.body);
  SIGNOFF_CHECK_HAS(api.body, "\"metadata\":{\"total\":15000}");
  auto html = page(inbox_path(key), admin_token);
  BOOST_TEST_REQUIRE(html.status == 200U, html.body);
  SIGNOFF_CHECK_HAS(html.body, "<dt>total</dt><dd>15000</dd>");
  SIGNOFF_CHECK_LACKS(html.body, "1.5E4");
}

BOOST_FIXTURE_TEST_CASE(the_approval_page_shows_status_steps_audit_and_forms,
                        api_fixture) {
  const std::string key = "approval:finance:inv_1";
  auto r = page(inbox_path(key), admin_token);
  BOOST_TEST_REQUIRE(r.status == 200U, r.body);
  const auto& body = r.body;
  SIGNOFF_CHECK_HAS(body, "<h1>approval:finance:inv_1</h1>");
  SIGNOFF_CHECK_HAS(body, "<strong id=\"status\">pending</strong>");
  SIGNOFF_CHECK_HAS(body, "<p>Invoices above 5,000 need finance</p>");
  SIGNOFF_CHECK_HAS(body, "Wayne &lt;Enterprises&gt; &amp; Co");
  SIGNOFF_CHECK_HAS(body, "Grants: 0 of 1; due: <time datetime=\"");
  BOOST_TEST(shows_time_left(body, 3), body);
  // The run waiting on it and the steps it completed.
  SIGNOFF_CHECK_HAS(body, "<h3>gate <code>run-fin-1</code></h3>");
  SIGNOFF_CHECK_HAS(body, "&quot;key&quot;:&quot;approval:finance:inv_1&quot;");
  SIGNOFF_CHECK_HAS(body, "<li>prepare: <code>{&quot;prepared&quot;:&quot;"
                          "approval:finance:inv_1&quot;}</code></li>"
                          "<li>waiting here</li>");
  // The audit trail.
  SIGNOFF_CHECK_HAS(body, "<h2>Audit trail</h2>");
  SIGNOFF_CHECK_HAS(body, "<tr><td>1</td><td>created</td><td>run:run-fin-1"
                          "</td>");
  // Approve, reject and edit forms, posting to /inbox/decide.
  BOOST_TEST(count_of(body, decide_form) == 3U);
  // The key is in each of the three and in the comment form.
  BOOST_TEST(count_of(body, hidden_key(key)) == 4U);
  SIGNOFF_CHECK_HAS(body, "<input type=\"hidden\" name=\"action\" "
                          "value=\"approve\">");
  SIGNOFF_CHECK_HAS(body, "<input type=\"hidden\" name=\"action\" "
                          "value=\"reject\"><input name=\"reason\" required");
  SIGNOFF_CHECK_HAS(body, "<input type=\"hidden\" name=\"action\" "
                          "value=\"edit\"><textarea name=\"value\"");

  // Forms only for what the token may do.
  auto finance = page(inbox_path(key), finance_token);
  BOOST_TEST_REQUIRE(finance.status == 200U);
  BOOST_TEST(count_of(finance.body, decide_form) == 1U);
  SIGNOFF_CHECK_HAS(finance.body, "name=\"action\" value=\"approve\"");
  SIGNOFF_CHECK_LACKS(finance.body, "value=\"reject\"");
  SIGNOFF_CHECK_LACKS(finance.body, "value=\"edit\"");
  auto reader = page(inbox_path(key), reader_token);
  BOOST_TEST_REQUIRE(reader.status == 200U);
  BOOST_TEST(count_of(reader.body, decide_form) == 0U);
  SIGNOFF_CHECK_HAS(reader.body, "<h3>gate <code>run-fin-1</code></h3>");

  // Keys with odd characters, escaped where HTML needs it.
  for (const auto& odd : {special_key, utf8_key}) {
    auto p = page(inbox_path(odd), admin_token);
    BOOST_TEST(p.status == 200U, odd);
    SIGNOFF_CHECK_HAS(p.body, "<h1>" + odd + "</h1>");
    BOOST_TEST(count_of(p.body, hidden_key(odd)) == 4U);
  }

  // Nothing outside the token's prefix, nothing unknown.
  auto outside = expect_refused("an order's page for finance", 403, "", [&] {
    return page(inbox_path("approval:order:1"), finance_token);
  });
  SIGNOFF_CHECK_LACKS(outside.body, "Orders need a manager");
  expect_refused("an unknown approval's page", 404, "", [&] {
    return page(inbox_path("approval:finance:nobody-asked"), admin_token);
  });
  expect_refused("a page without key", 404, "",
                 [&] { return page("/inbox/approval", admin_token); });
  expect_refused("an unknown inbox page", 404, "",
                 [&] { return page("/inbox/nothing", admin_token); });

  // Once decided: the decision, the audit entry, no forms, no waiting run.
  BOOST_TEST_REQUIRE(
    decide({{"key", key}, {"action", "approve"}}, finance_token).status
    == 200U);
  auto decided = page(inbox_path(key), admin_token);
  BOOST_TEST_REQUIRE(decided.status == 200U);
  SIGNOFF_CHECK_HAS(decided.body,
                    "<strong id=\"status\">approved</strong> by finance-bot");
  SIGNOFF_CHECK_HAS(decided.body,
                    "<tr><td>2</td><td>approved</td><td>finance-bot</td>");
  BOOST_TEST(count_of(decided.body, decide_form) == 0U);
  SIGNOFF_CHECK_HAS(decided.body, "<h2>Runs waiting</h2><p>None.</p>");
}

BOOST_FIXTURE_TEST_CASE(decide_forms_approve_reject_and_edit, api_fixture) {
  auto r = post_form(
    "/inbox/decide",
    hc::form_encode({{"key", "approval:finance:inv_1"}, {"action", "approve"}}),
    finance_token);
  BOOST_TEST_REQUIRE(r.status == 303U, r.body);
  BOOST_TEST(r.header("Location") == notice_location("approval:finance:inv_1"));
  auto shown = page(r.header("Location"), finance_token);
  BOOST_TEST_REQUIRE(shown.status == 200U);
  SIGNOFF_CHECK_HAS(shown.body,
                    "<p class=\"notice\">Your decision was recorded.</p>");
  SIGNOFF_CHECK_HAS(shown.body,
                    "<strong id=\"status\">approved</strong> by finance-bot");
  BOOST_TEST(
    text(approval("approval:finance:inv_1").at("status").at("decidedBy"))
    == "finance-bot");
  BOOST_TEST(text(run("run-fin-1").at("status")) == "completed");

  // A browser's encoding: '+' for spaces.
  auto rejected
    = post_form("/inbox/decide",
                "key=approval%3Afinance%3Ainv_2&action=reject&reason=Too+"
                "expensive",
                admin_token);
  BOOST_TEST_REQUIRE(rejected.status == 303U, rejected.body);
  auto a = approval("approval:finance:inv_2");
  BOOST_TEST(text(a.at("status").at("status")) == "rejected");
  BOOST_TEST(text(a.at("status").at("reason")) == "Too expensive");
  BOOST_TEST(text(a.at("status").at("decidedBy")) == "admin");

  auto edited = post_form("/inbox/decide",
                          hc::form_encode({{"key", "approval:order:1"},
                                           {"action", "edit"},
                                           {"value", R"({"total": 900})"}}),
                          admin_token);
  BOOST_TEST_REQUIRE(edited.status == 303U, edited.body);
  BOOST_TEST(text(approval("approval:order:1").at("status").at("status"))
             == "edited");
  BOOST_TEST(run("run-order-1").at("result").at("value").at("value")
             == (value{{"total", 900}}));

  // Keys with odd characters round-trip through the form and redirect.
  auto odd
    = post_form("/inbox/decide",
                hc::form_encode({{"key", special_key}, {"action", "approve"}}),
                admin_token);
  BOOST_TEST_REQUIRE(odd.status == 303U, odd.body);
  BOOST_TEST(odd.header("Location") == notice_location(special_key));
  BOOST_TEST(text(approval(special_key).at("status").at("status"))
             == "approved");
  BOOST_TEST(after->load() == 4);
}

BOOST_FIXTURE_TEST_CASE(refused_form_decisions_change_nothing, api_fixture) {
  const auto approve_inv_1 = hc::form_encode(
    {{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  auto login = expect_refused("a form without cookie", 401, "", [&] {
    return post_form("/inbox/decide", approve_inv_1, "");
  });
  SIGNOFF_CHECK_HAS(login.body, "<h1>Sign in</h1>");
  expect_refused("a form with an unknown cookie", 401, "", [&] {
    return post_form("/inbox/decide", approve_inv_1, "not-a-token-0123456789");
  });
  expect_refused("finance rejecting", 403, "", [&] {
    return post_form("/inbox/decide",
                     hc::form_encode({{"key", "approval:finance:inv_1"},
                                      {"action", "reject"},
                                      {"reason", "No"}}),
                     finance_token);
  });
  expect_refused("finance approving an order", 403, "", [&] {
    return post_form(
      "/inbox/decide",
      hc::form_encode({{"key", "approval:order:1"}, {"action", "approve"}}),
      finance_token);
  });
  expect_refused("the reader approving", 403, "", [&] {
    return post_form("/inbox/decide", approve_inv_1, reader_token);
  });
  const std::vector<std::pair<std::string, std::string>> bad{
    {"a reject without reason",
     hc::form_encode(
       {{"key", "approval:finance:inv_1"}, {"action", "reject"}})},
    {"an edit with a value that is not JSON",
     hc::form_encode({{"key", "approval:finance:inv_1"},
                      {"action", "edit"},
                      {"value", "{amount: 900"}})},
    {"an unknown action", hc::form_encode({{"key", "approval:finance:inv_1"},
                                           {"action", "approve-all"}})},
    {"no key", hc::form_encode({{"action", "approve"}})},
    {"a malformed form", "key=approval%zz&action=approve"},
    {"a form that is not UTF-8", "key=approval%E4&action=approve"},
  };
  for (const auto& [what, form] : bad)
    expect_refused(what, 400, "", [&] {
      return post_form("/inbox/decide", form, admin_token);
    });
  expect_refused("an unknown key", 404, "", [&] {
    return post_form("/inbox/decide",
                     hc::form_encode({{"key", "approval:finance:nobody-asked"},
                                      {"action", "approve"}}),
                     admin_token);
  });
  BOOST_TEST_REQUIRE(
    decide({{"key", "approval:finance:inv_1"}, {"action", "approve"}},
           finance_token)
      .status
    == 200U);
  auto conflict = expect_refused("deciding a decided approval", 409, "", [&] {
    return post_form("/inbox/decide",
                     hc::form_encode({{"key", "approval:finance:inv_1"},
                                      {"action", "reject"},
                                      {"reason", "Too late"}}),
                     admin_token);
  });
  SIGNOFF_CHECK_HAS(conflict.body, "already approved by finance-bot");
  expect_refused("GET on decide", 404, "",
                 [&] { return page("/inbox/decide", admin_token); });
  expect_refused("POST on the inbox", 404, "", [&] {
    return post_form("/inbox", approve_inv_1, admin_token);
  });
}

BOOST_FIXTURE_TEST_CASE(a_form_is_taken_only_with_its_page_s_token,
                        api_fixture) {
  const auto approve_inv_1 = hc::form_encode(
    {{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  // The token in the page is the one taken.
  auto shown = page(inbox_path("approval:finance:inv_1"), finance_token);
  const std::string marker = "<input type=\"hidden\" name=\"form\" value=\"";
  const auto at = shown.body.find(marker);
  BOOST_TEST_REQUIRE(at != std::string::npos, shown.body);
  const auto token_in_page = shown.body.substr(
    at + marker.size(),
    shown.body.find('"', at + marker.size()) - at - marker.size());
  for (const auto& [what, form] :
       std::vector<std::pair<std::string, std::string>>{
         {"no form token", approve_inv_1},
         {"an empty form token", "form=&" + approve_inv_1},
         {"another token's form token",
          "form=" + form_token_for(admin_token) + "&" + approve_inv_1},
         {"a form token cut short",
          "form=" + token_in_page.substr(0, 20) + "&" + approve_inv_1}}) {
    auto refused = expect_refused(what, 403, "", [&] {
      return send_form("/inbox/decide", form, finance_token);
    });
    SIGNOFF_CHECK_HAS(refused.body, "reload the page");
  }
  auto taken
    = send_form("/inbox/decide", "form=" + token_in_page + "&" + approve_inv_1,
                finance_token);
  BOOST_TEST(taken.status == 303U, taken.body);
}

BOOST_FIXTURE_TEST_CASE(forms_from_other_sites_are_refused, api_fixture) {
  const auto approve = [](const std::string& key) {
    return "form=" + form_token_for(admin_token) + "&"
           + hc::form_encode({{"key", key}, {"action", "approve"}});
  };
  const std::string self = "http://127.0.0.1:" + std::to_string(port);
  for (const auto& [what, headers] :
       std::vector<std::pair<std::string, hc::header_list>>{
         {"an Origin elsewhere", {{"Origin", "http://evil.example"}}},
         {"an Origin on another port",
          {{"Origin", "http://127.0.0.1:" + std::to_string(port + 1)}}},
         {"an opaque Origin", {{"Origin", "null"}}},
         {"a Referer elsewhere",
          {{"Referer", "http://evil.example/page?x=" + self}}},
         // Boost.URL 1.81 reads this as host 127.0.0.1, path ".evil...".
         {"an Origin that starts like ours",
          {{"Origin", "http://127.0.0.1.evil.example"}}}})
    expect_refused(what, 403, "", [&] {
      return send_form("/inbox/decide", approve("approval:finance:inv_1"),
                       admin_token, headers);
    });
  // Forms of other kinds are no forms of ours: a page elsewhere can send
  // text/plain without asking first.
  for (const auto& type :
       {"text/plain", "multipart/form-data; boundary=x", "application/json"})
    expect_refused(type, 415, "", [&] {
      return hc::send(port, "POST", "/inbox/decide",
                      {{"Content-Type", type},
                       {"Cookie", "signoff_token=" + std::string{admin_token}}},
                      approve("approval:finance:inv_1"));
    });
  // Our own pages, with and without saying where they are.
  auto same = send_form(
    "/inbox/decide", approve("approval:finance:inv_1"), admin_token,
    {{"Origin", self}, {"Referer", self + "/inbox/approval?key=x"}});
  BOOST_TEST(same.status == 303U, same.body);
  auto typed = send_form("/inbox/decide", approve("approval:finance:inv_2"),
                         admin_token);
  BOOST_TEST(typed.status == 303U, typed.body);
}

BOOST_FIXTURE_TEST_CASE(the_comment_form_adds_to_the_audit_trail, api_fixture) {
  const std::string key = "approval:finance:inv_1";
  const std::string form = "<form method=\"post\" action=\"/inbox/comment\">";
  auto shown = page(inbox_path(key), reader_token);
  BOOST_TEST_REQUIRE(shown.status == 200U, shown.body);
  SIGNOFF_CHECK_HAS(shown.body, form);
  SIGNOFF_CHECK_HAS(shown.body, "<textarea name=\"text\" id=\"comment-text\"");
  // The reader may comment, though it may decide nothing.
  BOOST_TEST(!contains(shown.body, decide_form));

  auto r = post_form("/inbox/comment",
                     hc::form_encode({{"key", key}, {"text", "<b>why?</b>"}}),
                     reader_token);
  BOOST_TEST_REQUIRE(r.status == 303U, r.body);
  BOOST_TEST(r.header("Location") == inbox_path(key) + "&notice=commented");
  auto after_comment = page(r.header("Location"), reader_token);
  SIGNOFF_CHECK_HAS(after_comment.body,
                    "<p class=\"notice\">Your comment was recorded.</p>");
  // Listed in the audit trail, its text escaped in the Reason column.
  SIGNOFF_CHECK_HAS(after_comment.body, "<td>commented</td><td>auditor</td>");
  SIGNOFF_CHECK_HAS(after_comment.body, "&lt;b&gt;why?&lt;/b&gt;");
  BOOST_TEST(!contains(after_comment.body, "<b>why?</b>"));
  BOOST_TEST(text(approval(key).at("status").at("status")) == "pending");

  // A decided approval has no decide forms left, but still the comment one.
  BOOST_TEST_REQUIRE(
    decide({{"key", key}, {"action", "approve"}}, finance_token).status
    == 200U);
  auto decided = page(inbox_path(key), admin_token);
  BOOST_TEST(!contains(decided.body, decide_form));
  SIGNOFF_CHECK_HAS(decided.body, form);
  auto late
    = post_form("/inbox/comment",
                hc::form_encode({{"key", key}, {"text", "done"}}), admin_token);
  BOOST_TEST(late.status == 303U, late.body);
  const auto entries = trail(key).as_array();
  BOOST_TEST(text(entries.back().at("action")) == "commented");
  BOOST_TEST(text(entries.back().at("actor")) == "admin");
  BOOST_TEST(text(entries.back().at("reason")) == "done");
}

BOOST_FIXTURE_TEST_CASE(refused_form_comments_change_nothing, api_fixture) {
  const auto comment_on = [](std::string_view key, std::string_view text) {
    return hc::form_encode(
      {{"key", std::string{key}}, {"text", std::string{text}}});
  };
  const auto inv_1 = comment_on("approval:finance:inv_1", "hi");
  expect_refused("a form without cookie", 401, "",
                 [&] { return post_form("/inbox/comment", inv_1, ""); });
  expect_refused("a key the token may not read", 403, "", [&] {
    return post_form("/inbox/comment", comment_on("approval:order:1", "hi"),
                     finance_token);
  });
  expect_refused("a stale form token", 403, "", [&] {
    return send_form("/inbox/comment",
                     "form=" + form_token_for(admin_token) + "&" + inv_1,
                     finance_token);
  });
  expect_refused("a form from another site", 403, "", [&] {
    return send_form("/inbox/comment",
                     "form=" + form_token_for(admin_token) + "&" + inv_1,
                     admin_token, {{"Origin", "http://evil.example"}});
  });
  expect_refused("text/plain", 415, "", [&] {
    return hc::send(port, "POST", "/inbox/comment",
                    {{"Content-Type", "text/plain"},
                     {"Cookie", "signoff_token=" + std::string{admin_token}}},
                    "form=" + form_token_for(admin_token) + "&" + inv_1);
  });
  expect_refused("an empty comment", 400, "", [&] {
    return post_form("/inbox/comment", comment_on("approval:finance:inv_1", ""),
                     admin_token);
  });
  expect_refused("no key", 400, "", [&] {
    return post_form("/inbox/comment", "text=hi", admin_token);
  });
  expect_refused("an unknown key", 404, "", [&] {
    return post_form("/inbox/comment",
                     comment_on("approval:finance:nobody-asked", "hi"),
                     admin_token);
  });
  expect_refused("GET on comment", 404, "",
                 [&] { return page("/inbox/comment", admin_token); });
}

BOOST_FIXTURE_TEST_CASE(pages_escape_what_users_wrote, api_fixture) {
  const std::string key = "approval:finance:<img src=x onerror=alert(1)>";
  const std::string escaped_key
    = "approval:finance:&lt;img src=x onerror=alert(1)&gt;";
  auto started = orch.execute(
    "gate",
    value{{"key", key},
          {"reason", "<script>alert('reason')</script>"},
          {"metadata", {{"note", "</code><script>alert(2)</script>"}}}},
    {"run-<b>xss</b>", {}});
  BOOST_TEST_REQUIRE(started.is_ok());

  auto list = page("/inbox", admin_token);
  BOOST_TEST_REQUIRE(list.status == 200U);
  SIGNOFF_CHECK_HAS(list.body, ">" + escaped_key + "</a>");
  SIGNOFF_CHECK_HAS(list.body,
                    "&lt;script&gt;alert(&#39;reason&#39;)&lt;/script&gt;");
  SIGNOFF_CHECK_HAS(list.body, "&lt;/code&gt;&lt;script&gt;alert(2)");
  SIGNOFF_CHECK_LACKS(list.body, "<img");
  SIGNOFF_CHECK_LACKS(list.body, "<script");

  // A notice is a code of ours; a URL cannot make the page say anything.
  auto detail = page(
    inbox_path(key) + "&notice=" + hc::url_encode("<script>alert(3)</script>"),
    admin_token);
  BOOST_TEST_REQUIRE(detail.status == 200U);
  SIGNOFF_CHECK_HAS(detail.body, "<h1>" + escaped_key + "</h1>");
  SIGNOFF_CHECK_HAS(detail.body, hidden_key(escaped_key));
  SIGNOFF_CHECK_LACKS(detail.body, "alert(3)");
  SIGNOFF_CHECK_LACKS(detail.body, "class=\"notice\"");
  auto said = page(inbox_path(key) + "&notice="
                     + hc::url_encode("Call +1 555 0100 to confirm"),
                   admin_token);
  SIGNOFF_CHECK_LACKS(said.body, "555 0100");
  SIGNOFF_CHECK_HAS(detail.body, "<code>run-&lt;b&gt;xss&lt;/b&gt;</code>");
  SIGNOFF_CHECK_LACKS(detail.body, "<img");
  SIGNOFF_CHECK_LACKS(detail.body, "<script");
  SIGNOFF_CHECK_LACKS(detail.body, "<b>");

  // A reason with markup, in the audit trail.
  BOOST_TEST_REQUIRE(
    decide({{"key", key}, {"action", "reject"}, {"reason", "<b>no</b>"}}).status
    == 200U);
  auto decided = page(inbox_path(key), admin_token);
  SIGNOFF_CHECK_HAS(decided.body, "<td>&lt;b&gt;no&lt;/b&gt;</td>");
  SIGNOFF_CHECK_LACKS(decided.body, "<b>");
}

BOOST_FIXTURE_TEST_CASE(dev_mode_works_without_a_token, no_auth_fixture) {
  auto inbox = page("/inbox", "");
  BOOST_TEST_REQUIRE(inbox.status == 200U, inbox.body);
  SIGNOFF_CHECK_HAS(inbox.body, "Signed in as anonymous");
  BOOST_TEST(count_of(inbox.body, "<tr><td><a href=") == runs.size());
  auto detail = page(inbox_path("approval:finance:inv_1"), "");
  BOOST_TEST_REQUIRE(detail.status == 200U);
  BOOST_TEST(count_of(detail.body, decide_form) == 3U);

  auto form = post_form(
    "/inbox/decide",
    hc::form_encode({{"key", "approval:finance:inv_1"}, {"action", "approve"}}),
    "");
  BOOST_TEST_REQUIRE(form.status == 303U, form.body);
  BOOST_TEST(
    text(approval("approval:finance:inv_1").at("status").at("decidedBy"))
    == "anonymous");

  // The JSON API too: the body's actorId is the actor, if there is one.
  BOOST_TEST(
    join(pending_of(port, "/api/approvals?prefix=approval%3Aorder%3A", ""))
    == "approval:order:1");
  auto named = decide({{"key", "approval:order:1"},
                       {"action", "approve"},
                       {"actorId", "dev@example.com"}},
                      "");
  BOOST_TEST_REQUIRE(named.status == 200U, named.body);
  BOOST_TEST(text(approval("approval:order:1").at("status").at("decidedBy"))
             == "dev@example.com");
  auto unnamed
    = decide({{"key", "approval:finance:inv_2"}, {"action", "approve"}}, "");
  BOOST_TEST_REQUIRE(unnamed.status == 200U, unnamed.body);
  BOOST_TEST(
    text(approval("approval:finance:inv_2").at("status").at("decidedBy"))
    == "anonymous");
  auto cancelled = post_json(run_path("run-quorum") + "/cancel", "", "");
  BOOST_TEST(cancelled.status == 200U, cancelled.body);
}

BOOST_FIXTURE_TEST_CASE(dev_mode_serves_only_its_own_host_names,
                        no_auth_fixture) {
  // DNS rebinding: a page on evil.example gets its name to resolve to us.
  for (const auto& host : std::vector<std::string>{
         "evil.example", "evil.example:" + std::to_string(port),
         "localhost.evil", ""})
    for (const auto& [target, format] :
         std::vector<std::pair<std::string, std::string>>{
           {"/api/approvals", "application/json"},
           {"/inbox", "text/html; charset=utf-8"}}) {
      auto r = expect_refused(host + target, 421, "", [&] {
        return hc::send(port, "GET", target, {{"Host", host}});
      });
      BOOST_TEST(r.header("Content-Type") == format);
    }
  expect_refused("an absolute URL elsewhere", 421, "", [&] {
    return hc::send_raw(port,
                        "GET http://evil.example/api/approvals HTTP/1.1"
                        "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  });
  for (const auto& host :
       {"127.0.0.1:" + std::to_string(port), std::string{"localhost"},
        "LOCALHOST:" + std::to_string(port), std::string{"[::1]:80"},
        std::string{"10.1.2.3"}})
    BOOST_TEST(hc::send(port, "GET", "/api/approvals", {{"Host", host}}).status
                 == 200U,
               host);
}

BOOST_FIXTURE_TEST_CASE(dev_mode_refuses_decisions_from_other_sites,
                        no_auth_fixture) {
  const auto body = boost::json::serialize(
    value{{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  // What a page elsewhere can send without asking first: a "simple" POST.
  for (const auto& [what, headers] :
       std::vector<std::pair<std::string, hc::header_list>>{
         {"JSON from elsewhere",
          {{"Content-Type", "text/plain"}, {"Origin", "http://evil.example"}}},
         {"JSON from elsewhere, by its Referer",
          {{"Content-Type", "application/json"},
           {"Referer", "http://evil.example/"}}}}) {
    auto r = expect_refused(what, 403, "FORBIDDEN", [&] {
      return hc::send(port, "POST", "/api/approvals", headers, body);
    });
  }
  expect_refused("a run cancelled from elsewhere", 403, "FORBIDDEN", [&] {
    return hc::send(port, "POST", run_path("run-fin-1") + "/cancel",
                    {{"Origin", "http://evil.example"}});
  });
  expect_refused("an inbox form from elsewhere", 403, "", [&] {
    return send_form("/inbox/decide",
                     "form=" + form_token_for("") + "&"
                       + hc::form_encode({{"key", "approval:finance:inv_1"},
                                          {"action", "approve"}}),
                     "", {{"Origin", "http://evil.example"}});
  });
  // A tool (no Origin) and our own pages still decide.
  auto tool = hc::send(port, "POST", "/api/approvals",
                       {{"Content-Type", "application/json"}}, body);
  BOOST_TEST(tool.status == 200U, tool.body);
  auto own
    = hc::send(port, "POST", "/api/approvals",
               {{"Content-Type", "application/json"},
                {"Origin", "http://127.0.0.1:" + std::to_string(port)}},
               boost::json::serialize(value{{"key", "approval:finance:inv_2"},
                                            {"action", "approve"}}));
  BOOST_TEST(own.status == 200U, own.body);
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// hardening: what one request must not do to the server, and what every
// answer says to the browser
// ============================================================================

BOOST_AUTO_TEST_SUITE(hardening)

/// A request for `target` with a chunked body and `trailers` after it.
std::string chunked(std::string_view method, std::string_view target,
                    const hc::header_list& headers, std::string_view body,
                    std::string_view trailers) {
  std::string out = std::string{method} + " " + std::string{target}
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      "Transfer-Encoding: chunked\r\n";
  for (const auto& [name, v] : headers)
    out += name + ": " + v + "\r\n";
  out += "\r\n";
  if (!body.empty()) {
    std::ostringstream size;
    size << std::hex << body.size();
    out += size.str() + "\r\n" + std::string{body} + "\r\n";
  }
  return out + "0\r\n" + std::string{trailers} + "\r\n";
}

BOOST_FIXTURE_TEST_CASE(a_huge_trailer_is_refused_and_the_server_lives,
                        api_fixture) {
  // Beast throws out of its parser for a trailer field of 65,534 bytes.
  for (const std::size_t size : {65'534U, 65'535U, 70'000U, 200'000U}) {
    auto r
      = hc::send_raw(port, chunked("GET", "/health", {}, "",
                                   "X: " + std::string(size, 'x') + "\r\n"));
    BOOST_TEST(r.status == 431U, size << ": " << r.status << " " << r.body);
    check_error_body(r, "INVALID_ARGUMENT");
  }
  auto many = hc::send_raw(port, chunked("GET", "/health", {}, "", [] {
                             std::string t;
                             for (int i = 0; i < 2000; ++i)
                               t += "X" + std::to_string(i) + ": "
                                    + std::string(60, 'x') + "\r\n";
                             return t;
                           }()));
  BOOST_TEST(many.status == 431U, many.body);
  // A chunk line is held whole as well: its extensions are no way around.
  auto extension = hc::send_raw(
    port, "POST /api/approvals HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
          "chunked\r\n\r\n1;"
            + std::string(20'000, 'e') + "\r\n{\r\n0\r\n\r\n");
  BOOST_TEST(extension.status == 431U, extension.body);
  BOOST_TEST(get("/health").status == 200U);
}

BOOST_FIXTURE_TEST_CASE(trailers_count_against_the_header_and_body_limits,
                        api_fixture) {
  const std::string small_trailer = "X-Checksum: abc\r\n";
  const auto ok
    = hc::send_raw(port, chunked("GET", "/health", {}, "", small_trailer));
  BOOST_TEST(ok.status == 200U, ok.body);
  // A header and trailers that fit 8 KiB each, but not together.
  const hc::header_list big_header{{"X-Pad", std::string(5000, 'h')}};
  BOOST_TEST(
    hc::send_raw(port, chunked("GET", "/health", big_header, "", small_trailer))
      .status
    == 200U);
  auto together
    = hc::send_raw(port, chunked("GET", "/health", big_header, "",
                                 "X-Pad: " + std::string(5000, 't') + "\r\n"));
  BOOST_TEST(together.status == 431U, together.body);
  // A body within its limit whose trailers take it past.
  const auto body = std::string(test_max_body - 100, ' ') + "{}";
  auto within = hc::send_raw(
    port, chunked("POST", "/api/approvals",
                  {{"Authorization", "Bearer " + std::string{admin_token}},
                   {"Content-Type", "application/json"}},
                  body, small_trailer));
  BOOST_TEST(within.status == 400U, within.body);
  auto past = hc::send_raw(
    port, chunked("POST", "/api/approvals",
                  {{"Authorization", "Bearer " + std::string{admin_token}},
                   {"Content-Type", "application/json"}},
                  body, "X-Pad: " + std::string(200, 't') + "\r\n"));
  BOOST_TEST(past.status == 413U, past.body);
}

BOOST_FIXTURE_TEST_CASE(a_trailer_never_adds_a_header, api_fixture) {
  const auto decision = boost::json::serialize(
    value{{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  expect_refused("a token in a trailer", 401, "UNAUTHORIZED", [&] {
    return hc::send_raw(
      port,
      chunked("POST", "/api/approvals", {{"Content-Type", "application/json"}},
              decision,
              "Authorization: Bearer " + std::string{admin_token} + "\r\n"));
  });
  expect_refused("a cookie in a trailer", 401, "", [&] {
    return hc::send_raw(
      port,
      chunked("POST", "/inbox/decide",
              {{"Content-Type", "application/x-www-form-urlencoded"}},
              "form=" + form_token_for(admin_token) + "&"
                + hc::form_encode(
                  {{"key", "approval:finance:inv_1"}, {"action", "approve"}}),
              "Cookie: signoff_token=" + std::string{admin_token} + "\r\n"));
  });
}

BOOST_FIXTURE_TEST_CASE(head_answers_like_get_without_a_body, api_fixture) {
  for (const auto& [target, token] :
       std::vector<std::pair<std::string, std::string_view>>{
         {"/health", ""},
         {"/api/approvals", admin_token},
         {"/api/approvals/nobody", admin_token},
         {"/inbox", admin_token},
         {"/nothing", ""}}) {
    const auto got = get(target, token);
    hc::connection c{port};
    BOOST_TEST_REQUIRE(c.send(
      "HEAD " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
      + std::string{token} + "\r\nCookie: signoff_token=" + std::string{token}
      + "\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n"
      + "Connection: close\r\n\r\n"));
    auto head = c.read(true);
    BOOST_TEST(head.status == got.status, target);
    BOOST_TEST(head.header("Content-Length") == std::to_string(got.body.size()),
               target);
    BOOST_TEST(head.header("Content-Type") == got.header("Content-Type"));
    // No body came: the next answer on the connection starts right away.
    auto next = c.read();
    BOOST_TEST(next.status == 200U, target << ": " << next.body);
    BOOST_TEST(next.body == R"({"status":"ok"})");
  }
}

BOOST_FIXTURE_TEST_CASE(expect_100_continue_is_answered, api_fixture) {
  const auto body = boost::json::serialize(
    value{{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  hc::connection c{port};
  BOOST_TEST_REQUIRE(
    c.send("POST /api/approvals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
           + std::string{admin_token}
           + "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
             "Content-Length: "
           + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n"));
  auto interim = c.read();
  BOOST_TEST_REQUIRE(interim.status == 100U, interim.body);
  BOOST_TEST_REQUIRE(c.send(body));
  auto decided = c.read();
  BOOST_TEST(decided.status == 200U, decided.body);
  BOOST_TEST(text(approval("approval:finance:inv_1").at("status").at("status"))
             == "approved");

  // A body over the limit is refused at once, before it is sent.
  hc::connection big{port};
  BOOST_TEST_REQUIRE(
    big.send("POST /api/approvals HTTP/1.1\r\nHost: x\r\nExpect: 100-continue"
             "\r\nContent-Length: "
             + std::to_string(test_max_body + 1) + "\r\n\r\n"));
  auto refused = big.read();
  BOOST_TEST(refused.status == 413U, refused.body);
}

BOOST_FIXTURE_TEST_CASE(absolute_form_targets_are_served, api_fixture) {
  const auto via = [&](std::string_view target, std::string_view extra = "") {
    return hc::send_raw(port, "GET " + std::string{target}
                                + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Authorization: Bearer "
                                + std::string{admin_token} + "\r\n"
                                + std::string{extra}
                                + "Connection: close\r\n\r\n");
  };
  const auto base = "http://127.0.0.1:" + std::to_string(port);
  auto health = via(base + "/health");
  BOOST_TEST(health.status == 200U, health.body);
  auto record = via(base + approval_path("approval:finance:inv_1"));
  BOOST_TEST(record.status == 200U, record.body);
  BOOST_TEST(text(record.json().at("key")) == "approval:finance:inv_1");
  auto listed = via("HTTP://LOCALHOST" + std::string{"/api/approvals?prefix="}
                    + hc::url_encode(special_key));
  BOOST_TEST(join(strings_of(listed.json().at("pending"))) == special_key);
  auto root = via(base);
  BOOST_TEST(root.status == 303U, root.body);
  for (const auto& bad :
       {"ftp://127.0.0.1/health", "http:///health", "http://user@h/health", "*",
        "127.0.0.1:80", "health"}) {
    auto r = via(bad);
    BOOST_TEST(r.status == 400U, bad << ": " << r.body);
  }
}

BOOST_FIXTURE_TEST_CASE(http_1_1_needs_one_host, api_fixture) {
  for (const auto& [what, wire] :
       std::vector<std::pair<std::string, std::string>>{
         {"no Host", "GET /health HTTP/1.1\r\n\r\n"},
         {"two Hosts", "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
         {"a Host with user information",
          "GET /health HTTP/1.1\r\nHost: me@a\r\n\r\n"},
         {"a Host that is no host",
          "GET /health HTTP/1.1\r\nHost: a b\r\n\r\n"}}) {
    auto r = expect_refused(what, 400, "INVALID_ARGUMENT",
                            [&] { return hc::send_raw(port, wire); });
  }
  auto old = hc::send_raw(port, "GET /health HTTP/1.0\r\n\r\n");
  BOOST_TEST(old.status == 200U, old.body);
}

BOOST_FIXTURE_TEST_CASE(every_answer_forbids_sniffing_and_leaking_urls,
                        api_fixture) {
  std::vector<std::pair<std::string, hc::response>> answers{
    {"health", get("/health", "")},
    {"a page", page("/inbox", admin_token)},
    {"a sign-in page", page("/inbox", "")},
    {"not found", get("/nothing")},
    {"a redirect", get("/", "")},
    {"malformed", hc::send_raw(port, "GET /health HTTP/1.x\r\n\r\n")},
    {"too large",
     hc::send(port, "POST", "/api/approvals", hc::bearer(admin_token),
              std::string(test_max_body + 1, 'x'))},
    {"a header too large",
     hc::send(port, "GET", "/health", {{"X-Big", std::string(9000, 'x')}})},
  };
  for (const auto& [what, r] : answers) {
    BOOST_TEST(r.status != 0U, what);
    BOOST_TEST(r.header("X-Content-Type-Options") == "nosniff", what);
    BOOST_TEST(r.header("Referrer-Policy") == "same-origin", what);
  }
  // No page of ours may be framed by another site.
  for (const auto& [what, r] : {answers[1], answers[2]}) {
    BOOST_TEST(r.header("X-Frame-Options") == "DENY", what);
    BOOST_TEST(
      contains(r.header("Content-Security-Policy"), "frame-ancestors 'none'"),
      what);
  }
}

/// Installs a fault hook before the server starts and removes it after it
/// stopped (a base listed before the server's).
struct fault_hook_installer {
  fault_hook_installer() {
    http::detail::fault_hook = [this](http::detail::connection_step step) {
      auto expected = static_cast<int>(step);
      if (armed.compare_exchange_strong(expected, -1))
        throw std::runtime_error("injected failure");
    };
  }
  ~fault_hook_installer() {
    http::detail::fault_hook = nullptr;
  }
  fault_hook_installer(const fault_hook_installer&) = delete;
  fault_hook_installer& operator=(const fault_hook_installer&) = delete;

  /// The step whose next run throws; -1 for none.
  std::atomic<int> armed{-1};
};

struct faulty_handler_fixture : fault_hook_installer, server_fixture {};

BOOST_FIXTURE_TEST_CASE(a_throwing_handler_closes_only_its_connection,
                        faulty_handler_fixture) {
  using step = http::detail::connection_step;
  const std::string keep_alive_then_close
    = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  for (const auto& [what, where] :
       std::vector<std::pair<std::string, step>>{{"accept", step::accept},
                                                 {"read", step::read},
                                                 {"route", step::route},
                                                 {"write", step::write}}) {
    BOOST_TEST_INFO_SCOPE(what);
    const auto logged_before = logged().size();
    armed = static_cast<int>(where);
    hc::connection c{port};
    BOOST_TEST_REQUIRE(c.send(keep_alive_then_close));
    auto first = c.read();
    if (where == step::write) {
      // It threw once the first answer was written: no second one.
      BOOST_TEST(first.status == 200U);
      BOOST_TEST(c.read().status == 0U);
    } else {
      BOOST_TEST(first.status == 0U, first.body);
    }
    BOOST_TEST(c.closed());
    BOOST_TEST(armed.load() == -1, "the hook did not run");
    // One line says so, and the server goes on. (Its end seen, the
    // server is done with that connection: the hook cannot fire there.)
    const auto lines = logged();
    BOOST_TEST_REQUIRE(lines.size() == logged_before + 1);
    BOOST_TEST(contains(lines.back(), "injected failure"), lines.back());
    hc::connection after{port};
    BOOST_TEST_REQUIRE(after.send(
      "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    BOOST_TEST(after.read().status == 200U);
    BOOST_TEST(after.closed());
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// async: calls to the orchestrator hold no io thread while in flight
// ============================================================================

namespace {

/// Where the held workflow's step blocks until the test opens it, counting
/// the runs that reached it and went past it. Waits are bounded, so a
/// server that cannot get the runs there fails instead of hanging.
class hold_latch {
public:
  /// The step's body: waits until `open`.
  void hold() {
    std::unique_lock lock{mutex_};
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    ++passed_;
    changed_.notify_all();
  }
  void open() {
    std::lock_guard lock{mutex_};
    open_ = true;
    changed_.notify_all();
  }
  /// True once `n` runs are held.
  bool entered(int n) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, limit, [&] { return entered_ >= n; });
  }
  /// True once `n` runs went past.
  bool passed(int n) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, limit, [&] { return passed_ >= n; });
  }
  int passed_now() {
    std::lock_guard lock{mutex_};
    return passed_;
  }

private:
  static constexpr auto limit = std::chrono::seconds{20};
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int entered_ = 0;
  int passed_ = 0;
};

/// Waits for the approval `input.key`, then blocks in a plain step (on the
/// step executor) until the latch opens. A decision with auto-resume waits
/// for that step, so its reply waits for the latch.
workflow held_workflow(std::shared_ptr<hold_latch> latch) {
  return [latch](step& step, const value& in) -> task<model::result<value>> {
    const std::string key{in.as_object().at("key").as_string()};
    auto decided = co_await step.try_approval(key, model::approval_options{});
    // A pointer: g++ 12 destroyed a shared_ptr captured in this temporary
    // lambda twice under ASan. The workflow's own copy keeps it alive.
    co_await step.run("hold", [held = latch.get()] { held->hold(); });
    co_return value{{"approved", decided.is_ok()}};
  };
}

/// The seeded server with the held workflow; the latch opens before the
/// server stops, so a failing test never leaves a decision stuck.
struct held_fixture : server_fixture {
  held_fixture() {
    orch.register_workflow("held", held_workflow(latch));
  }
  ~held_fixture() {
    latch->open();
  }
  held_fixture(const held_fixture&) = delete;
  held_fixture& operator=(const held_fixture&) = delete;

  /// Starts run `run_id` of the held workflow, paused on `key`.
  void pause_held(const std::string& run_id, const std::string& key) {
    auto started = orch.execute("held", value{{"key", key}}, {run_id, {}});
    BOOST_REQUIRE(started.is_ok());
    BOOST_REQUIRE(started->status == model::run_status::paused);
  }

  /// The bytes of an admin's approval of `key`, kept alive.
  static std::string approve_request(const std::string& key) {
    const auto body
      = boost::json::serialize(value{{"key", key}, {"action", "approve"}});
    return "POST /api/approvals HTTP/1.1\r\nHost: x\r\nAuthorization: "
           "Bearer "
           + std::string{admin_token}
           + "\r\nContent-Type: application/json\r\nContent-Length: "
           + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  std::shared_ptr<hold_latch> latch = std::make_shared<hold_latch>();
};

} // namespace

BOOST_AUTO_TEST_SUITE(async)

BOOST_FIXTURE_TEST_CASE(slow_decisions_hold_no_io_thread, held_fixture) {
  // Twice as many decisions in flight as the server has threads.
  BOOST_TEST_REQUIRE(http::server_options{}.threads == 2U);
  constexpr int held = 4;
  const auto key = [](int i) {
    return "approval:held:" + std::to_string(i);
  };
  for (int i = 0; i < held; ++i)
    pause_held("run-held-" + std::to_string(i), key(i));
  std::vector<std::unique_ptr<hc::connection>> deciding;
  for (int i = 0; i < held; ++i) {
    deciding.push_back(std::make_unique<hc::connection>(port));
    BOOST_TEST_REQUIRE(deciding.back()->send(approve_request(key(i))));
  }
  // Every run got its decision and now holds its decision's reply: were a
  // thread waiting on each, only two would have got this far.
  BOOST_TEST_REQUIRE(latch->entered(held), "the decisions were not all taken");

  // Meanwhile the server answers everything else.
  BOOST_TEST(get("/health", "").status == 200U);
  BOOST_TEST(text(approval(key(0)).at("status").at("status")) == "approved");
  BOOST_TEST(pending("approval:finance:inv").size() == 2U);
  auto other
    = decide({{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  BOOST_TEST(other.status == 200U, other.body);
  BOOST_TEST(join(strings_of(other.json().at("resumedWorkflows")))
             == "run-fin-1");
  auto cancelled = post_json(run_path("run-fin-2") + "/cancel", "{}");
  BOOST_TEST(cancelled.status == 200U, cancelled.body);
  BOOST_TEST(page("/inbox", admin_token).status == 200U);
  BOOST_TEST(latch->passed_now() == 0, "a held run went on before the latch");

  // Opened, every held decision completes and answers its own connection.
  latch->open();
  for (int i = 0; i < held; ++i) {
    BOOST_TEST_INFO_SCOPE("decision " << i);
    auto r = deciding[static_cast<std::size_t>(i)]->read();
    BOOST_TEST(r.status == 200U, r.body);
    BOOST_TEST(text(r.json().at("approval").at("key")) == key(i));
    BOOST_TEST(join(strings_of(r.json().at("resumedWorkflows")))
               == "run-held-" + std::to_string(i));
  }
  BOOST_TEST(latch->passed_now() == held);
  BOOST_TEST(text(run("run-held-3").at("status")) == "completed");
}

BOOST_FIXTURE_TEST_CASE(pipelined_requests_keep_their_order_behind_a_call,
                        held_fixture) {
  pause_held("run-held", "approval:held:pipelined");
  hc::connection c{port};
  BOOST_TEST_REQUIRE(c.send(approve_request("approval:held:pipelined")
                            + "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET "
                            + approval_path("approval:held:pipelined")
                            + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                            + std::string{admin_token}
                            + "\r\nConnection: close\r\n\r\n"));
  BOOST_TEST_REQUIRE(latch->entered(1));
  // The connection waits; others do not.
  BOOST_TEST(get("/health", "").status == 200U);
  latch->open();
  auto decided = c.read();
  BOOST_TEST(decided.status == 200U, decided.body);
  BOOST_TEST(decided.json().at("success") == true, decided.body);
  auto health = c.read();
  BOOST_TEST(health.body == R"({"status":"ok"})");
  auto record = c.read();
  BOOST_TEST(record.status == 200U, record.body);
  BOOST_TEST(text(record.json().at("status").at("status")) == "approved");
  BOOST_TEST(c.closed());
}

BOOST_FIXTURE_TEST_CASE(a_client_gone_while_its_call_waits_harms_nothing,
                        held_fixture) {
  pause_held("run-held", "approval:held:gone");
  {
    hc::connection c{port};
    BOOST_TEST_REQUIRE(c.send(approve_request("approval:held:gone")));
    BOOST_TEST_REQUIRE(latch->entered(1));
  } // the client closes its connection
  latch->open();
  BOOST_TEST_REQUIRE(latch->passed(1));
  // The decision stands, its answer went nowhere, and the server goes on.
  BOOST_TEST(text(approval("approval:held:gone").at("status").at("status"))
             == "approved");
  BOOST_TEST(get("/health", "").status == 200U);
  BOOST_TEST(logged().empty(), join(logged(), false));
}

BOOST_FIXTURE_TEST_CASE(a_server_stopped_while_calls_wait_drops_their_answers,
                        held_fixture) {
  pause_held("run-held-0", "approval:held:stop-0");
  pause_held("run-held-1", "approval:held:stop-1");
  hc::connection first{port};
  hc::connection second{port};
  BOOST_TEST_REQUIRE(first.send(approve_request("approval:held:stop-0")));
  BOOST_TEST_REQUIRE(second.send(approve_request("approval:held:stop-1")));
  BOOST_TEST_REQUIRE(latch->entered(2));
  // Stopping waits for no call (bounded, so a server that does fails).
  auto stopping = std::async(std::launch::async, [&] { server->stop(); });
  if (stopping.wait_for(std::chrono::seconds{20})
      != std::future_status::ready) {
    latch->open();
    stopping.wait();
    BOOST_FAIL("stopping the server waited for the calls in flight");
  }
  server.reset();
  // The connections went with the server; the replies come after it.
  BOOST_TEST(first.read().status == 0U);
  BOOST_TEST(first.closed());
  latch->open();
  BOOST_TEST_REQUIRE(latch->passed(2));
  BOOST_TEST(second.read().status == 0U);
  for (const auto* key : {"approval:held:stop-0", "approval:held:stop-1"}) {
    auto record = orch.get_approval(key);
    BOOST_TEST_REQUIRE(record.is_ok());
    BOOST_TEST(model::to_string(record->status.state) == "approved");
  }
}

BOOST_FIXTURE_TEST_CASE(a_reply_that_throws_closes_only_its_connection,
                        hardening::faulty_handler_fixture) {
  armed = static_cast<int>(http::detail::connection_step::reply);
  hc::connection c{port};
  const auto body = boost::json::serialize(
    value{{"key", "approval:finance:inv_1"}, {"action", "approve"}});
  BOOST_TEST_REQUIRE(
    c.send("POST /api/approvals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
           + std::string{admin_token}
           + "\r\nContent-Type: application/json\r\nContent-Length: "
           + std::to_string(body.size()) + "\r\n\r\n" + body));
  BOOST_TEST(c.read().status == 0U);
  BOOST_TEST(c.closed());
  BOOST_TEST(armed.load() == -1, "the hook did not run");
  const auto lines = logged();
  BOOST_TEST_REQUIRE(lines.size() == 1U);
  BOOST_TEST(contains(lines.back(), "injected failure"), lines.back());
  // The decision was made all the same; only its answer was lost.
  BOOST_TEST(text(approval("approval:finance:inv_1").at("status").at("status"))
             == "approved");
  BOOST_TEST(get("/health", "").status == 200U);
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// end_to_end: the real signoffd on a temporary directory
// ============================================================================

BOOST_AUTO_TEST_SUITE(end_to_end)

/// The id of the run paused on `key`, found through the API.
std::string run_waiting_on(std::uint16_t port, std::string_view token,
                           std::string_view key) {
  std::string found;
  for (const auto& id : pending_of(port, "/api/workflows", token)) {
    auto r = get_as(port, run_path(id), token);
    BOOST_TEST_REQUIRE(r.status == 200U, r.body);
    for (const auto& k : strings_of(r.json().at("pendingApprovals")))
      if (k == key)
        found = id;
  }
  return found;
}

BOOST_AUTO_TEST_CASE(approve_the_demo_order_then_restart) {
  test::temp_dir dir;
  const auto data = (dir.path() / "data").string();
  const std::string order_key = "approval:order:ord_123";
  std::string run_id;
  std::string completed_run;
  std::string old_token;
  std::vector<std::string> other_runs;
  {
    signoffd_process server{
      dir.path(), "first", {"--data", data, "--port", "0"}};
    BOOST_TEST_REQUIRE(server.wait_until_listening(),
                       "signoffd did not start: " << server.out()
                                                  << server.err());
    const auto port = server.port;
    const auto& token = server.admin_token;
    old_token = token;
    BOOST_TEST(get_as(port, "/health", "").status == 200U);
    BOOST_TEST(get_as(port, "/api/approvals", "").status == 401U);

    // The seeded demo: two orders and an expense, each waiting.
    BOOST_TEST(join(pending_of(port, "/api/approvals", token))
               == "approval:expense:exp_7 | approval:order:ord_123 | "
                  "approval:order:ord_124");
    BOOST_TEST(pending_of(port, "/api/workflows?name=order", token).size()
               == 2U);
    BOOST_TEST(pending_of(port, "/api/workflows", token).size() == 3U);
    run_id = run_waiting_on(port, token, order_key);
    BOOST_TEST_REQUIRE(!run_id.empty());
    auto order = get_as(port, approval_path(order_key), token);
    BOOST_TEST_REQUIRE(order.status == 200U, order.body);
    const auto meta = order.json().at("metadata");
    BOOST_TEST(text(meta.at("customer")) == "ACME Corp");
    BOOST_TEST(meta.at("total").to_number<double>() == 15000.0);
    BOOST_TEST(text(order.json().at("pendingReason"))
               == "Orders above 10,000 need a manager");

    // Approve it through HTTP: the run ships the order.
    auto approved
      = post_json_as(port, "/api/approvals",
                     R"({"key":"approval:order:ord_123","action":"approve",)"
                     R"("value":{"approvedBy":"jane"}})",
                     token);
    BOOST_TEST_REQUIRE(approved.status == 200U, approved.body);
    BOOST_TEST(join(strings_of(approved.json().at("resumedWorkflows")))
               == run_id);
    auto finished = get_as(port, run_path(run_id), token);
    BOOST_TEST_REQUIRE(finished.status == 200U, finished.body);
    auto state = finished.json();
    BOOST_TEST(text(state.at("status")) == "completed");
    BOOST_TEST(text(state.at("workflowName")) == "order");
    const auto& result = state.at("result").at("value");
    BOOST_TEST(text(result.at("orderId")) == "ord_123");
    BOOST_TEST(text(result.at("outcome")) == "shipped");
    BOOST_TEST(result.at("total").to_number<double>() == 15000.0);
    BOOST_TEST(state.at("resumeState").as_object().contains("ship-order"));
    completed_run = finished.body;
    other_runs = pending_of(port, "/api/workflows", token);
    BOOST_TEST(join(pending_of(port, "/api/approvals", token))
               == "approval:expense:exp_7 | approval:order:ord_124");

    BOOST_TEST(server.terminate() == 0, server.err());
    BOOST_TEST(contains(server.out(), "signoffd stopping"));
  }
  {
    signoffd_process server{
      dir.path(), "second", {"--data", data, "--port", "0"}};
    BOOST_TEST_REQUIRE(server.wait_until_listening(),
                       "signoffd did not restart: " << server.out()
                                                    << server.err());
    const auto port = server.port;
    const auto& token = server.admin_token;
    // A new admin token each start; the old one is refused.
    BOOST_TEST(token != old_token);
    BOOST_TEST(get_as(port, "/api/approvals", old_token).status == 401U);

    // The completed run and the other waiting approvals survived...
    auto finished = get_as(port, run_path(run_id), token);
    BOOST_TEST(finished.status == 200U);
    BOOST_TEST(finished.body == completed_run);
    BOOST_TEST(join(pending_of(port, "/api/approvals", token))
               == "approval:expense:exp_7 | approval:order:ord_124");
    // ...and the demo was not seeded again.
    BOOST_TEST(join(pending_of(port, "/api/workflows", token))
               == join(other_runs));
    BOOST_TEST(pending_of(port, "/api/workflows?name=order", token).size()
               == 1U);
    auto trail = get_as(port, approval_path(order_key) + "/audit", token);
    BOOST_TEST_REQUIRE(trail.status == 200U);
    const auto entries = trail.json().at("trail").as_array();
    BOOST_TEST_REQUIRE(entries.size() == 2U);
    BOOST_TEST(text(entries[0].at("action")) == "created");
    BOOST_TEST(text(entries[1].at("action")) == "approved");
    BOOST_TEST(text(entries[1].at("actor")) == "admin");
    auto conflict = post_json_as(
      port, "/api/approvals",
      R"({"key":"approval:order:ord_123","action":"reject","reason":"x"})",
      token);
    BOOST_TEST(conflict.status == 409U, conflict.body);

    // The inbox of the real server, signed in with the printed token.
    SIGNOFF_CHECK_HAS(server.out(),
                      "inbox: http://127.0.0.1:" + std::to_string(port)
                        + "/inbox (sign in with the admin token)");
    SIGNOFF_CHECK_LACKS(server.out(), "token=");
    auto login
      = hc::send(port, "POST", "/login",
                 {{"Content-Type", "application/x-www-form-urlencoded"}},
                 "token=" + token);
    BOOST_TEST_REQUIRE(login.status == 303U);
    auto inbox = hc::send(
      port, "GET", "/inbox",
      {{"Cookie", login.header("Set-Cookie")
                    .substr(0, login.header("Set-Cookie").find(';'))}});
    BOOST_TEST(inbox.status == 200U);
    SIGNOFF_CHECK_HAS(inbox.body, ">approval:order:ord_124</a>");
    SIGNOFF_CHECK_HAS(inbox.body, ">approval:expense:exp_7</a>");
    SIGNOFF_CHECK_LACKS(inbox.body, ">approval:order:ord_123</a>");
    SIGNOFF_CHECK_HAS(inbox.body, "<td>0 of 2</td>");

    BOOST_TEST(server.terminate() == 0, server.err());
  }
}

BOOST_AUTO_TEST_CASE(dev_mode_only_with_the_flag) {
  test::temp_dir dir;
  signoffd_process server{dir.path(),
                          "dev",
                          {"--data", (dir.path() / "data").string(), "--port",
                           "0", "--dev-no-auth", "--no-seed"}};
  BOOST_TEST_REQUIRE(server.wait_until_listening(), server.out()
                                                      << server.err());
  SIGNOFF_CHECK_HAS(server.out(), "WARNING: --dev-no-auth");
  auto list = get_as(server.port, "/api/approvals", "");
  BOOST_TEST(list.status == 200U, list.body);
  BOOST_TEST(list.json() == (value{{"pending", boost::json::array{}}}));
  BOOST_TEST(get_as(server.port, "/api/workflows", "").json()
             == (value{{"pending", boost::json::array{}}}));
  auto inbox = hc::send(server.port, "GET", "/inbox");
  BOOST_TEST(inbox.status == 200U);
  SIGNOFF_CHECK_HAS(inbox.body, "Nothing waits for you.");
  BOOST_TEST(server.terminate() == 0);
}

BOOST_AUTO_TEST_CASE(token_flags_grant_limited_access) {
  test::temp_dir dir;
  const auto data = (dir.path() / "data").string();
  {
    // A read-only token for every key (no prefixes).
    signoffd_process server{dir.path(),
                            "reader",
                            {"--data", data, "--port", "0", "--token",
                             "ops:ops-secret-0123456789::read"}};
    BOOST_TEST_REQUIRE(server.wait_until_listening(), server.out()
                                                        << server.err());
    BOOST_TEST(
      pending_of(server.port, "/api/approvals", "ops-secret-0123456789").size()
      == 3U);
    auto refused
      = post_json_as(server.port, "/api/approvals",
                     R"({"key":"approval:order:ord_124","action":"approve"})",
                     "ops-secret-0123456789");
    BOOST_TEST(refused.status == 403U, refused.body);
    BOOST_TEST(server.terminate() == 0);
  }
  {
    // A manager limited to orders: the prefix has colons in it, as every
    // approval key does. The demo's orders are for the managers group:
    // a clerk who may approve them but is not a manager is refused.
    signoffd_process server{
      dir.path(),
      "manager",
      {"--data", data, "--port", "0", "--token",
       "manager:manager-secret-0123456789:approval:order::read,approve",
       "--token", "clerk:clerk-secret-0123456789:approval:order::read,approve",
       "--group", "managers:manager,someone"}};
    const auto code = server.wait_exit_or_listen();
    BOOST_TEST_REQUIRE(!code.has_value(),
                       "signoffd refused the token spec (exit "
                         << code.value_or(0) << "): " << server.err());
    const std::string token = "manager-secret-0123456789";
    BOOST_TEST(join(pending_of(server.port, "/api/approvals", token))
               == "approval:order:ord_123 | approval:order:ord_124");
    BOOST_TEST(
      get_as(server.port, approval_path("approval:expense:exp_7"), token).status
      == 403U);
    auto outsider
      = post_json_as(server.port, "/api/approvals",
                     R"({"key":"approval:order:ord_124","action":"approve"})",
                     "clerk-secret-0123456789");
    BOOST_TEST(outsider.status == 403U, outsider.body);
    BOOST_TEST(text(outsider.json().at("error")) == "FORBIDDEN");
    auto approved = post_json_as(
      server.port, "/api/approvals",
      R"({"key":"approval:order:ord_124","action":"approve"})", token);
    BOOST_TEST(approved.status == 200U, approved.body);
    BOOST_TEST(text(approved.json().at("approval").at("status").at("decidedBy"))
               == "manager");
    BOOST_TEST(server.terminate() == 0);
  }
}

BOOST_AUTO_TEST_CASE(a_bad_token_is_refused_before_anything_is_written) {
  test::temp_dir dir;
  const auto data = dir.path() / "data";
  signoffd_process server{
    dir.path(),
    "bad-token",
    {"--data", data.string(), "--port", "0", "--token", "ops:short::read"}};
  const auto code = server.wait_exit_or_listen();
  BOOST_TEST_REQUIRE(code.has_value(), "signoffd started: " << server.out());
  BOOST_TEST(*code == 2);
  BOOST_TEST(!std::filesystem::exists(data), "the directory was made");
}

BOOST_AUTO_TEST_CASE(the_demo_is_seeded_once) {
  test::temp_dir dir;
  const auto data = (dir.path() / "data").string();
  {
    signoffd_process server{
      dir.path(), "first", {"--data", data, "--port", "0"}};
    BOOST_TEST_REQUIRE(server.wait_until_listening(), server.err());
    const auto paused
      = pending_of(server.port, "/api/workflows", server.admin_token);
    BOOST_TEST_REQUIRE(paused.size() == 3U);
    // Nothing left paused: a start that seeds when nothing is paused
    // would seed again.
    for (const auto& id : paused)
      BOOST_TEST_REQUIRE(post_json_as(server.port, run_path(id) + "/cancel", "",
                                      server.admin_token)
                           .status
                         == 200U);
    BOOST_TEST(server.terminate() == 0, server.err());
  }
  signoffd_process again{dir.path(), "again", {"--data", data, "--port", "0"}};
  BOOST_TEST_REQUIRE(again.wait_until_listening(), again.err());
  BOOST_TEST(
    pending_of(again.port, "/api/workflows", again.admin_token).empty());
  auto all = get_as(again.port, "/api/runs", again.admin_token);
  BOOST_TEST(all.json().at("runs").as_array().size() == 3U, all.body);
  BOOST_TEST(again.terminate() == 0, again.err());
}

BOOST_AUTO_TEST_CASE(sigterm_stops_it_while_a_receiver_hangs) {
  test::temp_dir dir;
  test::silent_receiver silent;
  signoffd_process server{dir.path(),
                          "hung",
                          {"--data", (dir.path() / "data").string(), "--port",
                           "0", "--notify", silent.url()}};
  BOOST_TEST_REQUIRE(server.wait_until_listening(), server.err());
  // The seeded runs' notifications are on their way to a receiver that
  // took the connection and will never answer.
  BOOST_TEST_REQUIRE(test::eventually([&] { return silent.accepted() >= 1; }));
  BOOST_TEST(server.terminate() == 0, server.err());
  BOOST_TEST(contains(server.out(), "signoffd stopping"));
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
  test::temp_dir dir;
  const auto data = (dir.path() / "data").string();
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
    {"an unknown flag", {"--data", data, "--port", "0", "--frobnicate"}},
    {"a flag without its value", {"--data", data, "--port"}},
    {"a short token secret",
     {"--data", data, "--port", "0", "--token", "ops:short::read"}},
    {"an unknown permission",
     {"--data", data, "--port", "0", "--token",
      "ops:ops-secret-0123456789::read,launch"}},
    {"a port that is not a number", {"--data", data, "--port", "http"}},
    {"a port out of range", {"--data", data, "--port", "70000"}},
    {"a group without members",
     {"--data", data, "--port", "0", "--group", "managers"}},
  };
  int n = 0;
  for (const auto& [what, args] : cases) {
    BOOST_TEST_INFO_SCOPE(what);
    signoffd_process server{dir.path(), "bad" + std::to_string(n++), args};
    const auto code = server.wait_exit_or_listen();
    if (!code) {
      BOOST_ERROR(what << ": signoffd started anyway: " << server.out());
      continue;
    }
    BOOST_TEST(*code == 2, what << ": exit " << *code << "; " << server.err());
    BOOST_TEST(!server.err().empty());
  }
}

BOOST_AUTO_TEST_SUITE_END()
