#pragma once

// Hostile HTTP requests generated from a seed, each with the answer the
// server owes it. Every request is refused by construction: it is
// malformed, unauthenticated, out of its token's scope, forged, replayed,
// or aimed at something unknown or already decided. The one exception is
// the `literal_reads` category: listings with LIKE and glob
// metacharacters in their prefix or name, which must succeed with exactly
// the literal matches.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signoff::test::hostile {

/// What the seeded server holds, as far as the requests need to know.
struct world {
  struct run {
    std::string id;
    std::string workflow;
    /// The approvals it waits on or waited on.
    std::vector<std::string> keys;
  };
  /// Undecided approvals, each with a run waiting on it.
  std::vector<std::string> pending_keys;
  /// Approvals approved, rejected, cancelled or expired.
  std::vector<std::string> decided_keys;
  std::vector<run> paused_runs;
  /// Completed or cancelled runs.
  std::vector<run> finished_runs;
  /// Signed links whose approver already decided, or whose approval is
  /// decided: each answers 409.
  std::vector<std::string> used_links;
  /// A signed reject link for a pending key: a POST without reason is 400.
  std::string reject_link;
};

enum class answer_format { json, html };

/// One request and what its answer must be.
struct hostile_request {
  std::string category;
  /// What makes it hostile, for reports.
  std::string what;
  /// The bytes sent, as they are.
  std::string wire;
  /// The statuses the answer may have (usually one).
  std::vector<unsigned> statuses;
  answer_format format = answer_format::json;
  /// For `literal_reads`: the `pending` list the answer must hold, sorted.
  std::optional<std::vector<std::string>> listing{};
};

/// The categories, in the order `make_request` draws from.
[[nodiscard]] const std::vector<std::string_view>& categories();

/// How many times over the first requests go through every category in
/// turn; the rest are drawn by weight.
inline constexpr std::size_t every_category_first = 3;

/// Request number `index` of the run seeded with `seed`: the same pair
/// always gives the same request, whatever the order they are made in.
[[nodiscard]] hostile_request make_request(const world& w, std::uint64_t seed,
                                           std::uint64_t index,
                                           std::size_t max_body);

/// Fixed requests that once got a wrong answer (or ended the server, or
/// were judged wrong), sent before the generated ones in every run.
[[nodiscard]] std::vector<hostile_request>
regression_requests(const world& w, std::size_t max_body);

/// True if `bytes` is well-formed UTF-8.
[[nodiscard]] bool is_utf8(std::string_view bytes);

} // namespace signoff::test::hostile
