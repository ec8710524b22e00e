#include "http_scenario.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <sys/resource.h>

#include "measure.hpp"
#include "order_workflow.hpp"
#include "signoff/http/server.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "signoff/persistence/memory_store.hpp"

namespace signoff::bench {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using request = bhttp::request<bhttp::string_body>;
using response = bhttp::response<bhttp::string_body>;

constexpr std::string_view token = "bench-token-0123456789abcdef0123";
constexpr const char* approver = "manager@example.com";
/// The order every run of the mass wake belongs to: one approval key.
constexpr const char* mass_order = "mass";

/// A request to send, and what to check its answer against.
struct exchange {
  std::size_t tag = 0;
  request req;
};

/// One keep-alive client connection: sends what `next` gives, one request
/// at a time, and hands each answer and its latency to `done`, until
/// `next` gives nothing. Any failure fails the benchmark.
class client : public std::enable_shared_from_this<client> {
public:
  using next_fn = std::function<std::optional<exchange>()>;
  using done_fn = std::function<void(std::size_t, const response&, double)>;

  client(asio::io_context& io, next_fn next, done_fn done)
      : socket_(io), next_(std::move(next)), done_(std::move(done)) {}

  void start(const tcp::endpoint& server) {
    socket_.async_connect(server,
                          [self = shared_from_this()](beast::error_code ec) {
                            if (ec)
                              fail("connecting: " + ec.message());
                            self->send();
                          });
  }

private:
  void send() {
    auto next = next_();
    if (!next) {
      beast::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    current_ = std::move(*next);
    started_ = bench_clock::now();
    bhttp::async_write(
      socket_, current_.req,
      [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec)
          fail("sending: " + ec.message());
        self->receive();
      });
  }

  void receive() {
    parser_.emplace();
    parser_->body_limit(std::size_t{1} << 30U);
    bhttp::async_read(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec)
          fail("reading: " + ec.message());
        self->done_(self->current_.tag, self->parser_->get(),
                    microseconds_since(self->started_));
        self->send();
      });
  }

  tcp::socket socket_;
  next_fn next_;
  done_fn done_;
  exchange current_;
  bench_clock::time_point started_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
};

request approve_request(const std::string& key) {
  request req{bhttp::verb::post, "/api/approvals", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::authorization, "Bearer " + std::string{token});
  req.set(bhttp::field::content_type, "application/json");
  req.body() = boost::json::serialize(
    boost::json::value{{"key", key},
                       {"action", "approve"},
                       {"value", {{"approvedBy", approver}}}});
  req.prepare_payload();
  return req;
}

request health_request() {
  request req{bhttp::verb::get, "/health", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  return req;
}

/// The runs an answer to a decision says it resumed.
std::vector<std::string> resumed(const response& res) {
  if (res.result() != bhttp::status::ok)
    fail("a decision was answered " + std::to_string(res.result_int()) + ": "
         + res.body().substr(0, 200));
  boost::system::error_code ec;
  auto body = boost::json::parse(res.body(), ec);
  const auto* ids
    = ec ? nullptr : body.as_object().if_contains("resumedWorkflows");
  if (ids == nullptr)
    fail("a decision's answer names no resumed runs");
  return boost::json::value_to<std::vector<std::string>>(*ids);
}

/// Runs the client connections on this thread until they are all done.
void run_clients(asio::io_context& io) {
  io.restart();
  io.run();
}

/// 256 connections and the server's own need more descriptors than some
/// shells allow by default.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0
      && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

/// Pauses `n` runs from `threads` threads; `input(i)` and `id(i)` make
/// run i.
void park(orchestrator& orch, std::size_t n, std::size_t threads,
          const std::function<boost::json::value(std::size_t)>& input,
          const std::function<std::string(std::size_t)>& id) {
  parallel_for(n, threads, [&](std::size_t i, std::size_t) {
    auto r = orch.execute(workflow_name, input(i), {.run_id = id(i)});
    if (r.is_err() || r->status != model::run_status::paused)
      fail(id(i) + " did not pause");
  });
}

struct stores {
  std::shared_ptr<persistence::approval_store> approvals;
  std::shared_ptr<persistence::workflow_state_store> runs;
  std::shared_ptr<persistence::journal> journal;
};

stores open_stores(const bench_options& o, const std::filesystem::path& dir) {
  if (o.store == "memory")
    return {persistence::make_memory_approval_store(),
            persistence::make_memory_workflow_state_store(), nullptr};
  std::filesystem::remove_all(dir);
  auto opened = persistence::open_lmdb_stores(
    {.path = dir.string(),
     .durability = o.sync ? persistence::lmdb_durability::sync
                          : persistence::lmdb_durability::no_sync});
  if (opened.is_err())
    fail("opening LMDB in " + dir.string() + ": " + opened.error().message);
  return {opened->approvals, opened->runs, opened->journal};
}

/// Phase one: `o.cycles` decisions of distinct keys over `o.in_flight`
/// connections.
void decide_distinct_keys(const bench_options& o, orchestrator& orch,
                          const persistence::workflow_state_store& runs,
                          const tcp::endpoint& server,
                          const std::string& label) {
  park(
    orch, o.cycles, o.threads, [](std::size_t i) { return order_input(i); },
    [](std::size_t i) { return run_id(i); });
  asio::io_context io;
  std::atomic<std::size_t> taken{0};
  std::vector<std::vector<double>> latencies(o.in_flight);
  for (std::size_t c = 0; c < o.in_flight; ++c)
    std::make_shared<client>(
      io,
      [&]() -> std::optional<exchange> {
        const auto i = taken++;
        if (i >= o.cycles)
          return std::nullopt;
        return exchange{i, approve_request(approval_key(i))};
      },
      [&, c](std::size_t i, const response& res, double us) {
        if (resumed(res) != std::vector<std::string>{run_id(i)})
          fail("the decision of " + approval_key(i) + " resumed other runs");
        latencies[c].push_back(us);
      })
      ->start(server);
  const auto start = bench_clock::now();
  run_clients(io);
  const auto seconds = seconds_since(start);
  expect_all_completed(runs, 0, o.cycles);
  std::vector<double> all;
  for (auto& l : latencies)
    all.insert(all.end(), l.begin(), l.end());
  if (all.size() != o.cycles)
    fail(std::to_string(all.size()) + " decisions answered, expected "
         + std::to_string(o.cycles));
  const auto p = percentiles_of(all);
  report(label + ".decisions_per_s", static_cast<double>(o.cycles) / seconds,
         "decisions/s");
  report(label + ".decision_p50", p.p50, "us");
  report(label + ".decision_p99", p.p99, "us");
}

/// Phase two: one decision wakes `o.pending` runs while /health is asked
/// on another connection, one request after another.
void health_during_mass_wake(const bench_options& o, orchestrator& orch,
                             const persistence::workflow_state_store& runs,
                             const tcp::endpoint& server,
                             const std::string& label) {
  const auto mass_run = [](std::size_t i) {
    return "run-mass-" + std::to_string(i);
  };
  park(
    orch, o.pending, o.threads,
    [](std::size_t) {
      return boost::json::value{{"orderId", mass_order}};
    },
    mass_run);
  asio::io_context io;
  std::atomic<bool> woken{false};
  bool sent = false;
  double wake_ms = 0;
  std::vector<double> health;
  std::make_shared<client>(
    io,
    [&]() -> std::optional<exchange> {
      if (std::exchange(sent, true))
        return std::nullopt;
      return exchange{
        0, approve_request(std::string{"approval:manager:"} + mass_order)};
    },
    [&](std::size_t, const response& res, double us) {
      // First let /health stop: what follows is the client's own work.
      woken = true;
      wake_ms = us / 1e3;
      if (const auto n = resumed(res).size(); n != o.pending)
        fail("the mass decision resumed " + std::to_string(n)
             + " runs, expected " + std::to_string(o.pending));
    })
    ->start(server);
  std::make_shared<client>(
    io,
    [&]() -> std::optional<exchange> {
      if (woken)
        return std::nullopt;
      return exchange{0, health_request()};
    },
    [&](std::size_t, const response& res, double us) {
      if (res.result() != bhttp::status::ok)
        fail("/health answered " + std::to_string(res.result_int()));
      health.push_back(us);
    })
    ->start(server);
  run_clients(io);
  for (std::size_t i = 0; i < o.pending; ++i) {
    auto state = runs.load(mass_run(i));
    const boost::json::value expected{{"orderId", mass_order},
                                      {"approvedBy", approver}};
    if (state.is_err() || !state.value()
        || state.value()->status != model::run_status::completed
        || !state.value()->outcome || state.value()->outcome->is_err()
        || state.value()->outcome->value() != expected)
      fail(mass_run(i) + " did not complete with its order's value");
  }
  const auto requests = static_cast<double>(health.size());
  const auto p = percentiles_of(health);
  report(label + ".health_p50", p.p50, "us");
  report(label + ".health_p99", p.p99, "us");
  report(label + ".health_requests", requests, "requests");
  report(label + ".wake_time", wake_ms, "ms");
}

} // namespace

void http_scenario(const bench_options& o) {
  raise_descriptor_limit();
  auto variant = o.store;
  if (o.store == "lmdb" && !o.sync)
    variant += "-nosync";
  const auto dir = o.dir / "http";
  {
    auto s = open_stores(o, dir);
    auto counts = std::make_shared<step_counts>();
    orchestrator_options options;
    options.approval_store = s.approvals;
    options.workflow_state_store = s.runs;
    options.journal = s.journal;
    orchestrator orch{std::move(options)};
    orch.register_workflow(workflow_name, order_workflow(counts));

    http::server_options server_options;
    server_options.port = 0;
    server_options.max_connections = o.in_flight + 16;
    server_options.tokens.add(
      token,
      {"manager", {}, {http::permission::read, http::permission::approve}});
    server_options.logger = [](std::string_view line) {
      std::cerr << "http server: " << line << "\n";
    };
    http::http_server server{orch, std::move(server_options)};
    if (auto started = server.start(); started.is_err())
      fail("starting the HTTP server: " + started.error().message);
    const tcp::endpoint at{asio::ip::make_address("127.0.0.1"), server.port()};

    decide_distinct_keys(o, orch, *s.runs, at,
                         "http." + variant + ".c"
                           + std::to_string(o.in_flight));
    expect_step_counts(*counts, o.cycles, o.cycles);
    health_during_mass_wake(o, orch, *s.runs, at,
                            "http." + variant + ".wake_n"
                              + std::to_string(o.pending));
    expect_step_counts(*counts, o.cycles + o.pending, o.cycles + o.pending);
    server.stop();
  }
  std::filesystem::remove_all(dir);
}

} // namespace signoff::bench
