#pragma once

// A run that pauses again and again, to show that a pause writes only what
// is new: each round runs a step with a result of about a kilobyte, then
// waits for that round's approval. Were a pause to rewrite the whole run,
// the bytes written per round would grow with the rounds behind it.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "signoff/signoff.hpp"

namespace signoff::bench {

inline constexpr const char* rounds_workflow_name = "rounds";

[[nodiscard]] std::string rounds_run_id(std::size_t run);

/// The approval run `run` waits on in round `round` (from 0).
[[nodiscard]] std::string round_key(std::size_t run, std::size_t round);

/// Runs `rounds` rounds; `steps` counts the round steps that ran.
[[nodiscard]] workflow
rounds_workflow(std::size_t rounds,
                std::shared_ptr<std::atomic<std::uint64_t>> steps);

} // namespace signoff::bench
