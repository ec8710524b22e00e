// GET /metrics: the text renderer on its own, and the whole page of a real
// server on a loopback port (memory and LMDB stores), parsed line by line
// and checked against what the test did.
#include "metrics_endpoint.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "actors/fixtures.hpp"
#include "client.hpp"
#include "signoff/http/server.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "support/kv_stores.hpp"
#include "support/temp_dir.hpp"
#include "test_server.hpp"

using namespace signoff;
using namespace signoff::test;
namespace hc = signoff::test::http_client;
namespace d = signoff::http::detail;
using boost::json::value;

namespace {

// --- A parser of the text format, strict about what we write ----------------

using label_set = std::map<std::string, std::string>;

struct sample {
  std::string name;
  label_set labels;
  double value = 0;
};

struct family {
  std::string type;
  std::string help;
  /// Set once a sample of it was read: its HELP and TYPE came before.
  bool sampled = false;
};

/// A parsed page: its families and samples, in order.
struct scrape {
  std::map<std::string, family> families;
  std::vector<sample> samples;

  /// The value of the one sample `name{labels}`; fails the test if there
  /// is none.
  [[nodiscard]] double value(std::string_view name,
                             const label_set& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels)
        return s.value;
    BOOST_TEST(false, "no sample " << name << " with those labels");
    return std::numeric_limits<double>::quiet_NaN();
  }

  /// `value`, or 0 for a sample not there (a counter never bumped).
  [[nodiscard]] double count(std::string_view name,
                             const label_set& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels)
        return s.value;
    return 0;
  }

  [[nodiscard]] bool has_family(const std::string& name) const {
    return families.contains(name);
  }
};

bool valid_metric_name(std::string_view name) {
  auto first = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
           || c == ':';
  };
  return !name.empty() && first(name[0])
         && std::all_of(name.begin() + 1, name.end(), [&](char c) {
              return first(c) || (c >= '0' && c <= '9');
            });
}

bool valid_label_name(std::string_view name) {
  return valid_metric_name(name) && name.find(':') == std::string_view::npos;
}

/// Reads a sample value: a decimal number, NaN, +Inf or -Inf.
std::optional<double> read_value(std::string_view text) {
  if (text == "NaN")
    return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf")
    return std::numeric_limits<double>::infinity();
  if (text == "-Inf")
    return -std::numeric_limits<double>::infinity();
  double out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return out;
}

/// Reads `{name="value",...}` from the front of `rest`, unescaping values.
std::optional<label_set> read_labels(std::string_view& rest) {
  label_set out;
  rest.remove_prefix(1); // '{'
  while (!rest.empty() && rest.front() != '}') {
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos)
      return std::nullopt;
    const std::string name{rest.substr(0, eq)};
    if (!valid_label_name(name) || out.contains(name))
      return std::nullopt;
    rest.remove_prefix(eq + 1);
    if (rest.empty() || rest.front() != '"')
      return std::nullopt;
    rest.remove_prefix(1);
    std::string text;
    for (;;) {
      if (rest.empty())
        return std::nullopt;
      const char c = rest.front();
      rest.remove_prefix(1);
      if (c == '"')
        break;
      if (c == '\n')
        return std::nullopt;
      if (c != '\\') {
        text += c;
        continue;
      }
      if (rest.empty())
        return std::nullopt;
      const char escaped = rest.front();
      rest.remove_prefix(1);
      if (escaped == 'n')
        text += '\n';
      else if (escaped == '\\' || escaped == '"')
        text += escaped;
      else
        return std::nullopt;
    }
    out.emplace(name, std::move(text));
    if (!rest.empty() && rest.front() == ',')
      rest.remove_prefix(1);
  }
  if (rest.empty())
    return std::nullopt;
  rest.remove_prefix(1); // '}'
  return out;
}

/// The family a sample belongs to: its own name, or a histogram's.
std::string family_of(const scrape& page, const std::string& name) {
  if (page.families.contains(name))
    return name;
  for (std::string_view suffix : {"_bucket", "_sum", "_count"})
    if (name.ends_with(suffix)) {
      auto base = name.substr(0, name.size() - suffix.size());
      auto it = page.families.find(base);
      if (it != page.families.end() && it->second.type == "histogram")
        return base;
    }
  return {};
}

/// Checks every histogram: buckets cumulative in `le` order, the +Inf
/// bucket equal to the count, and a sum.
void check_histograms(const scrape& page) {
  for (const auto& [name, fam] : page.families) {
    if (fam.type != "histogram")
      continue;
    BOOST_TEST_INFO_SCOPE(name);
    std::vector<std::pair<double, double>> buckets;
    std::optional<double> count;
    std::optional<double> sum;
    for (const auto& s : page.samples) {
      if (s.name == name + "_bucket") {
        BOOST_TEST_REQUIRE(s.labels.contains("le"));
        auto le = read_value(s.labels.at("le"));
        BOOST_TEST_REQUIRE(le.has_value(), s.labels.at("le"));
        buckets.emplace_back(*le, s.value);
      } else if (s.name == name + "_count") {
        count = s.value;
      } else if (s.name == name + "_sum") {
        sum = s.value;
      }
    }
    BOOST_TEST_REQUIRE(count.has_value());
    BOOST_TEST(sum.has_value());
    BOOST_TEST_REQUIRE(!buckets.empty());
    BOOST_TEST(
      std::is_sorted(buckets.begin(), buckets.end(),
                     [](auto& a, auto& b) { return a.first < b.first; }),
      "buckets out of order");
    for (std::size_t i = 1; i < buckets.size(); ++i)
      BOOST_TEST(buckets[i - 1].second <= buckets[i].second,
                 "bucket le=" << buckets[i].first << " counts fewer");
    BOOST_TEST(buckets.back().first == std::numeric_limits<double>::infinity());
    BOOST_TEST(buckets.back().second == *count);
  }
}

/// Parses a whole page: every line a `# HELP name text`, a `# TYPE name
/// type` or a sample `name{labels} value`; every sample's family has a
/// HELP and a TYPE before it; names and label names are valid.
scrape parse(std::string_view text) {
  scrape page;
  BOOST_TEST_REQUIRE(!text.empty());
  BOOST_TEST_REQUIRE(text.back() == '\n', "the page must end with a newline");
  std::size_t line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    text.remove_prefix(end + 1);
    ++line_number;
    BOOST_TEST_INFO_SCOPE("line " << line_number << ": " << line);
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const bool help = line[2] == 'H';
      auto rest = line.substr(7);
      const auto space = rest.find(' ');
      BOOST_TEST_REQUIRE(space != std::string_view::npos);
      const std::string name{rest.substr(0, space)};
      BOOST_TEST_REQUIRE(valid_metric_name(name));
      auto& fam = page.families[name];
      BOOST_TEST(!fam.sampled, "HELP or TYPE after the family's samples");
      const std::string what{rest.substr(space + 1)};
      if (help) {
        BOOST_TEST(fam.help.empty(), "a second HELP");
        BOOST_TEST(!what.empty());
        fam.help = what;
      } else {
        BOOST_TEST(fam.type.empty(), "a second TYPE");
        static const std::set<std::string> types{"counter", "gauge",
                                                 "histogram"};
        BOOST_TEST(types.contains(what), "unknown type " << what);
        fam.type = what;
      }
      continue;
    }
    BOOST_TEST_REQUIRE(!line.starts_with("#"), "an unknown comment");
    auto rest = line;
    const auto name_end = rest.find_first_of("{ ");
    BOOST_TEST_REQUIRE(name_end != std::string_view::npos);
    sample s;
    s.name = std::string{rest.substr(0, name_end)};
    BOOST_TEST_REQUIRE(valid_metric_name(s.name));
    rest.remove_prefix(name_end);
    if (rest.front() == '{') {
      auto labels = read_labels(rest);
      BOOST_TEST_REQUIRE(labels.has_value(), "malformed labels");
      s.labels = std::move(*labels);
    }
    BOOST_TEST_REQUIRE((!rest.empty() && rest.front() == ' '));
    rest.remove_prefix(1);
    auto v = read_value(rest);
    BOOST_TEST_REQUIRE(v.has_value(), "not a value: " << rest);
    s.value = *v;
    const auto fam = family_of(page, s.name);
    BOOST_TEST_REQUIRE(!fam.empty(), "a sample of no family");
    auto& f = page.families.at(fam);
    BOOST_TEST(!f.type.empty(), "a sample without a TYPE");
    BOOST_TEST(!f.help.empty(), "a sample without a HELP");
    BOOST_TEST((f.type == "histogram" || s.name == fam),
               "a suffix on a " << f.type);
    f.sampled = true;
    for (const auto& other : page.samples)
      BOOST_TEST(!(other.name == s.name && other.labels == s.labels),
                 "a repeated sample");
    page.samples.push_back(std::move(s));
  }
  check_histograms(page);
  return page;
}

// --- A server over an orchestrator -----------------------------------------

constexpr std::string_view ops_a = "approval:ops:a";
constexpr std::string_view ops_b = "approval:ops:b";
constexpr std::string_view ops_c = "approval:ops:c";

/// Decisions and runs a test makes, and the statuses they got, by class.
struct tally {
  std::array<int, 5> responses{};

  hc::response note(hc::response r) {
    if (r.status >= 100 && r.status < 600)
      ++responses[r.status / 100 - 1];
    return r;
  }
};

/// An orchestrator with (unless told otherwise) three gate runs (paused on
/// `ops_a`, `ops_b`, `ops_c`) and two order runs (`approval:manager:ord_1`,
/// `ord_2`), and the HTTP server over it on a free loopback port.
class metrics_server {
public:
  /// `seed`: start the five runs (else the store holds what it holds).
  /// `extra_gauges`: the server option of that name.
  explicit metrics_server(
    orchestrator_options options, bool no_auth = false, bool seed = true,
    std::function<std::vector<http::gauge_family>()> extra_gauges = {})
      : orch(std::move(options)) {
    orch.register_workflow("gate", gate_workflow(after));
    orch.register_workflow(
      "order", test::order_workflow(std::make_shared<test::order_counters>()));
    if (seed)
      start_runs();
    auto server_options = test::test_server_options(64 * 1024, {}, no_auth);
    server_options.extra_gauges = std::move(extra_gauges);
    server
      = std::make_unique<http::http_server>(orch, std::move(server_options));
    BOOST_REQUIRE(server->start().is_ok());
    port = server->port();
  }
  ~metrics_server() {
    server->stop();
  }
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// GET /metrics as `token`; must answer 200 with the text format.
  scrape metrics(std::string_view token = admin_token) {
    auto r = books.note(hc::send(port, "GET", "/metrics", hc::bearer(token)));
    BOOST_TEST_REQUIRE(r.status == 200U, r.body);
    BOOST_TEST(
      r.header("Content-Type").starts_with("text/plain; version=0.0.4"));
    return parse(r.body);
  }

  hc::response decide(const value& body) {
    auto headers = hc::bearer(admin_token);
    headers.emplace_back("Content-Type", "application/json");
    return books.note(hc::send(port, "POST", "/api/approvals", headers,
                               boost::json::serialize(body)));
  }

  hc::response cancel_run(std::string_view run_id) {
    auto headers = hc::bearer(admin_token);
    headers.emplace_back("Content-Type", "application/json");
    return books.note(hc::send(port, "POST", run_path(run_id) + "/cancel",
                               headers, R"({"reason":"not needed"})"));
  }

  hc::response get(std::string_view target, hc::header_list headers = {}) {
    return books.note(hc::send(port, "GET", target, std::move(headers)));
  }

  std::shared_ptr<std::atomic<int>> after
    = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  std::unique_ptr<http::http_server> server;
  std::uint16_t port = 0;
  tally books;

private:
  void start_runs() {
    for (auto key : {ops_a, ops_b, ops_c}) {
      auto run = gate_run("run-" + std::string{key.substr(13)},
                          std::string{key}, "ops", {{"n", 1}});
      auto started = orch.execute(run.workflow, run.input, {run.run_id, {}});
      BOOST_REQUIRE(started.is_ok());
      BOOST_REQUIRE(started->status == model::run_status::paused);
    }
    for (const char* order : {"ord_1", "ord_2"}) {
      auto started = orch.execute("order", test::order_input(order),
                                  {std::string{"run-"} + order, {}});
      BOOST_REQUIRE(started.is_ok());
      BOOST_REQUIRE(started->status == model::run_status::paused);
    }
  }
};

value decision(std::string_view key, std::string_view action,
               value extra = boost::json::object{}) {
  auto body = extra.as_object();
  body["key"] = key;
  body["action"] = action;
  return body;
}

/// What the test does between two scrapes, on either store: two grants
/// applied, a repeat, a conflict, a decision on an unknown key, a reject
/// that fails an order run, and a cancelled run.
void decide_some(metrics_server& s) {
  BOOST_TEST(s.decide(decision(ops_a, "approve", {{"value", 1}})).status
             == 200U);
  BOOST_TEST(s.decide(decision(ops_a, "approve", {{"value", 1}})).status
             == 200U); // the winner's repeat: a no-op
  BOOST_TEST(s.decide(decision(ops_a, "reject", {{"reason", "late"}})).status
             == 409U);
  BOOST_TEST(s.decide(decision("approval:nobody", "approve")).status == 404U);
  BOOST_TEST(s.decide(decision(ops_b, "approve", {{"value", 2}})).status
             == 200U);
  BOOST_TEST(s.decide(decision("approval:manager:ord_1", "reject",
                               {{"reason", "too dear"}}))
               .status
             == 200U);
  BOOST_TEST(s.cancel_run("run-ord_2").status == 200U);
}

/// The counters `decide_some` moves, by exactly what it did.
void check_decided(const scrape& before, const scrape& after) {
  auto delta = [&](std::string_view name, const label_set& labels) {
    return after.count(name, labels) - before.count(name, labels);
  };
  const std::string_view decisions = "signoff_decisions_total";
  BOOST_TEST(delta(decisions, {{"kind", "grant"}, {"outcome", "applied"}})
             == 2);
  BOOST_TEST(delta(decisions, {{"kind", "grant"}, {"outcome", "repeat"}}) == 1);
  BOOST_TEST(delta(decisions, {{"kind", "reject"},
                               {"outcome", "refused"},
                               {"error", "APPROVAL_CONFLICT"}})
             == 1);
  BOOST_TEST(
    delta(decisions,
          {{"kind", "grant"}, {"outcome", "refused"}, {"error", "NOT_FOUND"}})
    == 1);
  BOOST_TEST(delta(decisions, {{"kind", "reject"}, {"outcome", "applied"}})
             == 1);
  // Cancelling a run cancels the approval it waited on.
  BOOST_TEST(delta(decisions, {{"kind", "cancel"}, {"outcome", "applied"}})
             == 1);
  double total = 0;
  for (const auto& s : after.samples)
    if (s.name == decisions)
      total += s.value - before.count(decisions, s.labels);
  BOOST_TEST(total == 7, "decisions counted that the test did not make");

  const std::string_view finished = "signoff_runs_finished_total";
  BOOST_TEST(delta(finished, {{"status", "completed"}}) == 2);
  BOOST_TEST(delta(finished, {{"status", "failed"}}) == 1);
  BOOST_TEST(delta(finished, {{"status", "cancelled"}}) == 1);
  // The runs of ops_a, ops_b and ord_1 went on; the cancelled run no
  // longer waited when its approval was cancelled, and was not woken.
  const std::string_view wakes = "signoff_wakes_total";
  BOOST_TEST(delta(wakes, {{"outcome", "resumed"}}) == 3);
  BOOST_TEST(delta(wakes, {{"outcome", "stale"}}) == 0);
  BOOST_TEST(delta(wakes, {{"outcome", "failed"}}) == 0);
  BOOST_TEST(after.value("signoff_approvals_pending") == 1); // ops_c
  BOOST_TEST(after.value("signoff_runs_paused") == 1);
}

/// Every response between two scrapes is counted by class.
void check_responses(const scrape& before, const scrape& after,
                     const tally& from, const tally& to) {
  static constexpr std::array<const char*, 5> classes{"1xx", "2xx", "3xx",
                                                      "4xx", "5xx"};
  for (std::size_t i = 0; i < classes.size(); ++i) {
    const label_set labels{{"class", classes[i]}};
    // The server's page counts the earlier scrape and not itself; the
    // tally counts the later one and not the earlier: one 2xx each.
    BOOST_TEST(after.value("signoff_http_responses_total", labels)
                   - before.value("signoff_http_responses_total", labels)
                 == to.responses[i] - from.responses[i],
               classes[i]);
  }
}

orchestrator_options memory_options() {
  orchestrator_options options;
  options.approval_store = persistence::make_memory_approval_store();
  options.workflow_state_store
    = persistence::make_memory_workflow_state_store();
  return options;
}

} // namespace

BOOST_AUTO_TEST_SUITE(metrics)

// --- The renderer -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(label_values_and_help_are_escaped) {
  d::exposition out;
  out.family("x_total", d::exposition::metric_type::counter,
             "back\\slash and\nnewline \"kept\"");
  out.sample("x_total", {{"peer", "a\\b\"c\nd"}, {"zone", ""}},
             std::uint64_t{3});
  BOOST_TEST(out.text()
             == "# HELP x_total back\\\\slash and\\nnewline \"kept\"\n"
                "# TYPE x_total counter\n"
                "x_total{peer=\"a\\\\b\\\"c\\nd\",zone=\"\"} 3\n");
  // And the parser reads the value back as it was.
  auto page = parse(out.text());
  BOOST_TEST(page.value("x_total", {{"peer", "a\\b\"c\nd"}, {"zone", ""}})
             == 3);
  BOOST_TEST(page.families.at("x_total").help
             == "back\\\\slash and\\nnewline \"kept\"");
}

BOOST_AUTO_TEST_CASE(values_read_back_as_they_were) {
  d::exposition out;
  out.family("v", d::exposition::metric_type::gauge, "Values.");
  const std::vector<double> values{0, 0.1, 1e-7, 2.5e15, -3.25, 1796599661.243};
  for (std::size_t i = 0; i < values.size(); ++i)
    out.sample("v", {{"i", std::to_string(i)}}, values[i]);
  out.sample("v", {{"i", "inf"}}, std::numeric_limits<double>::infinity());
  out.sample("v", {{"i", "nan"}}, std::numeric_limits<double>::quiet_NaN());
  auto page = parse(out.text());
  for (std::size_t i = 0; i < values.size(); ++i)
    BOOST_TEST(page.value("v", {{"i", std::to_string(i)}}) == values[i]);
  BOOST_TEST(out.text().find("v{i=\"1\"} 0.1\n") != std::string::npos);
  BOOST_TEST(out.text().find("v{i=\"inf\"} +Inf\n") != std::string::npos);
  BOOST_TEST(std::isnan(page.value("v", {{"i", "nan"}})));
}

BOOST_AUTO_TEST_CASE(histograms_are_cumulative_with_inf_equal_to_count) {
  histogram_counts h;
  h.bounds = {0.0001, 0.5, 2};
  h.cumulative = {1, 3, 3};
  h.count = 5;
  h.sum = 12.25;
  d::exposition out;
  out.family("y_seconds", d::exposition::metric_type::histogram, "How long.");
  out.histogram("y_seconds", {{"op", "commit"}}, h);
  BOOST_TEST(out.text()
             == "# HELP y_seconds How long.\n"
                "# TYPE y_seconds histogram\n"
                "y_seconds_bucket{op=\"commit\",le=\"0.0001\"} 1\n"
                "y_seconds_bucket{op=\"commit\",le=\"0.5\"} 3\n"
                "y_seconds_bucket{op=\"commit\",le=\"2\"} 3\n"
                "y_seconds_bucket{op=\"commit\",le=\"+Inf\"} 5\n"
                "y_seconds_sum{op=\"commit\"} 12.25\n"
                "y_seconds_count{op=\"commit\"} 5\n");
  parse(out.text()); // cumulative, +Inf == count
}

BOOST_AUTO_TEST_CASE(unknown_gauges_and_absent_histograms_are_left_out) {
  orchestrator_metrics m;
  m.started_at = model::from_millis(1'700'000'000'250);
  m.resident_runs = 4;
  m.decisions = {{model::decision_kind::expire, {}, true, 2},
                 {model::decision_kind::grant, "STORAGE_ERROR", false, 1}};
  const auto text = d::render_metrics(m, {0, 7, 1, 2, 0});
  auto page = parse(text);
  BOOST_TEST(page.value("signoff_start_time_seconds") == 1'700'000'000.25);
  BOOST_TEST(page.value("signoff_runs_resident") == 4);
  for (const char* omitted :
       {"signoff_approvals_pending", "signoff_runs_paused",
        "signoff_runs_passivated", "signoff_outbox_events",
        "signoff_commit_duration_seconds", "signoff_commit_batches"})
    BOOST_TEST(!page.has_family(omitted), omitted);
  BOOST_TEST(page.value("signoff_decisions_total",
                        {{"kind", "expire"}, {"outcome", "applied"}})
             == 2);
  BOOST_TEST(page.value("signoff_decisions_total", {{"kind", "grant"},
                                                    {"outcome", "refused"},
                                                    {"error", "STORAGE_ERROR"}})
             == 1);
  BOOST_TEST(page.value("signoff_http_responses_total", {{"class", "2xx"}})
             == 7);
  BOOST_TEST(page.value("signoff_http_responses_total", {{"class", "4xx"}})
             == 2);
}

// A user's own store that cannot count cheaply reports nothing, and its
// gauges are left out rather than guessed.
BOOST_AUTO_TEST_CASE(a_store_that_cannot_count_leaves_its_gauges_out) {
  auto db = std::make_shared<test::kv_database>();
  orchestrator_options options;
  options.approval_store = std::make_shared<test::kv_approval_store>(db);
  options.workflow_state_store
    = std::make_shared<test::kv_workflow_state_store>(db);
  orchestrator orch{std::move(options)};
  orch.register_workflow("gate",
                         gate_workflow(std::make_shared<std::atomic<int>>()));
  auto run = gate_run("run-1", "approval:kv:1", "kv", {{"n", 1}});
  BOOST_REQUIRE(orch.execute(run.workflow, run.input, {run.run_id, {}})->status
                == model::run_status::paused);
  const auto m = orch.metrics();
  BOOST_TEST(!m.pending_approvals.has_value());
  BOOST_TEST(!m.paused_runs.has_value());
  BOOST_TEST(!m.passivated_runs.has_value());
  BOOST_TEST(!m.commit_seconds.has_value());
  BOOST_TEST(m.resident_runs == 1U);
  auto page = parse(d::render_metrics(m, {}));
  BOOST_TEST(!page.has_family("signoff_approvals_pending"));
  BOOST_TEST(page.value("signoff_runs_resident") == 1);
}

// --- Through a real server ---------------------------------------------------

// signoffd adds a cluster node's `signoff_peer_up{peer}` this way.
BOOST_AUTO_TEST_CASE(the_owners_gauges_are_read_at_each_scrape) {
  auto b_up = std::make_shared<std::atomic<bool>>(true);
  metrics_server s{memory_options(), false, false, [b_up] {
                     return std::vector<http::gauge_family>{
                       {"signoff_peer_up",
                        "Whether the link to a peer is up.",
                        {{{{"peer", "b"}}, b_up->load() ? 1.0 : 0.0},
                         {{{"peer", "c\"d"}}, 0.0}}}};
                   }};
  auto page = s.metrics();
  BOOST_TEST(page.families.at("signoff_peer_up").type == "gauge");
  BOOST_TEST(page.value("signoff_peer_up", {{"peer", "b"}}) == 1);
  BOOST_TEST(page.value("signoff_peer_up", {{"peer", "c\"d"}}) == 0);
  // The orchestrator's figures are all still there.
  BOOST_TEST(page.value("signoff_runs_resident") == 0);
  b_up->store(false);
  BOOST_TEST(s.metrics().value("signoff_peer_up", {{"peer", "b"}}) == 0);
}

BOOST_AUTO_TEST_CASE(memory_stores_count_what_was_done) {
  metrics_server s{memory_options()};
  auto before = s.metrics();
  BOOST_TEST(before.value("signoff_approvals_pending") == 5);
  BOOST_TEST(before.value("signoff_runs_paused") == 5);
  BOOST_TEST(before.value("signoff_runs_resident") == 5);
  BOOST_TEST(before.value("signoff_start_time_seconds") > 0);
  // The memory stores apply each change at once: no group commit.
  BOOST_TEST(!before.has_family("signoff_commit_duration_seconds"));
  BOOST_TEST(!before.has_family("signoff_commit_batches"));
  BOOST_TEST(!before.has_family("signoff_outbox_events"));
  const auto from = s.books;

  decide_some(s);
  auto after = s.metrics();
  check_decided(before, after);
  check_responses(before, after, from, s.books);
}

BOOST_AUTO_TEST_CASE(only_a_token_reading_every_key_may_scrape) {
  metrics_server s{memory_options()};
  auto none = s.get("/metrics");
  BOOST_TEST(none.status == 401U);
  BOOST_TEST(none.header("WWW-Authenticate") == "Bearer");
  BOOST_TEST(s.get("/metrics", hc::bearer("no-such-token")).status == 401U);
  // Every permission, but only under a prefix: the figures span all keys.
  auto prefixed = s.get("/metrics", hc::bearer(finance_admin_token));
  BOOST_TEST(prefixed.status == 403U);
  BOOST_TEST(prefixed.body.find("metrics") != std::string::npos);
  BOOST_TEST(s.get("/metrics", hc::bearer(finance_token)).status == 403U);
  // Reading every key is enough.
  auto read = s.get("/metrics", hc::bearer(reader_token));
  BOOST_TEST(read.status == 200U);
  parse(read.body);
  // HEAD answers like GET, without the body; other methods are not served.
  auto head = s.books.note(
    hc::send(s.port, "HEAD", "/metrics", hc::bearer(admin_token)));
  BOOST_TEST(head.status == 200U);
  BOOST_TEST(head.body.empty());
  BOOST_TEST(head.header("Content-Type").starts_with("text/plain"));
  BOOST_TEST(
    s.books
      .note(hc::send(s.port, "POST", "/metrics", hc::bearer(admin_token), "x"))
      .status
    == 404U);
}

BOOST_AUTO_TEST_CASE(dev_mode_serves_metrics_without_a_token) {
  metrics_server s{memory_options(), true};
  auto r = s.get("/metrics");
  BOOST_TEST(r.status == 200U, r.body);
  BOOST_TEST(parse(r.body).value("signoff_approvals_pending") == 5);
}

BOOST_AUTO_TEST_CASE(lmdb_counts_from_its_indexes_and_times_commits) {
  test::temp_dir dir;
  auto stores = persistence::open_lmdb_stores({.path = dir.str()});
  BOOST_TEST_REQUIRE(stores.is_ok());
  auto lmdb_options = [&] {
    orchestrator_options options;
    options.use_lmdb_stores(*stores, true); // with the outbox
    return options;
  };
  auto outbox_size = [&] {
    auto due = stores->notifications->due(model::time_point::max(), 1'000'000);
    BOOST_TEST_REQUIRE(due.is_ok());
    return static_cast<double>(due->size());
  };
  {
    metrics_server s{lmdb_options()};
    auto before = s.metrics();
    BOOST_TEST(before.value("signoff_approvals_pending") == 5);
    BOOST_TEST(before.value("signoff_runs_paused") == 5);
    BOOST_TEST(before.value("signoff_runs_resident") == 5);
    // Each pause was committed durably, through the group commit.
    BOOST_TEST(before.value("signoff_commit_duration_seconds_count") > 0);
    BOOST_TEST(before.value("signoff_commit_batches_count") > 0);
    BOOST_TEST(before.value("signoff_commit_batches_sum")
               >= before.value("signoff_commit_batches_count"));
    // One approval.needed per pause, none delivered.
    BOOST_TEST(before.value("signoff_outbox_events") == outbox_size());
    BOOST_TEST(before.value("signoff_outbox_events") == 5);
    const auto from = s.books;

    decide_some(s);
    auto after = s.metrics();
    check_decided(before, after);
    check_responses(before, after, from, s.books);
    BOOST_TEST(after.value("signoff_commit_duration_seconds_count")
               > before.value("signoff_commit_duration_seconds_count"));
    BOOST_TEST(after.value("signoff_outbox_events") == outbox_size());
    BOOST_TEST(after.value("signoff_outbox_events")
               > before.value("signoff_outbox_events"));
  }
  // Another orchestrator on the directory: the run still paused (on ops_c)
  // is only in the store, passivated until a wake needs it.
  metrics_server again{lmdb_options(), false, false};
  auto page = again.metrics();
  BOOST_TEST(page.value("signoff_approvals_pending") == 1);
  BOOST_TEST(page.value("signoff_runs_paused") == 1);
  BOOST_TEST(page.value("signoff_runs_resident") == 0);
  BOOST_TEST(page.value("signoff_runs_passivated") == 1);
  // Counters start again with the orchestrator.
  BOOST_TEST(page.count("signoff_decisions_total",
                        {{"kind", "grant"}, {"outcome", "applied"}})
             == 0);
}

BOOST_AUTO_TEST_SUITE_END()
