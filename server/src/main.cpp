// signoffd: the demo server. LMDB in a local directory, the demo
// workflows, the JSON API and the approver inbox.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "demo_workflows.hpp"
#include "signoff/http/crypto.hpp"
#include "signoff/http/notifier.hpp"
#include "signoff/http/server.hpp"
#include "signoff/persistence/lmdb_store.hpp"

namespace {

struct settings {
  std::string data = "signoff-data";
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_connections = signoff::http::server_options{}.max_connections;
  bool no_auth = false;
  bool seed = true;
  bool migrate = false;
  std::vector<std::string> tokens;
  std::vector<std::string> groups;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> notify;
  std::string notify_secret;
};

void usage() {
  std::cerr
    << "usage: signoffd [--data DIR] [--address ADDR] [--port N]\n"
       "                [--token identity:secret:prefix|...:perm,...]...\n"
       "                [--group name:identity,identity,...]...\n"
       "                [--notify URL]... [--notify-secret S]\n"
       "                [--max-connections N] [--no-seed] [--migrate]\n"
       "                [--dev-no-auth [--allow-host NAME]...]\n";
}

/// `text` as a whole number from `low` to `high`.
std::optional<unsigned long> number(const char* text, unsigned long low,
                                    unsigned long high) {
  char* end = nullptr;
  errno = 0;
  const auto n = std::strtoul(text, &end, 10);
  if (*text < '0' || *text > '9' || *end != '\0' || errno != 0 || n < low
      || n > high)
    return std::nullopt;
  return n;
}

bool parse(int argc, char** argv, settings& s) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> const char* {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    const char* v = nullptr;
    if (arg == "--dev-no-auth")
      s.no_auth = true;
    else if (arg == "--no-seed")
      s.seed = false;
    else if (arg == "--migrate")
      s.migrate = true;
    else if ((arg == "--data" || arg == "--address" || arg == "--port"
              || arg == "--token" || arg == "--group" || arg == "--notify"
              || arg == "--notify-secret" || arg == "--max-connections"
              || arg == "--allow-host")
             && (v = next()) != nullptr) {
      if (arg == "--data")
        s.data = v;
      else if (arg == "--address")
        s.address = v;
      else if (arg == "--port") {
        auto port = number(v, 0, 65535);
        if (!port)
          return false;
        s.port = static_cast<std::uint16_t>(*port);
      } else if (arg == "--max-connections") {
        auto n = number(v, 1, 1'000'000);
        if (!n)
          return false;
        s.max_connections = *n;
      } else if (arg == "--token")
        s.tokens.emplace_back(v);
      else if (arg == "--group")
        s.groups.emplace_back(v);
      else if (arg == "--allow-host")
        s.allowed_hosts.emplace_back(v);
      else if (arg == "--notify")
        s.notify.emplace_back(v);
      else
        s.notify_secret = v;
    } else
      return false;
  }
  return true;
}

volatile std::sig_atomic_t stop_requested = 0;

} // namespace

int main(int argc, char** argv) {
  settings s;
  if (!parse(argc, argv, s)) {
    usage();
    return 2;
  }
  // Everything the arguments can get wrong is refused before the directory
  // is touched.
  signoff::http::server_options http;
  http.address = s.address;
  http.port = s.port;
  http.max_connections = s.max_connections;
  http.no_auth = s.no_auth;
  http.allowed_hosts = s.allowed_hosts;
  http.link_secret = signoff::http::random_hex(32);
  http.logger = [](std::string_view line) {
    std::clog << "[signoffd] " << line << std::endl;
  };
  for (const auto& spec : s.tokens)
    if (auto problem = http.tokens.add_spec(spec)) {
      std::cerr << "signoffd: " << *problem << '\n';
      return 2;
    }
  for (const auto& spec : s.groups)
    if (auto problem = http.tokens.add_group_spec(spec)) {
      std::cerr << "signoffd: " << *problem << '\n';
      return 2;
    }
  // The demo goes only into a new directory, never again after a restart.
  const bool fresh
    = !std::filesystem::exists(std::filesystem::path{s.data} / "data.mdb");
  // signoffd runs workflows: it takes the directory's execution lock, and
  // refuses to start while another process holds it.
  auto stores = signoff::persistence::open_lmdb_stores(
    {.path = s.data, .migrate = s.migrate});
  if (stores.is_err()) {
    std::cerr << "signoffd: cannot open " << s.data << ": "
              << stores.error().message << '\n';
    return 1;
  }
  signoff::orchestrator_options options;
  // Notifications are kept durably only when someone receives them.
  options.use_lmdb_stores(*stores, !s.notify.empty());
  options.logger = [](std::string_view line) {
    std::clog << "[signoff] " << line << '\n';
  };
  signoff::orchestrator orch{std::move(options)};
  signoff::demo::register_demo_workflows(orch);
  if (s.seed && fresh)
    signoff::demo::seed_waiting_runs(orch);

  const auto admin = signoff::http::random_hex(24);
  http.tokens.add(
    admin,
    {"admin",
     {},
     {signoff::http::permission::read, signoff::http::permission::approve,
      signoff::http::permission::reject, signoff::http::permission::edit,
      signoff::http::permission::cancel, signoff::http::permission::cancel_run,
      signoff::http::permission::cleanup, signoff::http::permission::assign,
      signoff::http::permission::admin}});
  signoff::http::http_server server{orch, std::move(http)};
  if (s.notify_secret.empty())
    s.notify_secret = signoff::http::random_hex(32);
  signoff::http::notifier notifications{
    stores->notifications, {.urls = s.notify, .secret = s.notify_secret}};
  notifications.start();
  if (auto started = server.start(); started.is_err()) {
    std::cerr << "signoffd: " << started.error().message << '\n';
    return 1;
  }
  const auto base = "http://" + s.address + ":" + std::to_string(server.port());
  std::cout << "signoffd listening on " << base << "\n";
  if (s.no_auth)
    std::cout << "WARNING: --dev-no-auth: anyone who reaches this port may "
                 "decide every approval\n";
  std::cout << "admin token: " << admin << "\n"
            << "inbox: " << base << "/inbox (sign in with the admin token)\n"
            << "data: " << s.data << "\n";
  if (!s.notify.empty())
    std::cout << "notify secret: " << s.notify_secret << "\n";
  std::cout << std::flush;

  std::signal(SIGINT, [](int) { stop_requested = 1; });
  std::signal(SIGTERM, [](int) { stop_requested = 1; });
  while (stop_requested == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  std::cout << "signoffd stopping" << std::endl;
  server.stop();
  notifications.stop();
  return 0;
}
