// signoffd: the demo server. LMDB in a local directory, the demo
// workflows, the JSON API and the approver inbox.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
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
  bool no_auth = false;
  bool seed = true;
  bool migrate = false;
  std::vector<std::string> tokens;
  std::vector<std::string> notify;
  std::string notify_secret;
};

void usage() {
  std::cerr
    << "usage: signoffd [--data DIR] [--address ADDR] [--port N]\n"
       "                [--token identity:secret:prefix|...:perm,...]...\n"
       "                [--notify URL]... [--notify-secret S]\n"
       "                [--no-seed] [--dev-no-auth] [--migrate]\n";
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
              || arg == "--token" || arg == "--notify"
              || arg == "--notify-secret")
             && (v = next()) != nullptr) {
      if (arg == "--data")
        s.data = v;
      else if (arg == "--address")
        s.address = v;
      else if (arg == "--port") {
        char* end = nullptr;
        const long port = std::strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || port < 0 || port > 65535)
          return false;
        s.port = static_cast<std::uint16_t>(port);
      } else if (arg == "--token")
        s.tokens.emplace_back(v);
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
  options.approval_store = stores->approvals;
  options.workflow_state_store = stores->runs;
  options.journal = stores->journal;
  options.logger = [](std::string_view line) {
    std::clog << "[signoff] " << line << '\n';
  };
  // Notifications are kept durably only when someone receives them.
  if (!s.notify.empty())
    options.outbox = stores->notifications;
  signoff::orchestrator orch{std::move(options)};
  signoff::demo::register_demo_workflows(orch);
  if (s.seed)
    signoff::demo::seed_waiting_runs(orch);

  signoff::http::server_options http;
  http.address = s.address;
  http.port = s.port;
  http.no_auth = s.no_auth;
  http.link_secret = signoff::http::random_hex(32);
  for (const auto& spec : s.tokens)
    if (auto problem = http.tokens.add_spec(spec)) {
      std::cerr << "signoffd: " << *problem << '\n';
      return 2;
    }
  const auto admin = signoff::http::random_hex(24);
  http.tokens.add(
    admin,
    {"admin",
     {},
     {signoff::http::permission::read, signoff::http::permission::approve,
      signoff::http::permission::reject, signoff::http::permission::edit,
      signoff::http::permission::cancel, signoff::http::permission::cancel_run,
      signoff::http::permission::cleanup}});
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
            << "inbox: " << base << "/login?token=" << admin << "\n"
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
