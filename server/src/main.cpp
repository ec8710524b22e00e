// signoffd: the demo server. LMDB in a local directory, the demo
// workflows, the JSON API and the approver inbox; with `--cluster`, one
// node of a cluster.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "demo_workflows.hpp"
#include "signoff/cluster/node.hpp"
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
  bool no_seed = false;
  bool migrate = false;
  std::vector<std::string> tokens;
  std::vector<std::string> groups;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> notify;
  std::string notify_secret;
  std::string cluster;
};

/// Declares every setting once, for the command line and the config file
/// alike (a file names them without the dashes: `port = 8080`, `token =
/// ["..."]`); a flag given on the command line overrides the file.
void declare(CLI::App& app, settings& s) {
  app
    .set_config("--config", "",
                "read settings from FILE (TOML, each setting a flag without "
                "its dashes); flags given here override it")
    ->type_name("FILE");
  // A misspelt setting must not be silently ignored.
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_option("--data", s.data, "the LMDB directory")->capture_default_str();
  app.add_option("--address", s.address, "the address to listen on")
    ->capture_default_str();
  app.add_option("--port", s.port, "the port (0: any free one)")
    ->capture_default_str();
  app
    .add_option("--token", s.tokens,
                "identity:secret:prefix|...:permission,... (repeatable)")
    ->allow_extra_args(false);
  app
    .add_option("--group", s.groups,
                "group:identity,identity,... (repeatable): the identities "
                "are members of the group")
    ->allow_extra_args(false);
  app.add_option("--notify", s.notify, "a webhook receiver URL (repeatable)")
    ->allow_extra_args(false);
  app.add_option("--notify-secret", s.notify_secret,
                 "the key signing notifications (default: random)");
  app
    .add_option("--max-connections", s.max_connections,
                "the most connections served at once")
    ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
    ->capture_default_str();
  app.add_flag("--no-seed", s.no_seed,
               "do not start the demo runs in a new directory");
  app.add_flag("--migrate", s.migrate,
               "upgrade a directory written by an older version");
  app.add_flag("--dev-no-auth", s.no_auth,
               "serve without tokens, to IP-literal hosts only (development)");
  app
    .add_option("--cluster", s.cluster,
                "join the cluster FILE describes (TOML: this node's name, "
                "every node, the TLS credentials; see docs/cluster.md)")
    ->type_name("FILE");
  app
    .add_option("--allow-host", s.allowed_hosts,
                "with --dev-no-auth, also serve this Host name (repeatable)")
    ->allow_extra_args(false);
}

volatile std::sig_atomic_t stop_requested = 0;

/// `signoff_peer_up{peer}` for `/metrics`.
std::function<std::vector<signoff::http::gauge_family>()>
peer_gauges(const signoff::cluster::cluster_node& node) {
  return [status = node.link().status] {
    signoff::http::gauge_family up{
      "signoff_peer_up",
      "Whether this node's link to a peer of its cluster is up (1) or "
      "down (0).",
      {}};
    for (const auto& peer : status->peers())
      up.samples.push_back({{{"peer", peer.name}}, peer.up ? 1.0 : 0.0});
    return std::vector{std::move(up)};
  };
}

/// The cluster settings of `file`, their credentials checked; a clear
/// message and nothing otherwise.
std::optional<signoff::cluster::cluster_settings>
read_cluster(const std::string& file) {
  auto settings = signoff::cluster::read_cluster_settings(file);
  if (settings.is_err()) {
    std::cerr << "signoffd: " << settings.error().message << '\n';
    return std::nullopt;
  }
  if (auto checked = signoff::cluster::check_credentials(*settings);
      checked.is_err()) {
    std::cerr << "signoffd: cluster credentials of " << file << ": "
              << checked.error().message << '\n';
    return std::nullopt;
  }
  return std::move(*settings);
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"signoffd: the signoff demo server (JSON API, webhook and "
               "approver inbox on LMDB)",
               "signoffd"};
  declare(app, s);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& e) {
    std::cerr << "signoffd: " << e.what() << "\n"
              << "run signoffd --help for the settings\n";
    return 2;
  }
  // Everything the settings can get wrong is refused before the directory
  // is touched, the cluster's credentials first: CAF itself would read them
  // only at the first connection, and abort the process if it could not.
  std::optional<signoff::cluster::cluster_settings> cluster_settings;
  if (!s.cluster.empty()) {
    cluster_settings = read_cluster(s.cluster);
    if (!cluster_settings)
      return 2;
  }
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
  if (cluster_settings) {
    auto stranded = signoff::actors::pending_owned_elsewhere(
      *stores->approvals, cluster_settings->self,
      cluster_settings->node_names(), 5);
    if (stranded.is_err() || !stranded->empty()) {
      std::cerr << "signoffd: " << s.data << " holds pending approvals that "
                << "other nodes own under the node list of " << s.cluster;
      if (stranded.is_ok())
        for (const auto& key : *stranded)
          std::cerr << "\n  " << key;
      else
        std::cerr << ": " << stranded.error().message;
      std::cerr << "\ndecide or cancel them under the old list first "
                   "(see docs/cluster.md)\n";
      return 2;
    }
  }
  // Declared before the orchestrator, so it stops after it.
  std::unique_ptr<signoff::cluster::cluster_node> node;
  signoff::orchestrator_options options;
  if (cluster_settings) {
    node = std::make_unique<signoff::cluster::cluster_node>(
      std::move(*cluster_settings), signoff::make_actor_system_config(),
      [](std::string_view line) {
        std::clog << "[cluster] " << line << std::endl;
      });
    options.system = &node->system();
    options.cluster = node->membership();
    http.extra_gauges = peer_gauges(*node);
  }
  // Notifications are kept durably only when someone receives them.
  options.use_lmdb_stores(*stores, !s.notify.empty());
  options.logger = [](std::string_view line) {
    std::clog << "[signoff] " << line << '\n';
  };
  signoff::orchestrator orch{std::move(options)};
  signoff::demo::register_demo_workflows(orch);
  if (node) {
    if (auto published = node->publish(orch.handle()); published.is_err()) {
      std::cerr << "signoffd: " << published.error().message << '\n';
      return 1;
    }
  }
  if (!s.no_seed && fresh)
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
  // Before it says it listens: a SIGTERM sent as soon as it does (a
  // service manager, a test) must stop it cleanly, not kill it.
  std::signal(SIGINT, [](int) { stop_requested = 1; });
  std::signal(SIGTERM, [](int) { stop_requested = 1; });
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

  while (stop_requested == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  std::cout << "signoffd stopping" << std::endl;
  server.stop();
  notifications.stop();
  return 0;
}
