#include "rounds_workflow.hpp"

#include <boost/json.hpp>

namespace signoff::bench {

std::string rounds_run_id(std::size_t run) {
  return "rounds-" + std::to_string(run);
}

std::string round_key(std::size_t run, std::size_t round) {
  return "round:" + std::to_string(run) + ":" + std::to_string(round);
}

workflow rounds_workflow(std::size_t rounds,
                         std::shared_ptr<std::atomic<std::uint64_t>> steps) {
  return [rounds, steps](step& step, const boost::json::value& in)
           -> task<model::result<boost::json::value>> {
    const auto run = in.at("run").to_number<std::size_t>();
    std::size_t granted = 0;
    for (std::size_t round = 0; round < rounds; ++round) {
      co_await step.run(
        "round-" + std::to_string(round), [&]() -> task<boost::json::value> {
          ++*steps;
          co_return boost::json::value{{"round", round},
                                       {"notes", std::string(1000, 'n')}};
        });
      auto approval = co_await step.approval(round_key(run, round));
      if (approval.at("round").to_number<std::size_t>() == round)
        ++granted;
    }
    co_return boost::json::value{{"granted", granted}};
  };
}

} // namespace signoff::bench
