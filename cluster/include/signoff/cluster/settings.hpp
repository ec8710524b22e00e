#pragma once

// A node's cluster settings: its name, where it listens for its peers,
// every node's address, and the TLS credentials every link is
// authenticated with. Read from a TOML file (see docs/cluster.md).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "signoff/model/result.hpp"

namespace signoff::cluster {

/// A host (a name or an IP address) and a TCP port.
struct node_address {
  std::string host{};
  std::uint16_t port = 0;
};

/// What a node needs to join its cluster. Every node lists every node, the
/// same way: the list decides who owns which approval key (`owner_of`).
struct cluster_settings {
  /// This node's name: one of `nodes`.
  std::string self{};
  /// Where this node listens for its peers. In a file, `listen` defaults
  /// to this node's entry in `nodes`.
  node_address listen{};
  /// Every node, this one included, by name (unique, non-empty, letters,
  /// digits, '.', '_' and '-').
  std::map<std::string, node_address> nodes{};
  /// PEM files: this node's certificate (chain) and private key, and the
  /// certificate authority every node's certificate must be signed by.
  /// All three are required: without them CAF would run anonymous TLS,
  /// which anyone may join.
  std::string certificate{};
  std::string key{};
  std::string cafile{};
  /// Decrypts `key` when it is encrypted.
  std::string passphrase{};
  /// How long a call to a peer may take before it is answered
  /// UNAVAILABLE: 10 s.
  std::chrono::milliseconds request_timeout{std::chrono::seconds{10}};
  /// How long one connection attempt to a peer may take: 3 s.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds{3}};

  /// The nodes' names, sorted (what `cluster_membership::nodes` holds).
  [[nodiscard]] std::vector<std::string> node_names() const;
};

/// Reads and checks the settings file `file` (TOML):
///
///     name = "a"
///     nodes = ["a=10.0.0.1:7101", "b=10.0.0.2:7101", "c=10.0.0.3:7101"]
///     listen = "0.0.0.0:7101"          # optional
///     certificate = "a.pem"
///     key = "a.key"
///     cafile = "ca.pem"
///     passphrase = "..."               # optional
///     request-timeout = 10             # seconds, optional
///     connect-timeout = 3              # seconds, optional
///
/// Relative paths are read from the file's directory. Errors
/// (INVALID_ARGUMENT): the file cannot be read, a setting is unknown,
/// missing or malformed; each message names the file and the setting. The
/// credentials' files are only named here: `check_credentials` reads them.
[[nodiscard]] model::result<cluster_settings>
read_cluster_settings(const std::filesystem::path& file);

/// Checks what the settings hold alone: the names, the addresses, that
/// `self` is one of the nodes, that the credentials are named and the
/// timeouts positive. `read_cluster_settings` calls it.
[[nodiscard]] model::result<void>
check_settings(const cluster_settings& settings);

/// Loads the credentials as every TLS connection will: the certificate and
/// the key load (with the passphrase), the key matches the certificate,
/// the authority loads and signed the certificate. Call it before the
/// actor system starts: CAF reads these files only when a connection
/// comes, and aborts the process when it cannot. Errors
/// (INVALID_ARGUMENT) name the file and what is wrong with it.
[[nodiscard]] model::result<void>
check_credentials(const cluster_settings& settings);

} // namespace signoff::cluster
