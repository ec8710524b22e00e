#include "signoff/cluster/settings.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

#include "cluster/nodes.hpp"
#include "support/must.hpp"

namespace {

using signoff::cluster::check_credentials;
using signoff::cluster::cluster_settings;
using signoff::cluster::read_cluster_settings;
using signoff::test::certificates;
using signoff::test::must;
using signoff::test::temp_dir;
using signoff::test::write_file;

const std::string credentials
  = "certificate = \"a.pem\"\nkey = \"a.key\"\ncafile = \"ca.pem\"\n";

/// The error reading `text` as a settings file gives; fails the test when
/// it is read.
std::string refusal(const std::string& text) {
  const temp_dir dir;
  write_file(dir.path() / "cluster.toml", text);
  auto read = read_cluster_settings(dir.path() / "cluster.toml");
  BOOST_TEST_REQUIRE(read.is_err(), "read: " << text);
  BOOST_TEST(read.error().type == signoff::model::error_type::invalid_argument);
  BOOST_TEST(read.error().message.find("cluster.toml") != std::string::npos,
             read.error().message);
  return read.error().message;
}

bool says(const std::string& message, const std::string& part) {
  BOOST_TEST_INFO("message: " << message);
  return message.find(part) != std::string::npos;
}

/// Settings with the test certificates of `identity`.
cluster_settings with_credentials(const std::string& identity,
                                  const std::string& cafile = "ca.pem",
                                  const std::string& key = "") {
  const auto& certs = certificates::get();
  cluster_settings s;
  s.self = "a";
  s.nodes["a"] = {"127.0.0.1", 7101};
  s.listen = s.nodes["a"];
  s.certificate = certs.file(identity + ".pem");
  s.key = certs.file(key.empty() ? identity + ".key" : key);
  s.cafile = certs.file(cafile);
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_settings_file)

BOOST_AUTO_TEST_CASE(a_complete_file_is_read) {
  const temp_dir dir;
  write_file(dir.path() / "cluster.toml",
             "name = \"b\"\n"
             "nodes = [\"a=127.0.0.1:7101\", \"b=node-b.example:7102\", "
             "\"c.3=[::1]:7103\"]\n"
             "certificate = \"tls/b.pem\"\nkey = \"/etc/b.key\"\n"
             "cafile = \"ca.pem\"\npassphrase = \"p\"\n"
             "request-timeout = 2.5\nconnect-timeout = 1\n");
  const auto s = must(read_cluster_settings(dir.path() / "cluster.toml"));
  BOOST_TEST(s.self == "b");
  BOOST_TEST(s.node_names() == (std::vector<std::string>{"a", "b", "c.3"}),
             boost::test_tools::per_element());
  BOOST_TEST(s.nodes.at("c.3").host == "::1");
  BOOST_TEST(s.nodes.at("c.3").port == 7103);
  // Listening defaults to the node's own entry.
  BOOST_TEST(s.listen.host == "node-b.example");
  BOOST_TEST(s.listen.port == 7102);
  // Relative paths are the file's neighbours.
  BOOST_TEST(s.certificate == (dir.path() / "tls/b.pem").string());
  BOOST_TEST(s.key == "/etc/b.key");
  BOOST_TEST(s.cafile == (dir.path() / "ca.pem").string());
  BOOST_TEST(s.passphrase == "p");
  BOOST_TEST(s.request_timeout.count() == 2500);
  BOOST_TEST(s.connect_timeout.count() == 1000);
}

BOOST_AUTO_TEST_CASE(the_defaults_and_an_explicit_listen_address) {
  const temp_dir dir;
  write_file(dir.path() / "cluster.toml",
             "name = \"a\"\nnodes = [\"a=10.0.0.1:7101\"]\n"
             "listen = \"0.0.0.0:7201\"\n"
               + credentials);
  const auto s = must(read_cluster_settings(dir.path() / "cluster.toml"));
  BOOST_TEST(s.listen.host == "0.0.0.0");
  BOOST_TEST(s.listen.port == 7201);
  BOOST_TEST(s.passphrase.empty());
  BOOST_TEST(s.request_timeout.count() == 10000);
  BOOST_TEST(s.connect_timeout.count() == 3000);
}

BOOST_AUTO_TEST_CASE(bad_files_are_refused_with_what_is_wrong) {
  const std::string a = "name = \"a\"\n";
  const std::string nodes = "nodes = [\"a=127.0.0.1:7101\", "
                            "\"b=127.0.0.1:7102\"]\n";
  BOOST_TEST(says(refusal(a + nodes + credentials + "nodez = 1\n"), "nodez"));
  BOOST_TEST(says(refusal(a + "nodes = [\"a=127.0.0.1\"]\n" + credentials),
                  "'a=127.0.0.1' is not \"name=host:port\""));
  BOOST_TEST(says(refusal(a + "nodes = [\"a=127.0.0.1:0\"]\n" + credentials),
                  "is not \"name=host:port\""));
  BOOST_TEST(
    says(refusal(a + "nodes = [\"a=127.0.0.1:70000\"]\n" + credentials),
         "is not \"name=host:port\""));
  BOOST_TEST(says(refusal(a + "nodes = [\"a=h:1\", \"a=h:2\"]\n" + credentials),
                  "'a' is listed twice"));
  BOOST_TEST(
    says(refusal(a + "nodes = [\"a=h:1\", \"b c=h:2\"]\n" + credentials),
         "'b c' is not a node name"));
  BOOST_TEST(says(refusal(a + "nodes = [\"a=h:1\", \"=h:2\"]\n" + credentials),
                  "'' is not a node name"));
  BOOST_TEST(says(refusal(a + "nodes = [\"a=h:1\", \"b=h:1\"]\n" + credentials),
                  "two nodes at h:1"));
  BOOST_TEST(says(refusal("name = \"z\"\n" + nodes + credentials),
                  "'z' is not one of the nodes"));
  BOOST_TEST(says(refusal(nodes + credentials), "name"));
  BOOST_TEST(says(refusal(a + credentials), "no node is listed"));
  BOOST_TEST(says(refusal(a + nodes + "key = \"a.key\"\ncafile = \"ca.pem\"\n"),
                  "certificate is missing"));
  BOOST_TEST(
    says(refusal(a + nodes + "certificate = \"a.pem\"\ncafile = \"ca.pem\"\n"),
         "key is missing"));
  BOOST_TEST(
    says(refusal(a + nodes + "certificate = \"a.pem\"\nkey = \"a.key\"\n"),
         "cafile is missing"));
  BOOST_TEST(says(refusal(a + nodes + credentials + "listen = \"nowhere\"\n"),
                  "listen: 'nowhere'"));
  BOOST_TEST(says(refusal(a + nodes + credentials + "request-timeout = -1\n"),
                  "request-timeout"));
  BOOST_TEST(says(refusal(a + nodes + credentials + "connect-timeout = 0\n"),
                  "connect-timeout"));
  BOOST_TEST(
    says(refusal(a + nodes + credentials + "request-timeout = \"soon\"\n"),
         "request-timeout"));
  BOOST_TEST(
    says(refusal(a + nodes + credentials + "garbage line\n"), "garbage line"));
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_refused) {
  const temp_dir dir;
  auto read = read_cluster_settings(dir.path() / "none.toml");
  BOOST_TEST_REQUIRE(read.is_err());
  BOOST_TEST(says(read.error().message, "none.toml: no such file"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cluster_credentials)

BOOST_AUTO_TEST_CASE(a_node_certificate_of_the_authority_passes) {
  must(check_credentials(with_credentials("a")));
}

BOOST_AUTO_TEST_CASE(an_encrypted_key_needs_its_passphrase) {
  auto s = with_credentials("a", "ca.pem", "a-locked.key");
  s.passphrase = "open sesame";
  must(check_credentials(s));
  s.passphrase = "open sesam";
  auto checked = check_credentials(s);
  BOOST_TEST_REQUIRE(checked.is_err());
  BOOST_TEST(says(checked.error().message, "cannot load the key"));
}

BOOST_AUTO_TEST_CASE(bad_credentials_are_refused_naming_the_file) {
  const auto& certs = certificates::get();
  auto missing = with_credentials("a");
  missing.certificate = certs.file("nothing.pem");
  auto checked = check_credentials(missing);
  BOOST_TEST_REQUIRE(checked.is_err());
  BOOST_TEST(says(checked.error().message,
                  "cannot load the certificate " + missing.certificate));

  checked = check_credentials(with_credentials("a", "ca.pem", "b.key"));
  BOOST_TEST_REQUIRE(checked.is_err());
  BOOST_TEST(
    says(checked.error().message, "b.key does not match the certificate"));

  checked = check_credentials(with_credentials("a", "nothing.pem"));
  BOOST_TEST_REQUIRE(checked.is_err());
  BOOST_TEST(
    says(checked.error().message, "cannot load the certificate authority"));

  checked = check_credentials(with_credentials("rogue"));
  BOOST_TEST_REQUIRE(checked.is_err());
  BOOST_TEST(says(checked.error().message, "is not signed by the authority"));

  // A key file is not a certificate.
  auto swapped = with_credentials("a");
  swapped.certificate = swapped.key;
  checked = check_credentials(swapped);
  BOOST_TEST_REQUIRE(checked.is_err());
  BOOST_TEST(says(checked.error().message, "cannot load the certificate"));
}

BOOST_AUTO_TEST_SUITE_END()
