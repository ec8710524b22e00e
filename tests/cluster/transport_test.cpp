#include "signoff/cluster/transport.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <random>
#include <string>

#include <boost/test/unit_test.hpp>

#include "cluster/nodes.hpp"

namespace {

using signoff::test::cluster_world;
using signoff::test::node_process;

bool says(const std::string& text, const std::string& part) {
  BOOST_TEST_INFO("text: " << text);
  return text.find(part) != std::string::npos;
}

/// An answer of kind "error" whose error has type `type`.
bool is_error(const std::string& answer, const std::string& type) {
  BOOST_TEST_INFO("answer: " << answer);
  return answer.starts_with("error ")
         && answer.find("\"type\":\"" + type + "\"") != std::string::npos;
}

/// Starts node `name` and waits until it listens.
std::unique_ptr<node_process> start(const std::string& settings_file) {
  auto node = std::make_unique<node_process>(settings_file);
  node->wait_for("listening ");
  return node;
}

/// Waits until each of `a` and `b` has been told the other is up.
void wait_linked(node_process& a, const std::string& a_name, node_process& b,
                 const std::string& b_name) {
  a.wait_for("peer_up " + b_name);
  b.wait_for("peer_up " + a_name);
}

/// Two linked nodes, a and b, of a three-node cluster (c never runs).
struct two_nodes {
  cluster_world world;
  std::unique_ptr<node_process> a = start(world.settings("a", "a"));
  std::unique_ptr<node_process> b = start(world.settings("b", "b"));
  two_nodes() {
    wait_linked(*a, "a", *b, "b");
  }

  /// Both nodes still serve each other.
  void check_serving() {
    BOOST_TEST(a->call("b", "echo", "{\"to\":\"b\"}") == "ok {\"to\":\"b\"}");
    BOOST_TEST(b->call("a", "echo", "{\"to\":\"a\"}") == "ok {\"to\":\"a\"}");
  }

  /// Both nodes serve each other, and their link never went down.
  void check_undisturbed() {
    check_serving();
    for (const auto* node : {a.get(), b.get()})
      for (const auto& line : node->passed())
        BOOST_TEST(!(line.starts_with("log node a is down")
                     || line.starts_with("log node b is down")),
                   line);
  }
};

/// A TCP connection to a loopback port.
class raw_connection {
public:
  explicit raw_connection(std::uint16_t port)
      : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    BOOST_TEST_REQUIRE(
      ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address)
      == 0);
  }
  ~raw_connection() {
    ::close(fd_);
  }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  /// Sends `bytes`; false once the peer closed the connection.
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL)
           == static_cast<ssize_t>(bytes.size());
  }

private:
  int fd_;
};

/// Resident memory of process `pid` in KiB.
long resident_kib(pid_t pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string word;
  while (status >> word)
    if (word == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
  return -1;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_link)

BOOST_AUTO_TEST_CASE(a_call_is_answered_across_processes) {
  two_nodes nodes;
  BOOST_TEST(nodes.a->call("b", "echo", "{\"n\":1}") == "ok {\"n\":1}");
  nodes.b->wait_for("got a echo");
  BOOST_TEST(nodes.b->call("a", "echo", "[1,2]") == "ok [1,2]");
  nodes.a->wait_for("got b echo");
}

BOOST_AUTO_TEST_CASE(calls_to_itself_an_unknown_node_or_a_node_never_up) {
  cluster_world world;
  auto a = start(world.settings("a", "a"));
  BOOST_TEST(is_error(a->call("a", "echo"), "INVALID_ARGUMENT"));
  const auto unknown = a->call("zz", "echo");
  BOOST_TEST(is_error(unknown, "INVALID_ARGUMENT"));
  BOOST_TEST(says(unknown, "no node named 'zz'"));
  // b never runs.
  const auto down = a->call("b", "echo");
  BOOST_TEST(is_error(down, "UNAVAILABLE"));
  BOOST_TEST(says(down, "node b is down"));
}

BOOST_AUTO_TEST_CASE(a_killed_peer_fails_its_calls_and_is_linked_again) {
  two_nodes nodes;
  // A call in flight when b dies: CAF never fails it by itself.
  nodes.a->send_call("b", "hang");
  nodes.b->wait_for("got a hang");
  nodes.b->kill();
  const auto lost = nodes.a->answer();
  BOOST_TEST(is_error(lost, "UNAVAILABLE"));
  BOOST_TEST(says(lost, "node b went down with the call in flight"));
  // Calls while it is down are answered at once.
  const auto down = nodes.a->call("b", "echo");
  BOOST_TEST(is_error(down, "UNAVAILABLE"));
  BOOST_TEST(says(down, "node b is down"));
  // Restarted on the same port (its old connections in TIME_WAIT), b is
  // linked again and a's gateway is told.
  nodes.b = start(nodes.world.settings("b", "b"));
  wait_linked(*nodes.a, "a", *nodes.b, "b");
  nodes.check_serving();
}

BOOST_AUTO_TEST_CASE(a_call_past_the_request_timeout_is_unavailable) {
  cluster_world world;
  auto a = start(world.settings("a", "a", "ca.pem", "request-timeout = 0.2\n"));
  auto b = start(world.settings("b", "b"));
  wait_linked(*a, "a", *b, "b");
  const auto late = a->call("b", "hang");
  BOOST_TEST(is_error(late, "UNAVAILABLE"));
  BOOST_TEST(says(late, "node b did not answer within 200 ms"));
  // The link still carries calls.
  BOOST_TEST(a->call("b", "echo") == "ok {}");
}

BOOST_AUTO_TEST_CASE(a_taken_port_is_refused_clearly) {
  cluster_world world;
  auto a = start(world.settings("a", "a"));
  node_process second{world.settings("a", "a")};
  const auto refused = second.wait_for("refused ");
  BOOST_TEST(says(refused, "cannot listen for peers on 127.0.0.1:"
                             + std::to_string(world.port("a"))));
  BOOST_TEST(second.stop() == 3);
  // The first one serves on.
  BOOST_TEST(is_error(a->call("b", "echo"), "UNAVAILABLE"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cluster_hostile)

BOOST_AUTO_TEST_CASE(a_node_with_a_rogue_certificate_cannot_call) {
  two_nodes nodes;
  // Intruders trusting the cluster's authority too, each holding a
  // certificate of their own authority: one named "0", which dials a and
  // b, and one on c's address, which a and b dial.
  node_process dialing{nodes.world.settings("0", "rogue", "both-cas.pem")};
  dialing.wait_for("listening ");
  dialing.wait_for("log cannot connect to node a");
  dialing.wait_for("log cannot connect to node b");
  const auto refused = dialing.call("a", "echo");
  BOOST_TEST(is_error(refused, "UNAVAILABLE"));
  BOOST_TEST(says(refused, "node a is down"));
  node_process dialed{nodes.world.settings("c", "rogue", "both-cas.pem")};
  dialed.wait_for("listening ");
  nodes.a->wait_for([](const std::string& line) {
    return line.starts_with("log cannot connect to node c")
           && line.find("handshake") != std::string::npos;
  });
  BOOST_TEST(is_error(nodes.a->call("c", "echo"), "UNAVAILABLE"));
  nodes.check_undisturbed();
  // Nothing of the intruders reached a's or b's gateway.
  for (const auto* node : {nodes.a.get(), nodes.b.get()})
    for (const auto& line : node->passed())
      BOOST_TEST(!(line.starts_with("got 0 ") || line.starts_with("got c ")
                   || line == "peer_up 0" || line == "peer_up c"),
                 line);
}

BOOST_AUTO_TEST_CASE(garbage_and_a_forged_basp_header_change_nothing) {
  two_nodes nodes;
  const auto before = resident_kib(nodes.a->pid());
  std::mt19937 random{42};
  std::string garbage(64 * 1024, '\0');
  for (auto& c : garbage)
    c = static_cast<char>(random());
  raw_connection noise{nodes.world.port("a")};
  noise.send(garbage);
  // A BASP header as plain BASP reads it: a client handshake (operation
  // 0) announcing a payload of 4 GiB - 1, which a plain BASP node
  // allocates and zero-fills before it reads a byte of it.
  std::array<unsigned char, 40> header{};
  header[4] = header[5] = header[6] = header[7] = 0xff;
  raw_connection forged{nodes.world.port("a")};
  forged.send(std::string{header.begin(), header.end()});
  // Both connections stay open while the nodes serve each other.
  nodes.check_undisturbed();
  const auto after = resident_kib(nodes.a->pid());
  BOOST_TEST(after - before < 64 * 1024,
             "grew from " << before << " KiB to " << after << " KiB");
}

BOOST_AUTO_TEST_CASE(signoffd_without_credentials_refuses_to_start) {
  cluster_world world;
  const auto& certs = signoff::test::certificates::get();
  const auto data = world.dir().path() / "data";
  const auto run = [&](const std::string& settings) {
    signoff::test::write_file(world.dir().path() / "cluster.toml", settings);
    signoff::test::piped_child signoffd{
      {"/bin/sh", "-c",
       std::string{SIGNOFFD} + " --data " + data.string() + " --port 0"
         + " --cluster " + (world.dir().path() / "cluster.toml").string()
         + " 2>&1"}};
    std::string output;
    for (auto line = signoffd.read_line(); !line.empty();
         line = signoffd.read_line())
      output += line + "\n";
    BOOST_TEST(signoffd.wait() == 2, output);
    return output;
  };
  const std::string head = "name = \"a\"\n" + world.nodes_line();
  BOOST_TEST(says(run(head + "cafile = \"" + certs.file("ca.pem") + "\"\n"),
                  "certificate is missing"));
  BOOST_TEST(says(run(head + "certificate = \"" + certs.file("none.pem")
                      + "\"\nkey = \"" + certs.file("a.key") + "\"\ncafile = \""
                      + certs.file("ca.pem") + "\"\n"),
                  "cannot load the certificate"));
  BOOST_TEST(says(run(head + "certificate = \"" + certs.file("rogue.pem")
                      + "\"\nkey = \"" + certs.file("rogue.key")
                      + "\"\ncafile = \"" + certs.file("ca.pem") + "\"\n"),
                  "is not signed by the authority"));
  // Refused before anything else: the data directory was never made.
  BOOST_TEST(!std::filesystem::exists(data));
}

BOOST_AUTO_TEST_SUITE_END()
