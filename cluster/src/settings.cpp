#include "signoff/cluster/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include <CLI/CLI.hpp>

namespace signoff::cluster {

namespace {

model::error invalid(std::string message) {
  return model::make_error(model::error_type::invalid_argument,
                           std::move(message));
}

bool valid_name(std::string_view name) {
  return !name.empty()
         && std::all_of(name.begin(), name.end(), [](unsigned char c) {
              return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
            });
}

/// "host:port" (an IPv6 host in brackets: "[::1]:7101").
std::optional<node_address> parse_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  auto host = text.substr(0, colon);
  const auto port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(
    port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || ec != std::errc{}
      || end != port_text.data() + port_text.size() || port == 0
      || port > 65535)
    return std::nullopt;
  return node_address{std::string{host}, static_cast<std::uint16_t>(port)};
}

std::optional<std::chrono::milliseconds> parse_seconds(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > 86400)
    return std::nullopt;
  return std::chrono::milliseconds{
    static_cast<std::int64_t>(std::ceil(seconds * 1000))};
}

/// `path` read from `dir` when relative.
std::string beside(const std::filesystem::path& dir, const std::string& path) {
  if (path.empty() || std::filesystem::path{path}.is_absolute())
    return path;
  return (dir / path).lexically_normal().string();
}

} // namespace

std::vector<std::string> cluster_settings::node_names() const {
  std::vector<std::string> names;
  names.reserve(nodes.size());
  for (const auto& [name, address] : nodes)
    names.push_back(name);
  return names;
}

model::result<void> check_settings(const cluster_settings& s) {
  if (s.nodes.empty())
    return invalid("nodes: no node is listed (list every node, this one "
                   "included, as \"name=host:port\")");
  std::set<std::pair<std::string, std::uint16_t>> addresses;
  for (const auto& [name, address] : s.nodes) {
    if (!valid_name(name))
      return invalid("nodes: '" + name
                     + "' is not a node name (letters, digits, '.', '_' and "
                       "'-' only)");
    if (address.host.empty() || address.port == 0)
      return invalid("nodes: node '" + name + "' has no host or port");
    if (!addresses.emplace(address.host, address.port).second)
      return invalid("nodes: two nodes at " + address.host + ":"
                     + std::to_string(address.port));
  }
  if (s.self.empty())
    return invalid("name: this node's name is missing");
  if (!s.nodes.contains(s.self))
    return invalid("name: '" + s.self + "' is not one of the nodes");
  if (s.listen.host.empty() || s.listen.port == 0)
    return invalid("listen: no address or port to listen on");
  for (const auto& [setting, value] :
       {std::pair{"certificate", &s.certificate}, std::pair{"key", &s.key},
        std::pair{"cafile", &s.cafile}})
    if (value->empty())
      return invalid(
        std::string{setting}
        + " is missing: a node needs its certificate, its key and the "
          "cluster's certificate authority (cafile); the cluster never runs "
          "without authentication");
  if (s.request_timeout.count() <= 0 || s.connect_timeout.count() <= 0)
    return invalid("the request and connect timeouts must be positive");
  return model::ok();
}

model::result<cluster_settings>
read_cluster_settings(const std::filesystem::path& file) {
  const auto where = "cluster settings " + file.string() + ": ";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    return invalid(where + "no such file");
  cluster_settings s;
  std::vector<std::string> nodes;
  std::string listen;
  double request_timeout = 10;
  double connect_timeout = 3;
  CLI::App app;
  app.set_config("--settings", file.string(), "", true);
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_option("--name", s.self);
  app.add_option("--nodes", nodes);
  app.add_option("--listen", listen);
  app.add_option("--certificate", s.certificate);
  app.add_option("--key", s.key);
  app.add_option("--cafile", s.cafile);
  app.add_option("--passphrase", s.passphrase);
  app.add_option("--request-timeout", request_timeout);
  app.add_option("--connect-timeout", connect_timeout);
  try {
    app.parse(std::vector<std::string>{});
  } catch (const CLI::ParseError& e) {
    return invalid(where + e.what());
  }
  for (const auto& entry : nodes) {
    const auto equals = entry.find('=');
    const auto address
      = equals == std::string::npos
          ? std::nullopt
          : parse_address(std::string_view{entry}.substr(equals + 1));
    if (!address)
      return invalid(where + "nodes: '" + entry
                     + "' is not \"name=host:port\"");
    auto name = entry.substr(0, equals);
    if (!s.nodes.emplace(name, *address).second)
      return invalid(where + "nodes: '" + name + "' is listed twice");
  }
  if (listen.empty()) {
    if (const auto own = s.nodes.find(s.self); own != s.nodes.end())
      s.listen = own->second;
  } else if (auto address = parse_address(listen)) {
    s.listen = *address;
  } else {
    return invalid(where + "listen: '" + listen + "' is not \"host:port\"");
  }
  const auto request = parse_seconds(request_timeout);
  const auto connect = parse_seconds(connect_timeout);
  if (!request || !connect)
    return invalid(where
                   + "request-timeout and connect-timeout are seconds, "
                     "more than 0 and at most 86400");
  s.request_timeout = *request;
  s.connect_timeout = *connect;
  const auto dir = file.parent_path();
  s.certificate = beside(dir, s.certificate);
  s.key = beside(dir, s.key);
  s.cafile = beside(dir, s.cafile);
  if (auto checked = check_settings(s); checked.is_err())
    return invalid(where + checked.error().message);
  return s;
}

} // namespace signoff::cluster
