#include "signoff/actors/cluster.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace {

using signoff::actors::owner_of;

constexpr int key_count = 30000;

std::string key(int i) {
  return "invoice-" + std::to_string(i) + "/approve";
}

} // namespace

BOOST_AUTO_TEST_SUITE(ownership)

BOOST_AUTO_TEST_CASE(the_same_key_and_nodes_give_the_same_owner) {
  const std::vector<std::string> nodes{"a", "b", "c"};
  const auto copy = nodes;
  for (int i = 0; i < 1000; ++i)
    BOOST_TEST(owner_of(key(i), nodes) == owner_of(key(i), copy));
}

BOOST_AUTO_TEST_CASE(keys_spread_evenly_over_three_nodes) {
  const std::vector<std::string> nodes{"a", "b", "c"};
  std::map<std::string, int> owned;
  for (int i = 0; i < key_count; ++i)
    ++owned[owner_of(key(i), nodes)];
  BOOST_TEST_REQUIRE(owned.size() == 3U);
  // A third each, give or take 3 points: a fair coin's spread over 30,000
  // keys is about 0.3 points.
  for (const auto& [node, count] : owned) {
    BOOST_TEST_INFO("node " << node);
    BOOST_TEST(count > key_count * 30 / 100);
    BOOST_TEST(count < key_count * 36 / 100);
  }
}

BOOST_AUTO_TEST_CASE(a_fourth_node_takes_about_a_quarter_and_only_to_itself) {
  const std::vector<std::string> three{"a", "b", "c"};
  const std::vector<std::string> four{"a", "b", "c", "d"};
  int moved = 0;
  for (int i = 0; i < key_count; ++i) {
    const auto& before = owner_of(key(i), three);
    const auto& after = owner_of(key(i), four);
    if (before != after) {
      BOOST_TEST_REQUIRE(after == "d",
                         key(i) << " moved from " << before << " to " << after);
      ++moved;
    }
  }
  BOOST_TEST(moved > key_count * 22 / 100);
  BOOST_TEST(moved < key_count * 28 / 100);
}

BOOST_AUTO_TEST_CASE(the_order_of_the_nodes_does_not_matter) {
  std::vector<std::string> nodes{"node-1", "node-2", "node-3", "node-4"};
  std::vector<std::string> owners;
  for (int i = 0; i < 1000; ++i)
    owners.push_back(owner_of(key(i), nodes));
  while (std::next_permutation(nodes.begin(), nodes.end()))
    for (int i = 0; i < 1000; ++i)
      BOOST_TEST_REQUIRE(owner_of(key(i), nodes) == owners[i]);
}

BOOST_AUTO_TEST_SUITE_END()
