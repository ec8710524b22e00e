#pragma once

// The cluster tests' world: certificates made with the `openssl` command
// (a cluster authority signing each node's certificate, and a rogue
// authority signing an intruder's) and settings files on free loopback
// ports.

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include <boost/test/unit_test.hpp>

#include "support/free_port.hpp"
#include "support/temp_dir.hpp"

namespace signoff::test {

/// The certificates of the tests, made once per test process: `ca.pem`
/// signs `a`, `b` and `c` (`NAME.pem`, `NAME.key`); `rogue-ca.pem` signs
/// `rogue`; `both-cas.pem` holds both authorities; `a-locked.key` is
/// `a.key` encrypted with the passphrase "open sesame".
class certificates {
public:
  static const certificates& get() {
    static const certificates made;
    return made;
  }

  [[nodiscard]] std::string file(const std::string& name) const {
    return (dir_.path() / name).string();
  }

private:
  certificates() {
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=signoff-test-ca");
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -keyout rogue-ca.key -out rogue-ca.pem -days 2 "
        "-subj /CN=signoff-rogue-ca");
    for (const auto* name : {"a", "b", "c"})
      node(name, "ca");
    node("rogue", "rogue-ca");
    run("cat ca.pem rogue-ca.pem > both-cas.pem");
    run("openssl pkey -in a.key -aes256 -passout 'pass:open sesame' "
        "-out a-locked.key");
  }

  void node(const std::string& name, const std::string& ca) const {
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout "
        + name + ".key -out " + name + ".csr -subj /CN=" + name);
    run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca
        + ".key -CAcreateserial -days 2 -out " + name + ".pem");
  }

  void run(const std::string& command) const {
    const auto full
      = "cd '" + dir_.str() + "' && (" + command + ") >/dev/null 2>&1";
    BOOST_TEST_REQUIRE(std::system(full.c_str()) == 0, "failed: " << command);
  }

  temp_dir dir_;
};

/// Writes `text` to `path`.
inline void write_file(const std::filesystem::path& path,
                       const std::string& text) {
  std::ofstream{path} << text;
}

/// The nodes of one test: a, b and c on free ports, each node's settings
/// file written on demand with its own certificate (or another).
class cluster_world {
public:
  cluster_world() {
    for (const auto* name : {"a", "b", "c"})
      ports_[name] = free_port();
  }

  [[nodiscard]] std::uint16_t port(const std::string& node) const {
    return ports_.at(node);
  }

  /// The `nodes = [...]` line listing a, b and c, and `extra_node` (on a
  /// free port) when not empty.
  [[nodiscard]] std::string nodes_line(const std::string& extra_node = "") {
    if (!extra_node.empty() && !ports_.contains(extra_node))
      ports_[extra_node] = free_port();
    std::string line = "nodes = [";
    for (const auto& [name, port] : ports_)
      if (name == extra_node || name == "a" || name == "b" || name == "c")
        line += "\"" + name + "=127.0.0.1:" + std::to_string(port) + "\", ";
    line.resize(line.size() - 2);
    return line + "]\n";
  }

  /// Writes the settings of node `name` (added to a, b and c if it is
  /// another), with the certificate and key of `identity` and the
  /// authority file `cafile`, plus `extra` lines.
  std::string settings(const std::string& name, const std::string& identity,
                       const std::string& cafile = "ca.pem",
                       const std::string& extra = "") {
    const auto& certs = certificates::get();
    const auto path = dir_.path() / (name + "-" + identity + ".toml");
    write_file(path, "name = \"" + name + "\"\n" + nodes_line(name)
                       + "certificate = \"" + certs.file(identity + ".pem")
                       + "\"\nkey = \"" + certs.file(identity + ".key")
                       + "\"\ncafile = \"" + certs.file(cafile) + "\"\n"
                       + extra);
    return path.string();
  }

  [[nodiscard]] const temp_dir& dir() const noexcept {
    return dir_;
  }

private:
  temp_dir dir_;
  std::map<std::string, std::uint16_t> ports_;
};

} // namespace signoff::test
