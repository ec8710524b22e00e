// Who may decide, over HTTP: tokens' identities and groups checked against
// approvals' assignees and candidate groups (403 for the others, changing
// nothing), the admin permission, bulk decisions checked per key,
// reassigning and delegating, and the inbox's views built on them.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "client.hpp"
#include "signoff/http/auth.hpp"
#include "signoff/http/server.hpp"
#include "signoff/persistence/memory_store.hpp"
#include "test_server.hpp"

using namespace signoff;
using namespace signoff::test;
namespace hc = signoff::test::http_client;
using boost::json::value;

namespace {

constexpr std::string_view alice_token = "alice-secret-token-0123456789";
constexpr std::string_view bob_token = "bob-secret-token-0123456789";
constexpr std::string_view carol_token = "carol-secret-token-0123456789";
constexpr std::string_view mallory_token = "mallory-secret-token-0123456789";
constexpr std::string_view root_token = "root-secret-token-0123456789";
constexpr std::string_view auditor_token = "auditor-secret-token-0123456789";

/// Waits for the approval `input.key`, asked for with the assignees,
/// candidate groups, priority and deadline (hours) the input names.
workflow assigned_workflow() {
  return [](step& step, const value& in) -> task<model::result<value>> {
    const auto& obj = in.as_object();
    model::approval_options options;
    options.assignees
      = boost::json::value_to<std::vector<std::string>>(obj.at("assignees"));
    options.candidate_groups
      = boost::json::value_to<std::vector<std::string>>(obj.at("groups"));
    options.priority = obj.at("priority").to_number<std::int32_t>();
    options.expires_in = std::chrono::hours{obj.at("hours").to_number<int>()};
    const std::string key{obj.at("key").as_string()};
    auto decided = co_await step.try_approval(key, options);
    co_return value{{"approved", decided.is_ok()}};
  };
}

/// A server over memory stores. Tokens (every deciding permission and
/// `assign` unless said): alice; bob, in group finance; carol, in group
/// ops; mallory, in no group; root, with `admin`; auditor (read only).
struct assignment_fixture {
  orchestrator orch;
  std::unique_ptr<http::http_server> server;
  std::uint16_t port = 0;

  assignment_fixture() : orch(memory_options()) {
    orch.register_workflow("assigned", assigned_workflow());
    auto options
      = test_server_options(64 * 1024, std::string{test_link_secret});
    using p = http::permission;
    const std::set<p> decide{p::read, p::approve, p::reject,
                             p::edit, p::cancel,  p::assign};
    options.tokens.add(alice_token, {"alice", {}, decide});
    options.tokens.add(bob_token, {"bob", {}, decide});
    options.tokens.add(carol_token, {"carol", {}, decide});
    options.tokens.add(mallory_token, {"mallory", {}, decide});
    auto with_admin = decide;
    with_admin.insert(p::admin);
    options.tokens.add(root_token, {"root", {}, with_admin});
    options.tokens.add(auditor_token, {"auditor", {}, {p::read}});
    options.tokens.add_group("finance", {"bob"});
    options.tokens.add_group("ops", {"carol"});
    server = std::make_unique<http::http_server>(orch, std::move(options));
    BOOST_REQUIRE(server->start().is_ok());
    port = server->port();
  }
  ~assignment_fixture() {
    server->stop();
  }
  assignment_fixture(const assignment_fixture&) = delete;
  assignment_fixture& operator=(const assignment_fixture&) = delete;

  static orchestrator_options memory_options() {
    orchestrator_options options;
    options.approval_store = persistence::make_memory_approval_store();
    options.workflow_state_store
      = persistence::make_memory_workflow_state_store();
    return options;
  }

  /// Starts a run waiting on `key`, asked for as the arguments say.
  void start(const std::string& key, std::vector<std::string> assignees,
             std::vector<std::string> groups, int priority = 0,
             int hours = 72) {
    auto run = orch.execute(
      "assigned", value{{"key", key},
                        {"assignees", boost::json::value_from(assignees)},
                        {"groups", boost::json::value_from(groups)},
                        {"priority", priority},
                        {"hours", hours}});
    BOOST_REQUIRE(run.is_ok());
    BOOST_REQUIRE(run->status == model::run_status::paused);
  }

  hc::response post(const std::string& target, const value& body,
                    std::string_view token) const {
    auto headers = hc::bearer(token);
    headers.emplace_back("Content-Type", "application/json");
    return hc::send(port, "POST", target, headers,
                    boost::json::serialize(body));
  }
  hc::response post_text(const std::string& target, std::string body,
                         std::string_view token) const {
    auto headers = hc::bearer(token);
    headers.emplace_back("Content-Type", "application/json");
    return hc::send(port, "POST", target, headers, std::move(body));
  }
  hc::response decide(const std::string& key, std::string_view action,
                      std::string_view token) const {
    value body{{"key", key}, {"action", action}};
    if (action == "reject")
      body.as_object()["reason"] = "no";
    if (action == "edit")
      body.as_object()["value"] = {{"amount", 1}};
    return post("/api/approvals", body, token);
  }
  /// The approval and its audit trail as the API shows them.
  std::string state(const std::string& key) const {
    auto path = approval_path(key);
    return hc::send(port, "GET", path, hc::bearer(root_token)).body
           + hc::send(port, "GET", path + "/audit", hc::bearer(root_token))
               .body;
  }
  value approval(const std::string& key) const {
    return hc::send(port, "GET", approval_path(key), hc::bearer(root_token))
      .json();
  }
  hc::response page(const std::string& target, std::string_view token) const {
    return hc::send(port, "GET", target,
                    {{"Cookie", "signoff_token=" + std::string{token}}});
  }
  hc::response post_form(const std::string& target, hc::header_list fields,
                         std::string_view token) const {
    fields.insert(fields.begin(), {"form", form_token_for(token)});
    return hc::send(port, "POST", target,
                    {{"Cookie", "signoff_token=" + std::string{token}},
                     {"Content-Type", "application/x-www-form-urlencoded"}},
                    hc::form_encode(fields));
  }
};

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// A 403 with the API's error JSON, leaving `key` as `before`.
void check_forbidden(const assignment_fixture& f, const hc::response& r,
                     const std::string& key, const std::string& before) {
  BOOST_TEST(r.status == 403U, r.body);
  BOOST_TEST(r.json().at("success") == false);
  BOOST_TEST(r.json().at("error") == "FORBIDDEN");
  BOOST_TEST(f.state(key) == before);
}

} // namespace

BOOST_AUTO_TEST_SUITE(assignment_api)

BOOST_AUTO_TEST_CASE(groups_and_admin_are_configured_like_tokens) {
  http::token_registry tokens;
  BOOST_TEST(!tokens.add_group_spec("finance:bob,alice"));
  BOOST_TEST(!tokens.add_group_spec("ops:bob"));
  BOOST_TEST(tokens.groups_of("bob")
             == (std::vector<std::string>{"finance", "ops"}));
  BOOST_TEST(tokens.groups_of("alice") == std::vector<std::string>{"finance"});
  BOOST_TEST(tokens.groups_of("nobody").empty());
  BOOST_TEST(tokens.add_group_spec("finance").has_value());
  BOOST_TEST(tokens.add_group_spec(":bob").has_value());
  BOOST_TEST(tokens.add_group_spec("finance:").has_value());

  BOOST_TEST((http::parse_permission("admin") == http::permission::admin));
  BOOST_TEST((http::parse_permission("assign") == http::permission::assign));
  BOOST_TEST(!tokens.add_spec("all:all-secret-token-0123456789::*"));
  BOOST_TEST(!tokens.add_spec("root:root-secret-token-0123456789::*,admin"));
  const auto* all = tokens.find("all-secret-token-0123456789");
  BOOST_REQUIRE(all != nullptr);
  BOOST_TEST(all->permissions.contains(http::permission::assign));
  // Overriding assignment is never implied by "*".
  BOOST_TEST(!all->permissions.contains(http::permission::admin));
  BOOST_TEST(tokens.find("root-secret-token-0123456789")
               ->permissions.contains(http::permission::admin));
}

BOOST_FIXTURE_TEST_CASE(approvals_show_who_may_decide, assignment_fixture) {
  start("k", {"alice"}, {"finance"}, 3);
  auto a = approval("k");
  BOOST_TEST(a.at("assignees") == (value{"alice"}));
  BOOST_TEST(a.at("candidateGroups") == (value{"finance"}));
  BOOST_TEST(a.at("priority") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_token_outside_the_assignment_is_403,
                        assignment_fixture) {
  start("k", {"alice"}, {"finance"});
  const auto before = state("k");
  for (auto action : {"approve", "reject", "edit", "cancel"}) {
    BOOST_TEST_INFO_SCOPE(action);
    check_forbidden(*this, decide("k", action, mallory_token), "k", before);
    check_forbidden(*this, decide("k", action, carol_token), "k", before);
  }
  auto r = decide("k", "approve", mallory_token);
  BOOST_TEST(contains(r.json().at("message").as_string(), "'mallory' may not"));
}

BOOST_FIXTURE_TEST_CASE(the_assignee_a_member_and_an_admin_decide,
                        assignment_fixture) {
  start("k1", {"alice"}, {"finance"});
  start("k2", {"alice"}, {"finance"});
  start("k3", {"alice"}, {"finance"});
  start("open", {}, {});
  auto by_alice = decide("k1", "approve", alice_token);
  BOOST_TEST(by_alice.status == 200U, by_alice.body);
  BOOST_TEST(approval("k1").at("status").at("decidedBy") == "alice");
  auto by_bob = decide("k2", "reject", bob_token);
  BOOST_TEST(by_bob.status == 200U, by_bob.body);
  auto by_root = decide("k3", "cancel", root_token);
  BOOST_TEST(by_root.status == 200U, by_root.body);
  // An approval naming nobody is anyone's to decide.
  BOOST_TEST(decide("open", "approve", mallory_token).status == 200U);
}

BOOST_FIXTURE_TEST_CASE(a_bulk_decision_checks_each_key, assignment_fixture) {
  start("k:mine", {"alice"}, {});
  start("k:ops", {}, {"ops"});
  const auto before = state("k:ops");
  auto r
    = post("/api/approvals/bulk",
           {{"keys", {"k:mine", "k:ops"}}, {"action", "approve"}}, alice_token);
  BOOST_TEST(r.status == 200U, r.body);
  const auto body = r.json();
  BOOST_TEST(body.at("decided") == 1);
  BOOST_TEST(body.at("failed") == 1);
  const auto& lines = body.at("results").as_array();
  BOOST_REQUIRE_EQUAL(lines.size(), 2U);
  BOOST_TEST(lines[0].at("success") == true);
  BOOST_TEST(lines[1].at("success") == false);
  BOOST_TEST(lines[1].at("error") == "FORBIDDEN");
  BOOST_TEST(approval("k:mine").at("status").at("status") == "approved");
  BOOST_TEST(state("k:ops") == before);
  // Under a prefix, the same: each key on its own.
  start("p:mine", {"alice"}, {});
  start("p:ops", {}, {"ops"});
  auto under = post("/api/approvals/bulk",
                    {{"prefix", "p:"}, {"action", "approve"}}, carol_token);
  BOOST_TEST(under.json().at("decided") == 1);
  BOOST_TEST(approval("p:ops").at("status").at("status") == "approved");
  BOOST_TEST(approval("p:mine").at("status").at("status") == "pending");
}

BOOST_FIXTURE_TEST_CASE(reassign_and_delegate_endpoints, assignment_fixture) {
  start("k", {"alice"}, {"finance"});
  auto r = post(approval_path("k") + "/reassign",
                {{"assignees", {"carol"}},
                 {"candidateGroups", {"ops"}},
                 {"reason", "alice is away"}},
                alice_token);
  BOOST_TEST(r.status == 200U, r.body);
  BOOST_TEST(r.json().at("applied") == true);
  BOOST_TEST(r.json().at("actorId") == "alice");
  BOOST_TEST(r.json().at("approval").at("assignees") == (value{"carol"}));
  BOOST_TEST(r.json().at("approval").at("candidateGroups") == (value{"ops"}));
  // The same again changes nothing.
  auto again = post(approval_path("k") + "/reassign",
                    {{"assignees", {"carol"}}, {"candidateGroups", {"ops"}}},
                    alice_token);
  BOOST_TEST(again.status == 200U);
  BOOST_TEST(again.json().at("applied") == false);

  auto delegated = post(approval_path("k") + "/delegate",
                        {{"to", "dave"}, {"reason", "holiday"}}, carol_token);
  BOOST_TEST(delegated.status == 200U, delegated.body);
  BOOST_TEST(delegated.json().at("approval").at("assignees")
             == (value{"dave"}));
  const auto trail = hc::send(port, "GET", approval_path("k") + "/audit",
                              hc::bearer(root_token))
                       .json()
                       .at("trail")
                       .as_array();
  BOOST_REQUIRE_EQUAL(trail.size(), 3U);
  BOOST_TEST(trail[1].at("action") == "reassigned");
  BOOST_TEST(trail[1].at("actor") == "alice");
  BOOST_TEST(trail[1].at("reason") == "alice is away");
  BOOST_TEST(trail[2].at("action") == "delegated");
  BOOST_TEST(trail[2].at("actor") == "carol");
  BOOST_TEST(trail[2].at("value")
             == (value{{"assignees", {"dave"}}, {"candidateGroups", {"ops"}}}));
  // alice is out now; carol, in ops, still decides.
  check_forbidden(*this, decide("k", "approve", alice_token), "k", state("k"));
  BOOST_TEST(decide("k", "approve", carol_token).status == 200U);
}

BOOST_FIXTURE_TEST_CASE(refused_reassignments_change_nothing,
                        assignment_fixture) {
  start("k", {"alice"}, {"finance"});
  const auto before = state("k");
  const auto reassign = approval_path("k") + "/reassign";
  const auto delegate = approval_path("k") + "/delegate";
  check_forbidden(*this,
                  post(reassign, {{"assignees", {"mallory"}}}, mallory_token),
                  "k", before);
  // Reading is not enough to change who decides.
  check_forbidden(*this, post(reassign, {{"assignees", {"x"}}}, auditor_token),
                  "k", before);
  // A member of a candidate group has no place of its own to hand on.
  check_forbidden(*this, post(delegate, {{"to", "x"}}, bob_token), "k", before);
  for (const auto& [target, body] :
       std::vector<std::pair<std::string, std::string>>{
         {reassign, "not json"},
         {reassign, "{}"},
         {reassign, R"({"assignee": ["x"]})"},
         {reassign, R"({"assignees": "x"})"},
         {reassign, R"({"assignees": [1]})"},
         {reassign, R"({"assignees": ["x", "x"]})"},
         {reassign, R"({"assignees": [""]})"},
         {reassign, R"({"assignees": ["x"], "reason": 5})"},
         {delegate, R"({})"},
         {delegate, R"({"to": 5})"},
         {delegate, R"({"to": ""})"},
         {delegate, R"({"to": "alice"})"},
         {delegate, R"({"to": "x", "assignees": ["y"]})"}}) {
    BOOST_TEST_INFO_SCOPE(target << " " << body);
    auto r = post_text(target, body, alice_token);
    BOOST_TEST(r.status == 400U, r.body);
    BOOST_TEST(r.json().at("error") == "INVALID_ARGUMENT");
    BOOST_TEST(state("k") == before);
  }
  auto unknown = post(approval_path("ghost") + "/reassign",
                      {{"assignees", {"x"}}}, root_token);
  BOOST_TEST(unknown.status == 404U);
  BOOST_TEST(decide("k", "approve", alice_token).status == 200U);
  auto decided = post(reassign, {{"assignees", {"x"}}}, root_token);
  BOOST_TEST(decided.status == 409U, decided.body);
  BOOST_TEST(decided.json().at("error") == "APPROVAL_CONFLICT");
}

// --- the inbox
// ----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(the_inbox_has_views_for_me_my_groups_and_all,
                        assignment_fixture) {
  start("k:alice", {"alice"}, {}, 0, 72);
  start("k:ops", {}, {"ops"}, 5, 48);
  start("k:open", {}, {}, 1, 24);
  auto list = [&](const std::string& query, std::string_view token) {
    auto r = page("/inbox" + query, token);
    BOOST_TEST(r.status == 200U, r.body);
    return r.body;
  };
  auto mine = list("?view=assigned", alice_token);
  BOOST_TEST(contains(mine, "<h1>Assigned to me</h1>"));
  BOOST_TEST(contains(mine, "k:alice"));
  BOOST_TEST(!contains(mine, "k:ops"));
  BOOST_TEST(!contains(mine, "k:open"));
  auto groups = list("?view=groups", carol_token);
  BOOST_TEST(contains(groups, "<h1>My groups</h1>"));
  BOOST_TEST(contains(groups, "k:ops"));
  BOOST_TEST(!contains(groups, "k:alice"));
  BOOST_TEST(contains(groups, "group ops"));
  // All pending: by due time (soonest first), or by priority.
  auto all = list("", mallory_token);
  BOOST_TEST(contains(all, "<h1>Waiting for a decision</h1>"));
  BOOST_TEST(all.find("k:open") < all.find("k:ops"));
  BOOST_TEST(all.find("k:ops") < all.find("k:alice"));
  auto ranked = list("?view=pending&sort=priority", mallory_token);
  BOOST_TEST(ranked.find("k:ops") < ranked.find("k:open"));
  BOOST_TEST(ranked.find("k:open") < ranked.find("k:alice"));
  BOOST_TEST(contains(ranked, "id=\"sort-priority\" aria-current=\"page\""));
  // The views are plain links: no script anywhere.
  BOOST_TEST(contains(all, "href=\"/inbox?view=assigned&amp;sort=due\""));
  BOOST_TEST(!contains(all, "<script"));
}

BOOST_FIXTURE_TEST_CASE(decided_recently_lists_the_newest_first,
                        assignment_fixture) {
  start("k:first", {}, {});
  start("k:second", {}, {});
  start("k:waiting", {}, {});
  BOOST_TEST(decide("k:first", "approve", alice_token).status == 200U);
  BOOST_TEST(decide("k:second", "reject", bob_token).status == 200U);
  auto r = page("/inbox?view=decided", auditor_token);
  BOOST_TEST(r.status == 200U);
  BOOST_TEST(contains(r.body, "<h1>Decided recently</h1>"));
  BOOST_TEST(r.body.find("k:second") < r.body.find("k:first"));
  BOOST_TEST(!contains(r.body, "k:waiting"));
  BOOST_TEST(contains(r.body, "rejected by bob"));
}

BOOST_FIXTURE_TEST_CASE(only_who_may_decide_gets_the_forms,
                        assignment_fixture) {
  start("k", {"alice"}, {"finance"});
  const auto target = "/inbox/approval?key=k";
  auto outsider = page(target, mallory_token).body;
  BOOST_TEST(!contains(outsider, "id=\"approve\""));
  BOOST_TEST(!contains(outsider, "id=\"reassign\""));
  BOOST_TEST(contains(outsider, "id=\"not-yours\""));
  BOOST_TEST(contains(outsider, "alice, group finance"));
  auto member = page(target, bob_token).body;
  BOOST_TEST(contains(member, "id=\"approve\""));
  BOOST_TEST(contains(member, "id=\"reassign\""));
  BOOST_TEST(!contains(member, "id=\"delegate\""));
  auto assignee = page(target, alice_token).body;
  BOOST_TEST(contains(assignee, "id=\"delegate\""));
  BOOST_TEST(contains(assignee, "<label>To <input"));

  // The server refuses the form all the same, changing nothing.
  const auto before = state("k");
  auto refused = post_form(
    "/inbox/decide", {{"key", "k"}, {"action", "approve"}}, mallory_token);
  BOOST_TEST(refused.status == 403U);
  BOOST_TEST(state("k") == before);
  auto refused_reassign = post_form(
    "/inbox/reassign", {{"key", "k"}, {"assignees", "mallory"}}, mallory_token);
  BOOST_TEST(refused_reassign.status == 403U);
  BOOST_TEST(state("k") == before);
}

BOOST_FIXTURE_TEST_CASE(the_assignment_forms_reassign_and_delegate,
                        assignment_fixture) {
  start("k", {"alice"}, {"finance"});
  auto reassigned = post_form("/inbox/reassign",
                              {{"key", "k"},
                               {"assignees", " alice , dave,"},
                               {"groups", "ops"},
                               {"reason", "more eyes"}},
                              alice_token);
  BOOST_TEST(reassigned.status == 303U, reassigned.body);
  BOOST_TEST(reassigned.header("Location")
             == "/inbox/approval?key=k&notice=reassigned");
  BOOST_TEST(approval("k").at("assignees") == (value{"alice", "dave"}));
  BOOST_TEST(approval("k").at("candidateGroups") == (value{"ops"}));
  auto delegated
    = post_form("/inbox/delegate", {{"key", "k"}, {"to", "erin"}}, alice_token);
  BOOST_TEST(delegated.status == 303U, delegated.body);
  BOOST_TEST(approval("k").at("assignees") == (value{"erin", "dave"}));
  BOOST_TEST(
    contains(page("/inbox/approval?key=k&notice=delegated", root_token).body,
             "The approval was delegated."));
  // A bad one says why and changes nothing.
  const auto before = state("k");
  auto bad
    = post_form("/inbox/delegate", {{"key", "k"}, {"to", ""}}, root_token);
  BOOST_TEST(bad.status == 400U);
  BOOST_TEST(state("k") == before);
}

BOOST_AUTO_TEST_SUITE_END()
