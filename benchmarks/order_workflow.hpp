#pragma once

// The benchmarked workflow, shared by every benchmark: create an order (a
// step with a result), wait for a manager's approval, fulfil the order.
// Runs, orders and approval keys are numbered, so a benchmark can check any
// run's outcome from its number alone. Every check fails the benchmark.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/json/value.hpp>

#include "signoff/signoff.hpp"

namespace signoff::bench {

/// How often each side-effecting step ran, to prove each ran once a run.
struct step_counts {
  std::atomic<std::uint64_t> created{0};
  std::atomic<std::uint64_t> fulfilled{0};
};

inline constexpr const char* workflow_name = "order";

[[nodiscard]] std::string run_id(std::size_t i);

[[nodiscard]] std::string approval_key(std::size_t i);

[[nodiscard]] boost::json::value order_input(std::size_t i);

/// The manager's grant of order `i`'s approval.
[[nodiscard]] model::decision grant_decision(std::size_t i);

/// The steps are coroutines, as the seed's are async functions: quick code
/// that runs on the run's actor, with no hop to the step executor.
[[nodiscard]] workflow order_workflow(std::shared_ptr<step_counts> n);

/// The run of order `i` paused on its approval.
void expect_paused(const model::result<model::execution_result>& r,
                   std::size_t i);

/// The grant of order `i` resumed exactly its run (`auto_resume`), or
/// resumed nothing (without it). In a cluster, the key's owner may name
/// the run "NODE/RUN".
void expect_granted(const model::result<actors::decision_report>& r,
                    std::size_t i, bool auto_resume);

/// The run of order `i` completed with the value its order expects.
void expect_completed(const model::saved_workflow_state& s, std::size_t i);
void expect_completed(const model::result<model::execution_result>& r,
                      std::size_t i);

/// Every run of orders [first, first + count) in `runs` completed with its
/// expected value.
void expect_all_completed(const persistence::workflow_state_store& runs,
                          std::size_t first, std::size_t count);

/// The create and fulfil steps ran `created` and `fulfilled` times.
void expect_step_counts(const step_counts& n, std::uint64_t created,
                        std::uint64_t fulfilled);

} // namespace signoff::bench
